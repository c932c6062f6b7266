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


def for_chunks(fn, n: int, work: int, block: int | None = None) -> None:
    """fn(lo, hi) over contiguous chunks of range(n), on up to get_num_threads() threads (the
    caller runs the first chunk) when ``work`` (elements touched) is large enough; with ``block``,
    each thread's chunk is further cut into calls of at most ``block`` items (so that an operation of
    several passes works on pieces that stay in cache).

    A chunk that no worker has started by the time the caller is done with its own is run by the
    caller (on a loaded machine a worker may wait a whole time slice to be scheduled)."""
    if block is not None and block < n:
        inner = fn

        def fn(lo, hi):
            for a in range(lo, hi, block):
                inner(a, min(a + block, hi))

    t = min(_num[0], n, max(1, work // MIN_PARALLEL))
    if t <= 1:
        fn(0, n)
        return
    step = -(-n // t)
    ex = _executor(t - 1)
    jobs = [(lo, min(lo + step, n), ex.submit(fn, lo, min(lo + step, n))) for lo in range(step, n, step)]
    error = None
    try:
        fn(0, step)
    except BaseException as e:  # still wait for the workers: they write into the caller's arrays
        error = e
    for lo, hi, f in jobs:
        if f.cancel():  # not started: do it here
            if error is None:
                fn(lo, hi)
        else:
            f.result()
    if error is not None:
        raise error
