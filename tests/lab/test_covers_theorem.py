"""covers-theorem: the measured facts checked independently of the experiment's code path."""

import numpy as np

from shenjing.lab.core import run_experiment
from shenjing.lab.experiments.covers_theorem import cover_fraction, separable


def test_covers_theorem_quick_numbers(tmp_path):
    r = run_experiment("covers-theorem", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"] and m["fraction_raw"][0] == 1.0  # N = d points are always separable
    assert m["fraction_features"][-1] == 1.0 and m["fraction_features"][0] < 0.05  # D = N vs D = 2 for N = 12


def test_cover_formula_and_lp():
    assert cover_fraction(4, 2) == 8 / 16  # 4 directions in the plane: 2N = 8 of the 16 dichotomies
    assert cover_fraction(10, 5) == 0.5  # N = 2d: exactly half
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert separable(X, np.array([1.0, 1.0, -1.0, -1.0]))
    assert not separable(X, np.array([1.0, -1.0, 1.0, -1.0]))  # XOR of the four directions
