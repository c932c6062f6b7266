"""The kernels' scratch workspace: reuse by shape and by size, the byte cap, least recently returned dropped first."""

import numpy as np

from shenjing.ops import workspace as ws


def test_reuse_by_shape_then_by_size(monkeypatch):
    monkeypatch.setattr(ws, "MIN_KEEP_BYTES", 64)
    ws.clear()
    a = ws.take((100, 10), np.float32)
    ws.give(a[:, :3].T)  # a view gives back the array that owns the memory
    assert ws.held_bytes() == a.nbytes
    assert ws.take((100, 10), np.float32) is a  # same shape: the array itself
    ws.give(a)
    b = ws.take((30, 20), np.float64)  # 4800 bytes fit in a's 4000? no: a new array
    assert not np.shares_memory(a, b)
    c = ws.take((10, 30, 2), np.float32)  # 2400 bytes: a view of a (4000 ≤ 2·2400)
    assert np.shares_memory(a, c) and c.shape == (10, 30, 2) and c.dtype == np.float32 and c.flags.c_contiguous
    assert ws.held_bytes() == 0
    ws.give(c)
    assert ws.held_bytes() == a.nbytes
    assert not np.shares_memory(a, ws.take((5, 5), np.float32))  # too small a request for a's 4000 bytes
    ws.clear()


def test_cap_drops_the_least_recently_returned(monkeypatch):
    monkeypatch.setattr(ws, "MIN_KEEP_BYTES", 64)
    monkeypatch.setattr(ws, "WORKSPACE_BYTES", 10_000)
    ws.clear()
    arrays = [np.empty(1000, np.float32) for _ in range(3)]  # 4000 bytes each
    for a in arrays:
        ws.give(a)
    assert ws.held_bytes() == 8000  # the first one was dropped
    assert all(ws.take((1000,), np.float32) is not arrays[0] for _ in range(2))
    ws.give(np.empty(20_000, np.uint8))  # larger than the cap: never kept
    assert ws.held_bytes() == 0
    ws.clear()
