"""Spot checks for linear-collapse: the collapsed layer of a Linear stack, Nelson's index slip."""

import numpy as np

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.linear_collapse import DEPTHS, collapse, nelson_expansion_errors, stack_errors


def test_collapse_of_two_layers():
    a, b = nn.Linear(3, 4, dtype=sj.float64), nn.Linear(4, 2, dtype=sj.float64)
    W, bias = collapse(nn.Sequential(a, b))
    W1, b1, W2, b2 = (p.detach().numpy() for p in (a.weight, a.bias, b.weight, b.bias))
    assert np.allclose(W, W2 @ W1, rtol=0, atol=1e-15) and np.allclose(bias, W2 @ b1 + b2, rtol=0, atol=1e-15)


def test_stacks_equal_their_collapsed_layer():
    errs, err_zhao = stack_errors(np.random.default_rng(0))
    assert list(errs) == list(DEPTHS) and max(errs.values()) < 1e-12 and err_zhao < 1e-12


def test_collapse_is_not_exact_with_an_activation():
    net = nn.Sequential(nn.Linear(3, 8, dtype=sj.float64), nn.ReLU(), nn.Linear(8, 2, dtype=sj.float64))
    W, b = collapse([m for m in net if isinstance(m, nn.Linear)])
    x = np.random.default_rng(1).standard_normal((100, 3))
    with sj.no_grad():
        out = net(sj.tensor(x)).numpy()
    assert np.abs(out - (x @ W.T + b)).max() > 1e-3


def test_nelson_printed_expansion_is_wrong_unless_symmetric():
    err_correct, err_printed = nelson_expansion_errors(np.random.default_rng(2))
    assert err_correct < 1e-12 and err_printed > 1e-3
