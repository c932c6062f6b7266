"""The Transformer encoder (Transformer 编码器, Vaswani et al. 2017; Fang ch. 9 "Attention is
all you need"): ``TransformerEncoderLayer``, ``TransformerEncoder`` and a small token-sequence model.

Submodule names follow torch (``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``,
``norm2``, ``dropout1``, ``dropout2``; ``layers.{i}`` and ``norm`` in the encoder), so a torch
state_dict loads as it is. For plotting, ``layer.store_attention = True`` keeps the last attention
weights of each forward, per head, in ``layer.attn_weights`` (N, H, L, S).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from .attention import LearnedPositionalEmbedding, MultiheadAttention, SinusoidalPositionalEncoding
from .functional import activation as FAct
from .functional.attention import canonical_mask
from .layers import Dropout, Embedding, LayerNorm, Linear
from .module import Module, ModuleList

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "SequenceTransformer", "generate_square_subsequent_mask"]


def generate_square_subsequent_mask(sz: int, dtype=None) -> Tensor:
    """The float causal mask (因果掩码) of torch.nn.Transformer: 0 on and below the diagonal, −∞ above."""
    from .. import backend as B

    dt = B.get_default_dtype() if dtype is None else xp.dtype(dtype)
    return as_tensor(xp.triu(xp.full((sz, sz), float("-inf")), 1).astype(dt))


def _activation(activation) -> Callable:
    if callable(activation):
        return activation
    if activation == "relu":
        return FAct.relu
    if activation == "gelu":
        return FAct.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """One encoder layer (编码器层): self-attention (自注意力) and a position-wise feed-forward net,
    each with a residual connection (残差连接, Fang §8.1) and layer normalisation:

        post-norm (norm_first=False):  x = LN₁(x + SA(x)),       x = LN₂(x + FF(x))
        pre-norm  (norm_first=True):   x = x + SA(LN₁(x)),       x = x + FF(LN₂(x))

    with FF(x) = W₂ dropout(act(W₁x + b₁)) + b₂ and dropout after SA and FF, as torch's layer.
    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``.

    Shape:
        - src: (S, N, E) or (N, S, E) with batch_first, E = d_model.
        - Output: the same shape as src.

    Examples:
        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> layer(sj.randn(2, 10, 16)).shape
        shenjing.Size([2, 10, 16])
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)
        self.batch_first = batch_first
        self.store_attention = False
        self.attn_weights: Tensor | None = None

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", src.dtype)
        src_mask = canonical_mask(src_mask, "src_mask", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask, key_padding_mask, is_causal: bool) -> Tensor:
        if self.store_attention:  # torch's explicit path, keeping the per-head weights for plotting
            x, w = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=True,
                                  average_attn_weights=False, is_causal=is_causal)
            self.attn_weights = w.detach()
        else:
            x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                               is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _is_causal_mask(mask: Tensor | None, size: int) -> bool:
    """Does ``mask`` equal the square causal mask (torch's _detect_is_causal_mask)?"""
    if mask is None or tuple(mask.shape) != (size, size):
        return False
    m = mask.array
    causal = ~xp.tri(size, dtype=bool)
    if m.dtype == xp.bool_:
        return bool((m == causal).all())
    return bool(((m == float("-inf")) == causal).all() and (m[~causal] == 0).all())


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (Transformer 编码器), then ``norm`` if
    given. ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.

    ``store_attention(True)`` makes every layer keep its attention weights; ``attention_weights``
    lists them (one (N, H, L, S) tensor per layer).

    Shape:
        - src: (S, N, E) or (N, S, E) with the layer's batch_first, E = d_model.
        - Output: the same shape as src.

    Examples:
        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        >>> encoder(sj.randn(2, 10, 16)).shape
        shenjing.Size([2, 10, 16])
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        batch_first = self.layers[0].batch_first if len(self.layers) else True
        size = src.shape[1] if (batch_first and src.ndim == 3) else src.shape[0]
        if is_causal is None:
            is_causal = _is_causal_mask(mask, size)
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        if self.norm is not None:
            out = self.norm(out)
        return out

    def store_attention(self, flag: bool = True) -> TransformerEncoder:
        for layer in self.layers:
            layer.store_attention = flag
            if not flag:
                layer.attn_weights = None
        return self

    @property
    def attention_weights(self) -> list:
        return [layer.attn_weights for layer in self.layers]


class SequenceTransformer(Module):
    """A small encoder-only Transformer for token sequences (序列到序列的编码器模型):

        h = Embed(x) + PE,   h = Encoder(h),   logits = Linear(h)   (one prediction per position).

    Input (N, L) integer tokens in [0, vocab_size); output (N, L, num_classes). ``positional`` is
    ``'sinusoidal'`` (Vaswani et al.) or ``'learned'``; pre-norm layers (``norm_first``) add a final
    LayerNorm. ``attention_maps(x)`` runs the model in eval mode and returns the per-layer, per-head
    attention weights (N, H, L, L) for plotting.

    Shape:
        - Input: (N, L) integer tokens in [0, vocab_size).
        - Output: (N, L, num_classes) logits, one prediction per position.

    Examples:
        >>> m = nn.SequenceTransformer(vocab_size=10, num_classes=10, d_model=16, nhead=4, num_layers=1)
        >>> m(sj.randint(0, 10, (2, 7))).shape
        shenjing.Size([2, 7, 10])
    """

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int | None = None, dropout: float = 0.0, max_len: int = 512,
                 positional: str = "sinusoidal", norm_first: bool = True, activation: str = "relu") -> None:
        super().__init__()
        if positional not in ("sinusoidal", "learned"):
            raise ValueError(f"SequenceTransformer: positional must be 'sinusoidal' or 'learned', got {positional!r}")
        self.vocab_size, self.num_classes, self.d_model = vocab_size, num_classes, d_model
        self.embedding = Embedding(vocab_size, d_model)
        self.pos = (SinusoidalPositionalEncoding(d_model, max_len, dropout) if positional == "sinusoidal"
                    else LearnedPositionalEmbedding(max_len, d_model, dropout))
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout, activation,
                                        batch_first=True, norm_first=norm_first)
        self.encoder = TransformerEncoder(layer, num_layers, norm=LayerNorm(d_model) if norm_first else None)
        self.head = Linear(d_model, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(self.pos(self.embedding(x))))

    def attention_maps(self, x: Tensor) -> list:
        from ..autograd.grad_mode import no_grad

        was = self.training
        self.eval()
        self.encoder.store_attention(True)
        try:
            with no_grad():
                self(x)
            return self.encoder.attention_weights
        finally:
            self.encoder.store_attention(False)
            self.train(was)
