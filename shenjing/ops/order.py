"""Scans (累积运算) and order statistics along a dim: cumprod, logcumsumexp, cummax/cummin, median,
mode, quantile/nanquantile. Each is a composite of differentiable ops (gather, prod, logsumexp, lerp), so
the gradients follow PyTorch's: to the selected entries, or through the products and the interpolation."""

from __future__ import annotations

from collections import namedtuple

from .. import backend as B
from ..autograd.tensor import Tensor, wrap_dim
from ..backend import xp
from .elementwise import const, where
from .index import take_along_dim
from .reduce import dim_aliases

values_indices = namedtuple("values_indices", ["values", "indices"])


def _axis(input: Tensor, dim, op: str) -> int:
    return wrap_dim(dim, max(input.ndim, 1), op)


def _prefix_matrix(input: Tensor, axis: int, fill: float) -> Tensor:
    """M[..., j, k] = x_k for k ≤ j, else ``fill``: the prefixes of x along ``axis`` as rows (last two dims)."""
    x = input.movedim(axis, -1)
    n = x.shape[-1]
    rows = x.unsqueeze(-2).expand(*x.shape[:-1], n, n)
    return where(Tensor._make(xp.tril(xp.ones((n, n), dtype=bool))), rows, const(fill, x.dtype))


@dim_aliases
def cumprod(input: Tensor, dim: int, dtype=None) -> Tensor:
    """y_j = Π_{k≤j} x_k along ``dim``; the gradient is exact also where x has zeros (products of prefixes)."""
    if dtype is None and input._data.dtype.kind in "bui":
        dtype = B.int64
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return input * 1
    axis = _axis(input, dim, "cumprod")
    if not input.requires_grad:
        return Tensor._make(xp.cumprod(input._data, axis=axis))
    return _prefix_matrix(input, axis, 1.0).prod(-1).movedim(-1, axis)


@dim_aliases
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """y_j = log Σ_{k≤j} e^(x_k) along ``dim`` (stable); gradient softmax over each prefix."""
    if input._data.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    if input.ndim == 0:
        return input * 1
    axis = _axis(input, dim, "logcumsumexp")
    if not input.requires_grad:
        with xp.errstate(invalid="ignore"):  # −∞ − −∞, silently as in PyTorch
            return Tensor._make(xp.logaddexp.accumulate(input._data, axis=axis) if input.shape[axis] else input._data.copy())
    return _prefix_matrix(input, axis, -float("inf")).logsumexp(-1).movedim(-1, axis)


def _cumext(input: Tensor, dim: int, largest: bool):
    op = "cummax" if largest else "cummin"
    if input.ndim == 0:
        return values_indices(input * 1, Tensor._make(xp.zeros((), dtype=B.int64)))
    axis = _axis(input, dim, op)
    a = input._data
    run = (xp.maximum if largest else xp.minimum).accumulate(a, axis=axis) if a.shape[axis] else a
    hit = (a == run) | (xp.isnan(a) if a.dtype.kind == "f" else False)  # ties and NaN take the later index, as PyTorch
    pos = xp.arange(a.shape[axis]).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
    idx = Tensor._make(xp.maximum.accumulate(xp.where(hit, pos, -1), axis=axis).astype(B.int64) if a.size else
                       xp.zeros(a.shape, B.int64))
    return values_indices(take_along_dim(input, idx, axis), idx)


@dim_aliases
def cummax(input: Tensor, dim: int):
    """(values, indices): the running maximum along ``dim``; the gradient goes to the entry each value came from."""
    return _cumext(input, dim, True)


@dim_aliases
def cummin(input: Tensor, dim: int):
    return _cumext(input, dim, False)


def _pick(input: Tensor, idx, axis: int, keepdim: bool):
    """(values, indices) at ``idx`` (keepdim shape) along ``axis``."""
    idx = Tensor._make(xp.asarray(idx, dtype=B.int64))
    vals = take_along_dim(input, idx, axis)
    if not keepdim:
        vals, idx = vals.squeeze(axis), idx.squeeze(axis)
    return values_indices(vals, idx)


def _evenly(x: Tensor, v: Tensor) -> Tensor:
    """The value ``v`` of the 1-D ``x`` with its gradient shared evenly by the entries equal to it (the NaNs if v is NaN),
    as PyTorch's median() without a dim."""
    a, val = x._data, v._data
    mask = xp.isnan(a) if xp.isnan(val) else a == val
    s = (where(Tensor._make(mask), x, const(0, x.dtype)) * const(mask / mask.sum(), x.dtype)).sum()
    return v + (s - s.detach()) if xp.isfinite(val) else s  # v exactly, the gradient through s


def _check_nonempty(input: Tensor, axis: int, op: str) -> None:
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size (input shape {tuple(input.shape)})")


@dim_aliases
def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median x_((n−1)/2) (下中位数); NaN if the slice has one. With ``dim``: (values, indices)."""
    if dim is None:
        if input.numel() == 0:
            return Tensor._make(xp.asarray(xp.nan, dtype=input._data.dtype))
        return _evenly(input.reshape(-1), median(input.detach().reshape(-1), 0).values)
    if input.ndim == 0:
        return values_indices(input * 1, Tensor._make(xp.zeros((), dtype=B.int64)))
    axis = _axis(input, dim, "median")
    _check_nonempty(input, axis, "median")
    a = input._data
    n = a.shape[axis]
    idx = xp.take(xp.argsort(a, axis=axis, kind="stable"), [(n - 1) // 2], axis=axis)
    if a.dtype.kind == "f":
        nan = xp.isnan(a)
        idx = xp.where(nan.any(axis=axis, keepdims=True), xp.argmax(nan, axis=axis, keepdims=True), idx)
    return _pick(input, idx, axis, keepdim)


@dim_aliases
def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """(values, indices): the most frequent value along ``dim`` (the smallest on a tie of counts) and its last index."""
    if input.ndim == 0:
        return values_indices(input * 1, Tensor._make(xp.zeros((), dtype=B.int64)))
    axis = _axis(input, dim, "mode")
    _check_nonempty(input, axis, "mode")
    rows = xp.moveaxis(input._data, axis, -1).reshape(-1, input.shape[axis])
    idx = xp.empty(len(rows), dtype=B.int64)
    for r, row in enumerate(rows):
        vals, counts = xp.unique(row, return_counts=True)
        best = vals[xp.argmax(counts)]
        idx[r] = len(row) - 1 - xp.argmax(row[::-1] == best)
    shape = list(xp.moveaxis(input._data, axis, -1).shape[:-1])
    return _pick(input, xp.moveaxis(idx.reshape(shape + [1]), -1, axis), axis, keepdim)


_INTERPOLATION = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, op: str, ignore_nan: bool) -> Tensor:
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"{op}(): interpolation must be one of {', '.join(_INTERPOLATION)}. Got '{interpolation}'")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype (got {input.dtype}, shape {tuple(input.shape)})")
    qs = xp.asarray(q._data if isinstance(q, Tensor) else q, dtype=input._data.dtype)
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor with values in [0, 1] (got shape {qs.shape})")
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None or x.ndim == 0 else _axis(x, dim, op)
    x = x.reshape(1) if x.ndim == 0 else x
    if x.shape[axis] == 0:
        raise IndexError(f"{op}() input tensor must be non-empty (shape {tuple(input.shape)})")
    s = x.sort(axis).values.movedim(axis, -1).unsqueeze(-2)  # (..., 1, n); NaN sorts last
    nan = xp.isnan(s._data)
    count = (~nan).sum(-1, keepdims=True) if ignore_nan else xp.full(nan.shape[:-1] + (1,), s.shape[-1])
    bad = (count == 0) if ignore_nan else nan.any(-1, keepdims=True)
    pos = xp.where(bad, s.shape[-1] - 1, qs.reshape(-1, 1) * (count - 1))  # (..., len(q), 1); a NaN slice reads the last (NaN)
    lo, hi = xp.floor(pos), xp.ceil(pos)
    if interpolation == "nearest":
        lo = hi = xp.round(pos)  # half to even, as PyTorch
    lo = lo if interpolation != "higher" else hi
    hi = hi if interpolation != "lower" else lo
    lo_i, hi_i = (Tensor._make(v.astype(B.int64)) for v in (lo, hi))
    s = s.expand(*lo.shape[:-1], s.shape[-1])
    a, b = s.gather(-1, lo_i), s.gather(-1, hi_i)
    w = 0.5 if interpolation == "midpoint" else const(pos - lo, s.dtype)
    out = a + (b - a) * w if interpolation in ("linear", "midpoint") else a
    out = out.squeeze(-1).movedim(-1, 0)  # (len(q), ...)
    if keepdim and input.ndim:
        out = out.unsqueeze(axis + 1) if dim is not None else out.reshape(out.shape[:1] + (1,) * input.ndim)
    return out if qs.ndim else out.squeeze(0)


@dim_aliases
def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The q-quantiles (分位数) along ``dim`` (of all entries by default); q a number or a 1-D tensor (its dim first)."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


@dim_aliases
def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """quantile ignoring NaN (NaN only where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", True)
