"""Normalised gradient descent (梯度归一化, Normalized Gradient), Fang §6.5 (Algorithm 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..backend import xp
from .optimizer import Optimizer, _grad

__all__ = ["NormalizedGradient"]


class NormalizedGradient(Optimizer):
    r"""Element-wise normalised gradient descent (梯度归一化), Fang Algorithm 3::

        v_t = g_t ⊙ g_t
        φ_{t+1} = φ_t − α g_t / √(v_t + ε)

    Each coordinate moves by about α·sign(g) whatever the gradient's size: large-gradient
    directions take relatively smaller steps and small-gradient ones larger, and ε keeps the
    division finite at g = 0. It is RMSprop with no memory (α_RMSprop = 0) in the notes' √(v + ε)
    form. PyTorch has no such optimiser.

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
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _grad(p, group["maximize"])
                if wd != 0:
                    g = g + wd * p._data
                p._data -= lr * (g / xp.sqrt(g * g + eps))
                p._vc[0] += 1
        return loss
