"""Input-gradient feature importance (评估输入数据特征的重要性, Nelson ch. 4).

Nelson asks: *if we change one input variable, how much does the output change?* — a question
about the partial derivative ∂f/∂x_j of the trained network's output with respect to feature j.
For a linear model f(x) = wᵀx + b it is w_j (sensitivity analysis); for a network it depends on
x, so it is averaged over a data set:

    importance_j = (1/N) Σ_n |∂f(x_n)/∂x_{n,j}|                        ('gradient')
    importance_j = (1/N) Σ_n |x_{n,j} · ∂f(x_n)/∂x_{n,j}|              ('grad_x_input')

The gradients come from one backward pass per batch: for a model that treats samples
independently (no batch norm in training mode), ∂(Σ_n f(x_n))/∂x_n = ∂f(x_n)/∂x_n. Features
should be on comparable scales (standardised, Nelson's feature scaling) for 'gradient' to be
comparable across features; 'grad_x_input' accounts for the scale of each feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...autograd.engine import grad
from ...autograd.grad_mode import enable_grad
from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor

METHODS = ("gradient", "grad_x_input")


def _select(out: Tensor, target: Any) -> Tensor:
    """The scalar per sample whose gradient is taken: the output itself when it has one value per
    sample, else column ``target`` (an int, or one index per sample), else the sum of outputs."""
    if out.ndim <= 1 or (out.ndim == 2 and out.shape[1] == 1 and target is None):
        return out.sum()
    flat = out.reshape(out.shape[0], -1)
    if target is None:
        return flat.sum()
    if isinstance(target, int):
        return flat[:, target].sum()
    idx = target if isinstance(target, Tensor) else Tensor(xp.asarray(target))
    idx = idx.reshape(-1, 1).to(xp.int64)
    return flat.gather(1, idx).sum()


def input_gradients(model: Callable[[Tensor], Tensor], x: Tensor | Any, target: Any = None,
                    batch_size: int | None = None) -> Tensor:
    """∂f(x_n)/∂x_n for every sample, shape ``x.shape`` (float like ``x``).

    ``target`` picks the output for multi-output models: an int (one column for all samples), a
    sequence/Tensor of per-sample class indices (e.g. the labels, for a classifier's logits), or
    None (the output itself if it is one value per sample, otherwise the sum of the outputs).
    ``model`` may be a Module or any function of a batch; switch a Module to ``eval()`` first if
    it has dropout or batch norm."""
    xt = x if isinstance(x, Tensor) else Tensor(x)
    if xt.dtype.kind != "f":
        xt = xt.float()
    n = xt.shape[0] if xt.ndim else 1
    bs = n if batch_size is None else int(batch_size)
    parts = []
    for s in range(0, n, bs):
        xb = as_tensor(xt.array[s:s + bs].copy()).requires_grad_()
        tb = target
        if target is not None and not isinstance(target, int):
            tb = xp.asarray(target)[s:s + bs]
        with enable_grad():
            out = model(xb)
            if not isinstance(out, Tensor):
                raise TypeError(f"input_gradients: the model returned a {type(out).__name__}, not a Tensor")
            y = _select(out, tb)
            if not y.requires_grad:
                parts.append(xp.zeros_like(xb.array))
                continue
            (g,) = grad(y, xb, allow_unused=True)
        parts.append(xp.zeros_like(xb.array) if g is None else g.array)
    return as_tensor(xp.concatenate(parts, axis=0) if parts else xp.zeros_like(xt.array))


def feature_importance(model: Callable[[Tensor], Tensor], x: Tensor | Any, method: str = "gradient",
                       target: Any = None, batch_size: int | None = None, absolute: bool = True) -> Tensor:
    """Mean |∂f/∂x_j| over the data set (``method='gradient'``) or mean |x_j ∂f/∂x_j|
    (``'grad_x_input'``), one value per feature: shape ``x.shape[1:]`` (a saliency map for images).

    ``absolute=False`` averages the signed values instead (the average direction of the effect;
    opposite effects then cancel, which is why the magnitude is the default)."""
    if method not in METHODS:
        raise ValueError(f"feature_importance: method must be one of {METHODS}, got {method!r}")
    g = input_gradients(model, x, target=target, batch_size=batch_size).array.astype(xp.float64)
    if method == "grad_x_input":
        xa = xp.asarray(x).astype(xp.float64)
        g = g * xa
    if absolute:
        g = xp.abs(g)
    return as_tensor(g.mean(axis=0))


def rank_features(importance: Tensor | Any, names: Sequence[str] | None = None) -> list:
    """Feature indices (or ``names``) sorted from most to least important (flattened, stable)."""
    a = xp.asarray(importance).reshape(-1)
    order = [int(i) for i in xp.argsort(-a, kind="stable")]
    if names is None:
        return order
    if len(names) != a.size:
        raise ValueError(f"rank_features: {len(names)} names for {a.size} features")
    return [names[i] for i in order]


def importance_table(importance: Tensor | Any, names: Sequence[str] | None = None) -> str:
    """A text table of the features by decreasing importance, with the share of the total."""
    a = xp.asarray(importance).reshape(-1).astype(xp.float64)
    total = float(xp.abs(a).sum()) or 1.0
    labels = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(a.size)]
    lines = [f"{'rank':>4}  {'feature':<16} {'importance':>12} {'share':>7}"]
    for r, i in enumerate(rank_features(a), 1):
        lines.append(f"{r:>4}  {labels[i][:16]:<16} {float(a[i]):>12.5g} {abs(float(a[i])) / total:>7.1%}")
    return "\n".join(lines)


__all__ = ["METHODS", "feature_importance", "importance_table", "input_gradients", "rank_features"]
