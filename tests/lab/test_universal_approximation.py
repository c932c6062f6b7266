"""Spot checks for universal-approximation: a z²-network is a quadratic; Taylor errors of sin on [−π, π]."""

import math

import numpy as np

import shenjing as sj
from shenjing.lab.experiments.universal_approximation import _parallel_module


def test_quadratic_activation_network_is_a_quadratic():
    net = _parallel_module()([3, 50], lambda z: z * z, np.random.default_rng(0))
    x = np.linspace(-3, 3, 101)
    with sj.no_grad():
        out = net(sj.tensor(x[:, None], dtype=sj.float64)).numpy()
    for k in range(2):
        fit = np.polyval(np.polyfit(x, out[:, k], 2), x)
        assert np.abs(fit - out[:, k]).max() < 1e-9 * max(1, np.abs(out[:, k]).max())


def test_taylor_cubic_sup_error():
    x = np.linspace(-math.pi, math.pi, 2001)
    t3 = x - x ** 3 / 6
    assert abs(np.abs(t3 - np.sin(x)).max() - (math.pi ** 3 / 6 - math.pi)) < 1e-12  # at x = ±π
