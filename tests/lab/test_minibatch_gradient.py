"""minibatch-gradient: the finite-population correction checked by exact enumeration, independent of the experiment."""

import itertools

import numpy as np

from shenjing.lab.core import run_experiment


def test_quick_ratios_near_one(tmp_path):
    m = run_experiment("minibatch-gradient", tmp_path, quick=True)["measured"]
    assert all(0.8 <= r <= 1.2 for r in m["variance_ratio_without_replacement"] + m["variance_ratio_with_replacement"])
    assert m["bias_B8"] < 0.05


def test_finite_population_correction_exact():
    """All C(8, 3) batches of per-sample values: mean = population mean, variance = σ²/B·(N−B)/(N−1)."""
    g = np.random.default_rng(0).normal(size=(8, 2))
    N, B = len(g), 3
    est = np.array([g[list(c)].mean(0) for c in itertools.combinations(range(N), B)])
    sigma2 = ((g - g.mean(0)) ** 2).sum(1).mean()
    np.testing.assert_allclose(est.mean(0), g.mean(0), atol=1e-12)
    np.testing.assert_allclose(((est - g.mean(0)) ** 2).sum(1).mean(), sigma2 / B * (N - B) / (N - 1), rtol=1e-12)
