"""Spot checks for fitting-capacity: the basis sweep interpolates, Occam's three points."""

import numpy as np

import shenjing as sj
from shenjing.lab.experiments.fitting_capacity import N, basis_sweep, draw, occam, train_mlp, truth, truth_error


def test_basis_sweep_reaches_interpolation():
    x, y = draw(np.random.default_rng(0))
    curves = basis_sweep(x, y, np.linspace(0, 1, 50))
    poly = curves["polynomial"]
    assert poly[:, 0].tolist() == list(range(1, N + 1))  # degree 0 … N − 1
    assert np.diff(poly[:, 1]).max() <= 1e-12 and poly[-1, 1] < 1e-12  # training error falls to 0
    assert curves["fourier"][-1, 0] <= N and curves["rbf"][0, 0] >= 1


def test_truth_error_and_tracked_training():
    xt = np.linspace(0, 1, 20)
    XT = sj.tensor(2 * xt[:, None] - 1)
    x, y = draw(np.random.default_rng(1))
    model, train, test, curve = train_mlp([4], sj.tensor(2 * x[:, None] - 1), sj.tensor(y[:, None]), XT, 20, track_every=5)
    assert [c[0] for c in curve] == [0, 5, 10, 15] and curve[-1][2] > 0
    with sj.no_grad():
        assert abs(truth_error(model, XT) - float(((model(XT).numpy()[:, 0] - truth(xt)) ** 2).mean())) < 1e-15
    assert test == truth_error(model, XT) and train > 0


def test_occam_three_points():
    sj.manual_seed(0)
    row, data = occam(np.random.default_rng(3), sj.tensor(np.zeros((1, 1))))
    assert row["occam_a_error"] < 1e-12 and row["occam_interpolant_max_residual"] < 1e-9
    assert row["occam_pred_at_3_sd"] > 1 and len(row["occam_mlp_preds_at_3"]) == 5
    assert data["members"].shape == (200, 5)
