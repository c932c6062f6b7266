"""Inputs and outputs of the classical models: shenjing Tensors or backend arrays in, the same kind out.

Every solver works on float64 backend arrays (``xp``); results come back as Tensors when any input
was a Tensor (in the input's floating dtype, or the default float dtype for integer inputs), and as
arrays otherwise (float64 unless the inputs were another float type).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor


def to_array(a: Any) -> Any:
    """The values of a Tensor (detached) or anything array-like, as a backend array."""
    return xp.asarray(a)


def unpack(*args: Any) -> tuple[list[Any], Callable[[Any], Any]]:
    """(float64 copies of the arguments (None stays None), ``pack``): ``pack(array)`` converts a result back to
    the kind of the inputs — a Tensor if any input was one, else an array."""
    tensor = any(isinstance(a, Tensor) for a in args)
    arrs = [None if a is None else to_array(a) for a in args]
    for a in arrs:
        if a is not None and a.dtype.kind not in "biuf":
            raise TypeError(f"expected real numbers, got an array of dtype {a.dtype}")
    floats = [a.dtype for a in arrs if a is not None and a.dtype.kind == "f"]
    if floats:
        out_dtype = xp.result_type(*floats)
    else:
        out_dtype = B.get_default_dtype() if tensor else xp.dtype(xp.float64)
    arrs64 = [None if a is None else a.astype(xp.float64) for a in arrs]

    def pack(x: Any) -> Any:
        x = xp.asarray(x, dtype=out_dtype)
        return as_tensor(x) if tensor else x

    return arrs64, pack


def check_xy(X: Any, y: Any, name: str) -> tuple[Any, Any]:
    """X as (n, d) and y as (n,) or (n, k), with a clear error on mismatched shapes."""
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name}: X must have shape (n_samples, n_features), got {X.shape}")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"{name}: y must have shape ({X.shape[0]},) or ({X.shape[0]}, k) to match X {X.shape}, got {y.shape}")
    return X, y


def centre(X: Any, y: Any, fit_intercept: bool) -> tuple[Any, Any, Any, Any]:
    """(X − x̄, y − ȳ, x̄, ȳ) (中心化), or the data with zero means when there is no intercept."""
    if not fit_intercept:
        return X, y, xp.zeros(X.shape[1]), xp.zeros(y.shape[1:])
    xm, ym = X.mean(axis=0), y.mean(axis=0)
    return X - xm, y - ym, xm, ym
