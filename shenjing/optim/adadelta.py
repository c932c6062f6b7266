"""AdaDelta (Zeiler 2012): Fang §6.8 (Algorithm 6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..backend import xp
from .optimizer import Optimizer, _grad, _new_step, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Zeiler's AdaDelta: the step size comes from the ratio of two running RMS values, so no
    learning rate is needed (``lr=1.0``, 无需学习率). Fang §6.8 derives it from a diagonal Newton
    step (Δφ ≈ H⁻¹g with units matched); Algorithm 6::

        v_t  = ρ v_{t−1} + (1 − ρ) g_t ⊙ g_t                (二阶动量)
        Δφ_t = −√(s_{t−1} + ε) / √(v_t + ε) ⊙ g_t           (差值更新)
        s_t  = ρ s_{t−1} + (1 − ρ) Δφ_t ⊙ Δφ_t              (累加更新)
        φ_{t+1} = φ_t + lr · Δφ_t

    This is PyTorch's algorithm (with ``weight_decay`` λ adding λφ to g, and ``lr`` scaling the step;
    the notes' form is lr = 1). ε sits inside both roots, as in the notes and in PyTorch.

    Not to be confused with what Xu §1.9.5 calls "Adadelta" — an EMA of g² used with a
    learning rate, θ_t = θ_{t−1} − η g_t/√(ε + n_t) — which is :class:`RMSprop` with
    ``alpha=ν, eps_inside_sqrt=True``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                state["step"]._data += 1
                g = _grad(p, group["maximize"])
                if wd != 0:
                    g = g + wd * p._data
                v, s = state["square_avg"]._data, state["acc_delta"]._data
                v *= rho
                v += (1 - rho) * g * g
                std = xp.sqrt(v + eps)
                delta = xp.sqrt(s + eps)
                delta /= std
                delta *= g
                s *= rho
                s += (1 - rho) * delta * delta
                p._data -= lr * delta
                p._vc[0] += 1
        return loss
