"""Spot checks for housing: Zhao's 12 and 19 parameters; the generator's θ in the hand-wired net."""

import numpy as np

import shenjing as sj
from shenjing.data import toy
from shenjing.lab.experiments.housing import (
    DENSE_TRUE,
    HAND_MASK,
    THETA_TRUE,
    HandWiredHousing,
    Scaled,
    dense_net,
    theta_from_masked,
    true_parameter_errors,
)
from shenjing.nn.utils import count_parameters


def test_parameter_counts_12_and_19():
    assert count_parameters(HandWiredHousing()) == 12
    assert count_parameters(dense_net()) == 19
    assert int(HAND_MASK.sum()) + 3 + 3 + 1 == 12  # masked dense form: 5 weights + 3 biases + 3 + 1


def test_true_theta_reproduces_noiseless_price():
    X, y, H = toy.housing(200, seed=3, return_hidden=True)
    theta = [0.02, 0.5, -0.5, -1.0, 7.0, -0.3, 0.08, -1.0, 60.0, 25.0, 40.0, 50.0]
    assert THETA_TRUE.tolist() == theta
    with sj.no_grad():
        pred = HandWiredHousing(np.array(theta))(X.to(sj.float64)).numpy().ravel()
    h = H.numpy().astype(float)
    assert np.abs(pred - (60 * h[:, 0] + 25 * h[:, 1] + 40 * h[:, 2] + 50)).max() < 1e-3


def test_true_theta_in_the_dense_net_and_theta_from_masked_agree():
    errors = true_parameter_errors(Scaled(seed=4, n=300, ntr=200, nva=50))
    assert max(errors.values()) < 1e-3
    W1, b1, W2, b2 = DENSE_TRUE
    assert np.array_equal(W1 * HAND_MASK, W1)  # the generator's dense weights respect the wiring
    assert theta_from_masked(W1, b1, W2, b2).tolist() == THETA_TRUE.tolist()


def test_theta_from_masked_layout():
    W1 = np.arange(12.0).reshape(3, 4) * HAND_MASK
    t = theta_from_masked(W1, np.array([-1.0, -2.0, -3.0]), np.array([7.0, 8.0, 9.0]), np.array([10.0]))
    assert t.tolist() == [0, 1, -1, 6, -2, 10, 11, -3, 7, 8, 9, 10]
