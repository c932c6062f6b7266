import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.lab.core import missing_data
from shenjing.lab.experiments.residual_depth import (
    EXPERIMENT,
    batch_indices,
    block_variances,
    build,
    evaluate,
    fashion_mnist_flat,
    train_and_score,
    train_classifier,
)

needs_fashion = pytest.mark.skipif(bool(missing_data(EXPERIMENT)),
                                   reason="needs the Fashion-MNIST files, not found on this machine (`shenjing info` says where it looks)")


def test_layer_counts_and_zero_init_blocks_are_the_identity():
    sj.manual_seed(0)
    for kind in ("plain-18", "plain-34", "residual-18", "residual-34", "residual-sqrt2-34"):
        net = build(kind, 8)
        assert sum(isinstance(m, nn.Linear) for m in net.modules()) == int(kind.rsplit("-", 1)[1])
    net = build("residual-34", 8)
    x = sj.randn(5, 784)
    stem, body = net[0], net[1]
    with sj.no_grad():
        np.testing.assert_allclose(net(x).numpy(), body.head(stem(x)).numpy(), rtol=1e-6, atol=1e-6)


def test_variance_doubles_per_block_and_the_sqrt2_scale_keeps_it():
    g = sj.Generator().manual_seed(0)
    v = np.array(block_variances(8, 256, 512, False, g))
    w = np.array(block_variances(8, 256, 512, True, g))
    assert np.all((v[1:] / v[:-1] > 1.6) & (v[1:] / v[:-1] < 2.5))  # Var(x + f(x)) = 2 Var(x)
    assert 0.6 < w[-1] / w[0] < 1.4


def test_divergence_is_detected_and_stops_training():
    sj.manual_seed(0)
    rng = np.random.default_rng(0)
    x = sj.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = sj.tensor(rng.integers(0, 10, 64))
    net = nn.mlp([784, 32, 32, 10])
    h = train_classifier(net, (x, y, x, y), 50, 100.0, 16, rng, eval_every=10)
    assert h["diverged"] is not None and len(h["loss"]) == h["diverged"] - 1


def test_batches_are_fresh_permutations_per_epoch_without_the_incomplete_batch():
    batches = batch_indices(10, 4, np.random.default_rng(0))
    first = [next(batches) for _ in range(2)]
    assert all(len(b) == 4 for b in first) and len(set(np.concatenate(first))) == 8  # 2 left over: dropped
    again = np.random.default_rng(0)
    perm = again.permutation(10)
    np.testing.assert_array_equal(np.concatenate(first), perm[:8])
    np.testing.assert_array_equal(next(batches), again.permutation(10)[:4])  # epoch 2: a new permutation


def _toy_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 20)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return sj.tensor(x), sj.tensor(y), sj.tensor(x), sj.tensor(y)


def test_train_and_score_learns_a_separable_task_and_marks_a_diverged_run_infinite():
    data = _toy_data()
    hist, final, net = train_and_score(lambda: nn.mlp([20, 16, 2]), data, 60, 0.1, 16, 0, eval_every=20)
    assert hist["diverged"] is None and hist["step"] == [20, 40, 60] and len(hist["loss"]) == 60
    assert final["train_error"] < 0.1 and np.isfinite(final["train_loss"]) and final["parameters"] == 20 * 16 + 16 + 16 * 2 + 2
    assert (final["train_loss"], final["train_error"]) == evaluate(net, data[0], data[1])
    hist, final, _ = train_and_score(lambda: nn.mlp([20, 16, 2]), data, 60, 1e4, 16, 0, eval_every=20)
    assert hist["diverged"] is not None and final["train_loss"] == final["test_loss"] == float("inf")


@needs_fashion
def test_fashion_mnist_flat_subsets():
    x, y, xt, yt = fashion_mnist_flat(100, 50, 0)
    assert x.shape == (100, 784) and xt.shape == (50, 784) and y.shape == (100,) and yt.shape == (50,)
    assert x.dtype == sj.float32 and y.dtype == sj.int64 and abs(float(x.mean())) < 0.3
