"""gabor: the minima of the Gabor model's loss, GD held by them, SGD leaving the poorly fitting ones (Fang §6.1.2, §6.2)."""

import numpy as np

from shenjing.lab.experiments.gabor import LR, classify, data, descend, find_minima, from_minima, loss_at


def test_minima_are_sorted_fixed_points_of_gd():
    X, Y = data(0)
    minima, losses, n_cand = find_minima(X, Y, 101)
    assert len(minima) >= 3 and n_cand >= len(minima)
    assert np.all(np.diff(losses) > 0) and np.allclose(loss_at(X, Y, minima), losses)
    assert classify(X, Y, minima, minima).tolist() == list(range(len(minima)))
    assert abs(minima[0][0]) < 0.5 and abs(minima[0][1] - 16.6) < 1.5  # the data's own parameters φ = (0, 16.6)
    # GD with the experiment's η started at each local minimum stays there
    assert classify(X, Y, descend(X, Y, minima[1:], LR, 300), minima).tolist() == list(range(1, len(minima)))


def test_sgd_leaves_poor_minima_and_keeps_the_global_one():
    X, Y = data(0)
    minima, losses, _ = find_minima(X, Y, 101)
    runs = from_minima(X, Y, minima, 500, 4, np.random.default_rng(0))
    assert runs["gd_k"].tolist() == list(range(1, len(minima)))
    assert np.mean(runs["esc_k"] != runs["home"]) >= 0.25
    assert np.all(runs["glob_k"] == 0)
    worst = runs["home"] == len(minima) - 1  # the worst-fitting minimum is left by every run
    assert np.all(runs["esc_k"][worst] != len(minima) - 1)


def test_sgd_draws_batches_without_replacement_per_run():
    X, Y = data(0)
    start = np.array([[0.0, 16.0], [0.0, 16.0]])
    a = descend(X, Y, start, 1.0, 5, batch=5, rng=np.random.default_rng(1))
    assert not np.allclose(a[0], a[1])  # each run its own batches
    full = descend(X, Y, start, 1.0, 5, batch=len(X), rng=np.random.default_rng(1))
    assert np.allclose(full, descend(X, Y, start, 1.0, 5))  # a batch of all samples is GD
