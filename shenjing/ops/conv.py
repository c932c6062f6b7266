"""Convolution (卷积): conv1d/conv2d, conv_transpose1d/2d, unfold/fold (im2col/col2im).

Cross-correlation without kernel flip, as PyTorch and the notes (Wang 七.1 eq. 12,
h_{ij} = Σ_m Σ_n x_{i+m, j+n} w_{mn}; Zhao §5; Fang ch. 7). Weight layouts are PyTorch's:
conv (C_out, C_in/groups, kH, kW), conv_transpose (C_in, C_out/groups, kH, kW).

How it is computed (im2col, one GEMM per layer). Images are handled channels-last (N, H, W, C)
inside: the zero-padded (填充) input is viewed through ``as_strided`` as its windows
(N, H_out, W_out, kH, kW, C) — no copy — and one reshape copies them into the matrix
col ∈ R^{(N·H_out·W_out) × (kH·kW·C + 1)} whose last column is ones; then y = col · [W_mat; b] is
one matrix product (bias included), W_mat = W permuted to (kH·kW·C_in, C_out). The channels-last
order makes the copy fast (a window row is kW·C contiguous numbers).

Memory layout of results. A conv's output is the GEMM's (N·H_out·W_out, C_out) matrix itself,
seen as (N, C_out, H_out, W_out): shape, values and gradients are PyTorch's, but the memory is
channels-last (PyTorch's ``channels_last`` format), so ``is_contiguous()`` is False and ``.view``
must be ``.reshape``/``.flatten`` (or ``.contiguous().view``). Pooling and the elementwise ops keep
the layout, so a conv → ReLU → pool → conv stack never transposes, and the output gradient
arrives channels-last, which makes ḡ's rows free in backward.

The three linear maps of a convolution y = F(x, W) are each one ``Function``:

* ``Conv2d``            y = F(x, W) (+ b)
* ``ConvTranspose2d``   x̄ = F_xᵀ(ȳ, W): the adjoint in x (转置卷积; the input gradient of a conv)
* ``Conv2dWeightGrad``  W̄ = F_Wᵀ(x, ȳ) = colᵀ · ḡ: the adjoint in W (the weight gradient)

Since ⟨ȳ, F(x, W)⟩ = ⟨F_xᵀ(ȳ, W), x⟩ = ⟨F_Wᵀ(x, ȳ), W⟩, the backward of each is written with the
other two, so gradients of any order (``create_graph=True``) are exact. In a plain backward the
forward's col (kept when at most ``KEEP_COL_BYTES``) serves the weight gradient, and the bias
gradient Σ ḡ comes out of the same GEMM (the ones column).

The input gradient (col2im) never builds a col matrix: for each kernel offset (i, j) one GEMM
ḡ · W[:, :, i, j] into a reused buffer and one vectorised strided slice-add at the input positions
h·s + i·d − p (assignments when windows do not overlap) — kH·kW GEMMs and adds, no loop over
positions, no ``np.add.at``.

Big scratch arrays (col, the per-offset GEMM results, the padded input) are recycled through
``shenjing.ops.workspace`` (fresh ones cost their page faults), and the NumPy copies and adds are
split over the batch on ``shenjing.ops.parallel`` threads when they are large; the GEMMs use
NumPy's BLAS threads.
"""

from __future__ import annotations

from ..autograd.function import Function, ShapeError
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from .parallel import for_chunks
from .shape import pad as _pad
from .workspace import give as _give
from .workspace import take as _take

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]

_as_strided = xp.lib.stride_tricks.as_strided

#: keep the im2col matrix of the forward pass for the weight gradient when it is at most this many
#: bytes (else it is rebuilt in backward: deep nets would otherwise hold every layer's col at once)
KEEP_COL_BYTES = 1 << 26
#: an im2col matrix that is not kept for backward is built and multiplied in batch chunks of at most
#: this many bytes (evaluating the small CNN in batches of 1000 would need a 225 MB col at once)
IM2COL_CHUNK_BYTES = 1 << 25
#: the input gradient's per-offset GEMM results are computed in chunks of at most this many bytes
IGRAD_CHUNK_BYTES = 1 << 25


# ------------------------------------------------------------------ argument helpers


def ntuple(v, n: int, name: str) -> tuple:
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            v = tuple(v) * n
        if len(v) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {v!r}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


def _out_size(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


# ------------------------------------------------------------------ array kernels (channels-last inside)


def _nhwc_padded(x, pads, value=0):
    """(N, C, H, W) array → (N, H + p0 + p1, W + q0 + q1, C), padded with ``value`` (negative pads crop).

    A view when nothing is padded (then it is contiguous only if x is channels-last in memory)."""
    p0, p1, q0, q1 = pads
    xt = x.transpose(0, 2, 3, 1)
    if p0 < 0 or p1 < 0 or q0 < 0 or q1 < 0:
        H, W = xt.shape[1], xt.shape[2]
        xt = xt[:, max(-p0, 0):H - max(-p1, 0), max(-q0, 0):W - max(-q1, 0)]
        p0, p1, q0, q1 = max(p0, 0), max(p1, 0), max(q0, 0), max(q1, 0)
    if not (p0 or p1 or q0 or q1):
        return xt
    N, H, W, C = xt.shape
    out = _take((N, H + p0 + p1, W + q0 + q1, C), x.dtype)  # scratch: given back after the im2col copy
    if p0:
        out[:, :p0] = value
    if p1:
        out[:, p0 + H:] = value
    if q0:
        out[:, p0:p0 + H, :q0] = value
    if q1:
        out[:, p0:p0 + H, q0 + W:] = value
    inner = out[:, p0:p0 + H, q0:q0 + W]

    def fill(lo, hi):
        inner[lo:hi] = xt[lo:hi]

    for_chunks(fill, N, xt.size)
    return out


def _im2col(x, kh: int, kw: int, stride, pads, dil, ones: bool = False):
    """The im2col matrix (N·Ho·Wo, kh·kw·C) (rows: output positions; columns ordered (i, j, c)).

    With ``ones`` a last column of ones is appended, so that the GEMM with [W_mat; b] adds the bias
    and colᵀ·ḡ yields Σ ḡ (the bias gradient) as its last row, at no extra pass over the output."""
    N, C, H, W = x.shape
    Ho = _out_size(H, kh, stride[0], pads[0], pads[1], dil[0])
    Wo = _out_size(W, kw, stride[1], pads[2], pads[3], dil[1])
    xpd = _nhwc_padded(x, pads)
    if kh == kw == 1:
        win = xpd[:, :(Ho - 1) * stride[0] + 1:stride[0], :(Wo - 1) * stride[1] + 1:stride[1], None, None]
    else:
        sn, sh, sw, sc = xpd.strides
        win = _as_strided(xpd, (N, Ho, Wo, kh, kw, C), (sn, sh * stride[0], sw * stride[1], sh * dil[0], sw * dil[1], sc),
                          writeable=False)
    K = kh * kw * C
    M = N * Ho * Wo
    if kw * C < 16 and Wo >= 16:
        # few channels (a first layer): a window row holds only kw·C numbers, too short for a fast
        # copy; build colᵀ instead, one (C, N, Ho, Wo) block per kernel offset (rows of W_out)
        colT = _take((K + ones, M), x.dtype)
        blocks = [(colT[t * C:(t + 1) * C].reshape(C, N, Ho, Wo), win[:, :, :, t // kw, t % kw].transpose(3, 0, 1, 2))
                  for t in range(kh * kw)]

        def fill_t(lo, hi):
            for dst, src in blocks:
                dst[:, lo:hi] = src[:, lo:hi]

        for_chunks(fill_t, N, M * K)
        if ones:
            colT[K] = 1
        if not xp.may_share_memory(xpd, x):  # a padded copy of x (scratch), not a view of it
            _give(xpd)
        return colT.T, Ho, Wo
    col = _take((M, K + ones), x.dtype)
    if ones:
        col[:, K] = 1
    dst = col[:, :K].reshape(win.shape)

    def fill(lo, hi):
        dst[lo:hi] = win[lo:hi]

    for_chunks(fill, N, M * K)
    if not xp.may_share_memory(xpd, x):  # a padded copy of x (scratch), not a view of it
        _give(xpd)
    return col, Ho, Wo


def _wmat(w, groups: int):
    """Weight (O, Cg, kh, kw) → (kh·kw·Cg, O) for groups = 1, else (G, kh·kw·Cg, O/G)."""
    O, Cg, kh, kw = w.shape
    if groups == 1:
        return w.transpose(2, 3, 1, 0).reshape(kh * kw * Cg, O)
    return w.reshape(groups, O // groups, Cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * Cg, O // groups)


def _group_cols(col, kk: int, groups: int):
    """(M, kk·C) with columns (i, j, g, c) → (G, M, kk·Cg) with columns (i, j, c)."""
    M = col.shape[0]
    return col.reshape(M, kk, groups, -1).transpose(2, 0, 1, 3).reshape(groups, M, -1)


def _cl_output(y2, N: int, Ho: int, Wo: int):
    """(N·Ho·Wo, C) rows → an (N, C, Ho, Wo) view of them: channels-last memory, no copy."""
    return y2.reshape(N, Ho, Wo, y2.shape[1]).transpose(0, 3, 1, 2)


def _rows(g):
    """(N, C, H, W) → its (N·H·W, C) channels-last rows (free when g is channels-last in memory)."""
    N, C, H, W = g.shape
    return g.transpose(0, 2, 3, 1).reshape(N * H * W, C)


def _col_geometry(x, w_shape, stride, pads, dil, ones: bool) -> tuple:
    """(H_out, W_out, bytes of one sample's rows of the im2col matrix)."""
    _, Cg, kh, kw = w_shape
    Ho = _out_size(x.shape[2], kh, stride[0], pads[0], pads[1], dil[0])
    Wo = _out_size(x.shape[3], kw, stride[1], pads[2], pads[3], dil[1])
    return Ho, Wo, Ho * Wo * (kh * kw * x.shape[1] + ones) * x.dtype.itemsize


def _batch_chunks(N: int, per_sample: int) -> list:
    """Batch slices whose im2col matrices hold at most IM2COL_CHUNK_BYTES (at least one sample)."""
    nb = max(1, IM2COL_CHUNK_BYTES // max(per_sample, 1))
    return [(n0, min(n0 + nb, N)) for n0 in range(0, N, nb)]


def conv2d_forward(x, w, b, stride, pads, dil, groups: int, want_col: bool = False):
    """y = x ⋆ w (+ b) on arrays, returned channels-last; also the im2col matrix when ``want_col``
    (and it is at most KEEP_COL_BYTES). A col that is not kept and is larger than
    IM2COL_CHUNK_BYTES is built and multiplied batch chunk by batch chunk."""
    N = x.shape[0]
    O, Cg, kh, kw = w.shape
    ones = groups == 1 and b is not None
    Ho, Wo, per = _col_geometry(x, w.shape, stride, pads, dil, ones)
    want_col = want_col and N * per <= KEEP_COL_BYTES
    if groups == 1 and not want_col and N > 1 and N * per > IM2COL_CHUNK_BYTES:
        wm = _wmat(w, 1) if not ones else xp.concatenate([_wmat(w, 1), b.reshape(1, O)])
        y2 = xp.empty((N * Ho * Wo, O), dtype=xp.result_type(x, w))
        for n0, n1 in _batch_chunks(N, per):
            col = _im2col(x[n0:n1], kh, kw, stride, pads, dil, ones=ones)[0]
            xp.matmul(col, wm, out=y2[n0 * Ho * Wo:n1 * Ho * Wo])
            _give(col)
        return _cl_output(y2, N, Ho, Wo), None
    col, Ho, Wo = _im2col(x, kh, kw, stride, pads, dil, ones=ones)
    if groups == 1:
        wm = _wmat(w, 1)
        if ones:
            wm = xp.concatenate([wm, b.reshape(1, O)])
        y2 = col @ wm
    else:
        flat, col = col, _group_cols(col, kh * kw, groups)
        _give(flat)
        y2 = xp.matmul(col, _wmat(w, groups)).transpose(1, 0, 2).reshape(-1, O)
        if b is not None:
            y2 += b
    if not want_col:
        _give(col)
        col = None
    return _cl_output(y2, N, Ho, Wo), col


def conv2d_weight_grad(x, g, w_shape, stride, pads, dil, groups: int, col=None, bias_box=None):
    """∂L/∂W = colᵀ · ḡ: (O, Cg, kh, kw) from the input x and the output gradient g.

    With ``bias_box`` (a list) Σ ḡ, the bias gradient, is appended to it (free when col carries
    the column of ones)."""
    O, Cg, kh, kw = w_shape
    own = col is None
    if own and groups == 1:
        Ho, Wo, per = _col_geometry(x, w_shape, stride, pads, dil, False)
        if x.shape[0] > 1 and x.shape[0] * per > IM2COL_CHUNK_BYTES:
            return _weight_grad_chunked(x, g, w_shape, stride, pads, dil, Ho * Wo, per, bias_box)
    if own:
        col = _im2col(x, kh, kw, stride, pads, dil)[0]
        if groups > 1:
            flat, col = col, _group_cols(col, kh * kw, groups)
            _give(flat)
    g2 = _rows(g)
    if groups == 1:
        gw = col.T @ g2  # (kh·kw·C [+ 1], O)
        K = kh * kw * Cg
        if bias_box is not None:
            bias_box.append(gw[K].copy() if gw.shape[0] > K else g2.sum(0))
        gw = xp.ascontiguousarray(gw[:K].reshape(kh, kw, Cg, O).transpose(3, 2, 0, 1))
    else:
        if bias_box is not None:
            bias_box.append(g2.sum(0))
        Og = O // groups
        gg = g2.reshape(-1, groups, Og).transpose(1, 0, 2)  # (G, M, Og)
        gw = xp.matmul(col.transpose(0, 2, 1), gg)  # (G, kh·kw·Cg, Og)
        gw = xp.ascontiguousarray(gw.reshape(groups, kh, kw, Cg, Og).transpose(0, 4, 3, 1, 2).reshape(O, Cg, kh, kw))
    if own:
        _give(col)
    return gw


def _weight_grad_chunked(x, g, w_shape, stride, pads, dil, hw_out: int, per: int, bias_box):
    """conv2d_weight_grad (groups = 1) with the im2col matrix rebuilt batch chunk by batch chunk:
    ∂W = Σ_chunks colᵀ·ḡ."""
    O, Cg, kh, kw = w_shape
    g2 = _rows(g)
    gw = None
    for n0, n1 in _batch_chunks(x.shape[0], per):
        col = _im2col(x[n0:n1], kh, kw, stride, pads, dil)[0]
        part = col.T @ g2[n0 * hw_out:n1 * hw_out]
        _give(col)
        if gw is None:
            gw = part
        else:
            gw += part
    if bias_box is not None:
        bias_box.append(g2.sum(0))
    return xp.ascontiguousarray(gw.reshape(kh, kw, Cg, O).transpose(3, 2, 0, 1))


def conv2d_input_grad(g, w, x_hw, stride, pads, dil, groups: int):
    """∂L/∂x of a conv (= conv_transpose2d of g): (N, C, H, W) from g (N, O, Ho, Wo), channels-last.

    x̄[n, h·s + i·d − p, w·s + j·d − q, :] += ḡ[n, h, w, :] · W[:, :, i, j] for every offset (i, j):
    col2im without the col matrix, one GEMM into a reused buffer and one strided slice-add (clipped
    to the input) per offset — kH·kW of each, assignments when windows do not overlap, never a loop
    over positions. At stride 1 each add runs over rows of W_out·C contiguous numbers."""
    N, O, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    H, W = x_hw
    C = Cg * groups
    p0, _, q0, _ = pads
    sh, sw = stride
    dh, dw = dil
    g2 = _rows(g)  # (M, O)
    M = g2.shape[0]
    if groups == 1:
        wt = w.transpose(2, 3, 0, 1).reshape(kh * kw, O, Cg)  # W[:, :, i, j] for each offset
    else:
        Og = O // groups
        wt = w.reshape(groups, Og, Cg, kh, kw).transpose(3, 4, 0, 1, 2).reshape(kh * kw, groups, Og, Cg)
        g2 = g2.reshape(M, groups, Og).transpose(1, 0, 2)[None]  # (1, G, M, Og)
    # the offsets' GEMMs run back to back (one batched matmul per chunk of offsets, at most
    # IGRAD_CHUNK_BYTES of results), then their adds: interleaving NumPy work with BLAS calls
    # leaves BLAS's worker threads spinning against it
    kk = kh * kw
    per = M * C * g.dtype.itemsize
    n_chunk = max(1, min(kk, IGRAD_CHUNK_BYTES // max(per, 1)))
    buf = _take((n_chunk,) + ((M, C) if groups == 1 else (groups, M, Cg)), g.dtype)
    overlap = dh * (kh - 1) >= sh or dw * (kw - 1) >= sw
    tiles = (kh, kw, dh, dw) == (sh, sw, 1, 1) and p0 == q0 == 0 and Ho * sh == H and Wo * sw == W
    gx = (xp.empty if tiles else xp.zeros)((N, H, W, C), dtype=g.dtype)
    rows = [_clip(Ho, sh, i * dh - p0, H) for i in range(kh)]
    cols = [_clip(Wo, sw, j * dw - q0, W) for j in range(kw)]
    live = [t for t in range(kk) if rows[t // kw][1] > rows[t // kw][0] and cols[t % kw][1] > cols[t % kw][0]]
    for c0 in range(0, len(live), n_chunk):
        ts = live[c0:c0 + n_chunk]
        part = buf[:len(ts)]
        xp.matmul(g2, wt[ts], out=part)
        pairs = []
        for u, t in enumerate(ts):
            (ha, hb, ra), (wa, wb, ca) = rows[t // kw], cols[t % kw]
            view = part[u].reshape(N, Ho, Wo, C) if groups == 1 else part[u].transpose(1, 0, 2).reshape(N, Ho, Wo, C)
            pairs.append((gx[:, ra:ra + sh * (hb - ha - 1) + 1:sh, ca:ca + sw * (wb - wa - 1) + 1:sw], view[:, ha:hb, wa:wb]))

        def place(lo, hi, pairs=pairs):
            for dst, src in pairs:
                if overlap:
                    dst[lo:hi] += src[lo:hi]
                else:
                    dst[lo:hi] = src[lo:hi]

        for_chunks(place, N, len(ts) * M * C)
    _give(buf)
    return gx.transpose(0, 3, 1, 2)


def _clip(n_out: int, s: int, a: int, n_in: int) -> tuple:
    """Output positions o ∈ [lo, hi) whose input position o·s + a lies in [0, n_in), and o = lo's input position."""
    lo = max(0, (-a + s - 1) // s)
    hi = min(n_out, (n_in - a + s - 1) // s)
    return lo, hi, lo * s + a


# ------------------------------------------------------------------ Functions


class Conv2d(Function):
    """y = x ⋆ W + b (卷积层): y[n,o,h,w] = Σ_{c,i,j} x_pad[n, c, h·s + i·d, w·s + j·d] W[o,c,i,j] + b[o].

    Backward: ∂x = conv_transpose2d(ḡ, W), ∂W = Σ_n ḡ ⋆ x (Conv2dWeightGrad), ∂b = Σ_{n,h,w} ḡ."""

    def forward(self, x, w, b=None, *, stride, pads, dil, groups, keep_col=False):
        self.params = dict(stride=stride, pads=pads, dil=dil, groups=groups)
        self.x_hw = x.shape[2:]
        y, col = conv2d_forward(x, w, b, stride, pads, dil, groups, want_col=keep_col)
        if col is not None and col.nbytes > KEEP_COL_BYTES:
            _give(col)
            col = None
        self.col = col
        return y

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need_x, need_w, need_b = (*self.needs_input_grad, False)[:3]
        gx = gw = gb = None
        if need_x:
            gx = ConvTranspose2d.apply(g, w, x_hw=self.x_hw, **self.params)
        box = [] if need_b and not grad_enabled() else None
        if need_w:
            gw = Conv2dWeightGrad.apply(x, g, w_shape=w.shape, col=self.col, bias_box=box, **self.params)
        _give(self.col)  # nothing else holds the col: back to the workspace for the next forward
        self.col = None
        if need_b:
            # plain backward: Σ ḡ came with the weight-gradient GEMM; create_graph: a Tensor op
            gb = Tensor._make(box[0]) if box else g.sum((0, 2, 3))
        return gx, gw, gb


class ConvTranspose2d(Function):
    """x̄ = F_xᵀ(ȳ, W) (+ b) (转置卷积): the adjoint of a convolution in its input, so that
    ⟨ȳ, x ⋆ W⟩ = ⟨F_xᵀ(ȳ, W), x⟩. It is conv_transpose2d, and the input gradient of Conv2d.

    Backward (cotangent h of the output): ∂ȳ = h ⋆ W (Conv2d), ∂W = Conv2dWeightGrad(h, ȳ), ∂b = Σ h."""

    def forward(self, g, w, b=None, *, x_hw, stride, pads, dil, groups):
        self.params = dict(stride=stride, pads=pads, dil=dil, groups=groups)
        out = conv2d_input_grad(g, w, x_hw, stride, pads, dil, groups)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    def backward(self, h):
        g, w = self.inputs[0], self.inputs[1]
        need_g, need_w, need_b = (*self.needs_input_grad, False)[:3]
        gg = gw = gb = None
        if need_g:
            gg = Conv2d.apply(h, w, **self.params)
        if need_w:
            gw = Conv2dWeightGrad.apply(h, g, w_shape=w.shape, col=None, **self.params)
        if need_b:
            gb = h.sum((0, 2, 3))
        return gg, gw, gb


class Conv2dWeightGrad(Function):
    """W̄ = F_Wᵀ(x, ȳ): the weight gradient of a convolution, W̄[o,c,i,j] = Σ_{n,h,w} ȳ[n,o,h,w] x_pad[n,c,h·s+i·d,w·s+j·d].

    Bilinear in (x, ȳ); backward (cotangent H of W̄): ∂x = conv_transpose2d(ȳ, H), ∂ȳ = x ⋆ H."""

    def forward(self, x, g, *, w_shape, col, stride, pads, dil, groups, bias_box=None):
        self.params = dict(stride=stride, pads=pads, dil=dil, groups=groups)
        self.x_hw = x.shape[2:]
        return conv2d_weight_grad(x, g, tuple(w_shape), stride, pads, dil, groups, col=col, bias_box=bias_box)

    def backward(self, H):
        x, g = self.inputs
        need_x, need_g = self.needs_input_grad
        gx = gg = None
        if need_x:
            gx = ConvTranspose2d.apply(g, H, x_hw=self.x_hw, **self.params)
        if need_g:
            gg = Conv2d.apply(x, H, **self.params)
        return gx, gg


# ------------------------------------------------------------------ unfold / fold (NCHW im2col)


def _unfold_array(x, k, stride, pad, dil):
    N, C, H, W = x.shape
    Ho = _out_size(H, k[0], stride[0], pad[0], pad[0], dil[0])
    Wo = _out_size(W, k[1], stride[1], pad[1], pad[1], dil[1])
    if pad[0] or pad[1]:
        xpd = xp.zeros((N, C, H + 2 * pad[0], W + 2 * pad[1]), dtype=x.dtype)
        xpd[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W] = x
    else:
        xpd = x
    sn, sc, sh, sw = xpd.strides
    win = _as_strided(xpd, (N, C, k[0], k[1], Ho, Wo), (sn, sc, sh * dil[0], sw * dil[1], sh * stride[0], sw * stride[1]),
                      writeable=False)
    return win.reshape(N, C * k[0] * k[1], Ho * Wo)


def _fold_array(col, out_hw, k, stride, pad, dil):
    N, CK, L = col.shape
    C = CK // (k[0] * k[1])
    H, W = out_hw
    Ho = _out_size(H, k[0], stride[0], pad[0], pad[0], dil[0])
    Wo = _out_size(W, k[1], stride[1], pad[1], pad[1], dil[1])
    c6 = col.reshape(N, C, k[0], k[1], Ho, Wo)
    out = xp.zeros((N, C, H + 2 * pad[0], W + 2 * pad[1]), dtype=col.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            a, b = i * dil[0], j * dil[1]
            out[:, :, a:a + stride[0] * (Ho - 1) + 1:stride[0], b:b + stride[1] * (Wo - 1) + 1:stride[1]] += c6[:, :, i, j]
    return out[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W].copy() if pad[0] or pad[1] else out


class Unfold(Function):
    """im2col (展开): (N, C, H, W) → (N, C·kH·kW, L), column l holding the l-th window (torch.nn.functional.unfold).

    Backward: fold (col2im), the adjoint, which adds overlapping windows back."""

    saves_inputs = False

    def forward(self, x, k, stride, pad, dil):
        self.args, self.hw = (k, stride, pad, dil), x.shape[2:]
        return _unfold_array(x, k, stride, pad, dil)

    def backward(self, g):
        return Fold.apply(g, out_hw=self.hw, args=self.args)


class Fold(Function):
    """col2im (折叠): (N, C·kH·kW, L) → (N, C, H, W), summing the values that windows put on the same pixel.

    Backward: unfold (im2col), the adjoint."""

    saves_inputs = False

    def forward(self, col, out_hw, args):
        self.hw, self.args = out_hw, args
        return _fold_array(col, out_hw, *args)

    def backward(self, g):
        k, stride, pad, dil = self.args
        return Unfold.apply(g, k=k, stride=stride, pad=pad, dil=dil)


# ------------------------------------------------------------------ public functional forms


def _check_float(op: str, *tensors) -> None:
    dts = {t._data.dtype for t in tensors if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: expected input, weight and bias to have the same dtype, got "
                           f"{', '.join(str(t.dtype) for t in tensors if t is not None)}")
    for t in tensors:
        if t is not None and t._data.dtype.kind not in "fc":
            raise RuntimeError(f"{op}: expected a floating-point tensor, got {t.dtype} (shape {tuple(t.shape)})")


_TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _resolve_padding(padding, k, dil, stride, nd: int, op: str) -> tuple:
    """(lo, hi) pairs per spatial dim from an int, a tuple, 'valid' or 'same' (填充)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            out = []
            for kk, d in zip(k, dil):
                total = d * (kk - 1)
                out.append((total // 2, total - total // 2))  # the extra one goes on the right, like torch
            return tuple(out)
        raise ValueError(f"{op}: Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
    p = ntuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got {p}")
    return tuple((v, v) for v in p)


def _conv_nd(op: str, input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups, padding_mode, nd: int) -> Tensor:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected Tensors for input and weight, got {type(input).__name__} and {type(weight).__name__}")
    _check_float(op, input, weight, bias)
    if weight.ndim != nd + 2:
        raise ShapeError(f"{op}: expected a {nd + 2}-D weight (C_out, C_in/groups, {', '.join('k' * nd)}), got shape {tuple(weight.shape)}")
    unbatched = input.ndim == nd + 1
    if input.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input of size: {list(input.shape)}")
    x = input.unsqueeze(0) if unbatched else input
    groups = int(groups)
    O, Cg = weight.shape[0], weight.shape[1]
    if groups < 1 or O % groups:
        raise ShapeError(f"{op}: out_channels ({O}) must be divisible by groups ({groups}) (weight shape {tuple(weight.shape)})")
    if x.shape[1] != Cg * groups:
        raise ShapeError(
            f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{Cg * groups} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (O,):
        raise ShapeError(f"{op}: bias of shape {tuple(bias.shape)} does not match out_channels={O}")
    k = tuple(weight.shape[2:])
    stride = ntuple(stride, nd, "stride")
    dil = ntuple(dilation, nd, "dilation")
    if any(s < 1 for s in stride) or any(d < 1 for d in dil):
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dil}")
    pads = _resolve_padding(padding, k, dil, stride, nd, op)
    if padding_mode not in _TORCH_MODE:
        raise ValueError(f"{op}: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got {padding_mode!r}")
    if padding_mode != "zeros" and any(lo or hi for lo, hi in pads):
        flat = []
        for lo, hi in reversed(pads):
            flat += [lo, hi]
        x = _pad(x, flat, mode=_TORCH_MODE[padding_mode])
        pads = ((0, 0),) * nd
    if nd == 1:
        x = x.unsqueeze(2)
        weight = weight.unsqueeze(2)
        k, stride, dil, pads = (1,) + k, (1,) + stride, (1,) + dil, ((0, 0),) + pads
    spatial = x.shape[2:]
    for size, kk, (lo, hi), d in zip(spatial, k, pads, dil):
        if size + lo + hi < d * (kk - 1) + 1:
            raise ShapeError(
                f"{op}: Calculated padded input size per channel: ({size + lo + hi}). Kernel size: ({d * (kk - 1) + 1}). "
                f"Kernel size can't be greater than actual input size (input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)})"
            )
    flat_pads = pads[0] + pads[1]
    keep = weight.requires_grad and grad_enabled()
    args = (x, weight) if bias is None else (x, weight, bias)
    y = Conv2d.apply(*args, stride=stride, pads=flat_pads, dil=dil, groups=groups, keep_col=keep)
    if nd == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1, *,
           padding_mode: str = "zeros") -> Tensor:
    """2-D convolution (二维卷积), torch.nn.functional.conv2d: cross-correlation without kernel flip,

        y[n, o, h, w] = b[o] + Σ_{c, i, j} x_pad[n, g·C/G + c, h·s + i·d, w·s + j·d] · W[o, c, i, j]

    (Wang 七.1 eq. 12; Zhao §5). ``input`` (N, C_in, H, W) or (C_in, H, W); ``weight``
    (C_out, C_in/groups, kH, kW); ``stride`` (步幅), ``padding`` (填充: int, pair, 'valid' or
    'same'), ``dilation`` (空洞卷积), ``groups`` (分组卷积). Output size per dim
    ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1. ``padding_mode`` (zeros | reflect | replicate | circular,
    Fang ch. 7) is what nn.Conv2d passes (a shenjing extension of the functional form)."""
    return _conv_nd("conv2d", input, weight, bias, stride, padding, dilation, groups, padding_mode, 2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1, *,
           padding_mode: str = "zeros") -> Tensor:
    """1-D convolution (一维卷积), torch.nn.functional.conv1d: y[n, o, t] = b[o] + Σ_{c, i} x_pad[n, c, t·s + i·d] W[o, c, i].

    ``input`` (N, C_in, L) or (C_in, L), ``weight`` (C_out, C_in/groups, k); the arguments as conv2d."""
    return _conv_nd("conv1d", input, weight, bias, stride, padding, dilation, groups, padding_mode, 1)


def _conv_transpose_nd(op: str, input: Tensor, weight: Tensor, bias, stride, padding, output_padding, groups, dilation, nd: int,
                       output_size=None) -> Tensor:
    _check_float(op, input, weight, bias)
    if weight.ndim != nd + 2:
        raise ShapeError(f"{op}: expected a {nd + 2}-D weight (C_in, C_out/groups, {', '.join('k' * nd)}), got shape {tuple(weight.shape)}")
    unbatched = input.ndim == nd + 1
    if input.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input of size: {list(input.shape)}")
    x = input.unsqueeze(0) if unbatched else input
    groups = int(groups)
    Cin, Og = weight.shape[0], weight.shape[1]
    if x.shape[1] != Cin:
        raise ShapeError(
            f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have {Cin} "
            f"channels, but got {x.shape[1]} channels instead"
        )
    if groups < 1 or Cin % groups:
        raise ShapeError(f"{op}: in_channels ({Cin}) must be divisible by groups ({groups})")
    if bias is not None and tuple(bias.shape) != (Og * groups,):
        raise ShapeError(f"{op}: bias of shape {tuple(bias.shape)} does not match out_channels={Og * groups}")
    k = tuple(weight.shape[2:])
    stride = ntuple(stride, nd, "stride")
    dil = ntuple(dilation, nd, "dilation")
    pad = ntuple(padding, nd, "padding")
    op_ = ntuple(output_padding, nd, "output_padding")
    sizes = []
    for i in range(nd):
        base = (x.shape[2 + i] - 1) * stride[i] - 2 * pad[i] + dil[i] * (k[i] - 1) + 1
        if output_size is not None:
            want = tuple(output_size)[-nd:][i]
            if not base <= want < base + max(stride[i], dil[i]):
                raise ValueError(f"{op}: requested an output size of {tuple(output_size)[-nd:]}, but valid sizes range from "
                                 f"{base} to {base + max(stride[i], dil[i]) - 1} (for an input of {tuple(x.shape[2:])})")
            sizes.append(int(want))
        else:
            if not (op_[i] < stride[i] or op_[i] < dil[i]):
                raise ValueError(f"{op}: output padding must be smaller than either stride or dilation, got output_padding={op_}, "
                                 f"stride={stride}, dilation={dil}")
            sizes.append(base + op_[i])
        if sizes[-1] <= 0:
            raise ShapeError(f"{op}: the output size {sizes[-1]} is not positive (input shape {tuple(input.shape)}, weight {tuple(weight.shape)})")
    if nd == 1:
        x = x.unsqueeze(2)
        weight = weight.unsqueeze(2)
        k, stride, dil, pad, sizes = (1,) + k, (1,) + stride, (1,) + dil, (0,) + pad, [1] + sizes
    # the conv whose input gradient this is has input size `sizes` and pads (p, p1): rows added by
    # output_padding are reached by no window; p1 < p only when output_padding ≥ stride (dilated case)
    extra = [sizes[i] - ((x.shape[2 + i] - 1) * stride[i] - 2 * pad[i] + dil[i] * (k[i] - 1) + 1) for i in range(2)]
    hi = [pad[i] - extra[i] + min(extra[i], stride[i] - 1) for i in range(2)]
    pads = (pad[0], hi[0], pad[1], hi[1])
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose2d.apply(*args, x_hw=tuple(sizes), stride=stride, pads=pads, dil=dil, groups=groups)
    if nd == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1, output_size=None) -> Tensor:
    """Transposed convolution (转置卷积), torch.nn.functional.conv_transpose2d: the adjoint of conv2d
    in its input (the gradient of a conv with respect to x), used for learned upsampling (U-Net).

    ``weight`` is (C_in, C_out/groups, kH, kW); output size per dim
    (H − 1)·s − 2p + d(k − 1) + output_padding + 1."""
    return _conv_transpose_nd("conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                              output_size)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1, output_size=None) -> Tensor:
    """1-D transposed convolution (一维转置卷积), weight (C_in, C_out/groups, k)."""
    return _conv_transpose_nd("conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                              output_size)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col (展开), torch.nn.functional.unfold: (N, C, H, W) → (N, C·kH·kW, L), L = number of windows.

    Row c·kH·kW + i·kW + j of column l is x_pad[n, c, h_l·s + i·d, w_l·s + j·d]; so that
    conv2d(x, W) = (W.view(O, −1) @ unfold(x)).view(N, O, H_out, W_out)."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"unfold: Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D, shape {tuple(input.shape)})")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    k, d = ntuple(kernel_size, 2, "kernel_size"), ntuple(dilation, 2, "dilation")
    p, s = ntuple(padding, 2, "padding"), ntuple(stride, 2, "stride")
    for size, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d):
        if _out_size(size, kk, ss, pp, pp, dd) < 1:
            raise ShapeError(f"unfold: the kernel {k} with dilation {d} and padding {p} does not fit the input {tuple(input.shape)}")
    y = Unfold.apply(x, k=k, stride=s, pad=p, dil=d)
    return y.squeeze(0) if unbatched else y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im (折叠), torch.nn.functional.fold: (N, C·kH·kW, L) → (N, C, H, W), summing overlaps
    (the adjoint of unfold; fold(unfold(x)) multiplies each pixel by the number of windows covering it)."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"fold: Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {input.ndim}D)")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    hw = ntuple(output_size, 2, "output_size")
    k, d = ntuple(kernel_size, 2, "kernel_size"), ntuple(dilation, 2, "dilation")
    p, s = ntuple(padding, 2, "padding"), ntuple(stride, 2, "stride")
    kk = k[0] * k[1]
    L = 1
    for size, a, ss, pp, dd in zip(hw, k, s, p, d):
        L *= _out_size(size, a, ss, pp, pp, dd)
    if x.shape[1] % kk or x.shape[2] != L:
        raise ShapeError(
            f"fold: Expected size of input's dimension 1 to be divisible by the product of kernel_size ({kk}) and its "
            f"dimension 2 to match the calculated number of sliding blocks {L}, but got input of size {list(input.shape)}"
        )
    y = Fold.apply(x, out_hw=hw, args=(k, s, p, d))
    return y.squeeze(0) if unbatched else y
