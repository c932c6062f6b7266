"""Reductions and softmax against PyTorch in float64: dim as int/tuple/negative, keepdim, ties."""

import numpy as np
import pytest
import torch
from torch_compare import assert_same, check, rand

import shenjing as sj

DIMS = [None, 0, -1, 1, (0, 2), (-1, -3), (1,)]


@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "norm"])
def test_multi_dim_reductions(name, dim, keepdim, rng):
    x = rand(rng, 2, 3, 4)
    if name == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    if dim is None:
        check(lambda m, x: getattr(m, name)(x), x)
        return
    if name == "norm":
        check(lambda m, x: m.norm(x, dim=dim, keepdim=keepdim), x)
        return
    check(lambda m, x: getattr(x, name)(dim, keepdim=keepdim), x)
    check(lambda m, x: getattr(m, name)(x, dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std(dim, keepdim, correction, rng):
    x = rand(rng, 4, 3, 5)
    check(lambda m, x: (m.var(x, dim=dim, keepdim=keepdim, correction=correction),
                        x.std(dim=dim, keepdim=keepdim, correction=correction)), x)


def test_var_std_unbiased_and_defaults(rng):
    x = rand(rng, 4, 5)
    check(lambda m, x: (x.var(), x.std(), x.var(0), x.std(1, unbiased=False), m.var(x, 1, True, True),
                        x.var(dim=1, unbiased=True), m.var_mean(x, 1), m.std_mean(x, dim=0, correction=0)), x)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_second_derivatives(name, rng):
    """The backward is written with ops (x − x̄ keeps the mean's path): double backward is exact, and
    the Hessian-vector product equals PyTorch's."""
    from shenjing.autograd.gradcheck import gradgradcheck

    x = rand(rng, 3, 4)
    assert gradgradcheck(lambda t: getattr(t, name)(1), (sj.tensor(x, requires_grad=True),))
    hv = []
    for m in (sj, torch):
        t = m.tensor(x, requires_grad=True)
        (g,) = m.autograd.grad(getattr(t, name)(0).sum(), t, create_graph=True)
        hv.append(m.autograd.grad((g * m.tensor(x[::-1].copy())).sum(), t)[0])
    assert_same(*hv)


def test_var_single_element_is_nan():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):  # both libraries warn
        check(lambda m, x: (x.var(), x.var(correction=0)), np.array([2.0]), grad=False)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_returns_values_indices(name, dim, keepdim, rng):
    x = rand(rng, 4, 5)
    out_s, out_t = check(lambda m, x: getattr(x, name)(dim, keepdim=keepdim), x)
    assert isinstance(out_s, tuple) and len(out_s) == 2
    assert_same(out_s.values, out_t.values)
    assert_same(out_s.indices, out_t.indices)
    values, indices = getattr(sj, name)(sj.tensor(x), dim=dim, keepdim=keepdim)
    assert_same(indices, out_t.indices)
    check(lambda m, x: getattr(m, name)(x, dim, keepdim), x)


def test_max_min_full_reduction_and_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])
    check(lambda m, x: (x.max(), x.min(), m.max(x), m.amax(x, (0, 1)), m.amin(x, 1)), x)
    check(lambda m, x: (x.max(dim=1), x.min(dim=0), m.max(x, 1, keepdim=True)), x)


def test_argmax_argmin_ties_and_keepdim(rng):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [5.0, 5.0, -1.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    check(lambda m, x: (x.argmax(), x.argmin(), x.argmax(1), x.argmin(0), x.argmax(-1, keepdim=True),
                        m.argmax(x, dim=0), m.argmin(x, 1, True)), x, grad=False)
    y = rng.integers(0, 3, (3, 4, 2))
    check(lambda m, x: (x.argmax(1), x.argmin(-1), x.argmax()), y, grad=False)


def test_max_min_integer_and_nan():
    x = np.array([[3, 1, 3], [0, 4, 4]])
    check(lambda m, x: (x.max(), x.min(1), x.max(0), x.amax(1), x.argmax(1)), x, grad=False)
    y = np.array([[1.0, np.nan, 3.0], [0.0, 4.0, 2.0]])
    check(lambda m, x: (x.max(1), x.min(1), x.max(), x.amax(1)), y, grad=False)


def test_max_0d_and_empty_errors():
    check(lambda m, x: (x.max(0), x.argmax(), x.max()), np.array(2.5))
    with pytest.raises((IndexError, RuntimeError)):
        sj.zeros(0, 3).max(0)
    with pytest.raises(RuntimeError):
        sj.zeros(0).max()
    check(lambda m, x: x.max(1), np.zeros((0, 3)))


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod(dim, keepdim, rng):
    x = rand(rng, 3, 4)
    if dim is None:
        check(lambda m, x: x.prod(), x)
        return
    check(lambda m, x: x.prod(dim, keepdim=keepdim), x)
    check(lambda m, x: m.prod(x, dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_with_zeros(dim, rng):
    x = rand(rng, 3, 4)
    x[0, 1] = 0.0
    x[2, 0] = x[2, 3] = 0.0
    check(lambda m, x: x.prod() if dim is None else x.prod(dim), x)
    check(lambda m, x: m.prod(x, dim=1) if dim is None else x.prod(dim, keepdim=True), x)


def test_prod_integer_dtype():
    for dt in (np.int32, np.int64, np.uint8, np.bool_):
        x = np.array([[1, 2], [3, 1]], dtype=dt)
        check(lambda m, x: (x.prod(), x.prod(1), x.sum(), x.sum(0), x.cumsum(0)), x, grad=False)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf"), float("-inf"), 0, "fro", -1])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_norm_p(p, dim, rng):
    x = rand(rng, 3, 4)
    if p == -1 or p == 0.5:
        x = np.abs(x) + 0.1
    if p == "fro" and dim == 1:
        return
    check(lambda m, x: m.norm(x, p=p, dim=dim), x)
    check(lambda m, x: x.norm(p, dim, keepdim=True) if dim is not None else x.norm(p), x)


def test_norm_at_zero():
    check(lambda m, x: (x.norm(), x.norm(dim=1)), np.zeros((2, 3)))
    check(lambda m, x: x.norm(1), np.array([0.0, 1.0, -2.0]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim, rng):
    check(lambda m, x: x.cumsum(dim), rand(rng, 3, 4))
    check(lambda m, x: m.cumsum(x, dim=dim), rand(rng, 3, 4), view="T")


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name, dim, rng):
    x = rand(rng, 2, 3, 4) * 5
    check(lambda m, x: getattr(m, name)(x, dim), x)
    check(lambda m, x: getattr(x, name)(dim=dim), x, view="T")


def test_softmax_extreme_values():
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0]])
    check(lambda m, x: (m.softmax(x, 1), m.log_softmax(x[:1], 1), m.logsumexp(x, 1)), x)


def test_logsumexp_cases(rng):
    x = rand(rng, 3, 4) * 10
    check(lambda m, x: (m.logsumexp(x, 1), x.logsumexp(0, keepdim=True), x.logsumexp((0, 1)), x.logsumexp(-1)), x)
    check(lambda m, x: m.logsumexp(x, 0), np.array([-np.inf, -np.inf]), grad=False)
    check(lambda m, x: m.logsumexp(x, 1), np.zeros((3, 0)))


def test_reduce_empty(rng):
    x = np.zeros((3, 0))
    check(lambda m, x: (x.sum(), x.sum(1), x.sum(0), x.mean(1), x.prod(1), x.cumsum(1), x.amax(0)), x)


def test_reductions_on_size_one_and_0d(rng):
    x = rand(rng, 1, 4)
    check(lambda m, x: (x.sum(0), x.mean(0, True), x.max(0), x.var(1), x.std(1), x.prod(0), x.norm(dim=0)), x)
    z = np.asarray(rand(rng))
    check(lambda m, x: (x.sum(), x.sum(0), x.mean(-1), x.prod(), x.logsumexp(0), x.softmax(0), x.cumsum(0), x.amax()), z)


def test_reductions_noncontiguous(rng):
    for view in ("T", "stride"):
        check(lambda m, x: (x.sum(1), x.mean(0), x.var(1), x.max(1), x.prod(0), x.logsumexp(1), x.norm(dim=0)),
              rand(rng, 4, 3), view=view)


def test_integer_sum_mean_dtypes():
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    check(lambda m, x: (x.sum(), x.sum(1), x.sum(dtype=m.float64), x.float().mean()), x, grad=False)
    with pytest.raises(RuntimeError):
        sj.tensor(x).mean()
    check(lambda m, x: (x.sum(), x.any(), x.all(), x.any(1), x.all(0), m.count_nonzero(x)), np.array([[True, False], [True, True]]), grad=False)


def test_sum_dtype_keyword(rng):
    check(lambda m, x: x.sum(dim=1, dtype=m.float32), rand(rng, 2, 3), rtol=1e-6, atol=1e-6)
    check(lambda m, x: (x.mean(dtype=m.float64), x.float().mean(1)), np.array([[1, 2], [3, 5]]), rtol=1e-6, atol=1e-6)


def test_duplicate_dim_raises(rng):
    with pytest.raises(RuntimeError):
        sj.tensor(rand(rng, 2, 3)).sum((1, -1))
    with pytest.raises(IndexError):
        sj.tensor(rand(rng, 2, 3)).sum(2)
    with pytest.raises(IndexError):
        torch.tensor(rand(rng, 2, 3)).sum(2)


def test_empty_dim_tuple_reduces_everything(rng):
    x = rand(rng, 2, 3)
    check(lambda m, x: (x.sum(()), x.mean(dim=[]), x.amax(()), m.sum(x, dim=[])), x)
