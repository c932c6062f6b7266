"""transfer-features: the quick run's verdict and numbers, and the dual-form ridge classifier against the primal ridge."""

import numpy as np
import pytest

from shenjing.lab.core import load_all, missing_data, run_experiment
from shenjing.lab.experiments.transfer_features import ridge_classifier
from shenjing.linear.regularized import ridge


def test_dual_ridge_classifier_predicts_as_the_primal_ridge():
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(15, 40)), np.repeat(np.arange(3), 5)
    Z = rng.normal(size=(50, 40))
    coef, intercept = ridge(X, np.eye(3)[labels], alpha=10.0)
    scores = Z @ coef + intercept
    assert (np.sort(scores, 1)[:, -1] - np.sort(scores, 1)[:, -2]).min() > 1e-9  # no ties
    np.testing.assert_array_equal(ridge_classifier(X, labels, 3, alpha=10.0)(Z), scores.argmax(1))


@pytest.mark.skipif(bool(missing_data(load_all()["transfer-features"])),
                    reason="needs the Fashion-MNIST files, not found on this machine (`shenjing info` says where it looks)")
def test_transfer_features_quick(tmp_path):
    r = run_experiment("transfer-features", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"] and r["figures"] == ["few_shot.png"]
    acc = m["accuracy"]
    assert all(acc[f"k{k}"]["trained"] > acc[f"k{k}"]["pixels"] + 0.02 for k in (5, 10, 20))
    assert acc["k20"]["trained"] > acc["k1"]["trained"] + 0.2  # more labels, better classifier
    assert all(0.2 < a[n] <= 1 for a in acc.values() for n in ("pixels", "trained", "random"))  # above chance (5 classes)
    assert m["n_target_test"] == 2000 and m["draws"] == 10
