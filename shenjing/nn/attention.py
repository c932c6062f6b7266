"""Attention modules (注意力机制, Fang ch. 9): the notes' query attention, multi-head attention
(多头注意力) with PyTorch's parameter layout, and positional encodings (位置编码).

``MultiheadAttention`` has torch's parameter names and shapes (``in_proj_weight`` (3E, E),
``in_proj_bias``, ``out_proj`` a Linear; ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when
kdim or vdim differ from embed_dim), so ``load_state_dict`` takes a torch state_dict.
"""

from __future__ import annotations

import math

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from . import init
from .functional import attention as FA
from .functional.layers import dropout
from .layers import Linear
from .module import Module, Parameter

__all__ = [
    "QueryAttention", "MultiheadAttention", "SinusoidalPositionalEncoding", "PositionalEncoding",
    "LearnedPositionalEmbedding",
]


def _param(shape, dtype) -> Parameter:
    return Parameter(xp.empty(shape, dtype=B.get_default_dtype() if dtype is None else xp.dtype(dtype)))


class QueryAttention(Module):
    """The attention of Fang §9.1 (注意力机制): for a query q and inputs x_1..x_n,

        e_i = score(q, x_i),   α = softmax(e),   output = Σ_i α_i x_i.

    ``score='dot'`` (点积) e_i = qᵀx_i, ``'scaled_dot'`` qᵀx_i/√d, ``'linear'`` (可学习的线性变换)
    e_i = qᵀ W x_i with a learned ``weight`` W (query_dim, dim), ``'additive'`` e_i = vᵀ tanh(W_q q +
    W x_i) with ``hidden`` units. ``forward(query, inputs, mask=None)`` takes query (..., query_dim)
    and inputs (..., n, dim) and returns ``(output, alpha)``; ``mask`` (..., n) is True where x_i
    takes part.

    Shape:
        - query: (*, D_q) with D_q = query_dim (default dim).
        - inputs: (*, n, D) with D = dim; mask (optional): (*, n), True = take part.
        - Output: (output, alpha) of shapes (*, D) and (*, n).

    Examples:
        >>> m = nn.QueryAttention(8)
        >>> output, alpha = m(sj.randn(2, 8), sj.randn(2, 5, 8))
        >>> output.shape, alpha.shape
        (shenjing.Size([2, 8]), shenjing.Size([2, 5]))
        >>> round(alpha.sum(-1)[0].item(), 6)
        1.0
    """

    def __init__(self, dim: int, score: str = "dot", query_dim: int | None = None, hidden: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        if score not in FA.QUERY_SCORES:
            raise ValueError(f"QueryAttention: score must be one of {', '.join(FA.QUERY_SCORES)}, got {score!r}")
        self.dim, self.score = dim, score
        self.query_dim = dim if query_dim is None else query_dim
        if score in ("dot", "scaled_dot") and self.query_dim != dim:
            raise ValueError(f"QueryAttention: a dot-product score needs query_dim == dim, got {self.query_dim} and {dim}")
        self.hidden = None
        if score == "linear":
            self.weight = _param((self.query_dim, dim), dtype)
        elif score == "additive":
            self.hidden = hidden or dim
            self.weight = _param((self.hidden, dim), dtype)
            self.query_weight = _param((self.hidden, self.query_dim), dtype)
            self.v = _param((self.hidden,), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for name in ("weight", "query_weight"):
            if name in self._parameters:
                init.xavier_uniform_(self._parameters[name])
        if "v" in self._parameters:
            init.uniform_(self.v, -1 / math.sqrt(self.hidden), 1 / math.sqrt(self.hidden))

    def forward(self, query: Tensor, inputs: Tensor, mask: Tensor | None = None):
        p = self._parameters
        return FA.query_attention(query, inputs, self.score, p.get("weight"), mask, p.get("query_weight"), p.get("v"))

    def extra_repr(self) -> str:
        extra = f", query_dim={self.query_dim}" if self.query_dim != self.dim else ""
        extra += f", hidden={self.hidden}" if self.hidden else ""
        return f"dim={self.dim}, score={self.score!r}{extra}"


class MultiheadAttention(Module):
    """Multi-head attention (多头注意力, Vaswani et al. 2017) as torch.nn.MultiheadAttention:

        MultiHead(Q, K, V) = [head_1 … head_h] W_oᵀ + b_o,   head_i = Attention(Q W_q^iᵀ, K W_k^iᵀ, V W_v^iᵀ),

    Attention = softmax(· /√d_head + M)(·) (Fang ch. 9). ``forward(query, key, value,
    key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
    is_causal=False)`` returns ``(output, weights)``; inputs are (L, N, E), or (N, L, E) with
    ``batch_first``. Boolean masks are True where attention is NOT allowed (torch's convention here).
    Initialised like torch: Xavier-uniform projections, zero biases.

    Shape:
        - query: (L, N, E) or (N, L, E) with batch_first, or (L, E) unbatched; L = target length, E = embed_dim.
        - key, value: (S, N, E_k), (S, N, E_v) (batch first: (N, S, ·)); S = source length.
        - Output: attn_output (L, N, E) (or (N, L, E)) and, with need_weights, attn_weights (N, L, S), or (N, num_heads, L, S)
          with average_attn_weights=False.

    Examples:
        >>> m = nn.MultiheadAttention(16, num_heads=4, batch_first=True)
        >>> x = sj.randn(2, 5, 16)
        >>> output, weights = m(x, x, x)
        >>> output.shape, weights.shape
        (shenjing.Size([2, 5, 16]), shenjing.Size([2, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, add_bias_kv: bool = False,
                 add_zero_attn: bool = False, kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = _param((embed_dim, embed_dim), dtype)
            self.k_proj_weight = _param((embed_dim, self.kdim), dtype)
            self.v_proj_weight = _param((embed_dim, self.vdim), dtype)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = _param((3 * embed_dim, embed_dim), dtype)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = _param((3 * embed_dim,), dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = _param((1, 1, embed_dim), dtype)
            self.bias_v = _param((1, 1, embed_dim), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False):
        return FA.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal, batch_first=self.batch_first)

    def extra_repr(self) -> str:
        return ""


class SinusoidalPositionalEncoding(Module):
    """x + PE[:L] (正弦位置编码, Vaswani et al. 2017), then dropout:

        PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).

    Input (N, L, d_model) with ``batch_first`` (the default here), else (L, N, d_model). ``pe`` is a
    non-persistent buffer (it is a formula, not a weight).

    Shape:
        - Input: (N, L, d_model) with batch_first (else (L, N, d_model)), L ≤ max_len.
        - Output: the same shape.

    Examples:
        >>> pe = nn.SinusoidalPositionalEncoding(16)
        >>> pe(sj.zeros(2, 10, 16)).shape
        shenjing.Size([2, 10, 16])
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = True,
                 base: float = 10000.0, dtype=None) -> None:
        super().__init__()
        self.d_model, self.max_len, self.p, self.batch_first, self.base = d_model, max_len, dropout, batch_first, base
        self.register_buffer("pe", FA.sinusoidal_positional_encoding(max_len, d_model, base, dtype), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        L = x.shape[1] if self.batch_first else x.shape[0]
        if L > self.max_len:
            raise ValueError(f"SinusoidalPositionalEncoding: sequence length {L} exceeds max_len={self.max_len}")
        pe = self.pe[:L] if self.batch_first else self.pe[:L].unsqueeze(1)
        if pe.dtype != x.dtype:
            pe = pe.to(x.dtype)
        return dropout(x + pe, self.p, self.training)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.p}, batch_first={self.batch_first}"


PositionalEncoding = SinusoidalPositionalEncoding


class LearnedPositionalEmbedding(Module):
    """x + P[:L] with a learned table P of shape (max_len, d_model) (可学习的位置嵌入, as in BERT and
    GPT), initialised N(0, ``init_std``²); then dropout. Input (N, L, d_model) with ``batch_first``.

    Shape:
        - Input: (N, L, d_model) with batch_first (else (L, N, d_model)), L ≤ max_len.
        - Output: the same shape.

    Examples:
        >>> pe = nn.LearnedPositionalEmbedding(50, 16)
        >>> pe(sj.zeros(2, 10, 16)).shape
        shenjing.Size([2, 10, 16])
    """

    def __init__(self, max_len: int, d_model: int, dropout: float = 0.0, batch_first: bool = True,
                 init_std: float = 0.02, device=None, dtype=None) -> None:
        super().__init__()
        self.max_len, self.d_model, self.p, self.batch_first, self.init_std = max_len, d_model, dropout, batch_first, init_std
        self.weight = _param((max_len, d_model), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight, 0.0, self.init_std)

    def forward(self, x: Tensor) -> Tensor:
        L = x.shape[1] if self.batch_first else x.shape[0]
        if L > self.max_len:
            raise ValueError(f"LearnedPositionalEmbedding: sequence length {L} exceeds max_len={self.max_len}")
        pe = self.weight[:L] if self.batch_first else self.weight[:L].unsqueeze(1)
        return dropout(x + pe, self.p, self.training)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}, dropout={self.p}, batch_first={self.batch_first}"
