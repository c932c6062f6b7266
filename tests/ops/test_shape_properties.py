"""Property tests (hypothesis) of the shape ops against PyTorch: random shapes with zero-size sides, random
dims and arguments, float64/float32/integer inputs, contiguous or non-contiguous (see tests/properties.py)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from properties import FLOATS, LAYOUTS, array, budgets, compare, dim_of, shapes, two_dims

import shenjing as sj

DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int32])


def _diagonals(data):
    d = data.draw
    x = array(d, d(shapes(2, 4)), d(DTYPES))
    d1, d2 = two_dims(d, x.ndim)
    e1, e2 = two_dims(d, x.ndim + 1)  # diag_embed adds a dim
    off = d(st.integers(-5, 5))
    compare(d, lambda m, x: (x.diagonal(off, d1, d2), m.diag_embed(x, off, e1, e2), m.diagonal(x, offset=-off, dim1=d2, dim2=d1)),
            x, view=d(LAYOUTS))


def _diag_trace(data):
    d = data.draw
    x = array(d, d(shapes(1, 2)), d(DTYPES))
    off = d(st.integers(-4, 4))
    compare(d, lambda m, x: (m.diag(x, off), x.trace()) if x.ndim == 2 else m.diag(x, off), x, view=d(LAYOUTS))


def _unfold(data):
    d = data.draw
    x = array(d, d(shapes(0, 4)), d(DTYPES))
    dim = dim_of(d, x.ndim)
    n = x.shape[dim] if x.ndim else 1
    size, step = d(st.integers(0, n)), d(st.integers(1, 3))
    compare(d, lambda m, x: x.unfold(dim, size, step), x, view=d(LAYOUTS))


def _repeat_interleave(data):
    d = data.draw
    x = array(d, d(shapes(0, 3)), d(DTYPES))
    dim = d(st.none()) if x.ndim == 0 else d(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))  # (PyTorch refuses dim on 0-d)
    n = x.size if dim is None else x.shape[dim]
    reps = d(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n, max_size=n)))

    def f(m, x):
        r = m.tensor(reps, dtype=m.int64) if isinstance(reps, list) else reps
        return x.repeat_interleave(r, dim) if dim is not None else m.repeat_interleave(x, r)

    compare(d, f, x, view=d(LAYOUTS))


def _splits(data):
    d = data.draw
    x = array(d, d(shapes(1, 4)), d(DTYPES))
    dim = dim_of(d, x.ndim)
    how = d(st.one_of(st.integers(1, 5), st.lists(st.integers(-6, 6), max_size=4)))
    compare(d, lambda m, x: m.tensor_split(x, how, dim), x, view=d(LAYOUTS))
    k = d(st.integers(1, 4))
    along = 1 if x.ndim > 1 else 0
    if x.shape[along] % k == 0:
        compare(d, lambda m, x: m.hsplit(x, k), x)
    if x.ndim >= 2 and x.shape[0] % k == 0:
        compare(d, lambda m, x: x.vsplit(k), x)


def _broadcasting(data):
    d = data.draw
    bs = d(mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=0, max_side=3))
    dtype = d(FLOATS)
    xs = [array(d, s, dtype) for s in bs.input_shapes]
    compare(d, lambda m, a, b, c: (*m.broadcast_tensors(a, b, c), m.broadcast_to(a, bs.result_shape), b.expand(bs.result_shape)), *xs)
    assert tuple(sj.broadcast_shapes(*bs.input_shapes)) == bs.result_shape


def _arranging(data):
    d = data.draw
    x = array(d, d(shapes(0, 4)), d(DTYPES))
    layout = d(LAYOUTS)
    compare(d, lambda m, x: (m.atleast_1d(x), m.atleast_2d(x), m.atleast_3d(x)), x, view=layout)
    if x.ndim >= 2:
        k = d(st.integers(-5, 5))
        a, b = two_dims(d, x.ndim)
        compare(d, lambda m, x: (x.rot90(k, (a, b)), m.movedim(x, a, b), x.swapaxes(a, b)), x, view=layout)
    if x.ndim:
        dim = dim_of(d, x.ndim)
        n = d(st.integers(0, 4))
        extra = list(x.shape)
        extra[dim] = d(st.integers(0, 2))
        pre = array(d, tuple(extra), x.dtype)
        start = d(st.integers(0, x.shape[dim]))
        compare(d, lambda m, x, p: (x.diff(n, dim), m.diff(x, n, dim, prepend=p, append=p), x.narrow(dim, start, x.shape[dim] - start)),
                x, pre, view=layout)


def _products(data):
    d = data.draw
    dtype = d(FLOATS)
    batch = d(shapes(0, 2, 0, 3))
    a, b = array(d, (*batch, 3, 2), dtype), array(d, (*batch, 3, 2), dtype)
    compare(d, lambda m, a, b: m.linalg.cross(a, b, dim=-2), a, b, view=d(LAYOUTS))
    sa, sb = d(shapes(0, 3, 0, 3)), d(shapes(0, 3, 0, 3))
    compare(d, lambda m, a, b: m.kron(a, b), array(d, sa, dtype), array(d, sb, dtype))
    p, r, k = d(st.integers(0, 4)), d(st.integers(0, 4)), d(st.integers(0, 3))
    pnorm = d(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf")]))
    x1, x2 = array(d, (*batch, p, k), dtype), array(d, (*batch, r, k), dtype)
    compare(d, lambda m, a, b: m.cdist(a, b, pnorm), x1, x2, view=d(LAYOUTS))
    n = d(st.integers(0, 2))
    ta = array(d, d(shapes(n, 4, 0, 3)), dtype)
    tb = array(d, tuple(ta.shape[ta.ndim - n:]) + d(shapes(0, 2, 0, 3)), dtype)
    compare(d, lambda m, a, b: m.tensordot(a, b, n), ta, tb)


test_diagonals, test_diagonals_long = budgets(_diagonals, st.data())
test_diag_trace, test_diag_trace_long = budgets(_diag_trace, st.data())
test_unfold, test_unfold_long = budgets(_unfold, st.data())
test_repeat_interleave, test_repeat_interleave_long = budgets(_repeat_interleave, st.data())
test_splits, test_splits_long = budgets(_splits, st.data())
test_broadcasting, test_broadcasting_long = budgets(_broadcasting, st.data())
test_arranging, test_arranging_long = budgets(_arranging, st.data())
test_products, test_products_long = budgets(_products, st.data())
