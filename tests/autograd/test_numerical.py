"""Numerical differentiation (Wang 五.III.1): central differences agree with backprop; the
notes' (f(x+ε) − f(x−ε))/ε form is off by a factor of 2 (an erratum)."""

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing.autograd.numerical import (
    central_difference,
    derivative,
    forward_difference,
    notes_difference,
    numerical_grad,
)

SMOOTH = [
    (math.sin, math.cos, 0.7),
    (math.exp, math.exp, -0.3),
    (lambda x: x ** 3 - 2 * x, lambda x: 3 * x ** 2 - 2, 1.3),
    (math.tanh, lambda x: 1 - math.tanh(x) ** 2, 0.4),
]


@pytest.mark.parametrize("f,df,x", SMOOTH)
def test_scalar_forms(f, df, x):
    true = df(x)
    assert abs(central_difference(f, x, 1e-5) - true) < 1e-9
    assert abs(forward_difference(f, x, 1e-7) - true) < 1e-6
    ratio = notes_difference(f, x, 1e-5) / true
    assert abs(ratio - 2.0) < 1e-6  # the notes' form gives twice the derivative
    assert derivative(f, x, 1e-5, form="notes") == notes_difference(f, x, 1e-5)


def test_error_orders():
    """Central error shrinks as ε², forward as ε."""
    f, df, x = math.sin, math.cos, 0.7
    ec = [abs(central_difference(f, x, e) - df(x)) for e in (1e-2, 1e-3)]
    ef = [abs(forward_difference(f, x, e) - df(x)) for e in (1e-2, 1e-3)]
    assert 80 < ec[0] / ec[1] < 120
    assert 8 < ef[0] / ef[1] < 12


def test_on_tensors_elementwise():
    x = sj.tensor([0.1, 0.5, -1.2], dtype=sj.float64)
    d = central_difference(lambda t: t.sin(), x, 1e-5)
    np.testing.assert_allclose(d.numpy(), np.cos(x.numpy()), atol=1e-9)
    with pytest.raises(ValueError):
        derivative(math.sin, 0.1, form="backward")


class _MLP(sj.nn.Module):
    def __init__(self, g):
        super().__init__()
        self.w1 = sj.nn.Parameter(sj.tensor(g.standard_normal((4, 3))))
        self.b1 = sj.nn.Parameter(sj.tensor(g.standard_normal(4)))
        self.w2 = sj.nn.Parameter(sj.tensor(g.standard_normal((2, 4))))
        self.b2 = sj.nn.Parameter(sj.tensor(g.standard_normal(2)))

    def forward(self, x):
        return (x @ self.w1.T + self.b1).tanh() @ self.w2.T + self.b2


def test_numerical_grad_vs_backprop(rng):
    model = _MLP(rng)
    x, y = sj.tensor(rng.standard_normal((6, 3))), sj.tensor(rng.standard_normal((6, 2)))

    def loss():
        return ((model(x) - y) ** 2).mean()

    loss().backward()
    backprop = [p.grad.numpy().copy() for p in model.parameters()]
    before = [p.detach().numpy().copy() for p in model.parameters()]
    num = numerical_grad(loss, model, eps=1e-6)
    n = sum(p.numel() for p in model.parameters())
    assert num.forward_calls == 2 * n
    for a, b in zip(num, backprop):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b, atol=1e-7, rtol=0)
    notes = numerical_grad(loss, list(model.parameters()), eps=1e-6, form="notes")
    for a, b in zip(notes, backprop):
        np.testing.assert_allclose(a.numpy(), 2 * b, atol=2e-7, rtol=0)
    fwd = numerical_grad(loss, model, eps=1e-7, form="forward")
    assert fwd.forward_calls == n + 1
    for a, b in zip(fwd, backprop):
        np.testing.assert_allclose(a.numpy(), b, atol=1e-5, rtol=0)
    # parameters are restored exactly
    for p, q in zip(model.parameters(), before):
        assert np.array_equal(p.detach().numpy(), q)


def test_notes_ratio_on_smooth_loss():
    w = sj.tensor([0.3, -0.8, 1.1], dtype=sj.float64, requires_grad=True)

    def loss():
        return (w.sin() * w.exp()).sum() + (w ** 2).sum()

    loss().backward()
    notes = numerical_grad(loss, [w], eps=1e-5, form="notes")[0].numpy()
    np.testing.assert_allclose(notes / w.grad.numpy(), 2.0, atol=1e-6)


def test_float32_uses_actual_step_and_rejects_tiny_eps():
    w = sj.tensor([1.5, -0.25], dtype=sj.float32, requires_grad=True)
    g = numerical_grad(lambda: (w * w).sum(), [w], eps=1e-3)[0].numpy()
    np.testing.assert_allclose(g, [3.0, -0.5], atol=1e-3)
    with pytest.raises(ValueError):
        numerical_grad(lambda: (w * w).sum(), [w], eps=1e-12)
