"""hopfield: the measured facts checked independently of the experiment's code path."""

import numpy as np

import shenjing as sj
from shenjing.lab.core import run_experiment
from shenjing.lab.experiments.hopfield import corrupt, hebbian, recall


def test_hopfield_quick_numbers(tmp_path):
    r = run_experiment("hopfield", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"] and m["overlap_low_load"] == 1.0
    overlaps = dict(zip(m["alphas"], m["overlaps"]))
    assert overlaps[0.04] == 1.0 and overlaps[0.3] < overlaps[0.2] < overlaps[0.1]  # recall collapses with load


def test_hebbian_weights_and_one_pattern_recall():
    rng = np.random.default_rng(1)
    xi = rng.choice([-1.0, 1.0], size=(3, 50))
    W = hebbian(sj.tensor(xi, dtype=sj.float64)).numpy()
    expected = sum(np.outer(p, p) for p in xi) / 50
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(W, expected, atol=1e-12)
    cue = corrupt(xi[:1], rng, flip=0.2)
    assert (cue != xi[:1]).sum() == 10
    single = hebbian(sj.tensor(xi[:1], dtype=sj.float64))  # one stored pattern: any cue < 50 % off recalls it
    np.testing.assert_array_equal(recall(single, sj.tensor(cue, dtype=sj.float64)).numpy(), xi[:1])
