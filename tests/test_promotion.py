"""Type promotion against torch.result_type: tensors, 0-dim tensors and Python scalars."""

import itertools

import numpy as np
import pytest
import torch
from torch_compare import assert_same, np_dtype

import shenjing as sj

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, -2, 2.5]


def _pair(dt, ndim):
    arr = np.ones((2,) * ndim, dtype=dt) if ndim else np.asarray(1, dtype=dt)
    return sj.tensor(arr), torch.tensor(arr)


@pytest.mark.parametrize("dt1,dt2", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("nd1,nd2", [(1, 1), (0, 1), (1, 0), (0, 0)])
def test_tensor_tensor(dt1, dt2, nd1, nd2):
    s1, t1 = _pair(dt1, nd1)
    s2, t2 = _pair(dt2, nd2)
    expected = np_dtype(torch.empty(0, dtype=torch.result_type(t1, t2)))
    assert sj.result_type(s1, s2) == expected
    for op in ("add", "mul", "maximum"):
        assert getattr(sj, op)(s1, s2).dtype == expected, op
    assert sj.promote_types(sj.tensor(np.zeros(1, dt1)).dtype, sj.tensor(np.zeros(1, dt2)).dtype) == np_dtype(
        torch.empty(0, dtype=torch.promote_types(t1.dtype, t2.dtype)))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("nd", [0, 2])
def test_tensor_scalar(dt, scalar, nd):
    s, t = _pair(dt, nd)
    expected = np_dtype(torch.empty(0, dtype=torch.result_type(t, scalar)))
    assert sj.result_type(s, scalar) == expected
    assert (s * scalar).dtype == expected
    assert (scalar * s).dtype == expected
    if dt != "bool" and not isinstance(scalar, bool):
        assert (s + scalar).dtype == expected
        assert (s - scalar).dtype == expected
        assert sj.where(s > 0, s, scalar).dtype == torch.where(t > 0, t, scalar).numpy().dtype


@pytest.mark.parametrize("dt1,dt2", list(itertools.product(["bool", "uint8", "int32", "int64", "float32", "float64"], repeat=2)))
def test_true_division(dt1, dt2):
    """int tensor / int tensor → default float; float types keep their promotion."""
    s1, t1 = _pair(dt1, 1)
    s2, t2 = _pair(dt2, 1)
    assert (s1 / s2).dtype == np_dtype(t1 / t2)
    assert sj.div(s1, 2).dtype == np_dtype(torch.div(t1, 2))
    assert (3 / s2).dtype == np_dtype(3 / t2)


@pytest.mark.parametrize("dt", ["bool", "uint8", "int32", "int64", "float32", "float64"])
def test_unary_and_reduction_dtypes(dt):
    s, t = _pair(dt, 2)
    for name in ("sum", "prod", "cumsum", "abs", "exp", "sqrt", "sigmoid", "neg", "argmax", "max"):
        fs = getattr(s, name)
        ft = getattr(t, name)
        args = (0,) if name == "cumsum" else ()
        try:
            expected = ft(*args)
        except RuntimeError:
            with pytest.raises((RuntimeError, TypeError)):
                fs(*args)
            continue
        assert fs(*args).dtype == np_dtype(expected), name


@pytest.mark.parametrize("dt1,dt2", list(itertools.product(DTYPES + ["complex64", "complex128"], ["complex64", "complex128"])))
def test_complex_promotion(dt1, dt2):
    """An integer meets a complex type: that type (NumPy would widen int64 + complex64 to complex128)."""
    expected = np_dtype(torch.empty(0, dtype=torch.promote_types(getattr(torch, dt1), getattr(torch, dt2))))
    assert sj.promote_types(getattr(sj, dt1), getattr(sj, dt2)) == expected == sj.promote_types(getattr(sj, dt2), getattr(sj, dt1))
    s1, t1 = _pair(dt1, 1)
    assert dt1 == "float16" or (s1 * 1j).dtype == np_dtype(t1 * 1j)  # torch: float16 · 1j is complex32, which NumPy lacks


BINARY = {
    "int / int": lambda m: m.tensor([3, 4]) / m.tensor([2, 2]),
    "int / 2": lambda m: m.tensor([3, 4]) / 2,
    "int32 / int64 0-d": lambda m: m.tensor([1], dtype=m.int32) / m.tensor(2),
    "int // int": lambda m: m.tensor([3, -4]) // m.tensor([2, 3]),
    "int // 2": lambda m: m.tensor([3, -4]) // 2,
    "int // 2.0": lambda m: m.tensor([3, -4]) // 2.0,
    "int % 2.5": lambda m: m.tensor([3, -4]) % 2.5,
    "int + 1.5": lambda m: m.tensor([3, 4]) + 1.5,
    "int32 + 1.5": lambda m: m.tensor([3, 4], dtype=m.int32) + 1.5,
    "int + float64 0-d": lambda m: m.tensor([1]) + m.tensor(1.5, dtype=m.float64),
    "float32 + float64 0-d": lambda m: m.tensor([1.0]) + m.tensor(1.5, dtype=m.float64),
    "bool + int": lambda m: m.tensor([True, False]) + m.tensor([1, 2]),
    "bool + 1": lambda m: m.tensor([True, False]) + 1,
    "bool + True": lambda m: m.tensor([True, False]) + True,
    "bool * 1.5": lambda m: m.tensor([True, False]) * 1.5,
    "int32 + int64": lambda m: m.tensor([1], dtype=m.int32) + m.tensor([1]),
    "int32 + int64 0-d": lambda m: m.tensor([1], dtype=m.int32) + m.tensor(1),
    "float16 + float32": lambda m: m.tensor([1.5], dtype=m.float16) + m.tensor([1.0]),
    "float16 + float32 0-d": lambda m: m.tensor([1.5], dtype=m.float16) + m.tensor(1.0),
    "float16 + 1.5": lambda m: m.tensor([1.5], dtype=m.float16) + 1.5,
    "float16 / int": lambda m: m.tensor([1.5], dtype=m.float16) / m.tensor([2]),
    "uint8 + int8": lambda m: m.tensor([1], dtype=m.uint8) + m.tensor([1], dtype=m.int8),
    "uint8 + (-1)": lambda m: m.tensor([1], dtype=m.uint8) + (-1),
    "int8 * 1000": lambda m: m.tensor([1], dtype=m.int8) * 1000,
    "int + 1j": lambda m: m.tensor([1]) + 1j,
    "float64 * 1j": lambda m: m.tensor([1.0], dtype=m.float64) * 1j,
    "int ** 2": lambda m: m.tensor([3]) ** 2,
    "int ** 0.5": lambda m: m.tensor([4]) ** 0.5,
    "2 ** int": lambda m: 2 ** m.tensor([3]),
    "2.0 ** int": lambda m: 2.0 ** m.tensor([3]),
    "int @ int": lambda m: m.tensor([[1, 2]]) @ m.tensor([[1], [2]]),
    "where(int, 2.5)": lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 2.5),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_operator_promotion_table(name):
    """Result dtype and values of the operators, as PyTorch's."""
    assert_same(BINARY[name](sj), BINARY[name](torch), rtol=1e-3, atol=1e-3)


def test_default_dtype_changes_scalar_promotion():
    sj.set_default_dtype(sj.float64)
    try:
        assert (sj.tensor([1, 2]) * 1.5).dtype == sj.float64
        assert sj.tensor([1.0]).dtype == sj.float64
        assert (sj.tensor([1.0], dtype=sj.float32) * 1.5).dtype == sj.float32
        assert (sj.tensor([1, 2]) / 2).dtype == sj.float64
    finally:
        sj.set_default_dtype(sj.float32)
    assert sj.tensor([1.0]).dtype == sj.float32


def test_inplace_promotion_rules():
    x = sj.tensor([1, 2, 3])
    with pytest.raises(RuntimeError):
        x += 1.5  # int tensor cannot hold a float result in place
    y = sj.tensor([1.0, 2.0], dtype=sj.float32)
    y += sj.tensor([1.0, 1.0], dtype=sj.float64)
    assert y.dtype == sj.float32
    z = sj.tensor([1.0, 2.0])
    z *= 2
    assert z.dtype == sj.float32 and z.tolist() == [2.0, 4.0]
