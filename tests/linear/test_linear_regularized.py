"""Ridge, lasso and elastic net: closed forms, optimality conditions, the two elastic-net forms, and
scikit-learn's Ridge, Lasso and ElasticNet as the oracle.

Parameter mapping. Ours: ‖y − Xw − b‖² + l1‖w‖₁ + l2‖w‖² (lasso l1 = α; Nelson's elastic net
l1 = (1 − γ)α, l2 = γα; Fang's ½‖·‖² + λ(ρ‖w‖₁ + (1 − ρ)‖w‖²) is l1 = 2λρ, l2 = 2λ(1 − ρ)).
scikit-learn's Lasso and ElasticNet minimise (1/2n)‖y − Xw − b‖² + a·r‖w‖₁ + ½a(1 − r)‖w‖² (Lasso: r = 1);
dividing ours by 2n gives a·r = l1/2n and a(1 − r) = l2/n, so a = l1/2n + l2/n and r = (l1/2n)/a
(``sklearn_params``). Its Ridge minimises ‖y − Xw − b‖² + a‖w‖²: a = α.
"""

import numpy as np
import pytest
from sklearn import linear_model as sk

import shenjing as sj
from shenjing import linear as L

SOLVERS = ["cd", "ista", "fista"]
SK = {"tol": 1e-12, "max_iter": 100_000}  # scikit-learn converged far below the tolerances checked
TIGHT = {"tol": 1e-13, "max_iter": 200_000}


def sklearn_params(n: int, l1: float, l2: float) -> dict:
    """scikit-learn ElasticNet's (alpha, l1_ratio) for our penalties l1‖w‖₁ + l2‖w‖² on n samples."""
    a = l1 / (2 * n) + l2 / n
    return {"alpha": a, "l1_ratio": l1 / (2 * n) / a}


def centred(X, y):
    return X - X.mean(0), y - y.mean()


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
    np.testing.assert_allclose(L.ridge(X, y, 0.0)[0], np.linalg.lstsq(A, y, rcond=None)[0][:-1], rtol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
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


@pytest.mark.parametrize("solver", SOLVERS)
def test_solvers_match_scikit_learn_and_minimise_the_objective(solver, rng):
    X, y = _data(rng)
    n, l1, l2 = len(y), 10.0, 4.0
    c, b = L.penalised_least_squares(X, y, l1, l2, solver=solver, **TIGHT)
    s = sk.ElasticNet(**sklearn_params(n, l1, l2), **SK).fit(X, y)
    np.testing.assert_allclose(c, s.coef_, atol=1e-7)
    np.testing.assert_allclose(b, s.intercept_, atol=1e-7)

    def f(w):  # the objective, written out
        r = y - X @ w - b
        return r @ r + l1 * np.abs(w).sum() + l2 * w @ w

    assert L.objective(X, y, c, b, l1, l2) == pytest.approx(f(c), rel=1e-12)
    for _ in range(20):
        dc = 1e-3 * rng.standard_normal(c.shape)
        assert f(c + dc) >= f(c) - 1e-9


def test_elastic_net_limits(rng):
    """γ = 1 is ridge, (XcᵀXc + αI)⁻¹Xcᵀyc on centred data; γ = 0 the lasso, scikit-learn's Lasso with a = α/2n."""
    X, y = _data(rng)
    n, alpha = len(y), 6.0
    Xc, yc = centred(X, y)
    ridge = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ yc)
    np.testing.assert_allclose(L.elastic_net(X, y, alpha, gamma=1.0)[0], ridge, atol=1e-9)
    lasso = sk.Lasso(alpha=alpha / (2 * n), **SK).fit(X, y)
    np.testing.assert_allclose(L.elastic_net(X, y, alpha, gamma=0.0)[0], lasso.coef_, atol=1e-6)


@pytest.mark.parametrize("gamma", [0.2, 0.5, 0.9])
def test_nelson_and_fang_elastic_nets_match_scikit_learn(gamma, rng):
    """Nelson's (α, γ): l1 = (1 − γ)α, l2 = γα. Fang's (λ, ρ) = (α/2, 1 − γ): l1 = 2λρ, l2 = 2λ(1 − ρ), the same problem."""
    X, y = _data(rng)
    n, alpha = len(y), 6.0
    lam, rho = alpha / 2, 1 - gamma
    nelson = sk.ElasticNet(**sklearn_params(n, (1 - gamma) * alpha, gamma * alpha), **SK).fit(X, y)
    fang = sk.ElasticNet(**sklearn_params(n, 2 * lam * rho, 2 * lam * (1 - rho)), **SK).fit(X, y)
    en = L.ElasticNet.from_rho(lam, rho).fit(X, y)
    for (c, b), ref in ((L.elastic_net(X, y, alpha, gamma), nelson), (L.elastic_net_rho(X, y, lam, rho), fang),
                        ((en.coef_, en.intercept_), fang)):
        np.testing.assert_allclose(c, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(b, ref.intercept_, atol=1e-6)


def test_fang_elastic_net_minimises_its_objective(rng):
    """Fang's objective ½‖y − Xw − b‖² + λ(ρ‖w‖₁ + (1 − ρ)‖w‖²), written out, is minimised by elastic_net_rho."""
    X, y = _data(rng)
    lam, rho = 2.0, 0.3
    c, b = L.elastic_net_rho(X, y, lam, rho)

    def f(w):
        r = y - X @ w - b
        return 0.5 * r @ r + lam * (rho * np.abs(w).sum() + (1 - rho) * w @ w)

    assert all(f(c + 1e-3 * rng.standard_normal(c.shape)) >= f(c) - 1e-12 for _ in range(20))


def test_alpha_max_and_path_sparsity(rng):
    X, y = _data(rng)
    n = len(y)
    amax = L.alpha_max(X, y)
    Xc, yc = centred(X, y)
    assert amax == pytest.approx(2 * np.abs(Xc.T @ yc).max(), rel=1e-12)  # the subgradient condition at w = 0
    assert np.all(L.lasso(X, y, amax * (1 + 1e-9))[0] == 0)
    assert np.any(L.lasso(X, y, 0.99 * amax)[0] != 0)
    assert np.all(L.elastic_net(X, y, L.alpha_max(X, y, gamma=0.5) * (1 + 1e-9), gamma=0.5)[0] == 0)
    alphas = amax * (1 + 1e-9) * np.logspace(0, -6, 25)
    path = L.regularization_path(X, y, alphas, "lasso")
    nnz = (path != 0).sum(1)
    assert nnz[0] == 0 and nnz[-1] == X.shape[1]
    for a, row in zip(alphas[::6], path[::6]):  # warm-started path against scikit-learn's Lasso at each α
        np.testing.assert_allclose(row, sk.Lasso(alpha=a / (2 * n), **SK).fit(X, y).coef_, atol=1e-6)
    ridge_path = L.regularization_path(X, y, alphas, "ridge")
    assert np.all(ridge_path != 0), "ridge shrinks but never zeroes"


def test_classes_and_tensors(rng):
    X, y = _data(rng)
    Xt, yt = sj.tensor(X), sj.tensor(y)
    m = L.Lasso(alpha=5.0).fit(Xt, yt)
    assert isinstance(m.coef_, sj.Tensor) and m.n_iter_ > 0
    np.testing.assert_allclose(m.coef_.numpy(), sk.Lasso(alpha=5.0 / (2 * len(y)), **SK).fit(X, y).coef_, atol=1e-6)
    np.testing.assert_allclose(m.predict(X), X @ m.coef_.numpy() + m.intercept_.item(), rtol=1e-6)
    r = L.Ridge(2.0).fit(X, y)
    ref = sk.Ridge(alpha=2.0).fit(X, y)
    np.testing.assert_allclose(r.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(r.intercept_, ref.intercept_, rtol=1e-8)
    with pytest.raises(ValueError, match="gamma"):
        L.elastic_net(X, y, 1.0, gamma=1.5)
    with pytest.raises(ValueError, match="solver"):
        L.lasso(X, y, 1.0, solver="newton")


@pytest.mark.parametrize("solver", SOLVERS)
def test_against_scikit_learn(solver, rng):
    X, y = _data(rng, n=80)
    n = len(y)
    r = sk.Ridge(alpha=3.0).fit(X, y)  # ‖y − Xw − b‖² + a‖w‖²: our scale
    c, b = L.ridge(X, y, 3.0)
    np.testing.assert_allclose(c, r.coef_, rtol=1e-8)
    np.testing.assert_allclose(b, r.intercept_, rtol=1e-8)
    # scikit-learn's Lasso (1/2n)‖·‖² + a‖w‖₁  ⇔  ours with α = 2n·a
    a = 0.05
    s = sk.Lasso(alpha=a, **SK).fit(X, y)
    c, b = L.lasso(X, y, 2 * n * a, solver=solver, **TIGHT)
    np.testing.assert_allclose(c, s.coef_, atol=1e-6)
    np.testing.assert_allclose(b, s.intercept_, atol=1e-6)
    # scikit-learn's ElasticNet (1/2n)‖·‖² + a·r‖w‖₁ + ½a(1 − r)‖w‖²  ⇔  Nelson's α = n·a(1 + r), γ = (1 − r)/(1 + r)
    a, ratio = 0.1, 0.6
    s = sk.ElasticNet(alpha=a, l1_ratio=ratio, **SK).fit(X, y)
    c, b = L.elastic_net(X, y, n * a * (1 + ratio), (1 - ratio) / (1 + ratio), solver=solver, **TIGHT)
    np.testing.assert_allclose(c, s.coef_, atol=1e-6)
    np.testing.assert_allclose(b, s.intercept_, atol=1e-6)
