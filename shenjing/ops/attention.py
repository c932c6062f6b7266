"""Attention (注意力机制, Fang ch. 9): scaled dot-product attention as one fused operation.

    Attention(Q, K, V) = softmax(Q Kᵀ · scale + M) V,   scale = 1/√E by default,

with M an additive mask (0 where a key takes part, −∞ where it does not; a boolean mask is turned
into one, True meaning "takes part" as in ``torch.nn.functional.scaled_dot_product_attention``).
The query attention of Fang (e_i = score(q, x_i), α = softmax(e), Σ α_i x_i) is the case of a
single query with K = V = X and scale 1 (see ``shenjing.nn.attention``).

``ScaledDotProductAttention`` is one ``Function`` (forward and backward side by side) instead of a
chain of matmul/softmax/dropout/matmul nodes. With P = softmax(S), P̃ = P ⊙ D (the dropout mask D,
scaled by 1/(1−p)) and O = P̃ V, the backward is

    ∂V = P̃ᵀ G,   ∂P = (G Vᵀ) ⊙ D,   ∂S = P ⊙ (∂P − Σ_j ∂P ⊙ P),
    ∂Q = scale · ∂S K,   ∂K = scale · ∂Sᵀ Q,   ∂M = ∂S  (summed to the mask's shape).

It runs on arrays when no graph is recorded; with ``create_graph=True`` the same formulas are
written with Tensor ops (P recomputed from Q, K), so the gradient can be differentiated again.
"""

from __future__ import annotations

import math

from ..autograd.function import Function, ShapeError
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from ..random import Generator, rng
from .elementwise import where
from .reduce import softmax
from .shape import stack

__all__ = ["scaled_dot_product_attention", "packed_attention", "ScaledDotProductAttention", "PackedAttention",
           "attention_mask", "causal_mask"]

_NEG_INF = float("-inf")


def _mT(a):
    return xp.swapaxes(a, -1, -2)


def _safe_softmax(s):
    """softmax along the last axis, in place on ``s``; a row that is −∞ everywhere (no key may be
    attended) gives zeros instead of NaN, as torch's scaled_dot_product_attention does."""
    m = s.max(axis=-1, keepdims=True)
    m[m == _NEG_INF] = 0.0
    s -= m
    xp.exp(s, out=s)
    d = s.sum(axis=-1, keepdims=True)
    d[d == 0] = 1.0
    s /= d
    return s


class ScaledDotProductAttention(Function):
    """O = (softmax(Q Kᵀ·scale + M) ⊙ D) V (缩放点积注意力). Inputs q, k, v and optionally a
    floating mask M that may require grad; a constant mask comes as the array ``add``.

    ``weights`` (a dict or None) receives the attention weights P ⊙ D as an array."""

    packed = False

    def forward(self, *arrays, scale, add, drop, weights):
        if self.packed:  # one input (3, ..., L, E) holding q, k, v (a self-attention projection)
            q, k, v = arrays[0][0], arrays[0][1], arrays[0][2]
            mask = arrays[1] if len(arrays) > 1 else None
        else:
            q, k, v = arrays[:3]
            mask = arrays[3] if len(arrays) > 3 else None
        s = xp.matmul(q, _mT(k))
        s *= scale
        for m in (mask, add):
            if m is not None:
                if xp.broadcast_shapes(s.shape, m.shape) == s.shape:
                    s += m
                else:
                    s = s + m
        p = _safe_softmax(s)
        pd = p * drop if drop is not None else p
        self.p, self.pd, self.drop, self.scale, self.add = p, pd, drop, scale, add
        if weights is not None:
            weights["weights"] = pd
        if self.packed and pd.ndim >= 3:
            # written as (..., L, H, Ev) memory so that the caller's merge of the heads is a view
            shape = pd.shape[:-3] + (pd.shape[-2], pd.shape[-3], v.shape[-1])
            out = xp.empty(shape, dtype=pd.dtype)
            xp.matmul(pd, v, out=xp.swapaxes(out, -3, -2))
            return xp.swapaxes(out, -3, -2)
        return xp.matmul(pd, v)

    def backward(self, g):
        needs = self.needs_input_grad
        mask_grad = len(self.inputs) > (1 if self.packed else 3) and needs[-1]
        if self.packed:
            qkv = self.inputs[0]
            need = (needs[0],) * 3
            if not grad_enabled():
                out = xp.empty(qkv.shape, dtype=g._data.dtype) if needs[0] else None
                _, _, _, gm = self._grads_arrays(g._data, qkv._data[0], qkv._data[1], qkv._data[2], mask_grad, need, out)
                return (Tensor._make(out) if out is not None else None, gm)[:len(self.inputs)]
            gq, gk, gv, gm = self._grads_tensors(g, qkv[0], qkv[1], qkv[2], mask_grad, need)
            return (stack([gq, gk, gv]) if needs[0] else None, gm)[:len(self.inputs)]
        q, k, v = self.inputs[:3]
        need = needs[:3]
        if not grad_enabled():
            gq, gk, gv, gm = self._grads_arrays(g._data, q._data, k._data, v._data, mask_grad, need)
            gq, gk, gv = (None if a is None else Tensor._make(a) for a in (gq, gk, gv))
        else:
            gq, gk, gv, gm = self._grads_tensors(g, q, k, v, mask_grad, need)
        return (gq, gk, gv, gm)[:len(self.inputs)]

    def _grads_tensors(self, g, q, k, v, mask_grad, need):
        """create_graph: P as a Tensor function of q, k (and the mask), so the gradient is differentiable."""
        s = (q @ k.mT) * self.scale
        mask = self.inputs[-1] if len(self.inputs) > (1 if self.packed else 3) else None
        if mask is not None:
            s = s + mask
        if self.add is not None:
            s = s + Tensor._make(self.add)
        dead = (self.p.sum(axis=-1, keepdims=True) == 0)
        if dead.any():
            s = where(Tensor._make(dead), Tensor._make(xp.zeros((), s.dtype)), s)
        p = softmax(s, -1)
        if dead.any():
            p = where(Tensor._make(dead), Tensor._make(xp.zeros((), s.dtype)), p)
        d = Tensor._make(self.drop) if self.drop is not None else None
        pd = p * d if d is not None else p
        gq = gk = gv = gm = None
        if need[2]:
            gv = pd.mT @ g
        if need[0] or need[1] or mask_grad:
            gp = g @ v.mT
            if d is not None:
                gp = gp * d
            gs = p * (gp - (gp * p).sum(-1, keepdim=True))
            gm = gs if mask_grad else None  # the engine sums it to the mask's shape
            gs = gs * self.scale
            if need[0]:
                gq = gs @ k
            if need[1]:
                gk = gs.mT @ q
        return gq, gk, gv, gm

    def _grads_arrays(self, g, q, k, v, mask_grad, need, out=None):
        """The same formulas on arrays; ``out`` (3, ..., L, E) receives ∂q, ∂k, ∂v when given."""
        gq = gk = gv = gm = None
        if need[2]:
            gv = xp.matmul(_mT(self.pd), g, out=None if out is None else out[2])
        if need[0] or need[1] or mask_grad:
            p = self.p
            gs = xp.matmul(g, _mT(v))
            if self.drop is not None:
                gs *= self.drop
            t = gs * p
            gs -= t.sum(axis=-1, keepdims=True)
            gs *= p
            if mask_grad:
                gm = Tensor._make(gs.copy())  # (gs is scaled in place below)
            gs *= self.scale
            if need[0]:
                gq = xp.matmul(gs, k, out=None if out is None else out[0])
            if need[1]:
                gk = xp.matmul(_mT(gs), q, out=None if out is None else out[1])
        return gq, gk, gv, gm


class PackedAttention(ScaledDotProductAttention):
    """ScaledDotProductAttention with q, k, v stacked in one input (3, ..., L, E), as a
    self-attention projection gives them: one gradient array instead of three, and the output is
    laid out (..., L, H, E) in memory, so that merging the heads afterwards needs no copy."""

    packed = True


def causal_mask(L: int, S: int | None = None) -> Tensor:
    """The boolean causal mask (因果掩码) of shape (L, S): True on and below the diagonal (a query
    at position i may attend to keys 0..i), as ``is_causal=True`` uses."""
    return Tensor._make(xp.tri(L, L if S is None else S, dtype=bool))


def attention_mask(mask: Tensor | None, dtype) -> Tensor | None:
    """A boolean mask (True = takes part) as the additive float mask (0 / −∞) of ``dtype``; a float
    mask is returned unchanged."""
    if mask is None or mask._data.dtype != xp.bool_:
        return mask
    return Tensor._make(xp.where(mask._data, 0.0, _NEG_INF).astype(dtype))


def _check(query: Tensor, key: Tensor, value: Tensor, attn_mask) -> None:
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ShapeError(f"scaled_dot_product_attention: {name} must have at least 2 dims (..., L, E), got shape {tuple(t.shape)}")
    dts = {query._data.dtype, key._data.dtype, value._data.dtype}
    if len(dts) > 1 or query._data.dtype.kind != "f":
        raise RuntimeError(
            "scaled_dot_product_attention: expected query, key and value to have the same floating dtype, got "
            f"query.dtype: {query.dtype}, key.dtype: {key.dtype}, value.dtype: {value.dtype}"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
            f"{tuple(value.shape)} do not fit (need query (..., L, E), key (..., S, E), value (..., S, Ev))"
        )
    try:
        batch = xp.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"scaled_dot_product_attention: the batch dims of query {tuple(query.shape)}, key {tuple(key.shape)} "
            f"and value {tuple(value.shape)} cannot be broadcast"
        ) from None
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
        if attn_mask._data.dtype != xp.bool_ and attn_mask._data.dtype != query._data.dtype:
            raise RuntimeError(
                f"scaled_dot_product_attention: expected attn_mask dtype to be bool or to match query dtype, got "
                f"attn_mask.dtype: {attn_mask.dtype} and query.dtype: {query.dtype}"
            )
        target = tuple(batch) + (query.shape[-2], key.shape[-2])
        try:
            xp.broadcast_shapes(attn_mask.shape, target)
        except ValueError:
            raise ShapeError(
                f"scaled_dot_product_attention: attn_mask of shape {tuple(attn_mask.shape)} cannot be broadcast to "
                f"the attention scores of shape {target}"
            ) from None


def _gqa(query: Tensor, key: Tensor, value: Tensor):
    """Grouped-query attention: repeat the key/value heads (dim −3) to the number of query heads."""
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise ShapeError(f"scaled_dot_product_attention: enable_gqa needs the query heads ({hq}) to be a multiple of the key ({hk}) and value ({hv}) heads")
    if hk != hq:
        key = key.index_select(-3, Tensor._make(xp.arange(hq) // (hq // hk)))
    if hv != hq:
        value = value.index_select(-3, Tensor._make(xp.arange(hq) // (hq // hv)))
    return key, value


def _prepare(query: Tensor, L: int, S: int, batch: tuple, attn_mask, dropout_p: float, is_causal: bool,
             generator: Generator | None):
    """(additive constant mask array, mask Tensor that needs a gradient, dropout mask array)."""
    dt = query._data.dtype
    add, mask = None, None
    if is_causal:
        add = xp.where(xp.tri(L, S, dtype=bool), 0.0, _NEG_INF).astype(dt)
    elif attn_mask is not None:
        if attn_mask._data.dtype == xp.bool_:
            add = xp.where(attn_mask._data, 0.0, _NEG_INF).astype(dt)
        elif attn_mask.requires_grad and grad_enabled():
            mask = attn_mask
        else:
            add = attn_mask._data
    drop = None
    if dropout_p > 0.0:
        shape = xp.broadcast_shapes(batch, () if add is None else add.shape[:-2], () if mask is None else mask.shape[:-2]) + (L, S)
        if dropout_p == 1.0:
            drop = xp.zeros(shape, dtype=dt)
        else:
            drop = (rng(generator).random(shape, dtype=dt) >= dropout_p).astype(dt)
            drop *= dt.type(1.0 / (1.0 - dropout_p))
    return add, mask, drop


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False, *, return_weights: bool = False,
                                 generator: Generator | None = None):
    """softmax(Q Kᵀ·scale + M) V (缩放点积注意力, Vaswani et al. 2017; Fang ch. 9), like torch's.

    ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev) → (..., L, Ev); the batch dims
    broadcast. ``attn_mask`` broadcasts to (..., L, S): boolean (True = the key takes part) or
    floating (added to the scores). ``is_causal`` masks keys after the query (a (L, S)
    lower-triangular mask; not together with ``attn_mask``). ``scale`` defaults to 1/√E. Dropout
    with probability ``dropout_p`` is applied to the weights (always, as torch's; pass 0 in eval),
    drawn from shenjing's generator. A query row that may attend to no key gives zeros.

    ``return_weights=True`` returns ``(output, weights)`` with the attention weights (after dropout)
    of shape (..., L, S); they are a constant (no gradient flows through them)."""
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3:
        key, value = _gqa(query, key, value)
    _check(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    batch = xp.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    add, mask, drop = _prepare(query, L, S, batch, attn_mask, dropout_p, is_causal, generator)
    store = {} if return_weights else None
    ins = (query, key, value) if mask is None else (query, key, value, mask)
    out = ScaledDotProductAttention.apply(*ins, scale=scale, add=add, drop=drop, weights=store)
    if return_weights:
        return out, Tensor._make(store["weights"])
    return out


def packed_attention(qkv: Tensor, attn_mask: Tensor | None = None, dropout_p: float = 0.0, is_causal: bool = False,
                     scale: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """``scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], ...)`` for q, k, v stacked in one tensor
    (3, ..., L, E) (self-attention); the same values and gradients, with less copying. The output
    (..., H, L, E) is stored so that ``out.transpose(-3, -2)`` is contiguous."""
    if qkv.ndim < 3 or qkv.shape[0] != 3:
        raise ShapeError(f"packed_attention: expected q, k, v stacked as (3, ..., L, E), got shape {tuple(qkv.shape)}")
    q = Tensor._make(qkv._data[0])
    _check(q, q, q, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    L = qkv.shape[-2]
    scale = 1.0 / math.sqrt(qkv.shape[-1]) if scale is None else float(scale)
    add, mask, drop = _prepare(q, L, L, tuple(qkv.shape[1:-2]), attn_mask, dropout_p, is_causal, generator)
    ins = (qkv,) if mask is None else (qkv, mask)
    return PackedAttention.apply(*ins, scale=scale, add=add, drop=drop, weights=None)
