"""Grad mode (梯度模式): whether operations record the computational graph."""

from __future__ import annotations

import functools

# A one-element list so that the hot path reads it without a global lookup of a rebinding name.
_enabled = [True]


def is_grad_enabled() -> bool:
    return _enabled[0]


class set_grad_enabled:
    """Set grad mode to ``mode``: as a call (takes effect at once), a context manager (restored on
    exit) or a decorator (applies inside the function only), like torch.set_grad_enabled."""

    def __init__(self, mode: bool = True) -> None:
        self.prev = _enabled[0]
        self.mode = bool(mode)
        _enabled[0] = self.mode

    def __enter__(self) -> None:
        _enabled[0] = self.mode

    def __exit__(self, *exc) -> None:
        _enabled[0] = self.prev

    def __call__(self, func):
        _enabled[0] = self.prev  # used as a decorator: the mode applies only inside func
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _enabled[0]
            _enabled[0] = mode
            try:
                return func(*args, **kwargs)
            finally:
                _enabled[0] = prev

        return wrapper


class _GradMode:
    mode = True

    def __new__(cls, func=None):
        """``@no_grad()`` and the bare ``@no_grad`` both decorate (as PyTorch ≥ 2.1)."""
        self = object.__new__(cls)  # (no __init__: ``with no_grad():`` is on the hot path)
        return self if func is None or not callable(func) else self(func)

    def __enter__(self) -> None:
        self.prev = _enabled[0]
        _enabled[0] = self.mode

    def __exit__(self, *exc) -> None:
        _enabled[0] = self.prev

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Operations inside do not record the graph: ``with shenjing.no_grad(): w -= lr * w.grad``."""

    mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True
