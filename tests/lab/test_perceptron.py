"""Perceptron (Xu §1.12, Wang 三.I): the lab's data and ADALINE helpers."""

import numpy as np

from shenjing import linear as L
from shenjing.lab.experiments.perceptron import X4, XOR_PM, accuracy, adaline_vs_least_squares, separable, weight_norms


def test_separable_data_keep_their_margin():
    X, y, u, b = separable(np.random.default_rng(0), 200, margin=0.1)
    assert X.shape == (200, 2) and set(np.unique(y)) == {-1.0, 1.0}
    assert (np.abs(X @ u + b) / np.linalg.norm(u)).min() > 0.1
    res = L.perceptron(X, y, max_epochs=100)
    assert res.converged and accuracy(res, X, y, step=False) == 1.0
    assert res.n_updates <= L.mistake_bound(X, y, u, b)


def test_adaline_tends_to_least_squares_but_not_on_xor():
    rng = np.random.default_rng(1)
    X, y, _, _ = separable(rng, 100, margin=0.1)
    _, dist, ls, acc = adaline_vs_least_squares(X, y, 60, rng)
    assert dist[-1] < 0.05 * np.linalg.norm(ls) < dist[0] and acc >= 0.95
    ada, _, _, _ = adaline_vs_least_squares(np.tile(X4, (25, 1)), np.tile(XOR_PM, 25), 60, rng)
    assert (np.sign(X4 @ ada.weights + ada.bias) == np.array(XOR_PM)).mean() <= 0.75


def test_weight_norms():
    assert weight_norms([(np.array([3.0, 0.0]), 4.0), (np.zeros(2), 0.0)]) == [5.0, 0.0]
