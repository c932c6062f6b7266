"""Threshold units, the XOR network, the perceptron (correct and as-printed sign) and ADALINE."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import linear as L

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def test_mcculloch_pitts_gates():
    assert L.and_unit()(X4).tolist() == [0, 0, 0, 1]
    assert L.or_unit()(X4).tolist() == [0, 1, 1, 1]
    assert L.not_unit()(np.array([0.0, 1.0])).tolist() == [1, 0]
    assert L.and_unit(3)(np.array([[1, 1, 1], [1, 0, 1]])).tolist() == [1, 0]
    # Xu §1.12's strict "wx + b > T" with the same thresholds: AND never fires, OR becomes AND
    assert L.and_unit(strict=True)(X4).tolist() == [0, 0, 0, 0]
    assert L.or_unit(strict=True)(X4).tolist() == [0, 0, 0, 1]
    assert L.not_unit(strict=True)(np.array([0.0, 1.0])).tolist() == [1, 0]
    out = L.and_unit().module()(sj.tensor(X4, dtype=sj.float64))
    assert out.detach().numpy().ravel().tolist() == [0, 0, 0, 1]


def test_xor_network_matches_the_text():
    y, h = L.xor_network(X4, return_hidden=True)
    assert y.tolist() == [0, 1, 1, 0]
    # equal inputs: h1 = h2 = σ(1) = 1; different: h1 + h2 = σ(0) + σ(2) = 1
    assert h.tolist() == [[1, 1], [0, 1], [1, 0], [1, 1]]
    net = L.xor_threshold_network()
    assert net(sj.tensor(X4, dtype=sj.float64)).detach().numpy().ravel().tolist() == [0, 1, 1, 0]


def _separable(rng, n=40):
    u, b = np.array([1.0, -2.0]), 0.3
    X = rng.uniform(-1, 1, (4 * n, 2))
    m = X @ u + b
    X = X[np.abs(m) > 0.3][:n]
    return X, np.sign(X @ u + b), u, b


def test_perceptron_converges_within_the_novikoff_bound(rng):
    X, y, u, b = _separable(rng)
    r = L.perceptron(X, y, max_epochs=1000)
    assert r.converged and not r.cycle and r.mistakes[-1] == 0
    assert r.n_updates <= L.mistake_bound(X, y, u, b)
    assert np.all(np.sign(X @ r.weights + r.bias) == y)
    p = L.Perceptron().fit(X, y)
    assert np.all(p.predict(X) == y)


def test_perceptron_cycles_on_xor_and_the_printed_sign_fails():
    r = L.perceptron(X4, [-1, 1, 1, -1], max_epochs=100)
    assert not r.converged and r.cycle and r.cycle_length >= 1
    r = L.perceptron(X4, [0, 1, 1, 0], output="step", threshold=0.5, max_epochs=100)
    assert not r.converged and r.cycle
    good = L.perceptron(X4, [0, 0, 0, 1], output="step", threshold=0.5, max_epochs=100)
    bad = L.perceptron(X4, [0, 0, 0, 1], output="step", threshold=0.5, max_epochs=100, rule="as_printed")
    assert good.converged and not bad.converged
    assert bad.mistakes[-1] > 0


def test_perceptron_label_checks():
    with pytest.raises(ValueError, match="labels"):
        L.perceptron(X4, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="rule"):
        L.perceptron(X4, [0, 1, 1, 0], rule="hebb")


def test_adaline_tends_to_least_squares(rng):
    X = rng.standard_normal((100, 3))
    y = X @ np.array([0.5, -1.0, 2.0]) + 0.7 + 0.1 * rng.standard_normal(100)
    r = L.adaline(X, y, lr=0.01, epochs=300, rng=rng, decay=0.05)
    coef, b = L.ols(X, y, fit_intercept=True)
    np.testing.assert_allclose(r.weights, coef, atol=2e-3)
    assert abs(r.bias - b) < 2e-3
    assert r.mse[-1] < r.mse[0]
    assert np.mean(L.Adaline(epochs=20).fit(X, np.sign(y)).predict(X) == np.sign(y)) > 0.9
