"""Pooling (池化) and resampling (上采样): max/avg pooling, adaptive average pooling, max unpooling,
interpolate (nearest, bilinear).

Fang ch. 7 (池化: max pooling keeps the largest value of each window, average pooling the mean;
上采样: nearest-neighbour and bilinear upsampling, max unpooling). Semantics follow
``torch.nn.functional``: windows of size k at stride s over the input padded by p (max pooling pads
with −∞, so padding never wins), dilation d (空洞) for max pooling, ``ceil_mode`` lets the last
window hang over the edge when it starts inside the input or the left padding.

Vectorised over positions: a pooling layer loops only over the kH·kW offsets of its window, each
step one array operation. NumPy is an order of magnitude slower on strided views with short inner
runs than on compact arrays, so the offsets are first gathered into one compact stack
(kH·kW, N, C, H_out, W_out) — or, when the windows tile the input (kernel = stride, the common
2×2 case), the input is only reshaped to (N, C, H_out, kH, W_out, kW) and reduced over j, then
over i. Max pooling keeps, per output, the offset of the first maximum (uint8, as a running
maximum of t·[v > m]), and its backward writes the gradient back offset by offset (plain
assignment when windows do not overlap). The scatter and the matching gather are Functions that
are each other's backward, so max- and average-pooling are differentiable to any order. Results
keep the memory layout of the input (channels-last after a conv); large tiled poolings are split
over the batch on ``shenjing.ops.parallel`` threads.
"""

from __future__ import annotations

import math

from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Tensor
from ..backend import xp
from .conv import ntuple
from .parallel import for_chunks
from .workspace import give as _give
from .workspace import take as _take

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d", "interpolate", "upsample",
]


# ------------------------------------------------------------------ geometry


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """⌊(or ⌈)(size + 2p − d(k − 1) − 1)/s⌉ + 1, without a last window that starts in the right padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Geom:
    """Window geometry of one 2-D pooling: kernel, stride, padding, dilation, input and output sizes."""

    __slots__ = ("k", "s", "p", "d", "hw", "out", "full", "overlap", "tiles")

    def __init__(self, k, s, p, d, hw, out) -> None:
        self.k, self.s, self.p, self.d, self.hw, self.out = k, s, p, d, hw, out
        # the padded extent the windows reach, at least the (left-padded) input
        self.full = tuple(max(hw[i] + p[i], (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1) for i in range(2))
        self.overlap = any(d[i] * (k[i] - 1) >= s[i] for i in range(2))
        # the windows cover the input exactly once (k = s, no padding, nothing left over): no zeroing needed
        self.tiles = all(p[i] == 0 and d[i] * (k[i] - 1) + 1 == s[i] == k[i] and out[i] * s[i] == hw[i] for i in range(2))

    def pad(self, x, value):
        """x (N, C, H, W) inside an array of the padded extent filled with ``value`` (x itself if none
        needed), in x's memory layout."""
        (p0, p1), (H, W), (Hf, Wf) = self.p, self.hw, self.full
        if p0 == 0 and p1 == 0 and Hf <= H and Wf <= W:
            return x
        N, C = x.shape[:2]
        if channels_last(x):
            out = xp.full((N, Hf, Wf, C), value, dtype=x.dtype).transpose(0, 3, 1, 2)
        else:
            out = xp.full((N, C, Hf, Wf), value, dtype=x.dtype)
        out[:, :, p0:p0 + H, p1:p1 + W] = x
        return out

    def crop(self, a):
        (p0, p1), (H, W) = self.p, self.hw
        if a.shape[2:] == (H, W):
            return a
        return a[:, :, p0:p0 + H, p1:p1 + W].copy(order="K")

    def views(self, a):
        """The kH·kW strided views (N, C, H_out, W_out) of the padded array, one per window offset."""
        (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = self.k, self.s, self.d, self.out
        return [a[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw]
                for i in range(kh) for j in range(kw)]

    def stack(self, a):
        """The window offsets as one compact array (kH·kW, N, C, H_out, W_out), in a's layout.

        NumPy is an order of magnitude faster on compact operands than on these strided views
        (inner runs of W_out at stride s), so the views are copied once and all arithmetic is
        done on the stack."""
        (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = self.k, self.s, self.d, self.out
        N, C = a.shape[:2]
        if channels_last(a):
            m = a.transpose(0, 2, 3, 1)
            sn, sy, sx, sc = m.strides
            win = _as_strided(m, (kh, kw, N, Ho, Wo, C), (sy * dh, sx * dw, sn, sy * sh, sx * sw, sc), writeable=False)
            return win.reshape(kh * kw, N, Ho, Wo, C).transpose(0, 1, 4, 2, 3)
        sn, sc, sy, sx = a.strides
        win = _as_strided(a, (kh, kw, N, C, Ho, Wo), (sy * dh, sx * dw, sn, sc, sy * sh, sx * sw), writeable=False)
        return win.reshape(kh * kw, N, C, Ho, Wo)

    def scatter(self, parts, shape, dtype, cl: bool):
        """Σ_t parts[t] placed at window offset t: the adjoint of ``stack``, cropped to the input
        (channels-last memory when ``cl``)."""
        Hf, Wf = max(self.full[0], self.hw[0] + self.p[0]), max(self.full[1], self.hw[1] + self.p[1])
        new = xp.empty if self.tiles else xp.zeros
        N, C = shape[:2]
        gx = new((N, Hf, Wf, C), dtype=dtype).transpose(0, 3, 1, 2) if cl else new((N, C, Hf, Wf), dtype=dtype)
        for v, part in zip(self.views(gx), parts):
            if self.overlap:
                v += part
            else:
                v[...] = part
        return self.crop(gx)


def channels_last(a) -> bool:
    """Is the (N, C, H, W) array stored channels-last ((N, H, W, C) in memory, as conv outputs are)?"""
    return a.ndim == 4 and a.shape[1] > 1 and not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous


def _same_layout(a, ref):
    """``a`` in the memory layout of ``ref`` (channels-last or not), copied only if they differ."""
    if channels_last(ref) == channels_last(a) and (a.flags.c_contiguous or channels_last(a)):
        return a
    if channels_last(ref):
        return xp.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(a)


_as_strided = xp.lib.stride_tricks.as_strided


# ------------------------------------------------------------------ max pooling


def _lowest(dtype):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


class MaxPool2d(Function):
    """y[n,c,h,w] = max_{i,j} x_pad[n, c, h·s + i·d, w·s + j·d] (最大池化), padding with −∞.

    Keeps the offset t = i·kW + j of the first maximum of each window (PyTorch's tie rule; NaN wins).
    Backward: the gradient goes to that position only (MaxPoolScatter)."""

    saves_inputs = False

    def forward(self, x, geom, need_arg, box=None):
        self.geom = geom
        if geom.tiles and x.dtype.kind == "f" and geom.k[0] * geom.k[1] < 256:
            N, C = x.shape[:2]
            cl = channels_last(x)
            m = xp.empty((N,) + geom.out + (C,), dtype=x.dtype).transpose(0, 3, 1, 2) if cl else \
                xp.empty((N, C) + geom.out, dtype=x.dtype)
            arg = xp.empty_like(m, dtype=xp.uint8) if need_arg else None

            def part(lo, hi):
                mm, aa = _max_tiles(x[lo:hi], geom, need_arg)
                m[lo:hi] = mm
                if need_arg:
                    arg[lo:hi] = aa

            for_chunks(part, N, x.size, block=_block(x))
            if not xp.isnan(m).any():  # maximum propagates NaN: none in m, none in x
                self.arg = arg
                if box is not None:
                    box.append(arg)
                return m
        S = geom.stack(geom.pad(x, _lowest(x.dtype)))
        m = S[0].copy(order="K")
        adt = xp.uint8 if len(S) < 256 else xp.int32
        arg = xp.zeros_like(m, dtype=adt) if need_arg else None
        nan = x.dtype.kind == "f" and bool(xp.isnan(x).any()) if len(S) > 1 else False
        for t in range(1, len(S)):
            v = S[t]
            upd = v > m
            if nan:  # NaN wins, as in torch
                upd |= xp.isnan(v) & ~xp.isnan(m)
            if arg is not None:  # an update sets arg to t, larger than any earlier offset
                xp.maximum(arg, upd.astype(adt) * adt(t), out=arg)
            if nan:
                xp.copyto(m, v, where=upd)
            else:
                xp.maximum(m, v, out=m)
        self.arg = arg
        if box is not None:
            box.append(arg)
        return m

    def backward(self, g):
        return MaxPoolScatter.apply(g, arg=self.arg, geom=self.geom)


#: the tiled max pooling and its backward run over pieces of the batch of at most this many bytes
#: of input, which stay in cache through their several passes (pool-1 forward of the small CNN,
#: one thread: 4.0 → 2.6 ms)
POOL_BLOCK_BYTES = 1 << 21


def _block(a) -> int:
    """Samples of ``a`` (N, C, H, W) per piece of at most POOL_BLOCK_BYTES."""
    return max(1, POOL_BLOCK_BYTES // max(1, a[:1].nbytes))


def _running_max(views, need_arg: bool, out=None):
    """Max over the arrays ``views`` with the index of the first maximum (uint8), kept running."""
    if not need_arg:
        m = xp.maximum(views[0], views[1], out=out)
        for v in views[2:]:
            xp.maximum(m, v, out=m)
        return m, None
    v0, v1 = views[0], views[1]
    arg = (v1 > v0).view(xp.uint8)
    m = xp.maximum(v0, v1, out=out)
    for t in range(2, len(views)):
        v = views[t]
        # an update sets arg to t, larger than any earlier offset: arg = max(arg, t·[v > m])
        xp.maximum(arg, (v > m).view(xp.uint8) * xp.uint8(t), out=arg)
        xp.maximum(m, v, out=m)
    return m, arg


def _max_tiles(x, geom: _Geom, need_arg: bool):
    """Max pooling when the windows tile the input (kernel = stride, no padding), the reshape trick:
    x viewed (no copy) as (N, C, H_out, kH, W_out, kW); first the max over j within each window
    row (keeping the first maximum), then over the rows i — together the first maximum in the
    row-major order of the window, PyTorch's tie rule. The second stage runs over long contiguous
    rows in either memory layout."""
    (kh, kw), (Ho, Wo) = geom.k, geom.out
    N, C = x.shape[:2]
    x6 = x.reshape(N, C, Ho, kh, Wo, kw)
    scratch = None
    if kw > 1 and kh > 1:  # the row maxima are scratch: from the workspace, in x's layout
        if channels_last(x):
            scratch = _take((N, Ho, kh, Wo, C), x.dtype).transpose(0, 4, 1, 2, 3)
        else:
            scratch = _take((N, C, Ho, kh, Wo), x.dtype)
    if kw > 1:
        mj, cj = _running_max([x6[..., j] for j in range(kw)], need_arg, out=scratch)  # (N, C, Ho, kh, Wo)
    else:
        mj, cj = x6[..., 0], (xp.zeros(x6.shape[:5], dtype=xp.uint8) if need_arg else None)
    if kh > 1:
        m, ci = _running_max([mj[:, :, :, i] for i in range(kh)], need_arg)  # (N, C, Ho, Wo)
        _give(scratch)
    else:
        m, ci = mj[:, :, :, 0].copy(order="K"), (xp.zeros(mj[:, :, :, 0].shape, dtype=xp.uint8) if need_arg else None)
    if not need_arg:
        return m, None
    if kh == 1:
        sel = cj[:, :, :, 0]
    elif kh == 2:
        c0, c1 = cj[:, :, :, 0], cj[:, :, :, 1]
        sel = c0 + ci * (c1 - c0)  # uint8 arithmetic wraps consistently
    else:
        sel = xp.take_along_axis(cj, ci[:, :, :, None, :].astype(xp.intp), axis=3)[:, :, :, 0]
    arg = ci * kw + sel if kw > 1 else ci
    return m, arg.astype(xp.uint8, copy=False)


class MaxPoolScatter(Function):
    """x̄ = scatter of ȳ to the argmax position of each window (the gradient of max pooling).

    Linear in ȳ; backward: MaxPoolGather, which reads the cotangent at the same positions."""

    saves_inputs = False

    def forward(self, g, arg, geom):
        self.arg, self.geom = arg, geom
        n = geom.k[0] * geom.k[1]
        g = _same_layout(g, arg)
        if geom.tiles:  # every input position is written once: fill the gradient batch-chunk by chunk
            N, C = g.shape[:2]
            cl = channels_last(arg)
            H, W = geom.hw
            gx = xp.empty((N, H, W, C), dtype=g.dtype).transpose(0, 3, 1, 2) if cl else xp.empty((N, C, H, W), dtype=g.dtype)
            views = geom.views(gx)

            def part(lo, hi):
                gc, ac = g[lo:hi], arg[lo:hi]
                for t in range(n):
                    views[t][lo:hi] = gc * (ac == t)

            for_chunks(part, N, gx.size, block=_block(gx))
            return gx
        return geom.scatter((g * (arg == t) for t in range(n)), g.shape, g.dtype, channels_last(arg))

    def backward(self, h):
        return MaxPoolGather.apply(h, arg=self.arg, geom=self.geom)


class MaxPoolGather(Function):
    """ȳ[n,c,h,w] = h at the argmax position of window (h, w): the adjoint of MaxPoolScatter."""

    saves_inputs = False

    def forward(self, h, arg, geom):
        self.arg, self.geom = arg, geom
        S = geom.stack(geom.pad(h, 0))
        out = xp.zeros_like(arg, dtype=h.dtype)
        for t in range(len(S)):
            out += S[t] * (arg == t)
        return out

    def backward(self, g):
        return MaxPoolScatter.apply(g, arg=self.arg, geom=self.geom)


def _check_pool_input(op: str, input: Tensor, nd: int) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: Expected {nd + 1}D or {nd + 2}D input (got {input.ndim}D, shape {tuple(input.shape)})")
    if any(s == 0 for s in input.shape[-nd:]):
        raise ShapeError(f"{op}: Expected input's non-batch dimensions to have positive length, but input has a shape of {tuple(input.shape)}")


def _pool_geom(op: str, x_shape, kernel_size, stride, padding, dilation, ceil_mode, nd: int) -> _Geom:
    k = ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else ntuple(stride, nd, "stride")
    p = ntuple(padding, nd, "padding")
    d = ntuple(dilation, nd, "dilation")
    if any(v <= 0 for v in k + s + d):
        raise ValueError(f"{op}: kernel_size, stride and dilation must be greater than zero, got kernel_size={k}, stride={s}, dilation={d}")
    for kk, pp in zip(k, p):
        if pp < 0 or pp > kk // 2:
            raise ValueError(f"{op}: pad should be at most half of kernel size, but got pad={p} and kernel_size={k}")
    hw = tuple(x_shape[-nd:])
    out = tuple(_pool_out(hw[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    if any(o <= 0 for o in out):
        raise ShapeError(f"{op}: Given input size {tuple(x_shape)}, calculated output size {out} is too small (kernel_size={k}, "
                         f"stride={s}, padding={p}, dilation={d})")
    if nd == 1:
        k, s, p, d, hw, out = (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + hw, (1,) + out
    return _Geom(k, s, p, d, hw, out)


def _as_4d(x: Tensor, nd: int) -> tuple[Tensor, tuple]:
    """x as (N, C, H, W) (1-D inputs get H = 1, unbatched ones N = 1) and the shape to restore."""
    shape = tuple(x.shape)
    if x.ndim == nd + 1:
        x = x.unsqueeze(0)
    if nd == 1:
        x = x.unsqueeze(2)
    return x, shape


def _restore(y: Tensor, shape: tuple, nd: int) -> Tensor:
    if nd == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if len(shape) == nd + 1 else y


def _flat_indices(arg, geom: _Geom):
    """torch's indices: the argmax's flat position h·W + w in the (unpadded) input plane."""
    kw, (sh, sw), (ph, pw), (dh, dw), W, (Ho, Wo) = geom.k[1], geom.s, geom.p, geom.d, geom.hw[1], geom.out
    a = arg.astype(xp.int64)
    h = xp.arange(Ho, dtype=xp.int64).reshape(-1, 1) * sh - ph + (a // kw) * dh
    w = xp.arange(Wo, dtype=xp.int64) * sw - pw + (a % kw) * dw
    return h * W + w


def _max_pool(op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    _check_pool_input(op, input, nd)
    x, shape = _as_4d(input, nd)
    geom = _pool_geom(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode, nd)
    need_arg = return_indices or input.requires_grad
    box: list = []
    y = _restore(MaxPool2d.apply(x, geom=geom, need_arg=need_arg, box=box), shape, nd)
    if not return_indices:
        return y
    return y, _restore(Tensor._make(_flat_indices(box[0], geom)), shape, nd)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling (最大池化, Fang ch. 7), torch.nn.functional.max_pool2d:
    y[n,c,h,w] = max_{i<kH, j<kW} x_pad[n, c, h·s + i·d, w·s + j·d] with −∞ padding.

    ``stride`` defaults to ``kernel_size``; with ``return_indices`` also the flat index h·W + w of
    each maximum in its input plane (for max_unpool2d)."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """1-D max pooling (一维最大池化) over the last dim of (N, C, L) or (C, L)."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


# ------------------------------------------------------------------ average pooling


def _avg_divisor(geom: _Geom, count_include_pad: bool, divisor_override):
    """The divisor of each window, torch's rule: the window clipped to the padded input (or to the
    input itself when not count_include_pad); an (H_out, W_out) array or a number."""
    if divisor_override:
        return float(divisor_override)
    parts = []
    for i in range(2):
        o = xp.arange(geom.out[i])
        start = o * geom.s[i] - geom.p[i]
        end = xp.minimum(start + geom.k[i], geom.hw[i] + geom.p[i])
        if count_include_pad:
            parts.append(end - start)
        else:
            parts.append(xp.minimum(end, geom.hw[i]) - xp.maximum(start, 0))
    div = parts[0].reshape(-1, 1) * parts[1].reshape(1, -1)
    if (div == div.flat[0]).all():
        return float(div.flat[0])
    return div


class AvgPool2d(Function):
    """y[n,c,h,w] = (1/|window|) Σ_{i,j} x_pad[n, c, h·s + i, w·s + j] (平均池化), zero padding.

    Backward: each output's gradient spread evenly over its window (AvgPoolScatter)."""

    saves_inputs = False

    def forward(self, x, geom, div):
        self.geom, self.div = geom, div
        S = geom.stack(geom.pad(x, 0))
        y = S.sum(0, dtype=x.dtype if x.dtype.kind == "f" else xp.float64)
        y /= xp.asarray(div, dtype=y.dtype) if not isinstance(div, float) else y.dtype.type(div)
        return y

    def backward(self, g):
        return AvgPoolScatter.apply(g, geom=self.geom, div=self.div)


class AvgPoolScatter(Function):
    """x̄ = Σ_windows scatter(ȳ / |window|): the gradient of average pooling (its adjoint), linear in ȳ.

    Backward: AvgPool2d with the same divisors."""

    saves_inputs = False

    def forward(self, g, geom, div):
        self.geom, self.div = geom, div
        gd = g / (xp.asarray(div, dtype=g.dtype) if not isinstance(div, float) else g.dtype.type(div))
        return geom.scatter([gd] * (geom.k[0] * geom.k[1]), g.shape, g.dtype, channels_last(g))

    def backward(self, h):
        return AvgPool2d.apply(h, geom=self.geom, div=self.div)


def _avg_pool(op, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd):
    _check_pool_input(op, input, nd)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    x, shape = _as_4d(input, nd)
    geom = _pool_geom(op, x.shape, kernel_size, stride, padding, 1, ceil_mode, nd)
    div = _avg_divisor(geom, count_include_pad, divisor_override)
    return _restore(AvgPool2d.apply(x, geom=geom, div=div), shape, nd)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """2-D average pooling (平均池化, Fang ch. 7), torch.nn.functional.avg_pool2d: the mean of
    each kH×kW window of the zero-padded input; ``count_include_pad=False`` divides by the number
    of real (unpadded) pixels in the window instead."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling (一维平均池化) over the last dim of (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


# ------------------------------------------------------------------ adaptive pooling


def _adaptive_sizes(input: Tensor, output_size, nd: int) -> tuple:
    out = ntuple(output_size, nd, "output_size") if not isinstance(output_size, (list, tuple)) or None not in output_size \
        else tuple(input.shape[-nd + i] if o is None else int(o) for i, o in enumerate(output_size))
    if any(o <= 0 for o in out):
        raise ValueError(f"adaptive pooling: output_size must be positive, got {out}")
    return out


def _adaptive_matrix(n_in: int, n_out: int, dtype):
    """P (n_out, n_in): row i averages input [⌊i·n_in/n_out⌋, ⌈(i+1)·n_in/n_out⌉)."""
    P = xp.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):
        a, b = (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)
        P[i, a:b] = 1.0 / (b - a)
    return P


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Adaptive average pooling (自适应平均池化), torch.nn.functional.adaptive_avg_pool2d: output
    cell (i, j) is the mean of input rows [⌊iH/H_o⌋, ⌈(i+1)H/H_o⌉) × the same for columns;
    (1, 1) is global average pooling (全局平均池化)."""
    _check_pool_input("adaptive_avg_pool2d", input, 2)
    Ho, Wo = _adaptive_sizes(input, output_size, 2)
    H, W = input.shape[-2], input.shape[-1]
    if (Ho, Wo) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if H % Ho == 0 and W % Wo == 0:
        return avg_pool2d(input, (H // Ho, W // Wo))
    dt = input._data.dtype
    y = Tensor._make(_adaptive_matrix(H, Ho, dt)) @ input if Ho != H else input
    return y @ Tensor._make(_adaptive_matrix(W, Wo, dt).T) if Wo != W else y


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """1-D adaptive average pooling (一维自适应平均池化) over the last dim of (N, C, L) or (C, L)."""
    _check_pool_input("adaptive_avg_pool1d", input, 1)
    (Lo,) = ntuple(output_size, 1, "output_size")
    L = input.shape[-1]
    if Lo == 1:
        return input.mean(-1, keepdim=True)
    return input @ Tensor._make(_adaptive_matrix(L, Lo, input._data.dtype).T) if Lo != L else input


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling (自适应最大池化): the max over the same cells as adaptive_avg_pool2d
    (computed as max_pool2d where the cells are a regular grid)."""
    _check_pool_input("adaptive_max_pool2d", input, 2)
    Ho, Wo = _adaptive_sizes(input, output_size, 2)
    H, W = input.shape[-2], input.shape[-1]
    if H % Ho == 0 and W % Wo == 0:
        return max_pool2d(input, (H // Ho, W // Wo), return_indices=return_indices)
    raise NotImplementedError("adaptive_max_pool2d: only output sizes that divide the input size are supported")


# ------------------------------------------------------------------ max unpooling


class MaxUnpool2d(Function):
    """out = zeros(N, C, H_out·W_out) with out[n, c, idx[n,c,l]] = x[n,c,l] (最大反池化).

    Backward: UnpoolGather reads the gradient at the same indices."""

    saves_inputs = False

    def forward(self, x, idx, out_hw):
        self.idx, self.in_shape = idx, x.shape
        N, C = x.shape[:2]
        out = xp.zeros((N, C, out_hw[0] * out_hw[1]), dtype=x.dtype)
        xp.put_along_axis(out, idx, x.reshape(N, C, -1), axis=2)
        return out.reshape(N, C, *out_hw)

    def backward(self, g):
        return UnpoolGather.apply(g, idx=self.idx, in_shape=self.in_shape)


class UnpoolGather(Function):
    """y[n,c,l] = g[n, c, idx[n,c,l]]: the adjoint of MaxUnpool2d."""

    saves_inputs = False

    def forward(self, g, idx, in_shape):
        self.idx, self.out_hw = idx, g.shape[2:]
        N, C = g.shape[:2]
        return xp.take_along_axis(g.reshape(N, C, -1), idx, axis=2).reshape(in_shape)

    def backward(self, h):
        return MaxUnpool2d.apply(h, idx=self.idx, out_hw=self.out_hw)


def _max_unpool(op, input, indices, kernel_size, stride, padding, output_size, nd):
    _check_pool_input(op, input, nd)
    idx = indices._data if isinstance(indices, Tensor) else xp.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected indices to have dtype int64, got {idx.dtype}")
    if tuple(idx.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: Expected shape of indices to be same as that of the input tensor ({tuple(input.shape)}) "
                         f"but got indices tensor with shape {tuple(idx.shape)}")
    k = ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else ntuple(stride, nd, "stride")
    p = ntuple(padding, nd, "padding")
    default = tuple((input.shape[-nd + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in tuple(output_size)[-nd:])
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out[i] < hi:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim {i} must be between {lo} and {hi} exclusive)")
    x, shape = _as_4d(input, nd)
    idx4 = idx.reshape(tuple(x.shape[:2]) + (-1,)).astype(xp.int64, copy=False)
    plane = math.prod(out)
    if idx4.size and (idx4.min() < 0 or idx4.max() >= plane):
        raise RuntimeError(f"{op}: Found an invalid max index: {int(idx4.max() if idx4.max() >= plane else idx4.min())} "
                           f"(output volume of size {'x'.join(map(str, out))})")
    hw = out if nd == 2 else (1,) + out
    y = MaxUnpool2d.apply(x, idx=idx4, out_hw=hw)
    return _restore(y, shape, nd)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Max unpooling (最大反池化), torch.nn.functional.max_unpool2d: puts each value back at the
    position ``indices`` (from max_pool2d(..., return_indices=True)) and zeros elsewhere; default
    output size (H − 1)·s − 2p + k per dim."""
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """1-D max unpooling (一维最大反池化)."""
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding, output_size, 1)


# ------------------------------------------------------------------ interpolation (upsampling)


class _RepeatNearest(Function):
    """Nearest upsampling by integer factors (最近邻上采样): every pixel becomes an fH×fW block.

    Backward: the sum over each block (a reshape and a sum: differentiable again)."""

    saves_inputs = False

    def forward(self, x, f):
        self.f = f
        N, C, H, W = x.shape
        out = xp.empty((N, C, H, f[0], W, f[1]), dtype=x.dtype)
        out[...] = x[:, :, :, None, :, None]
        return out.reshape(N, C, H * f[0], W * f[1])

    def backward(self, g):
        N, C, H, W = g.shape
        f = self.f
        return g.reshape(N, C, H // f[0], f[0], W // f[1], f[1]).sum((3, 5))


def _nearest_index(n_in: int, n_out: int, scale, exact: bool):
    """torch's nearest source index: ⌊dst·scale⌋ (or ⌊(dst + ½)·scale⌋ for nearest-exact), clipped; in float32 like torch."""
    sc = xp.float32(1.0 / scale if scale else n_in / n_out)
    dst = xp.arange(n_out, dtype=xp.float32)
    src = xp.floor((dst + xp.float32(0.5)) * sc if exact else dst * sc).astype(xp.int64)
    return xp.minimum(src, n_in - 1)


def _linear_matrix(n_in: int, n_out: int, scale, align_corners: bool, dtype):
    """A (n_out, n_in) with the two linear-interpolation weights per row (torch's source index rule)."""
    if align_corners:
        sc = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = xp.arange(n_out, dtype=xp.float64) * sc
    else:
        sc = 1.0 / scale if scale else n_in / n_out
        src = xp.maximum(sc * (xp.arange(n_out, dtype=xp.float64) + 0.5) - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    i1 = xp.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    A = xp.zeros((n_out, n_in), dtype=xp.float64)
    rows = xp.arange(n_out)
    A[rows, i0] += 1.0 - lam
    A[rows, i1] += lam
    return A.astype(dtype)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resampling / upsampling (上采样, Fang ch. 7), torch.nn.functional.interpolate, for
    (N, C, L) and (N, C, H, W) inputs.

    ``nearest``: out[i] = in[⌊i·in/out⌋] (``nearest-exact``: ⌊(i + ½)·in/out⌋). ``linear`` /
    ``bilinear`` (双线性插值): each output pixel mixes its two neighbours per dim with weights
    1 − λ and λ, the source coordinate being i·(in − 1)/(out − 1) with ``align_corners=True``, else
    (i + ½)·in/out − ½ (clamped at 0). ``area`` is adaptive average pooling."""
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    nd = input.ndim - 2
    if nd not in (1, 2):
        raise ShapeError(f"interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: either size or scale_factor should be defined, and not both")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    in_sz = tuple(input.shape[2:])
    if size is not None:
        out_sz = ntuple(size, nd, "size")
        scales = (None,) * nd
    else:
        sf = tuple(float(v) for v in scale_factor) if isinstance(scale_factor, (list, tuple)) else (float(scale_factor),) * nd
        if len(sf) != nd:
            raise ValueError(f"interpolate: scale_factor must have {nd} elements for a {nd + 2}-D input, got {scale_factor}")
        out_sz = tuple(int(math.floor(n * f)) for n, f in zip(in_sz, sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    if any(o <= 0 for o in out_sz):
        raise ValueError(f"interpolate: output size {out_sz} must be positive (input {tuple(input.shape)})")
    if mode == "area":
        return adaptive_avg_pool2d(input, out_sz) if nd == 2 else adaptive_avg_pool1d(input, out_sz)
    x = input.unsqueeze(2) if nd == 1 else input
    ins, outs, scs = ((1,) + in_sz, (1,) + out_sz, (None,) + scales) if nd == 1 else (in_sz, out_sz, scales)
    if mode in ("nearest", "nearest-exact"):
        f = tuple(o // i if o % i == 0 else 0 for i, o in zip(ins, outs))
        if all(f) and all(s is None or s == ff for s, ff in zip(scs, f)):  # integer factors
            y = _RepeatNearest.apply(x, f=f) if f != (1, 1) else x
        else:
            y = x
            for ax in range(2):
                if ins[ax] != outs[ax]:
                    idx = _nearest_index(ins[ax], outs[ax], scs[ax], mode == "nearest-exact")
                    y = y.index_select(2 + ax, Tensor._make(idx))
    elif mode in ("linear", "bilinear"):
        if mode != ("linear" if nd == 1 else "bilinear"):
            raise ValueError(f"interpolate: mode {mode!r} expects a {'3' if mode == 'linear' else '4'}-D input, got {tuple(input.shape)}")
        ac = bool(align_corners)
        dt = x._data.dtype
        y = x
        if ins[0] != outs[0] or (scs[0] is not None and not ac):
            y = Tensor._make(_linear_matrix(ins[0], outs[0], scs[0], ac, dt)) @ y
        if ins[1] != outs[1] or (scs[1] is not None and not ac):
            y = y @ Tensor._make(_linear_matrix(ins[1], outs[1], scs[1], ac, dt).T)
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, nearest-exact, linear, bilinear, area)")
    return y.squeeze(2) if nd == 1 else y


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """torch.nn.functional.upsample (deprecated alias of interpolate)."""
    return interpolate(input, size, scale_factor, mode, align_corners)
