"""Gradient descent (梯度下降, GD) and stochastic gradient descent with momentum (动量, SGD).

Xu §1.9.1–1.9.2 (eqs 1.39–1.43), Fang §6.1–6.3 (Algorithm 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.tensor import Tensor
from .optimizer import Optimizer, _grad

__all__ = ["SGD", "GD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (随机梯度下降) with optional momentum (动量), exactly PyTorch's algorithm.

    Per parameter θ with gradient g (``maximize`` uses −g)::

        g ← g + λθ                           (weight_decay λ, L2 penalty folded into the gradient)
        m ← g                                 on the first step (momentum_init="grad", PyTorch's)
        m ← μ m + (1 − τ) g                   afterwards   (momentum μ, dampening τ)
        d ← g + μ m   if nesterov else  m
        θ ← θ − η d

    Without momentum this is plain GD/SGD, θ_t = θ_{t−1} − η g_t (Xu eq. 1.40; Fang §6.2).

    The notes' forms:

    * ``dampening=0``: m_t = μ m_{t−1} + g_t, θ_t = θ_{t−1} − η m_t — Xu eqs 1.41–1.43.
    * ``dampening=momentum=ρ``: the exponential moving average m_t = ρ m_{t−1} + (1 − ρ) g_t of
      Fang Algorithm 1 (动量 = 历史梯度的指数衰减移动平均). PyTorch starts the buffer at the first
      gradient (m_1 = g_1, i.e. the notes' recursion with m_0 = g_1); ``momentum_init="zeros"``
      starts from m_0 = 0 as the notes write it, so m_1 = (1 − ρ) g_1 (the two coincide when
      dampening = 0).
    * ``nesterov=True`` is PyTorch's (Sutskever's) reformulation that needs no extra gradient; the
      notes' look-ahead gradient ∇R(θ − ημm) (Xu eq. 1.44) is :class:`NesterovLookahead`.

    Args:
        params: parameters or parameter groups.
        lr: learning rate η (学习率).
        momentum: μ (ρ in Fang).
        dampening: τ.
        weight_decay: λ (权重衰减).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        momentum_init: ``"grad"`` (PyTorch: m_1 = g_1) or ``"zeros"`` (the notes: m_0 = 0).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 momentum_init: str = "grad") -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if momentum_init not in ("grad", "zeros"):
            raise ValueError(f"momentum_init must be 'grad' or 'zeros', got {momentum_init!r}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "momentum_init": momentum_init}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, mu, damp, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
            nesterov, maximize = group["nesterov"], group["maximize"]
            zeros_init = group.get("momentum_init", "grad") == "zeros"
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _grad(p, maximize)
                data = p._data
                if wd != 0:
                    g = g + wd * data
                if mu != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf = g * (1 - damp) if zeros_init else g.copy()
                        state["momentum_buffer"] = Tensor._make(buf)
                    else:
                        buf = buf_t._data
                        buf *= mu
                        if damp == 0:
                            buf += g
                        else:
                            buf += (1 - damp) * g
                    g = g + mu * buf if nesterov else buf
                data -= lr * g
                p._vc[0] += 1
        return loss


class GD(SGD):
    """Gradient descent (梯度下降, GD): θ_t = θ_{t−1} − η ∇R(θ_{t−1}) (Xu eq. 1.40, Fang §6.1).

    The same algorithm and arguments as :class:`SGD`; the name says that each step uses the gradient
    of the loss over the whole training set (full batch, 全批量) rather than a mini-batch (Fang
    §6.2: SGD draws a batch without replacement each iteration). With the full data set in one batch,
    ``SGD`` and ``GD`` give identical trajectories.
    """
