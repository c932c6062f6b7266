"""Comparison and search against PyTorch: stable sort (ties, NaN, descending), kthvalue, searchsorted,
bucketize and unique (inverse, counts, dim), on random inputs, zero-size and 0-d tensors, negative dims."""

import numpy as np
import pytest
import torch
from torch_compare import check, rand

import shenjing as sj


@pytest.mark.parametrize("dt", [np.float64, np.int64, np.uint8, np.bool_, np.int32])
@pytest.mark.parametrize("shape,dim", [((5, 7), -1), ((5, 7), 0), ((3, 0, 4), 1), ((0,), 0), ((), 0), ((2, 3, 6), -2)])
def test_stable_sort_with_ties(dt, shape, dim, rng):
    """Many ties: stable sort keeps their order, ascending and descending (values, indices, gradient)."""
    x = rng.integers(0, 3, shape).astype(dt)
    if dt == np.float64:
        x = np.asarray(x + 0.0)
    f = lambda m, x: (m.sort(x, dim=dim, stable=True), x.sort(dim=dim, descending=True, stable=True),  # noqa: E731
                      m.argsort(x, dim=dim, descending=True, stable=True))
    check(f, x)


def test_sort_nan_is_largest():
    x = np.array([3.0, np.nan, 1.0, -np.inf, np.nan, 2.0, np.inf, 1.0])
    check(lambda m, x: (m.sort(x, stable=True), m.sort(x, descending=True, stable=True), x.argsort(descending=True, stable=True)), x)


@pytest.mark.parametrize("view", [None, "T", "stride"])
def test_kthvalue(view, rng):
    x = rand(rng, 4, 6)
    for k in (1, 3, 4):
        check(lambda m, x, k=k: (m.kthvalue(x, k, 0), x.kthvalue(k, dim=-2, keepdim=True)), x, view=view)
    check(lambda m, x: (m.kthvalue(x, 6), x.kthvalue(2, 1, True)), x, view=view)
    check(lambda m, x: m.kthvalue(x, 1), rand(rng), grad=True)
    check(lambda m, x: m.kthvalue(x, 2, 1), rand(rng, 3, 2, 0))
    check(lambda m, x: m.kthvalue(x, 2), rng.permutation(15).reshape(3, 5))  # (ties: below)
    with pytest.raises(RuntimeError, match="kthvalue"):
        sj.kthvalue(sj.zeros(3), 4)


def test_kthvalue_ties_and_nan():
    x = np.array([[2.0, 1.0, 2.0, np.nan], [1.0, 1.0, 1.0, 0.0]])
    for k in (1, 2, 3, 4):
        s, t = sj.kthvalue(sj.tensor(x), k), torch.kthvalue(torch.tensor(x), k)
        np.testing.assert_array_equal(s.values.numpy(), t.values.numpy())
        idx = s.indices.numpy()
        np.testing.assert_array_equal(np.take_along_axis(x, idx[:, None], 1)[:, 0], t.values.numpy())


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize(right, rng):
    seq = np.sort(rng.integers(0, 10, 12))
    v = rng.integers(-1, 12, (3, 5))
    check(lambda m, s, v: (m.searchsorted(s, v, right=right), m.searchsorted(s, v, side="right" if right else "left"),
                           m.bucketize(v, s, right=right), m.bucketize(v, s, out_int32=True, right=right),
                           m.searchsorted(s, v, out_int32=True)), seq, v)
    fs = np.sort(rand(rng, 8))
    check(lambda m, s, v: (m.searchsorted(s, v, right=right), m.bucketize(v, s, right=right), m.searchsorted(s, 0.1),
                           m.bucketize(0.25, s)), fs, rand(rng, 2, 3), grad=False)
    rows = np.sort(rand(rng, 2, 3, 6), axis=-1)
    check(lambda m, s, v: m.searchsorted(s, v, right=right), rows, rand(rng, 2, 3, 4), grad=False)
    check(lambda m, s, v: (m.searchsorted(s, v), m.bucketize(v, s)), np.zeros(0), rand(rng, 3), grad=False)
    check(lambda m, s, v: m.searchsorted(s, v), fs, rand(rng, 0, 2), grad=False)


def test_searchsorted_sorter(rng):
    seq = rand(rng, 7)
    order = np.argsort(seq)
    check(lambda m, s, o, v: m.searchsorted(s, v, sorter=o), seq, order, rand(rng, 4), grad=False)


def test_searchsorted_errors():
    with pytest.raises(RuntimeError, match="searchsorted"):
        sj.searchsorted(sj.zeros(2, 3), sj.zeros(3, 2))
    with pytest.raises(RuntimeError, match="searchsorted"):
        sj.searchsorted(sj.zeros(3), sj.zeros(2), right=True, side="left")
    with pytest.raises(RuntimeError, match="bucketize"):
        sj.bucketize(sj.zeros(2), sj.zeros(2, 2))


@pytest.mark.parametrize("dt", [np.float64, np.int64, np.bool_, np.float32])
@pytest.mark.parametrize("shape", [(4, 5), (7,), (), (0,), (2, 0)])
def test_unique(dt, shape, rng):
    x = rng.integers(0, 4, shape).astype(dt)
    check(lambda m, x: (m.unique(x), x.unique(return_counts=True), m.unique(x, sorted=False, return_inverse=True),
                        m.unique(x, return_inverse=True, return_counts=True)), x, grad=False)


def test_unique_nan_each_distinct():
    x = np.array([3.0, np.nan, 1.0, np.nan, 1.0])
    check(lambda m, x: m.unique(x, return_inverse=True, return_counts=True), x, grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(dim, rng):
    x = rng.integers(0, 2, (5, 3))
    check(lambda m, x: (m.unique(x, dim=dim), m.unique(x, return_inverse=True, return_counts=True, dim=dim)), x, grad=False)
    check(lambda m, x: x.unique(dim=dim, return_inverse=True), rng.integers(0, 2, (2, 4, 3)), grad=False)
    check(lambda m, x: m.unique(x, dim=0, return_counts=True), rng.integers(0, 2, (0, 3)), grad=False)
    with pytest.raises(RuntimeError, match="unique"):
        sj.unique(sj.zeros(2, 0), dim=0)


def test_comparison_family(rng):
    a, b = rand(rng, 3, 4), rand(rng, 4)
    b[1] = a[0, 1]
    check(lambda m, x, y: (m.isclose(x, y), m.isclose(x, x + 1e-7), x.isclose(y, rtol=10.0), m.isclose(x, y, atol=3.0)), a, b,
          grad=False)
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    check(lambda m, x: (m.isclose(x, x), m.isclose(x, x, equal_nan=True), m.isnan(x), m.isinf(x), m.isfinite(x)), x, grad=False)
    check(lambda m, x: (m.isnan(x), m.isinf(x), m.isfinite(x)), np.array([1, 2]), grad=False)
    for m in (sj, torch):
        assert m.allclose(m.tensor(a), m.tensor(a) + 1e-9) and not m.allclose(m.tensor(a), m.tensor(a) + 1e-3)
        assert m.equal(m.tensor(a), m.tensor(a)) and not m.equal(m.tensor(a), m.tensor(a[:2]))
