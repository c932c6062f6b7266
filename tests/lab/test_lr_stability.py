"""Spot checks of lr-stability (issue 7): divergence starts exactly past η = 2/λ on ½λθ², and the
power-iteration λ_max of a network's Hessian equals the top eigenvalue of the full Hessian."""

import numpy as np
import pytest

from shenjing.lab.experiments.lr_stability import quadratic_growth, quadratic_threshold, tanh_net_hessians


@pytest.mark.parametrize("lam", [0.3, 1.0, 4.0, 25.0])
def test_divergence_exactly_past_two_over_lambda(lam):
    res = quadratic_threshold(lam, resolution=0.005)
    assert res["monotone"], "every η below the edge converges and every η above diverges"
    assert abs(res["threshold"] - 2.0 / lam) <= res["step"]
    # and the measured growth per step is |1 − λη|
    assert np.allclose(res["growth"], res["theory"], rtol=1e-9)


def test_growth_matches_one_step_factor_far_from_the_edge():
    etas = np.array([0.1, 0.5, 0.9, 1.5])
    assert np.allclose(quadratic_growth(2.0, etas, steps=20), np.abs(1 - 2.0 * etas), rtol=1e-9)


def test_power_iteration_lambda_max_equals_full_hessian():
    net = tanh_net_hessians(hidden=4, steps=300, seed=1)
    assert net["power_converged"]
    assert net["lambda_power"] == pytest.approx(float(net["eigvals"][-1]), rel=1e-6)
