"""Scratch memory (工作区) for the convolution and pooling kernels, and the allocator setting.

A fresh NumPy array of tens of MB costs its page faults on first touch: measured on the benchmark
CNN step, ~8 600 minor faults and 23 ms of kernel time per step (of ~100 ms) with glibc's default
malloc, which returns large freed blocks to the OS and maps them again for the next array. Two
remedies, both here:

* ``take``/``give``: the kernels' own big scratch arrays (im2col matrices, the per-offset GEMM
  results of the input gradient, pooling's row maxima) are recycled within the process;
* ``tune_malloc``: glibc keeps freed memory for reuse (``mallopt``: blocks up to 256 MB come from
  the heap, and up to 1 GB of free heap is kept instead of being trimmed). Page faults per CNN step
  drop to ~0 (PyTorch recommends a caching malloc such as jemalloc on CPU for the same reason). It
  is process-wide and done once at import; set ``SHENJING_TUNE_MALLOC=0`` to leave malloc alone.
"""

from __future__ import annotations

import os

from ..backend import xp

#: at most this many bytes of scratch arrays are kept for reuse
WORKSPACE_BYTES = 1 << 28
_free: dict = {}
_held = [0]


def take(shape, dtype):
    """An uninitialised array, recycled from the workspace when one of this shape is free."""
    free = _free.get((tuple(shape), xp.dtype(dtype).str))
    if free:
        a = free.pop()
        _held[0] -= a.nbytes
        return a
    return xp.empty(shape, dtype=dtype)


def give(a) -> None:
    """Hand back a scratch array from ``take`` that nothing else references any more (a view of it
    gives back its base)."""
    if a is None:
        return
    while isinstance(a.base, xp.ndarray):
        a = a.base
    if a.nbytes < (1 << 20) or _held[0] + a.nbytes > WORKSPACE_BYTES:
        return
    _free.setdefault((a.shape, a.dtype.str), []).append(a)
    _held[0] += a.nbytes


def clear() -> None:
    """Release every array kept for reuse."""
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


if os.environ.get("SHENJING_TUNE_MALLOC", "1") != "0":
    tune_malloc()
