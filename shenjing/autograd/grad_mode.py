"""Grad mode (梯度模式): whether operations record the computational graph.

The switch is per thread, as in PyTorch — and per asyncio task (a context variable): ``no_grad()``
in one thread or request handler does not stop another from recording. Every new thread starts
with grad mode on.
"""

from __future__ import annotations

import contextvars
import functools

_flag: contextvars.ContextVar[bool] = contextvars.ContextVar("shenjing_grad_enabled", default=True)

#: ``grad_enabled()``: does the current thread record the graph? (the engine's hot path)
grad_enabled = _flag.get
_set = _flag.set
_reset = _flag.reset


def is_grad_enabled() -> bool:
    return _flag.get()


class set_grad_enabled:
    """Set grad mode to ``mode``: as a call (takes effect at once), a context manager (restored on
    exit) or a decorator (applies inside the function only), like torch.set_grad_enabled."""

    def __init__(self, mode: bool = True) -> None:
        self.prev = grad_enabled()
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self) -> None:
        _set(self.mode)

    def __exit__(self, *exc) -> None:
        _set(self.prev)

    def __call__(self, func):
        _set(self.prev)  # used as a decorator: the mode applies only inside func
        on = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = grad_enabled()
            _set(on)
            try:
                return func(*args, **kwargs)
            finally:
                _set(prev)

        return wrapper


class _GradMode:
    mode = True

    def __new__(cls, func=None):
        """``@no_grad()`` and the bare ``@no_grad`` both decorate (as PyTorch ≥ 2.1)."""
        self = object.__new__(cls)  # (no __init__: ``with no_grad():`` is on the hot path)
        return self if func is None or not callable(func) else self(func)

    def __enter__(self) -> None:
        self.token = _set(self.mode)

    def __exit__(self, *exc) -> None:
        _reset(self.token)

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


class inference_mode:
    """``torch.inference_mode``: no graph inside, as ``no_grad`` (PyTorch also skips version
    counters there, a speed-up NumPy does not need). ``inference_mode(False)`` changes nothing.
    A context manager and a decorator (bare ``@inference_mode`` or ``@inference_mode()``)."""

    def __new__(cls, mode=True):
        self = object.__new__(cls)
        if callable(mode) and not isinstance(mode, bool):  # bare @inference_mode
            self.mode = True
            return self(mode)
        self.mode = bool(mode)
        return self

    def __enter__(self) -> None:
        self.token = _set(False) if self.mode else None

    def __exit__(self, *exc) -> None:
        if self.token is not None:
            _reset(self.token)

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper

