"""Spot checks of the regularisers experiment's helpers (the run itself is in test_lab.py)."""

import numpy as np

from shenjing.lab.experiments.regularisers import noisy_labels, wide_mlp


def test_noisy_labels_flip_to_a_different_class():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 5000)
    noisy, flip = noisy_labels(y, 0.3, rng)
    assert abs(flip.mean() - 0.3) < 0.03
    assert (noisy[flip] != y[flip]).all() and (noisy[~flip] == y[~flip]).all()
    assert noisy.min() >= 0 and noisy.max() <= 9


def test_dropout_variant_has_the_same_parameters():
    a, b = wide_mlp(64), wide_mlp(64, p_in=0.2, p_hidden=0.5)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb) and all(sa[k].shape == sb[k].shape for k in sa)
