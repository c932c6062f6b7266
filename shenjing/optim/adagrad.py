"""AdaGrad (自适应梯度, adaptive learning rate 自适应学习率): Xu §1.9.4 (eqs 1.47–1.49), Fang §6.6 (Algorithm 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from . import functional as F
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad (自适应学习率): each coordinate's step is divided by the root of its accumulated squared
    gradients, n_t = n_{t−1} + g ⊙ g, θ_t = θ_{t−1} − η_t g / (√n_t + ε) with η_t = η / (1 + (t − 1)·lr_decay)
    — PyTorch's algorithm by default. The update, written out: :func:`shenjing.optim.functional.adagrad`.

    ``eps_inside_sqrt=True`` gives the notes' θ_t = θ_{t−1} − η g_t / √(ε + n_t) (Xu eq. 1.49;
    Fang Algorithm 4 writes √(v_t + ε)). n only grows, so the effective learning rate keeps
    shrinking — the drawback that RMSprop fixes.
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
            state["step"] = F.new_step()
            state["sum"] = as_tensor(xp.full_like(p.array, group["initial_accumulator_value"]))
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (:func:`functional.adagrad`); returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grad(group)
            states = [self._init_state(p, group) for p in params]
            F.adagrad(params, grads, [st["sum"] for st in states], [st["step"] for st in states], lr=group["lr"],
                      weight_decay=group["weight_decay"], lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"],
                      eps_inside_sqrt=group.get("eps_inside_sqrt", False))
        return loss
