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


@pytest.mark.parametrize("name", ["maximum", "minimum", "relu", "clamp", "hardtanh", "relu6"])
def test_infinite_upstream_gradient_stays_zero_where_blocked(name):
    """out·∞ sends ±∞ back into the op; where the op passes no gradient it stays 0 (not ∞·0 = NaN), as PyTorch."""
    a, b = np.meshgrid(BINARY_EDGES, BINARY_EDGES, indexing="ij")
    if name in ("maximum", "minimum"):
        check(lambda m, x, y: getattr(m, name)(x, y) * INF, a.ravel().copy(), b.ravel().copy())
    else:
        fn = (lambda m, x: x.clamp(-1.0, 1.0)) if name == "clamp" else _fn(name)
        check(lambda m, x: fn(m, x) * INF, np.tile(ACT_EDGES, 8))


def _fn(name, **kw):
    return lambda m, *xs: getattr(m.nn.functional, name)(*xs, **kw)


# every activation of shenjing.nn.functional that PyTorch has, one row each, at zero, kinks, thresholds, ±∞, NaN,
# exp's overflow (±800) and beyond
ACT_EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 3.0, -3.0, 6.0, 20.0, 21.0, INF, -INF, NAN, 800.0, -800.0, 1e4, -1e4,
                      1e300, -1e300])
ACTIVATIONS = {
    "relu": _fn("relu"), "relu6": _fn("relu6"), "leaky_relu": _fn("leaky_relu", negative_slope=0.2), "elu": _fn("elu"),
    "elu_half": _fn("elu", alpha=0.5), "selu": _fn("selu"), "celu": _fn("celu", alpha=1.5), "gelu": _fn("gelu"),
    "gelu_tanh": _fn("gelu", approximate="tanh"), "silu": _fn("silu"), "mish": _fn("mish"), "softplus": _fn("softplus"),
    "softplus_beta": _fn("softplus", beta=2.0, threshold=3.0), "softsign": _fn("softsign"), "hardtanh": _fn("hardtanh"),
    "hardtanh_2": _fn("hardtanh", min_val=-2.0, max_val=0.5), "hardsigmoid": _fn("hardsigmoid"), "hardswish": _fn("hardswish"),
    "tanhshrink": _fn("tanhshrink"), "softshrink": _fn("softshrink"), "softshrink_0": _fn("softshrink", lambd=0.0),
    "hardshrink": _fn("hardshrink"), "hardshrink_3": _fn("hardshrink", lambd=3.0), "logsigmoid": _fn("logsigmoid"),
    "sigmoid": _fn("sigmoid"), "tanh": _fn("tanh"),
}
# PyTorch's hardsigmoid backward multiplies by the float32 constant 1.0f/6.0f even in float64 (relative error 3e-8)
ACT_TOL = {"hardsigmoid": {"rtol": 1e-7}}
ROWS = np.array([[0.0, 0.0, 0.0], [INF, 1.0, 0.0], [INF, INF, 0.0], [-INF, 1.0, 2.0], [-INF, -INF, -INF], [NAN, 1.0, 0.0],
                 [800.0, -800.0, 0.0], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [INF, -INF, NAN], [1e300, -1e300, 1.0]])
SOFTMAXES = {
    "softmax": lambda m, x: m.nn.functional.softmax(x, dim=1), "log_softmax": lambda m, x: m.nn.functional.log_softmax(x, dim=1),
    "softmin": lambda m, x: m.nn.functional.softmin(x, dim=1), "softmax_dim0": lambda m, x: m.nn.functional.softmax(x, dim=0),
    "softmax_T": lambda m, x: m.nn.functional.softmax(x, dim=1, temperature=0.5) if m is sj
    else m.nn.functional.softmax(x / 0.5, dim=1),
    "log_softmax_T": lambda m, x: m.nn.functional.log_softmax(x, dim=1, temperature=4.0) if m is sj
    else m.nn.functional.log_softmax(x / 4.0, dim=1),
}


def _blocks(*arrays):
    """Each value 8 times: PyTorch's vectorised CPU loop (blocks of 8 float64) then takes every value. Its scalar
    tail, the last n mod 8 elements, is a deliberate difference: there NaN passes the gradient of elu, selu, celu,
    hardswish, hardtanh, relu6, softshrink and hardshrink (1, where the vectorised loop gives NaN or 0)."""
    return [np.repeat(a, 8) for a in arrays]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_edges(name):
    check(ACTIVATIONS[name], *_blocks(ACT_EDGES), **ACT_TOL.get(name, {}))


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
def test_softmax_rows_with_infinities_and_nan(name):
    check(SOFTMAXES[name], ROWS.copy())


# the losses on every pair (input, target) of edge values, elementwise (reduction='none'), both gradients
LOSS_EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 3.0, INF, -INF, NAN, 800.0, -800.0, 1e4, -1e4])
LOSSES = {
    "mse": _fn("mse_loss", reduction="none"), "l1": _fn("l1_loss", reduction="none"),
    "smooth_l1": _fn("smooth_l1_loss", reduction="none"), "smooth_l1_half": _fn("smooth_l1_loss", reduction="none", beta=0.5),
    "smooth_l1_0": _fn("smooth_l1_loss", reduction="none", beta=0.0), "huber": _fn("huber_loss", reduction="none"),
    "huber_2": _fn("huber_loss", reduction="none", delta=2.0),
    "bce_with_logits": _fn("binary_cross_entropy_with_logits", reduction="none"),
    "kl_div": _fn("kl_div", reduction="none"), "kl_div_log_target": _fn("kl_div", reduction="none", log_target=True),
    "poisson_nll": _fn("poisson_nll_loss", reduction="none"), "poisson_nll_full": _fn("poisson_nll_loss", reduction="none", full=True),
    "poisson_nll_probs": _fn("poisson_nll_loss", reduction="none", log_input=False),
    "poisson_nll_probs_full": _fn("poisson_nll_loss", reduction="none", log_input=False, full=True),
    "gaussian_nll": lambda m, x, y: m.nn.functional.gaussian_nll_loss(x, y, m.ones_like(x) * 0.5, reduction="none"),
}


def _grid(edges):
    a, b = np.meshgrid(edges, edges, indexing="ij")
    return _blocks(a.ravel(), b.ravel())


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_edges(name):
    check(LOSSES[name], *_grid(LOSS_EDGES))


def test_bce_with_logits_pos_weight_edges():
    """With ``pos_weight``, a target of ±∞ is a deliberate difference: PyTorch's fused backward
    (p_w y + 1 − y)σ(x) − p_w y gives NaN there (∞ − ∞), our composite (1 − y) − ((p_w − 1)y + 1)σ(−x) ±∞."""
    x, y = _grid(LOSS_EDGES)
    def bce(m, a, b):
        return m.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none", pos_weight=m.tensor([2.0], dtype=m.float64))

    finite = ~np.isinf(y)
    check(bce, x[finite], y[finite])
    grads = []
    for m in (sj, torch):
        a = m.tensor(x[~finite], dtype=m.float64, requires_grad=True)
        bce(m, a, m.tensor(y[~finite], dtype=m.float64)).sum().backward()
        grads.append(a.grad.numpy())
    a, b = x[~finite], y[~finite]
    with np.errstate(all="ignore"):
        composite = (1 - b) - (b + 1) / (1 + np.exp(a))
    assert np.isnan(grads[1]).all() and np.isinf(grads[0]).any()
    np.testing.assert_array_equal(grads[0], composite)


PROBS = np.array([0.0, 1.0, 0.5, 1e-300, 1.0 - 2.0**-53])


def test_bce_edges():
    """Probabilities at 0 and 1 (PyTorch's log clamp at −100), and NaN refused on either side as PyTorch."""
    check(_fn("binary_cross_entropy", reduction="none"), *_grid(PROBS))
    for m in (sj, torch):
        for x, y, bad in ((NAN, 0.5, "input"), (0.5, NAN, "target"), (0.5, 1.5, "target"), (-0.5, 0.5, "input")):
            with pytest.raises(RuntimeError, match=f"all elements of {bad} should be between 0 and 1"):
                m.nn.functional.binary_cross_entropy(m.tensor([x], dtype=m.float64), m.tensor([y], dtype=m.float64))


VARIANCES = np.array([0.0, 1e-9, 1.0, INF, NAN, 1e4, 1e300])


@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_variance_edges(full):
    """Every (input, variance) pair; the variance clamped to ≥ eps with its gradient passing (as PyTorch)."""
    x, v = _grid(np.concatenate([LOSS_EDGES, VARIANCES]))
    keep = ~(v < 0)
    check(lambda m, a, b, c: m.nn.functional.gaussian_nll_loss(a, b, c, full=full, reduction="none"),
          x[keep], np.full(keep.sum(), 0.5), v[keep])


TARGETS = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1])
CLASSIFICATION = {  # name: (function, keyword arguments; a list becomes a float64 tensor)
    "cross_entropy": ("cross_entropy", {}), "cross_entropy_smooth": ("cross_entropy", {"label_smoothing": 0.1}),
    "cross_entropy_weight": ("cross_entropy", {"weight": [1.0, 2.0, 0.5]}), "nll_loss": ("nll_loss", {}),
    "nll_loss_weight": ("nll_loss", {"weight": [1.0, 2.0, 0.5]}),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
def test_classification_rows_with_infinities_and_nan(name, reduction):
    """Logit rows with −∞ (a class ruled out), +∞, NaN and overflow, one row at a time and all together."""
    fn, kw = CLASSIFICATION[name]

    def loss(m, x, t):
        args = {k: m.tensor(v, dtype=m.float64) if isinstance(v, list) else v for k, v in kw.items()}
        return getattr(m.nn.functional, fn)(x, m.tensor(t), reduction=reduction, **args)

    for i in range(len(ROWS)):
        check(lambda m, x, i=i: loss(m, x, TARGETS[i:i + 1]), ROWS[i:i + 1].copy())
    check(lambda m, x: loss(m, x, TARGETS), ROWS.copy())


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_cross_entropy_probability_targets_with_infinities_and_nan(reduction):
    for i in range(len(ROWS)):
        check(lambda m, x, q: m.nn.functional.cross_entropy(x, q, reduction=reduction), ROWS[i:i + 1].copy(),
              np.array([[0.2, 0.3, 0.5]]))


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
