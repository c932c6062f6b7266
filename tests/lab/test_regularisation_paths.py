"""Spot checks for regularisation-paths: Fig. 4-13's descent on the penalties, the ridge closed form by
gradient descent, Nelson's mean form, paths and the bias–variance sweep."""

import numpy as np

from shenjing.lab.experiments.regularisation_paths import (
    D,
    bias_variance,
    coefficient_paths,
    nelson_mean_form_gradients,
    penalty_descent,
    ridge_gd_gaps,
    sparse_data,
    spearman,
    two_feature_paths,
)


def test_spearman():
    a = np.arange(10.0)
    assert abs(spearman(a, a ** 3) - 1) < 1e-12 and abs(spearman(a, -np.exp(a)) + 1) < 1e-12
    assert abs(spearman(a, np.array([1.0, 0, 3, 2, 5, 4, 7, 6, 9, 8])) - (1 - 6 * 10 / (10 * 99))) < 1e-12  # 1 − 6Σd²/(n(n² − 1))


def test_l1_descent_hits_the_axis_l2_does_not():
    p = penalty_descent()
    p1, p2 = p["l1"], p["l2"]
    assert int(np.argmax(p1[:, 1] == 0.0)) == 16 and p1[16, 0] == 1.0  # ω₂ = 1 − 16/16, ω₁ = 2 − 16/16
    assert np.abs(p2[:-1, 1] / p2[:-1, 0] - 0.5).max() < 1e-12 and np.abs(p2).min() > 0


def test_ridge_closed_form_and_nelson_mean_form():
    X, y, _ = sparse_data(np.random.default_rng(0))
    gaps = ridge_gd_gaps(X, y)
    assert gaps[-1] < 1e-6 and len(gaps) < 3000
    grad_printed, grad_scaled = nelson_mean_form_gradients(X, y)
    assert grad_scaled < 1e-8 < 1e-3 < grad_printed


def test_paths_start_empty_and_ridge_keeps_every_feature():
    X, y, _ = sparse_data(np.random.default_rng(1))
    cp = coefficient_paths(X, y, 12)
    assert cp["nnz"]["lasso"][0] == cp["nnz"]["enet"][0] == 0 and cp["nnz"]["ridge"].min() == D
    assert cp["fista_gap"] < 1e-6 and cp["rho_gap"] < 1e-10


def test_two_feature_lasso_path_reaches_the_axis():
    geo = two_feature_paths(np.random.default_rng(2))
    assert geo["on_axis"] > 0 and geo["ridge_zeros"] == 0 and geo["l1"][geo["k1"], 1] == 0


def test_bias_variance_trade_off():
    bv = bias_variance(np.random.default_rng(3), 60, 8)
    assert bv["basis_gap"] < 1e-8
    assert spearman(bv["alphas"], bv["bias2"]) > 0.9 and spearman(bv["alphas"], bv["var"]) < -0.9
