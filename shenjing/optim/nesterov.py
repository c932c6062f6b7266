"""Nesterov accelerated momentum with the look-ahead gradient (Nesterov 加速动量法).

Xu §1.9.3 (eqs 1.44–1.46), Fang §6.4 (Algorithm 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.tensor import Tensor
from . import functional as F
from .optimizer import Optimizer

__all__ = ["NesterovLookahead"]


class NesterovLookahead(Optimizer):
    r"""Nesterov momentum as the notes write it: the gradient is taken at the look-ahead point.

    "先沿原动量方向移动, 再沿该处负梯度移动" — first move along the momentum, then take the gradient
    there: g_t = ∇R(θ_{t−1} − η μ m_{t−1}), m_t = μ m_{t−1} + g_t, θ_t = θ_{t−1} − η m_t (Xu eqs
    1.44–1.46); ``ema=True`` is Fang Algorithm 2, with m_t = ρ m_{t−1} + (1 − ρ) g_t and the look-ahead
    point φ_t − α m_{t−1}. The update, written out: :func:`shenjing.optim.functional.nesterov_lookahead`.

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
        """Evaluate ``closure`` at θ − ημm (or θ − αm), then update; returns that loss.

        :func:`functional.lookahead`, then :func:`functional.restore` and :func:`functional.nesterov_lookahead`."""
        if closure is None:
            raise RuntimeError("NesterovLookahead.step needs a closure: the gradient is evaluated at the look-ahead point")
        saved: list[tuple[Tensor, Any]] = []
        try:
            for group in self.param_groups:
                params = group["params"]
                saved += F.lookahead(params, [self.state[p].get("momentum_buffer") for p in params],
                                     lr=group["lr"], momentum=group["momentum"], ema=group["ema"])
            loss = self._eval_closure(closure)
        finally:
            F.restore(saved)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            buffers = []
            for p in params:
                state = self.state[p]
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = F.zero_buffer(p)  # m₀ = 0
                buffers.append(state["momentum_buffer"])
            F.nesterov_lookahead(params, grads, buffers, lr=group["lr"], momentum=group["momentum"], ema=group["ema"])
        return loss
