"""Elementwise ops against PyTorch in float64: values, gradients, broadcasting, dtypes."""

from functools import partial

import numpy as np
import pytest
import torch
from torch_compare import assert_same, check, rand

import shenjing as sj

BROADCAST = [
    ((3, 4), (3, 4)),
    ((2, 3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 1, 4), (3, 1)),
    ((), (3,)),
    ((2, 3), ()),
    ((1,), (2, 1, 1)),
    ((0, 3), (3,)),
    ((1, 0), (5, 1)),
]

POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt", "log1p"}
UNIT = {"asin", "acos", "atanh", "arcsin"}  # inputs in (−1, 1)

def _named(name, m, x):
    return getattr(m, name)(x)


UNARY = {
    "abs": lambda m, x: m.abs(x),
    "neg": lambda m, x: m.neg(x),
    "exp": lambda m, x: m.exp(x),
    "log": lambda m, x: m.log(x),
    "log2": lambda m, x: m.log2(x),
    "log1p": lambda m, x: m.log1p(x),
    "expm1": lambda m, x: m.expm1(x),
    "sqrt": lambda m, x: m.sqrt(x),
    "rsqrt": lambda m, x: m.rsqrt(x),
    "square": lambda m, x: m.square(x),
    "sin": lambda m, x: m.sin(x),
    "cos": lambda m, x: m.cos(x),
    "tan": lambda m, x: m.tan(x),
    "atan": lambda m, x: m.atan(x),
    "tanh": lambda m, x: m.tanh(x),
    **{n: partial(_named, n) for n in ("asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2", "log10")},
    "arcsin": lambda m, x: x.arcsin(),
    "arc_methods": lambda m, x: x.arcsinh() + m.arctanh(x.tanh() * 0.5) + (x.square() + 1.5).arccosh() + x.sinh().cosh(),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "relu": lambda m, x: m.relu(x),
    "sign": lambda m, x: m.sign(x),
    "floor": lambda m, x: m.floor(x),
    "ceil": lambda m, x: m.ceil(x),
    "round": lambda m, x: m.round(x),
    "trunc": lambda m, x: m.trunc(x),
    "reciprocal": lambda m, x: m.reciprocal(x),
    "erf": lambda m, x: m.erf(x),
    "clamp": lambda m, x: m.clamp(x, -0.5, 0.7),
    "clamp_min": lambda m, x: m.clamp(x, min=-0.2),
    "clamp_max": lambda m, x: x.clamp(max=0.3),
    "clip": lambda m, x: m.clip(x, -0.5, 0.5),
    "method_exp": lambda m, x: x.exp().log1p().tanh(),
    "pos_neg_abs": lambda m, x: abs(-(+x)),
    "round_decimals": lambda m, x: m.round(x * 10, decimals=1),
}


def _input(name, rng, shape):
    x = rand(rng, *shape)
    if name in POSITIVE:
        x = np.abs(x) + 0.2
    if name in ("tan",):
        x = np.clip(x, -1.2, 1.2)
    if name in UNIT:
        x = np.tanh(x) * 0.9
    if name == "acosh":
        x = np.abs(x) + 1.2
    return np.asarray(x)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(3, 4), (), (2, 0, 3), (1, 5)])
def test_unary(name, shape, rng):
    check(UNARY[name], _input(name, rng, shape))


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("view", ["T", "stride"])
def test_unary_noncontiguous(name, view, rng):
    check(UNARY[name], _input(name, rng, (4, 3, 2)), view=view)


BINARY = {
    "add": lambda m, x, y: m.add(x, y),
    "add_alpha": lambda m, x, y: m.add(x, y, alpha=2.5),
    "sub": lambda m, x, y: m.sub(x, y),
    "sub_alpha": lambda m, x, y: x.sub(y, alpha=-1.5),
    "mul": lambda m, x, y: m.mul(x, y),
    "div": lambda m, x, y: m.div(x, y),
    "pow": lambda m, x, y: m.pow(x.abs() + 0.5, y),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "minimum": lambda m, x, y: m.minimum(x, y),
    "max_binary": lambda m, x, y: m.max(x, y),
    "min_binary": lambda m, x, y: m.min(x, y),
    "remainder": lambda m, x, y: m.remainder(x, y),
    "fmod": lambda m, x, y: m.fmod(x, y),
    "where": lambda m, x, y: m.where(x > y, x, y * 2),
    "ops": lambda m, x, y: (x + y) * (x - y) / (y * y + 1) - x**2 + (-y),
    "floor_divide": lambda m, x, y: m.floor_divide(x, y),
    "floordiv_op": lambda m, x, y: x // y,
    "mod_op": lambda m, x, y: x % y,
    "div_floor": lambda m, x, y: m.div(x, y, rounding_mode="floor"),
    "div_trunc": lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
def test_binary_broadcast(name, shapes, rng):
    a, b = rand(rng, *shapes[0]), rand(rng, *shapes[1])
    if name in ("div", "remainder", "fmod", "floor_divide", "floordiv_op", "mod_op", "div_floor", "div_trunc"):
        b = np.where(np.abs(b) < 0.3, 0.7, b)
    no_grad = name in ("floor_divide", "floordiv_op", "div_floor")  # PyTorch: not differentiable
    check(BINARY[name], a, b, requires_grad=False if no_grad else None)


@pytest.mark.parametrize("name", ["add", "mul", "div", "maximum", "where", "pow", "ops"])
@pytest.mark.parametrize("view", ["T", "stride"])
def test_binary_noncontiguous(name, view, rng):
    check(BINARY[name], rand(rng, 4, 3), rand(rng, 4, 3) + 3.0, view=view)


SCALARS = [2, -3, 0.5, 2.0, True]
SCALAR_OPS = {
    "add": lambda x, s: x + s,
    "radd": lambda x, s: s + x,
    "sub": lambda x, s: x - s,
    "rsub": lambda x, s: s - x,
    "mul": lambda x, s: x * s,
    "rmul": lambda x, s: s * x,
    "div": lambda x, s: x / s,
    "rdiv": lambda x, s: s / x,
    "pow": lambda x, s: x ** s,
    "rpow": lambda x, s: abs(s) ** x,
    "floordiv": lambda x, s: x // s,
    "rfloordiv": lambda x, s: s // x,
    "mod": lambda x, s: x % s,
    "rmod": lambda x, s: s % x,
}


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
@pytest.mark.parametrize("s", SCALARS, ids=repr)
def test_scalar_operands(name, s, rng):
    x = np.abs(rand(rng, 3, 4)) + 0.5
    if isinstance(s, bool) and name in ("sub", "rsub"):
        with pytest.raises(RuntimeError):
            SCALAR_OPS[name](sj.tensor(x), s)
        return
    no_grad = name in ("floordiv", "rfloordiv", "rmod")  # PyTorch has no derivative for these
    check(lambda m, x: SCALAR_OPS[name](x, s), x, requires_grad=False if no_grad else None)


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
@pytest.mark.parametrize("s", [2, -3, 0.5, True], ids=repr)
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.uint8, np.bool_])
def test_scalar_operands_integer_tensors(name, s, dt, rng):
    """int tensor ⊕ Python scalar: PyTorch's dtypes and values (int ⊕ float scalar → float32)."""
    x = rng.integers(1, 5, (3, 4)).astype(dt)
    f = SCALAR_OPS[name]
    try:
        expected = f(torch.tensor(x), s)
    except RuntimeError:
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            f(sj.tensor(x), s)
        return
    assert_same(f(sj.tensor(x), s), expected, rtol=1e-6, atol=1e-6, what=name)


def test_int_tensor_with_float_scalar_is_float32():
    x = sj.tensor([1, 2, 3])
    assert (x + 1.5).dtype == sj.float32
    assert (x * 2).dtype == sj.int64
    assert (x / 2).dtype == sj.float32
    assert (x / sj.tensor([2, 2, 2])).dtype == sj.float32
    assert (x.to(sj.int32) + 1).dtype == sj.int32
    assert sj.tensor([True, False]).add(1).dtype == sj.int64
    assert (sj.tensor([1.0], dtype=sj.float64) + 1.5).dtype == sj.float64


SIGN_CASES = [(7, 3), (-7, 3), (7, -3), (-7, -3), (6, 3), (0, 3), (-6, 3)]


@pytest.mark.parametrize("dt", [np.int64, np.float64])
def test_floor_divide_remainder_fmod_signs(dt):
    a = np.array([p[0] for p in SIGN_CASES], dtype=dt)
    b = np.array([p[1] for p in SIGN_CASES], dtype=dt)
    for name in ("floor_divide", "remainder", "fmod"):
        check(lambda m, x, y, name=name: getattr(m, name)(x, y), a, b, grad=False)
    check(lambda m, x, y: (x // y, x % y, m.div(x, y, rounding_mode="trunc")), a, b, grad=False)
    check(lambda m, x: (x % 3, x % -3, m.fmod(x, -3), m.fmod(x, 3), x // -3, -7 % x), a[a != 0], grad=False)


def test_remainder_fmod_gradients(rng):
    a, b = rand(rng, 5, 4) * 4, rand(rng, 4)
    b = np.where(np.abs(b) < 0.3, 0.7, b)
    check(lambda m, x, y: (m.remainder(x, y), m.fmod(x, y), m.fmod(x, 1.5), x % -0.7), a, b)


def test_clamp_gradient_at_boundaries():
    x = np.array([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5, 3.0])
    check(lambda m, x: m.clamp(x, -1.0, 1.0), x)
    check(lambda m, x: x.clamp(min=-1.0), x)
    check(lambda m, x: x.clamp(max=1.0), x)
    check(lambda m, x: m.clamp(x, 1.0, -1.0), x)  # min > max: everything becomes max


def test_clamp_tensor_bounds(rng):
    x, lo, hi = rand(rng, 3, 4), rand(rng, 4) - 1, rand(rng, 3, 1) + 1
    check(lambda m, x, lo, hi: m.clamp(x, lo, hi), x, lo, hi)
    check(lambda m, x, lo: m.clamp(x, min=lo), x, lo)


def test_clamp_integer():
    x = np.array([-3, -1, 0, 2, 5])
    check(lambda m, x: (m.clamp(x, -1, 2), m.clamp(x, min=0), x.clamp(max=1)), x, grad=False)
    check(lambda m, x: m.clamp(x, min=0.5), x, grad=False)


def test_relu_sign_abs_at_zero():
    x = np.array([-1.0, 0.0, 0.0, 2.0])
    check(lambda m, x: (m.relu(x), m.abs(x), m.sign(x)), x)


def test_maximum_minimum_ties():
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 1.0, 3.0, 0.0])
    check(lambda m, x, y: (m.maximum(x, y), m.minimum(x, y)), a, b)


def test_pow_cases(rng):
    x = rand(rng, 3, 4)
    check(lambda m, x: (x**2, x**3, x**0, x**1, x**-1.0, m.pow(x, 2.0)), x)
    check(lambda m, x: (x.abs() ** 0.5, 2.0**x, m.pow(x.abs(), 1.5)), x)
    z = np.array([0.0, 1.0, 2.0, -1.5])
    check(lambda m, x: (x**2, x**0, x**1), z)
    e = np.array([0.0, 1.0, 2.0, 0.5])
    check(lambda m, x, y: m.pow(x, y), np.array([0.0, 0.0, 2.0, 3.0]), e)
    check(lambda m, x: x.pow(2), np.array([1, 2, 3]), grad=False)


def test_integer_pow_negative_raises():
    with pytest.raises(RuntimeError):
        sj.tensor([1, 2]) ** sj.tensor([-1, 2])


def test_where_variants(rng):
    x, y = rand(rng, 3, 4), rand(rng, 4)
    c = rng.random((3, 1)) > 0.5
    check(lambda m, c, x, y: m.where(c, x, y), c, x, y)
    check(lambda m, x: m.where(x > 0, x, 0.0), x)
    check(lambda m, x: m.where(x > 0, 1.0, x), x)
    check(lambda m, x: x.where(x > 0, -x), x)
    check(lambda m, x: m.where(x > 0), x, grad=False)


@pytest.mark.parametrize("dt", [np.float64, np.int64, np.bool_, np.float32])
def test_comparisons(dt, rng):
    a = rng.integers(-2, 3, (3, 4)).astype(dt)
    b = rng.integers(-2, 3, (4,)).astype(dt)
    cmp = ("eq", "ne", "lt", "le", "gt", "ge")
    check(lambda m, x, y: tuple(getattr(m, c)(x, y) for c in cmp), a, b, grad=False)
    check(lambda m, x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y), a, b, grad=False)
    check(lambda m, x: (x == 1, x < 0.5, 0 < x, x >= True, x != 2.5), a, grad=False)
    check(lambda m, x, y: (m.logical_and(x, y), m.logical_or(x, y), m.logical_xor(x, y), m.logical_not(x)), a, b, grad=False)


def test_comparisons_on_grad_tensors_have_no_grad(rng):
    x = sj.tensor(rand(rng, 3), requires_grad=True)
    assert not (x > 0).requires_grad and (x > 0).dtype == sj.bool


def test_bitwise_ops(rng):
    a, b = rng.integers(0, 8, (3, 4)), rng.integers(0, 8, (4,))
    check(lambda m, x, y: (x & y, x | y, x ^ y, ~x), a, b, grad=False)
    p, q = rng.random((3, 4)) > 0.5, rng.random(4) > 0.5
    check(lambda m, x, y: (x & y, x | y, x ^ y, ~x), p, q, grad=False)
    named = lambda m, x, y: (x.bitwise_and(y), x.bitwise_or(y), x.bitwise_xor(y), x.bitwise_not(), m.bitwise_xor(x, y))  # noqa: E731
    check(named, a, b, grad=False)
    check(named, p, q, grad=False)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "erf", "reciprocal", "rsqrt", "log1p"])
def test_unary_on_integers_gives_default_float(name):
    x = np.array([1, 2, 3])
    check(UNARY[name], x, grad=False, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["abs", "neg", "sign", "square", "relu", "floor", "ceil", "round", "trunc"])
def test_unary_on_integers_keeps_dtype(name):
    check(UNARY[name], np.array([-2, 0, 3]), grad=False)


def test_float32_stays_float32(rng):
    x = rand(rng, 3, 4).astype(np.float32)
    check(lambda m, x: (x.exp() * 2.5 + 1, m.sigmoid(x), x / 3, x.sum(), x @ x.T), x, rtol=1e-5, atol=1e-5)


def test_mixed_float_dtypes_promote(rng):
    a, b = rand(rng, 3).astype(np.float32), rand(rng, 3)
    check(lambda m, x, y: (x + y, x * y, m.maximum(x, y), m.where(x > 0, x, y)), a, b, rtol=1e-6, atol=1e-6)


def test_erf_values(rng):
    check(lambda m, x: m.erf(x), rand(rng, 50) * 3)


def test_isnan_isinf_isfinite_isclose():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    check(lambda m, x: (m.isnan(x), m.isinf(x), m.isfinite(x)), x, grad=False)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0 + 1e-9, 2.1, 3.0])
    check(lambda m, x, y: m.isclose(x, y), a, b, grad=False)
    assert sj.allclose(sj.tensor(a), sj.tensor(a + 1e-12))
    assert sj.equal(sj.tensor(a), sj.tensor(a)) and not sj.equal(sj.tensor(a), sj.tensor(b))


def test_casts_and_gradients(rng):
    x = rand(rng, 3, 4)
    check(lambda m, x: (x.float(), x.to(m.float32) * 2), x, rtol=1e-6, atol=1e-6)
    check(lambda m, x: (x.long(), x.int(), x.bool(), x.to(m.int64)), x * 3, grad=False)
    check(lambda m, x: (x.double(), x.float().double() + x), x, rtol=1e-6, atol=1e-6)


def test_broadcast_to_and_expand(rng):
    x = rand(rng, 3, 1)
    check(lambda m, x: (x.expand(2, 3, 4), x.expand(-1, 5), m.broadcast_to(x, (2, 3, 2)), x.expand_as(m.zeros(3, 6, dtype=m.float64))), x)


INPLACE = ["abs_", "neg_", "exp_", "sqrt_", "log_", "sigmoid_", "tanh_", "relu_", "sign_", "floor_", "ceil_", "round_", "trunc_",
           "square_", "reciprocal_", "sin_", "cos_", "tan_", "atan_", "rsqrt_", "log1p_", "expm1_", "log2_", "erf_"]


@pytest.mark.parametrize("name", INPLACE)
def test_unary_inplace_on_nonleaf(name, rng):
    """y = x·1; y.op_() records the op: values and gradients as PyTorch, and y is returned."""
    x = np.abs(rand(rng, 3, 4)) * 0.8 + 0.2

    def f(m, x):
        y = x * 1.0
        r = getattr(y, name)()
        assert r is y
        return y * 2

    check(f, x)


BINARY_INPLACE = {
    "add_": lambda x, y: x.add_(y, alpha=2),
    "sub_": lambda x, y: x.sub_(y),
    "mul_": lambda x, y: x.mul_(y),
    "div_": lambda x, y: x.div_(y),
    "pow_": lambda x, y: x.pow_(y),
    "remainder_": lambda x, y: x.remainder_(y),
    "fmod_": lambda x, y: x.fmod_(y),
    "clamp_": lambda x, y: x.clamp_(min=0.5, max=1.2),
    "copy_": lambda x, y: x.copy_(y),
    "masked_fill_": lambda x, y: x.masked_fill_(y > 1.0, 0.5),
    "iadd": lambda x, y: x.__iadd__(y),
    "imul": lambda x, y: x.__imul__(y),
    "isub": lambda x, y: x.__isub__(y),
    "itruediv": lambda x, y: x.__itruediv__(y),
    "setitem": lambda x, y: x.__setitem__((slice(None), 0), y[:, 0]) or x,
}


@pytest.mark.parametrize("name", sorted(BINARY_INPLACE))
def test_binary_inplace_on_nonleaf(name, rng):
    a, b = np.abs(rand(rng, 3, 4)) + 0.5, np.abs(rand(rng, 4)) + 0.5

    def f(m, x, y):
        z = x * 1.0
        r = BINARY_INPLACE[name](z, y * 1.0 if name != "setitem" else y.expand(3, 4))
        assert r is z
        return z * z

    check(f, a, b)


def test_inplace_under_no_grad_on_leaf(rng):
    w = rand(rng, 3, 4)
    ws, wt = sj.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    for t, m in ((ws, sj), (wt, torch)):
        with m.no_grad():
            t.mul_(0.5).add_(1.0).clamp_(min=0.9)
            t[0] = 0.0
            t.sub_(t * 0.1)
            t -= 0.25
    assert_same(ws.detach(), wt.detach())
    assert ws.is_leaf and ws.requires_grad and ws.grad_fn is None
