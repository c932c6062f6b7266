"""Property tests against PyTorch (hypothesis): budgets, strategies and the comparison.

A property draws shapes (zero-size sides included), dims, dtypes and a memory layout (contiguous, a
transposed view, a strided slice), builds arrays from a drawn seed, and compares shenjing with PyTorch
through ``torch_compare.check``: values, result dtypes, which outputs require grad, and the gradients of
a random linear function of the outputs. ``budgets`` makes two tests of one property: the short budget
(hypothesis profile ``shenjing-short``, a few seconds per family) in the default suite and the long one
(``shenjing-long``) under ``-m slow``. A shrunk failure found by either becomes a plain regression test
next to the op's other tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_compare import check

settings.register_profile(
    "shenjing-short", max_examples=50, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile("shenjing-long", parent=settings.get_profile("shenjing-short"), max_examples=500)

LAYOUTS = st.sampled_from([None, "T", "stride"])
FLOATS = st.sampled_from([np.float64, np.float32])
# tolerances by the dtype the comparison runs in
TOL = {np.dtype(np.float64): (1e-9, 1e-10), np.dtype(np.float32): (2e-4, 2e-5)}


def budgets(prop, *strategies, **kw_strategies):
    """(short, long): ``prop`` as a hypothesis test with each budget; the long one is marked slow."""
    short = settings(settings.get_profile("shenjing-short"))(given(*strategies, **kw_strategies)(prop))
    long = settings(settings.get_profile("shenjing-long"))(given(*strategies, **kw_strategies)(prop))
    return short, pytest.mark.slow(long)


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def dim_of(draw, ndim: int):
    """A dim of an ``ndim``-d tensor, negative or not (0 or -1 for a 0-d one)."""
    n = max(ndim, 1)
    return draw(st.integers(-n, n - 1))


def two_dims(draw, ndim: int) -> tuple[int, int]:
    """Two different dims of an ``ndim``-d tensor (ndim ≥ 2), each negative or not."""
    a = draw(st.integers(0, ndim - 1))
    b = draw(st.integers(0, ndim - 2))
    b += b >= a
    return a - ndim * draw(st.booleans()), b - ndim * draw(st.booleans())


def array(draw, shape, dtype=np.float64) -> np.ndarray:
    """Values for ``shape`` from a drawn seed: normal floats, small integers, or booleans."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.asarray(rng.standard_normal(shape), dtype=dtype)
    if dtype.kind == "b":
        return np.asarray(rng.random(shape) < 0.5)
    return np.asarray(rng.integers(-5, 6, shape), dtype=dtype)


def compare(draw, fn, *arrays, view=None, grad: bool = True, tol=None, requires_grad=None):
    """``torch_compare.check`` with the tolerance of the arrays' floating dtype and a drawn cotangent seed."""
    floats = [a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    rtol, atol = tol or TOL[min(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float64)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return check(fn, *arrays, view=view, grad=grad, rtol=rtol, atol=atol, rng=rng, requires_grad=requires_grad)
