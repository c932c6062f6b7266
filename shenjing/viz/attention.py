"""Attention maps (注意力图): heat maps of attention weights α (Fang ch. 9), one panel per head."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..backend import xp
from .plots import pyplot, save_figure

__all__ = ["attention_figure", "plot_attention", "sequence_attention_figure"]


def _array(weights):
    a = weights.detach() if hasattr(weights, "detach") else weights
    return xp.asarray(a, dtype=xp.float64)


def attention_figure(weights, tokens: Sequence, query_tokens: Sequence | None = None, title: str = "Attention weights",
                     head_titles: Sequence[str] | None = None, annotate: bool | None = None,
                     xlabel: str = "key position (attended token)", ylabel: str = "query position (token)",
                     cols: int | None = None):
    """A matplotlib figure with a heat map of attention weights (注意力权重).

    ``weights`` is (L, S) or (H, L, S) (one panel per head, e.g. a layer's ``attn_weights[i]``);
    row i holds α of query i over the keys, so each row sums to 1. ``tokens`` label the keys (x
    axis), ``query_tokens`` the queries (y axis, default ``tokens``). ``annotate`` writes the
    values in the cells (default: when the map is at most 12×12); ``cols`` panels per row (default:
    2 for 4 heads, else up to 4)."""
    w = _array(weights)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3:
        raise ValueError(f"plot_attention: weights must be (L, S) or (H, L, S), got shape {tuple(w.shape)}")
    H, L, S = w.shape
    keys = [str(t) for t in tokens]
    queries = [str(t) for t in (tokens if query_tokens is None else query_tokens)]
    if len(keys) != S or len(queries) != L:
        raise ValueError(f"plot_attention: {len(queries)} query and {len(keys)} key labels for weights of shape {(L, S)}")
    if annotate is None:
        annotate = L <= 12 and S <= 12
    plt = pyplot()
    cols = cols or (2 if H == 4 else min(H, 4))
    rows = -(-H // cols)
    cell = 0.45 if annotate else 0.3
    fig, axes = plt.subplots(rows, cols, figsize=(max(3.2, cell * S + 1.6) * cols, max(3.0, cell * L + 1.4) * rows),
                             squeeze=False)
    im = None
    for h in range(rows * cols):
        ax = axes[h // cols][h % cols]
        if h >= H:
            ax.axis("off")
            continue
        im = ax.imshow(w[h], cmap="viridis", vmin=0.0, vmax=1.0, aspect="equal")
        ax.set_xticks(range(S))
        ax.set_xticklabels(keys, fontsize=8)
        ax.set_yticks(range(L))
        ax.set_yticklabels(queries, fontsize=8)
        ax.set_xlabel(xlabel, fontsize=9)
        if h % cols == 0:
            ax.set_ylabel(ylabel, fontsize=9)
        ax.set_title(head_titles[h] if head_titles is not None else (f"head {h}" if H > 1 else ""), fontsize=10)
        if annotate:
            for i in range(L):
                for j in range(S):
                    v = w[h, i, j]
                    if v >= 0.005:
                        ax.text(j, i, f"{v:.2f}"[1:] if v < 1 else "1", ha="center", va="center", fontsize=7,
                                color="black" if v > 0.6 else "white")
    fig.tight_layout(rect=(0, 0, 0.9, 1 - 0.75 / fig.get_figheight()))
    cax = fig.add_axes((0.92, 0.15, 0.015, 0.65))
    fig.colorbar(im, cax=cax, label="attention weight α")
    fig.suptitle(title, fontsize=12)
    return fig


def plot_attention(weights, tokens: Sequence, path: str | Path, query_tokens: Sequence | None = None,
                   title: str = "Attention weights", head_titles: Sequence[str] | None = None,
                   annotate: bool | None = None, xlabel: str = "key position (attended token)",
                   ylabel: str = "query position (token)", cols: int | None = None) -> Path:
    """Save :func:`attention_figure` of ``weights`` as PNG at ``path``."""
    return save_figure(attention_figure(weights, tokens, query_tokens, title, head_titles, annotate, xlabel, ylabel, cols),
                       path)


def sequence_attention_figure(model, x, y, classes: Sequence[str], name: str = "sequence task", layers=None):
    """The attention maps of a token-sequence model with ``attention_maps`` (e.g.
    ``nn.SequenceTransformer``) on one sequence: every head of every layer (or of ``layers``), rows
    = query positions labelled "input → predicted output", columns = the input tokens.

    ``x`` (L,) input tokens, ``y`` (L_y,) the target (aligned with the last L_y positions, as the
    sequence tasks of ``shenjing train`` do); ``classes`` names the tokens."""
    from ..autograd.grad_mode import no_grad

    x = x.reshape(1, -1)
    maps = model.attention_maps(x)
    was = model.training
    model.eval()
    with no_grad():
        pred = model(x).argmax(-1)[0].numpy()
    model.train(was)
    target = y.numpy() if hasattr(y, "numpy") else xp.asarray(y)
    pred = pred[len(pred) - target.shape[0]:]

    def label(t) -> str:
        return str(classes[int(t)]) if int(t) < len(classes) else str(int(t))

    tokens = [label(t) for t in x[0].numpy()]
    shift = len(tokens) - len(pred)  # the prediction sits on the last positions (addition)
    queries = [f"{tok} → {label(pred[i - shift])}" if i >= shift else tok for i, tok in enumerate(tokens)]
    layers = range(len(maps)) if layers is None else [li % len(maps) for li in layers]
    weights = xp.concatenate([_array(maps[li][0]) for li in layers], 0)  # (layers·heads, L, L)
    heads = maps[0].shape[1]
    titles = [f"layer {li}, head {h}" for li in layers for h in range(heads)]
    ok = bool((pred == target).all())
    title = (f"{name}: attention weights of the trained Transformer\n"
             f"input {' '.join(tokens)}  →  output {' '.join(label(p) for p in pred)} ({'correct' if ok else 'wrong'})")
    return attention_figure(weights, tokens, queries, title, titles, ylabel="query position: input → predicted output",
                            cols=heads if len(titles) > heads else None)
