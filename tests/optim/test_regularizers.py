"""Ridge, lasso and elastic-net penalties (Nelson, Fang §3.2): values, gradients (lasso's
subgradient 0 at 0), and that biases and 1-D parameters are never penalised."""

import numpy as np
import pytest
import torch

import shenjing as sj
from shenjing import nn
from shenjing.optim import regularizers as R


def _model():
    m = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    with sj.no_grad():
        m[0].weight._data[0, :2] = 0.0  # exact zeros: the lasso subgradient there is 0
    return m


def _weights_np(m):
    return [m[0].weight.detach().numpy().copy(), m[2].weight.detach().numpy().copy()]


def test_weights_skip_biases_and_1d():
    m = _model()
    ws = R.weights(m)
    assert len(ws) == 2 and ws[0] is m[0].weight and ws[1] is m[2].weight
    assert [p for p in R.weights(m.named_parameters())] == ws
    free = sj.randn(5, requires_grad=True)
    assert R.weights([free])[0] is free  # plain tensors are all penalised
    assert float(R.ridge([])) == 0.0


PENALTIES = [
    ("ridge", {"alpha": 0.3}, lambda ws: 0.3 * sum((w**2).sum() for w in ws),
     lambda w: 0.6 * w),
    ("lasso", {"alpha": 0.3}, lambda ws: 0.3 * sum(np.abs(w).sum() for w in ws),
     lambda w: 0.3 * np.sign(w)),
    ("elastic_net", {"alpha": 0.5, "gamma": 0.25},
     lambda ws: sum(0.25 * 0.5 * (w**2).sum() + 0.75 * 0.5 * np.abs(w).sum() for w in ws),
     lambda w: 0.25 * 0.5 * 2 * w + 0.75 * 0.5 * np.sign(w)),
    ("elastic_net_rho", {"rho": 0.7}, lambda ws: sum(0.7 * np.abs(w).sum() + 0.3 * (w**2).sum() for w in ws),
     lambda w: 0.7 * np.sign(w) + 0.3 * 2 * w),
]


@pytest.mark.parametrize("case", PENALTIES, ids=lambda c: c[0])
def test_value_and_gradient(case):
    name, kw, value, grad = case
    m = _model()
    ws = _weights_np(m)
    pen = getattr(R, name)(m, **kw)
    assert isinstance(pen, sj.Tensor) and pen.shape == ()
    np.testing.assert_allclose(float(pen), value(ws), rtol=1e-6)
    pen.backward()
    for p, w in zip((m[0].weight, m[2].weight), ws):
        np.testing.assert_allclose(p.grad.numpy(), grad(w), rtol=1e-6, atol=1e-7)
    assert m[0].weight.grad.numpy()[0, 0] == pytest.approx(grad(np.zeros(1))[0])
    for name_, p in m.named_parameters():
        if name_.endswith("bias") or p.ndim < 2:
            assert p.grad is None, name_


def test_lasso_subgradient_zero_at_zero():
    w = sj.tensor([[0.0, 1.5], [-2.0, 0.0]], dtype=sj.float64, requires_grad=True)
    R.lasso([w], alpha=2.0).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0.0, 2.0], [-2.0, 0.0]])
    t = torch.tensor([[0.0, 1.5], [-2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    (2.0 * t.abs().sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())


def test_elastic_net_limits():
    m = _model()
    np.testing.assert_allclose(float(R.elastic_net(m, alpha=0.2, gamma=1.0)), float(R.ridge(m, alpha=0.2)), rtol=1e-6)
    np.testing.assert_allclose(float(R.elastic_net(m, alpha=0.2, gamma=0.0)), float(R.lasso(m, alpha=0.2)), rtol=1e-6)
    np.testing.assert_allclose(float(R.elastic_net_rho(m, rho=1.0)), float(R.lasso(m, alpha=1.0)), rtol=1e-6)
    with pytest.raises(ValueError):
        R.elastic_net(m, gamma=1.5)


def test_penalised_training_shrinks_weights_not_biases():
    sj.manual_seed(1)
    m = nn.Linear(4, 1).double()
    x = sj.randn(32, 4, dtype=sj.float64)
    y = x @ sj.tensor([[3.0], [-2.0], [0.0], [0.0]], dtype=sj.float64) + 5.0
    opt = sj.optim.SGD(m.parameters(), lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean() + R.lasso(m, alpha=0.5)
        loss.backward()
        opt.step()
    w = m.weight.detach().numpy().ravel()
    assert np.abs(w[2:]).max() < 0.05  # lasso drives the useless weights to (nearly) zero
    assert abs(float(m.bias) - 5.0) < 0.2  # the bias is not shrunk
