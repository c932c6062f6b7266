"""ONNX operators as shenjing ops: ``OPS[op_type](attrs, *inputs) -> Tensor or tuple``.

Inputs are Tensors (None for an omitted optional input); ``attrs`` the node's attributes as
Python values. Every op is built from differentiable shenjing ops, so a loaded model trains.
Shape inputs (Reshape's shape, Slice's starts, ...) are int64 Tensors read as Python ints."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..nn import functional as F
from .graph import UnsupportedOperatorError
from .proto import onnx_module

OPS: dict[str, Callable] = {}


def _op(*names: str) -> Callable:
    def register(f: Callable) -> Callable:
        for n in names:
            OPS[n] = f
        return f

    return register


def ints(t: Tensor | None) -> list[int]:
    return [] if t is None else [int(v) for v in t.array.reshape(-1)]


def _np_dtype(onnx_type: int):
    return onnx_module().helper.tensor_dtype_to_np_dtype(onnx_type)


def _binary(f: Callable) -> Callable:
    return lambda attrs, a, b: f(a, b)


for _name, _f in {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b, "Pow": lambda a, b: a ** b,
    "Equal": lambda a, b: a == b, "Greater": lambda a, b: a > b, "Less": lambda a, b: a < b,
    "GreaterOrEqual": lambda a, b: a >= b, "LessOrEqual": lambda a, b: a <= b,
    "And": lambda a, b: a.logical_and(b), "Or": lambda a, b: a.logical_or(b), "Xor": lambda a, b: a.logical_xor(b),
}.items():
    OPS[_name] = _binary(_f)

for _name, _f in {
    "Neg": lambda x: -x, "Abs": Tensor.abs, "Exp": Tensor.exp, "Log": Tensor.log, "Sqrt": Tensor.sqrt,
    "Reciprocal": Tensor.reciprocal, "Sin": Tensor.sin, "Cos": Tensor.cos, "Tan": Tensor.tan, "Atan": Tensor.atan,
    "Tanh": Tensor.tanh, "Sigmoid": Tensor.sigmoid, "Relu": Tensor.relu, "Erf": Tensor.erf, "Softplus": F.softplus,
    "Softsign": F.softsign, "Sign": Tensor.sign, "Floor": Tensor.floor, "Ceil": Tensor.ceil, "Round": Tensor.round,
    "Identity": lambda x: x, "Not": Tensor.logical_not, "IsNaN": Tensor.isnan, "Asin": Tensor.asin, "Acos": Tensor.acos, "Sinh": Tensor.sinh,
    "Cosh": Tensor.cosh, "Asinh": Tensor.asinh, "Acosh": Tensor.acosh, "Atanh": Tensor.atanh,
}.items():
    OPS[_name] = (lambda f: lambda attrs, x: f(x))(_f)


@_op("Div")
def _div(attrs, a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":  # integer division truncates in ONNX
        q = a.abs() // b.abs()
        return q * (a.sign() * b.sign())
    return a / b


@_op("Mod")
def _mod(attrs, a, b):
    return a.fmod(b) if attrs.get("fmod", 0) else a.remainder(b)


def _fold(f: Callable, mean: bool = False) -> Callable:
    def run(attrs, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = f(out, x)
        return out / len(xs) if mean else out

    return run


OPS.update({"Max": _fold(lambda a, b: a.maximum(b)), "Min": _fold(lambda a, b: a.minimum(b)),
            "Sum": _fold(lambda a, b: a + b), "Mean": _fold(lambda a, b: a + b, mean=True)})


@_op("LeakyRelu")
def _leaky(attrs, x):
    return F.leaky_relu(x, attrs.get("alpha", 0.01))


@_op("Elu")
def _elu(attrs, x):
    return F.elu(x, attrs.get("alpha", 1.0))


@_op("Selu")
def _selu(attrs, x):
    a, g = attrs.get("alpha", 1.67326319217681884765625), attrs.get("gamma", 1.05070102214813232421875)
    return g * x.where(x > 0, a * (x.clamp(max=0).exp() - 1))


@_op("HardSigmoid")
def _hard_sigmoid(attrs, x):
    return (attrs.get("alpha", 0.2) * x + attrs.get("beta", 0.5)).clamp(0, 1)


@_op("HardSwish")
def _hard_swish(attrs, x):
    return x * (x / 6 + 0.5).clamp(0, 1)


@_op("PRelu")
def _prelu(attrs, x, slope):
    return x.where(x >= 0, x * slope)


@_op("Celu")
def _celu(attrs, x):
    a = attrs.get("alpha", 1.0)
    return x.clamp(min=0) + (a * ((x.clamp(max=0) / a).exp() - 1))


@_op("Mish")
def _mish(attrs, x):
    return x * F.softplus(x).tanh()


@_op("Gelu")
def _gelu(attrs, x):
    return F.gelu(x, approximate=attrs.get("approximate", "none"))


@_op("Where")
def _where(attrs, c, a, b):
    return a.where(c, b)


@_op("Clip")
def _clip(attrs, x, lo=None, hi=None):
    lo = float(lo.item()) if lo is not None else attrs.get("min")
    hi = float(hi.item()) if hi is not None else attrs.get("max")
    return x.clamp(lo, hi)


@_op("Cast")
def _cast(attrs, x):
    return x.to(_np_dtype(attrs["to"]))


@_op("CastLike")
def _cast_like(attrs, x, like):
    return x.to(like.dtype)


@_op("Dropout")
def _dropout(attrs, x, ratio=None, training=None):
    return x  # inference: the identity (ONNX's mask output is not used by exported models)


@_op("MatMul")
def _matmul(attrs, a, b):
    return a @ b


@_op("Gemm")
def _gemm(attrs, a, b, c=None):
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    y = (a @ b) * attrs.get("alpha", 1.0) if attrs.get("alpha", 1.0) != 1.0 else a @ b
    if c is not None:
        y = y + (c * attrs.get("beta", 1.0) if attrs.get("beta", 1.0) != 1.0 else c)
    return y


@_op("Einsum")
def _einsum(attrs, *xs):
    from .. import einsum

    return einsum(attrs["equation"].replace(" ", ""), *xs)


@_op("Transpose")
def _transpose(attrs, x):
    return x.permute(*attrs.get("perm", list(range(x.ndim))[::-1]))


@_op("Reshape")
def _reshape(attrs, x, shape):
    s = ints(shape)
    if not attrs.get("allowzero", 0):
        s = [x.shape[i] if v == 0 else v for i, v in enumerate(s)]
    return x.reshape(s)


@_op("Flatten")
def _flatten(attrs, x):
    axis = attrs.get("axis", 1) % (x.ndim or 1)
    return x.reshape(math.prod(x.shape[:axis]), -1)


@_op("Squeeze")
def _squeeze(attrs, x, axes=None):
    axes = ints(axes) or attrs.get("axes") or [i for i, d in enumerate(x.shape) if d == 1]
    return x.reshape([d for i, d in enumerate(x.shape) if i not in {a % x.ndim for a in axes}])


@_op("Unsqueeze")
def _unsqueeze(attrs, x, axes=None):
    axes = ints(axes) or attrs.get("axes")
    n = x.ndim + len(axes)
    shape, it = [], iter(x.shape)
    wanted = {a % n for a in axes}
    for i in range(n):
        shape.append(1 if i in wanted else next(it))
    return x.reshape(shape)


@_op("Concat")
def _concat(attrs, *xs):
    from .. import cat

    return cat([x for x in xs if x is not None], attrs["axis"])


@_op("Split")
def _split(attrs, x, split=None):
    axis = attrs.get("axis", 0)
    sizes = ints(split) or attrs.get("split")
    if not sizes:
        n = attrs["num_outputs"]
        step = -(-x.shape[axis] // n)
        sizes = [min(step, x.shape[axis] - i * step) for i in range(n)]
    return tuple(x.split(sizes, axis))


@_op("Slice")
def _slice(attrs, x, starts, ends, axes=None, steps=None):
    starts, ends = ints(starts), ints(ends)
    axes = ints(axes) or list(range(len(starts)))
    steps = ints(steps) or [1] * len(starts)
    key = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        n = x.shape[a]
        e = None if st < 0 and e < -n else e
        key[a % x.ndim] = slice(max(min(s, n), -n - 1) if st > 0 else min(s, n - 1), e, st)
    return x[tuple(key)]


@_op("Gather")
def _gather(attrs, x, idx):
    axis = attrs.get("axis", 0) % x.ndim
    if idx.ndim == 0:
        return x[(slice(None),) * axis + (int(idx.item()),)]
    return x[(slice(None),) * axis + (idx.to(xp.int64),)]


@_op("GatherElements")
def _gather_elements(attrs, x, idx):
    axis = attrs.get("axis", 0) % x.ndim
    idx = idx.where(idx >= 0, idx + x.shape[axis])
    return x.gather(axis, idx)


@_op("Expand")
def _expand(attrs, x, shape):
    s = ints(shape)
    n = max(len(s), x.ndim)
    s = [1] * (n - len(s)) + s
    xs = [1] * (n - x.ndim) + list(x.shape)
    return x.reshape(xs).expand([max(a, b) if a == 1 or b == 1 else a for a, b in zip(s, xs)])


@_op("Tile")
def _tile(attrs, x, reps):
    return x.repeat(*ints(reps))


@_op("Shape")
def _shape(attrs, x):
    shape = list(x.shape)[attrs.get("start", 0): attrs.get("end", None)]
    return as_tensor(xp.asarray(shape, dtype=xp.int64))


@_op("Size")
def _size(attrs, x):
    return as_tensor(xp.asarray(math.prod(x.shape), dtype=xp.int64))


@_op("ConstantOfShape")
def _constant_of_shape(attrs, shape):
    value = attrs.get("value")
    v = xp.zeros(1, xp.float32) if value is None else value
    return as_tensor(xp.full(ints(shape), v.reshape(-1)[0], dtype=v.dtype))


@_op("Constant")
def _constant(attrs):
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in attrs:
            v = attrs[key]
            dtype = xp.float32 if "float" in key else xp.int64 if "int" in key else None
            return as_tensor(xp.asarray(v, dtype=dtype))
    raise UnsupportedOperatorError(f"Constant with attributes {sorted(attrs)} is not supported")


@_op("Range")
def _range(attrs, start, limit, delta):
    return as_tensor(xp.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype))


@_op("CumSum")
def _cumsum(attrs, x, axis):
    if attrs.get("exclusive", 0) or attrs.get("reverse", 0):
        raise UnsupportedOperatorError("CumSum with exclusive or reverse is not supported")
    return x.cumsum(int(axis.item()))


def _reduce(f: Callable) -> Callable:
    def run(attrs, x, axes=None):
        axes = ints(axes) if axes is not None else attrs.get("axes")
        keep = bool(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.ndim))
        return f(x, tuple(a % x.ndim for a in axes), keep)

    return run


OPS.update({
    "ReduceMean": _reduce(lambda x, a, k: x.mean(a, keepdim=k)), "ReduceSum": _reduce(lambda x, a, k: x.sum(a, keepdim=k)),
    "ReduceMax": _reduce(lambda x, a, k: x.amax(a, keepdim=k)), "ReduceMin": _reduce(lambda x, a, k: x.amin(a, keepdim=k)),
    "ReduceLogSumExp": _reduce(lambda x, a, k: x.logsumexp(a, keepdim=k)),
    "ReduceL2": _reduce(lambda x, a, k: (x * x).sum(a, keepdim=k).sqrt()),
    "ReduceProd": _reduce(lambda x, a, k: _prod(x, a, k)),
})


def _prod(x, axes, keep):
    for a in sorted(axes, reverse=True):
        x = x.prod(a, keepdim=keep)
    return x


@_op("Softmax")
def _softmax(attrs, x):
    return F.softmax(x, attrs.get("axis", -1))


@_op("LogSoftmax")
def _log_softmax(attrs, x):
    return F.log_softmax(x, attrs.get("axis", -1))


def _pads(attrs, nd: int) -> tuple[list[int], list[int]]:
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise UnsupportedOperatorError(f"auto_pad={attrs['auto_pad']} is not supported (export with explicit pads)")
    p = attrs.get("pads", [0] * 2 * nd)
    return list(p[:nd]), list(p[nd:])


def _symmetric(x, lo, hi, value=0.0):
    """Padding given as torch's symmetric ``padding``, after padding the extra of asymmetric pads."""
    if lo == hi:
        return x, lo
    extra = []
    for a, b in zip(reversed(lo), reversed(hi)):  # F.pad: last axis first
        m = min(a, b)
        extra += [a - m, b - m]
    return F.pad(x, extra, value=value), [min(a, b) for a, b in zip(lo, hi)]


@_op("Conv")
def _conv(attrs, x, w, b=None):
    nd = w.ndim - 2
    lo, hi = _pads(attrs, nd)
    x, pad = _symmetric(x, lo, hi)
    f = {1: F.conv1d, 2: F.conv2d}.get(nd)
    if f is None:
        raise UnsupportedOperatorError(f"Conv with {nd} spatial dims is not supported (1 or 2)")
    return f(x, w, b, stride=attrs.get("strides", [1] * nd), padding=pad, dilation=attrs.get("dilations", [1] * nd),
             groups=attrs.get("group", 1))


@_op("ConvTranspose")
def _conv_transpose(attrs, x, w, b=None):
    nd = w.ndim - 2
    lo, hi = _pads(attrs, nd)
    if lo != hi:
        raise UnsupportedOperatorError("ConvTranspose with asymmetric pads is not supported")
    s, d = attrs.get("strides", [1] * nd), attrs.get("dilations", [1] * nd)
    op_ = attrs.get("output_padding", [0] * nd)
    if "output_shape" in attrs:
        k = w.shape[2:]
        op_ = [attrs["output_shape"][i] - ((x.shape[2 + i] - 1) * s[i] - 2 * lo[i] + d[i] * (k[i] - 1) + 1) for i in range(nd)]
    f = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[nd]
    return f(x, w, b, stride=s, padding=lo, output_padding=op_, groups=attrs.get("group", 1), dilation=d)


@_op("MaxPool")
def _max_pool(attrs, x):
    k = attrs["kernel_shape"]
    nd = len(k)
    lo, hi = _pads(attrs, nd)
    x, pad = _symmetric(x, lo, hi, value=-math.inf)
    f = {1: F.max_pool1d, 2: F.max_pool2d}[nd]
    return f(x, k, attrs.get("strides", [1] * nd), pad, attrs.get("dilations", [1] * nd), bool(attrs.get("ceil_mode", 0)))


@_op("AveragePool")
def _avg_pool(attrs, x):
    k = attrs["kernel_shape"]
    nd = len(k)
    lo, hi = _pads(attrs, nd)
    if lo != hi:
        raise UnsupportedOperatorError("AveragePool with asymmetric pads is not supported")
    f = {1: F.avg_pool1d, 2: F.avg_pool2d}[nd]
    return f(x, k, attrs.get("strides", [1] * nd), lo, bool(attrs.get("ceil_mode", 0)), bool(attrs.get("count_include_pad", 0)))


@_op("GlobalAveragePool")
def _global_avg(attrs, x):
    return x.mean(tuple(range(2, x.ndim)), keepdim=True)


@_op("GlobalMaxPool")
def _global_max(attrs, x):
    return x.amax(tuple(range(2, x.ndim)), keepdim=True)


@_op("BatchNormalization")
def _batch_norm(attrs, x, scale, bias, mean, var):
    if attrs.get("training_mode", 0):
        raise UnsupportedOperatorError("BatchNormalization in training mode is not supported (export in eval mode)")
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=attrs.get("epsilon", 1e-5))


@_op("LayerNormalization")
def _layer_norm(attrs, x, scale, bias=None):
    axis = attrs.get("axis", -1) % x.ndim
    shape = list(x.shape[axis:])
    w = scale.reshape(shape) if list(scale.shape) != shape else scale
    b = bias.reshape(shape) if bias is not None and list(bias.shape) != shape else bias
    return F.layer_norm(x, shape, w, b, attrs.get("epsilon", 1e-5))


@_op("Pad")
def _pad(attrs, x, pads=None, value=None, axes=None):
    p = ints(pads) if pads is not None else attrs["pads"]
    n = len(p) // 2
    axes = ints(axes) or list(range(n))
    full_lo, full_hi = [0] * x.ndim, [0] * x.ndim
    for a, lo, hi in zip(axes, p[:n], p[n:]):
        full_lo[a % x.ndim], full_hi[a % x.ndim] = lo, hi
    flat = []
    for lo, hi in zip(reversed(full_lo), reversed(full_hi)):
        flat += [lo, hi]
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[attrs.get("mode", "constant")]
    return F.pad(x, flat, mode=mode, value=float(value.item()) if value is not None and mode == "constant" else 0.0)


@_op("Resize", "Upsample")
def _resize(attrs, x, roi=None, scales=None, sizes=None):
    mode = attrs.get("mode", "nearest")
    ctm = attrs.get("coordinate_transformation_mode", "half_pixel")
    size = ints(sizes)[2:] if sizes is not None and sizes.numel() else None
    sc = [float(v) for v in scales.array.reshape(-1)][2:] if scales is not None and scales.numel() else None
    if mode == "nearest":
        return F.interpolate(x, size=size, scale_factor=None if size else sc, mode="nearest")
    if mode == "linear" and ctm in ("align_corners", "half_pixel", "pytorch_half_pixel"):
        return F.interpolate(x, size=size, scale_factor=None if size else sc, mode="bilinear" if x.ndim == 4 else "linear",
                             align_corners=ctm == "align_corners")
    raise UnsupportedOperatorError(f"Resize with mode={mode!r}, coordinate_transformation_mode={ctm!r} is not supported")
