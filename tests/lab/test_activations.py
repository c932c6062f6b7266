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


def test_derivative_table_on_a_small_grid():
    from shenjing.lab.experiments.activations import derivative_table, registry

    grid = np.linspace(-6, 6, 120)
    rows, curves = derivative_table(grid)
    assert set(rows) == set(curves) == set(registry())
    assert max(r["max_abs_closed_minus_autograd"] for r in rows.values()) < 1e-12
    assert max(r["max_rel_central_difference_minus_autograd"] for r in rows.values()) < 1e-6
    label, family, f, closed, auto = curves["relu"]
    assert family == "relu" and np.array_equal(f, np.maximum(grid, 0)) and np.array_equal(auto, (grid > 0).astype(float))


def test_notes_formulas_and_softmax_jacobian():
    from shenjing.lab.experiments.activations import derivative_table, notes_formula_errors, softmax_jacobian_errors

    grid = np.linspace(-6, 6, 60)
    assert max(notes_formula_errors(grid, derivative_table(grid)[1]).values()) < 1e-12
    assert max(softmax_jacobian_errors(np.random.default_rng(0)).values()) < 1e-12


def test_fang_printed_relu_is_the_step_function():
    from shenjing.lab.experiments.activations import fang_printed_relu, printed_relu

    z = np.array([-2.0, -0.5, 0.5, 2.0])
    assert np.array_equal(printed_relu(z), [0, 0, 1, 1])
    row = fang_printed_relu(z, (z > 0).astype(float))
    assert row["max_abs_printed_minus_relu_derivative"] == 0 and row["max_abs_printed_minus_relu"] == 1.0
    assert row["homogeneity_error_relu(3z)-3relu(z)"] == 0 and row["homogeneity_error_printed(3z)-3printed(z)"] == 2.0
