"""Attention-map plots: a PNG per call, one panel per head, labels checked, and the maps of a
sequence model labelled "input → prediction"."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.viz.attention import attention_figure, plot_attention, sequence_attention_figure


def test_plot_attention_writes_a_png(tmp_path, rng):
    w = rng.dirichlet(np.ones(5), size=(2, 4))  # (H, L, S), rows sum to 1
    path = plot_attention(w, list("abcde"), tmp_path / "a.png", query_tokens=list("wxyz"))
    assert path.stat().st_size > 1000
    fig = attention_figure(w[0], list("abcde"), list("wxyz"))
    assert len(fig.axes) == 2  # one panel and the colour bar
    with pytest.raises(ValueError, match="labels"):
        attention_figure(w, list("abc"))


def test_sequence_attention_figure():
    m = sj.nn.SequenceTransformer(10, 10, d_model=16, nhead=2, num_layers=2, max_len=16)
    x, y = sj.randint(0, 10, (6,)), sj.randint(0, 10, (6,))
    fig = sequence_attention_figure(m, x, y, [str(d) for d in range(10)], name="sort")
    assert len(fig.axes) == 2 * 2 + 1  # layers × heads panels and the colour bar
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert all("→" in s for s in labels) and "sort" in fig._suptitle.get_text()
    assert m.training  # the figure leaves the model's mode as it was
