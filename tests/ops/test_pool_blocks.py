"""Tiled max pooling run over pieces of the batch (``POOL_BLOCK_BYTES``), on one and two threads,
against PyTorch: values, indices (first-maximum tie rule) and gradients, both memory layouts."""

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.ops import pool
from shenjing.ops.parallel import for_chunks, get_num_threads, set_num_threads


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_tiled_max_pool_in_pieces_matches_torch(channels_last, threads, monkeypatch):
    monkeypatch.setattr(pool, "POOL_BLOCK_BYTES", 3 * 4 * 6 * 8 * 8)  # 3 samples per piece, 11 samples
    monkeypatch.setattr("shenjing.ops.parallel.MIN_PARALLEL", 64)
    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal((11, 6, 8, 8)), 1)  # rounded: ties inside windows
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    g = rng.standard_normal((11, 6, 4, 4))
    old = get_num_threads()
    set_num_threads(threads)
    try:
        xs = sj.as_tensor(x).requires_grad_()
        ys, idx = F.max_pool2d(xs, 2, return_indices=True)
        ys.backward(sj.tensor(g))
    finally:
        set_num_threads(old)
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(ys.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())


def test_for_chunks_blocks_cover_the_range_once():
    seen = []
    for_chunks(lambda lo, hi: seen.append((lo, hi)), 10, 1, block=3)
    assert sorted(seen) == [(0, 3), (3, 6), (6, 9), (9, 10)]
