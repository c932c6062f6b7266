"""gauss-markov: the alternatives are exactly linear unbiased (CX = I, CCᵀ − (XᵀX)⁻¹ ⪰ 0), the Monte Carlo
checks hold for them, and the same checks reject a biased estimator posing as an unbiased one (Xu Thm 1)."""

import numpy as np

from shenjing.lab.core import Context, judge
from shenjing.lab.experiments.gauss_markov import EXPERIMENT, OLS, RIDGE, UNBIASED, draw_estimates, linear_estimators, measure, moments, summary


def design(seed=0, n=30):
    rng = np.random.default_rng(seed)
    return np.hstack([np.ones((n, 1)), rng.uniform(-2, 2, (n, 2))]), rng


def test_estimators_are_linear_unbiased_except_ridge():
    X, rng = design()
    C = linear_estimators(X, rng)
    inv = np.linalg.inv(X.T @ X)
    for k in UNBIASED:
        assert np.abs(C[k] @ X - np.eye(3)).max() < 1e-10, k
        assert np.linalg.eigvalsh(C[k] @ C[k].T - inv).min() > -1e-12, k
    assert np.abs(C[RIDGE] @ X - np.eye(3)).max() > 1e-2  # ridge is biased
    assert np.all(np.diag(C[RIDGE] @ C[RIDGE].T)[1:] < np.diag(inv)[1:])  # … with smaller slope variance


def test_summary_rejects_a_biased_alternative():
    X, rng = design(1)
    beta = np.array([1.0, 2.0, -0.5])
    C = linear_estimators(X, rng)
    B = draw_estimates(X, beta, C, 3000, "uniform", rng)
    res = {k: moments(b, beta) for k, b in B.items()}
    s = summary(res, np.linalg.inv(X.T @ X), 3000)
    assert s["ols_max_bias_z"] < 4 and s["alternatives_max_bias_z"] < 4 and s["min_variance_ratio_alt_over_ols"] > 1
    assert s["ols_cov_rel_error"] < 0.1 and s["min_eig_cov_alt_minus_ols_in_mc_errors"] > -4
    res[UNBIASED[1]] = res[RIDGE]  # ridge posing as a linear unbiased estimator
    bad = summary(res, np.linalg.inv(X.T @ X), 3000)
    assert bad["alternatives_max_bias_z"] > 4 and bad["min_variance_ratio_alt_over_ols"] < 1
    assert bad["min_eig_cov_alt_minus_ols_in_mc_errors"] < -4


def test_quick_measurement_holds_and_the_checks_can_fail(tmp_path):
    m = measure(Context(tmp_path, True, 0))
    assert judge(EXPERIMENT, m.measured, True)[0]
    m.measured["CX_minus_I_max"][OLS] = 1e-3
    verdict, results, _ = judge(EXPERIMENT, m.measured, True)
    assert not verdict and [r["key"] for r in results if not r["holds"]] == ["CX_minus_I_max"]
