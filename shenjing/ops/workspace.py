"""Scratch memory (工作区) for the convolution and pooling kernels, and the allocator setting.

A fresh NumPy array of tens of MB costs its page faults on first touch: measured on the benchmark
CNN step, ~8 600 minor faults and 23 ms of kernel time per step (of ~100 ms) with glibc's default
malloc, which returns large freed blocks to the OS and maps them again for the next array. Two
remedies, both here:

* ``take``/``give``: the kernels' own big scratch arrays (im2col matrices, the per-offset GEMM
  results of the input gradient, pooling's row maxima, batch norm's blocks) are recycled within
  the process — by size, not only by shape (an evaluation batch reuses the training step's
  buffers), at most ``WORKSPACE_BYTES``, the least recently returned dropped first;
* ``tune_malloc``: glibc keeps freed memory for reuse (``mallopt``: blocks up to 256 MB come from
  the heap, and up to 1 GB of free heap is kept instead of being trimmed). Page faults per CNN step
  drop to ~0 (PyTorch recommends a caching malloc such as jemalloc on CPU for the same reason). It
  is process-wide, so it is done only when asked: ``shenjing.tune_malloc()`` (the ``shenjing``
  command and the benchmarks call it), or ``SHENJING_TUNE_MALLOC=1`` in the environment at import.
"""

from __future__ import annotations

import os
import threading

from ..backend import xp

#: at most this many bytes of scratch arrays are kept for reuse (the small CNN's training step uses
#: ~75 MB of scratch at batch 128; the least recently returned arrays are dropped first)
WORKSPACE_BYTES = 1 << 27
#: arrays smaller than this are not kept (malloc serves them without page faults)
MIN_KEEP_BYTES = 1 << 20
_free: list = []  # kept arrays (each owns its memory), least recently returned first
_held = [0]
_lock = threading.Lock()


def take(shape, dtype):
    """An uninitialised C-contiguous array: a kept one of this shape, else a view of the smallest kept
    array with room for it (at most twice the size needed), else a new one."""
    dt = xp.dtype(dtype)
    shape = tuple(shape)
    need = dt.itemsize
    for s in shape:
        need *= s
    best = None
    with _lock:  # the kernels' pieces call take/give from the thread pool too
        for i, a in enumerate(_free):
            if a.shape == shape and a.dtype == dt:
                best = i
                break
            if need <= a.nbytes <= 2 * need and (best is None or a.nbytes < _free[best].nbytes):
                best = i
        if best is None:
            return xp.empty(shape, dtype=dt)
        a = _free.pop(best)
        _held[0] -= a.nbytes
    if a.shape == shape and a.dtype == dt:
        return a
    return a.reshape(-1).view(xp.uint8)[:need].view(dt).reshape(shape)


def give(a) -> None:
    """Hand back a scratch array from ``take`` that nothing else references any more (a view of it
    gives back the array that owns the memory)."""
    if a is None:
        return
    while isinstance(a.base, xp.ndarray):
        a = a.base
    if a.nbytes < MIN_KEEP_BYTES or a.nbytes > WORKSPACE_BYTES:
        return
    with _lock:
        if any(b is a for b in _free):
            return
        while _held[0] + a.nbytes > WORKSPACE_BYTES:
            _held[0] -= _free.pop(0).nbytes
        _free.append(a)
        _held[0] += a.nbytes


def held_bytes() -> int:
    """Bytes of scratch arrays kept for reuse now."""
    return _held[0]


def clear() -> None:
    """Release every array kept for reuse."""
    with _lock:
        _free.clear()
        _held[0] = 0


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def tune_malloc(mmap_threshold: int = 1 << 28, trim_threshold: int = 1 << 30) -> bool:
    """Ask glibc's malloc to serve blocks below ``mmap_threshold`` from the heap and to keep up to
    ``trim_threshold`` bytes of freed heap for reuse. True if it took effect (glibc only)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    return bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1 and ok)


if os.environ.get("SHENJING_TUNE_MALLOC", "0") == "1":
    tune_malloc()
