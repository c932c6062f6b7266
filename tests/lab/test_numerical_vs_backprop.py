"""Spot checks for numerical-vs-backprop: the notes' (L(θ+ε) − L(θ−ε))/ε is twice the gradient."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.autograd.numerical import numerical_grad


def _setup():
    sj.manual_seed(0)
    rng = np.random.default_rng(0)
    X = sj.tensor(rng.normal(size=(32, 3)), dtype=sj.float64)
    Y = sj.tensor(rng.normal(size=(32, 1)), dtype=sj.float64)
    net = nn.mlp([3, 5, 1], activation="tanh").to(sj.float64)
    net.zero_grad()
    F.mse_loss(net(X), Y).backward()
    g = np.concatenate([p.grad.numpy().ravel() for p in net.parameters()])
    return (lambda: F.mse_loss(net(X), Y)), net, g


def test_notes_form_is_off_by_exactly_two():
    loss, net, g = _setup()
    notes = np.concatenate([t.numpy().ravel() for t in numerical_grad(loss, net, eps=1e-6, form="notes")])
    big = np.abs(g) > 1e-3 * np.abs(g).max()
    ratio = notes[big] / g[big]
    assert np.all(np.abs(ratio - 2.0) < 0.01), ratio  # the spot check: 2.0 ± 0.01
    assert abs(np.median(ratio) - 2.0) < 1e-6


def test_central_difference_agrees_and_counts_2n_forward_calls():
    loss, net, g = _setup()
    num = numerical_grad(loss, net, eps=1e-6, form="central")
    flat = np.concatenate([t.numpy().ravel() for t in num])
    assert np.linalg.norm(flat - g) / np.linalg.norm(g) < 1e-7
    assert num.forward_calls == 2 * g.size


def test_experiment_reports_ratio_two(tmp_path):
    from shenjing.lab import run_experiment

    res = run_experiment("numerical-vs-backprop", tmp_path, quick=True, seed=1)
    r = res["measured"]["accuracy"]["notes_over_backprop_ratio"]
    assert abs(r["min"] - 2) < 0.01 and abs(r["max"] - 2) < 0.01
