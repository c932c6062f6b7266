"""nn.init: distributions (mean/std/bounds on large tensors), fans as torch computes them,
calculate_gain equal to torch's, seeding, and the special matrices (eye, dirac, orthogonal)."""

import math

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn as nn
from shenjing.nn import init

SHAPES = [(3, 4), (5, 3, 2), (8, 4, 3, 3), (6, 2, 2, 3, 1), (1, 7)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fan_in_and_fan_out_like_torch(shape):
    assert init.calculate_fan_in_and_fan_out(sj.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for mode in ("fan_in", "fan_out"):
        assert init._calculate_correct_fan(sj.empty(*shape), mode) == torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(sj.empty(5))
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_normal_(sj.empty(3, 3), mode="fan_avg")


def test_he_init_on_a_bias_is_refused():
    """Fang §8.2 prints He initialisation on the bias (an erratum, docs/SOURCES.md): a bias has no
    fan-in, so N(0, 2/m_in) is undefined for it; shenjing refuses, as PyTorch does."""
    for fill in (init.kaiming_normal_, init.kaiming_uniform_):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            fill(sj.empty(5))
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            getattr(torch.nn.init, fill.__name__)(torch.empty(5))


@pytest.mark.parametrize("name,param", [("linear", None), ("conv1d", None), ("conv2d", None), ("conv_transpose2d", None),
                                        ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 1), ("selu", None)])
def test_calculate_gain_equals_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "x")


def _stats(t):
    a = t.numpy(force=True).astype(np.float64)
    return a.mean(), a.std(), np.abs(a).max()


BIG = (1000, 400)  # fan_in 400, fan_out 1000, 400 000 draws
Z = 6  # sample statistics within 6 standard errors: a correct fill fails with probability ~2e-9


def _check_normal(t, std, mean=0.0):
    """N(mean, std²) over n draws: the sample mean's standard error is std/√n, the sample std's std/√(2n)."""
    m, s, _ = _stats(t)
    n = t.numel()
    assert abs(m - mean) < Z * std / math.sqrt(n)
    assert abs(s - std) < Z * std / math.sqrt(2 * n)


def _check_uniform(t, bound):
    """U(−b, b): std b/√3; standard errors b/√(3n) for the mean and b/√(15n) for the std."""
    m, s, mx = _stats(t)
    n = t.numel()
    assert mx <= float(np.asarray(bound, dtype=t.dtype))  # the bound as the tensor's dtype stores it (±a rounds outward)
    assert mx > 0.999 * bound
    assert abs(m) < Z * bound / math.sqrt(3 * n)
    assert abs(s - bound / math.sqrt(3)) < Z * bound / math.sqrt(15 * n)


def test_xu_table():
    """Xu §1.10.1: LeCun, Xavier and Kaiming, normal and uniform, with m_in = 400, m_out = 1000."""
    m_in, m_out = 400, 1000
    _check_normal(init.lecun_normal_(sj.empty(*BIG)), math.sqrt(1 / m_in))
    _check_uniform(init.lecun_uniform_(sj.empty(*BIG)), math.sqrt(3 / m_in))
    _check_normal(init.xavier_normal_(sj.empty(*BIG)), math.sqrt(2 / (m_in + m_out)))
    _check_uniform(init.xavier_uniform_(sj.empty(*BIG)), math.sqrt(6 / (m_in + m_out)))
    _check_normal(init.kaiming_normal_(sj.empty(*BIG)), math.sqrt(2 / m_in))
    _check_uniform(init.kaiming_uniform_(sj.empty(*BIG)), math.sqrt(6 / m_in))


def test_kaiming_options_match_torch_scale():
    for kw in [dict(a=math.sqrt(5)), dict(mode="fan_out"), dict(nonlinearity="relu"), dict(a=0.1, nonlinearity="leaky_relu", mode="fan_out")]:
        fan = 400 if kw.get("mode", "fan_in") == "fan_in" else 1000
        std = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0)) / math.sqrt(fan)
        ref = torch.nn.init.kaiming_uniform_(torch.empty(BIG, dtype=torch.float64), **kw)
        assert ref.abs().max().item() <= math.sqrt(3) * std < 1.001 * ref.abs().max().item()  # the same bound as torch
        _check_uniform(init.kaiming_uniform_(sj.empty(*BIG, dtype=sj.float64), **kw), math.sqrt(3) * std)
        _check_normal(init.kaiming_normal_(sj.empty(*BIG), **kw), std)
    _check_normal(init.xavier_normal_(sj.empty(*BIG), gain=2.0), 2 * math.sqrt(2 / 1400))


def test_conv_shaped_weight_uses_receptive_field():
    w = init.kaiming_normal_(sj.empty(64, 32, 5, 5), mode="fan_out", nonlinearity="relu")
    _check_normal(w, math.sqrt(2 / (64 * 25)))
    _check_uniform(init.xavier_uniform_(sj.empty(64, 32, 5, 5)), math.sqrt(6 / (32 * 25 + 64 * 25)))


def test_basic_fills():
    _check_uniform(init.uniform_(sj.empty(*BIG), -0.3, 0.3), 0.3)
    _check_normal(init.normal_(sj.empty(*BIG), 2.0, 0.5), 0.5, mean=2.0)
    assert np.all(init.constant_(sj.empty(3, 2), 0.25).numpy() == 0.25)
    assert np.all(init.ones_(sj.empty(4)).numpy() == 1) and np.all(init.zeros_(sj.ones(4)).numpy() == 0)
    np.testing.assert_array_equal(init.eye_(sj.empty(3, 5)).numpy(), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 1, 3, 3), 1)]:
        np.testing.assert_array_equal(init.dirac_(sj.empty(*shape), groups).numpy(),
                                      torch.nn.init.dirac_(torch.empty(shape), groups).numpy())
    with pytest.raises(ValueError):
        init.eye_(sj.empty(2, 2, 2))


def test_init_works_on_parameters_and_keeps_dtype():
    lin = nn.Linear(50, 40).double()
    w = init.xavier_uniform_(lin.weight)
    assert w is lin.weight and w.dtype == sj.float64 and w.requires_grad and w.grad_fn is None
    y = (lin.weight * lin.weight).sum()  # saves the weight for backward
    init.zeros_(lin.bias)
    y.backward(retain_graph=True)  # the bias's init leaves the weight's saved value valid
    init.normal_(lin.weight)  # moves the weight's version counter: the saved value is stale
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


def test_trunc_normal():
    t = init.trunc_normal_(sj.empty(200_000), mean=0.5, std=1.0, a=-1.0, b=1.5)
    a = t.numpy()
    assert a.min() >= -1.0 and a.max() <= 1.5
    ref = torch.nn.init.trunc_normal_(torch.empty(200_000, dtype=torch.float64), 0.5, 1.0, -1.0, 1.5).numpy()
    assert abs(a.mean() - ref.mean()) < 0.01 and abs(a.std() - ref.std()) < 0.01


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (16, 4, 3, 3)])
def test_orthogonal(shape):
    q = init.orthogonal_(sj.empty(*shape, dtype=sj.float64), gain=2.0).numpy().reshape(shape[0], -1)
    if q.shape[0] <= q.shape[1]:
        np.testing.assert_allclose(q @ q.T, 4 * np.eye(q.shape[0]), atol=1e-10)
    else:
        np.testing.assert_allclose(q.T @ q, 4 * np.eye(q.shape[1]), atol=1e-10)


def test_seeded_and_generator():
    sj.manual_seed(3)
    a = init.kaiming_uniform_(sj.empty(5, 6)).numpy().copy()
    sj.manual_seed(3)
    b = init.kaiming_uniform_(sj.empty(5, 6)).numpy()
    np.testing.assert_array_equal(a, b)
    g = sj.Generator().manual_seed(11)
    fns = [init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
           init.lecun_uniform_, init.lecun_normal_, init.orthogonal_, init.trunc_normal_]
    for fn in fns:
        g.manual_seed(11)
        x = fn(sj.empty(4, 5), generator=g).numpy().copy()
        g.manual_seed(11)
        np.testing.assert_array_equal(x, fn(sj.empty(4, 5), generator=g).numpy(), err_msg=fn.__name__)


def test_docstrings_carry_formula_and_chinese_term():
    assert "初始化" in init.__doc__
    for fn in (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
               init.lecun_uniform_, init.lecun_normal_):
        assert ("Xu §" in fn.__doc__ or "Nelson" in fn.__doc__) and "初始化" in fn.__doc__ and "√" in fn.__doc__, fn.__name__
