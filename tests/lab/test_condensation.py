import math

import numpy as np

from shenjing.lab.experiments.condensation import count_clusters, parallel_fraction


def test_direction_measures():
    th = np.radians([0.0, 5.0, 180.0, 90.0])  # 0°, 5° and 180° are one orientation; 90° another
    u = np.stack([np.cos(th), np.sin(th)], 1) * np.array([[1.0], [2.0], [0.5], [3.0]])
    assert count_clusters(u) == 2
    assert math.isclose(parallel_fraction(u), 3 / 6)  # the pairs among {0°, 5°, 180°}
    rng = np.random.default_rng(0)
    random_dirs = rng.standard_normal((400, 2))
    assert abs(parallel_fraction(random_dirs) - 2 * math.acos(0.95) / math.pi) < 0.03
