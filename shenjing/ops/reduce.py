"""Reductions (归约) along ``dim`` (int or tuple, negative allowed) with ``keepdim``, and softmax."""

from __future__ import annotations

import functools
import math
import warnings
from collections import namedtuple

from .. import backend as B
from ..autograd.function import Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor, wrap_dim
from ..backend import xp
from .elementwise import Div, Exp, Mul, NonZero, Sub, broadcast_to, const, where
from .shape import Reshape

minmax_result = namedtuple("minmax_result", ["values", "indices"])


def dim_aliases(f):
    """Accept NumPy's spellings as PyTorch does: ``axis=`` for ``dim=``, ``keepdims=`` for ``keepdim=``."""

    @functools.wraps(f)
    def g(*args, **kw):
        if "axis" in kw:
            kw["dim"] = kw.pop("axis")
        if "keepdims" in kw:
            kw["keepdim"] = kw.pop("keepdims")
        return f(*args, **kw)

    return g


def _dims(dim, ndim: int, op: str):
    """Normalise ``dim`` to a sorted tuple of non-negative axes (None → all)."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):  # dim=() reduces all, as PyTorch
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    axes = tuple(sorted({wrap_dim(d, ndim, op) for d in dim}))
    if len(axes) != len(dim):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return axes if ndim else ()  # a 0-d tensor accepts dim 0 / -1 and reduces nothing


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unsqueeze_to(g: Tensor, in_shape, axes, keepdim: bool) -> Tensor:
    """Reshape a reduced gradient so that it broadcasts against the input."""
    return g if keepdim else Reshape.apply(g, shape=_kept_shape(in_shape, axes))  # valid by construction


class Sum(Function):
    saves_inputs = False

    def forward(self, a, axes, keepdim, dtype=None):
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(self, g):
        return broadcast_to(_unsqueeze_to(g, self.in_shape, self.axes, self.keepdim), self.in_shape)


def _count(shape, axes) -> int:
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def _mean(a, axes, keepdims: bool):
    """The mean of ``a`` over ``axes``; NaN over no elements (NumPy would warn "Mean of empty slice")."""
    if _count(a.shape, axes) == 0:
        return a.sum(axis=axes, keepdims=keepdims) / a.dtype.type(0)
    return a.mean(axis=axes, keepdims=keepdims)


class Mean(Function):
    saves_inputs = False

    def forward(self, a, axes, keepdim):
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        self.n = _count(a.shape, axes)
        return _mean(a, axes, keepdim)

    def backward(self, g):
        g = Div.apply(_unsqueeze_to(g, self.in_shape, self.axes, self.keepdim), const(self.n, g.dtype))
        return broadcast_to(g, self.in_shape)


@dim_aliases
def sum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    axes = _dims(dim, input.ndim, "sum")
    if dtype is None and input._data.dtype.kind in "bui":
        dtype = B.int64
    return Sum.apply(input, axes=axes, keepdim=keepdim, dtype=dtype)


@dim_aliases
def mean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {input._data.dtype} (shape {tuple(input.shape)})"
        )
    return Mean.apply(input, axes=_dims(dim, input.ndim, "mean"), keepdim=keepdim)


class Var(Function):
    """Σ(x − x̄)²/(N − correction) over ``axes``. ∂x = 2(x − x̄)/(N − correction)·g, PyTorch's formula: the
    mean's own path, which Σ(x − x̄) = 0 cancels, is left out, so an infinite entry spoils only its own
    gradient (as PyTorch's)."""

    def forward(self, a, axes, keepdim, correction):
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        n = _count(a.shape, axes)
        self.dof = n - correction if n > correction else 0
        d = a - _mean(a, axes, True)
        return (d * d).sum(axis=axes, keepdims=keepdim) / a.dtype.type(self.dof)

    def backward(self, g):
        x = self.inputs[0]
        d = x - x.mean(dim=self.axes, keepdim=True)
        return _unsqueeze_to(g, self.in_shape, self.axes, self.keepdim) * d * (2 / self.dof if self.dof else math.inf)


class Std(Var):
    """√var; ∂var = g/(2σ), taken as 0 where σ = 0 (as PyTorch: a constant input has gradient 0)."""

    saves_output = True

    def forward(self, a, axes, keepdim, correction):
        return xp.sqrt(super().forward(a, axes, keepdim, correction))

    def backward(self, g):
        y = self.output
        return super().backward(where(y == 0, 0.0, g / (2 * y)))


def _var(cls: type[Var], input: Tensor, dim, unbiased, keepdim: bool, correction) -> Tensor:
    name = cls.__name__.lower()
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: std and var only support floating point and complex dtypes, got {input.dtype} (shape {tuple(input.shape)})")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _dims(dim, input.ndim, name)
    if _count(input.shape, axes) <= correction:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
                      f"(input numel divided by output numel).", UserWarning, stacklevel=4)
    return cls.apply(input, axes=axes, keepdim=keepdim, correction=correction)


@dim_aliases
def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Σ(x − x̄)²/(N − correction); correction=1 (Bessel) by default, 0 gives the biased variance
    used by batch norm (Fang §8.2)."""
    return _var(Var, input, dim, unbiased, keepdim, correction)


@dim_aliases
def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """√var (see ``var``)."""
    return _var(Std, input, dim, unbiased, keepdim, correction)


@dim_aliases
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@dim_aliases
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


class _Extreme(Function):
    """amax/amin over axes: the gradient is shared evenly between tied extremes (as PyTorch)."""

    saves_inputs = False
    reduce = staticmethod(xp.max)

    def forward(self, a, axes, keepdim):
        out = self.reduce(a, axis=axes, keepdims=True)
        mask = a == out
        self.w = mask / mask.sum(axis=axes, keepdims=True)  # a NaN extreme matches nothing: weight NaN, as PyTorch's gradient
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return out if keepdim else out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    def backward(self, g):
        g = _unsqueeze_to(g, self.in_shape, self.axes, self.keepdim)
        return g * const(self.w, g.dtype)


class _Amax(_Extreme):
    reduce = staticmethod(xp.max)


class _Amin(_Extreme):
    reduce = staticmethod(xp.min)


class _PickAlong(Function):
    """The value at ``index`` along ``axis`` (max/min with a dim); gradient goes to that index."""

    saves_inputs = False

    def forward(self, a, index, axis, keepdim):
        self.onehot = xp.zeros(a.shape, dtype=bool)
        xp.put_along_axis(self.onehot, index, True, axis)
        self.in_shape, self.axis, self.keepdim = a.shape, (axis,), keepdim
        out = xp.take_along_axis(a, index, axis)
        return out if keepdim else out.squeeze(axis)

    def backward(self, g):
        g = _unsqueeze_to(g, self.in_shape, self.axis, self.keepdim)
        return g * Tensor._make(self.onehot)


def _check_nonempty(input: Tensor, axes, op: str) -> None:
    for ax in axes:
        if input.shape[ax] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {ax} to have non-zero size (input shape {tuple(input.shape)})")
    if input.numel() == 0 and not axes:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0")


def _minmax(input, dim, keepdim, other, largest: bool):
    name = "max" if largest else "min"
    if isinstance(dim, Tensor):  # torch.max(a, b)
        other, dim = dim, None
    if other is not None:
        from .elementwise import maximum, minimum

        return maximum(input, other) if largest else minimum(input, other)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        return (_Amax if largest else _Amin).apply(input, axes=tuple(range(input.ndim)), keepdim=False)
    axis = wrap_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return minmax_result(input, Tensor._make(xp.asarray(0, dtype=B.int64)))
    _check_nonempty(input, (axis,), name)
    arg = xp.argmax if largest else xp.argmin
    idx = xp.expand_dims(arg(input._data, axis=axis), axis)
    if input._data.dtype.kind == "f":  # NaN wins, as in PyTorch
        nan = xp.isnan(input._data)
        if nan.any():
            has = nan.any(axis=axis, keepdims=True)
            idx = xp.where(has, xp.expand_dims(xp.argmax(nan, axis=axis), axis), idx)
    values = _PickAlong.apply(input, index=idx, axis=axis, keepdim=keepdim)
    indices = Tensor._make(idx.astype(B.int64) if keepdim else idx.squeeze(axis).astype(B.int64))
    return minmax_result(values, indices)


@dim_aliases
def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """max() → the largest value; max(dim) → (values, indices); max(a, b) → elementwise."""
    return _minmax(input, dim, keepdim, other, True)


@dim_aliases
def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    return _minmax(input, dim, keepdim, other, False)


@dim_aliases
def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _dims(dim if dim != () else None, input.ndim, "amax")
    _check_nonempty(input, axes, "amax")
    return _Amax.apply(input, axes=axes, keepdim=keepdim)


@dim_aliases
def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _dims(dim if dim != () else None, input.ndim, "amin")
    _check_nonempty(input, axes, "amin")
    return _Amin.apply(input, axes=axes, keepdim=keepdim)


def _argext(input: Tensor, dim, keepdim, largest: bool) -> Tensor:
    name = "argmax" if largest else "argmin"
    f = xp.argmax if largest else xp.argmin
    a = input._data
    if a.dtype == B.bool_:
        raise RuntimeError(f"{name}(): does not support bool input (shape {tuple(input.shape)})")
    if dim is None:
        if a.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        r = xp.asarray(f(a), dtype=B.int64)
        return Tensor._make(r.reshape((1,) * a.ndim) if keepdim else r)
    axis = wrap_dim(dim, a.ndim, name)
    if a.ndim == 0:
        return Tensor._make(xp.asarray(0, dtype=B.int64))
    _check_nonempty(input, (axis,), name)
    return Tensor._make(xp.asarray(f(a, axis=axis, keepdims=keepdim), dtype=B.int64))


@dim_aliases
def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _argext(input, dim, keepdim, True)


@dim_aliases
def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _argext(input, dim, keepdim, False)


class Prod(Function):
    """Π x along one axis (or all); ∂/∂x_i = Π_{j≠i} x_j (exact also with zeros)."""

    def forward(self, a, axis, keepdim):
        self.axis, self.keepdim = axis, keepdim
        return a.prod(axis=axis, keepdims=keepdim)

    def backward(self, g):
        a = self.inputs[0]
        axis = self.axis
        if axis is None:
            g = g.reshape((1,) * a.ndim)
        elif not self.keepdim:
            g = g.unsqueeze(axis)
        if not (a._data == 0).any():
            return g * self.output.reshape(g.shape) / a
        if grad_enabled():  # create_graph: Π_{j≠i} x_j as a product over an (n, n) tensor with 1 on the diagonal
            x = a.reshape(-1) if axis is None else a.movedim(axis, -1)
            n = x.shape[-1]
            rows = x.unsqueeze(-2).expand(*x.shape[:-1], n, n)
            others = where(Tensor._make(xp.eye(n, dtype=bool)), 1.0, rows).prod(-1)
            return g * (others.reshape(a.shape) if axis is None else others.movedim(-1, axis))
        x = a._data.reshape(-1) if axis is None else a._data
        ax = 0 if axis is None else axis
        ones = xp.ones_like(xp.take(x, [0], axis=ax))
        left = xp.cumprod(xp.concatenate([ones, xp.delete(x, -1, axis=ax)], axis=ax), axis=ax)
        rx = xp.flip(x, ax)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.delete(rx, -1, axis=ax)], axis=ax), axis=ax), ax)
        others = (left * right).reshape(a.shape)
        return g * Tensor._make(others)

    saves_output = True


@dim_aliases
def prod(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if dtype is None and input._data.dtype.kind in "bui":
        dtype = B.int64  # integer products accumulate in int64, as PyTorch
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return Prod.apply(input, axis=None, keepdim=False)
    axis = wrap_dim(dim, input.ndim, "prod")
    if input.ndim == 0:
        return Prod.apply(input, axis=None, keepdim=False)
    return Prod.apply(input, axis=axis, keepdim=keepdim)


class LogSumExp(Function):
    """log Σ exp x, computed as m + log Σ exp(x − m) (Fang §5.3.2); gradient softmax(x).
    One node: the composite needs the max shift to stay finite and would record five."""

    saves_output = True

    def forward(self, a, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        m = a.max(axis=axes, keepdims=True) if a.size else xp.zeros(_kept_shape(a.shape, axes), a.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True)) + m  # log 0 = −inf: empty or all −inf
        return out if keepdim else out.reshape([s for i, s in enumerate(a.shape) if i not in axes])

    def backward(self, g):
        a = self.inputs[0]
        shape = a._data.shape
        out = _unsqueeze_to(self.output, shape, self.axes, self.keepdim)
        g = _unsqueeze_to(g, shape, self.axes, self.keepdim)
        return Mul.apply(g, Exp.apply(Sub.apply(a, out)))  # g · exp(x − lse) = g · softmax(x)


@dim_aliases
def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    if input._data.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    return LogSumExp.apply(input, axes=_dims(dim, input.ndim, "logsumexp"), keepdim=keepdim)


class Softmax(Function):
    """softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along ``dim``; backward y ⊙ (g − Σ g⊙y).
    One node: shifted by the max, so it never overflows, and its backward reuses y."""

    saves_inputs = False
    saves_output = True

    def forward(self, a, axis):
        self.axis = axis
        e = xp.exp(a - a.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        return e

    def backward(self, g):
        y = self.output
        return y * (g - (g * y).sum(dim=self.axis, keepdim=True))


class LogSoftmax(Function):
    """log softmax(x) = x − logsumexp(x); backward g − softmax · Σ g. One node, for the same reasons."""

    saves_inputs = False
    saves_output = True

    def forward(self, a, axis):
        self.axis = axis
        s = a - a.max(axis=axis, keepdims=True)
        s -= xp.log(xp.exp(s).sum(axis=axis, keepdims=True))
        return s

    def backward(self, g):
        return g - self.output.exp() * g.sum(dim=self.axis, keepdim=True)


def softmax_dim(input: Tensor, dim, op: str) -> int:
    """The axis of softmax; ``dim=None`` picks PyTorch's legacy implicit choice."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return wrap_dim(dim, input.ndim, op)


@dim_aliases
def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    return Softmax.apply(input, axis=softmax_dim(input, dim, "softmax"))


@dim_aliases
def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    return LogSoftmax.apply(input, axis=softmax_dim(input, dim, "log_softmax"))


class VectorNorm(Function):
    """‖x‖_p = (Σ|x|^p)^(1/p) over axes, for p ∉ {0, 1, ±∞} (those are composites). Backward as PyTorch:
    x|x|^(p−2) g / ‖x‖^(p−1) (sgn(x)|x|^(p−1) for p < 2), 0 where the norm is 0 (the composite gives NaN);
    for p < 1, sgn(x)|x|^(p−1) g ‖x‖^(1−p), 0 where x = 0."""

    saves_output = True

    def forward(self, a, p, axes, keepdim):
        self.p, self.axes, self.keepdim = p, axes, keepdim
        if p == 2:
            return xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        return (xp.abs(a) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)  # |0|^p for p < 0 is inf

    def backward(self, g):
        x, p = self.inputs[0], self.p
        norm = _unsqueeze_to(self.output, x.shape, self.axes, self.keepdim)
        g = _unsqueeze_to(g, x.shape, self.axes, self.keepdim)
        if p < 1:
            return where(x == 0, 0.0, x.sign() * x.abs() ** (p - 1)) * g * norm ** (1 - p)  # |0|^(p−1) = inf, masked to 0
        zero = norm == 0
        scale = where(zero, 0.0, g / where(zero, 1.0, norm) ** (p - 1))
        return (x if p == 2 else x.sign() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)) * scale


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """‖x‖_ord (向量范数) over ``dim`` (all by default): ord = 2 (default), any real, inf (max |x|),
    −inf (min |x|), 0 (the count of non-zeros, no gradient)."""
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype} (shape {tuple(x.shape)})")
    if dtype is not None:
        x = x.to(dtype)
    axes = _dims(dim, x.ndim, "linalg.vector_norm")
    ord = float(ord)
    if (ord < 0 or ord == float("inf")) and (0 in [x.shape[a] for a in axes] or (x.numel() == 0 and not axes)):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty dimension of a tensor of shape "
                           f"{tuple(x.shape)}, because the operation does not have an identity")
    if abs(ord) == float("inf"):
        return x.abs().amax(axes, keepdim) if ord > 0 else x.abs().amin(axes, keepdim)
    if ord == 0:  # the count of non-zeros: its graph gives the input no gradient, as PyTorch's
        return NonZero.apply(x).sum(dim=axes, keepdim=keepdim)
    if ord == 1:
        return x.abs().sum(dim=axes, keepdim=keepdim)
    return VectorNorm.apply(x, p=ord, axes=axes, keepdim=keepdim)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """‖input − other‖_p over all elements (the two broadcast)."""
    return vector_norm(input - other, p)


class Cumsum(Function):
    saves_inputs = False

    def forward(self, a, axis, dtype=None):
        self.axis = axis
        return xp.cumsum(a, axis=axis, dtype=dtype).reshape(a.shape)

    def backward(self, g):
        return g.flip(self.axis).cumsum(self.axis).flip(self.axis)


@dim_aliases
def cumsum(input: Tensor, dim: int, dtype=None) -> Tensor:
    if dtype is None and input._data.dtype.kind in "bui":
        dtype = B.int64
    return Cumsum.apply(input, axis=wrap_dim(dim, input.ndim, "cumsum"), dtype=dtype)


@dim_aliases
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = None if dim is None else _dims(dim, input.ndim, "all")
    return Tensor._make(xp.asarray(input._data.astype(bool).all(axis=axes, keepdims=keepdim)))


@dim_aliases
def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = None if dim is None else _dims(dim, input.ndim, "any")
    return Tensor._make(xp.asarray(input._data.astype(bool).any(axis=axes, keepdims=keepdim)))


@dim_aliases
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    axes = None if dim is None else _dims(dim, input.ndim, "count_nonzero")
    return Tensor._make(xp.asarray(xp.count_nonzero(input._data, axis=axes), dtype=B.int64))


@dim_aliases
def nansum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Σ x over the entries that are not NaN; their gradient is 1, the NaNs' 0."""
    if input._data.dtype.kind == "f":
        input = where(Tensor._make(xp.isnan(input._data)), const(0, input.dtype), input)
    return sum(input, () if dim is None else dim, keepdim, dtype)


@dim_aliases
def nanmean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The mean of the entries that are not NaN (NaN where there are none)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype} (shape {tuple(input.shape)})")
    count = Tensor._make(~xp.isnan(input._data)).sum(() if dim is None else dim, keepdim)
    return nansum(input, dim, keepdim) / count  # 0/0 = NaN for an all-NaN slice


aminmax_result = namedtuple("aminmax_result", ["min", "max"])


@dim_aliases
def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over ``dim`` (all entries by default)."""
    return aminmax_result(amin(input, () if dim is None else dim, keepdim), amax(input, () if dim is None else dim, keepdim))
