"""Input-gradient feature importance (Nelson): the informative features rank first."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.nn.utils import feature_importance, importance_table, input_gradients, rank_features


def test_linear_model_gradients_are_the_weights():
    w = np.array([[0.5, 0.0, -3.0, 0.1, 0.0]])
    model = nn.Linear(5, 1).double()
    with sj.no_grad():
        model.weight.copy_(sj.tensor(w))
    x = sj.randn(50, 5, dtype=sj.float64)
    g = input_gradients(model, x)
    np.testing.assert_allclose(g.numpy(), np.repeat(w, 50, axis=0), atol=1e-14)
    imp = feature_importance(model, x)
    np.testing.assert_allclose(imp.numpy(), np.abs(w[0]), atol=1e-14)
    assert rank_features(imp)[:2] == [2, 0]
    assert rank_features(imp, names=list("abcde"))[:3] == ["c", "a", "d"]
    gxi = feature_importance(model, x, method="grad_x_input")
    np.testing.assert_allclose(gxi.numpy(), np.abs(x.numpy() * w).mean(0), atol=1e-14)
    assert "x2" in importance_table(imp).splitlines()[1]


def test_trained_mlp_ranks_features_0_and_2(rng):
    X = rng.standard_normal((256, 6))
    y = (np.sin(1.5 * X[:, 0]) + 0.8 * X[:, 2] ** 2 - 0.5 * X[:, 2])[:, None]
    xs, ys = sj.tensor(X), sj.tensor(y)
    model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 1)).double()
    lr, m = 0.05, [sj.zeros_like(p) for p in model.parameters()]
    loss0 = None
    for _ in range(400):  # full-batch GD with momentum
        loss = ((model(xs) - ys) ** 2).mean()
        loss0 = loss0 or loss.item()
        model.zero_grad()
        loss.backward()
        with sj.no_grad():
            for p, v in zip(model.parameters(), m):
                v.mul_(0.9).add_(p.grad)
                p -= lr * v
    assert loss.item() < 0.2 * loss0
    imp = feature_importance(model, xs, batch_size=100).numpy()
    order = rank_features(imp)
    assert set(order[:2]) == {0, 2}, imp
    assert imp[[0, 2]].min() > 3 * imp[[1, 3, 4, 5]].max()


def test_classifier_target_and_signed():
    model = nn.Linear(3, 2, bias=False).double()
    W = np.array([[1.0, -2.0, 0.0], [0.0, 0.5, 4.0]])
    with sj.no_grad():
        model.weight.copy_(sj.tensor(W))
    x = sj.randn(10, 3, dtype=sj.float64)
    labels = np.array([0, 1] * 5)
    g = input_gradients(model, x, target=labels).numpy()
    np.testing.assert_allclose(g, W[labels], atol=1e-14)
    np.testing.assert_allclose(input_gradients(model, x, target=1).numpy(), np.tile(W[1], (10, 1)))
    np.testing.assert_allclose(input_gradients(model, x).numpy(), np.tile(W.sum(0), (10, 1)))
    signed = feature_importance(model, x, target=0, absolute=False).numpy()
    np.testing.assert_allclose(signed, W[0])
    with pytest.raises(ValueError):
        feature_importance(model, x, method="shap")
