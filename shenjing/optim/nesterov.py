"""Nesterov accelerated momentum with the look-ahead gradient (Nesterov 加速动量法).

Xu §1.9.3 (eqs 1.44–1.46), Fang §6.4 (Algorithm 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from .optimizer import Optimizer, _grad

__all__ = ["NesterovLookahead"]


class NesterovLookahead(Optimizer):
    r"""Nesterov momentum as the notes write it: the gradient is taken at the look-ahead point.

    "先沿原动量方向移动, 再沿该处负梯度移动" — first move along the momentum, then take the gradient
    there. ``ema=False`` (Xu eqs 1.44–1.46, momentum μ, learning rate η)::

        g_t = ∇R(θ_{t−1} − η μ m_{t−1})
        m_t = μ m_{t−1} + g_t
        θ_t = θ_{t−1} − η m_t

    ``ema=True`` (Fang Algorithm 2, exponential-moving-average momentum ρ, learning rate α)::

        g_t = ∇L(φ_t − α m_{t−1})
        m_t = ρ m_{t−1} + (1 − ρ) g_t
        φ_{t+1} = φ_t − α m_t

    Both start from m_0 = 0. The gradient at the look-ahead point needs a second evaluation, so
    ``step`` requires a ``closure`` that zeroes the gradients, computes the loss, calls
    ``backward()`` and returns the loss::

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)

    ``step`` moves the parameters to the look-ahead point, runs the closure, moves them back and
    updates. It returns the loss *at the look-ahead point*, and ``p.grad`` afterwards holds the
    look-ahead gradient. PyTorch's ``SGD(nesterov=True)`` is the equivalent reformulation in terms
    of the shifted variable, which needs no second evaluation.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.9, ema: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "ema": ema})

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Evaluate ``closure`` at θ − ημm (or θ − αm), then update; returns that loss."""
        if closure is None:
            raise RuntimeError("NesterovLookahead.step needs a closure: the gradient is evaluated at the look-ahead point")
        saved: list[tuple[Tensor, Any]] = []
        for group in self.param_groups:
            lr, mu, ema = group["lr"], group["momentum"], group["ema"]
            shift = lr if ema else lr * mu
            for p in group["params"]:
                buf = self.state[p].get("momentum_buffer")
                if buf is not None and shift != 0:
                    saved.append((p, p._data.copy()))
                    p._data -= shift * buf._data
                    p._vc[0] += 1
        try:
            loss = self._eval_closure(closure)
        finally:
            for p, data in saved:
                p._data[...] = data
                p._vc[0] += 1
        for group in self.param_groups:
            lr, mu, ema = group["lr"], group["momentum"], group["ema"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _grad(p, False)
                state = self.state[p]
                buf_t = state.get("momentum_buffer")
                if buf_t is None:
                    buf_t = state["momentum_buffer"] = Tensor._make(xp.zeros_like(p._data))
                buf = buf_t._data
                buf *= mu
                buf += (1 - mu) * g if ema else g
                p._data -= lr * buf
                p._vc[0] += 1
        return loss
