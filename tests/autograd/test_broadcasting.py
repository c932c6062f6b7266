"""Property tests (hypothesis): for random broadcast-compatible shapes, the gradient of each input of
add/sub/mul/div/maximum/where equals PyTorch's and has that input's shape."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import shenjing as sj

OPS = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "add_alpha_r": lambda m, a, b: 2.0 * a + b * 3.0 - 1.0,
}

SHAPES2 = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3)
SHAPES3 = mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=1, max_side=3)


def _run(fn, arrays, rng, const=()):
    """Forward and gradients of Σ out·v (v from ``rng``) in both libraries; returns [(sj grad, torch grad)]."""
    v = None
    grads = []
    for lib in (sj, torch):
        ts = [lib.tensor(a, requires_grad=i not in const) for i, a in enumerate(arrays)]
        out = fn(lib, *ts)
        if v is None:
            v = rng.standard_normal(tuple(out.shape))
        (out * lib.tensor(v)).sum().backward()
        grads.append([t.grad for i, t in enumerate(ts) if i not in const] + [out])
    return list(zip(*grads))


def _assert_grads(pairs, arrays, const=()):
    shapes = [a.shape for i, a in enumerate(arrays) if i not in const]
    *grad_pairs, (out_s, out_t) = pairs
    assert tuple(out_s.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-10)
    for shape, (gs, gt) in zip(shapes, grad_pairs):
        if gt is None:  # PyTorch leaves no gradient only when nothing flowed (size-0 output)
            assert gs is None, "torch has no gradient, shenjing has one"
            continue
        assert gs is not None
        assert tuple(gs.shape) == shape == tuple(gt.shape)
        np.testing.assert_allclose(gs.numpy(), gt.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=40, deadline=None)
@given(shapes=SHAPES2, seed=st.integers(0, 2**32 - 1))
def test_binary_broadcast_gradients(name, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (np.asarray(rng.standard_normal(s)) for s in shapes.input_shapes)
    if name == "div":
        b = np.where(np.abs(b) < 0.3, 1.0, b)
    if name in ("maximum", "minimum"):  # ties allowed: both split the gradient evenly
        b = np.where(rng.random(b.shape) < 0.2, 0.0, b)
        a = np.where(rng.random(a.shape) < 0.2, 0.0, a)
    arrays = [a, b]
    _assert_grads(_run(OPS[name], arrays, rng), arrays)


@settings(max_examples=60, deadline=None)
@given(shapes=SHAPES3, seed=st.integers(0, 2**32 - 1))
def test_where_broadcast_gradients(shapes, seed):
    rng = np.random.default_rng(seed)
    cshape, ashape, bshape = shapes.input_shapes
    c = np.asarray(rng.random(cshape) > 0.5)
    a, b = np.asarray(rng.standard_normal(ashape)), np.asarray(rng.standard_normal(bshape))

    def fn(m, a, b):
        return m.where(m.tensor(c), a, b)

    _assert_grads(_run(fn, [a, b], rng), [a, b])


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=1, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_broadcast_gradient_with_one_constant_input(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (np.asarray(rng.standard_normal(s)) for s in shapes.input_shapes)
    for name in ("mul", "div", "sub"):
        if name == "div":
            b = np.where(np.abs(b) < 0.3, 1.0, b)
        _assert_grads(_run(OPS[name], [a, b], rng, const=(1,)), [a, b], const=(1,))
        _assert_grads(_run(OPS[name], [a, b], rng, const=(0,)), [a, b], const=(0,))


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3,
                                            base_shape=(2, 3)),
       seed=st.integers(0, 2**32 - 1))
def test_chained_broadcast_gradients(shapes, seed):
    """(a·b + a)/(1 + b²) then a reduction: gradients still reduce to each input's shape."""
    rng = np.random.default_rng(seed)
    a, b = (np.asarray(rng.standard_normal(s)) for s in shapes.input_shapes)

    def fn(m, a, b):
        return ((a * b + a) / (1 + b * b)).tanh()

    _assert_grads(_run(fn, [a, b], rng), [a, b])
