"""Spot checks for numerical-vs-backprop: the notes' (L(θ+ε) − L(θ−ε))/ε is twice the gradient."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.autograd.numerical import numerical_grad
from shenjing.lab.experiments.numerical_vs_backprop import accuracy_on_mlp, cost_row, cost_summary, notes_update_vs_gd


def _setup(rng):
    X = sj.tensor(rng.normal(size=(32, 3)), dtype=sj.float64)
    Y = sj.tensor(rng.normal(size=(32, 1)), dtype=sj.float64)
    net = nn.mlp([3, 5, 1], activation="tanh").to(sj.float64)
    net.zero_grad()
    F.mse_loss(net(X), Y).backward()
    g = np.concatenate([p.grad.numpy().ravel() for p in net.parameters()])
    return (lambda: F.mse_loss(net(X), Y)), net, g


def test_notes_form_is_off_by_exactly_two(rng):
    loss, net, g = _setup(rng)
    notes = np.concatenate([t.numpy().ravel() for t in numerical_grad(loss, net, eps=1e-6, form="notes")])
    big = np.abs(g) > 1e-3 * np.abs(g).max()
    ratio = notes[big] / g[big]
    assert np.all(np.abs(ratio - 2.0) < 0.01), ratio  # the spot check: 2.0 ± 0.01
    assert abs(np.median(ratio) - 2.0) < 1e-6


def test_central_difference_agrees_and_counts_2n_forward_calls(rng):
    loss, net, g = _setup(rng)
    num = numerical_grad(loss, net, eps=1e-6, form="central")
    flat = np.concatenate([t.numpy().ravel() for t in num])
    assert np.linalg.norm(flat - g) / np.linalg.norm(g) < 1e-7
    assert num.forward_calls == 2 * g.size


def test_accuracy_reports_ratio_two():
    sj.manual_seed(1)
    rng = np.random.default_rng(1)
    X = sj.tensor(rng.normal(size=(64, 4)), dtype=sj.float64)
    Y = sj.tensor(rng.normal(size=(64, 1)), dtype=sj.float64)
    acc, g_bp, g = accuracy_on_mlp(X, Y)
    r = acc["notes_over_backprop_ratio"]
    assert abs(r["min"] - 2) < 0.01 and abs(r["max"] - 2) < 0.01 and r["max_abs_deviation_from_2"] < 0.01
    assert acc["relative_error_vs_backprop"]["central"] < 1e-7 and g_bp.size == acc["parameters"] == g["notes"].size


def test_notes_update_is_gd_with_twice_the_step():
    rng = np.random.default_rng(2)
    X = sj.tensor(rng.normal(size=(16, 4)), dtype=sj.float64)
    Y = sj.tensor(rng.normal(size=(16, 1)), dtype=sj.float64)
    out = notes_update_vs_gd(X, Y, seed=3, eta=0.05, steps=4)
    assert out["max_param_diff_to_GD_2eta"] < 1e-6 < 1e-3 < out["max_param_diff_to_GD_eta"]
    assert all(len(v) == 4 for v in out["loss_curves"].values())


def test_cost_counts_forward_calls_and_times_in_cpu_seconds():
    rng = np.random.default_rng(3)
    Xc = sj.tensor(rng.normal(size=(16, 8)), dtype=sj.float64)
    Yc = sj.tensor(rng.normal(size=(16, 1)), dtype=sj.float64)
    rows = [cost_row(w, Xc, Yc) for w in (2, 4, 8)]
    assert [r["forward_calls"] - 2 * r["N"] for r in rows] == [0, 0, 0]
    assert all(r["t_forward_s"] > 0 and r["t_numerical_s"] > r["t_backprop_s"] for r in rows)
    summary = cost_summary(rows, 16)
    assert summary["forward_calls_minus_2N"] == [0, 0, 0]
    assert abs(summary["loglog_slope_numerical_minus_backprop"] - summary["loglog_slope_ratio_numerical_over_backprop"]) < 1e-9
