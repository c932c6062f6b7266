"""Adam (自适应矩估计, Adaptive Moment Estimation) and AdamW.

Xu §1.9.7 (eqs 1.53–1.58), Fang §6.9 (Algorithm 7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..backend import xp
from .optimizer import Optimizer, _grad, _new_step, _zeros_like
from .rmsprop import _lerp_

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam: momentum (动量, first moment) combined with an adaptive learning rate (自适应学习率,
    second moment), both bias-corrected. PyTorch's algorithm (the default)::

        g ← g + λθ                               (weight_decay λ; AdamW instead θ ← θ(1 − ηλ))
        m_t = β₁ m_{t−1} + (1 − β₁) g            (一阶动量)
        v_t = β₂ v_{t−1} + (1 − β₂) g ⊙ g        (二阶动量)
        m̂_t = m_t / (1 − β₁ᵗ),   v̂_t = v_t / (1 − β₂ᵗ)
        amsgrad:  v_max = max(v_max, v_t), used in place of v_t
        θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)

    ``eps_inside_sqrt=True`` gives the notes' form θ_t = θ_{t−1} − η m̂_t / √(ε + n̂_t) (Xu
    eq. 1.58, Fang Algorithm 7 step 6). Xu names the decay rates μ, ν in eqs 1.54–1.55 and
    β₁, β₂ in the bias corrections; they are the same numbers, ``betas=(μ, ν)``.

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
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            amsgrad, decoupled = group["amsgrad"], group["decoupled_weight_decay"]
            inside = group.get("eps_inside_sqrt", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                state["step"]._data += 1
                step = float(state["step"]._data)
                g = _grad(p, group["maximize"])
                data = p._data
                if wd != 0:
                    if decoupled:
                        data *= 1 - lr * wd
                    else:
                        g = g + wd * data
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                bc1 = 1 - beta1**step
                bc2 = 1 - beta2**step
                step_size = lr / bc1
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]._data
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                if inside:
                    denom = xp.sqrt(v / bc2 + eps)
                else:
                    denom = xp.sqrt(v) / bc2**0.5
                    denom += eps
                data -= step_size * (m / denom)
                p._vc[0] += 1
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
