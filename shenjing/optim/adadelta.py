"""AdaDelta (Zeiler 2012): Fang §6.8 (Algorithm 6)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import functional as F
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Zeiler's AdaDelta: the step size comes from the ratio of two running RMS values, so no
    learning rate is needed (``lr=1.0``, 无需学习率). Fang §6.8 derives it from a diagonal Newton
    step (Δφ ≈ H⁻¹g with units matched); Algorithm 6 is PyTorch's algorithm with lr = 1, and ε sits
    inside both roots in both. The update, written out: :func:`shenjing.optim.functional.adadelta`.

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
        """One update of every parameter that has a gradient (:func:`functional.adadelta`); returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            square_avgs, acc_deltas, steps = [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = F.new_step()
                    state["square_avg"] = F.zero_buffer(p)
                    state["acc_delta"] = F.zero_buffer(p)
                square_avgs.append(state["square_avg"])
                acc_deltas.append(state["acc_delta"])
                steps.append(state["step"])
            F.adadelta(params, grads, square_avgs, acc_deltas, steps, lr=group["lr"], rho=group["rho"], eps=group["eps"],
                       weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss
