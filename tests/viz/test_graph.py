"""Computational-graph rendering: Wang's graph out = 3(a + bc) with its Mul/Add nodes."""

import shutil

import numpy as np
import pytest

import shenjing as sj
from shenjing.viz import graph as G


def wang():
    """out = 3·(a + b·c): MulNode(b, c) → AddNode(a, ·) → MulNode(3, ·) as in Wang 五.III."""
    a = sj.tensor(2.0, dtype=sj.float64, requires_grad=True)
    b = sj.tensor(-1.5, dtype=sj.float64, requires_grad=True)
    c = sj.tensor(4.0, dtype=sj.float64, requires_grad=True)
    h1 = b * c
    h2 = a + h1
    out = 3 * h2
    return out, {"a": a, "b": b, "c": c, "h1": h1, "h2": h2}


def test_dot_text_contains_nodes_and_leaves():
    out, names = wang()
    dot = G.to_dot(out, {k: names[k] for k in "abc"})
    assert dot.startswith("digraph")
    assert dot.count('label="Mul') == 2 and dot.count('label="Add') == 1
    for leaf in "abc":
        assert f'label="{leaf}\\n()"' in dot
    assert 'label="3"' in dot  # the constant
    g = G.build_graph(out, names)
    fn = [n for n in g.nodes if n.kind == "function"]
    assert sorted(n.label.split("\n")[0] for n in fn) == ["Add", "Mul", "Mul"]
    assert len(g.edges) == 7  # b,c→Mul; a,Mul→Add; 3,Add→Mul; Mul→out
    assert any(n.label.startswith("Mul\nh1") for n in fn)  # the named intermediate


def test_gradients_of_the_seed_graph():
    out, n = wang()
    G.to_dot(out)  # drawing does not consume the graph
    out.backward()
    assert n["b"].grad.item() == 3 * n["c"].item()  # dL/db = 3·c ("3·data")
    assert n["c"].grad.item() == 3 * n["b"].item()
    assert n["a"].grad.item() == 3.0
    with pytest.raises(RuntimeError, match="freed"):
        G.to_dot(out)


def test_module_names_and_shapes():
    class Lin(sj.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = sj.nn.Parameter(sj.randn(4, 3))
            self.bias = sj.nn.Parameter(sj.zeros(4))

        def forward(self, x):
            return (x @ self.weight.T + self.bias).relu()

    m = Lin()
    y = m(sj.randn(5, 3)).sum()
    dot = G.to_dot(y, m)
    assert 'label="weight\\n(4, 3)"' in dot and 'label="bias\\n(4,)"' in dot
    assert "MatMul" in dot and "Relu" in dot and "Sum" in dot
    assert 'label="data\\n(5, 3)"' in dot  # the unnamed input


def test_leaf_alone():
    x = sj.ones(2, 2, requires_grad=True)
    assert 'label="x\\n(2, 2)"' in G.to_dot(x, {"x": x})


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_render_svg_with_dot(tmp_path):
    out, names = wang()
    p = G.render(out, tmp_path / "graph.svg", params=names)
    text = p.read_text()
    assert p.suffix == ".svg" and p.stat().st_size > 500
    assert "<svg" in text and "Mul" in text and "Add" in text


def test_render_matplotlib_fallback(tmp_path, monkeypatch):
    out, names = wang()
    p = G.render(out, tmp_path / "graph.svg", params=names, backend="matplotlib", format="png")
    assert p.suffix == ".png" and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000
    # 'auto' without dot on the PATH falls back to a PNG
    monkeypatch.setattr(G.shutil, "which", lambda name: None)
    p2 = G.render(out, tmp_path / "auto", params=names)
    assert p2.suffix == ".png" and p2.stat().st_size > 2000
    with pytest.raises(RuntimeError, match="not installed"):
        G.render(out, tmp_path / "x.svg", backend="graphviz")


def test_layered_layout_respects_edges():
    x = sj.randn(3, 2)
    w = sj.randn(2, 2, requires_grad=True)
    y = ((x @ w).tanh() * 2.0 - x).pow(2).mean()
    g = G.build_graph(y, {"x": x, "w": w})
    lay = G.layered_layout(g)
    assert set(lay) == {n.id for n in g.nodes}
    for a, b in g.edges:
        assert lay[a][0] < lay[b][0]
    # no two nodes share a slot
    assert len(set(lay.values())) == len(lay)
    np.testing.assert_equal(len(g.nodes), len(lay))
