"""Intra-op threads (线程) for the NumPy work of the convolution and pooling kernels.

NumPy runs one ufunc or copy on one core, while BLAS (the GEMMs) and PyTorch use them all. NumPy
releases the GIL inside its loops, so splitting an operation along the batch dimension over a few
Python threads runs the pieces in parallel. ``set_num_threads(n)`` (like ``torch.set_num_threads``)
sets how many; the default is the number of CPUs (NumPy's BLAS also uses all of them by default).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_num = [max(1, int(os.environ.get("SHENJING_NUM_THREADS", os.cpu_count() or 1)))]
_pool: list = [None, 0]

#: below this many elements of work a split is not worth the hand-over to another thread
MIN_PARALLEL = 1 << 19


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for the splittable NumPy work of conv/pool kernels (BLAS is set apart)."""
    _num[0] = max(1, int(n))


def get_num_threads() -> int:
    return _num[0]


def _executor(n: int) -> ThreadPoolExecutor:
    if _pool[0] is None or _pool[1] < n:
        if _pool[0] is not None:
            _pool[0].shutdown(wait=False)
        _pool[0], _pool[1] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="shenjing"), n
    return _pool[0]


def _forget_pool() -> None:
    """In a forked child (a DataLoader worker) the parent's threads do not exist: start afresh."""
    _pool[0], _pool[1] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def for_chunks(fn, n: int, work: int) -> None:
    """fn(lo, hi) over contiguous chunks of range(n), on up to get_num_threads() threads (the
    caller runs the first chunk) when ``work`` (elements touched) is large enough."""
    t = min(_num[0], n, max(1, work // MIN_PARALLEL))
    if t <= 1:
        fn(0, n)
        return
    step = -(-n // t)
    futures = [_executor(t - 1).submit(fn, lo, min(lo + step, n)) for lo in range(step, n, step)]
    try:
        fn(0, step)
    finally:
        for f in futures:
            f.result()
