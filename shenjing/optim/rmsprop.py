"""RMSprop (均方根传播): Fang §6.7 (Algorithm 5); Xu §1.9.5–1.9.6 (eqs 1.50–1.52)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import functional as F
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (均方根传播): divide the gradient by the root of an exponential moving average of its
    square, v_t = α v_{t−1} + (1 − α) g ⊙ g, θ_t = θ_{t−1} − η g / (√v_t + ε) — PyTorch's algorithm by
    default (with ``centered`` and ``momentum``). The update, written out: :func:`shenjing.optim.functional.rmsprop`.

    ``eps_inside_sqrt=True`` gives the notes' form g / √(v + ε): Fang Algorithm 5
    (φ_{t+1} = φ_t − α/√(v_t + ε) ⊙ g_t) and Xu eqs 1.51–1.52.

    On the notes' names: what Xu §1.9.5 calls "Adadelta" (n_t = ν n_{t−1} + (1 − ν) g_t²,
    θ_t = θ_{t−1} − η g_t/√(ε + n_t), an EMA of g² *with* a learning rate) is this RMSprop,
    ``RMSprop(lr=η, alpha=ν, eps_inside_sqrt=True)``; Zeiler's Adadelta, which needs no learning
    rate, is :class:`Adadelta`. Xu's "RMSProp 是 Adadelta 中 ν = 0.5 的情况" is
    ``RMSprop(alpha=0.5, eps_inside_sqrt=True)`` (PyTorch's default α is 0.99).

    Args:
        lr: η (学习率).
        alpha: the decay rate α (ν in Xu, ρ in Fang).
        eps: ε.
        weight_decay: λ.
        momentum: μ.
        centered: normalise by an estimate of the gradient's variance instead of its second moment.
        maximize: ascend instead of descend.
        eps_inside_sqrt: the notes' √(v + ε) instead of PyTorch's √v + ε.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *, maximize: bool = False,
                 eps_inside_sqrt: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize, "eps_inside_sqrt": eps_inside_sqrt}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (:func:`functional.rmsprop`); returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            momentum, centered = group["momentum"], group["centered"]
            square_avgs, grad_avgs, buffers, steps = [], [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = F.new_step()
                    state["square_avg"] = F.zero_buffer(p)
                    if momentum > 0:
                        state["momentum_buffer"] = F.zero_buffer(p)
                    if centered:
                        state["grad_avg"] = F.zero_buffer(p)
                if momentum > 0 and state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = F.zero_buffer(p)
                square_avgs.append(state["square_avg"])
                grad_avgs.append(state["grad_avg"] if centered else None)
                buffers.append(state["momentum_buffer"] if momentum > 0 else None)
                steps.append(state["step"])
            F.rmsprop(params, grads, square_avgs, grad_avgs, buffers, steps, lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                      weight_decay=group["weight_decay"], momentum=momentum, centered=centered, maximize=group["maximize"],
                      eps_inside_sqrt=group.get("eps_inside_sqrt", False))
        return loss
