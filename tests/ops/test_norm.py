"""The batch-norm kernels of shenjing.ops.norm against PyTorch: every memory layout and block
structure (channels-last conv outputs, contiguous (N, C, *) planes, (N, C) rows; one block and many,
a last partial block), train and eval mode, float32 and float64, second derivatives."""

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.ops import norm

SHAPES = [(6, 3), (5, 4, 7), (4, 3, 5, 6), (8, 16, 30, 30), (37, 24, 9, 11), (1000, 40)]


def _layout(a, channels_last: bool):
    if channels_last and a.ndim == 4:
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return a


def _both(shape, dtype, cl, seed, offset=0.0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = _layout((rng.standard_normal(shape) * 3 + offset).astype(dtype), cl)
    g = _layout(rng.standard_normal(shape).astype(dtype), cl)
    w, b = (rng.standard_normal(C).astype(dtype) for _ in range(2))
    return x, g, w, b


@pytest.fixture(params=["one block", "many blocks"])
def blocks(request, monkeypatch):
    """Small blocks, so that test-sized arrays take the multi-block path of the kernels (with a
    last partial block)."""
    if request.param == "many blocks":
        monkeypatch.setattr(norm, "BLOCK_ELEMENTS", 1000)
    return request.param


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cl", [False, True])
def test_batch_norm_train_matches_torch(shape, cl, blocks):
    x, g, w, b = _both(shape, np.float64, cl, seed=len(shape) + shape[0])
    xs, ws, bs = (sj.tensor(a, requires_grad=True) for a in (x, w, b))
    if cl:
        xs = sj.as_tensor(x).requires_grad_()  # keep the channels-last memory
    rm, rv = sj.zeros(shape[1], dtype=sj.float64), sj.ones(shape[1], dtype=sj.float64)
    ys = F.batch_norm(xs, rm, rv, ws, bs, training=True, momentum=0.3)
    ys.backward(sj.as_tensor(g))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    rmt, rvt = torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1], dtype=torch.float64)
    yt = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, training=True, momentum=0.3)
    yt.backward(torch.tensor(g))
    for a, t in ((ys, yt), (xs.grad, xt.grad), (ws.grad, wt.grad), (bs.grad, bt.grad), (rm, rmt), (rv, rvt)):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-10)
    if cl and x.ndim == 4:  # the output and the input gradient keep the conv's channels-last layout
        assert ys.array.transpose(0, 2, 3, 1).flags.c_contiguous
        assert xs.grad.array.transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize("shape", [(8, 16, 30, 30), (1000, 40), (5, 4, 7)])
def test_batch_norm_float32_accuracy_with_offset(shape, blocks):
    """float32, inputs far from zero mean (|μ|/σ ≈ 30): statistics and gradients as accurate as torch's."""
    x, g, w, b = _both(shape, np.float32, True, seed=5, offset=100.0)
    xs, ws, bs = sj.as_tensor(x).requires_grad_(), sj.tensor(w, requires_grad=True), sj.tensor(b, requires_grad=True)
    F.batch_norm(xs, None, None, ws, bs, training=True).backward(sj.as_tensor(g))
    x64 = torch.tensor(x.astype(np.float64), requires_grad=True)
    w64, b64 = torch.tensor(w.astype(np.float64), requires_grad=True), torch.tensor(b.astype(np.float64), requires_grad=True)
    torch.nn.functional.batch_norm(x64, None, None, w64, b64, training=True).backward(torch.tensor(g.astype(np.float64)))
    x32 = torch.tensor(x, requires_grad=True)
    w32, b32 = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.nn.functional.batch_norm(x32, None, None, w32, b32, training=True).backward(torch.tensor(g))
    for ours, t32, ref in ((xs.grad, x32.grad, x64.grad), (ws.grad, w32.grad, w64.grad), (bs.grad, b32.grad, b64.grad)):
        ref = ref.numpy()
        scale = np.abs(ref).max()
        err_ours = np.abs(ours.numpy() - ref).max() / scale
        err_torch = np.abs(t32.numpy() - ref).max() / scale
        assert err_ours <= max(4 * err_torch, 1e-5), (err_ours, err_torch)


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (8, 16, 30, 30), (6, 3)])
@pytest.mark.parametrize("cl", [False, True])
def test_batch_norm_eval_matches_torch(shape, cl, blocks):
    x, g, w, b = _both(shape, np.float64, cl, seed=11)
    rng = np.random.default_rng(12)
    rm, rv = rng.standard_normal(shape[1]), rng.uniform(0.5, 2.0, shape[1])
    xs = sj.as_tensor(x).requires_grad_()
    ws, bs = sj.tensor(w, requires_grad=True), sj.tensor(b, requires_grad=True)
    ys = F.batch_norm(xs, sj.tensor(rm), sj.tensor(rv), ws, bs, training=False)
    ys.backward(sj.as_tensor(g))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.batch_norm(xt, torch.tensor(rm), torch.tensor(rv), wt, bt, training=False)
    yt.backward(torch.tensor(g))
    for a, t in ((ys, yt), (xs.grad, xt.grad), (ws.grad, wt.grad), (bs.grad, bt.grad)):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-10)


def test_batch_norm_no_affine_and_partial_grads():
    x, g, _, _ = _both((8, 16, 30, 30), np.float64, True, seed=3)
    xs = sj.as_tensor(x).requires_grad_()
    F.batch_norm(xs, None, None, None, None, training=True).backward(sj.as_tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.batch_norm(xt, None, None, None, None, training=True).backward(torch.tensor(g))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-10)
    w = sj.ones(16, dtype=sj.float64, requires_grad=True)  # only γ wants a gradient
    F.batch_norm(sj.as_tensor(x), None, None, w, None, training=True).backward(sj.as_tensor(g))
    wt = torch.ones(16, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.batch_norm(torch.tensor(x), None, None, wt, None, training=True).backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_double_backward_channels_last(training):
    x, _, w, b = _both((3, 4, 5, 6), np.float64, True, seed=8)
    rng = np.random.default_rng(9)
    u, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)

    def run(lib, x, w, b):
        T = (lambda a: torch.tensor(a)) if lib is torch else sj.tensor
        fn = torch.nn.functional.batch_norm if lib is torch else F.batch_norm
        grad = torch.autograd.grad if lib is torch else sj.autograd.grad
        out = fn(x, T(rm), T(rv), w, b, training=training)
        (gx,) = grad((out * T(u)).sum(), x, create_graph=True)
        return grad((gx * T(v)).sum(), (x, w, b), allow_unused=True)

    ours = run(sj, sj.as_tensor(x).requires_grad_(), sj.tensor(w, requires_grad=True), sj.tensor(b, requires_grad=True))
    theirs = run(torch, *(torch.tensor(a, requires_grad=True) for a in (x, w, b)))
    for a, t in zip(ours, theirs):
        if t is None:
            assert a is None or np.allclose(a.numpy(), 0)
        else:
            np.testing.assert_allclose(a.numpy(), t.numpy(), rtol=1e-8, atol=1e-10)


def test_channel_layout_views_without_copies():
    a = np.zeros((4, 8, 6, 5), np.float32).transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)
    lay = norm.ChannelLayout.of(a)
    assert lay.cl and np.shares_memory(lay.wide(a), a)
    assert norm.ChannelLayout.of(np.zeros((4, 8, 6, 5))).cl is False
    assert norm.ChannelLayout.of(np.zeros((4, 8, 6, 5))[:, :, ::2]) is None  # neither: copied by the op
    big = np.zeros((64, 32, 28, 28), np.float32).transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)
    lay = norm.ChannelLayout.of(big)
    assert lay.Q % 32 == 0 and lay.Q >= 512 and lay.P * lay.Q == big.size
    s = np.arange(lay.Q, dtype=np.float64)
    assert np.allclose(lay.channel(s), [s[lay.chan == c].sum() for c in range(32)])
