"""Helpers that run one function on shenjing and on PyTorch and compare values and gradients.

A test writes ``fn(lib, *tensors)`` once, where ``lib`` is ``shenjing`` or ``torch``; ``check`` builds
the tensors from NumPy arrays (floating arrays require grad, integer/bool arrays are plain index
tensors), compares the forward results (values, shapes, dtypes) and then the gradients of
Σ out·v for a random cotangent v, in float64 with tight tolerances. A comparison that cannot be made
fails: an output that requires grad on one side only, or an input with a gradient on one side only.
"""

from __future__ import annotations

import numpy as np
import torch

import shenjing as sj

TOL = {"rtol": 1e-10, "atol": 1e-10}


def np_dtype(t) -> np.dtype:
    """The NumPy dtype of a torch or shenjing tensor."""
    if isinstance(t, torch.Tensor):
        return torch.empty((), dtype=t.dtype).numpy().dtype
    return np.dtype(t.dtype)


def to_np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach().numpy())


class Const:
    """Wraps a floating array that must not require grad."""

    def __init__(self, array) -> None:
        self.array = np.asarray(array)


def make(lib, a, requires_grad=None, view=None):
    """(leaf, input): a tensor of ``lib`` from a NumPy array, optionally through a non-contiguous view.

    ``view='T'`` builds the leaf transposed and passes leaf.permute(reversed) (a transposed view);
    ``view='stride'`` builds a leaf twice as long on dim 0 and passes leaf[::2] (a strided slice)."""
    if isinstance(a, Const):
        a, requires_grad = a.array, False
    if not isinstance(a, np.ndarray):
        return None, a
    if requires_grad is None:
        requires_grad = a.dtype.kind == "f"
    if not requires_grad or view is None or a.ndim == 0:
        t = (torch.tensor if lib is torch else sj.tensor)(a.copy(), requires_grad=requires_grad)
        return t, t
    if view == "T":
        base = np.ascontiguousarray(a.transpose(tuple(range(a.ndim))[::-1]))
        leaf = (torch.tensor if lib is torch else sj.tensor)(base, requires_grad=True)
        return leaf, leaf.permute(*range(a.ndim)[::-1])
    if view == "stride":
        base = np.repeat(a, 2, axis=0)
        base[1::2] = 7.0
        leaf = (torch.tensor if lib is torch else sj.tensor)(base, requires_grad=True)
        return leaf, leaf[::2]
    raise ValueError(view)


def flat_outputs(out) -> list:
    if isinstance(out, (tuple, list)):
        r = []
        for o in out:
            r += flat_outputs(o)
        return r
    return [out]


def assert_same(s, t, rtol=TOL["rtol"], atol=TOL["atol"], dtype=True, what="") -> None:
    """Same kind (tensor or scalar), shape, dtype and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(s, sj.Tensor), f"{what}: expected a Tensor, got {type(s).__name__}"
        assert tuple(s.shape) == tuple(t.shape), f"{what}: shape {tuple(s.shape)} != torch {tuple(t.shape)}"
        if dtype:
            assert np_dtype(s) == np_dtype(t), f"{what}: dtype {s.dtype} != torch {t.dtype}"
        np.testing.assert_allclose(to_np(s), to_np(t), rtol=rtol, atol=atol, err_msg=what, equal_nan=True)
    elif isinstance(t, (bool, int, float)):
        assert type(s) is type(t) or isinstance(s, type(t)), f"{what}: {type(s)} vs {type(t)}"
        np.testing.assert_allclose(s, t, rtol=rtol, atol=atol, err_msg=what)
    else:
        assert s == t, what


def check(fn, *arrays, view=None, grad=True, rtol=TOL["rtol"], atol=TOL["atol"], dtype=True, requires_grad=None,
          rng=None):
    """Run ``fn(lib, *tensors)`` for both libraries; compare outputs, then input gradients.

    ``requires_grad=False`` makes every input a constant (for ops that PyTorch does not differentiate).
    Which outputs require grad and which inputs receive a gradient must agree with PyTorch: a gradient
    present on one side only fails. The cotangents come from ``rng`` or else NumPy's global
    generator (seeded per test by conftest). Returns the shenjing and torch outputs."""
    sj_pairs = [make(sj, a, requires_grad, view=view) for a in arrays]
    t_pairs = [make(torch, a, requires_grad, view=view) for a in arrays]
    out_s = fn(sj, *[p[1] for p in sj_pairs])
    out_t = fn(torch, *[p[1] for p in t_pairs])
    fs, ft = flat_outputs(out_s), flat_outputs(out_t)
    assert len(fs) == len(ft), f"{len(fs)} outputs vs torch {len(ft)}"
    for i, (s, t) in enumerate(zip(fs, ft)):
        assert_same(s, t, rtol, atol, dtype, what=f"output {i}")
    if grad:
        compare_grads([p[0] for p in sj_pairs], [p[0] for p in t_pairs], fs, ft, rng, rtol, atol, dtype)
    return out_s, out_t


def compare_grads(leaves_s, leaves_t, fs, ft, rng, rtol, atol, dtype) -> None:
    """Backpropagate Σ out·v (v random) on both sides; the same outputs must require grad and the same
    leaves must receive a gradient, equal to PyTorch's."""
    for i, (s, t) in enumerate(zip(fs, ft)):
        if isinstance(t, torch.Tensor):
            assert s.requires_grad == t.requires_grad, f"output {i}: requires_grad {s.requires_grad} != torch {t.requires_grad}"
    leaves_s = [x for x in leaves_s if x is not None and x.requires_grad]
    leaves_t = [x for x in leaves_t if x is not None and x.requires_grad]
    assert len(leaves_s) == len(leaves_t), f"{len(leaves_s)} inputs require grad vs torch {len(leaves_t)}"
    diff = [(s, t) for s, t in zip(fs, ft) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not leaves_t or not diff:  # nothing differentiable, and shenjing agrees (checked above)
        return
    loss_s, loss_t = 0, 0
    for s, t in diff:
        v = rng.standard_normal(tuple(t.shape)) if rng is not None else np.random.standard_normal(tuple(t.shape))
        loss_s = loss_s + (s * sj.tensor(v)).sum()
        loss_t = loss_t + (t * torch.tensor(v)).sum()
    loss_t.backward()
    loss_s.backward()
    for i, (ls, lt) in enumerate(zip(leaves_s, leaves_t)):
        assert (ls.grad is None) == (lt.grad is None), (
            f"grad of input {i}: shenjing {'has none' if ls.grad is None else 'has one'}, torch {'has none' if lt.grad is None else 'has one'}")
        if lt.grad is not None:
            assert_same(ls.grad, lt.grad, rtol, atol, dtype, what=f"grad of input {i}")


def rand(rng, *shape, low=None, high=None):
    """float64 standard-normal values (or uniform in [low, high))."""
    if low is not None:
        return np.asarray(rng.uniform(low, high, shape))
    return np.asarray(rng.standard_normal(shape))
