"""Adam (自适应矩估计, Adaptive Moment Estimation) and AdamW.

Xu §1.9.7 (eqs 1.53–1.58), Fang §6.9 (Algorithm 7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import functional as F
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (自适应矩估计): momentum (动量, first moment) combined with an adaptive learning rate
    (自适应学习率, second moment), both bias-corrected; PyTorch's algorithm by default,
    θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε). The update, written out: :func:`shenjing.optim.functional.adam`.

    ``eps_inside_sqrt=True`` gives the notes' θ_t = θ_{t−1} − η m̂_t / √(ε + n̂_t) (Xu §1.9.7
    eq. 1.58, Fang Algorithm 7 step 6). Xu's decay rates μ, ν (eqs 1.54–1.55) are ``betas=(μ, ν)``.

    Args:
        lr: η.
        betas: (β₁, β₂).
        eps: ε.
        weight_decay: λ (L2 penalty in the gradient for Adam; decoupled for AdamW).
        amsgrad: use the running maximum of v (Reddi et al. 2018).
        maximize: ascend instead of descend.
        decoupled_weight_decay: AdamW's decay θ ← θ(1 − ηλ) (Loshchilov & Hutter 2019).
        eps_inside_sqrt: the notes' √(v̂ + ε) instead of PyTorch's √v̂ + ε.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, eps_inside_sqrt: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay,
                    "eps_inside_sqrt": eps_inside_sqrt}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (:func:`functional.adam`); returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            amsgrad = group["amsgrad"]
            exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = F.new_step()
                    state["exp_avg"] = F.zero_buffer(p)
                    state["exp_avg_sq"] = F.zero_buffer(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = F.zero_buffer(p)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                max_exp_avg_sqs.append(state["max_exp_avg_sq"] if amsgrad else None)
                steps.append(state["step"])
            beta1, beta2 = group["betas"]
            F.adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad=amsgrad, beta1=beta1, beta2=beta2,
                   lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
                   decoupled_weight_decay=group["decoupled_weight_decay"], eps_inside_sqrt=group.get("eps_inside_sqrt", False))
        return loss


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (解耦权重衰减), θ ← θ(1 − ηλ) before the Adam step,
    instead of adding λθ to the gradient (Loshchilov & Hutter 2019). PyTorch's defaults
    (weight_decay = 1e-2); see :class:`Adam` for the update and ``eps_inside_sqrt``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 eps_inside_sqrt: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, eps_inside_sqrt=eps_inside_sqrt)
