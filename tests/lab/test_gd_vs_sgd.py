"""gd-vs-sgd: on a loss whose full-batch gradient vanishes exactly at a saddle, GD started on the
saddle's stable line converges to the saddle while SGD's batch noise carries it to a minimum."""

import numpy as np

from shenjing.lab.experiments.gd_vs_sgd import saddle_runs


def test_gd_stays_on_the_saddle_sgd_leaves():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(50)
    xs = np.concatenate([z, -z])
    gd = saddle_runs([[1.0, 0.0]], 0.1, 150, None, xs, rng)
    assert gd[-1, 0, 1] == 0.0 and abs(gd[-1, 0, 0]) < 1e-5
    sgd = saddle_runs(np.tile([1.0, 0.0], (10, 1)), 0.1, 150, 5, xs, rng)
    assert np.all(np.abs(sgd[-1, :, 1]) > 0.5)  # in a minimum θ₂ = ±1
