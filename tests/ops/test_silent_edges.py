"""Floating-point edge cases give PyTorch's inf, −inf and NaN silently, forward and backward: with warnings
turned into errors, no NumPy RuntimeWarning (divide, invalid, overflow) reaches the user. Integer division
by zero raises, as PyTorch's RuntimeError 'ZeroDivisionError' does."""

import contextlib
import math

import numpy as np
import pytest
import torch
from torch_compare import assert_same, check

import shenjing as sj
from shenjing.ops.elementwise import IntegerDivisionByZero

pytestmark = pytest.mark.filterwarnings("error")

INF, NAN = math.inf, math.nan
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, INF, -INF, NAN, 1e300, -1e300, 1000.0, -1000.0])

UNARY = {
    name: (lambda n: lambda m, x: getattr(m, n)(x))(name)
    for name in (
        "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan",
        "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "abs", "sign",
        "floor", "trunc", "frac", "sinc", "square",
    )
}
UNARY |= {
    "pow_-1": lambda m, x: x**-1,
    "pow_half": lambda m, x: x**0.5,
    "pow_-half": lambda m, x: x**-0.5,
    "pow_0": lambda m, x: x**0,
    "pow_2": lambda m, x: x**2,
    "rpow": lambda m, x: 2.0**x,
    "div_by_0": lambda m, x: x / 0.0,
    "0_div": lambda m, x: 0.0 / x,
    "div_self": lambda m, x: x / x,
    "sub_self": lambda m, x: x - x,
    "mul_0": lambda m, x: x * 0.0,
    "inf_minus": lambda m, x: INF - x,
    "fmod_0": lambda m, x: m.fmod(x, 0.0),
    "remainder_0": lambda m, x: m.remainder(x, 0.0),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "xlogy_x": lambda m, x: m.xlogy(x, x),
    "xlogy_0": lambda m, x: m.xlogy(x * 0, x),
    "atan2_0": lambda m, x: m.atan2(x, x * 0),
    "hypot_self": lambda m, x: m.hypot(x, x),
    "clamp": lambda m, x: x.clamp(-1.0, 1.0),
    "nan_to_num": lambda m, x: m.nan_to_num(x),
}

REDUCE = {
    "sum": lambda m, x: x.sum(),
    "mean": lambda m, x: x.mean(),
    "prod": lambda m, x: x.prod(),
    "logsumexp": lambda m, x: x.logsumexp(0),
    "softmax": lambda m, x: x.softmax(0),
    "log_softmax": lambda m, x: x.log_softmax(0),
    "norm": lambda m, x: x.norm(),
    "var": lambda m, x: x.var(),
    "std": lambda m, x: x.std(),
    "amax": lambda m, x: x.amax(),
    "cumsum": lambda m, x: x.cumsum(0),
    "cumprod": lambda m, x: x.cumprod(0),
}
VECTORS = {
    "zeros": [0.0, 0.0], "one": [3.0], "infs": [INF, -INF], "inf": [INF, 1.0], "-infs": [-INF, -INF], "nan": [NAN, 1.0],
    "huge": [1e308, 1e308], "big": [1000.0, -1000.0],
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_edges(name):
    """Every edge value at once, forward and gradient, against PyTorch."""
    check(UNARY[name], EDGES.copy())


def test_floor_divide_edges():
    """⌊x/0⌋ and ⌊x/±∞⌋ (no derivative, in PyTorch as here)."""
    check(lambda m, x: (x // 0.0, x // INF, x // -INF, 7.0 // x), EDGES.copy(), grad=False)


@pytest.mark.parametrize("name", sorted(REDUCE))
@pytest.mark.parametrize("vector", sorted(VECTORS))
def test_reduction_edges(name, vector):
    no_dof = name in ("var", "std") and len(VECTORS[vector]) == 1  # PyTorch warns (test below), as here
    with pytest.warns(UserWarning, match="degrees of freedom") if no_dof else contextlib.nullcontext():
        check(REDUCE[name], np.array(VECTORS[vector]), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("name", ["var", "std"])
def test_no_degrees_of_freedom_warns_as_pytorch(name):
    """N ≤ correction: NaN or inf with PyTorch's UserWarning (and no NumPy one)."""
    for m in (sj, torch):
        with pytest.warns(UserWarning, match=rf"^{name}\(\): degrees of freedom is <= 0") as caught:
            out = getattr(m.tensor([[1.0, 2.0]], dtype=m.float64), name)(0)
        assert [w.category for w in caught] == [UserWarning]
        assert m.isnan(out).all()


BINARY_EDGES = np.array([0.0, -0.0, 1.0, -1.0, INF, -INF, NAN])


@pytest.mark.parametrize("name", ["pow", "div", "atan2", "hypot", "logaddexp", "xlogy", "copysign", "maximum", "fmod", "remainder"])
def test_binary_edges(name):
    """Every pair of edge values (a grid), forward and both gradients."""
    a, b = np.meshgrid(BINARY_EDGES, BINARY_EDGES, indexing="ij")
    check(lambda m, x, y: getattr(m, name)(x, y), a.ravel().copy(), b.ravel().copy())


def test_inplace_fast_path():
    """The in-place ops outside a graph (a fast path that skips Function.apply) are quiet too."""
    for m in (sj, torch):
        x = m.tensor([0.0, 1.0, -1.0, INF], dtype=m.float64)
        x /= 0.0
        x += -INF
        x.mul_(0.0).sqrt_().log_()
        assert m.isnan(x).all()


OPTIMIZERS = {
    "SGD": [{}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, {"momentum": 0.5, "dampening": 0.5, "maximize": True}],
    "Adam": [{}, {"amsgrad": True, "weight_decay": 0.1}],
    "AdamW": [{"amsgrad": True}],
    "RMSprop": [{}, {"centered": True, "momentum": 0.9, "weight_decay": 0.1}],
    "Adagrad": [{}, {"weight_decay": 0.1, "lr_decay": 0.1}],
    "Adadelta": [{"weight_decay": 0.1}],
}


@pytest.mark.parametrize("grad", [[INF, 0.0, NAN], [0.0, 0.0, 0.0], [1e300, -1e300, 1e-320]], ids=["inf_nan", "zeros", "huge"])
@pytest.mark.parametrize("name,options", [(n, o) for n, opts in OPTIMIZERS.items() for o in opts], ids=str)
def test_optimizer_steps(name, options, grad):
    """A diverging run's steps: PyTorch's inf and NaN, silently."""
    if options.get("centered") and grad[0] == 1e300:
        pytest.skip("PyTorch's addcmul fuses (FMA): v − ḡ² = inf − 1e298·1e298 is inf there, NaN with two roundings")
    ws = [m.tensor([0.0, 1.0, INF], dtype=m.float64, requires_grad=True) for m in (sj, torch)]
    for m, w in zip((sj, torch), ws):
        opt = getattr(m.optim, name)([w], lr=0.1, **options)
        for _ in range(2):
            w.grad = m.tensor(grad, dtype=m.float64)
            opt.step()
    assert_same(ws[0].detach(), ws[1].detach())


@pytest.mark.parametrize("requires_grad", [False, True])
def test_casts_that_overflow(requires_grad):
    """NaN and ±inf to integers (values left to the platform, as PyTorch), 1e300 to float32 and float16: inf."""
    s = sj.tensor([NAN, INF, -INF, 1.5, 1e300], dtype=sj.float64, requires_grad=requires_grad)
    t = torch.tensor([NAN, INF, -INF, 1.5, 1e300], dtype=torch.float64, requires_grad=requires_grad)
    assert_same(s.long()[3], t.long()[3])
    assert s.int().shape == (5,) and s.bool().tolist() == t.bool().tolist()
    assert_same(s.float(), t.float())
    assert_same(s.half(), t.half())
    assert_same(sj.tensor([1e300, -1e300]), torch.tensor([1e300, -1e300]))


INT_DIVISIONS = {
    "floordiv": lambda m, a, b: a // b,
    "rfloordiv": lambda m, a, b: 7 // b,
    "mod": lambda m, a, b: a % b,
    "rmod": lambda m, a, b: 7 % b,
    "remainder": lambda m, a, b: m.remainder(a, b),
    "fmod": lambda m, a, b: m.fmod(a, b),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "floor_divide_": lambda m, a, b: a.floor_divide_(b),
    "remainder_": lambda m, a, b: a.remainder_(b),
    "fmod_scalar": lambda m, a, b: m.fmod(a, 0),
    "floordiv_scalar": lambda m, a, b: a // 0,
}


@pytest.mark.parametrize("name", sorted(INT_DIVISIONS))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_division_by_zero_raises(name, dtype):
    for m in (sj, torch):
        a, b = m.tensor([5, 6, 7], dtype=getattr(m, dtype)), m.tensor([1, 0, 2], dtype=getattr(m, dtype))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            INT_DIVISIONS[name](m, a, b)
    with pytest.raises(IntegerDivisionByZero, match=r"\(divisor of dtype"):
        INT_DIVISIONS[name](sj, sj.tensor([5, 6, 7]), sj.tensor([1, 0, 2]))
    with pytest.raises(ZeroDivisionError):
        INT_DIVISIONS[name](sj, sj.tensor([5, 6, 7]), sj.tensor([1, 0, 2]))


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([5, -6, 0]) / 0,
    lambda m: m.tensor([5, -6, 0]) / m.tensor([0, 0, 0]),
    lambda m: m.tensor([5, -6, 0]) // 0.0,
    lambda m: m.tensor([5, -6, 0]) % 0.0,
    lambda m: m.fmod(m.tensor([5, -6, 0]), 0.0),
    lambda m: m.tensor([5, -6, 0], dtype=m.int32) // m.tensor([2, -4, 3], dtype=m.int32),
    lambda m: m.tensor([5, -6, 0]) % m.tensor([2, -4, 3]),
    lambda m: m.div(m.tensor([5, -6, 0]), m.tensor([2, 4, 3]), rounding_mode="trunc"),
], ids=["true_div", "true_div_tensor", "floordiv_float", "mod_float", "fmod_float", "floordiv_int32", "mod", "div_trunc"])
def test_integer_divisions_that_do_not_raise(case):
    """True division of integers by zero is ±inf / NaN; a float zero divisor, or no zero, does not raise."""
    assert_same(case(sj), case(torch))


def test_numpy_error_state_is_the_callers_again_after_each_op():
    """Ops are quiet inside only: the caller's NumPy error state holds again after an op, a failing op,
    a backward pass and an optimiser step."""
    x = sj.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="raise"):
        y = x.log() * sj.tensor(1e308) * 10
        with pytest.raises(RuntimeError):
            x + sj.ones(3)
        y.sum().backward()
        sj.optim.Adam([x]).step()
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))
        assert np.geterr()["invalid"] == "raise"
