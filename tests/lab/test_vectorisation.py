"""Spot checks for vectorisation: Zhao's column layout WX + b̃ equals the row layout XWᵀ + b; loop = batch."""

import numpy as np

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.vectorisation import batched_gradient, layouts, loop_gradient, loop_vs_batch, numpy_batch, numpy_loop


def test_column_and_row_layouts():
    rng = np.random.default_rng(0)
    X = sj.tensor(rng.normal(size=(3, 4)), dtype=sj.float64)  # 3 samples as rows
    W = sj.tensor(rng.normal(size=(5, 4)), dtype=sj.float64)
    b = sj.tensor(rng.normal(size=5), dtype=sj.float64)
    z_col = W @ X.T + b.unsqueeze(1).repeat(1, 3)  # eqs. 87-88
    z_row = X @ W.T + b  # eq. 89
    assert np.abs(z_col.numpy() - z_row.numpy().T).max() < 1e-12
    lay, zc, zr = layouts(rng)
    assert len(lay) == 4 and max(lay.values()) < 1e-12 and zc.shape == zr.T.shape == (4, 5)


def test_loop_equals_batch():
    sj.manual_seed(0)
    rng = np.random.default_rng(1)
    net = nn.mlp([3, 8, 1], activation="tanh").to(sj.float64)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    (o1, g1), (o2, g2) = loop_gradient(net, X, Y), batched_gradient(net, X, Y)
    assert np.abs(o1 - o2).max() < 1e-12 and max(np.abs(a - b).max() for a, b in zip(g1, g2)) < 1e-12
    lin = [m for m in net.modules() if isinstance(m, nn.Linear)]
    Ws, bs = [m.weight.detach().numpy() for m in lin], [m.bias.detach().numpy() for m in lin]
    assert max(np.abs(a - b).max() for a, b in zip(numpy_loop(Ws, bs, X, Y), numpy_batch(Ws, bs, X, Y))) < 1e-12


def test_loop_vs_batch_summary():
    sj.manual_seed(2)
    rng = np.random.default_rng(2)
    net = nn.mlp([8, 16, 1], activation="tanh").to(sj.float64)
    out = loop_vs_batch(net, [1, 16, 64], rng.normal(size=(64, 8)), rng.normal(size=(64, 1)))
    assert [r["B"] for r in out["timings"]] == [1, 16, 64] and out["max_abs_grad_diff_shenjing"] < 1e-12
    big = [r for r in out["timings"] if r["B"] >= 16]
    assert out["min_speedup_for_B_ge_16"]["numpy"] == min(r["numpy_speedup"] for r in big)
    assert out["max_speedup"]["shenjing"] == max(r["shenjing_speedup"] for r in out["timings"])
