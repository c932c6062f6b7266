"""Attention in functional form (注意力机制, Fang ch. 9).

* ``query_attention``: the notes' attention of one query q over inputs x_1..x_n —
  e_i = score(q, x_i), α = softmax(e), output Σ α_i x_i;
* ``scaled_dot_product_attention``: softmax(Q Kᵀ/√d + M) V (``shenjing.ops.attention``);
* ``multi_head_attention_forward``: multi-head attention (多头注意力) with torch's arguments;
* ``sinusoidal_positional_encoding``: the position code of Vaswani et al. (位置编码).
"""

from __future__ import annotations

import math

from ...autograd.function import ShapeError
from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor
from ...ops import elementwise as E
from ...ops.attention import attention_mask, causal_mask, packed_attention, scaled_dot_product_attention
from ...ops.reduce import softmax
from ...ops.shape import cat, pad
from .layers import dropout, linear

__all__ = [
    "query_attention", "attention_score", "scaled_dot_product_attention", "multi_head_attention_forward",
    "sinusoidal_positional_encoding", "causal_mask", "attention_mask",
]

QUERY_SCORES = ("dot", "scaled_dot", "linear", "additive")


# ------------------------------------------------------------------ the notes' query attention


def attention_score(query: Tensor, inputs: Tensor, score: str = "dot", weight: Tensor | None = None,
                    query_weight: Tensor | None = None, v: Tensor | None = None) -> Tensor:
    """The scores e_i = score(q, x_i) (相似度) of Fang §9.1, shape (..., n).

    ``query`` (..., d_q), ``inputs`` (..., n, d). The score functions:

    * ``'dot'`` (点积): e_i = qᵀ x_i (needs d_q = d);
    * ``'scaled_dot'``: e_i = qᵀ x_i / √d;
    * ``'linear'`` (可学习的线性变换): e_i = qᵀ W x_i with ``weight`` W of shape (d_q, d);
    * ``'additive'`` (Bahdanau): e_i = vᵀ tanh(W_q q + W x_i), ``query_weight`` W_q (h, d_q),
      ``weight`` W (h, d), ``v`` (h,)."""
    if score not in QUERY_SCORES:
        raise ValueError(f"query_attention: score must be one of {', '.join(QUERY_SCORES)}, got {score!r}")
    if inputs.ndim < 2:
        raise ShapeError(f"query_attention: inputs must be (..., n, d), got shape {tuple(inputs.shape)}")
    if score in ("dot", "scaled_dot"):
        if query.shape[-1] != inputs.shape[-1]:
            raise ShapeError(f"query_attention: a dot-product score needs the query ({tuple(query.shape)}) and the "
                             f"inputs ({tuple(inputs.shape)}) to have the same last dim")
        e = (inputs @ query.unsqueeze(-1)).squeeze(-1)
        return e / math.sqrt(query.shape[-1]) if score == "scaled_dot" else e
    if weight is None:
        raise ValueError(f"query_attention: score={score!r} needs a weight")
    if score == "linear":
        if tuple(weight.shape) != (query.shape[-1], inputs.shape[-1]):
            raise ShapeError(f"query_attention: the linear score needs W of shape (d_q, d) = "
                             f"({query.shape[-1]}, {inputs.shape[-1]}), got {tuple(weight.shape)}")
        return (inputs @ (query @ weight).unsqueeze(-1)).squeeze(-1)
    if query_weight is None or v is None:
        raise ValueError("query_attention: the additive score needs weight, query_weight and v")
    h = E.tanh(linear(inputs, weight) + linear(query, query_weight).unsqueeze(-2))
    return (h @ v.unsqueeze(-1)).squeeze(-1)


def query_attention(query: Tensor, inputs: Tensor, score: str = "dot", weight: Tensor | None = None,
                    mask: Tensor | None = None, query_weight: Tensor | None = None, v: Tensor | None = None):
    """The attention of Fang §9.1 (注意力机制): one query q over the inputs X = [x_1, ..., x_n],

        e_i = score(q, x_i),   α_i = exp(e_i) / Σ_j exp(e_j),   output = Σ_i α_i x_i.

    ``query`` (..., d_q), ``inputs`` (..., n, d); ``mask`` (..., n) boolean, True = x_i takes part.
    Returns ``(output, alpha)`` of shapes (..., d) and (..., n). See ``attention_score`` for the
    score functions."""
    e = attention_score(query, inputs, score, weight, query_weight, v)
    if mask is not None:
        e = e.masked_fill(~mask, float("-inf"))
    alpha = softmax(e, -1)
    out = (alpha.unsqueeze(-2) @ inputs).squeeze(-2)
    return out, alpha


# ------------------------------------------------------------------ positional encoding


def sinusoidal_positional_encoding(length: int, d_model: int, base: float = 10000.0, dtype=None) -> Tensor:
    """The sinusoidal position code (正弦位置编码) of Vaswani et al. (2017), shape (length, d_model):

        PE(pos, 2i) = sin(pos / base^(2i/d_model)),   PE(pos, 2i+1) = cos(pos / base^(2i/d_model))."""
    from ... import backend as B

    dt = B.get_default_dtype() if dtype is None else xp.dtype(dtype)
    pos = xp.arange(length, dtype=xp.float64)[:, None]
    div = xp.exp(xp.arange(0, d_model, 2, dtype=xp.float64) * (-math.log(base) / d_model))
    pe = xp.zeros((length, d_model))
    pe[:, 0::2] = xp.sin(pos * div)
    pe[:, 1::2] = xp.cos(pos * div[: d_model // 2])
    return as_tensor(pe.astype(dt))


# ------------------------------------------------------------------ multi-head attention


def canonical_mask(mask: Tensor | None, name: str, dtype) -> Tensor | None:
    """torch's convention for MultiheadAttention masks: a boolean mask is True where attention is
    NOT allowed (→ −∞); a floating mask is added to the scores as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"multi_head_attention: {name} must be a Tensor, got {type(mask).__name__}")
    dt = mask.array.dtype
    if dt == xp.bool_:
        return as_tensor(xp.where(mask.array, float("-inf"), 0.0).astype(dtype))
    if dt.kind != "f":
        raise TypeError(f"multi_head_attention: only bool and floating types of {name} are supported, got {dt}")
    return mask if dt == dtype else mask.to(dtype)


def _split_heads(x: Tensor, n: int, heads: int) -> Tensor:
    """(N, L, E) → (N, heads, L, E/heads)."""
    return x.reshape(n, x.shape[1], heads, -1).transpose(1, 2)


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
                                 bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
                                 out_proj_bias: Tensor | None, training: bool = True,
                                 key_padding_mask: Tensor | None = None, need_weights: bool = True,
                                 attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
                                 static_v: Tensor | None = None, average_attn_weights: bool = True,
                                 is_causal: bool = False, *, batch_first: bool = False):
    """Multi-head attention (多头注意力, Vaswani et al. 2017), torch.nn.functional's form:

        head_h = softmax((X_q W_q^h)(X_k W_k^h)ᵀ/√d_h + M) X_v W_v^h,   out = [head_1 … head_H] W_oᵀ + b_o.

    Inputs are (L, N, E) (or (N, L, E) with ``batch_first``; unbatched (L, E)). Masks follow
    torch's MultiheadAttention: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N·H, L, S), boolean True = NOT attended, or floating (added). Returns ``(output, weights)``,
    the weights (N, L, S) averaged over heads (or (N, H, L, S)), or None when not ``need_weights``."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not supported")
    self_attn, kv_same = query is key and key is value, key is value
    batched = query.ndim == 3
    query, key, value, key_padding_mask = _batch_first(query, key, value, key_padding_mask, batch_first)
    N, L, Ed = query.shape
    S, H = key.shape[1], num_heads
    _check_shapes(query, key, value, embed_dim_to_check, H)
    packed = self_attn and not use_separate_proj_weight and not need_weights and bias_k is None and not add_zero_attn
    if packed:  # q, k, v as one (3, N, H, L, d_h) view of the projection: no split, one gradient array
        qkv = linear(query, in_proj_weight, in_proj_bias).reshape(N, L, 3, H, Ed // H).permute(2, 0, 3, 1, 4)
    else:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else in_proj_weight
        q, k, v = _in_projection(query, key, value, weights, in_proj_bias, self_attn, kv_same)
    attn_mask, key_padding_mask, is_causal = _masks(attn_mask, key_padding_mask, is_causal, need_weights, (N, H, L, S), query.dtype)
    if not packed:
        k, v, attn_mask, key_padding_mask = _extend_keys(k, v, attn_mask, key_padding_mask, bias_k, bias_v)
        q, k, v = _split_heads(q, N, H), _split_heads(k, N, H), _split_heads(v, N, H)
        if add_zero_attn:  # one more key and value of zeros
            z = as_tensor(xp.zeros((N, H, 1, Ed // H), dtype=query.dtype))
            k, v = cat([k, z], 2), cat([v, z], 2)
            attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
            key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    mask = attn_mask if key_padding_mask is None else key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    p = dropout_p if training else 0.0
    if packed:
        o, weights = packed_attention(qkv, attn_mask=mask, dropout_p=p, is_causal=is_causal), None
    else:
        o, weights = _attend(q, k, v, mask, p, is_causal, need_weights, average_attn_weights)
    out = linear(o.transpose(1, 2).reshape(N, L, Ed), out_proj_weight, out_proj_bias)
    if not batch_first:
        out = out.transpose(0, 1)
    if not batched:
        out = out.squeeze(0 if batch_first else 1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights


def _batch_first(query: Tensor, key: Tensor, value: Tensor, key_padding_mask, batch_first: bool):
    """The inputs as (N, L, E) batches (an unbatched (L, E) input becomes a batch of one)."""
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"multi_head_attention: query, key and value must all be 3-D (batched) or 2-D (unbatched), got "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    bdim = 0 if batch_first else 1
    if query.ndim == 2:
        query, key, value = query.unsqueeze(bdim), key.unsqueeze(bdim), value.unsqueeze(bdim)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if not batch_first:
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    return query, key, value, key_padding_mask


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, embed_dim: int, heads: int) -> None:
    N, _, Ed = query.shape
    if Ed != embed_dim:
        raise ShapeError(f"multi_head_attention: was expecting embedding dimension of {embed_dim}, but got {Ed}")
    if Ed % heads:
        raise ShapeError(f"multi_head_attention: embed_dim {Ed} not divisible by num_heads {heads}")
    if key.shape[:2] != value.shape[:2]:
        raise ShapeError(f"multi_head_attention: key {tuple(key.shape)} and value {tuple(value.shape)} must have the same batch and length")
    if key.shape[0] != N:
        raise ShapeError(f"multi_head_attention: query {tuple(query.shape)} and key {tuple(key.shape)} have different batch sizes")


def _in_projection(query: Tensor, key: Tensor, value: Tensor, weight, bias: Tensor | None, self_attn: bool, kv_same: bool):
    """q = X_q W_qᵀ + b_q, and k, v alike: one matmul for self-attention, two when key is value.
    ``weight`` is the packed (3E, E) in-projection, or a (W_q, W_k, W_v) tuple of separate ones."""
    Ed = query.shape[-1]

    def b(i: int, n: int = 1):
        return None if bias is None else bias[i * Ed:(i + n) * Ed]

    if isinstance(weight, tuple):
        return tuple(linear(x, w, b(i)) for i, (x, w) in enumerate(zip((query, key, value), weight)))
    if weight is None:
        raise ValueError("multi_head_attention: in_proj_weight is None (use_separate_proj_weight=True needs q/k/v_proj_weight)")
    if self_attn:
        return linear(query, weight, bias).split(Ed, -1)
    q = linear(query, weight[:Ed], b(0))
    if kv_same:
        return (q, *linear(key, weight[Ed:], b(1, 2)).split(Ed, -1))
    return q, linear(key, weight[Ed:2 * Ed], b(1)), linear(value, weight[2 * Ed:], b(2))


def _masks(attn_mask, key_padding_mask, is_causal: bool, need_weights: bool, sizes: tuple, dtype):
    """The masks as additive floats, attn_mask (1|N, 1|H, L, S) and key_padding_mask (N, 1, 1, S),
    and whether the causal hint stays (scaled_dot_product_attention then builds the mask itself)."""
    N, H, L, S = sizes
    attn_mask = canonical_mask(attn_mask, "attn_mask", dtype)
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                           "`generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        is_causal = False
    if attn_mask is not None:
        want = {2: (L, S), 3: (N * H, L, S)}.get(attn_mask.ndim)
        if want is None:
            raise ShapeError(f"multi_head_attention: attn_mask's dimension {attn_mask.ndim} is not supported")
        if tuple(attn_mask.shape) != want:
            raise ShapeError(f"multi_head_attention: The shape of the {attn_mask.ndim}D attn_mask is {tuple(attn_mask.shape)}, but should be {want}.")
        attn_mask = attn_mask.reshape(1, 1, L, S) if attn_mask.ndim == 2 else attn_mask.reshape(N, H, L, S)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise ShapeError(f"multi_head_attention: expecting key_padding_mask shape of {(N, S)}, but got {tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(N, 1, 1, S)
    return attn_mask, key_padding_mask, is_causal


def _extend_keys(k: Tensor, v: Tensor, attn_mask, key_padding_mask, bias_k, bias_v):
    """Append the learned bias_k, bias_v as one more key and value (and unmasked mask columns)."""
    if bias_k is None and bias_v is None:
        return k, v, attn_mask, key_padding_mask
    if bias_k is None or bias_v is None:
        raise ValueError("multi_head_attention: bias_k and bias_v must both be given or both be None")
    N, _, Ed = k.shape
    k = cat([k, bias_k.reshape(1, 1, Ed).expand(N, 1, Ed)], 1)
    v = cat([v, bias_v.reshape(1, 1, Ed).expand(N, 1, Ed)], 1)
    attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
    key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
    return k, v, attn_mask, key_padding_mask


def _attend(q: Tensor, k: Tensor, v: Tensor, mask, dropout_p: float, is_causal: bool, need_weights: bool, average: bool):
    """The heads' outputs (N, H, L, d_h) and the attention weights (or None)."""
    if not need_weights:
        return scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal), None
    # torch's explicit path: softmax(q kᵀ/√d + M) (NaN for a row with no key), dropout, · v
    s = (q * (1.0 / math.sqrt(q.shape[-1]))) @ k.mT
    if mask is not None:
        s = s + mask
    weights = softmax(s, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ v, weights.mean(1) if average else weights
