import math

import numpy as np

from shenjing.lab.experiments.curse_of_dimensionality import f_values_on_grid, monte_carlo, trapezoid_nd


def test_trapezoid_rule_matches_eq_1_62_and_is_a_tensor_product():
    # eq. 1.62 in one dimension, k = 4 intervals
    k = 4
    t = np.linspace(0, 1, k + 1)
    g = np.exp(t) / (math.e - 1)
    by_hand = (1 / k) / 2 * (g[0] + g[-1]) + (1 / k) * g[1:-1].sum()
    assert math.isclose(trapezoid_nd(f_values_on_grid(k, 1)), by_hand, rel_tol=1e-14)
    # separable integrand: the d-dimensional rule is the product of the 1-D rules
    assert math.isclose(trapezoid_nd(f_values_on_grid(k, 3)), by_hand ** 3, rel_tol=1e-12)
    # error ≈ h²/12 (f'(1) − f'(0)) = h²/12 for the 1-D integrand (integral exactly 1)
    assert math.isclose(by_hand - 1, 1 / (12 * k * k), rel_tol=0.01)


def test_monte_carlo_is_unbiased(rng):
    est = [monte_carlo(1000, 5, rng) for _ in range(200)]
    assert abs(np.mean(est) - 1) < 4 * np.std(est) / np.sqrt(200)


def test_two_layer_net_fluctuation_shrinks_like_one_over_root_m():
    import shenjing as sj
    from shenjing.lab.experiments.curse_of_dimensionality import fit_slope, quadrature_errors, two_layer_fluctuation

    g = sj.Generator().manual_seed(0)
    widths = [16, 64, 256, 1024]
    assert abs(fit_slope(widths, two_layer_fluctuation(5, widths, 40, g)) + 0.5) < 0.1
    trap, mc = quadrature_errors(2, 1e4, [100, 1000], 5, np.random.default_rng(0))
    assert [n for n, _ in trap] == [k ** 2 for k in (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96)]
    assert abs(fit_slope(*zip(*trap)) + 1.0) < 0.05 and [n for n, _ in mc] == [100, 1000]
