"""Convolutions whose im2col matrix is built batch chunk by batch chunk (evaluation batches, and
training when the col is too large to keep for backward) against PyTorch, in float64."""

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.ops import conv

CASES = [  # (N, C_in, H, W), (C_out, C_in, kh, kw), stride, padding, dilation, bias
    ((7, 1, 12, 12), (4, 1, 3, 3), 1, 1, 1, True),      # a first layer (colᵀ built by offsets)
    ((9, 5, 10, 9), (6, 5, 3, 3), 1, 1, 1, False),
    ((6, 3, 11, 13), (4, 3, 3, 2), 2, 1, 1, True),
    ((5, 4, 12, 12), (3, 4, 3, 3), 1, 2, 2, True),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("keep", ["kept", "rebuilt in chunks"])
def test_conv2d_chunked_im2col_matches_torch(case, keep, monkeypatch):
    xs, ws, stride, padding, dilation, bias = case
    monkeypatch.setattr(conv, "IM2COL_CHUNK_BYTES", 2000)  # a few samples per chunk
    if keep == "rebuilt in chunks":
        monkeypatch.setattr(conv, "KEEP_COL_BYTES", 1000)
    rng = np.random.default_rng(sum(xs))
    x, w, g = rng.standard_normal(xs), rng.standard_normal(ws), None
    b = rng.standard_normal(ws[0]) if bias else None
    args = dict(stride=stride, padding=padding, dilation=dilation)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if bias else None
    yt = torch.nn.functional.conv2d(xt, wt, bt, **args)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    xs_, ws_ = sj.tensor(x, requires_grad=True), sj.tensor(w, requires_grad=True)
    bs_ = sj.tensor(b, requires_grad=True) if bias else None
    with sj.no_grad():  # evaluation: never kept, chunked
        np.testing.assert_allclose(F.conv2d(sj.tensor(x), sj.tensor(w), None if b is None else sj.tensor(b), **args).numpy(),
                                   yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    ys = F.conv2d(xs_, ws_, bs_, **args)
    ys.backward(sj.tensor(g))
    pairs = [(ys, yt), (xs_.grad, xt.grad), (ws_.grad, wt.grad)] + ([(bs_.grad, bt.grad)] if bias else [])
    for a, t in pairs:
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_chunks_cover_the_batch():
    assert conv._batch_chunks(10, conv.IM2COL_CHUNK_BYTES // 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert conv._batch_chunks(4, 10 * conv.IM2COL_CHUNK_BYTES) == [(0, 1), (1, 2), (2, 3), (3, 4)]
