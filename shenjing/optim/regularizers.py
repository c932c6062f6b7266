"""Weight penalties (正则化, weight-decay regularisation): ridge, lasso and elastic net.

Nelson (常用的权重衰减正则化: ridge α‖w‖², lasso α‖w‖₁, elastic net γα‖w‖² + (1−γ)α‖w‖₁, and "in
all cases we do not regularise the bias weights ω₀"), Fang §3.2 (ElasticNet J(w) = ρ‖w‖₁ +
(1−ρ)‖w‖²).

Each penalty is a function of a Module (or of named parameters, or of plain tensors) that returns a
differentiable scalar Tensor built from shenjing operations, to be added to the loss::

    loss = criterion(model(x), y) + regularizers.ridge(model, alpha=1e-4)
    loss.backward()

Which parameters are penalised (``weights``): from a Module or ``(name, tensor)`` pairs, every
parameter except those whose name ends in ``bias`` (偏置) and every 1-D (or 0-D) parameter — norm
layers' scales γ and shifts β, PReLU slopes and the like are left alone, as biases are. Plain tensors
passed without names are all penalised: the caller chose them.

Note ``ridge(model, α)`` adds α‖w‖² to the loss, whose gradient 2αw is what ``SGD(weight_decay=2α)``
adds to the gradient — on every parameter, biases included, which is the difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import get_default_dtype, xp
from ..creation import as_tensor

__all__ = ["weights", "l2_norm_sq", "l1_norm", "ridge", "lasso", "elastic_net", "elastic_net_rho"]


def weights(params: Any) -> list[Tensor]:
    """The tensors a penalty applies to (see the module docstring): a Module's or named parameters'
    weights, skipping names ending in ``bias`` and parameters with fewer than 2 dimensions; plain
    tensors are all kept."""
    if isinstance(params, Tensor):
        return [params]
    named = params.named_parameters() if hasattr(params, "named_parameters") else params
    out: list[Tensor] = []
    for item in named:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, p = item
            if name.split(".")[-1].endswith("bias") or p.ndim < 2:
                continue
            out.append(p)
        elif isinstance(item, Tensor):
            out.append(item)
        else:
            raise TypeError(f"weights: expected a Module, (name, Tensor) pairs or Tensors, got an item of type {type(item).__name__}")
    return out


def _total(terms: Iterable[Tensor]) -> Tensor:
    total = None
    for t in terms:
        total = t if total is None else total + t
    if total is None:
        return as_tensor(xp.zeros((), dtype=get_default_dtype()))
    return total


def l2_norm_sq(params: Any) -> Tensor:
    """Σ_w ‖w‖² = Σ w_i² over the penalised weights (a differentiable scalar)."""
    return _total((w * w).sum() for w in weights(params))


def l1_norm(params: Any) -> Tensor:
    """Σ_w ‖w‖₁ = Σ |w_i| over the penalised weights. Its (sub)gradient is sign(w): 0 at w = 0."""
    return _total(w.abs().sum() for w in weights(params))


def ridge(params: Any, alpha: float = 1.0) -> Tensor:
    """Ridge (岭回归, L2) penalty α‖w‖² (Nelson; Fang §3.2 writes J(w) = ‖w‖²/2, i.e. α = λ/2).
    Gradient 2αw."""
    return alpha * l2_norm_sq(params)


def lasso(params: Any, alpha: float = 1.0) -> Tensor:
    """Lasso (套索回归, L1) penalty α‖w‖₁ (Nelson; Fang §3.2). Subgradient α·sign(w), taken as 0 at
    w = 0 (so a weight already at zero stays there under gradient descent on the penalty alone)."""
    return alpha * l1_norm(params)


def elastic_net(params: Any, alpha: float = 1.0, gamma: float = 0.5) -> Tensor:
    """Elastic net (弹性网络) as Nelson writes it: γα‖w‖² + (1 − γ)α‖w‖₁, γ ∈ [0, 1]; γ = 1 is ridge,
    γ = 0 lasso."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"elastic_net: gamma must be in [0, 1], got {gamma}")
    ws = weights(params)
    return gamma * alpha * l2_norm_sq(ws) + (1 - gamma) * alpha * l1_norm(ws)


def elastic_net_rho(params: Any, rho: float = 0.5) -> Tensor:
    """Elastic net as Fang §3.2 writes it: J(w) = ρ‖w‖₁ + (1 − ρ)‖w‖², ρ ∈ [0, 1] (ρ weights the L1
    part here, unlike γ of :func:`elastic_net`); scale it by λ when adding it to a loss."""
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"elastic_net_rho: rho must be in [0, 1], got {rho}")
    ws = weights(params)
    return rho * l1_norm(ws) + (1 - rho) * l2_norm_sq(ws)
