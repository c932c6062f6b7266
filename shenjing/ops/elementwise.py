"""Elementwise operations (逐元素运算) with broadcasting and PyTorch's type promotion.

Every differentiable elementwise op is one row of the table below: its forward on arrays and one
derivative rule per input, written with Tensor ops (so gradients can be differentiated again). The
engine sums each gradient back to its input's shape (broadcasting's adjoint) and runs a rule only
when that input needs a gradient.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

from .. import backend as B
from ..autograd.broadcast import broadcast_to, sum_to  # noqa: F401  (re-exported)
from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Tensor
from ..backend import xp

# ---------------------------------------------------------------- helpers


def const(value, dtype) -> Tensor:
    """A constant tensor (no gradient) of ``dtype``; a number beyond its range is ±inf, silently (x * 1e300 on float32)."""
    quiet = B.quiet_fp()  # inline, not ``B.quietly``: every scalar operand passes here, and the wrapper's call costs more than the switch
    try:
        return Tensor._make(xp.asarray(value, dtype=dtype))
    except OverflowError:  # e.g. uint8 tensor + (-3): wraps around, as in PyTorch
        return Tensor._make(xp.asarray(value).astype(dtype))
    finally:
        B.restore_fp(quiet)


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
    a = (a if a._data.dtype == dt else a.to(dt)) if ta else const(a, dt)
    b = (b if b._data.dtype == dt else b.to(dt)) if tb else const(b, dt)
    return a, b


def check_same_dtype(op: str, *tensors) -> None:
    """RuntimeError naming ``op`` unless the given tensors (None skipped) share one dtype."""
    dts = {t._data.dtype for t in tensors if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: expected all tensors to have the same dtype, got {', '.join(str(t.dtype) for t in tensors if t is not None)}")


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


# ---------------------------------------------------------------- the table


class Elementwise(Function):
    """An op of the table: ``f`` on arrays forward; backward, input i's gradient is ``rules[i]``.

    A rule's parameters say what it reads: ``g`` (the output's gradient, always first), the inputs
    by their names in ``args`` (``x``; ``a``, ``b``; ``c``, ``a``, ``b``), ``y`` (the output) and
    forward's keyword arguments by name. The engine checks in-place changes of exactly the inputs
    and output that a needed rule reads (``reads``)."""

    f: Callable
    calls: tuple  # per input: call(node, g) → the input's gradient, or None (no gradient, e.g. a condition)

    def forward(self, *arrays, **kw):  # (rows without keywords get a plain forward(self, a, b): see op)
        if kw:
            self.kw = kw
        return self.f(*arrays, **kw)

    def backward(self, g):
        calls = self.calls
        if len(calls) == 1:
            return None if calls[0] is None else calls[0](self, g)
        return tuple([None if c is None or not need else c(self, g) for c, need in zip(calls, self.needs_input_grad)])


def _caller(rule: Callable, keys: tuple, n: int) -> Callable:
    """call(node, g) = rule(g, *what its parameters name), with the common cases spelled out (hot path)."""
    if not keys:
        return lambda fn, g: rule(g)
    if len(keys) == 1 and type(keys[0]) is int:
        k = keys[0]
        return (lambda fn, g: rule(g, fn.output)) if k == n else (lambda fn, g: rule(g, fn.inputs[k]))
    if keys == (0, 1):
        return lambda fn, g: rule(g, fn.inputs[0], fn.inputs[1])
    return lambda fn, g: rule(g, *[(fn.output if k == n else fn.inputs[k]) if type(k) is int else fn.kw[k] for k in keys])


def op(name: str, f: Callable, *rules, args: str = "", doc: str = "") -> type[Elementwise]:
    """A row of the table: the Function class ``name`` computing ``f`` with one rule per input."""
    names = tuple(args or ("x" if len(rules) == 1 else "ab"))
    calls, reads = [], []
    for rule in rules:
        params = [] if rule is None else list(inspect.signature(rule).parameters)[1:]  # after g
        keys = tuple(len(names) if p == "y" else names.index(p) if p in names else p for p in params)
        calls.append(None if rule is None else _caller(rule, keys, len(names)))
        reads.append(tuple("out" if p == "y" else names.index(p) for p in params if p == "y" or p in names))
    body = {
        "f": staticmethod(f), "calls": tuple(calls), "reads": tuple(reads), "__doc__": doc or f"{name}, elementwise.",
        "saves_inputs": any(r != "out" for rs in reads for r in rs), "saves_output": any("out" in rs for rs in reads),
        "__module__": __name__,
    }
    if len(inspect.signature(f).parameters) == len(names) if not isinstance(f, xp.ufunc) else True:
        # no keyword arguments: a forward without the *args/**kw packing (every op's hot path)
        body["forward"] = (lambda self, a: f(a)) if len(names) == 1 else (lambda self, a, b: f(a, b)) if len(names) == 2 else (
            lambda self, a, b, c: f(a, b, c))
    if len(calls) == 1 and calls[0] is not None:  # the call itself is the backward: one Python call per node
        body["backward"] = calls[0]
    elif len(calls) == 2 and None not in calls:
        body["backward"] = _binary_backward(*calls)
    return type(name, (Elementwise,), body)


def _binary_backward(call_a: Callable, call_b: Callable) -> Callable:
    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return call_a(self, g) if need_a else None, call_b(self, g) if need_b else None

    return backward


def _zero(g):
    """The gradient of a piecewise-constant function (sign, floor, step…): 0 almost everywhere."""
    return g * 0


def _no_derivative(g):
    raise RuntimeError(f"derivative for floor_divide is not implemented (gradient of shape {tuple(g.shape)})")


def _max_grad(g: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """a's part of maximum(a, b)'s gradient g (b's of minimum): 0 where a < b, g/2 on ties, else g (a NaN on
    either side passes the whole gradient to both; an infinite g stays 0 where blocked, as PyTorch)."""
    return where(a < b, 0.0, where(a == b, g / 2, g))


def _pow_db(g, a, b, y):
    """∂(a^b)/∂b = a^b log a, taken as 0 where a = 0 and b ≥ 0 (as PyTorch)."""
    zero = (a == 0) & (b >= 0)
    return where(zero, 0.0, g * y * where(zero, 1.0, a).log())


def _floor_divide(a: Tensor, b: Tensor) -> Tensor:
    """⌊a/b⌋ as a constant (remainder's ∂b; piecewise constant, so no gradient of its own)."""
    return const(xp.floor_divide(a._data, b._data), a.dtype)


def _clamp_mask(x: Tensor, lo, hi) -> Tensor:
    """True where lo ≤ x ≤ hi (the gradient passes at the bounds, as PyTorch)."""
    keep = xp.ones(x.shape, dtype=bool)
    if lo is not None:
        keep &= x._data >= lo
    if hi is not None:
        keep &= x._data <= hi
    return Tensor._make(keep)


def _pow(a, b):
    """a ** b; a 0-d exponent ±½ is √a and 1/√a, as PyTorch's for a number (so (−0)^½ = −0, (−∞)^½ = NaN)."""
    if b.ndim == 0 and (b == 0.5 or b == -0.5) and a.dtype.kind == "f":
        return xp.sqrt(a) if b > 0 else 1 / xp.sqrt(a)
    return (a**b).astype(a.dtype, copy=False)  # bool ** bool stays bool


def _inv_norm2(a: Tensor, b: Tensor) -> Tensor:
    """1/(a² + b²), taken as 0 where it is infinite (atan2's gradient at the origin, as PyTorch)."""
    r = (a * a + b * b).reciprocal()
    return where(isinf(r), 0.0, r)


def _xlogy(a, b):
    return xp.where((a == 0) & ~xp.isnan(b), 0.0, a * xp.log(b)).astype(a.dtype, copy=False)


def _sinc_dx(x: Tensor) -> Tensor:
    """d sinc/dx = (cos πx − sinc x)/x, taken as 0 at x = 0."""
    zero = x == 0
    return where(zero, 0.0, ((x * math.pi).cos() - sinc(x)) / where(zero, 1.0, x))


def _softplus(a, beta, threshold):
    z = a * beta if beta != 1 else a
    out = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
    if beta != 1:
        out /= beta
    return xp.where(z > threshold, a, out)


def _softplus_dx(g, x, beta, threshold):
    z = x * beta if beta != 1 else x
    linear = z._data > threshold
    s = g * sigmoid(z)
    return where(Tensor._make(linear), g, s) if linear.any() else s


_SQRT_PI_2 = 2 / math.sqrt(math.pi)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# name, forward, then ∂/∂input for each input (g: the output's gradient; x or a, b: the inputs; y: the output)
Add = op("Add", xp.add, lambda g: g, lambda g: g)
Sub = op("Sub", xp.subtract, lambda g: g, lambda g: -g)
Mul = op("Mul", xp.multiply, lambda g, b: g * b, lambda g, a: g * a)
Div = op("Div", xp.true_divide, lambda g, b: g / b, lambda g, a, b: -g * (a / b / b),
         doc="a / b; ∂a = 1/b, ∂b = −(a/b)/b (as PyTorch: b² would overflow where a/b/b does not).")
Pow = op("Pow", _pow,
         lambda g, a, b: where(b == 0, 0.0, g * b * a ** (b - 1)), _pow_db, doc="a ** b; ∂a = b a^(b−1), ∂b = a^b log a.")
FloorDivide = op("FloorDivide", xp.floor_divide, _no_derivative, _no_derivative, doc="⌊a/b⌋; no derivative (as PyTorch).")
Remainder = op("Remainder", xp.remainder, lambda g: g, lambda g, a, b: -g * _floor_divide(a, b),
               doc="Python's modulus (sign of the divisor): a − b⌊a/b⌋.")
Fmod = op("Fmod", xp.fmod, lambda g: g, lambda g, a, b: -g * (a / b).trunc(), doc="C's remainder (sign of the dividend): a − b·trunc(a/b).")
Maximum = op("Maximum", xp.maximum, lambda g, a, b: _max_grad(g, a, b), lambda g, a, b: _max_grad(g, b, a),
             doc="The gradient goes to the larger input, split evenly on ties (as PyTorch).")
Minimum = op("Minimum", xp.minimum, lambda g, a, b: _max_grad(g, b, a), lambda g, a, b: _max_grad(g, a, b))
Where = op("Where", xp.where, None, lambda g, c: where(c, g, const(0, g.dtype)), lambda g, c: where(c, const(0, g.dtype), g),
           args="cab", doc="where(c, a, b); the condition ``c`` gets no gradient.")

Neg = op("Neg", xp.negative, lambda g: -g)
Abs = op("Abs", xp.abs, lambda g, x: g * x.sign())
Exp = op("Exp", xp.exp, lambda g, y: g * y)
Log = op("Log", xp.log, lambda g, x: g / x)
Log2 = op("Log2", xp.log2, lambda g, x: g / (x * _LN2))
Log1p = op("Log1p", xp.log1p, lambda g, x: g / (x + 1))
Expm1 = op("Expm1", xp.expm1, lambda g, y: g * (y + 1))
Sqrt = op("Sqrt", xp.sqrt, lambda g, y: g / (2 * y))
Rsqrt = op("Rsqrt", lambda a: 1 / xp.sqrt(a), lambda g, y: -0.5 * g * y * y * y, doc="1/√x; d/dx = −½ x^(−3/2) = −½ y³.")
Reciprocal = op("Reciprocal", lambda a: 1 / a, lambda g, y: -g * y * y)
Sin = op("Sin", xp.sin, lambda g, x: g * x.cos())
Cos = op("Cos", xp.cos, lambda g, x: -g * x.sin())
Tan = op("Tan", xp.tan, lambda g, y: g * (1 + y * y))
Atan = op("Atan", xp.arctan, lambda g, x: g / (1 + x * x), doc="arctan; d/dz = 1/(1+z²) (Xu Fig 1.8's arctan activation).")
Asin = op("Asin", xp.arcsin, lambda g, x: g * (1 - x * x).rsqrt(), doc="arcsin; d/dx = 1/√(1−x²).")
Acos = op("Acos", xp.arccos, lambda g, x: -g * (1 - x * x).rsqrt(), doc="arccos; d/dx = −1/√(1−x²).")
Sinh = op("Sinh", xp.sinh, lambda g, x: g * cosh(x))
Cosh = op("Cosh", xp.cosh, lambda g, x: g * sinh(x))
Asinh = op("Asinh", xp.arcsinh, lambda g, x: g * (x * x + 1).rsqrt(), doc="arsinh; d/dx = 1/√(x²+1).")
Acosh = op("Acosh", xp.arccosh, lambda g, x: g * (x * x - 1).rsqrt(), doc="arcosh; d/dx = 1/√(x²−1).")
Atanh = op("Atanh", xp.arctanh, lambda g, x: g / (1 - x * x), doc="artanh; d/dx = 1/(1−x²).")
Exp2 = op("Exp2", xp.exp2, lambda g, y: g * y * _LN2)
Log10 = op("Log10", xp.log10, lambda g, x: g / (x * _LN10))
Tanh = op("Tanh", xp.tanh, lambda g, y: g * (1 - y * y), doc="tanh; d/dz = 1 − tanh²z.")
Sigmoid = op("Sigmoid", lambda a: B.special().expit(a), lambda g, y: g * y * (1 - y),
             doc="σ(z) = 1/(1+e^(−z)) (logistic, 逻辑函数); σ′ = σ(1−σ).")
Relu = op("Relu", lambda a: xp.maximum(a, 0), lambda g, x: where(Tensor._make(~(x._data <= 0)), g, 0.0),
          doc="ReLU(z) = max(0, z) (线性整流); the gradient passes unless z ≤ 0 (so at NaN too), selected, not multiplied "
              "by a mask (an infinite g stays 0 where blocked), as PyTorch.")
Erf = op("Erf", lambda a: B.special().erf(a), lambda g, x: g * _SQRT_PI_2 * (-(x * x)).exp())
Softplus = op("Softplus", _softplus, _softplus_dx,
              doc="softplus_β(x) = (1/β) log(1 + e^(βx)), stable as (max(βx, 0) + log1p(e^(−|βx|)))/β, x where βx > threshold; "
                  "f′ = σ(βx). Fused: the composite log(1 + exp(x)) overflows.")
LogSigmoid = op("LogSigmoid", lambda a: xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a))), lambda g, x: g * sigmoid(-x),
                doc="log σ(x) = min(x, 0) − log1p(e^(−|x|)); f′ = σ(−x). Fused: the composite overflows.")
Clamp = op("Clamp", lambda a, min=None, max=None: xp.clip(a, min, max), lambda g, x, min, max: where(_clamp_mask(x, min, max), g, 0.0),
           doc="clamp(min, max); the gradient passes where min ≤ x ≤ max and is 0 elsewhere, even for an infinite g (as PyTorch).")
Clone = op("Clone", lambda a: a.copy(), lambda g: g)
Overwrite = op("Overwrite", lambda a, b: xp.broadcast_to(b, a.shape).astype(a.dtype, copy=True), _zero, lambda g: g,
               doc="a's values replaced by b, broadcast (copy_, fill_): a's history gets gradient 0, b gets g.")
Sign = op("Sign", lambda a: xp.nan_to_num(xp.asarray(xp.sign(a)), copy=False), _zero, doc="−1, 0 or 1 (0 for NaN, as PyTorch).")
NonZero = op("NonZero", lambda a: (a != 0).astype(a.dtype), None, doc="1 where x ≠ 0, else 0 (norm p = 0 counts them); no gradient, as PyTorch.")
Floor = op("Floor", xp.floor, _zero)
Ceil = op("Ceil", xp.ceil, _zero)
Trunc = op("Trunc", xp.trunc, _zero)
Round = op("Round", lambda a, decimals=0: xp.round(a, decimals), _zero)
Atan2 = op("Atan2", xp.arctan2, lambda g, a, b: g * b * _inv_norm2(a, b), lambda g, a, b: -g * a * _inv_norm2(a, b),
            doc="atan2(a, b): the angle of the point (b, a); ∂a = b/(a²+b²), ∂b = −a/(a²+b²) (0 at the origin, as PyTorch).")
Hypot = op("Hypot", xp.hypot, lambda g, a, y: g * a / y, lambda g, b, y: g * b / y, doc="√(a²+b²); ∂a = a/y, ∂b = b/y.")
LogAddExp = op("LogAddExp", xp.logaddexp, lambda g, a, b: g * sigmoid(a - b), lambda g, a, b: g * sigmoid(b - a),
               doc="log(eᵃ + eᵇ); ∂a = σ(a − b), ∂b = σ(b − a).")
Xlogy = op("Xlogy", _xlogy,
           lambda g, a, b: where((a == 0) & (b <= 0), 0.0, xlogy(g, b)), lambda g, a, b: g * a / b,
           doc="a·log b, 0 where a = 0 (unless b is NaN); ∂a = log b (0 where a = 0 and b ≤ 0, as PyTorch), ∂b = a/b.")
Copysign = op("Copysign", xp.copysign, lambda g, a, y: g * where(a == 0, 0.0, y / where(a == 0, 1.0, a)), _zero,
              doc="|a| with the sign of b; ∂a = y/a (0 at a = 0), ∂b = 0 (as PyTorch).")
Sinc = op("Sinc", xp.sinc, lambda g, x: g * _sinc_dx(x), doc="sin(πx)/(πx), 1 at 0; d/dx = (cos πx − y)/x, 0 at 0.")
NanToNum = op("NanToNum", lambda a, nan=0.0, posinf=None, neginf=None: xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf),
              lambda g, x: g * isfinite(x).to(g.dtype), doc="NaN, +∞, −∞ replaced; the gradient passes only where x is finite.")
Step = op("Step", lambda a, threshold: (a >= threshold).astype(a.dtype), _zero,
          doc="Heaviside step 1[x ≥ T] (阶跃函数, Xu eq. 1.1); gradient 0 almost everywhere.")


class Cast(Function):
    """``to(dtype)``; the gradient is cast back to the input's dtype."""

    saves_inputs = False

    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.to(self.in_dtype)


# ---------------------------------------------------------------- the functions


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


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """An integer tensor divided by zero (PyTorch raises a RuntimeError 'ZeroDivisionError')."""


def _nonzero_divisor(op: str, b: Tensor) -> None:
    if b._data.dtype.kind in "iu" and not b._data.all():
        raise IntegerDivisionByZero(f"{op}: ZeroDivisionError: integer division by zero (divisor of dtype {b.dtype}, shape {tuple(b.shape)})")


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
            _nonzero_divisor("div", b)
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
    _nonzero_divisor("remainder", b)
    return Remainder.apply(a, b)


def fmod(input, other) -> Tensor:
    """C-style remainder (sign of the dividend): a − b·trunc(a/b)."""
    a, b = binary_operands(input, other)
    _no_bool("fmod", a, b)
    _nonzero_divisor("fmod", b)
    return Fmod.apply(a, b)


def floor_divide(input, other) -> Tensor:
    """⌊a/b⌋; not differentiable: a backward through it raises, as PyTorch's does."""
    a, b = binary_operands(input, other)
    _no_bool("floor_divide", a, b)
    _nonzero_divisor("floor_divide", b)
    return FloorDivide.apply(a, b)


def maximum(input, other) -> Tensor:
    a, b = binary_operands(input, other)
    return Maximum.apply(a, b)


def minimum(input, other) -> Tensor:
    a, b = binary_operands(input, other)
    return Minimum.apply(a, b)


def _floating(op: str, *tensors: Tensor, allow_int: bool = False) -> tuple[Tensor, ...]:
    """The operands in a floating dtype: integers become the default float when ``allow_int`` (as PyTorch's
    atan2, xlogy, copysign), else a RuntimeError naming ``op`` (as its hypot, logaddexp, lerp, frac)."""
    if all(t._data.dtype.kind in "fc" for t in tensors):
        return tensors
    if not allow_int:
        raise RuntimeError(f"{op}: not implemented for integer or bool tensors (dtypes {', '.join(str(t.dtype) for t in tensors)}, "
                           f"shapes {', '.join(str(tuple(t.shape)) for t in tensors)})")
    return tuple(t.to(B.get_default_dtype()) for t in tensors)


def atan2(input, other) -> Tensor:
    """atan2(input, other): the angle of the point (other, input) in (−π, π]."""
    return Atan2.apply(*_floating("atan2", *binary_operands(input, other), allow_int=True))


arctan2 = atan2


def hypot(input, other) -> Tensor:
    """√(input² + other²) without overflow."""
    return Hypot.apply(*_floating("hypot", *binary_operands(input, other)))


def logaddexp(input, other) -> Tensor:
    """log(e^input + e^other), stable."""
    return LogAddExp.apply(*_floating("logaddexp", *binary_operands(input, other)))


def xlogy(input, other) -> Tensor:
    """input · log(other), 0 where input = 0 (entropy terms p log p stay finite)."""
    return Xlogy.apply(*_floating("xlogy", *binary_operands(input, other), allow_int=True))


def copysign(input, other) -> Tensor:
    """|input| with the sign of other (−0.0 counts as negative)."""
    return Copysign.apply(*_floating("copysign", *binary_operands(input, other), allow_int=True))


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """Linear interpolation input + weight·(end − input)."""
    check_same_dtype("lerp", input, end)
    _floating("lerp", input, end)
    return input + weight * (end - input)


def frac(input: Tensor) -> Tensor:
    """The fractional part x − trunc(x) (sign of x); gradient 1."""
    _floating("frac", input)
    return input - input.trunc()


def sinc(input: Tensor) -> Tensor:
    """Normalised sinc: sin(πx)/(πx), 1 at x = 0."""
    return Sinc.apply(*_floating("sinc", input, allow_int=True))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN → ``nan``, +∞ → ``posinf``, −∞ → ``neginf`` (default: the dtype's largest and smallest finite values)."""
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)




# ---------------------------------------------------------------- unary


def _float_unary(cls):
    """Unary math on an integer tensor runs in the default float dtype (as PyTorch)."""

    def fn(input: Tensor) -> Tensor:
        if input._data.dtype.kind not in "fc":
            input = input.to(B.get_default_dtype())
        return cls.apply(input)

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = cls.__doc__
    return fn


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
asin = arcsin = _float_unary(Asin)
acos = arccos = _float_unary(Acos)
sinh = _float_unary(Sinh)
cosh = _float_unary(Cosh)
asinh = arcsinh = _float_unary(Asinh)
acosh = arccosh = _float_unary(Acosh)
atanh = arctanh = _float_unary(Atanh)
exp2 = _float_unary(Exp2)
log10 = _float_unary(Log10)


def _refuse(what: str) -> Callable:
    def rule(g):
        raise RuntimeError(f"the derivative for '{what}' is not implemented (as PyTorch; use the out-of-place form)")

    return rule


# the in-place forms PyTorch gives no derivative (acosh_, asinh_, atanh_): same values, backward refuses
NO_INPLACE_DERIVATIVE = {
    n: _float_unary(op(f"{cls.__name__}Inplace", cls.f, _refuse(f"inplace version of {n}")))
    for n, cls in (("acosh", Acosh), ("asinh", Asinh), ("atanh", Atanh))
}
tanh = _float_unary(Tanh)
sigmoid = _float_unary(Sigmoid)
erf = _float_unary(Erf)
logsigmoid = _float_unary(LogSigmoid)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """softplus_β(x) = (1/β) log(1 + e^(βx)); x where βx > threshold (as PyTorch)."""
    if input._data.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    return Softplus.apply(input, beta=beta, threshold=threshold)


def step(input: Tensor, threshold: float = 0.0) -> Tensor:
    """1 where x ≥ T, else 0 (阶跃函数, Xu eq. 1.1), in x's floating dtype."""
    if input._data.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    return Step.apply(input, threshold=threshold)


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
        return Cast.apply(input.detach(), dtype=dtype)  # integer results carry no gradient
    return Cast.apply(input, dtype=dtype)


def clone(input: Tensor) -> Tensor:
    return Clone.apply(input)




# ---------------------------------------------------------------- comparisons and logic (no grad)


class Compare(Function):
    """A comparison or logical op (no gradient): recorded as an op, so that export sees it; its
    output never requires grad. ``other`` is a Python scalar operand, if any."""

    saves_inputs = False

    def forward(self, *arrays, f, other=None):
        return xp.asarray(f(*arrays) if other is None else f(arrays[0], other))


def compare(f, *inputs: Tensor, other=None) -> Tensor:
    """``f`` (an array function) on ``inputs`` as a ``Compare`` op."""
    out = Compare.apply(*inputs, f=f, other=other)
    if out.grad_fn is not None:
        out.grad_fn, out.requires_grad = None, False
    return out


def _compare(ufunc):
    def op(input, other) -> Tensor:
        if isinstance(other, Tensor):
            return compare(ufunc, *binary_operands(input, other))
        return compare(ufunc, input, other=other)

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


def _shift(ufunc):
    shift = _compare(ufunc)

    def op(input, other) -> Tensor:
        for t in (input, other):
            if isinstance(t, float) or (isinstance(t, Tensor) and t._data.dtype.kind == "f"):
                raise RuntimeError(f"{ufunc.__name__}: only integral tensors can be shifted (got {getattr(t, 'dtype', type(t).__name__)})")
        return shift(input, other)

    op.__name__ = ufunc.__name__
    return op


bitwise_left_shift = _shift(xp.left_shift)
bitwise_right_shift = _shift(xp.right_shift)


def logical_not(input: Tensor) -> Tensor:
    return compare(xp.logical_not, input)


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind == "f":
        raise TypeError("bitwise_not: only integral and boolean tensors are supported")
    return Tensor._make(xp.invert(input._data))


def isnan(input: Tensor) -> Tensor:
    return compare(xp.isnan, input)


def isinf(input: Tensor) -> Tensor:
    return compare(xp.isinf, input)


def isfinite(input: Tensor) -> Tensor:
    return compare(xp.isfinite, input)


def isclose(input: Tensor, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    return Tensor._make(xp.isclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Tensor, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(xp.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())
