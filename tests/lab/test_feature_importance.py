import math

import numpy as np

import shenjing as sj
from shenjing.lab.experiments.feature_importance import N_FEATURES, linear_coefficients, target, train_mlp
from shenjing.nn.utils.importance import feature_importance, rank_features


def test_true_importances_of_the_synthetic_task():
    sj.manual_seed(0)
    x = sj.randn(20000, N_FEATURES, dtype=sj.float64)
    imp = feature_importance(target, x).numpy()
    assert math.isclose(imp[0], 2.0, rel_tol=1e-12)  # ∂y/∂x0 = 2 everywhere
    assert math.isclose(imp[1], 2 * math.sqrt(2 / math.pi), rel_tol=0.02)  # E|2 x1|, x1 ~ N(0, 1)
    assert imp[3:].max() == 0.0
    assert rank_features(imp)[:3] == [0, 1, 2]


def test_linear_coefficients_miss_the_symmetric_feature():
    sj.manual_seed(1)
    x = sj.randn(5000, N_FEATURES, dtype=sj.float64)
    beta = linear_coefficients(x, target(x))
    assert beta.shape == (N_FEATURES,) and abs(beta[0] - 2) < 1e-2
    assert abs(beta[1]) < 0.1  # x1² has no linear part
    w = np.arange(1.0, N_FEATURES + 1)
    assert np.abs(linear_coefficients(x, x @ sj.tensor(w[:, None]) + 3) - w).max() < 1e-10  # exact on a linear target


def test_train_mlp_is_seeded_and_fits():
    sj.manual_seed(2)
    x = sj.randn(200, N_FEATURES, dtype=sj.float64)
    y = target(x)
    a, b = train_mlp(x, y, 8, 30, 1e-2, seed=5), train_mlp(x, y, 8, 30, 1e-2, seed=5)
    with sj.no_grad():
        assert np.array_equal(a(x).numpy(), b(x).numpy())
        assert float(((a(x) - y) ** 2).mean().item()) < float((y ** 2).mean().item())
