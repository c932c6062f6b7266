"""Gradient descent (梯度下降, GD) and stochastic gradient descent with momentum (动量, SGD).

Xu §1.9.1–1.9.2 (eqs 1.39–1.43), Fang §6.1–6.3 (Algorithm 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import functional as F
from .optimizer import Optimizer

__all__ = ["SGD", "GD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (随机梯度下降) with optional momentum (动量), exactly PyTorch's algorithm.

    θ ← θ − η g without momentum (Xu eq. 1.40; Fang §6.2); with momentum μ the step follows the
    buffer m ← μ m + (1 − τ) g. The update, written out: :func:`shenjing.optim.functional.sgd`.

    The notes' forms are options: ``dampening=0`` is m_t = μ m_{t−1} + g_t (Xu eqs 1.41–1.43);
    ``dampening=momentum=ρ`` is the EMA momentum of Fang Algorithm 1 (动量 = 历史梯度的指数衰减移动平均),
    and ``momentum_init="zeros"`` starts it from the notes' m₀ = 0 rather than PyTorch's m₁ = g₁.
    ``nesterov=True`` is PyTorch's reformulation; the notes' look-ahead gradient ∇R(θ − ημm)
    (Xu eq. 1.44) is :class:`NesterovLookahead`.

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (学习率).
        momentum: μ (ρ in Fang).
        dampening: τ.
        weight_decay: λ (权重衰减).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        momentum_init: ``"grad"`` (PyTorch: m_1 = g_1) or ``"zeros"`` (the notes: m_0 = 0).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 momentum_init: str = "grad") -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if momentum_init not in ("grad", "zeros"):
            raise ValueError(f"momentum_init must be 'grad' or 'zeros', got {momentum_init!r}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "momentum_init": momentum_init}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (:func:`functional.sgd`); returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            momentum = group["momentum"]
            buffers = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 else [None] * len(params)
            F.sgd(params, grads, buffers, lr=group["lr"], momentum=momentum, dampening=group["dampening"],
                  weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"],
                  momentum_init=group.get("momentum_init", "grad"))
            if momentum != 0:
                for p, buf in zip(params, buffers):
                    self.state[p]["momentum_buffer"] = buf
        return loss


class GD(SGD):
    """Gradient descent (梯度下降, GD): θ_t = θ_{t−1} − η ∇R(θ_{t−1}) (Xu eq. 1.40, Fang §6.1).

    The same algorithm and arguments as :class:`SGD`; the name says that each step uses the gradient
    of the loss over the whole training set (full batch, 全批量) rather than a mini-batch (Fang
    §6.2: SGD draws a batch without replacement each iteration). With the full data set in one batch,
    ``SGD`` and ``GD`` give identical trajectories.
    """
