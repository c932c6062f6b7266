"""Spot checks for universal-approximation: a z²-network is a quadratic; training lowers the loss of
every parallel net; the ratios the checks compare; Taylor errors of sin on [−π, π]."""

import math

import numpy as np

import shenjing as sj
from shenjing.lab.experiments.universal_approximation import (
    QUADRATIC,
    ParallelTwoLayer,
    claim_numbers,
    fit_widths,
    loglog_slope,
    taylor_sin,
    train,
)


def test_quadratic_activation_network_is_a_quadratic():
    net = ParallelTwoLayer([3, 50], lambda z: z * z, np.random.default_rng(0))
    x = np.linspace(-3, 3, 101)
    with sj.no_grad():
        out = net(sj.tensor(x[:, None], dtype=sj.float64)).numpy()
    for k in range(2):
        fit = np.polyval(np.polyfit(x, out[:, k], 2), x)
        assert np.abs(fit - out[:, k]).max() < 1e-9 * max(1, np.abs(out[:, k]).max())


def test_parallel_nets_are_independent():
    """Net k's output depends only on its own units: changing the units of net 0 leaves net 1 unchanged."""
    net = ParallelTwoLayer([2, 3], sj.tanh, np.random.default_rng(1))
    x = sj.tensor(np.linspace(-3, 3, 7)[:, None], dtype=sj.float64)
    with sj.no_grad():
        before = net(x).numpy()
        with net.a.inplace() as a:
            a[:2] += 1.0
        after = net(x).numpy()
    assert np.array_equal(before[:, 1], after[:, 1]) and not np.allclose(before[:, 0], after[:, 0])


def test_training_lowers_the_summed_loss():
    net = ParallelTwoLayer([1, 4], sj.tanh, np.random.default_rng(2))
    x = np.linspace(-math.pi, math.pi, 32)
    losses = train(net, x, np.sin(x), 50, lr=0.02)
    assert len(losses) == 50 and losses[-1] < 0.5 * losses[0]


def test_fit_widths_reports_the_degree2_residual_only_for_the_quadratic():
    x, xt = np.linspace(-math.pi, math.pi, 16), np.linspace(-math.pi, math.pi, 51)
    entry, pred = fit_widths(lambda z: z * z, [1, 2], 2, x, xt, np.sin, 5, 0.01, np.random.default_rng(3), quadratic=True)
    assert pred.shape == (51, 2) and len(entry["rms_error"]) == 2
    assert entry["max_rel_residual_of_degree2_fit_to_net"] < 1e-8
    entry, _ = fit_widths(sj.tanh, [1, 2], 2, x, xt, np.sin, 5, 0.02, np.random.default_rng(3))
    assert "max_rel_residual_of_degree2_fit_to_net" not in entry


def test_loglog_slope_of_a_power_law():
    w = [1, 2, 4, 8]
    assert abs(loglog_slope(w, [3.0 * m ** -1.5 for m in w]) + 1.5) < 1e-12


def test_claim_numbers():
    widths = [1, 2, 4, 8]
    results = {"t": {"best_quadratic_rms_error": 0.5, "tanh": {"rms_error": [1.0, 0.5, 0.25, 0.125]},
                     QUADRATIC: {"rms_error": [0.8, 0.6, 0.55, 0.5], "max_rel_residual_of_degree2_fit_to_net": 1e-13}}}
    out = claim_numbers(results, widths, ["tanh"])
    assert abs(out["loglog_slope"]["t, tanh"] + 1) < 1e-12
    assert out["error_ratio_largest_width_to_width_1"]["t, tanh"] == 0.125
    assert out["error_ratio_largest_width_to_best_quadratic"]["t, tanh"] == 0.25
    assert out["quadratic_min_ratio_to_best_quadratic"]["t"] == 1.0
    assert out["quadratic_ratio_largest_width_to_width_4"]["t"] == 0.5 / 0.55
    assert results["t"][QUADRATIC]["ratio_to_best_quadratic"] == [1.6, 1.2, 1.1, 1.0]


def test_taylor_cubic_sup_error():
    x = np.linspace(-math.pi, math.pi, 2001)
    t3 = x - x ** 3 / 6
    assert abs(np.abs(t3 - np.sin(x)).max() - (math.pi ** 3 / 6 - math.pi)) < 1e-12  # at x = ±π
    polys, sup, bound = taylor_sin(x, (1, 3))
    assert np.array_equal(polys[3], t3) and abs(sup[1] - (math.pi ** 3 / 6 - math.pi)) < 1e-12
    assert bound == [math.pi ** 3 / 6, math.pi ** 5 / 120]
