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
    with m[0].weight.inplace() as w:
        w[0, :2] = 0.0  # exact zeros: the lasso subgradient there is 0
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
    """γ = 1 is ridge α‖w‖², γ = 0 lasso α‖w‖₁ (Nelson), ρ = 1 of Fang's form ‖w‖₁: values and
    (sub)gradients against the formulas in NumPy."""
    limits = [
        (lambda m: R.elastic_net(m, alpha=0.2, gamma=1.0), lambda w: 0.2 * (w**2).sum(), lambda w: 0.4 * w),
        (lambda m: R.elastic_net(m, alpha=0.2, gamma=0.0), lambda w: 0.2 * np.abs(w).sum(), lambda w: 0.2 * np.sign(w)),
        (lambda m: R.elastic_net_rho(m, rho=1.0), lambda w: np.abs(w).sum(), np.sign),
        (lambda m: R.elastic_net_rho(m, rho=0.0), lambda w: (w**2).sum(), lambda w: 2 * w),
    ]
    for penalty, value, grad in limits:
        m = _model()
        ws = _weights_np(m)
        pen = penalty(m)
        np.testing.assert_allclose(float(pen), sum(value(w) for w in ws), rtol=1e-6)
        pen.backward()
        for p, w in zip((m[0].weight, m[2].weight), ws):
            np.testing.assert_allclose(p.grad.numpy(), grad(w), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError):
        R.elastic_net(_model(), gamma=1.5)


def test_penalised_training_shrinks_weights_not_biases():
    m = nn.Linear(4, 1).double()
    x = sj.randn(32, 4, dtype=sj.float64)
    x = x - x.mean(0)  # centred: the unpenalised optimum bias is exactly 5 whatever the weights' shrinkage
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
