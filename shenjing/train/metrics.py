"""Metrics (评价指标): accuracy, top-k, confusion matrix, MSE, MAE, R²."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..backend import xp


def _arr(x):
    return x.array if isinstance(x, Tensor) else xp.asarray(x)


def accuracy(output, target) -> float:
    """Fraction of rows whose arg-max (or, for one column, the sign of the logit) equals the target."""
    out, y = _arr(output), _arr(target)
    if out.ndim == 1 or out.shape[-1] == 1:
        pred = (out.reshape(-1) > 0).astype(y.dtype)
        return float((pred == y.reshape(-1)).mean())
    return float((out.argmax(-1) == y).mean())


def top_k_accuracy(output, target, k: int = 5) -> float:
    """Fraction of rows whose target is among the k largest scores."""
    out, y = _arr(output), _arr(target)
    top = xp.argpartition(-out, kth=min(k, out.shape[-1]) - 1, axis=-1)[..., :k]
    return float((top == y[..., None]).any(-1).mean())


def confusion_matrix(output, target, num_classes: int | None = None):
    """C[i, j] = number of samples of true class i predicted as j (混淆矩阵)."""
    out, y = _arr(output), _arr(target).astype(xp.int64)
    pred = out.argmax(-1) if out.ndim > 1 else out.astype(xp.int64)
    n = num_classes or int(max(pred.max(initial=0), y.max(initial=0))) + 1
    return xp.bincount(y * n + pred, minlength=n * n).reshape(n, n)


def mse(output, target) -> float:
    d = _arr(output).astype(xp.float64) - _arr(target)
    return float((d * d).mean())


def mae(output, target) -> float:
    return float(xp.abs(_arr(output).astype(xp.float64) - _arr(target)).mean())


def r2(output, target) -> float:
    """R² = 1 − SS_res / SS_tot (决定系数)."""
    y = _arr(target).astype(xp.float64)
    res = ((y - _arr(output)) ** 2).sum()
    tot = ((y - y.mean(axis=0)) ** 2).sum()
    return float(1 - res / tot)


METRICS = {"accuracy": accuracy, "top5": top_k_accuracy, "mse": mse, "mae": mae, "r2": r2}
