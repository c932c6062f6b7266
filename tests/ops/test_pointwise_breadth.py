"""The pointwise ops of the API-breadth family against PyTorch in float64: atan2 hypot logaddexp xlogy copysign lerp
frac sinc nan_to_num and the bit shifts — values, dtypes, gradients (and gradcheck), broadcasting, zero-size, 0-d,
non-contiguous inputs, integer promotion, in-place forms."""

import numpy as np
import pytest
import torch
from torch_compare import assert_same, check, rand

import shenjing as sj
from shenjing.autograd import gradcheck

BINARY = {
    "atan2": lambda m, x, y: m.atan2(x, y),
    "arctan2": lambda m, x, y: x.arctan2(y),
    "hypot": lambda m, x, y: m.hypot(x, y),
    "logaddexp": lambda m, x, y: m.logaddexp(x * 30, y),
    "xlogy": lambda m, x, y: m.xlogy(x, y.abs() + 0.1),
    "copysign": lambda m, x, y: m.copysign(x, y),
    "lerp_scalar": lambda m, x, y: m.lerp(x, y, 0.3),
    "lerp_tensor": lambda m, x, y: x.lerp(y, y.sigmoid()),
}
SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (3,)), ((2, 3), ()), ((0, 3), (3,))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary(name, shapes, rng):
    a, b = rand(rng, *shapes[0]), rand(rng, *shapes[1])
    check(BINARY[name], a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("view", ["T", "stride"])
def test_binary_noncontiguous(name, view, rng):
    check(BINARY[name], rand(rng, 4, 3), rand(rng, 4, 3), view=view)


UNARY = {
    "frac": lambda m, x: m.frac(x * 3),
    "sinc": lambda m, x: m.sinc(x * 2),
    "nan_to_num": lambda m, x: m.nan_to_num(x * 2),
    "nan_to_num_args": lambda m, x: x.nan_to_num(nan=1.5, posinf=9.0, neginf=-7.0),
}


def _input(rng, shape):
    """Normal values with NaN, +∞ and −∞ in some places."""
    x = rand(rng, *shape)
    x.flat[::3] = np.array([np.nan, np.inf, -np.inf])[np.arange(x.size)[::3] % 3] if x.size else x.flat[::3]
    return x


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(3, 4), (), (2, 0, 3)])
def test_unary(name, shape, rng):
    check(UNARY[name], _input(rng, shape))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_noncontiguous(name, rng):
    check(UNARY[name], _input(rng, (4, 3, 2)), view="T")
    check(UNARY[name], _input(rng, (4, 3, 2)), view="stride")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the gradients' plain arithmetic on ±∞/NaN (mul, div, cos) still warns
def test_special_points():
    """sinc and its derivative at 0, xlogy at x = 0 (also with y = 0 or NaN), copysign of ±0, nan_to_num's defaults."""
    x = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan])
    y = np.array([0.0, 0.0, 0.0, -0.0, 1.0, np.nan, 2.0])
    for fn in (lambda m, a, b: m.xlogy(a, b), lambda m, a, b: m.copysign(a, b), lambda m, a, b: m.sinc(a),
               lambda m, a, b: m.nan_to_num(a), lambda m, a, b: m.atan2(a, b), lambda m, a, b: m.logaddexp(a, b)):
        check(fn, x.copy(), y.copy())
    for dt in (torch.float32, torch.float16):
        t = torch.tensor([np.nan, np.inf, -np.inf], dtype=dt)
        assert_same(sj.tensor(t.numpy()).nan_to_num(), torch.nan_to_num(t))


def test_gradcheck(rng):
    a = sj.tensor(rand(rng, 3, 4), requires_grad=True)
    b = sj.tensor(np.abs(rand(rng, 3, 4)) + 0.5, requires_grad=True)
    assert gradcheck(lambda a, b: sj.atan2(a, b) + sj.hypot(a, b) + sj.logaddexp(a, b) + sj.xlogy(a, b), (a, b))
    assert gradcheck(lambda a, b: sj.lerp(a, b, b) + sj.copysign(a, b - 1) + sj.sinc(a) + sj.frac(a * 2), (a, b))
    assert gradcheck(lambda a: sj.sinc(a * 0), (a,))


@pytest.mark.parametrize("name", ["atan2", "xlogy", "copysign", "sinc", "nan_to_num"])
def test_integer_inputs(name):
    a, b = np.array([[3, 0, -2], [1, 4, 0]]), np.array([2, 1, 5])
    fn = (lambda m, x, y: getattr(m, name)(x)) if name in ("sinc", "nan_to_num") else (lambda m, x, y: getattr(m, name)(x, y))
    check(fn, a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "frac", "lerp"])
def test_integer_inputs_refused(name):
    a = sj.tensor([1, 2, 3])
    args = {"frac": (a,), "lerp": (a, a, 0.5)}.get(name, (a, a))
    with pytest.raises(RuntimeError, match=name):
        getattr(sj, name)(*args)


def test_scalar_operands(rng):
    x = rand(rng, 3)
    check(lambda m, a: m.xlogy(2, a.abs()) + m.xlogy(a, 3.0) + m.copysign(a, -1.0), x)


def test_shifts(rng):
    a, b = rng.integers(-50, 50, (3, 4)), rng.integers(0, 5, (4,))
    for dt in (np.int64, np.int32, np.uint8, np.int8):
        x, y = a.astype(dt), b.astype(dt)
        check(lambda m, p, q: (m.bitwise_left_shift(p, q), p.bitwise_right_shift(q), p << q, p >> q, p << 2, p >> 1), x, y)


@pytest.mark.parametrize("name", ["atan2_", "arctan2_", "hypot_", "xlogy_", "copysign_", "lerp_", "frac_", "sinc_", "nan_to_num_"])
def test_inplace(name, rng):
    """The in-place forms on a non-leaf: the other operand (and lerp's weight) get their gradients too."""
    def fn(m, a, b):
        x = a * 1.5
        args = {"frac_": (), "sinc_": (), "nan_to_num_": (), "lerp_": (b, 0.25), "xlogy_": (b.abs() + 0.1,)}.get(name, (b,))
        return getattr(x, name)(*args)

    check(fn, rand(rng, 3, 4), rand(rng, 4))
