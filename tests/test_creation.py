"""Tensor creation and seeding: dtype inference, shapes and dtypes like PyTorch, reproducible RNG."""

import copy
import json
import math
import pickle

import numpy as np
import pytest
import torch
from torch_compare import assert_same, np_dtype

import shenjing as sj

DATA = [
    [1, 2, 3],
    [1.0, 2, 3],
    [True, False],
    [True, 1],
    [[1, 2], [3, 4]],
    [],
    [[]],
    3,
    3.5,
    True,
    [np.float32(1.0), 2.0],
    [np.int32(1), np.int16(2)],
    [np.int32(1), 2],
    np.float64(2.0),
    np.array([1, 2], dtype=np.int32),
    np.array([[1.0, 2.0]]),
    np.array(True),
    (1, 2.5),
]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_dtype_inference(data):
    s, t = sj.tensor(data), torch.tensor(data)
    assert_same(s, t, what=repr(data))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool", "uint8", "float16"])
def test_tensor_explicit_dtype(dtype):
    s = sj.tensor([0, 1.7, -2], dtype=getattr(sj, dtype)) if dtype != "uint8" else sj.tensor([0, 1, 2], dtype=sj.uint8)
    t = torch.tensor([0, 1.7, -2], dtype=getattr(torch, dtype)) if dtype != "uint8" else torch.tensor([0, 1, 2], dtype=torch.uint8)
    assert_same(s, t, rtol=1e-3, atol=1e-3)


def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0])
    s = sj.tensor(a)
    a[0] = 5.0
    assert s[0].item() == 1.0
    f = sj.from_numpy(a)
    a[1] = 7.0
    assert f[1].item() == 7.0 and f.dtype == sj.float64
    assert sj.as_tensor(a).dtype == sj.float64
    t = sj.tensor([1.0, 2.0], requires_grad=True)
    assert sj.tensor(t).requires_grad is False
    with pytest.raises(RuntimeError):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), [1.0, 2.0])


def test_tensor_attributes():
    x = sj.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x[1, 2].item() == 6.0 and isinstance(x[1, 2].item(), float)
    assert isinstance(sj.tensor(3).item(), int) and isinstance(sj.tensor(True).item(), bool)
    assert x.T.shape == (3, 2) and x.T.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert x.is_leaf and not x.requires_grad and x.grad is None
    assert x.requires_grad_().requires_grad
    assert float(sj.tensor(2.5)) == 2.5 and int(sj.tensor(3)) == 3
    with pytest.raises((RuntimeError, ValueError)):
        x.item()
    assert isinstance(x.shape, tuple) and x.shape.numel() == 6


SHAPES = [(), (0,), (3,), (2, 3), (2, 0, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_constructors(name, shape):
    for args in ((shape,), shape) if shape else ((shape,),):
        s = getattr(sj, name)(*args)
        t = getattr(torch, name)(*args)
        assert tuple(s.shape) == tuple(t.shape) and s.dtype == np_dtype(t)
    s64 = getattr(sj, name)(shape, dtype=sj.float64, requires_grad=True)
    assert s64.dtype == sj.float64 and s64.requires_grad and s64.is_leaf


@pytest.mark.parametrize("fill", [3, 1.5, True, -2])
def test_full_and_like(fill):
    assert_same(sj.full((2, 3), fill), torch.full((2, 3), fill))
    assert_same(sj.full((2,), fill, dtype=sj.float64), torch.full((2,), fill, dtype=torch.float64))
    base_s, base_t = sj.zeros(2, 3, dtype=sj.int32), torch.zeros(2, 3, dtype=torch.int32)
    for name in ("zeros_like", "ones_like"):
        assert_same(getattr(sj, name)(base_s), getattr(torch, name)(base_t))
        assert_same(getattr(sj, name)(base_s, dtype=sj.float64), getattr(torch, name)(base_t, dtype=torch.float64))
    assert_same(sj.full_like(base_s, 2.7), torch.full_like(base_t, 2.7))
    assert sj.empty_like(base_s).shape == (2, 3) and sj.rand_like(sj.zeros(2, dtype=sj.float64)).dtype == sj.float64


ARANGE = [(5,), (2, 7), (0, 10, 3), (10, 0, -3), (0, 1, 0.1), (1.0, 4), (-1, 1, 0.5), (2.5,), (0, 0), (5, 2), (0, 1, 0.3),
          (np.int32(5),), (0, np.int64(6), 2), (np.float32(2.0),), (0, 5, 1.0), (True,)]


@pytest.mark.parametrize("args", ARANGE, ids=str)
def test_arange(args):
    if (args[1] - args[0]) * (args[2] if len(args) > 2 else 1) < 0 if len(args) > 1 else False:
        for m in (sj, torch):
            with pytest.raises(RuntimeError):
                m.arange(*args)
        return
    assert_same(sj.arange(*args), torch.arange(*args), rtol=1e-6, atol=1e-6)
    assert_same(sj.arange(*args, dtype=sj.float64), torch.arange(*args, dtype=torch.float64), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 3, 1), (1, 0, 4), (0, 10, 11), (0, 1, 0)], ids=str)
def test_linspace(args):
    assert_same(sj.linspace(*args), torch.linspace(*args), rtol=1e-6, atol=1e-6)
    assert_same(sj.linspace(*args, dtype=sj.float64), torch.linspace(*args, dtype=torch.float64))


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,)], ids=str)
def test_eye(args):
    assert_same(sj.eye(*args), torch.eye(*args))
    assert_same(sj.eye(*args, dtype=sj.int64), torch.eye(*args, dtype=torch.int64))


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(3, 3), (3, 4, -1), (4, 3, 1), (3, 3, -5), (3, 3, 10), (3, 3, -2), (0, 3), (3, 0), (0, 0), (1, 5, 2)],
                         ids=str)
def test_triangle_indices(name, args):
    assert_same(getattr(sj, name)(*args), getattr(torch, name)(*args), what=f"{name}{args}")
    assert_same(getattr(sj, name)(*args, dtype=sj.int32), getattr(torch, name)(*args, dtype=torch.int32))


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_triangle_indices_bad_input(name):
    for args in [(-1, 2), (2, -1)]:
        with pytest.raises(RuntimeError, match=f"{name}: {'row' if args[0] < 0 else 'col'} must be non-negative, got -1"):
            getattr(sj, name)(*args)
    with pytest.raises(NotImplementedError, match=f"{name}: not implemented for dtype float32"):
        getattr(sj, name)(2, 2, dtype=sj.float32)


def test_randint_randperm_shapes_and_ranges():
    x = sj.randint(0, 5, (1000,))
    assert x.dtype == sj.int64 and x.shape == (1000,) and x.min().item() >= 0 and x.max().item() <= 4
    assert sj.randint(3, (2, 2)).shape == (2, 2) and sj.randint(3, (2, 2)).max().item() < 3
    assert sj.randint(-2, 2, (4,), dtype=sj.int32).dtype == sj.int32
    p = sj.randperm(10)
    assert p.dtype == sj.int64 and sorted(p.tolist()) == list(range(10))


def test_random_distributions():
    u = sj.rand(200_000)
    n = sj.randn(200_000, dtype=sj.float64)  # standard errors: mean 1/√n ≈ 0.0022, std 1/√(2n) ≈ 0.0016
    assert 0.0 <= u.min().item() and u.max().item() < 1.0 and abs(u.mean().item() - 0.5) < 0.01
    assert abs(n.mean().item()) < 0.015 and abs(n.std().item() - 1.0) < 0.01


@pytest.mark.parametrize("name", ["rand", "randn", "randint", "randperm", "normal", "bernoulli"])
def test_manual_seed_reproducible(name):
    calls = {
        "rand": lambda **kw: sj.rand(3, 4, **kw),
        "randn": lambda **kw: sj.randn(3, 4, **kw),
        "randint": lambda **kw: sj.randint(0, 100, (5,), **kw),
        "randperm": lambda **kw: sj.randperm(20, **kw),
        "normal": lambda **kw: sj.normal(0.0, 2.0, (4,), **kw),
        "bernoulli": lambda **kw: sj.bernoulli(sj.full((10,), 0.5), **kw),
    }
    f = calls[name]
    sj.manual_seed(123)
    a = f()
    sj.manual_seed(123)
    b = f()
    c = f()
    assert sj.equal(a, b) and not sj.equal(b, c) or name == "bernoulli"
    g1 = sj.Generator().manual_seed(7)
    g2 = sj.Generator().manual_seed(7)
    assert sj.equal(f(generator=g1), f(generator=g2))


def test_generator_state_roundtrip():
    g = sj.Generator()
    g.manual_seed(42)
    assert g.initial_seed() == 42
    sj.randn(5, generator=g)
    state = g.get_state()
    a = sj.randn(5, generator=g)
    g.set_state(state)
    b = sj.randn(5, generator=g)
    assert sj.equal(a, b)
    state2 = json.loads(json.dumps(g.get_state()))  # serialisable for checkpoints
    c = sj.rand(3, generator=g)
    g.set_state(state2)
    assert sj.equal(c, sj.rand(3, generator=g))
    # the global generator
    sj.manual_seed(5)
    st = sj.get_rng_state()
    x = sj.rand(4)
    sj.set_rng_state(st)
    assert sj.equal(x, sj.rand(4))
    assert sj.initial_seed() == 5


def test_generators_are_independent():
    g = sj.Generator().manual_seed(3)
    sj.manual_seed(3)
    a = sj.rand(4, generator=g)
    b = sj.rand(4)
    assert sj.equal(a, b)
    sj.manual_seed(3)
    sj.rand(4, generator=sj.Generator().manual_seed(9))
    assert sj.equal(sj.rand(4), b)


def test_negative_size_raises():
    with pytest.raises(RuntimeError):
        sj.zeros(-1, 2)


def test_copy_pickle_and_repr():
    x = sj.tensor([[1.0, 2.0]], requires_grad=True)
    y = copy.deepcopy(x)
    assert y.requires_grad and sj.equal(x.detach(), y.detach()) and y._data is not x._data
    z = pickle.loads(pickle.dumps(x))
    assert z.requires_grad and z.tolist() == x.tolist()
    assert "tensor(" in repr(x) and "requires_grad=True" in repr(x)
    assert "grad_fn" in repr(x * 2)
    assert "int32" in repr(sj.tensor([1], dtype=sj.int32))


def test_dtype_aliases():
    assert sj.float is sj.float32 and sj.double is sj.float64 and sj.long is sj.int64
    assert sj.tensor([1.0]).double().dtype == sj.float64 and sj.tensor([1.5]).long().dtype == sj.int64
    assert sj.tensor([1]).float().dtype == sj.float32 and sj.tensor([1]).to(sj.float64).dtype == sj.float64
    assert sj.tensor([1.0]).to("cpu").dtype == sj.float32 and sj.is_tensor(sj.tensor(1))
    assert sj.tensor([1.0]).to(sj.tensor([1], dtype=sj.int16)).dtype == sj.int16


CONVERSIONS = {
    "half": lambda m, x: x.half(), "float": lambda m, x: x.float(), "double": lambda m, x: x.double(),
    "long": lambda m, x: x.long(), "int": lambda m, x: x.int(), "short": lambda m, x: x.short(), "char": lambda m, x: x.char(),
    "byte": lambda m, x: (x if x.dtype == m.bool else x.abs()).byte(), "bool": lambda m, x: x.bool(),
    "to(dtype)": lambda m, x: x.to(m.int32), "to(dtype=)": lambda m, x: x.to(dtype=m.float16),
    "to(other)": lambda m, x: x.to(m.tensor([1], dtype=m.int16)), "to('cpu')": lambda m, x: x.to("cpu"),
    "to('cpu', dtype)": lambda m, x: x.to("cpu", m.float64), "to(device=, dtype=)": lambda m, x: x.to(device="cpu", dtype=m.float64),
    "to(dtype, non_blocking)": lambda m, x: x.to(m.float64, non_blocking=True),
    "type(dtype)": lambda m, x: x.type(m.float64), "type('torch.IntTensor')": lambda m, x: x.type("torch.IntTensor"),
    "type('...DoubleTensor')": lambda m, x: x.type(f"{m.__name__}.DoubleTensor"),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_conversions(name, dtype):
    data = [[-1.7, 0.0, 2.5], [3.0, -0.5, 1.0]]
    s, t = sj.tensor(data).to(getattr(sj, dtype)), torch.tensor(data).to(getattr(torch, dtype))
    assert_same(CONVERSIONS[name](sj, s), CONVERSIONS[name](torch, t), rtol=1e-3, atol=1e-3, what=name)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
                                   "complex64", "complex128"])
def test_type_names(dtype):
    """x.type() is the legacy type name, as torch's: 'shenjing.FloatTensor' for 'torch.FloatTensor'; the name converts back."""
    s, t = sj.zeros(2, dtype=getattr(sj, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    assert s.type() == t.type().replace("torch.", "shenjing.")
    assert sj.zeros(1).type(s.type()).dtype == s.dtype == sj.zeros(1).type(t.type()).dtype


def test_to_copy_and_same_dtype_identity():
    x = sj.tensor([1.5], requires_grad=True)
    assert x.to(sj.float32) is x and x.type(sj.float32) is x and x.to("cpu") is x
    for y in (x.to(sj.float32, copy=True), x.to("cpu", sj.float32, False, True), x.to(dtype=sj.float32, copy=True)):
        assert y is not x and not np.shares_memory(y.detach().numpy(), x.detach().numpy()) and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_type_bad_names():
    with pytest.raises(ValueError, match="type: invalid type: 'float64'"):
        sj.zeros(1).type("float64")
    with pytest.raises(RuntimeError, match="cuda"):
        sj.zeros(1).type("torch.cuda.FloatTensor")


def test_new_factories():
    for dt in ("float64", "int32"):
        s, t = sj.zeros(2, dtype=getattr(sj, dt)), torch.zeros(2, dtype=getattr(torch, dt))
        assert_same(s.new_zeros(2, 3), t.new_zeros(2, 3))
        assert_same(s.new_ones((3,)), t.new_ones((3,)))
        assert_same(s.new_full((2, 2), 7), t.new_full((2, 2), 7))
        assert_same(s.new_tensor([1, 2]), t.new_tensor([1, 2]))
        assert_same(s.new_zeros(2, dtype=sj.float32), t.new_zeros(2, dtype=torch.float32))
        assert s.new_empty(4).shape == (4,) and s.new_empty(4).dtype == s.dtype
    assert sj.zeros(2, dtype=sj.float64).new_zeros(3, requires_grad=True).requires_grad


def test_format_and_contains():
    for v in (0.123456, 3, True):
        s, t = sj.tensor(v), torch.tensor(v)
        assert f"{s}" == f"{t}"
        if not isinstance(v, bool):
            assert f"{s:.3f}" == f"{t:.3f}" and f"{s:>10}" == f"{t:>10}"
    assert f"{sj.tensor([1.0, 2.0])}" == repr(sj.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        f"{sj.tensor([1.0, 2.0]):.2f}"
    assert 2 in sj.tensor([1, 2]) and 5 not in sj.tensor([[1, 2], [3, 4]])


OVERFLOWING_FILLS = {
    "full": lambda m: m.full((2,), 1e308, dtype=m.float32),
    "full_half": lambda m: m.full((2,), 1e6, dtype=m.float16),
    "full_like": lambda m: m.full_like(m.zeros(2), -1e300),
    "new_full": lambda m: m.zeros(2).new_full((2,), 1e300),
    "fill_": lambda m: m.zeros(2).fill_(1e300),
    "linspace": lambda m: m.linspace(-1e300, 1e300, 5, dtype=m.float32),
}


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(OVERFLOWING_FILLS))
def test_fill_beyond_the_dtype_raises_as_pytorch(name):
    """A finite fill value beyond the dtype's range is PyTorch's RuntimeError (no NumPy warning); ±inf fits."""
    for m in (sj, torch):
        with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
            OVERFLOWING_FILLS[name](m)
    assert_same(sj.full((2,), -math.inf, dtype=sj.float16), torch.full((2,), -math.inf, dtype=torch.float16))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", [
    lambda m: m.ones(2, dtype=m.float32) * 1e300,
    lambda m: m.ones(2, dtype=m.float16) + 1e6,
    lambda m: m.linspace(-1e308, 1e308, 5, dtype=m.float64),
    lambda m: m.linspace(0.0, 1e308, 4, dtype=m.float64) * 10,
    lambda m: m.logspace(0, 400, 5, dtype=m.float64),
    lambda m: m.logspace(0, 100, 5, dtype=m.float32),
    lambda m: m.arange(0, 1e39, 5e38, dtype=m.float32),
    lambda m: m.tensor([[1e300, -1e300]], dtype=m.float32),
    lambda m: m.tensor([1e6, 1e300], dtype=m.float16),
    lambda m: m.as_tensor([1e300], dtype=m.float32),
], ids=["ones_mul", "half_add", "linspace_range", "linspace_mul", "logspace", "logspace_float32", "arange", "tensor",
        "tensor_half", "as_tensor"])
def test_overflow_to_inf_is_silent(case):
    """Numbers and ranges that overflow become ±inf (and NaN where PyTorch's formula meets ∞·0), without a warning."""
    assert_same(case(sj), case(torch))
