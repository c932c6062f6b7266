"""Stateless layers (层的函数形式): linear, bilinear, dropout, normalisation, embedding, one-hot.

Each follows ``torch.nn.functional`` in name, arguments and result. ``linear``, the normalisations
and ``embedding`` are fused ops of ``shenjing.ops`` (one graph node per layer).
"""

from __future__ import annotations

from typing import Any

from ...autograd.function import ShapeError
from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor
from ...ops.elementwise import check_same_dtype
from ...ops.index import embedding
from ...ops.linalg import einsum, linear
from ...ops.norm import channel_affine, normalize
from ...random import Generator, rng

__all__ = [
    "linear", "bilinear", "dropout", "batch_norm", "layer_norm", "group_norm", "embedding", "one_hot",
]


# ------------------------------------------------------------------ linear


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x₁ᵀ W_k x₂ + b_k (双线性层), ``weight`` of shape (out, in1, in2)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(
            f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} do not fit weight "
            f"{tuple(weight.shape)} (expected (*, in1), (*, in2) with the same leading dims and weight (out, in1, in2))"
        )
    check_same_dtype("bilinear", input1, input2, weight, bias)
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
    dt = input.dtype
    if dt.kind != "f":
        raise RuntimeError(f"dropout: expected a floating-point input, got {dt}")
    if p == 1.0:
        mask = xp.zeros(input.shape, dtype=dt)
    else:
        draw = rng(generator).random(input.shape, dtype=dt if dt in (xp.float32, xp.float64) else xp.float64)
        mask = (draw >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    m = as_tensor(mask)
    return input.mul_(m) if inplace else input * m


# ------------------------------------------------------------------ normalisation


EPS_FORMS = ("sqrt", "std_plus_eps")
STATS_FORMS = ("per_feature", "scalar")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5, *,
               eps_form: str = "sqrt", stats: str = "per_feature") -> Tensor:
    """Batch normalisation (批归一化, Fang §8.2, Nelson "每层的批量归一化").

    Over the batch (and spatial) axes of each channel c:
        m = (1/|B|) Σ hᵢ,  s² = (1/|B|) Σ (hᵢ − m)²   (the biased variance of Fang),
        ĥᵢ = (hᵢ − m)/√(s² + ε),  h̃ᵢ = γ ĥᵢ + β.
    In training the running statistics are updated in place like torch's:
        running_mean ← (1 − momentum)·running_mean + momentum·m,
        running_var  ← (1 − momentum)·running_var + momentum·s²·|B|/(|B| − 1)  (unbiased).
    Not training, the running statistics replace m and s².

    The notes' forms (default: PyTorch's, above):
        ``eps_form="std_plus_eps"``: ĥᵢ = (hᵢ − m)/(s + ε)  (Fang §8.2);
        ``stats="scalar"``: one variance for the whole layer, s² = (1/|B|) Σᵢ ‖hᵢ − m‖² = Σ_c s_c²
        (Nelson "每层的批量归一化", steps 3–4; the running variance holds it in every entry)."""
    if eps_form not in EPS_FORMS or stats not in STATS_FORMS:
        raise ValueError(f"batch_norm: eps_form must be one of {EPS_FORMS} and stats one of {STATS_FORMS}, "
                         f"got eps_form={eps_form!r}, stats={stats!r}")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    check_same_dtype("batch_norm", input, weight, bias)
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise ShapeError(f"batch_norm: {name} should contain {C} elements not {t.numel()} (input shape {tuple(input.shape)})")
    axes = (0,) + tuple(range(2, input.ndim))
    pshape = (1, C) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // max(C, 1)
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        if eps_form == "sqrt" and stats == "per_feature":
            out, mean, var = normalize(input, weight, bias, axes, pshape, eps)
        else:
            out, mean, var = _batch_norm_notes_form(input, weight, bias, axes, eps, eps_form, stats)
        m = 0.0 if momentum is None else momentum
        if running_mean is not None:
            with running_mean.inplace() as rm:
                rm[...] = ((1 - m) * rm + m * mean.reshape(rm.shape)).astype(rm.dtype, copy=False)
        if running_var is not None:
            with running_var.inplace() as rv:
                rv[...] = ((1 - m) * rv + m * (var * (n / (n - 1))).reshape(rv.shape)).astype(rv.dtype, copy=False)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are needed when training=False")
    # eval: y = x·s + t per channel, s = γ/√(σ²_run + ε), t = β − μ_run·s (torch's form), one pass
    dt = input.dtype
    rm = running_mean.array.reshape(C).astype(dt, copy=False)
    rv = running_var.array.reshape(C).astype(dt, copy=False)
    invstd = (1.0 / (xp.sqrt(rv + eps) if eps_form == "sqrt" else xp.sqrt(rv) + eps)).astype(dt, copy=False)
    if weight is None and bias is None:
        return channel_affine(input, as_tensor(invstd), as_tensor(-rm * invstd))
    scale = as_tensor(invstd) if weight is None else weight.reshape(C) * as_tensor(invstd)
    shift = -(as_tensor(rm) * scale) if bias is None else bias.reshape(C) - as_tensor(rm) * scale
    return channel_affine(input, scale, shift)


def _batch_norm_notes_form(input: Tensor, weight: Tensor | None, bias: Tensor | None, axes: tuple, eps: float,
                           eps_form: str, stats: str) -> tuple[Tensor, Any, Any]:
    """(γ ĥ + β, m, s²) for the notes' forms of :func:`batch_norm` in training, composed of Tensor ops;
    m and s² (per channel; the scalar s² repeated) are arrays for the running statistics."""
    C = input.shape[1]
    pshape = (1, C) + (1,) * (input.ndim - 2)
    mean = input.mean(axes, keepdim=True)
    d = input - mean
    var = (d * d).mean(axes, keepdim=True)
    if stats == "scalar":
        var = var.sum(1, keepdim=True)
    h = d / ((var + eps).sqrt() if eps_form == "sqrt" else var.sqrt() + eps)
    if weight is not None:
        h = h * weight.reshape(pshape)
    if bias is not None:
        h = h + bias.reshape(pshape)
    v = xp.broadcast_to(var.detach().array.reshape(-1), (C,))
    return h, mean.detach().array.reshape(C), v


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
    return normalize(input, weight, bias, axes, shape, eps)[0]


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation (组归一化): the C channels are split into ``num_groups`` groups and each
    (sample, group) is normalised over its channels and spatial positions; then γ_c x̂ + β_c."""
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    check_same_dtype("group_norm", input, weight, bias)
    N, C = input.shape[0], input.shape[1]
    if C % num_groups:
        raise ShapeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, "
                         f"but got input of shape {tuple(input.shape)} and num_groups={num_groups}")
    x = input.reshape(N, num_groups, -1)
    y = normalize(x, None, None, (2,), (1, 1, 1), eps)[0].reshape(input.shape)
    pshape = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(pshape)
    if bias is not None:
        y = y + bias.reshape(pshape)
    return y


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Indices → one-hot rows (独热编码): shape (*, num_classes), dtype int64; num_classes = −1 uses
    max + 1."""
    idx = xp.asarray(tensor)
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
    return as_tensor(out)

