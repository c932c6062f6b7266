"""hyperparameter-search: the quick run's verdict and numbers, the trial objective, and the message without Optuna."""

import sys

import numpy as np
import pytest

from shenjing.lab.core import run_experiment
from shenjing.lab.experiments.hyperparameter_search import make_objective, tpe_vs_random, trials_to_target


def test_hyperparameter_search_quick(tmp_path):
    r = run_experiment("hyperparameter-search", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"] and r["figures"] == ["landscape.png", "progress.png"]
    assert m["random_beats_grid_fraction"] >= 0.7 and m["random_best_median"] < m["grid_best"]
    assert m["median_trials_tpe"] < m["median_trials_random"] <= 81
    assert m["target_loss"] == pytest.approx(1.02 * m["best_loss_dense_scan"])
    assert all(len(v) == 10 for v in m["trials_to_target"].values())


def test_objective_is_deterministic_and_a_diverged_run_scores_as_untrained():
    f = make_objective(np.random.default_rng(0))
    assert f(0.3, 1e-5) == f(0.3, 1e-5) < f(1e-3, 1e-5) < f(1e-4, 1e-5)
    assert f(10.0, 1e-5) == f(50.0, 1e-2) == f(0.0, 0.0)  # diverged: the untrained model's loss
    assert abs(f(0.3, 1e-6) - f(0.3, 1e-2)) < 0.05 * f(0.3, 1e-6)  # weight decay barely matters


def test_trials_to_target_counts_from_one_and_censors():
    assert trials_to_target([3.0, 2.0, 1.0], 2.0) == 2
    assert trials_to_target([3.0, 2.0], 1.0) == 3


def test_without_optuna_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"pip install 'shenjing\[lab\]'"):
        tpe_vs_random(lambda lr, wd: lr, 1, 1, np.random.default_rng(0), 0)
