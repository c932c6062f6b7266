import numpy as np

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.residual_depth import block_variances, build, train_classifier


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
