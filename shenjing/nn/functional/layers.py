"""Stateless layers (层的函数形式): linear, bilinear, dropout, normalisation, embedding, one-hot.

Each follows ``torch.nn.functional`` in name, arguments and result. ``linear`` and the
normalisations are one fused ``Function`` each, so that a training step records one node instead of
a dozen (measured: batch/layer norm forward+backward about 3-4× faster than the same formula
composed of primitive ops, at (128, 512)). Their backward has two forms of the same formulas: with
``create_graph=True`` it is written with Tensor ops on the inputs (the normalised input is rebuilt
from ``x``), so the gradient is itself differentiable and second derivatives are exact; otherwise it
runs directly on the arrays.
"""

from __future__ import annotations

from ...autograd.function import Function, ShapeError
from ...autograd.grad_mode import _enabled, no_grad
from ...autograd.tensor import Tensor
from ...backend import xp
from ...ops.elementwise import _sum_to, sum_to
from ...ops.index import IndexAddTo
from ...ops.linalg import einsum
from ...random import Generator, rng

__all__ = [
    "linear", "bilinear", "dropout", "batch_norm", "layer_norm", "group_norm", "embedding", "one_hot",
]


# ------------------------------------------------------------------ linear


class Linear(Function):
    """y = x Wᵀ + b (全连接层/仿射变换, Zhao §2: z = W a + b in the row layout).

    Backward: ∂x = G W, ∂W = Gᵀ X, ∂b = Σ_rows G, with the batch dimensions folded into rows."""

    def forward(self, x, w, b=None):
        if x.ndim > 2:
            y = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        b = self.inputs[2] if len(self.inputs) > 2 else None
        gx = gw = gb = None
        if not _enabled[0]:  # plain backward: the same formulas on arrays (no graph to record)
            ga = g._data
            if x.requires_grad:
                gx = Tensor._make(ga @ w._data)
            g2 = ga.reshape(-1, ga.shape[-1])
            if w.requires_grad:
                gw = Tensor._make(g2.T @ x._data.reshape(-1, w.shape[1]))
            if b is not None and b.requires_grad:
                gb = Tensor._make(g2.sum(0).reshape(b.shape))
            return gx, gw, gb
        if x.requires_grad:
            gx = g @ w
        if w.requires_grad or (b is not None and b.requires_grad):
            g2 = g.reshape(-1, w.shape[0]) if g.ndim != 2 else g
            if w.requires_grad:
                x2 = x.reshape(-1, w.shape[1]) if x.ndim != 2 else x
                gw = g2.mT @ x2
            if b is not None and b.requires_grad:
                gb = g2.sum(0).reshape(b.shape)
        return gx, gw, gb


def _same_dtype(op: str, *tensors) -> None:
    dts = {t._data.dtype for t in tensors if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: expected all tensors to have the same dtype, got {', '.join(str(t.dtype) for t in tensors if t is not None)}")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with ``weight`` of shape (out_features, in_features) like torch.

    ``input`` is (*, in_features); the result is (*, out_features)."""
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        rows = "x".join(map(str, (input._data.size // max(input.shape[-1], 1), input.shape[-1]))) if input.ndim else "scalar"
        raise ShapeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows} and {weight.shape[1]}x{weight.shape[0]}); "
            f"input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)} (in_features={weight.shape[1]})"
        )
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), ()):
        raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} does not match out_features={weight.shape[0]}")
    _same_dtype("linear", input, weight, bias)
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x₁ᵀ W_k x₂ + b_k (双线性层), ``weight`` of shape (out, in1, in2)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(
            f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} do not fit weight "
            f"{tuple(weight.shape)} (expected (*, in1), (*, in2) with the same leading dims and weight (out, in1, in2))"
        )
    _same_dtype("bilinear", input1, input2, weight, bias)
    y = einsum("...i,kij,...j->...k", input1, weight, input2)
    return y if bias is None else y + bias


# ------------------------------------------------------------------ dropout


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator: Generator | None = None) -> Tensor:
    """Inverted dropout (随机失活, Nelson "Dropout"): each element is zeroed with probability ``p``
    and the survivors are scaled by 1/(1−p), so E[output] = input; the identity when not training.

    The mask is drawn from shenjing's generator (``shenjing.manual_seed`` makes it repeatable)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    if dt.kind != "f":
        raise RuntimeError(f"dropout: expected a floating-point input, got {dt}")
    if p == 1.0:
        mask = xp.zeros(input.shape, dtype=dt)
    else:
        draw = rng(generator).random(input.shape, dtype=dt if dt in (xp.float32, xp.float64) else xp.float64)
        mask = (draw >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    m = Tensor._make(mask)
    return input.mul_(m) if inplace else input * m


# ------------------------------------------------------------------ normalisation


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
        x = self.inputs[0]
        w = self.inputs[1] if self.has_w else None
        b = self.inputs[-1] if self.has_b else None
        axes = self.axes
        if not _enabled[0]:
            return self._backward_arrays(g._data, x, w, b)
        # create_graph: rebuild x̂ as a function of x, so that the gradient is differentiable
        xc = x - x.mean(axes, keepdim=True)
        invstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
        xhat = xc * invstd
        gx = gw = gb = None
        if x.requires_grad:
            gh = g * w.reshape(self.pshape) if w is not None else g
            gx = invstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        if w is not None and w.requires_grad:
            gw = sum_to(g * xhat, self.pshape).reshape(w.shape)
        if b is not None and b.requires_grad:
            gb = sum_to(g, self.pshape).reshape(b.shape)
        return self._pack(gx, gw, gb)

    def _backward_arrays(self, g, x, w, b):
        """The same formulas on arrays, for a backward that records no graph (the common case)."""
        axes = self.axes
        xhat = self.xhat if self.xhat is not None else self._plain_output()
        gx = gw = gb = None
        if x.requires_grad:
            gh = g * w._data.reshape(self.pshape) if w is not None else g
            m2 = (gh * xhat).mean(axis=axes, keepdims=True)
            gx = gh - gh.mean(axis=axes, keepdims=True)
            gx -= xhat * m2
            gx *= self.invstd
            gx = Tensor._make(gx)
        if w is not None and w.requires_grad:
            gw = Tensor._make(_sum_to(g * xhat, self.pshape).reshape(w.shape))
        if b is not None and b.requires_grad:
            gb = Tensor._make(_sum_to(g, self.pshape).reshape(b.shape))
        return self._pack(gx, gw, gb)

    def _pack(self, gx, gw, gb):
        out = [gx]
        if self.has_w:
            out.append(gw)
        if self.has_b:
            out.append(gb)
        return tuple(out)


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


def _normalize(input: Tensor, weight, bias, axes, pshape, eps):
    """The normalised (and affine-transformed) input plus the batch mean and biased variance arrays."""
    stats: dict = {}
    if weight is None and bias is None:
        out = NormalizePlain.apply(input, axes=axes, pshape=pshape, eps=eps, stats=stats, has_w=False, has_b=False)
    else:
        ts = [input] + [t for t in (weight, bias) if t is not None]
        _same_dtype("normalization", *ts)
        out = Normalize.apply(*ts, axes=axes, pshape=pshape, eps=eps, stats=stats, has_w=weight is not None,
                              has_b=bias is not None)
    return out, stats["mean"], stats["var"]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation (批归一化, Fang §8.2, Nelson "每层的批量归一化").

    Over the batch (and spatial) axes of each channel c:
        m = (1/|B|) Σ hᵢ,  s² = (1/|B|) Σ (hᵢ − m)²   (the biased variance of Fang),
        ĥᵢ = (hᵢ − m)/√(s² + ε),  h̃ᵢ = γ ĥᵢ + β.
    In training the running statistics are updated in place like torch's:
        running_mean ← (1 − momentum)·running_mean + momentum·m,
        running_var  ← (1 − momentum)·running_var + momentum·s²·|B|/(|B| − 1)  (unbiased).
    Not training, the running statistics replace m and s²."""
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    _same_dtype("batch_norm", input, weight, bias)
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.size != C:
            raise ShapeError(f"batch_norm: {name} should contain {C} elements not {t._data.size} (input shape {tuple(input.shape)})")
    axes = (0,) + tuple(range(2, input.ndim))
    pshape = (1, C) + (1,) * (input.ndim - 2)
    if training:
        n = input._data.size // max(C, 1)
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        out, mean, var = _normalize(input, weight, bias, axes, pshape, eps)
        m = 0.0 if momentum is None else momentum
        with no_grad():
            if running_mean is not None:
                rm = running_mean._data
                rm[...] = ((1 - m) * rm + m * mean.reshape(rm.shape)).astype(rm.dtype, copy=False)
                running_mean._vc[0] += 1
            if running_var is not None:
                rv = running_var._data
                rv[...] = ((1 - m) * rv + m * (var * (n / (n - 1))).reshape(rv.shape)).astype(rv.dtype, copy=False)
                running_var._vc[0] += 1
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are needed when training=False")
    dt = input._data.dtype
    rm = running_mean._data.reshape(pshape).astype(dt, copy=False)
    invstd = (1.0 / xp.sqrt(running_var._data.reshape(pshape).astype(dt, copy=False) + eps))
    xhat = input - Tensor._make(rm)
    scale = Tensor._make(invstd)
    if weight is not None:
        scale = scale * weight.reshape(pshape)
    out = xhat * scale
    return out if bias is None else out + bias.reshape(pshape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalisation (层归一化): each sample normalised over its last len(normalized_shape)
    dims with the biased variance, then y = γ ⊙ x̂ + β (γ, β of shape ``normalized_shape``)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ShapeError(
            f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size {list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} of shape {tuple(t.shape)} does not match normalized_shape {shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return _normalize(input, weight, bias, axes, shape, eps)[0]


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation (组归一化): the C channels are split into ``num_groups`` groups and each
    (sample, group) is normalised over its channels and spatial positions; then γ_c x̂ + β_c."""
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    _same_dtype("group_norm", input, weight, bias)
    N, C = input.shape[0], input.shape[1]
    if C % num_groups:
        raise ShapeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, "
                         f"but got input of shape {tuple(input.shape)} and num_groups={num_groups}")
    x = input.reshape(N, num_groups, -1)
    y = _normalize(x, None, None, (2,), (1, 1, 1), eps)[0].reshape(input.shape)
    pshape = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(pshape)
    if bias is not None:
        y = y + bias.reshape(pshape)
    return y


# ------------------------------------------------------------------ embedding


class Embedding(Function):
    """out = W[idx] (词嵌入, a table lookup). Backward scatters g back to the rows of W, adding
    repeats; the padding row receives no gradient."""

    saves_inputs = False

    def forward(self, w, idx, padding_idx, scale_grad_by_freq):
        self.idx, self.pad, self.shape, self.freq = idx, padding_idx, w.shape, scale_grad_by_freq
        return xp.take(w, idx, axis=0)

    def backward(self, g):
        idx = self.idx
        keep = None
        if self.pad is not None:
            keep = (idx != self.pad)[..., None].astype(g.dtype)
        if self.freq:
            counts = xp.bincount(idx.reshape(-1), minlength=self.shape[0])
            inv = (1.0 / counts[idx])[..., None].astype(g.dtype)
            keep = inv if keep is None else keep * inv
        if keep is not None:
            g = g * Tensor._make(keep)
        return IndexAddTo.apply(g, key=idx, shape=self.shape, advanced=True)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input``.

    ``padding_idx`` gets no gradient; ``max_norm`` renormalises, in place, the rows looked up
    whose ``norm_type``-norm exceeds it (as torch does)."""
    idx = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected an integer (Long or Int) index tensor, got {idx.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(weight.shape)}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} out of range for an embedding of {n} rows (index out of range in self)")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings {n}")
        padding_idx %= n
    if max_norm is not None:
        with no_grad():
            rows = xp.unique(idx)
            w = weight._data
            norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1) if norm_type != 2 else xp.sqrt((w[rows] ** 2).sum(1))
            scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            w[rows] *= scale[:, None].astype(w.dtype)
            weight._vc[0] += 1
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported (use sparse=False)")
    return Embedding.apply(weight, idx=idx.astype(xp.int64, copy=False), padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Indices → one-hot rows (独热编码): shape (*, num_classes), dtype int64; num_classes = −1 uses
    max + 1."""
    idx = tensor._data if isinstance(tensor, Tensor) else xp.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor of integer dtype, got {idx.dtype}")
    if idx.size and idx.min() < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    elif idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({num_classes}), got {int(idx.max())}.")
    out = xp.zeros(idx.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, idx[..., None].astype(xp.int64), 1, axis=-1)
    return Tensor._make(out)

