import math

import numpy as np

from shenjing.lab.experiments.condensation import count_clusters, parallel_fraction


def test_direction_measures(rng):
    th = np.radians([0.0, 5.0, 180.0, 90.0])  # 0°, 5° and 180° are one orientation; 90° another
    u = np.stack([np.cos(th), np.sin(th)], 1) * np.array([[1.0], [2.0], [0.5], [3.0]])
    assert count_clusters(u) == 2
    assert math.isclose(parallel_fraction(u), 3 / 6)  # the pairs among {0°, 5°, 180°}
    random_dirs = rng.standard_normal((400, 2))
    assert abs(parallel_fraction(random_dirs) - 2 * math.acos(0.95) / math.pi) < 0.03


def test_small_init_trains_and_starts_tiny():
    import shenjing as sj
    from shenjing.data import toy
    from shenjing.lab.experiments.condensation import direction_stats, train

    x, y = toy.sine(20, low=-1.0, high=1.0, freq=math.pi / 2)
    sj.manual_seed(0)
    u0, u1, losses, net = train(1e-3, 16, 50, x.double(), y.double())
    assert u0.shape == u1.shape == (16, 2) and np.abs(u0).max() < 1e-2 and len(losses) == 50
    s = direction_stats(u0, u1, losses)
    assert s["loss_last"] < s["loss_first"] and s["loss_last_over_first"] == losses[-1] / losses[0]
