"""AdaGrad (自适应梯度, adaptive learning rate 自适应学习率): Xu §1.9.4 (eqs 1.47–1.49), Fang §6.6 (Algorithm 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from .optimizer import Optimizer, _grad, _new_step

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad: each coordinate's step is divided by the root of its accumulated squared gradients.

    PyTorch's algorithm (the default)::

        g ← g + λθ                          (weight_decay λ)
        η_t = η / (1 + (t − 1)·lr_decay)
        n_t = n_{t−1} + g ⊙ g              (n_0 = initial_accumulator_value)
        θ_t = θ_{t−1} − η_t g / (√n_t + ε)

    ``eps_inside_sqrt=True`` gives the notes' form θ_t = θ_{t−1} − η g_t / √(ε + n_t) (Xu eq.
    1.49; Fang Algorithm 4 writes √(v_t + ε)). The accumulated n only grows, so the effective
    learning rate keeps shrinking (自适应学习率; the drawback that RMSprop fixes).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False,
                 eps_inside_sqrt: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize,
                    "eps_inside_sqrt": eps_inside_sqrt}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _new_step()
            state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, wd, eps = group["lr"], group["lr_decay"], group["weight_decay"], group["eps"]
            inside = group.get("eps_inside_sqrt", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p, group)
                state["step"]._data += 1
                step = float(state["step"]._data)
                g = _grad(p, group["maximize"])
                if wd != 0:
                    g = g + wd * p._data
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]._data
                s += g * g
                std = xp.sqrt(s + eps) if inside else xp.sqrt(s) + eps
                p._data -= clr * (g / std)
                p._vc[0] += 1
        return loss
