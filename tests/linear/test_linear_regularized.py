"""Ridge, lasso and elastic net: closed forms, optimality conditions, the two elastic-net forms, scikit-learn."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import linear as L


def _data(rng, n=50, d=8, sparse=True):
    X = rng.standard_normal((n, d))
    X[:, 1] = X[:, 0] + 0.3 * rng.standard_normal(n)  # correlated features
    beta = np.zeros(d)
    beta[[0, 3, 5]] = [2.0, -1.5, 1.0] if sparse else rng.standard_normal(3)
    y = X @ beta + 1.5 + 0.5 * rng.standard_normal(n)
    return X, y


def test_ridge_closed_form_with_unpenalised_intercept(rng):
    X, y = _data(rng)
    alpha = 3.0
    coef, b = L.ridge(X, y, alpha)
    # the same problem with a ones column whose weight is not penalised: (AᵀA + αD)⁻¹Aᵀy, D = diag(1..1, 0)
    A = np.hstack([X, np.ones((len(y), 1))])
    D = np.eye(A.shape[1])
    D[-1, -1] = 0.0
    ref = np.linalg.solve(A.T @ A + alpha * D, A.T @ y)
    np.testing.assert_allclose(coef, ref[:-1], rtol=1e-10)
    np.testing.assert_allclose(b, ref[-1], rtol=1e-10)
    # without intercept: (XᵀX + αI)⁻¹Xᵀy exactly
    np.testing.assert_allclose(L.ridge(X, y, alpha, fit_intercept=False)[0],
                               np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y), rtol=1e-10)
    np.testing.assert_allclose(L.ridge(X, y, 0.0)[0], L.ols(X, y, fit_intercept=True)[0], rtol=1e-10)


@pytest.mark.parametrize("solver", ["cd", "ista", "fista"])
def test_lasso_satisfies_the_optimality_conditions(solver, rng):
    X, y = _data(rng)
    alpha = 20.0
    coef, b = L.lasso(X, y, alpha, solver=solver, tol=1e-12, max_iter=200_000)
    g = 2 * (X - X.mean(0)).T @ (y - y.mean() - (X - X.mean(0)) @ coef)  # −∇ of the squared error
    nz = coef != 0
    assert nz.sum() < X.shape[1], "the lasso sets some coefficients exactly to zero"
    np.testing.assert_allclose(g[nz], alpha * np.sign(coef[nz]), atol=1e-6)
    assert np.all(np.abs(g[~nz]) <= alpha + 1e-6)
    np.testing.assert_allclose(b, y.mean() - X.mean(0) @ coef, atol=1e-12)


def test_solvers_agree_and_minimise_the_objective(rng):
    X, y = _data(rng)
    l1, l2 = 10.0, 4.0
    sols = [L.penalised_least_squares(X, y, l1, l2, solver=s, tol=1e-13, max_iter=200_000) for s in ("cd", "ista", "fista")]
    for c, _b in sols[1:]:
        np.testing.assert_allclose(c, sols[0][0], atol=1e-7)
    c, b = sols[0]
    f0 = L.objective(X, y, c, b, l1, l2)
    for _ in range(20):
        dc = 1e-3 * rng.standard_normal(c.shape)
        assert L.objective(X, y, c + dc, b, l1, l2) >= f0 - 1e-9


def test_elastic_net_limits_and_the_two_parametrisations(rng):
    X, y = _data(rng)
    alpha = 6.0
    np.testing.assert_allclose(L.elastic_net(X, y, alpha, gamma=1.0)[0], L.ridge(X, y, alpha)[0], atol=1e-9)
    np.testing.assert_allclose(L.elastic_net(X, y, alpha, gamma=0.0)[0], L.lasso(X, y, alpha)[0], atol=1e-12)
    # Nelson (α, γ) ≡ Fang (λ = α/2, ρ = 1 − γ)
    for gamma in (0.2, 0.5, 0.9):
        np.testing.assert_allclose(L.elastic_net(X, y, alpha, gamma)[0], L.elastic_net_rho(X, y, alpha / 2, 1 - gamma)[0], atol=1e-12)
    # Fang's objective ½‖y − Xw − b‖² + λ(ρ‖w‖₁ + (1 − ρ)‖w‖²) is minimised by elastic_net_rho
    lam, rho = 2.0, 0.3
    c, b = L.elastic_net_rho(X, y, lam, rho)

    def f(w):
        r = y - X @ w - b
        return 0.5 * r @ r + lam * (rho * np.abs(w).sum() + (1 - rho) * w @ w)

    assert all(f(c + 1e-3 * rng.standard_normal(c.shape)) >= f(c) - 1e-12 for _ in range(20))
    en = L.ElasticNet.from_rho(lam, rho).fit(X, y)
    np.testing.assert_allclose(en.coef_, c, atol=1e-12)


def test_alpha_max_and_path_sparsity(rng):
    X, y = _data(rng)
    amax = L.alpha_max(X, y)
    assert np.all(L.lasso(X, y, amax * (1 + 1e-9))[0] == 0)
    assert np.any(L.lasso(X, y, 0.99 * amax)[0] != 0)
    assert np.all(L.elastic_net(X, y, L.alpha_max(X, y, gamma=0.5) * (1 + 1e-9), gamma=0.5)[0] == 0)
    alphas = amax * (1 + 1e-9) * np.logspace(0, -6, 25)
    path = L.regularization_path(X, y, alphas, "lasso")
    nnz = (path != 0).sum(1)
    assert nnz[0] == 0 and nnz[-1] == X.shape[1]
    for a, row in zip(alphas[::6], path[::6]):
        np.testing.assert_allclose(row, L.lasso(X, y, a)[0], atol=1e-7)
    ridge_path = L.regularization_path(X, y, alphas, "ridge")
    assert np.all(ridge_path != 0), "ridge shrinks but never zeroes"


def test_classes_and_tensors(rng):
    X, y = _data(rng)
    Xt, yt = sj.tensor(X), sj.tensor(y)
    m = L.Lasso(alpha=5.0).fit(Xt, yt)
    assert isinstance(m.coef_, sj.Tensor) and m.n_iter_ > 0
    np.testing.assert_allclose(m.predict(X), X @ m.coef_.numpy() + m.intercept_.item(), rtol=1e-6)
    np.testing.assert_allclose(L.Ridge(2.0).fit(X, y).coef_, L.ridge(X, y, 2.0)[0])
    with pytest.raises(ValueError, match="gamma"):
        L.elastic_net(X, y, 1.0, gamma=1.5)
    with pytest.raises(ValueError, match="solver"):
        L.lasso(X, y, 1.0, solver="newton")


def test_against_scikit_learn(rng):
    sk = pytest.importorskip("sklearn.linear_model")
    X, y = _data(rng, n=80)
    n = len(y)
    r = sk.Ridge(alpha=3.0).fit(X, y)
    c, b = L.ridge(X, y, 3.0)
    np.testing.assert_allclose(c, r.coef_, rtol=1e-8)
    np.testing.assert_allclose(b, r.intercept_, rtol=1e-8)
    # scikit-learn's lasso: (1/2n)‖·‖² + a‖w‖₁  ⇔  ours with α = 2n·a
    a = 0.05
    s = sk.Lasso(alpha=a, tol=1e-12, max_iter=100_000).fit(X, y)
    c, b = L.lasso(X, y, 2 * n * a)
    np.testing.assert_allclose(c, s.coef_, atol=1e-6)
    np.testing.assert_allclose(b, s.intercept_, atol=1e-6)
    # scikit-learn's elastic net: (1/2n)‖·‖² + a·r‖w‖₁ + ½a(1 − r)‖w‖²  ⇔  l1 = 2n·a·r, l2 = n·a·(1 − r)
    a, ratio = 0.1, 0.6
    s = sk.ElasticNet(alpha=a, l1_ratio=ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    c, b = L.penalised_least_squares(X, y, 2 * n * a * ratio, n * a * (1 - ratio))
    np.testing.assert_allclose(c, s.coef_, atol=1e-6)
    np.testing.assert_allclose(b, s.intercept_, atol=1e-6)
