"""Property tests (hypothesis) of the indexing ops against PyTorch: gather/scatter/scatter_add/scatter_reduce,
index_select/add/copy/fill, masked_select/fill/scatter, take, nonzero — random shapes (zero-size included),
dims, index shapes and values, dtypes and layouts (see tests/properties.py)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from properties import LAYOUTS, array, budgets, compare, dim_of, shapes

VALUES = st.sampled_from([np.float64, np.float32, np.int64])


def _seed(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _index_like(draw, x: np.ndarray, dim: int, distinct: bool) -> np.ndarray:
    """An int64 index for gather/scatter along ``dim``: no side larger than x's (dim: any length when
    not ``distinct``), values in range; ``distinct``: no repeats along dim (scatter's order is unspecified)."""
    d = dim % x.ndim
    n = x.shape[d]
    sides = [draw(st.integers(0, s)) for s in x.shape]
    sides[d] = draw(st.integers(0, n if distinct else n + 2)) if n else 0
    rng = _seed(draw)
    if distinct:
        full = list(sides)
        full[d] = n
        return np.argsort(rng.random(full), axis=d).take(range(sides[d]), axis=d).astype(np.int64)
    return rng.integers(0, max(n, 1), sides).astype(np.int64)


def _gather_scatter(data):
    d = data.draw
    x = array(d, d(shapes(1, 3)), d(VALUES))
    dim = dim_of(d, x.ndim)
    layout = d(LAYOUTS)
    idx = _index_like(d, x, dim, distinct=False)
    src = array(d, idx.shape, x.dtype)
    compare(d, lambda m, x, i, s: (x.gather(dim, i), m.scatter_add(x, dim, i, s)), x, idx, src, view=layout)
    idx = _index_like(d, x, dim, distinct=True)
    compare(d, lambda m, x, i, s: (x.scatter(dim, i, s), m.scatter(x, dim, i, 1.5 if x.is_floating_point() else 2)),
            x, idx, array(d, idx.shape, x.dtype), view=layout)


def _scatter_reduce(data):
    d = data.draw
    x = array(d, d(shapes(1, 3)), d(VALUES))
    dim = dim_of(d, x.ndim)
    idx = _index_like(d, x, dim, distinct=False)
    src = array(d, idx.shape, x.dtype)
    reduce = d(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    keep = d(st.booleans())
    compare(d, lambda m, x, i, s: x.scatter_reduce(dim, i, s, reduce, include_self=keep), x, idx, src, view=d(LAYOUTS))


def _index_vector_ops(data):
    d = data.draw
    x = array(d, d(shapes(1, 3)), d(VALUES))
    dim = dim_of(d, x.ndim)
    n = x.shape[dim]
    rng = _seed(d)
    k = d(st.integers(0, 4))
    idx = rng.integers(0, max(n, 1), k if n else 0).astype(np.int64)
    perm = rng.permutation(n)[:d(st.integers(0, n))].astype(np.int64)
    src_shape = list(x.shape)
    src_shape[dim] = len(idx)
    src = array(d, tuple(src_shape), x.dtype)
    src_shape[dim] = len(perm)
    copy_src = array(d, tuple(src_shape), x.dtype)
    alpha = d(st.sampled_from([1, 2, -1]))
    compare(d, lambda m, x, i, p, s, c: (x.index_select(dim, i), x.index_add(dim, i, s, alpha=alpha), x.index_copy(dim, p, c),
                                         m.index_fill(x, dim, i, 3)), x, idx, perm, src, copy_src, view=d(LAYOUTS))


def _masks(data):
    d = data.draw
    bs = d(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3))
    x = array(d, bs.input_shapes[0], d(VALUES))
    mask = array(d, bs.input_shapes[1], np.bool_)
    n = int(np.broadcast_to(mask, bs.result_shape).sum())
    src = array(d, (n + d(st.integers(0, 2)),), x.dtype)
    compare(d, lambda m, x, k, s: (m.masked_select(x, k), x.masked_fill(k, -2), x.masked_scatter(k, s)), x, mask, src, view=d(LAYOUTS))


def _take_nonzero(data):
    d = data.draw
    x = array(d, d(shapes(0, 3)), d(st.sampled_from([np.float64, np.float32, np.int64, np.bool_])))
    rng = _seed(d)
    idx = rng.integers(-x.size, max(x.size, 1), d(shapes(0, 2))).astype(np.int64) if x.size else np.zeros(0, np.int64)
    compare(d, lambda m, x, i: (m.take(x, i), x.nonzero(), m.nonzero(x, as_tuple=True)), x, idx, view=d(LAYOUTS))


test_gather_scatter, test_gather_scatter_long = budgets(_gather_scatter, st.data())
test_scatter_reduce, test_scatter_reduce_long = budgets(_scatter_reduce, st.data())
test_index_vector_ops, test_index_vector_ops_long = budgets(_index_vector_ops, st.data())
test_masks, test_masks_long = budgets(_masks, st.data())
test_take_nonzero, test_take_nonzero_long = budgets(_take_nonzero, st.data())
