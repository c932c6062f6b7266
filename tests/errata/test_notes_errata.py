"""Errata of the notes (docs/errata.md) that no experiment shows on its own: each test computes the
printed form next to the correct one."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.lab.experiments.convolution import NG_IMAGE, VERTICAL_EDGE


def test_zhao_5_the_minus_10_opens_the_second_row():
    """Zhao §5: "−5 … 向右移动一步 … 得到 −10. 再将其右移得到 −2, 接着是 2, 3"."""
    x = sj.tensor(NG_IMAGE, dtype=sj.float64)[None, None]
    w = sj.tensor(VERTICAL_EDGE, dtype=sj.float64)[None, None]
    out = F.conv2d(x, w)[0, 0].numpy()
    printed_first_row = [-5, -10, -2, 2, 3]  # what the text reads as one row moving right
    assert out[0, 0] == -5 and out[0, 1] == -4  # one step right of −5 is −4, not −10
    assert out[1].tolist() == printed_first_row[1:]  # −10, −2, 2, 3 is the second row
    assert out.shape == (4, 4)


def _sigmoid_unit(w, x):
    net = float(w @ x)
    y = 1 / (1 + np.exp(-net))
    return y, y * (1 - y)


def test_xu_eq_1_75_descends_only_with_a_plus_sign():
    """Xu eq. (1.75): w ← w − η f′(net)(d − y)x; gradient descent on ½(d − y)² is w + η f′(d − y)x."""
    rng = np.random.default_rng(0)
    w, x, d, eta = rng.normal(size=3), rng.normal(size=3), 1.0, 0.5
    y, fp = _sigmoid_unit(w, x)
    loss = 0.5 * (d - y) ** 2
    w_sj = sj.tensor(w, requires_grad=True)
    (0.5 * (d - (w_sj @ sj.tensor(x)).sigmoid()) ** 2).backward()
    np.testing.assert_allclose(w_sj.grad.numpy(), -fp * (d - y) * x, rtol=1e-12)  # ∂E/∂w = −f′(d − y)x
    printed = w - eta * fp * (d - y) * x
    correct = w + eta * fp * (d - y) * x
    assert 0.5 * (d - _sigmoid_unit(correct, x)[0]) ** 2 < loss < 0.5 * (d - _sigmoid_unit(printed, x)[0]) ** 2


def test_wang_eq_11_holds_on_a_compact_set_not_on_all_of_Rn():
    """Wang eq. (11) asks |F_θ(x) − f(x)| < ε for every x ∈ Rⁿ; a ReLU MLP is piecewise linear, so for
    f(x) = x² no finite MLP does it — the theorem gives uniform accuracy on a compact set only."""
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=200), rng.uniform(-1, 1, 200)
    feats = lambda x: F.relu(sj.tensor(np.outer(x, w) + b)).numpy()  # noqa: E731 — hidden layer, 200 units
    xs = np.linspace(-1, 1, 401)
    a, *_ = np.linalg.lstsq(np.c_[feats(xs), np.ones_like(xs)], xs ** 2, rcond=None)
    err = lambda x: np.abs(np.c_[feats(x), np.ones_like(x)] @ a - x ** 2)  # noqa: E731
    assert err(xs).max() < 0.02  # accurate on K = [−1, 1]
    assert err(np.array([10.0, 100.0])).min() > 50  # and far off outside: not ∀x ∈ R


def test_wang_validation_from_the_test_set_biases_the_test_score():
    """Wang 三 (泛化能力): "从测试集中分出一小部分作为验证集". Choosing among chance-level models by a
    validation set taken from the test set inflates that test score; taken from the training data it does not."""
    rng = np.random.default_rng(2)
    leaked, clean = [], []
    for _ in range(20):
        y_test, y_val = rng.integers(0, 2, 1000), rng.integers(0, 2, 500)
        preds_test, preds_val = rng.integers(0, 2, (200, 1000)), rng.integers(0, 2, (200, 500))
        leaked.append((preds_test == y_test).mean(1)[np.argmax((preds_test[:, :500] == y_test[:500]).mean(1))])
        clean.append((preds_test == y_test).mean(1)[np.argmax((preds_val == y_val).mean(1))])
    assert np.mean(leaked) > 0.52  # ≈ 0.5 + ½·(best of 200 on 500 samples − 0.5)
    assert abs(np.mean(clean) - 0.5) < 0.01  # chance, as it should be
