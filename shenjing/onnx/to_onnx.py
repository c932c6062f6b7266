"""One converter per recorded op: ``CONVERTERS[name](g, call, alt) -> the output's value name``.

``call`` is the op as recorded (Function class, input Tensors, keyword arguments, output); ``alt``
is the same op from a second recording with the dynamic axes resized (None without dynamic axes):
a shape that differs between the two depends on a dynamic axis. Ops that ONNX lacks are written
as a few ONNX operators (``Expm1`` = Exp − 1, ``Step`` = Cast(x ≥ T), unfold = a grouped Conv with one-hot
weights, ...)."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..backend import xp
from .graph import Graph, UnsupportedOperatorError, onnx_type

#: ops whose ONNX operator has the same inputs and meaning
SAME = {
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max", "Minimum": "Min",
    "Neg": "Neg", "Abs": "Abs", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal",
    "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Atan": "Atan", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu",
    "Erf": "Erf", "Softplus": "Softplus", "Sign": "Sign", "Floor": "Floor", "Ceil": "Ceil", "Clone": "Identity",
    "MatMul": "MatMul", "Asin": "Asin", "Acos": "Acos", "Sinh": "Sinh", "Cosh": "Cosh", "Asinh": "Asinh", "Acosh": "Acosh",
    "Atanh": "Atanh",
}


def _same(g: Graph, c, alt) -> str:
    dtype = c.output.dtype
    return g.add(SAME[c.fn.__name__], [g.operand(t, dtype) for t in c.inputs])


def _unary(*chain: tuple) -> Callable:
    """An op written as a chain of (ONNX op, constant or None) steps applied to the input."""

    def convert(g: Graph, c, alt) -> str:
        x, dtype = g.name(c.inputs[0]), c.output.dtype
        for op, k in chain:
            x = g.add(op, [x] if k is None else [x, g.scalar(k, dtype)])
        return x

    return convert


def _where(g: Graph, c, alt) -> str:
    cond, a, b = c.inputs
    dtype = c.output.dtype
    return g.add("Where", [g.operand(cond, bool), g.operand(a, dtype), g.operand(b, dtype)])


def _step(g: Graph, c, alt) -> str:
    ge = g.add("GreaterOrEqual", [g.name(c.inputs[0]), g.scalar(c.kw["threshold"], c.inputs[0].dtype)])
    return g.add("Cast", [ge], to=onnx_type(c.output.dtype))


def _clamp(g: Graph, c, alt) -> str:
    dtype = c.output.dtype
    lo, hi = c.kw.get("min"), c.kw.get("max")
    return g.add("Clip", [g.name(c.inputs[0]), "" if lo is None else g.scalar(lo, dtype), "" if hi is None else g.scalar(hi, dtype)])


def _round(g: Graph, c, alt) -> str:
    if c.kw.get("decimals", 0):
        raise UnsupportedOperatorError("round(decimals != 0) has no ONNX operator")
    return g.add("Round", [g.name(c.inputs[0])])


def _trunc(g: Graph, c, alt) -> str:
    x = g.name(c.inputs[0])
    return g.add("Mul", [g.add("Sign", [x]), g.add("Floor", [g.add("Abs", [x])])])


def _remainder(g: Graph, c, alt) -> str:
    dtype = c.output.dtype
    a, b = g.operand(c.inputs[0], dtype), g.operand(c.inputs[1], dtype)
    if xp.dtype(dtype).kind != "f":
        return g.add("Mod", [a, b], fmod=0)
    return g.add("Sub", [a, g.add("Mul", [g.add("Floor", [g.add("Div", [a, b])]), b])])


def _fmod(g: Graph, c, alt) -> str:
    dtype = c.output.dtype
    return g.add("Mod", [g.operand(c.inputs[0], dtype), g.operand(c.inputs[1], dtype)], fmod=1)


def _log_sigmoid(g: Graph, c, alt) -> str:
    return g.add("Neg", [g.add("Softplus", [g.add("Neg", [g.name(c.inputs[0])])])])


#: comparisons and logic (``Compare``): the array function's name → ONNX operator
COMPARE = {
    "equal": "Equal", "less": "Less", "less_equal": "LessOrEqual", "greater": "Greater", "greater_equal": "GreaterOrEqual",
    "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor", "bitwise_and": "BitwiseAnd", "bitwise_or": "BitwiseOr",
    "bitwise_xor": "BitwiseXor", "logical_not": "Not", "isnan": "IsNaN", "isinf": "IsInf",
}


def _compare(g: Graph, c, alt) -> str:
    f, other = c.kw["f"].__name__, c.kw.get("other")
    if other is not None:
        dtype = xp.result_type(c.inputs[0].dtype, other)
        names = [g.operand(c.inputs[0], dtype), g.scalar(other, dtype)]
    else:
        dtype = xp.result_type(*[t.dtype for t in c.inputs])
        names = [g.operand(t, dtype) for t in c.inputs]
    if f == "not_equal":
        return g.add("Not", [g.add("Equal", names)])
    if f == "isfinite":
        return g.add("Not", [g.add("Or", [g.add("IsNaN", names), g.add("IsInf", names)])])
    if f not in COMPARE:
        raise UnsupportedOperatorError(f"{f} has no ONNX mapping")
    return g.add(COMPARE[f], names)


def _cast(g: Graph, c, alt) -> str:
    return g.add("Cast", [g.name(c.inputs[0])], to=onnx_type(c.kw["dtype"]))


def _shape(c, alt) -> list[int]:
    """The output shape of a reshape/expand, with the dims that depend on a dynamic axis written as
    0 (copied from the input's same dim, where that matches in both recordings) or −1 (at most one)."""
    shape = list(c.output.shape)
    if alt is None:
        return shape
    other, x, y = list(alt.output.shape), c.inputs[0].shape, alt.inputs[0].shape
    varying = [i for i, (a, b) in enumerate(zip(shape, other)) if a != b]
    copied = [i for i in varying if i < len(x) and x[i] == shape[i] and y[i] == other[i]]
    rest = [i for i in varying if i not in copied]
    if len(rest) > 1:
        raise UnsupportedOperatorError(f"{c.fn.__name__.lower()} to {tuple(shape)}: {len(rest)} of its dims depend on the dynamic axes "
                                       "in a way ONNX's Reshape cannot copy (at most one can be −1)")
    for i in copied:
        shape[i] = 0
    for i in rest:
        shape[i] = -1
    return shape


def _reshape(g: Graph, c, alt) -> str:
    return g.add("Reshape", [g.name(c.inputs[0]), g.ints(_shape(c, alt))])


def _expand(g: Graph, c, alt) -> str:
    shape = _shape(c, alt)
    if -1 in shape or 0 in shape and alt is not None:
        raise UnsupportedOperatorError(f"expand to {tuple(c.output.shape)} along a dynamic axis has no ONNX mapping here")
    return g.add("Expand", [g.name(c.inputs[0]), g.ints(shape)])


def _permute(g: Graph, c, alt) -> str:
    return g.add("Transpose", [g.name(c.inputs[0])], perm=[int(d) for d in c.kw["dims"]])


def _cat(g: Graph, c, alt) -> str:
    dtype = c.output.dtype
    return g.add("Concat", [g.operand(t, dtype) for t in c.inputs], axis=int(c.kw["axis"]))


def _tile(g: Graph, c, alt) -> str:
    return g.add("Tile", [g.name(c.inputs[0]), g.ints(c.kw["reps"])])


def _var(g: Graph, c, alt) -> str:
    """Σ(x − x̄)²/(N − correction) (its square root for std); N is fixed at export."""
    x, axes, keepdim = c.inputs[0], c.kw["axes"], c.kw["keepdim"]
    n = math.prod(x.shape[a] for a in axes)
    if alt is not None and math.prod(alt.inputs[0].shape[a] for a in axes) != n:
        raise UnsupportedOperatorError(f"{c.fn.__name__.lower()} over a dynamic axis: its N − correction is fixed at export")
    xc = g.add("Sub", [g.name(x), g.axes_op("ReduceMean", g.name(x), axes, True)])
    v = g.add("Div", [g.axes_op("ReduceSum", g.add("Mul", [xc, xc]), axes, keepdim),
                      g.scalar(max(n - c.kw["correction"], 0), c.output.dtype)])
    return g.add("Sqrt", [v]) if c.fn.__name__ == "Std" else v


def _flip(g: Graph, c, alt) -> str:
    axes = [int(a) for a in c.kw["axes"]]
    n = len(axes)
    big = xp.iinfo(xp.int64)
    return g.add("Slice", [g.name(c.inputs[0]), g.ints([-1] * n), g.ints([big.min] * n), g.ints(axes), g.ints([-1] * n)])


def _pad_constant(g: Graph, c, alt) -> str:
    widths = c.kw["widths"]  # ((lo, hi), ...) per axis
    pads = [int(w[0]) for w in widths] + [int(w[1]) for w in widths]
    return g.add("Pad", [g.name(c.inputs[0]), g.ints(pads), g.scalar(c.kw["value"], c.output.dtype)], mode="constant")


def _reduce(op: str) -> Callable:
    def convert(g: Graph, c, alt) -> str:
        x = g.name(c.inputs[0])
        if c.kw.get("dtype") is not None:
            x = g.add("Cast", [x], to=onnx_type(c.output.dtype))
        return g.axes_op(op, x, c.kw.get("axes", c.kw.get("axis")), c.kw.get("keepdim", False))

    return convert


def _softmax(op: str) -> Callable:
    return lambda g, c, alt: g.add(op, [g.name(c.inputs[0])], axis=int(c.kw["axis"]))


def _cumsum(g: Graph, c, alt) -> str:
    x = g.name(c.inputs[0])
    if c.kw.get("dtype") is not None:
        x = g.add("Cast", [x], to=onnx_type(c.output.dtype))
    return g.add("CumSum", [x, g.const(xp.asarray(int(c.kw["axis"]), dtype=xp.int64), "axis")])


def _linear(g: Graph, c, alt) -> str:
    """y = x Wᵀ + b: Gemm for a 2-D input (as torch.onnx writes it), else MatMul with Wᵀ and Add."""
    x, w = c.inputs[0], c.inputs[1]
    b = c.inputs[2] if len(c.inputs) > 2 else None
    if x.ndim == 2:
        return g.add("Gemm", [g.name(x), g.name(w)] + ([g.name(b)] if b is not None else []), transB=1)
    y = g.add("MatMul", [g.name(x), g.add("Transpose", [g.name(w)], perm=[1, 0])])
    return g.add("Add", [y, g.name(b)]) if b is not None else y


def _conv_attrs(kw: dict, k) -> dict:
    (ph0, ph1), (pw0, pw1) = kw["pads"][:2] if isinstance(kw["pads"][0], tuple) else (kw["pads"][:2], kw["pads"][2:])
    return dict(kernel_shape=[int(v) for v in k], strides=[int(v) for v in kw["stride"]], dilations=[int(v) for v in kw["dil"]],
                group=int(kw["groups"]), pads=[int(ph0), int(pw0), int(ph1), int(pw1)])


def _conv(g: Graph, c, alt) -> str:
    return g.add("Conv", [g.name(t) for t in c.inputs], **_conv_attrs(c.kw, c.inputs[1].shape[2:]))


def _conv_transpose(g: Graph, c, alt) -> str:
    gy, w = c.inputs[0], c.inputs[1]
    attrs = _conv_attrs(c.kw, w.shape[2:])
    p = attrs["pads"][:2]  # torch's padding p on both sides; the extra rows are output_padding
    attrs["pads"] = p * 2
    k, s, d = attrs["kernel_shape"], attrs["strides"], attrs["dilations"]
    natural = [(gy.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i in range(2)]
    attrs["output_padding"] = [int(c.kw["x_hw"][i] - natural[i]) for i in range(2)]
    return g.add("ConvTranspose", [g.name(t) for t in c.inputs], **attrs)


def _window_weight(channels: int, k, dtype):
    """One-hot weights (C·kH·kW, 1, kH, kW): output channel c·kk + i·kW + j of a grouped convolution reads
    kernel position (i, j) of channel c, so Conv is unfold (im2col) and ConvTranspose is fold (col2im)."""
    kk = k[0] * k[1]
    w = xp.zeros((channels * kk, 1, k[0], k[1]), dtype)
    pos = xp.arange(channels * kk) % kk
    w[xp.arange(channels * kk), 0, pos // k[1], pos % k[1]] = 1
    return w


def _window_attrs(k, s, p, d, channels: int) -> dict:
    return dict(kernel_shape=[int(v) for v in k], strides=[int(v) for v in s], dilations=[int(v) for v in d],
                pads=[int(p[0]), int(p[1])] * 2, group=int(channels))


def _unfold(g: Graph, c, alt) -> str:
    """F.unfold: a grouped Conv with one-hot weights, (N, C, H, W) → (N, C·kk, Lh, Lw), reshaped to (N, C·kk, L)."""
    x, (k, s, p, d) = c.inputs[0], (c.kw["k"], c.kw["stride"], c.kw["pad"], c.kw["dil"])
    channels = x.shape[1]
    w = g.const(_window_weight(channels, k, x.dtype), "window")
    y = g.add("Conv", [g.name(x), w], **_window_attrs(k, s, p, d, channels))
    return g.add("Reshape", [y, g.ints([0, c.output.shape[1], c.output.shape[2]])])


def _fold(g: Graph, c, alt) -> str:
    """F.fold: the (N, C·kk, L) columns reshaped to (N, C·kk, Lh, Lw), then a grouped ConvTranspose with the
    one-hot weights of _unfold, which adds overlapping windows back (col2im)."""
    col, (hw, (k, s, p, d)) = c.inputs[0], (c.kw["out_hw"], c.kw["args"])
    channels = col.shape[1] // (k[0] * k[1])
    natural = [(hw[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    x = g.add("Reshape", [g.name(col), g.ints([0, col.shape[1], *natural])])
    w = g.const(_window_weight(channels, k, col.dtype), "window")
    attrs = _window_attrs(k, s, p, d, channels)
    attrs["output_padding"] = [int(hw[i] - ((natural[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1)) for i in range(2)]
    return g.add("ConvTranspose", [x, w], **attrs)


def _pool_attrs(geom) -> dict:
    ceil = any(o != (h + 2 * p - d * (k - 1) - 1) // s + 1 for o, h, p, d, k, s in zip(geom.out, geom.hw, geom.p, geom.d, geom.k, geom.s))
    return dict(kernel_shape=[int(v) for v in geom.k], strides=[int(v) for v in geom.s], pads=[int(p) for p in geom.p] * 2,
                ceil_mode=int(ceil))


def _max_pool(g: Graph, c, alt) -> str:
    geom = c.kw["geom"]
    return g.add("MaxPool", [g.name(c.inputs[0])], dilations=[int(v) for v in geom.d], **_pool_attrs(geom))


def _avg_pool(g: Graph, c, alt) -> str:
    geom, div = c.kw["geom"], c.kw["div"]
    if isinstance(div, float) and div != geom.k[0] * geom.k[1]:
        raise UnsupportedOperatorError(f"avg_pool2d with divisor_override={div} has no ONNX operator")
    include = int(isinstance(div, float))
    return g.add("AveragePool", [g.name(c.inputs[0])], count_include_pad=include, **_pool_attrs(geom))


def _repeat_nearest(g: Graph, c, alt) -> str:
    f = c.kw["f"]
    scales = g.const(xp.asarray([1.0, 1.0, float(f[0]), float(f[1])], dtype=xp.float32), "scales")
    return g.add("Resize", [g.name(c.inputs[0]), "", scales], mode="nearest", nearest_mode="floor",
                 coordinate_transformation_mode="asymmetric")


def _channel_affine(g: Graph, c, alt) -> str:
    x, s, t = c.inputs
    shape = g.ints([-1] + [1] * (x.ndim - 2))
    y = g.add("Mul", [g.name(x), g.add("Reshape", [g.name(s), shape])])
    return g.add("Add", [y, g.add("Reshape", [g.name(t), shape])])


def _normalize(g: Graph, c, alt) -> str:
    """(x − μ)/√(σ² + ε)·γ + β over ``axes``: LayerNormalization when the axes are the last ones
    (opset ≥ 17), else written out."""
    x, kw = c.inputs[0], c.kw
    axes = sorted(int(a) % x.ndim for a in kw["axes"])
    dtype = x.dtype
    w = c.inputs[1] if kw["has_w"] else None
    b = c.inputs[-1] if kw["has_b"] else None
    k, ps = x.ndim - axes[0], tuple(kw["pshape"])
    if g.opset >= 17 and axes == list(range(axes[0], x.ndim)) and ps[-k:] == tuple(x.shape[axes[0]:]) and set(ps[:-k]) <= {1}:
        norm_shape = list(x.shape[axes[0]:])
        shape = g.ints(norm_shape)
        scale = g.add("Reshape", [g.name(w), shape]) if w is not None else g.const(xp.ones(norm_shape, dtype), "ones")
        inputs = [g.name(x), scale] + ([g.add("Reshape", [g.name(b), shape])] if b is not None else [])
        return g.add("LayerNormalization", inputs, axis=axes[0], epsilon=float(kw["eps"]))
    xc = g.add("Sub", [g.name(x), g.axes_op("ReduceMean", g.name(x), axes, True)])
    var = g.axes_op("ReduceMean", g.add("Mul", [xc, xc]), axes, True)
    y = g.add("Div", [xc, g.add("Sqrt", [g.add("Add", [var, g.scalar(kw["eps"], dtype)])])])
    pshape = g.ints(ps)
    if w is not None:
        y = g.add("Mul", [y, g.add("Reshape", [g.name(w), pshape])])
    if b is not None:
        y = g.add("Add", [y, g.add("Reshape", [g.name(b), pshape])])
    return y


def _embedding(g: Graph, c, alt) -> str:
    idx = g.array_name(c.kw["idx"])  # the index comes as an array: the input it was read from
    if c.kw["idx"].dtype != xp.int64:
        idx = g.add("Cast", [idx], to=onnx_type(xp.int64))
    return g.add("Gather", [g.name(c.inputs[0]), idx], axis=0)


def _gather(g: Graph, c, alt) -> str:
    a, index = c.inputs
    return g.add("GatherElements", [g.name(a), g.operand(index, xp.int64)], axis=int(c.kw["dim"]))


def _getitem(g: Graph, c, alt) -> str:
    """Basic indexing: slices, integers, None and Ellipsis; an integer-array index on one axis."""
    x = c.inputs[0]
    key = c.kw["key"] if isinstance(c.kw["key"], tuple) else (c.kw["key"],)
    ell = [i for i, k in enumerate(key) if k is Ellipsis]
    if ell:
        i = ell[0]
        rest = sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - rest) + key[i + 1:]
    name, axis, drop, new = g.name(x), 0, [], []
    starts, ends, axes, steps = [], [], [], []
    arrays = [(i, k) for i, k in enumerate(key) if isinstance(k, xp.ndarray)]
    if len(arrays) > 1:
        raise UnsupportedOperatorError("indexing with more than one index array has no ONNX mapping here")
    out_axis = 0
    for k in key:
        if k is None:
            new.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, slice):
            start, stop, step = k.indices(x.shape[axis])
            if (start, stop, step) != (0, x.shape[axis], 1):
                starts.append(start)
                ends.append(stop if step > 0 or stop >= 0 else xp.iinfo(xp.int64).min)
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        elif not isinstance(k, xp.ndarray):
            drop.append((axis, int(k) % x.shape[axis]))
        axis += 1
    if starts:
        name = g.add("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    for a, _ in arrays:  # one index array: Gather along its axis (its dims replace that axis)
        index = g.array_name(key[a])  # an index array is the input it came from, or a constant
        if key[a].dtype != xp.int64:
            index = g.add("Cast", [index], to=onnx_type(xp.int64))
        name = g.add("Gather", [name, index], axis=a)
    for a, i in reversed(drop):  # an integer index removes its axis
        name = g.add("Gather", [name, g.const(xp.asarray(i, dtype=xp.int64), "index")], axis=a)
    if new:
        name = g.add("Unsqueeze", [name, g.ints(new)])
    return name


def _einsum(g: Graph, c, alt) -> str:
    return g.add("Einsum", [g.name(t) for t in c.inputs], equation=",".join(c.kw["ins"]) + "->" + c.kw["out"])


def _attention(g: Graph, c, alt) -> str:
    """softmax(q kᵀ·scale + M) v; q, k, v from the packed (3, ...) input or three inputs."""
    if c.kw.get("drop") is not None:
        raise UnsupportedOperatorError("attention with dropout in training mode: export in eval mode")
    n_qkv = 1 if c.fn.packed else 3
    if c.fn.packed:
        qkv = g.name(c.inputs[0])
        q, k, v = (g.add("Gather", [qkv, g.const(xp.asarray(i, dtype=xp.int64), "index")], axis=0) for i in range(3))
        nd = c.inputs[0].ndim - 1
    else:
        q, k, v = (g.name(t) for t in c.inputs[:3])
        nd = c.inputs[1].ndim
    dtype = c.output.dtype
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    s = g.add("Mul", [g.add("MatMul", [q, g.add("Transpose", [k], perm=perm)]), g.scalar(c.kw["scale"], dtype)])
    for m in c.inputs[n_qkv:]:
        s = g.add("Add", [s, g.operand(m, dtype)])
    if c.kw.get("add") is not None:
        s = g.add("Add", [s, g.const(c.kw["add"].astype(dtype), "mask")])
    return g.add("MatMul", [g.add("Softmax", [s], axis=-1), v])


CONVERTERS: dict[str, Callable] = {name: _same for name in SAME}
CONVERTERS.update({
    "Where": _where, "Step": _step, "Clamp": _clamp, "Round": _round, "Trunc": _trunc, "Remainder": _remainder,
    "Fmod": _fmod, "LogSigmoid": _log_sigmoid, "Cast": _cast, "Compare": _compare,
    "Expm1": _unary(("Exp", None), ("Sub", 1)), "Log1p": _unary(("Add", 1), ("Log", None)),
    "Log2": _unary(("Log", None), ("Div", math.log(2))), "Log10": _unary(("Log", None), ("Div", math.log(10))),
    "Exp2": _unary(("Mul", math.log(2)), ("Exp", None)), "Rsqrt": _unary(("Sqrt", None), ("Reciprocal", None)),
    "Reshape": _reshape, "BroadcastTo": _expand, "Permute": _permute, "Cat": _cat, "Tile": _tile, "Flip": _flip,
    "PadConstant": _pad_constant,
    "Sum": _reduce("ReduceSum"), "Mean": _reduce("ReduceMean"), "_Amax": _reduce("ReduceMax"), "_Amin": _reduce("ReduceMin"),
    "Var": _var, "Std": _var, "Prod": _reduce("ReduceProd"), "LogSumExp": _reduce("ReduceLogSumExp"),
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"), "Cumsum": _cumsum,
    "Linear": _linear, "Conv2d": _conv, "ConvTranspose2d": _conv_transpose, "MaxPool2d": _max_pool, "AvgPool2d": _avg_pool,
    "Unfold": _unfold, "Fold": _fold,
    "_RepeatNearest": _repeat_nearest, "ChannelAffine": _channel_affine, "Normalize": _normalize, "NormalizePlain": _normalize, "BatchNormalize": _normalize,
    "Embedding": _embedding, "Gather": _gather, "GetItem": _getitem, "_GetItemView": _getitem, "Einsum": _einsum,
    "ScaledDotProductAttention": _attention, "PackedAttention": _attention,
})
