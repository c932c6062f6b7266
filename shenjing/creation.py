"""Tensor creation (创建张量), with PyTorch's default dtypes: floats → default float, ints → int64."""

from __future__ import annotations

import functools
import math

from . import backend as B
from .autograd.tensor import Tensor, as_tensor, from_numpy  # noqa: F401  (re-exported)
from .backend import xp
from .device import check_device
from .random import Generator, rng, uniform_values


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = tuple(int(s) for s in size)
    if any(s < 0 for s in out):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(out)}")
    return out


def _checks_device(fn):
    """Creation functions take ``device=`` as torch does; only the CPU exists (a GPU is a clear error)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs.get("device") is not None:
            check_device(kwargs["device"], f"{fn.__name__}(device=...)")
        return fn(*args, **kwargs)

    return wrapper


def _out(arr, requires_grad: bool) -> Tensor:
    t = as_tensor(arr)
    return t.requires_grad_(True) if requires_grad else t


def _float(dtype):
    return B.get_default_dtype() if dtype is None else xp.dtype(dtype)


@_checks_device
def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, scalar, array or tensor)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


@_checks_device
def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _out(xp.zeros(_size(size), dtype=_float(dtype)), requires_grad)


@_checks_device
def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _out(xp.ones(_size(size), dtype=_float(dtype)), requires_grad)


@_checks_device
def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _out(xp.empty(_size(size), dtype=_float(dtype)), requires_grad)


@_checks_device
def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = B.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    B.check_fits("full", fill_value, xp.dtype(dtype))
    return _out(xp.full(_size((size,)), fill_value, dtype=dtype), requires_grad)


def _like(input: Tensor, dtype):
    return input.shape, input.dtype if dtype is None else xp.dtype(dtype)


@_checks_device
def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _out(xp.zeros(shape, dt), requires_grad)


@_checks_device
def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _out(xp.ones(shape, dt), requires_grad)


@_checks_device
def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _out(xp.empty(shape, dt), requires_grad)


@_checks_device
def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    B.check_fits("full_like", fill_value, dt)
    return _out(xp.full(shape, fill_value, dt), requires_grad)


@_checks_device
@B.quietly
def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """[start, end) in steps; int64 for integer arguments, else the default float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, xp.integer)) or (isinstance(v, Tensor) and v.dtype.kind in "iu") for v in (start, end, step))
        dtype = B.int64 if is_int else B.get_default_dtype()
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound ({end}) and lower bound ({start}) inconsistent with step sign ({step})")
    n = max(math.ceil((end - start) / step), 0)
    return _out((start + step * xp.arange(n, dtype=B.float64 if xp.dtype(dtype).kind == "f" else B.int64)).astype(dtype), requires_grad)


@_checks_device
@B.quietly
def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` points from start to end, as PyTorch computes them in the dtype: start + i·h for the first half,
    end − (steps − 1 − i)·h for the rest, h = (end − start)/(steps − 1) (a range beyond the dtype's: inf, NaN)."""
    dt, n = _float(dtype), int(steps)
    for v in (start, end):
        B.check_fits("linspace", v, dt)
    if dt.kind != "f" or n < 2:
        return _out(xp.linspace(start, end, n).astype(dt), requires_grad)
    a, b, i = dt.type(start), dt.type(end), xp.arange(n, dtype=dt)
    h = (b - a) / dt.type(n - 1)
    return _out(xp.where(i < n // 2, a + h * i, b - h * (n - 1 - i)), requires_grad)


@B.quietly
def logspace(start, end, steps: int, base: float = 10.0, dtype=None, requires_grad: bool = False) -> Tensor:
    return _out(xp.logspace(start, end, int(steps), base=base).astype(_float(dtype)), requires_grad)


@_checks_device
def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _out(xp.eye(n, m, dtype=_float(dtype)), requires_grad)


def _triangle_indices(name: str, row: int, col: int, offset: int, dtype, lower: bool) -> Tensor:
    for what, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{name}: {what} must be non-negative, got {n}")
    dt = B.int64 if dtype is None else xp.dtype(dtype)
    if dt not in (B.int64, B.int32):
        raise NotImplementedError(f"{name}: not implemented for dtype {dt} (int64 or int32)")
    below = xp.tri(row, col, offset if lower else offset - 1, dtype=bool)
    return as_tensor(xp.stack(xp.nonzero(below if lower else ~below)).astype(dt))


@_checks_device
def tril_indices(row: int, col: int, offset: int = 0, dtype=None, device=None) -> Tensor:
    """The (2, N) row and column indices of the entries (i, j) with j − i ≤ offset, row by row."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, lower=True)


@_checks_device
def triu_indices(row: int, col: int, offset: int = 0, dtype=None, device=None) -> Tensor:
    """The (2, N) row and column indices of the entries (i, j) with j − i ≥ offset, row by row."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, lower=False)


@_checks_device
def rand(*size, generator: Generator | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """U[0, 1)."""
    return _out(uniform_values(rng(generator), 0.0, 1.0, _size(size), _float(dtype)), requires_grad)


@_checks_device
def randn(*size, generator: Generator | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """N(0, 1)."""
    return _out(rng(generator).standard_normal(_size(size)).astype(_float(dtype)), requires_grad)


@_checks_device
def randint(low, high=None, size=None, generator: Generator | None = None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` also works)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    dt = B.int64 if dtype is None else xp.dtype(dtype)
    return _out(rng(generator).integers(low, high, size=_size((size,))).astype(dt), requires_grad)


@_checks_device
def randperm(n: int, generator: Generator | None = None, dtype=None, device=None) -> Tensor:
    return as_tensor(rng(generator).permutation(n).astype(B.int64 if dtype is None else dtype))


def rand_like(input: Tensor, dtype=None, generator: Generator | None = None) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input: Tensor, dtype=None, generator: Generator | None = None) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator)


def normal(mean=0.0, std=1.0, size=None, generator: Generator | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """N(mean, std²); mean and std may be tensors (broadcast); ``requires_grad`` as torch.normal (d2l's
    ``w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)``)."""
    m, s = xp.asarray(mean), xp.asarray(std)
    shape = _size((size,)) if size is not None else xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    dt = dtype or (mean.dtype if isinstance(mean, Tensor) else std.dtype if isinstance(std, Tensor) else B.get_default_dtype())
    out = as_tensor((m + s * rng(generator).standard_normal(shape)).astype(dt))
    return out.requires_grad_(True) if requires_grad else out


def bernoulli(input: Tensor, p=None, generator: Generator | None = None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0, in input's dtype."""
    prob = input.array if p is None else p
    return as_tensor((rng(generator).random(input.shape) < prob).astype(input.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, generator: Generator | None = None) -> Tensor:
    """Sample category indices with probabilities proportional to the rows of ``input``."""
    p = input.array.astype(B.float64)
    rows = p.reshape(-1, p.shape[-1])
    g = rng(generator)
    out = xp.stack([g.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return as_tensor(out.reshape(p.shape[:-1] + (num_samples,)).astype(B.int64))


def meshgrid(*tensors, indexing: str = "ij"):
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got '{indexing}'")
    ts = list(tensors)
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        out.append(t.reshape(view).expand(shape))
    if indexing == "xy" and len(out) >= 2:  # Cartesian: ij-grid of (y, x, ...), outputs swapped back
        out[0], out[1] = out[1], out[0]
    return tuple(out)
