"""Normalisation (归一化): y = γ ⊙ (x − μ)/√(σ² + ε) + β over some axes — batch, layer and group norm.

One fused Function per layer, so that a training step records one node instead of a dozen. Its
backward has two forms of the same formulas: with ``create_graph=True`` it is written with Tensor
ops on the inputs (x̂ is rebuilt from ``x``), so the gradient is itself differentiable and second
derivatives are exact; otherwise it runs directly on the arrays.

Batch norm (statistics per channel, over every axis but 1) has its own array kernels, because it
runs on the large activations of a CNN and NumPy has no fused loop: every ufunc call is one pass
over memory. The kernels see the array as a matrix (P, Q) in memory order whose column q belongs to
channel ``chan[q]`` (:class:`ChannelLayout` — channels-last conv outputs and contiguous (N, C, *)
arrays alike, never a copy), process it in blocks of rows that stay in cache, and take the column
sums as GEMVs (1ᵀ·block). Per step and layer that is, in passes over the (N, C, H, W) arrays:

* forward: one pass for Σ(x − K), Σ(x − K)² (K = a per-channel shift, the mean of the first block:
  the shifted-data variance, as exact as two passes), one for y = x·α + β′ (α = γ/√(σ² + ε),
  β′ = β − μα: PyTorch's own form);
* backward: one pass for Σḡ and Σḡ(x − μ), one for ∂x = ḡ·u₁ − x·u₂ − u₃ (per-channel u).

Only x is kept for backward (as PyTorch does), no x̂; the sums are accumulated in float64.
"""

from __future__ import annotations

from ..autograd.broadcast import reduce_axes
from ..autograd.function import Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from .elementwise import check_same_dtype
from .pool import channels_last
from .workspace import give, take

__all__ = ["Normalize", "NormalizePlain", "BatchNormalize", "ChannelAffine", "ChannelLayout", "normalize", "channel_affine"]

#: elements per block of rows in the batch-norm kernels (measured best at 64–256 K floats: the
#: block and its scratch stay in L2 while the Python cost per NumPy call stays small)
BLOCK_ELEMENTS = 1 << 17


class Normalize(Function):
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β, with μ and the biased σ² taken over ``axes``.

    ``forward`` leaves μ and σ² in the ``stats`` dict (for running averages). Backward, with x̂ the
    normalised input and ĝ = g ⊙ γ:

        ∂x = invstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)),  ∂γ = Σ g ⊙ x̂,  ∂β = Σ g,  invstd = 1/√(σ² + ε).

    With create_graph the backward recomputes μ, σ², x̂ from x as Tensor ops, so it is exact to
    differentiate again."""

    def forward(self, x, *wb, axes, pshape, eps, stats, has_w, has_b):
        self.axes, self.pshape, self.eps, self.has_w, self.has_b = axes, pshape, eps, has_w, has_b
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = (xhat * xhat).mean(axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + eps)
        xhat *= invstd
        stats["mean"], stats["var"] = mean, var
        self.xhat, self.invstd = xhat, invstd
        if not has_w and not has_b:  # NormalizePlain: the output is x̂ itself, read back as self.output
            self.xhat = None
            return xhat
        out = xhat * wb[0].reshape(pshape) if has_w else xhat.copy()
        if has_b:
            out += wb[-1].reshape(pshape)
        return out

    def backward(self, g):
        if not grad_enabled():
            return self._backward_arrays(g._data)
        # create_graph: rebuild x̂ as a function of x, so that the gradient is differentiable
        x, axes = self.inputs[0], self.axes
        w = self.inputs[1] if self.has_w else None
        xc = x - x.mean(axes, keepdim=True)
        invstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
        xhat = xc * invstd
        need_x, need_w, need_b = self._needs()
        gx = gw = gb = None
        if need_x:
            gh = g * w.reshape(self.pshape) if w is not None else g
            gx = invstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        if need_w:
            gw = (g * xhat).sum(reduce_axes(g.shape, self.pshape), keepdim=True).reshape(w.shape)
        if need_b:
            b = self.inputs[-1]
            gb = g.sum(reduce_axes(g.shape, self.pshape), keepdim=True).reshape(b.shape)
        return self._pack(gx, gw, gb)

    def _backward_arrays(self, g):
        """The same formulas on arrays, for a backward that records no graph (the common case)."""
        axes = self.axes
        xhat = self.xhat if self.xhat is not None else self._plain_output()
        need_x, need_w, need_b = self._needs()
        gx = gw = gb = None
        if need_x:
            gh = g * self.inputs[1]._data.reshape(self.pshape) if self.has_w else g
            m2 = (gh * xhat).mean(axis=axes, keepdims=True)
            gx = gh - gh.mean(axis=axes, keepdims=True)
            gx -= xhat * m2
            gx *= self.invstd
            gx = Tensor._make(gx)
        param_axes = reduce_axes(g.shape, self.pshape)
        if need_w:
            gw = Tensor._make((g * xhat).sum(axis=param_axes).reshape(self.inputs[1].shape))
        if need_b:
            gb = Tensor._make(g.sum(axis=param_axes).reshape(self.inputs[-1].shape))
        return self._pack(gx, gw, gb)

    def _needs(self) -> tuple[bool, bool, bool]:
        """Does x, γ, β need a gradient (False for an absent γ or β)?"""
        needs = iter(self.needs_input_grad)
        return next(needs), self.has_w and next(needs), self.has_b and next(needs)

    def _pack(self, gx, gw, gb):
        return (gx,) + ((gw,) if self.has_w else ()) + ((gb,) if self.has_b else ())


class NormalizePlain(Normalize):
    """Normalize without γ, β: the output array is x̂ itself (no copy), read back by backward.

    A recorded in-place edit of the output swaps ``self.output`` for a snapshot of the original
    values, so the gradient stays exact (as torch's, which saves no output here); an edit made
    under no_grad cannot be undone and is reported."""

    def _plain_output(self):
        out = self.output
        if out._vc[0] != 0:
            raise RuntimeError(
                f"{type(self).__name__}.backward: its output of shape {tuple(out.shape)} was modified in place "
                "under no_grad after the forward pass; backward needs its original value. Use .clone()."
            )
        return out._data


# ------------------------------------------------------------------ batch norm: per-channel kernels


class ChannelLayout:
    """An (N, C, *) array's memory as a matrix (P, Q) whose column q holds channel ``chan[q]``.

    Channels-last 4-D arrays and (N, C) matrices are (A, C) rows in memory, A = N·H·W; R of them
    are taken as one row of the matrix (Q = R·C ≈ 1024, so that NumPy's loops run long). Other
    C-contiguous arrays are (N, C·L) planes, L = H·W. ``wide`` gives the matrix view (no copy) of
    any array of this shape and layout; per-channel vectors become per-column ones with ``cols``,
    column sums become channel sums with ``channel``."""

    def __init__(self, shape: tuple, rows: bool) -> None:
        N, C = shape[0], shape[1]
        L = 1
        for s in shape[2:]:
            L *= s
        self.shape, self.C, self.L, self.rows = tuple(shape), C, L, rows
        self.cl = rows and len(shape) == 4 and L > 1  # channels-last 4-D
        if rows:
            A = N * L
            small = A * C <= BLOCK_ELEMENTS  # one block: no need for long rows
            self.R = 1 if small else max(r for r in range(1, max(1, 1024 // max(C, 1)) + 1) if A % r == 0)
            self.P, self.Q = A // self.R, self.R * C
            self.chan = xp.tile(xp.arange(C), self.R)
        else:
            self.R, self.P, self.Q = 1, N, C * L
            self.chan = xp.repeat(xp.arange(C), L)
        #: rows per block; blocks of per-channel values are only made when there are several blocks
        self.brows = max(1, min(self.P, BLOCK_ELEMENTS // max(self.Q, 1)))

    @classmethod
    def of(cls, a) -> ChannelLayout | None:
        """The layout of array ``a``, or None when it is neither C-contiguous nor channels-last."""
        if a.flags.c_contiguous:
            rows = a.ndim == 2 or all(s == 1 for s in a.shape[2:])
        elif channels_last(a):
            rows = True
        else:
            return None
        key = (a.shape, rows, BLOCK_ELEMENTS)
        lay = _layouts.get(key)
        if lay is None:
            if len(_layouts) > 64:
                _layouts.clear()
            lay = _layouts[key] = cls(a.shape, rows)
        return lay

    def wide(self, a):
        """The (P, Q) view of an array of this shape and layout."""
        if self.cl:
            return a.transpose(0, 2, 3, 1).reshape(self.P, self.Q)
        return a.reshape(self.P, self.Q)

    def empty(self, dtype):
        """A new uninitialised array of this shape and layout."""
        if self.cl:
            N, C, H, W = self.shape
            return xp.empty((N, H, W, C), dtype=dtype).transpose(0, 3, 1, 2)
        return xp.empty(self.shape, dtype=dtype)

    def same(self, a):
        """``a`` (of this shape) in this layout: itself, or a copy when its memory is laid out otherwise."""
        lay = ChannelLayout.of(a)
        if lay is not None and lay.cl == self.cl:
            return a
        out = self.empty(a.dtype)
        out[...] = a
        return out

    def cols(self, u):
        """Per-channel values (C,) → per-column values (Q,)."""
        return u if self.Q == self.C else u[self.chan]

    def channel(self, s):
        """Column sums (Q,) → channel sums (C,)."""
        if self.Q == self.C:
            return s
        return s.reshape(self.R, self.C).sum(0) if self.rows else s.reshape(self.C, self.L).sum(1)

    def block(self, u, dtype):
        """A per-channel vector as a full (rows, Q) block when the matrix spans several blocks
        (NumPy runs same-shape operands at twice the speed of a broadcast row), else as a row."""
        if self.brows >= self.P:
            return self.cols(u).astype(dtype, copy=False)[None]
        b = xp.empty((self.brows, self.Q), dtype=dtype)
        b[...] = self.cols(u)
        return b


_layouts: dict = {}


def _work_dtype(dt):
    """The dtype of the per-block arithmetic: float32 or float64 (float16 is widened)."""
    return dt if dt in (xp.float32, xp.float64) else xp.dtype(xp.float32)


def _colsum(ones, t):
    """Column sums of a block as float64: 1ᵀ·t, a GEMV (faster than NumPy's sum over axis 0)."""
    return (ones @ t).astype(xp.float64)


def _blocked(lay: ChannelLayout, fn, wd) -> list:
    """[fn(a, e, t) for each block [a, e) of rows of the (P, Q) matrix], t a scratch block of dtype
    ``wd``. One thread: these passes are bound by memory bandwidth and short NumPy calls, and
    measured no faster split over two (the GIL is taken back after every call)."""
    rows, P = lay.brows, lay.P
    if rows >= P:  # one block
        return [fn(0, P, xp.empty((P, lay.Q), dtype=wd))]
    t = take((rows, lay.Q), wd)
    out = [fn(a, min(a + rows, P), t[:min(a + rows, P) - a]) for a in range(0, P, rows)]
    give(t)
    return out


def channel_stats(x, lay: ChannelLayout):
    """(μ, σ²) per channel (float64, biased σ²) in one pass: Σ(x − K) and Σ(x − K)² with K the mean
    of the first block (the shifted-data algorithm: no cancellation as long as K is near μ)."""
    X, wd, Q = lay.wide(x), _work_dtype(x.dtype), lay.Q
    rows = lay.brows
    ones = xp.ones(rows, dtype=wd)
    n = x.size // lay.C
    K = lay.channel(_colsum(ones, X[:rows])) / (rows * Q // lay.C)
    Kb = lay.block(K, wd)

    def sums(a, e, t):
        m = e - a
        xp.subtract(X[a:e], Kb[:m], out=t)
        s1 = _colsum(ones[:m], t)
        xp.multiply(t, t, out=t)
        return s1, _colsum(ones[:m], t)

    parts = _blocked(lay, sums, wd)
    d = lay.channel(sum(p[0] for p in parts)) / n
    var = xp.maximum(lay.channel(sum(p[1] for p in parts)) / n - d * d, 0.0)
    return K + d, var


def channel_affine_arrays(x, lay: ChannelLayout, scale, shift):
    """y = x·scale + shift per channel (scale, shift: (C,) arrays), in x's layout."""
    X, wd = lay.wide(x), _work_dtype(x.dtype)
    Sb = lay.block(scale, wd)
    Bb = lay.block(shift, wd) if shift is not None else None
    out = lay.empty(x.dtype)
    O = lay.wide(out)

    def apply(a, e, t):
        m = e - a
        xp.multiply(X[a:e], Sb[:m], out=O[a:e])
        if Bb is not None:
            O[a:e] += Bb[:m]

    _blocked(lay, apply, wd)
    return out


def channel_grad_sums(x, g, lay: ChannelLayout, mean):
    """(Σḡ, Σḡ·(x − μ)) per channel (float64); (Σḡ, None) when ``mean`` is None."""
    X, G, wd = lay.wide(x), lay.wide(g), _work_dtype(x.dtype)
    ones = xp.ones(lay.brows, dtype=wd)
    Mb = lay.block(mean, wd) if mean is not None else None

    def sums(a, e, t):
        m = e - a
        sg = _colsum(ones[:m], G[a:e])
        if Mb is None:
            return sg, None
        xp.subtract(X[a:e], Mb[:m], out=t)
        t *= G[a:e]
        return sg, _colsum(ones[:m], t)

    parts = _blocked(lay, sums, wd)
    sg = lay.channel(sum(p[0] for p in parts))
    return sg, (lay.channel(sum(p[1] for p in parts)) if Mb is not None else None)


def channel_linear_grad(x, g, lay: ChannelLayout, u1, u2, u3):
    """∂x = ḡ·u₁ − x·u₂ − u₃ per channel, in x's layout (one blocked pass over ḡ and x)."""
    X, G, wd = lay.wide(x), lay.wide(g), _work_dtype(x.dtype)
    U1, U2, U3 = lay.block(u1, wd), lay.block(u2, wd), lay.block(u3, wd)
    gx = lay.empty(x.dtype)
    GX = lay.wide(gx)

    def apply(a, e, t):
        m = e - a
        xp.multiply(X[a:e], U2[:m], out=t)
        t += U3[:m]
        xp.multiply(G[a:e], U1[:m], out=GX[a:e])
        GX[a:e] -= t

    _blocked(lay, apply, wd)
    return gx


class BatchNormalize(Normalize):
    """Normalize over every axis but the channel axis 1 (batch norm, 批归一化, Fang §8.2), with the
    blocked per-channel kernels above. Keeps x (an input), μ and invstd; backward, n = N·H·W:

        ∂β = Σḡ,  ∂γ = invstd · Σḡ(x − μ),
        ∂x = ḡ·u₁ − x·u₂ − u₃,  u₁ = γ·invstd,  u₂ = u₁·invstd·k,  u₃ = u₁·Σḡ/n − u₂·μ,
        k = invstd·Σḡ(x − μ)/n  (= mean(ḡ·x̂)),

    which is Normalize's formula expanded; create_graph uses Normalize's Tensor-op form."""

    def forward(self, x, *wb, axes, pshape, eps, stats, has_w, has_b):
        self.axes, self.pshape, self.eps, self.has_w, self.has_b = axes, pshape, eps, has_w, has_b
        lay = ChannelLayout.of(x)
        if lay is None:
            x = xp.ascontiguousarray(x)
            lay = ChannelLayout.of(x)
        mean, var = channel_stats(x, lay)
        invstd = 1.0 / xp.sqrt(var + eps)
        self.lay, self.x, self.mean, self.invstd = lay, x, mean, invstd
        stats["mean"] = mean.astype(x.dtype).reshape(pshape)
        stats["var"] = var.astype(x.dtype).reshape(pshape)
        scale = invstd * wb[0] if has_w else invstd
        shift = -mean * scale
        if has_b:
            shift += wb[-1]
        return channel_affine_arrays(x, lay, scale, shift)

    def _backward_arrays(self, g):
        lay, x, need = self.lay, self.x, self._needs()
        g = lay.same(g)
        sg, sgx = channel_grad_sums(x, g, lay, self.mean if need[0] or need[1] else None)
        gx = gw = gb = None
        if need[0]:
            n = x.size // lay.C
            a = self.invstd
            u1 = self.inputs[1]._data * a if self.has_w else a
            u2 = u1 * a * (a * sgx / n)
            gx = Tensor._make(channel_linear_grad(x, g, lay, u1, u2, u1 * sg / n - u2 * self.mean))
        if need[1]:
            gw = Tensor._make((self.invstd * sgx).astype(x.dtype).reshape(self.inputs[1].shape))
        if need[2]:
            gb = Tensor._make(sg.astype(x.dtype).reshape(self.inputs[-1].shape))
        return self._pack(gx, gw, gb)


class ChannelAffine(Function):
    """y = x·s_c + t_c per channel c of (N, C, *) (batch norm in eval mode, with s = γ/√(σ²_run + ε),
    t = β − μ_run·s). Backward: ∂x = ḡ·s, ∂s = Σḡ·x, ∂t = Σḡ (over every axis but 1)."""

    def forward(self, x, s, t):
        lay = ChannelLayout.of(x)
        if lay is None:
            x = xp.ascontiguousarray(x)
            lay = ChannelLayout.of(x)
        self.lay = lay
        return channel_affine_arrays(x, lay, s, t)

    def backward(self, g):
        x, s, t = self.inputs
        need_x, need_s, need_t = self.needs_input_grad
        pshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        axes = (0,) + tuple(range(2, x.ndim))
        if grad_enabled():  # create_graph: Tensor ops
            return (g * s.reshape(pshape) if need_x else None, (g * x).sum(axes) if need_s else None,
                    g.sum(axes) if need_t else None)
        lay = self.lay
        ga = lay.same(g._data)
        xa = lay.same(x._data) if need_s else None
        gx = Tensor._make(channel_affine_arrays(ga, lay, s._data, None)) if need_x else None
        gs = gt = None
        if need_s or need_t:
            sg, sgx = channel_grad_sums(xa if xa is not None else ga, ga, lay, xp.zeros(lay.C) if need_s else None)
            gs = Tensor._make(sgx.astype(x.dtype)) if need_s else None
            gt = Tensor._make(sg.astype(x.dtype)) if need_t else None
        return gx, gs, gt


def channel_affine(input: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """y[:, c] = input[:, c]·scale[c] + shift[c] for an (N, C, *) input, as one op that keeps the
    input's memory layout (batch norm in eval mode)."""
    check_same_dtype("channel_affine", input, scale, shift)
    return ChannelAffine.apply(input, scale, shift)


def normalize(input: Tensor, weight: Tensor | None, bias: Tensor | None, axes: tuple, pshape: tuple, eps: float):
    """(γ x̂ + β, μ, σ²): the input normalised over ``axes`` (biased variance), with γ and β of
    shape ``pshape`` when given; μ and σ² are arrays (for running statistics). Per-channel
    statistics of an (N, C, *) input (batch norm) use :class:`BatchNormalize`."""
    stats: dict = {}
    ts = [input] + [t for t in (weight, bias) if t is not None]
    if weight is not None or bias is not None:
        check_same_dtype("normalization", *ts)
    kw = dict(axes=axes, pshape=pshape, eps=eps, stats=stats, has_w=weight is not None, has_b=bias is not None)
    if input.ndim >= 2 and axes == (0,) + tuple(range(2, input.ndim)) and input.dtype.kind == "f":
        out = BatchNormalize.apply(*ts, **kw)
    elif weight is None and bias is None:
        out = NormalizePlain.apply(input, **kw)
    else:
        out = Normalize.apply(*ts, **kw)
    return out, stats["mean"], stats["var"]
