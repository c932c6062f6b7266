"""Normalised gradient descent (梯度归一化, Normalized Gradient), Fang §6.5 (Algorithm 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import functional as F
from .optimizer import Optimizer

__all__ = ["NormalizedGradient"]


class NormalizedGradient(Optimizer):
    r"""Element-wise normalised gradient descent (梯度归一化), Fang Algorithm 3:
    φ_{t+1} = φ_t − α g_t / √(g_t ⊙ g_t + ε), a step of about α·sign(g) per coordinate whatever the
    gradient's size. PyTorch has no such optimiser. The update: :func:`shenjing.optim.functional.normalized_gradient`.

    Args:
        lr: α.
        eps: ε.
        weight_decay: λ, added to the gradient (g ← g + λφ) before normalising.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, eps: float = 1e-8, weight_decay: float = 0.0,
                 *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, {"lr": lr, "eps": eps, "weight_decay": weight_decay, "maximize": maximize})

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (:func:`functional.normalized_gradient`); returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            F.normalized_gradient(params, grads, lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"],
                                  maximize=group["maximize"])
        return loss
