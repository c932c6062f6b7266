"""Spot checks for activations: the derivatives Nelson prints, by autograd."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F


def _grad(fn, x):
    t = sj.tensor(x, dtype=sj.float64, requires_grad=True)
    fn(t).sum().backward()
    return t.grad.numpy()


def test_elu_derivative_is_f_plus_alpha_for_negative_z():
    z = np.linspace(-5, -0.01, 50)
    f = F.elu(sj.tensor(z, dtype=sj.float64), 1.5).numpy()
    assert np.abs(_grad(lambda t: F.elu(t, 1.5), z) - (f + 1.5)).max() < 1e-12


def test_softplus_derivative_is_sigmoid():
    z = np.linspace(-6, 6, 41)
    assert np.abs(_grad(F.softplus, z) - 1 / (1 + np.exp(-z))).max() < 1e-12


def test_sigmoid_derivative_maximum_is_quarter():
    assert abs(_grad(F.sigmoid, np.array([0.0]))[0] - 0.25) < 1e-15
