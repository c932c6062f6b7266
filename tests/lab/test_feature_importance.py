import math

import shenjing as sj
from shenjing.lab.experiments.feature_importance import N_FEATURES, target
from shenjing.nn.utils.importance import feature_importance, rank_features


def test_true_importances_of_the_synthetic_task():
    sj.manual_seed(0)
    x = sj.randn(20000, N_FEATURES, dtype=sj.float64)
    imp = feature_importance(target, x).numpy()
    assert math.isclose(imp[0], 2.0, rel_tol=1e-12)  # ∂y/∂x0 = 2 everywhere
    assert math.isclose(imp[1], 2 * math.sqrt(2 / math.pi), rel_tol=0.02)  # E|2 x1|, x1 ~ N(0, 1)
    assert imp[3:].max() == 0.0
    assert rank_features(imp)[:3] == [0, 1, 2]
