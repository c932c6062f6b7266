"""OLS by normal equations, QR, lstsq and pseudo-inverse against NumPy's lstsq."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import linear as L


def _data(rng, n=60, d=5, k=None):
    X = rng.standard_normal((n, d))
    beta = rng.standard_normal((d,) if k is None else (d, k))
    y = X @ beta + 0.1 * rng.standard_normal((n,) if k is None else (n, k))
    return X, y


@pytest.mark.parametrize("method", L.METHODS)
def test_methods_agree_with_numpy_lstsq(method, rng):
    X, y = _data(rng)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    coef, b = L.ols(X, y, method)
    np.testing.assert_allclose(coef, ref, rtol=1e-10, atol=1e-12)
    assert b == 0.0


@pytest.mark.parametrize("method", L.METHODS)
def test_intercept_equals_a_column_of_ones(method, rng):
    X, y = _data(rng, k=2)
    y = y + np.array([3.0, -1.0])
    A = L.design_matrix(X)  # [X 1], Xu eq. 1.11
    ref = np.linalg.lstsq(A, y, rcond=None)[0]
    coef, b = L.ols(X, y, method, fit_intercept=True)
    np.testing.assert_allclose(coef, ref[:-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, ref[-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(L.LinearRegression(method=method).fit(X, y).predict(X), A @ ref, atol=1e-10)


def test_normal_equations_formula_and_design_matrix():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([1.0, 3.0, 5.1, 6.9])
    X = L.design_matrix(x)
    assert X.tolist() == [[0, 1], [1, 1], [2, 1], [3, 1]]
    assert L.design_matrix(x, "first")[:, 0].tolist() == [1, 1, 1, 1]
    beta = np.linalg.inv(X.T @ X) @ X.T @ y  # eq. 1.10 literally
    np.testing.assert_allclose(L.ols(X, y)[0], beta, rtol=1e-12)


def test_tensors_in_tensors_out():
    X = sj.randn(30, 3, dtype=sj.float64)
    y = X @ sj.tensor([1.0, -2.0, 0.5], dtype=sj.float64) + 4.0
    coef, b = L.ols(X, y, "qr", fit_intercept=True)
    assert isinstance(coef, sj.Tensor) and coef.dtype == sj.float64
    np.testing.assert_allclose(coef.numpy(), [1.0, -2.0, 0.5], atol=1e-10)
    assert abs(b.item() - 4.0) < 1e-10
    c32, _ = L.ols(X.float(), y.float())
    assert c32.dtype == sj.float32


def test_rank_deficient(rng):
    X = rng.standard_normal((20, 3))
    X = np.hstack([X, X[:, :1]])  # duplicated column
    y = rng.standard_normal(20)
    with pytest.raises(ValueError, match="singular"):
        L.ols(X, y, "normal")
    with pytest.raises(ValueError, match="lstsq"):
        L.ols(X, y, "qr")
    ref = np.linalg.lstsq(X, y, rcond=None)[0]  # the minimum-norm least-squares solution
    for method in ("lstsq", "pinv"):
        a = L.ols(X, y, method)[0]
        np.testing.assert_allclose(a, ref, atol=1e-10)
        np.testing.assert_allclose(a[0], a[3], atol=1e-10)  # the minimum-norm solution splits the weight evenly


def test_bad_shapes_and_method(rng):
    with pytest.raises(ValueError, match="y must have shape"):
        L.ols(rng.standard_normal((5, 2)), rng.standard_normal(4))
    with pytest.raises(ValueError, match="method"):
        L.ols(rng.standard_normal((5, 2)), rng.standard_normal(5), "svd")
    with pytest.raises(RuntimeError, match="not fitted"):
        L.LinearRegression().predict(np.zeros((2, 2)))
