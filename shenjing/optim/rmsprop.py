"""RMSprop (均方根传播): Fang §6.7 (Algorithm 5); Xu §1.9.5–1.9.6 (eqs 1.50–1.52)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from .optimizer import Optimizer, _grad, _new_step, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by the root of an exponential moving average of its square.

    PyTorch's algorithm (the default)::

        g ← g + λθ                            (weight_decay λ)
        v_t = α v_{t−1} + (1 − α) g ⊙ g       (α = ``alpha``, the decay rate ρ of the notes)
        centered:  ḡ_t = α ḡ_{t−1} + (1 − α) g,   v̂ = v_t − ḡ_t²   else  v̂ = v_t
        d = g / (√v̂ + ε)
        with momentum μ:  b_t = μ b_{t−1} + d,   θ_t = θ_{t−1} − η b_t   else  θ_t = θ_{t−1} − η d

    ``eps_inside_sqrt=True`` gives the notes' form d = g / √(v̂ + ε): Fang Algorithm 5
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
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            mu, centered = group["momentum"], group["centered"]
            inside = group.get("eps_inside_sqrt", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p)
                    if mu > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                state["step"]._data += 1
                g = _grad(p, group["maximize"])
                if wd != 0:
                    g = g + wd * p._data
                v = state["square_avg"]._data
                v *= alpha
                v += (1 - alpha) * g * g
                if centered:
                    ga = state["grad_avg"]._data
                    _lerp_(ga, g, 1 - alpha)
                    var = v - ga * ga
                    avg = xp.sqrt(var + eps) if inside else xp.sqrt(var) + eps
                else:
                    avg = xp.sqrt(v + eps) if inside else xp.sqrt(v) + eps
                if mu > 0:
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf_t = state["momentum_buffer"] = Tensor._make(xp.zeros_like(p._data))
                    buf = buf_t._data
                    buf *= mu
                    buf += g / avg
                    p._data -= lr * buf
                else:
                    p._data -= lr * (g / avg)
                p._vc[0] += 1
        return loss


def _lerp_(a: Any, b: Any, w: float) -> None:
    """a ← a + w (b − a) in place, rounded as torch.lerp_ (which switches form at w = 0.5)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)
