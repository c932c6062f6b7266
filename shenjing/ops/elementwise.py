"""Elementwise operations (逐元素运算) with broadcasting and PyTorch's type promotion.

Each binary op reduces its gradients back to the shape of each input (``sum_to``), so that
``b`` of shape (3,) added to ``x`` of shape (2, 3) receives Σ over the broadcast axis.
"""

from __future__ import annotations

import math

from .. import backend as B
from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Tensor
from ..backend import xp

# ---------------------------------------------------------------- helpers


def _const(value, dtype) -> Tensor:
    try:
        return Tensor._make(xp.asarray(value, dtype=dtype))
    except OverflowError:  # e.g. uint8 tensor + (-3): wraps around, as in PyTorch
        return Tensor._make(xp.asarray(value).astype(dtype))


def binary_operands(a, b, true_div: bool = False) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of PyTorch's result dtype (a Python scalar or array becomes a
    constant). ``true_div`` promotes integers to the default float, as ``/`` does."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb and a._data.dtype == b._data.dtype and (not true_div or a._data.dtype.kind in "fc"):
        return a, b
    if not ta and not isinstance(a, (int, float, bool, complex)):
        a, ta = Tensor(a), True
    if not tb and not isinstance(b, (int, float, bool, complex)):
        b, tb = Tensor(b), True
    dt = B.result_type(a, b)
    if true_div and dt.kind not in "fc":
        dt = B.get_default_dtype()
    a = (a if a._data.dtype == dt else a.to(dt)) if ta else _const(a, dt)
    b = (b if b._data.dtype == dt else b.to(dt)) if tb else _const(b, dt)
    return a, b


def _sum_to(a, shape):
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1)
    r = a.sum(axis=axes, keepdims=True)
    return r.reshape(shape)


class SumTo(Function):
    """Σ over broadcast axes: the adjoint of broadcasting."""

    saves_inputs = False

    def forward(self, a, shape):
        self.in_shape = a.shape
        return _sum_to(a, shape)

    def backward(self, g):
        return broadcast_to(g, self.in_shape)


class BroadcastTo(Function):
    """``expand`` / ``broadcast_to``: a read-only view; backward sums over the new axes."""

    saves_inputs = False
    is_view = True

    def forward(self, a, shape):
        self.in_shape = a.shape
        return xp.broadcast_to(a, shape)

    def backward(self, g):
        return sum_to(g, self.in_shape)


def sum_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    return x if x._data.shape == shape else SumTo.apply(x, shape=shape)


def broadcast_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    return x if x._data.shape == shape else BroadcastTo.apply(x, shape=shape)


def expand(x: Tensor, *sizes) -> Tensor:
    """torch.Tensor.expand: -1 keeps a size; new dimensions go in front."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i in range(x.ndim):
        if x.shape[i] != 1 and x.shape[i] != shape[i + lead]:
            raise ShapeError(
                f"expand: the expanded size of the tensor ({shape[i + lead]}) must match the existing "
                f"size ({x.shape[i]}) at non-singleton dimension {i + lead}. Target sizes: {list(sizes)}. "
                f"Tensor sizes: {list(x.shape)}"
            )
    return broadcast_to(x, shape)


def _bshape(a: Tensor, b: Tensor, op: str):
    try:
        return xp.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together"
        ) from None


# ---------------------------------------------------------------- arithmetic


class Add(Function):
    saves_inputs = False

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        a, b = self.inputs
        return (sum_to(g, a._data.shape) if a.requires_grad else None,
                sum_to(g, b._data.shape) if b.requires_grad else None)


class Sub(Function):
    saves_inputs = False

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        a, b = self.inputs
        return sum_to(g, a.shape), (sum_to(-g, b.shape) if b.requires_grad else None)


def _check_cross(fn) -> None:
    """Version check of a product-like node: a factor's value is needed only for the other
    factor's gradient (PyTorch saves ``a`` only when ``b`` requires grad)."""
    a, b = fn.inputs
    if (b.requires_grad and a._vc[0] != fn.versions[0]) or (a.requires_grad and b._vc[0] != fn.versions[1]):
        Function.check_versions(fn)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    check_versions = _check_cross

    def backward(self, g):
        a, b = self.inputs
        return (sum_to(g * b, a.shape) if a.requires_grad else None,
                sum_to(g * a, b.shape) if b.requires_grad else None)


class Div(Function):
    def forward(self, a, b):
        return a / b

    def check_versions(self) -> None:
        a, b = self.inputs  # ∂a needs b; ∂b needs a and b
        if (b.requires_grad and a._vc[0] != self.versions[0]) or b._vc[0] != self.versions[1]:
            Function.check_versions(self)

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g / b, a.shape) if a.requires_grad else None
        gb = sum_to(-g * a / (b * b), b.shape) if b.requires_grad else None
        return ga, gb


class Pow(Function):
    """a ** b; d/da = b a^(b−1), d/db = a^b log a (0 where a = 0, as PyTorch)."""

    def forward(self, a, b):
        r = a**b
        return r if r.dtype == a.dtype else r.astype(a.dtype)  # bool ** bool stays bool

    def backward(self, g):
        a, b = self.inputs
        ga = gb = None
        if a.requires_grad:
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
            ga = sum_to(ga, a.shape)
        if b.requires_grad:
            safe = where(a == 0, 1.0, a)
            gb = sum_to(where(a == 0, 0.0, g * self.output * safe.log()), b.shape)
        return ga, gb

    saves_output = True


class Remainder(Function):
    """Python-style modulus (sign of the divisor): a − b⌊a/b⌋."""

    def forward(self, a, b):
        return xp.remainder(a, b)

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if a.requires_grad else None
        gb = sum_to(-g * (a / b).floor(), b.shape) if b.requires_grad else None
        return ga, gb


class Maximum(Function):
    """Gradient to the larger input; split evenly on ties (as PyTorch)."""

    saves_inputs = False  # backward reads the weights made in forward, not the inputs

    def forward(self, a, b):
        self.wa = (a > b) + 0.5 * (a == b)
        return xp.maximum(a, b)

    def backward(self, g):
        a, b = self.inputs
        wa = _const(self.wa, g.dtype)
        return (sum_to(g * wa, a.shape) if a.requires_grad else None,
                sum_to(g * (1 - wa), b.shape) if b.requires_grad else None)


class Minimum(Maximum):
    def forward(self, a, b):
        self.wa = (a < b) + 0.5 * (a == b)
        return xp.minimum(a, b)


class Where(Function):
    """where(cond, a, b); ``cond`` is a constant bool tensor (input 0)."""

    saves_inputs = False

    def forward(self, c, a, b):
        return xp.where(c, a, b)

    def backward(self, g):
        c, a, b = self.inputs
        zero = _const(0, g.dtype)
        return (None,
                sum_to(where(c, g, zero), a.shape) if a.requires_grad else None,
                sum_to(where(c, zero, g), b.shape) if b.requires_grad else None)


def where(condition, input=None, other=None) -> Tensor:
    """torch.where(condition, input, other); with one argument, the indices where it is true."""
    if input is None and other is None:
        return tuple(Tensor._make(i) for i in xp.nonzero(_arr(condition)))
    c = condition if isinstance(condition, Tensor) else Tensor(condition)
    if c._data.dtype != B.bool_:
        c = Tensor._make(c._data.astype(bool))
    a, b = binary_operands(input, other)
    return Where.apply(c, a, b)


def _arr(x):
    return x._data if isinstance(x, Tensor) else xp.asarray(x)


def add(input, other, alpha=1) -> Tensor:
    if alpha != 1:
        other = other * alpha
    a, b = binary_operands(input, other)
    return Add.apply(a, b)


def _no_bool(op: str, a: Tensor, b: Tensor) -> None:
    if a._data.dtype == B.bool_ or b._data.dtype == B.bool_:
        raise RuntimeError(
            f"{op}: not supported for bool operands (shapes {tuple(a.shape)} and {tuple(b.shape)}, "
            f"dtypes {a.dtype} and {b.dtype}); use logical_xor() or ~ for masks"
        )


def sub(input, other, alpha=1) -> Tensor:
    if isinstance(input, bool) or isinstance(other, bool) or (isinstance(input, Tensor) and input._data.dtype == B.bool_) or (
        isinstance(other, Tensor) and other._data.dtype == B.bool_
    ):
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with a bool tensor is not supported; "
            "use the `~` or logical_not() operator to invert a mask"
        )
    if alpha != 1:
        other = other * alpha
    a, b = binary_operands(input, other)
    return Sub.apply(a, b)


def mul(input, other) -> Tensor:
    a, b = binary_operands(input, other)
    return Mul.apply(a, b)


def div(input, other, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = binary_operands(input, other)
        if a._data.dtype.kind in "iub":
            return Tensor._make(xp.asarray(xp.trunc(a._data / b._data)).astype(a._data.dtype))
        return div(a, b).trunc()
    if rounding_mode is not None:
        raise ValueError(f"div: expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    a, b = binary_operands(input, other, true_div=True)
    return Div.apply(a, b)


def pow(input, exponent) -> Tensor:
    a, b = binary_operands(input, exponent)
    neg = exponent < 0 if isinstance(exponent, int) else (b._data < 0).any()
    if a._data.dtype.kind in "iu" and b._data.dtype.kind in "iu" and neg:
        raise RuntimeError(f"pow: Integers to negative integer powers are not allowed (shapes {tuple(a.shape)} and {tuple(b.shape)}).")
    return Pow.apply(a, b)


def remainder(input, other) -> Tensor:
    a, b = binary_operands(input, other)
    _no_bool("remainder", a, b)
    return Remainder.apply(a, b)


def fmod(input, other) -> Tensor:
    """C-style remainder (sign of the dividend): a − b·trunc(a/b)."""
    a, b = binary_operands(input, other)
    _no_bool("fmod", a, b)
    if a._data.dtype.kind in "fc":
        return a - b * (a / b).trunc()
    return Tensor._make(xp.fmod(a._data, b._data))


def floor_divide(input, other) -> Tensor:
    """⌊a/b⌋ (no gradient, as PyTorch)."""
    a, b = binary_operands(input, other)
    _no_bool("floor_divide", a, b)
    return Tensor._make(xp.asarray(xp.floor_divide(a._data, b._data)))


def maximum(input, other) -> Tensor:
    a, b = binary_operands(input, other)
    return Maximum.apply(a, b)


def minimum(input, other) -> Tensor:
    a, b = binary_operands(input, other)
    return Minimum.apply(a, b)


# ---------------------------------------------------------------- unary


class Neg(Function):
    saves_inputs = False

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Abs(Function):
    def forward(self, a):
        return xp.abs(a)

    def backward(self, g):
        return g * self.inputs[0].sign()


class Exp(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return xp.exp(a)

    def backward(self, g):
        return g * self.output


class Log(Function):
    def forward(self, a):
        return xp.log(a)

    def backward(self, g):
        return g / self.inputs[0]


class Log2(Function):
    def forward(self, a):
        return xp.log2(a)

    def backward(self, g):
        return g / (self.inputs[0] * math.log(2.0))


class Log1p(Function):
    def forward(self, a):
        return xp.log1p(a)

    def backward(self, g):
        return g / (self.inputs[0] + 1)


class Expm1(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return xp.expm1(a)

    def backward(self, g):
        return g * (self.output + 1)


class Sqrt(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return xp.sqrt(a)

    def backward(self, g):
        return g / (2 * self.output)


class Rsqrt(Function):
    """1/√a; d/da = −½ a^(−3/2) = −½ out³."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return 1 / xp.sqrt(a)

    def backward(self, g):
        out = self.output
        return -0.5 * g * out * out * out


class Reciprocal(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return 1 / a

    def backward(self, g):
        out = self.output
        return -g * out * out


class Sin(Function):
    def forward(self, a):
        return xp.sin(a)

    def backward(self, g):
        return g * self.inputs[0].cos()


class Cos(Function):
    def forward(self, a):
        return xp.cos(a)

    def backward(self, g):
        return -g * self.inputs[0].sin()


class Tan(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return xp.tan(a)

    def backward(self, g):
        out = self.output
        return g * (1 + out * out)


class Atan(Function):
    """arctan; d/dz = 1/(1+z²) (Xu Fig 1.8's arctan activation)."""

    def forward(self, a):
        return xp.arctan(a)

    def backward(self, g):
        a = self.inputs[0]
        return g / (1 + a * a)


class Tanh(Function):
    """tanh; d/dz = 1 − tanh²z."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return xp.tanh(a)

    def backward(self, g):
        out = self.output
        return g * (1 - out * out)


class Sigmoid(Function):
    """σ(z) = 1/(1+e^(−z)) (logistic, 逻辑函数); σ′ = σ(1−σ)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return B.special().expit(a)

    def backward(self, g):
        out = self.output
        return g * out * (1 - out)


class Relu(Function):
    """ReLU(z) = max(0, z) (线性整流); gradient 1 for z > 0, else 0."""

    def forward(self, a):
        return xp.maximum(a, 0)

    def backward(self, g):
        # g · 1[z > 0] with the mask as a constant bool tensor: one multiply, no cast to float
        # (the mask has gradient 0, so this stays exact under double backward).
        return Mul.apply(g, Tensor._make(self.inputs[0]._data > 0))


class Erf(Function):
    def forward(self, a):
        return B.special().erf(a)

    def backward(self, g):
        a = self.inputs[0]
        return g * (2 / math.sqrt(math.pi)) * (-(a * a)).exp()


class Clamp(Function):
    """clamp(min, max); gradient passes where min ≤ x ≤ max (as PyTorch)."""

    def forward(self, a, min=None, max=None):
        self.lo, self.hi = min, max
        return xp.clip(a, min, max)

    def backward(self, g):
        a = self.inputs[0]
        mask = None
        if self.lo is not None:
            mask = a >= self.lo
        if self.hi is not None:
            m = a <= self.hi
            mask = m if mask is None else mask & m
        return g if mask is None else g * mask


class Cast(Function):
    """``to(dtype)``; the gradient is cast back to the input's dtype."""

    saves_inputs = False

    def forward(self, a, dtype):
        return a.astype(dtype)

    def backward(self, g):
        return g.to(self.inputs[0].dtype)


class Clone(Function):
    saves_inputs = False

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


class _ZeroGrad(Function):
    """Piecewise-constant functions (sign, floor, ceil, round, trunc): gradient 0 everywhere."""

    saves_inputs = False

    def backward(self, g):
        return g * 0


class Sign(_ZeroGrad):
    def forward(self, a):
        return xp.sign(a)


class Floor(_ZeroGrad):
    def forward(self, a):
        return xp.floor(a)


class Ceil(_ZeroGrad):
    def forward(self, a):
        return xp.ceil(a)


class Round(_ZeroGrad):
    def forward(self, a, decimals=0):
        return xp.round(a, decimals)


class Trunc(_ZeroGrad):
    def forward(self, a):
        return xp.trunc(a)


def _float_unary(cls):
    """Unary math on an integer tensor runs in the default float dtype (as PyTorch)."""

    def op(input: Tensor) -> Tensor:
        if input._data.dtype.kind not in "fc":
            input = input.to(B.get_default_dtype())
        return cls.apply(input)

    op.__name__ = cls.__name__.lower()
    op.__doc__ = cls.__doc__
    return op


exp = _float_unary(Exp)
log = _float_unary(Log)
log2 = _float_unary(Log2)
log1p = _float_unary(Log1p)
expm1 = _float_unary(Expm1)
sqrt = _float_unary(Sqrt)
rsqrt = _float_unary(Rsqrt)
reciprocal = _float_unary(Reciprocal)
sin = _float_unary(Sin)
cos = _float_unary(Cos)
tan = _float_unary(Tan)
atan = arctan = _float_unary(Atan)
tanh = _float_unary(Tanh)
sigmoid = _float_unary(Sigmoid)
erf = _float_unary(Erf)


def neg(input: Tensor) -> Tensor:
    if input._data.dtype == B.bool_:
        raise TypeError("neg: negation, the `-` operator, on a bool tensor is not supported; use ~ or logical_not()")
    return Neg.apply(input)


def abs(input: Tensor) -> Tensor:
    if input._data.dtype == B.bool_:
        raise RuntimeError("abs: not implemented for bool tensors")
    return Abs.apply(input)


def relu(input: Tensor) -> Tensor:
    return Relu.apply(input)


def sign(input: Tensor) -> Tensor:
    return Sign.apply(input)


def floor(input: Tensor) -> Tensor:
    return input if input._data.dtype.kind in "iub" else Floor.apply(input)


def ceil(input: Tensor) -> Tensor:
    return input if input._data.dtype.kind in "iub" else Ceil.apply(input)


def trunc(input: Tensor) -> Tensor:
    return input if input._data.dtype.kind in "iub" else Trunc.apply(input)


def round(input: Tensor, decimals: int = 0) -> Tensor:
    return input if input._data.dtype.kind in "iub" else Round.apply(input, decimals=decimals)


def square(input: Tensor) -> Tensor:
    """x² (written as x·x, so both factors carry the gradient: 2x)."""
    return input * input


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    dt = B.result_type(*(v for v in (input, min, max) if v is not None))
    if dt != input._data.dtype:  # an int tensor clamped to a float bound becomes float
        input = input.to(dt)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp.apply(input, min=min, max=max)


clip = clamp


def to_dtype(input: Tensor, dtype) -> Tensor:
    dtype = xp.dtype(dtype)
    if input._data.dtype == dtype:
        return input
    if input.requires_grad and dtype.kind not in "fc":
        return Tensor._make(input._data.astype(dtype))  # integer results carry no gradient
    return Cast.apply(input, dtype=dtype)


def clone(input: Tensor) -> Tensor:
    return Clone.apply(input)


# ---------------------------------------------------------------- comparisons and logic (no grad)


def _compare(ufunc):
    def op(input, other) -> Tensor:
        if isinstance(other, Tensor):
            a, b = binary_operands(input, other)
            return Tensor._make(xp.asarray(ufunc(a._data, b._data)))
        return Tensor._make(xp.asarray(ufunc(input._data, other)))

    op.__name__ = ufunc.__name__
    return op


eq = _compare(xp.equal)
ne = _compare(xp.not_equal)
lt = _compare(xp.less)
le = _compare(xp.less_equal)
gt = _compare(xp.greater)
ge = _compare(xp.greater_equal)
logical_and = _compare(xp.logical_and)
logical_or = _compare(xp.logical_or)
logical_xor = _compare(xp.logical_xor)
bitwise_and = _compare(xp.bitwise_and)
bitwise_or = _compare(xp.bitwise_or)
bitwise_xor = _compare(xp.bitwise_xor)


def logical_not(input: Tensor) -> Tensor:
    return Tensor._make(xp.logical_not(input._data))


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind == "f":
        raise TypeError("bitwise_not: only integral and boolean tensors are supported")
    return Tensor._make(xp.invert(input._data))


def isnan(input: Tensor) -> Tensor:
    return Tensor._make(xp.isnan(input._data))


def isinf(input: Tensor) -> Tensor:
    return Tensor._make(xp.isinf(input._data))


def isfinite(input: Tensor) -> Tensor:
    return Tensor._make(xp.isfinite(input._data))


def isclose(input: Tensor, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    return Tensor._make(xp.isclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Tensor, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(xp.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())
