"""Tensor methods and operators from ``shenjing.ops``: one table, PyTorch's names, bound to the
class by :func:`bind_tensor_methods` (called once by ``shenjing/__init__.py``)."""

from __future__ import annotations

from .. import backend as B
from .. import creation as C
from ..backend import xp
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import linalg as L
from ..ops import matrix as M
from ..ops import order as O
from ..ops import reduce as R
from ..ops import shape as S
from . import inplace as P
from .engine import run_backward
from .tensor import Tensor


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
    """to(dtype) / to(other) / to('cpu'), then ``non_blocking`` and ``copy`` (a new tensor even when nothing
    changes); a device must be the CPU (no GPU backend: 'cuda' is refused)."""
    from ..device import check_device, is_device

    dtype = kwargs.get("dtype")
    if kwargs.get("device") is not None:
        check_device(kwargs["device"], "Tensor.to")
    flags = [a for a in args if isinstance(a, bool)]  # (non_blocking, copy)
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif is_device(a) or isinstance(a, str):
            check_device(a, "Tensor.to")
        elif a is not None and not isinstance(a, bool):
            dtype = a
    out = self if dtype is None else E.to_dtype(self, dtype)
    return E.clone(out) if out is self and kwargs.get("copy", len(flags) > 1 and flags[1]) else out


def _cuda(self, device=None, non_blocking: bool = False):
    """Refused: shenjing has no GPU backend."""
    from ..device import check_device

    check_device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}", "Tensor.cuda")


#: the legacy tensor type names (``x.type()``: 'shenjing.FloatTensor', as torch's 'torch.FloatTensor')
TYPE_NAMES = {B.bool_: "BoolTensor", B.uint8: "ByteTensor", B.int8: "CharTensor", B.int16: "ShortTensor", B.int32: "IntTensor",
              B.int64: "LongTensor", B.float16: "HalfTensor", B.float32: "FloatTensor", B.float64: "DoubleTensor",
              B.complex64: "ComplexFloatTensor", B.complex128: "ComplexDoubleTensor"}
_TYPE_DTYPES = {name: dt for dt, name in TYPE_NAMES.items()}


def _type(self, dtype=None, non_blocking: bool = False):
    """No argument: the type name ('shenjing.FloatTensor'); else ``to(dtype)``, the dtype also given by
    such a name ('shenjing.DoubleTensor', or torch's 'torch.DoubleTensor')."""
    if dtype is None:
        return f"shenjing.{TYPE_NAMES[self.dtype]}"
    if isinstance(dtype, str):
        if ".cuda." in dtype:
            from ..device import check_device

            check_device("cuda", f"Tensor.type({dtype!r})")
        name = dtype.split(".", 1)[1] if dtype.startswith(("shenjing.", "torch.")) else None
        if name not in _TYPE_DTYPES:
            raise ValueError(f"type: invalid type: {dtype!r} (a name such as 'shenjing.FloatTensor', or a dtype)")
        dtype = _TYPE_DTYPES[name]
    return E.to_dtype(self, dtype)


def _new_dtype(dt):
    return lambda self: E.to_dtype(self, dt)


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
    "__setitem__": P.setitem,
    # in-place
    "__iadd__": P.arith_inplace("__iadd__", E.add, xp.add),
    "__isub__": P.arith_inplace("__isub__", E.sub, xp.subtract),
    "__imul__": P.arith_inplace("__imul__", E.mul, xp.multiply),
    "__itruediv__": P.arith_inplace("__itruediv__", E.div, xp.true_divide),
    "add_": P.arith_inplace("add_", E.add, xp.add),
    "sub_": P.arith_inplace("sub_", E.sub, xp.subtract),
    "mul_": P.arith_inplace("mul_", E.mul, xp.multiply),
    "div_": P.arith_inplace("div_", E.div, xp.true_divide),
    "pow_": P.simple_inplace("pow_", E.pow),
    "clamp_": P.simple_inplace("clamp_", E.clamp),
    "clip_": P.simple_inplace("clip_", E.clamp),
    "neg_": P.simple_inplace("neg_", E.neg),
    "abs_": P.simple_inplace("abs_", E.abs),
    "exp_": P.simple_inplace("exp_", E.exp),
    "log_": P.simple_inplace("log_", E.log),
    "sqrt_": P.simple_inplace("sqrt_", E.sqrt),
    "relu_": P.simple_inplace("relu_", E.relu),
    "sigmoid_": P.simple_inplace("sigmoid_", E.sigmoid),
    "tanh_": P.simple_inplace("tanh_", E.tanh),
    **{f"{n}_": P.simple_inplace(f"{n}_", getattr(E, n)) for n in (
        "sign", "floor", "ceil", "round", "trunc", "square", "reciprocal", "sin", "cos", "tan", "atan", "rsqrt",
        "log1p", "expm1", "log2", "erf", "asin", "arcsin", "acos", "arccos", "sinh", "cosh", "exp2", "log10",
        "remainder", "fmod", "floor_divide", "maximum", "minimum", "atan2", "arctan2", "hypot", "xlogy", "copysign", "lerp",
        "frac", "sinc", "nan_to_num", "bitwise_left_shift", "bitwise_right_shift")},
    "arctan_": P.simple_inplace("arctan_", E.atan),
    **{f"{m}_": P.simple_inplace(f"{m}_", f) for n, f in E.NO_INPLACE_DERIVATIVE.items() for m in (n, "arc" + n[1:])},
    "masked_fill_": P.simple_inplace("masked_fill_", I.masked_fill),
    "scatter_add_": P.simple_inplace("scatter_add_", I.scatter_add),
    "scatter_": P.simple_inplace("scatter_", I.scatter),
    **{f"{n}_": P.simple_inplace(f"{n}_", getattr(I, n)) for n in ("index_add", "index_copy", "index_fill", "scatter_reduce", "masked_scatter")},
    "addmm_": P.simple_inplace("addmm_", L.addmm),
    "baddbmm_": P.simple_inplace("baddbmm_", L.baddbmm),
    "copy_": P.copy_,
    "fill_": P.fill_,
    "zero_": lambda self: P.fill_(self, 0),
    "uniform_": P.uniform_,
    "normal_": P.normal_,
    "bernoulli_": P.bernoulli_,
    # arithmetic and math
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
    "divide": E.div, "true_divide": E.div, "floor_divide": E.floor_divide, "remainder": E.remainder,
    "fmod": E.fmod, "pow": E.pow, "neg": E.neg, "negative": E.neg, "abs": E.abs, "exp": E.exp,
    "log": E.log, "log2": E.log2, "log1p": E.log1p, "expm1": E.expm1, "sqrt": E.sqrt, "rsqrt": E.rsqrt,
    "square": E.square, "reciprocal": E.reciprocal, "sin": E.sin, "cos": E.cos, "tan": E.tan,
    **{n: getattr(E, n) for n in (
        "asin", "arcsin", "acos", "arccos", "sinh", "cosh", "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "exp2", "log10",
        "atan2", "arctan2", "hypot", "logaddexp", "xlogy", "copysign", "lerp", "frac", "sinc", "nan_to_num",
        "bitwise_left_shift", "bitwise_right_shift")},
    "__lshift__": E.bitwise_left_shift, "__rshift__": E.bitwise_right_shift,
    "atan": E.atan, "arctan": E.atan, "tanh": E.tanh, "sigmoid": E.sigmoid, "relu": E.relu,
    "erf": E.erf, "sign": E.sign, "floor": E.floor, "ceil": E.ceil, "round": E.round, "trunc": E.trunc,
    "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum, "minimum": E.minimum,
    "where": lambda self, condition, other: E.where(condition, self, other),
    "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
    "logical_and": E.logical_and, "logical_or": E.logical_or, "logical_xor": E.logical_xor,
    "bitwise_and": E.bitwise_and, "bitwise_or": E.bitwise_or, "bitwise_xor": E.bitwise_xor, "bitwise_not": E.bitwise_not,
    "logical_not": E.logical_not, "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite,
    "isclose": E.isclose, "allclose": E.allclose, "equal": E.equal,
    "clone": E.clone, "to": _to, "type": _type,
    "float": _new_dtype(B.float32), "double": _new_dtype(B.float64), "half": _new_dtype(B.float16),
    "long": _new_dtype(B.int64), "int": _new_dtype(B.int32), "short": _new_dtype(B.int16),
    "bool": _new_dtype(B.bool_), "byte": _new_dtype(B.uint8), "char": _new_dtype(B.int8),
    "cpu": lambda self: self,
    "cuda": _cuda,
    "contiguous": lambda self: self if self._data.flags.c_contiguous else E.clone(self),
    # reductions
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "max": R.max, "min": R.min,
    "amax": R.amax, "amin": R.amin, "argmax": R.argmax, "argmin": R.argmin, "prod": R.prod,
    "logsumexp": R.logsumexp, "norm": M.norm, "cumsum": R.cumsum, "softmax": R.softmax,
    "log_softmax": R.log_softmax, "all": R.all, "any": R.any, "count_nonzero": R.count_nonzero, "dist": R.dist,
    "nansum": R.nansum, "nanmean": R.nanmean, "aminmax": R.aminmax,
    **{n: getattr(O, n) for n in ("cumprod", "logcumsumexp", "cummax", "cummin", "median", "mode", "quantile", "nanquantile")},
    "cumprod_": P.simple_inplace("cumprod_", O.cumprod),
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
    **{n: getattr(S, n) for n in (
        "diag", "diagonal", "diag_embed", "trace", "repeat_interleave", "tensor_split", "hsplit", "vsplit", "dsplit", "rot90", "diff",
        "unfold")},
    # indexing
    "gather": I.gather, "scatter_add": I.scatter_add, "scatter": I.scatter,
    "index_select": I.index_select, "masked_fill": I.masked_fill, "masked_select": I.masked_select,
    "take_along_dim": I.take_along_dim, "kthvalue": I.kthvalue, "unique": I.unique,
    "sort": I.sort, "argsort": I.argsort, "topk": I.topk, "nonzero": I.nonzero, "take": I.take,
    **{n: getattr(I, n) for n in ("index_add", "index_copy", "index_fill", "scatter_reduce", "masked_scatter")},
    # linear algebra
    "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot, "outer": L.outer,
    "cross": L.cross, "kron": L.kron, "addmm": L.addmm, "baddbmm": L.baddbmm,
    "det": M.det, "inverse": M.inv, "slogdet": M.slogdet,
    # creation in this tensor's dtype
    "new_zeros": _new_factory(C.zeros), "new_ones": _new_factory(C.ones), "new_empty": _new_factory(C.empty),
    "new_full": _new_factory(C.full), "new_tensor": _new_factory(C.tensor),
}

def _backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (反向传播, Zhao §3)."""
    run_backward((self,), (gradient,), retain_graph, create_graph, inputs=inputs)


def _T(self):
    n = self._data.ndim
    if n == 2:  # the common case (x @ W.T) skips permute's argument checks
        return S.Permute.apply(self, dims=(1, 0))
    return S.permute(self, tuple(range(n))[::-1]) if n > 2 else self


def _mT(self):
    if self._data.ndim == 2:
        return S.Permute.apply(self, dims=(1, 0))
    return S.transpose(self, -2, -1)


def _mH(self):
    """The conjugate transpose of the matrices; for the real dtypes (shenjing differentiates only those) it is ``mT``."""
    if self._data.dtype.kind == "c":
        raise NotImplementedError(f"mH: complex tensors are not supported (dtype {self.dtype}, shape {tuple(self.shape)})")
    return _mT(self)


def bind_tensor_methods() -> None:
    """Attach the operators, the math methods, ``backward`` and ``T``/``mT``/``mH`` to :class:`Tensor`."""
    for name, f in _methods.items():
        setattr(Tensor, name, f)
    Tensor.backward = _backward
    Tensor.T = property(_T)
    Tensor.mT = property(_mT)
    Tensor.mH = property(_mH)
