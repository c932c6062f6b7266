"""Tensor methods and operators, bound from ``shenjing.ops`` (one table, PyTorch's names)."""

from __future__ import annotations

import weakref

from .. import backend as B
from .. import creation as C
from ..backend import xp
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import shape as S
from .function import ShapeError
from .grad_mode import _enabled
from .tensor import Tensor, _check_inplace


def _fast_add(a, b):
    """a + b for the hot path: same dtype tensors skip promotion."""
    if type(b) is Tensor and a._data.dtype == b._data.dtype:
        return E.Add.apply(a, b)
    return E.add(a, b)


def _fast_mul(a, b):
    if type(b) is Tensor and a._data.dtype == b._data.dtype:
        return E.Mul.apply(a, b)
    return E.mul(a, b)


def _to(self, *args, **kwargs):
    """to(dtype) / to(other) / to('cpu'); device arguments are accepted and ignored (CPU only)."""
    dtype = kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif not isinstance(a, str) and a is not None:
            dtype = a
    return self if dtype is None else E.to_dtype(self, dtype)


def _type(self, dtype=None):
    if dtype is None:
        return f"shenjing.{self.dtype}"
    return E.to_dtype(self, dtype)


def _new_dtype(dt):
    return lambda self: E.to_dtype(self, dt)


# ------------------------------------------------------------------ in-place operations


def _inplace(self: Tensor, name: str, outplace, *args, **kwargs) -> Tensor:
    """Run ``outplace(self, *args)`` and write the result into ``self``.

    Recording a graph, the old value becomes a snapshot that the new node reads, so that the
    gradient stays exact; a tensor that some node saved earlier sees its version move and that
    node's backward raises (PyTorch's rule)."""
    recording = _enabled[0] and (self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args))
    if recording:
        _check_inplace(self, name)
        base = _view_base(self)
        if base is not None:
            return _inplace_view(self, base, name, outplace, *args, **kwargs)
        old = Tensor._make(self._data.copy(), self.requires_grad, self.grad_fn)
        fn = self.grad_fn
        if fn is not None and "_out" in fn.__dict__:
            fn._out = weakref.ref(old)
            if fn.saves_output:  # fn's backward reads the value being overwritten: raise there, as PyTorch
                fn.out_version = -1
        r = outplace(old, *args, **kwargs)
    else:
        r = outplace(self, *args, **kwargs)
    if r._data.shape != self._data.shape:
        raise ShapeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape {tuple(r.shape)}")
    if r._data.dtype != self._data.dtype and not xp.can_cast(r._data.dtype, self._data.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {r._data.dtype} can't be cast to the desired output type {self._data.dtype}")
    if r._data is not self._data:
        self._data[...] = r._data
    self._vc[0] += 1
    if recording:
        self.grad_fn, self.requires_grad = r.grad_fn, r.requires_grad
        if r.grad_fn is not None:
            r.grad_fn._out = weakref.ref(self)
            if r.grad_fn.saves_output:
                r.grad_fn.out_version = self._vc[0]
    return self


def _view_base(t: Tensor):
    """The tensor whose memory ``t`` is a view of (basic slicing, reshape, transpose), or None."""
    vc = t._vc
    if len(vc) < 2:
        return None
    base = vc[1]()
    if base is None or base is t or not base._data.size or not xp.may_share_memory(base._data, t._data):
        return None
    return base


def _offsets(a):
    """Memory offset (in elements) of every element of ``a`` from its first byte."""
    off = xp.zeros(a.shape, dtype=B.int64)
    for k, (n, st) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        off = off + (xp.arange(n, dtype=B.int64) * (st // a.itemsize)).reshape(shape)
    return off


def _view_index(base, view):
    """For each element of the array ``view``, the flat (C-order) index of the ``base`` element it
    aliases; None if ``view`` is not a view of ``base``."""
    ob = _offsets(base)
    lo = int(ob.min())
    buf = xp.full(int(ob.max()) - lo + 1, -1, dtype=B.int64)
    buf[(ob - lo).reshape(-1)] = xp.arange(base.size, dtype=B.int64)
    start = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
    ov = start + _offsets(view) - lo
    if view.size and (ov.min() < 0 or ov.max() >= buf.size):
        return None
    idx = buf[ov]
    return None if view.size and idx.min() < 0 else idx


def _inplace_view(self: Tensor, base: Tensor, name: str, outplace, *args, **kwargs) -> Tensor:
    """An in-place op through a view, recorded as PyTorch does: the base gets the new history
    (base with the view's elements replaced), and the view becomes a view of the new base."""
    idx = _view_index(base._data, self._data)
    if idx is None:
        raise RuntimeError(f"{name}: in-place operation on a view of shape {tuple(self.shape)} whose layout is not supported under autograd")
    _check_inplace(base, name)
    old_b = Tensor._make(base._data.copy(), base.requires_grad, base.grad_fn)
    fn = base.grad_fn
    if fn is not None and "_out" in fn.__dict__:
        fn._out = weakref.ref(old_b)
        if fn.saves_output:
            fn.out_version = -1
    old_v = I.GetItem.apply(S.reshape(old_b, -1), key=idx, advanced=True)
    r = outplace(old_v, *args, **kwargs)
    if r._data.shape != self._data.shape:
        raise ShapeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape {tuple(r.shape)}")
    if r._data.dtype != self._data.dtype:
        if not xp.can_cast(r._data.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"{name}: result type {r._data.dtype} can't be cast to the desired output type {self._data.dtype}")
        r = E.to_dtype(r, self._data.dtype)
    new_b = S.reshape(I.IndexPut.apply(S.reshape(old_b, -1), r, key=idx), base.shape)
    self._data[...] = r._data  # the memory the base shares
    self._vc[0] += 1
    base.grad_fn, base.requires_grad = new_b.grad_fn, new_b.requires_grad
    if new_b.grad_fn is not None:
        new_b.grad_fn._out = weakref.ref(base)
    v = I.GetItem.apply(S.reshape(base, -1), key=idx, advanced=True)
    self.grad_fn, self.requires_grad = v.grad_fn, v.requires_grad
    if v.grad_fn is not None:
        v.grad_fn._out = weakref.ref(self)
    return self


def _arith_inplace(name, outplace, ufunc):
    def method(self, other, *, alpha=1):
        if not _enabled[0] or not (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            o = other._data if isinstance(other, Tensor) else other
            if alpha != 1:
                o = o * alpha
            d = self._data
            if (not isinstance(o, xp.ndarray) or (o.dtype == d.dtype and o.ndim <= d.ndim)) and (
                d.dtype.kind == "f" or ufunc is not xp.true_divide
            ):
                try:
                    ufunc(d, o, out=d, casting="same_kind")
                except ValueError:
                    raise ShapeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape of {tuple(xp.shape(o))}") from None
                except TypeError:
                    raise RuntimeError(
                        f"{name}: result type {B.result_type(self, other)} can't be cast to the desired output type {d.dtype} "
                        f"(shape {tuple(self.shape)})"
                    ) from None
                self._vc[0] += 1
                return self
        if alpha != 1:
            other = other * alpha
        return _inplace(self, name, outplace, other)

    method.__name__ = name
    return method


def _setitem(self: Tensor, key, value) -> None:
    if not _enabled[0] or not (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        k, _ = I.normalize_key(key)
        self._data[k] = value._data if isinstance(value, Tensor) else value
        self._vc[0] += 1
        return
    _inplace(self, "__setitem__", I.index_put, key, value)


def _simple_inplace(name, outplace):
    def method(self, *args, **kwargs):
        return _inplace(self, name, outplace, *args, **kwargs)

    method.__name__ = name
    return method


def _copy_(self, src, non_blocking=False):
    src = src if isinstance(src, Tensor) else Tensor(src)
    return _inplace(self, "copy_", lambda old, s: E.broadcast_to(E.to_dtype(s, old.dtype), old.shape), src)


def _fill_(self, value):
    """Fill with ``value``; recorded (the old history gets no gradient) when the graph is built."""
    if _enabled[0] and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        v = value if isinstance(value, Tensor) else Tensor._make(xp.asarray(value, dtype=self._data.dtype))
        return _inplace(self, "fill_", lambda old, v: E.broadcast_to(E.to_dtype(v, old.dtype), old.shape), v)
    return _plain_fill(self, value)


_plain_fill = Tensor.fill_


def _uniform_(self, a=0.0, b=1.0, generator=None):
    from ..random import rng

    _check_inplace(self, "uniform_")
    self._data[...] = rng(generator).uniform(a, b, self.shape)
    self._vc[0] += 1
    return self


def _normal_(self, mean=0.0, std=1.0, generator=None):
    from ..random import rng

    _check_inplace(self, "normal_")
    self._data[...] = mean + std * rng(generator).standard_normal(self.shape)
    self._vc[0] += 1
    return self


def _bernoulli_(self, p=0.5, generator=None):
    from ..random import rng

    _check_inplace(self, "bernoulli_")
    self._data[...] = rng(generator).random(self.shape) < p
    self._vc[0] += 1
    return self


def _format(self, spec: str) -> str:
    """f"{loss:.4f}" works on a 0-d tensor (its value), as in PyTorch."""
    if self._data.ndim == 0:
        return format(self._data.item(), spec)
    return object.__format__(self, spec) if spec else repr(self)


def _new_factory(make):
    """Tensor.new_zeros & co.: a new tensor with this one's dtype unless ``dtype`` is given."""

    def method(self, *args, dtype=None, device=None, requires_grad=False, **kw):
        return make(*args, dtype=self._data.dtype if dtype is None else dtype, requires_grad=requires_grad, **kw)

    return method


# ------------------------------------------------------------------ the table

_methods = {
    # arithmetic operators
    "__add__": _fast_add,
    "__radd__": lambda a, b: E.add(b, a),
    "__sub__": E.sub,
    "__rsub__": lambda a, b: E.sub(b, a),
    "__mul__": _fast_mul,
    "__rmul__": lambda a, b: E.mul(b, a),
    "__truediv__": E.div,
    "__rtruediv__": lambda a, b: E.div(b, a),
    "__floordiv__": E.floor_divide,
    "__rfloordiv__": lambda a, b: E.floor_divide(b, a),
    "__mod__": E.remainder,
    "__rmod__": lambda a, b: E.remainder(b, a),
    "__pow__": E.pow,
    "__rpow__": lambda a, b: E.pow(b, a),
    "__matmul__": L.matmul,
    "__rmatmul__": lambda a, b: L.matmul(b, a),
    "__neg__": E.neg,
    "__pos__": lambda a: a,
    "__abs__": E.abs,
    "__invert__": E.bitwise_not,
    "__and__": E.bitwise_and,
    "__or__": E.bitwise_or,
    "__xor__": E.bitwise_xor,
    "__rand__": lambda a, b: E.bitwise_and(b if isinstance(b, Tensor) else Tensor(b), a),
    "__ror__": lambda a, b: E.bitwise_or(b if isinstance(b, Tensor) else Tensor(b), a),
    "__eq__": E.eq,
    "__ne__": E.ne,
    "__lt__": E.lt,
    "__le__": E.le,
    "__gt__": E.gt,
    "__ge__": E.ge,
    "__getitem__": I.getitem,
    "__format__": _format,
    "__contains__": lambda self, element: bool((self == element).any()),
    "__setitem__": _setitem,
    # in-place
    "__iadd__": _arith_inplace("__iadd__", E.add, xp.add),
    "__isub__": _arith_inplace("__isub__", E.sub, xp.subtract),
    "__imul__": _arith_inplace("__imul__", E.mul, xp.multiply),
    "__itruediv__": _arith_inplace("__itruediv__", E.div, xp.true_divide),
    "add_": _arith_inplace("add_", E.add, xp.add),
    "sub_": _arith_inplace("sub_", E.sub, xp.subtract),
    "mul_": _arith_inplace("mul_", E.mul, xp.multiply),
    "div_": _arith_inplace("div_", E.div, xp.true_divide),
    "pow_": _simple_inplace("pow_", E.pow),
    "clamp_": _simple_inplace("clamp_", E.clamp),
    "clip_": _simple_inplace("clip_", E.clamp),
    "neg_": _simple_inplace("neg_", E.neg),
    "abs_": _simple_inplace("abs_", E.abs),
    "exp_": _simple_inplace("exp_", E.exp),
    "log_": _simple_inplace("log_", E.log),
    "sqrt_": _simple_inplace("sqrt_", E.sqrt),
    "relu_": _simple_inplace("relu_", E.relu),
    "sigmoid_": _simple_inplace("sigmoid_", E.sigmoid),
    "tanh_": _simple_inplace("tanh_", E.tanh),
    **{f"{n}_": _simple_inplace(f"{n}_", getattr(E, n)) for n in (
        "sign", "floor", "ceil", "round", "trunc", "square", "reciprocal", "sin", "cos", "tan", "atan", "rsqrt",
        "log1p", "expm1", "log2", "erf", "remainder", "fmod", "floor_divide", "maximum", "minimum")},
    "arctan_": _simple_inplace("arctan_", E.atan),
    "masked_fill_": _simple_inplace("masked_fill_", I.masked_fill),
    "scatter_add_": _simple_inplace("scatter_add_", I.scatter_add),
    "scatter_": _simple_inplace("scatter_", I.scatter),
    "copy_": _copy_,
    "fill_": _fill_,
    "zero_": lambda self: _fill_(self, 0),
    "uniform_": _uniform_,
    "normal_": _normal_,
    "bernoulli_": _bernoulli_,
    # arithmetic and math
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
    "divide": E.div, "true_divide": E.div, "floor_divide": E.floor_divide, "remainder": E.remainder,
    "fmod": E.fmod, "pow": E.pow, "neg": E.neg, "negative": E.neg, "abs": E.abs, "exp": E.exp,
    "log": E.log, "log2": E.log2, "log1p": E.log1p, "expm1": E.expm1, "sqrt": E.sqrt, "rsqrt": E.rsqrt,
    "square": E.square, "reciprocal": E.reciprocal, "sin": E.sin, "cos": E.cos, "tan": E.tan,
    "atan": E.atan, "arctan": E.atan, "tanh": E.tanh, "sigmoid": E.sigmoid, "relu": E.relu,
    "erf": E.erf, "sign": E.sign, "floor": E.floor, "ceil": E.ceil, "round": E.round, "trunc": E.trunc,
    "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum, "minimum": E.minimum,
    "where": lambda self, condition, other: E.where(condition, self, other),
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
    "logical_and": E.logical_and, "logical_or": E.logical_or, "logical_xor": E.logical_xor,
    "logical_not": E.logical_not, "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite,
    "isclose": E.isclose, "allclose": E.allclose, "equal": E.equal,
    "clone": E.clone, "to": _to, "type": _type,
    "float": _new_dtype(B.float32), "double": _new_dtype(B.float64), "half": _new_dtype(B.float16),
    "long": _new_dtype(B.int64), "int": _new_dtype(B.int32), "short": _new_dtype(B.int16),
    "bool": _new_dtype(B.bool_), "byte": _new_dtype(B.uint8),
    "cpu": lambda self: self,
    "contiguous": lambda self: self if self._data.flags.c_contiguous else E.clone(self),
    # reductions
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
    "amax": R.amax, "amin": R.amin, "argmax": R.argmax, "argmin": R.argmin, "prod": R.prod,
    "logsumexp": R.logsumexp, "norm": R.norm, "cumsum": R.cumsum, "softmax": R.softmax,
    "log_softmax": R.log_softmax, "all": R.all, "any": R.any, "count_nonzero": R.count_nonzero,
    # shape
    "reshape": S.reshape, "view": S.view, "flatten": S.flatten, "unflatten": S.unflatten,
    "squeeze": S.squeeze, "unsqueeze": S.unsqueeze, "permute": S.permute, "transpose": S.transpose,
    "swapaxes": S.transpose, "swapdims": S.transpose, "t": S.t, "movedim": S.movedim,
    "expand": E.expand, "expand_as": lambda self, other: E.broadcast_to(self, other.shape),
    "broadcast_to": E.broadcast_to, "view_as": lambda self, other: S.reshape(self, other.shape),
    "reshape_as": lambda self, other: S.reshape(self, other.shape),
    "repeat": S.repeat, "tile": S.tile, "flip": S.flip, "roll": S.roll, "split": S.split,
    "chunk": S.chunk, "unbind": S.unbind, "narrow": S.narrow, "select": S.select,
    "tril": S.tril, "triu": S.triu,
    # indexing
    "gather": I.gather, "scatter_add": I.scatter_add, "scatter": I.scatter,
    "index_select": I.index_select, "masked_fill": I.masked_fill, "masked_select": I.masked_select,
    "take_along_dim": I.take_along_dim, "sort": I.sort, "argsort": I.argsort, "topk": I.topk, "nonzero": I.nonzero, "take": I.take,
    # linear algebra
    "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot, "outer": L.outer,
    # creation in this tensor's dtype
    "new_zeros": _new_factory(C.zeros), "new_ones": _new_factory(C.ones), "new_empty": _new_factory(C.empty),
    "new_full": _new_factory(C.full), "new_tensor": _new_factory(C.tensor),
}

for _name, _f in _methods.items():
    setattr(Tensor, _name, _f)



def _T(self):
    n = self._data.ndim
    if n == 2:  # the common case (x @ W.T) skips permute's argument checks
        return S.Permute.apply(self, dims=(1, 0))
    return S.permute(self, tuple(range(n))[::-1]) if n > 2 else self


def _mT(self):
    if self._data.ndim == 2:
        return S.Permute.apply(self, dims=(1, 0))
    return S.transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
