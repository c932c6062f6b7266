"""clip_grad_norm_ / clip_grad_value_ against torch.nn.utils (float64)."""

import math

import numpy as np
import pytest
import torch

import shenjing as sj
from shenjing.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm


def _pair(rng, shapes=((3, 4), (4,), (2, 2, 2)), scale=1.0):
    grads = [rng.standard_normal(s) * scale for s in shapes]
    sp, tp = [], []
    for g in grads:
        s = sj.zeros(g.shape, dtype=sj.float64, requires_grad=True)
        s.grad = sj.tensor(g.copy())
        t = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        t.grad = torch.tensor(g.copy())
        sp.append(s)
        tp.append(t)
    return sp, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm):
    sp, tp = _pair(rng)
    ns = clip_grad_norm_(sp, max_norm, norm_type=norm_type)
    nt = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert isinstance(ns, sj.Tensor) and ns.shape == () and ns.dtype == sj.float64
    np.testing.assert_allclose(float(ns), float(nt), rtol=1e-12)
    for s, t in zip(sp, tp):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_bound_and_in_place(rng):
    sp, _ = _pair(rng, scale=10.0)
    before = [p.grad for p in sp]
    clip_grad_norm_(sp, 1.0)
    assert all(p.grad is g for p, g in zip(sp, before))
    total = math.sqrt(sum((p.grad.numpy() ** 2).sum() for p in sp))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_single_tensor_missing_grads_and_float32(rng):
    w = sj.nn.Parameter(sj.tensor([3.0, 4.0]))
    w.grad = sj.tensor([3.0, 4.0])
    other = sj.nn.Parameter(sj.ones(2))  # no gradient: skipped
    n = clip_grad_norm_([w, other], 1.0)
    assert n.dtype == sj.float32 and float(n) == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    w.grad = sj.tensor([3.0, 4.0])
    assert float(clip_grad_norm_(w, 10.0)) == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0], rtol=1e-6)
    assert float(clip_grad_norm_([other], 1.0)) == 0.0


def test_nonfinite(rng):
    sp, tp = _pair(rng)
    with sp[0].grad.inplace() as g:
        g[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(sp, 1.0, error_if_nonfinite=True)
    assert math.isinf(float(clip_grad_norm_(sp, 1.0)))


def test_get_total_norm(rng):
    sp, tp = _pair(rng)
    np.testing.assert_allclose(float(get_total_norm([p.grad for p in sp], 2.0)),
                               float(torch.nn.utils.get_total_norm([p.grad for p in tp], 2.0)), rtol=1e-12)


@pytest.mark.parametrize("clip", [0.1, 0.5, 5.0])
def test_clip_grad_value_matches_torch(rng, clip):
    sp, tp = _pair(rng)
    assert clip_grad_value_(sp, clip) is None
    torch.nn.utils.clip_grad_value_(tp, clip)
    for s, t in zip(sp, tp):
        np.testing.assert_array_equal(s.grad.numpy(), t.grad.numpy())
