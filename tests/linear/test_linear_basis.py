"""Basis functions (polynomial, RBF, Fourier, Haar and Mexican-hat wavelets) and basis-function regression."""

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing import linear as L


def test_polynomial_regression_recovers_a_cubic():
    x = np.linspace(-2, 2, 30)
    y = 1 - 2 * x + 0.5 * x**3
    m = L.BasisRegression(L.PolynomialBasis(3)).fit(x, y)
    np.testing.assert_allclose(m.coef_, [-2, 0, 0.5], atol=1e-10)
    np.testing.assert_allclose(m.intercept_, 1, atol=1e-10)
    Phi = L.PolynomialBasis(3)(x)
    assert Phi.shape == (30, 4) and np.all(Phi[:, 0] == 1) and np.allclose(Phi[:, 3], x**3)
    # the [−1, 1] rescaled basis spans the same space
    m2 = L.BasisRegression(L.PolynomialBasis(3, domain=(-2, 2))).fit(x, y)
    np.testing.assert_allclose(m2.predict(x), y, atol=1e-10)


def test_fourier_basis_fits_a_trigonometric_polynomial():
    x = np.linspace(0, 2 * math.pi, 50, endpoint=False)
    y = 0.3 + np.sin(x) - 0.5 * np.cos(3 * x)
    B = L.FourierBasis(3)
    assert B(x).shape == (50, 7)
    m = L.BasisRegression(B).fit(x, y)
    np.testing.assert_allclose(m.coef_, [0, 1, 0, 0, -0.5, 0], atol=1e-10)  # cos1 sin1 cos2 sin2 cos3 sin3


def test_haar_basis_is_orthonormal_and_mexican_hat_formula():
    B = L.WaveletBasis(3, "haar", domain=(0, 1))
    x = (np.arange(4096) + 0.5) / 4096
    Phi = B(x)
    assert Phi.shape == (4096, 8)
    np.testing.assert_allclose(Phi.T @ Phi / len(x), np.eye(8), atol=1e-12)
    # any function constant on the 8 cells is reproduced exactly
    cells = np.floor(x * 8)
    y = np.sin(cells)
    np.testing.assert_allclose(L.BasisRegression(B).fit(x, y).predict(x), y, atol=1e-10)
    t = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(L.mexican_hat(t), (1 - t**2) * np.exp(-t**2 / 2))
    assert L.WaveletBasis(2, "mexican_hat", domain=(-1, 1))(np.linspace(-1, 1, 9)).shape == (9, 4)


def test_rbf_basis_and_ridge_keeps_the_intercept_free():
    c = np.linspace(-1, 1, 5)
    B = L.RBFBasis(c, width=0.5)
    x = np.array([0.0, 0.5])
    np.testing.assert_allclose(B(x)[:, 1:], np.exp(-(x[:, None] - c[None]) ** 2 / (2 * 0.25)))
    assert B.n_functions == 6
    assert L.RBFBasis(np.zeros((3, 2)), 1.0)(np.zeros((4, 2))).shape == (4, 4)
    y = 5 + np.sin(3 * np.linspace(-1, 1, 20))
    m = L.BasisRegression(B, alpha=1e9).fit(np.linspace(-1, 1, 20), y)
    np.testing.assert_allclose(m.predict(np.array([0.3])), [y.mean()], atol=1e-6)  # weights → 0, constant → mean


def test_make_basis_and_tensors():
    for name in ("polynomial", "rbf", "fourier", "haar", "mexican_hat"):
        B = L.make_basis(name, 3, domain=(-1, 1))
        x = sj.linspace(-1, 1, 11, dtype=sj.float64)
        F = B(x)
        assert isinstance(F, sj.Tensor) and F.shape[0] == 11 and F.shape[1] == B.n_functions
        m = L.BasisRegression(B).fit(x, x.sin())
        assert isinstance(m.predict(x), sj.Tensor)
    with pytest.raises(ValueError, match="unknown basis"):
        L.make_basis("spline", 3)
    with pytest.raises(ValueError, match="one input variable"):
        L.PolynomialBasis(2)(np.zeros((3, 2)))
