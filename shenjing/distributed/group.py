"""The process group (进程组) on MPI, and collectives on Tensors (torch.distributed's names).

``init()`` reads the world from the MPI environment that ``mpiexec`` sets up (through mpi4py);
without mpiexec it is a world of one process, and mpi4py is not needed. Collectives work in
place on the Tensor's array with MPI's buffer interface (no pickling) and bump its version
counter. A collective that does not complete within ``timeout`` seconds (a rank died or stopped
calling it) aborts every rank with a message instead of hanging."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from enum import Enum
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp

#: seconds a collective may wait for the other ranks before the job is aborted
DEFAULT_TIMEOUT = 600.0
ABORT_FLUSH_S = 0.5  # s between the message and the abort
#: environment variables by which an MPI launcher (MPICH's hydra, Open MPI, Slurm's PMI) announces a world
_LAUNCHER_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS")


class ReduceOp(Enum):
    """How ``all_reduce`` combines the ranks' tensors (torch.distributed.ReduceOp)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "prod"
    MIN = "min"
    MAX = "max"


class _World:
    comm: Any = None  # the mpi4py communicator, or None in a world of one process
    rank = 0
    size = 1
    initialized = False
    timeout = DEFAULT_TIMEOUT


_world = _World()


def is_available() -> bool:
    """Is mpi4py installed (``pip install 'shenjing[mpi]'``)?"""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def launched_by_mpi() -> bool:
    """Was this process started by an MPI launcher (mpiexec, srun) in a world of several processes?"""
    return any(int(os.environ.get(v, "1") or 1) > 1 for v in _LAUNCHER_VARS)


def init(timeout: float = DEFAULT_TIMEOUT) -> None:
    """Join the MPI world (torch.distributed.init_process_group(backend="mpi")); idempotent.

    Outside mpiexec, and without mpi4py, the world is this one process."""
    if _world.initialized:
        return
    if not is_available():
        if launched_by_mpi():
            raise RuntimeError("shenjing.distributed: started by mpiexec but mpi4py is not installed: pip install 'shenjing[mpi]'")
        _world.initialized, _world.timeout = True, timeout
        return
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    _world.comm, _world.rank, _world.size = comm, comm.Get_rank(), comm.Get_size()
    _world.initialized, _world.timeout = True, timeout


def init_process_group(backend: str = "mpi", timeout: float | None = None, **_: Any) -> None:
    """torch's spelling of :func:`init`; only the ``"mpi"`` backend exists."""
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend must be 'mpi' (shenjing runs on MPI), got {backend!r}")
    init(DEFAULT_TIMEOUT if timeout is None else float(getattr(timeout, "total_seconds", lambda: timeout)()))


def is_initialized() -> bool:
    return _world.initialized


def destroy_process_group() -> None:
    _world.comm, _world.rank, _world.size, _world.initialized = None, 0, 1, False


def get_rank() -> int:
    return _world.rank


def get_world_size() -> int:
    return _world.size


@contextlib.contextmanager
def alone() -> Iterator[None]:
    """Within the block this rank is a world of one process (rank 0 of 1; collectives act on it alone):
    independent jobs dealt over the ranks (``--workers``) — a training run each — run as serially."""
    saved = _world.comm, _world.rank, _world.size
    _world.comm, _world.rank, _world.size = None, 0, 1
    try:
        yield
    finally:
        _world.comm, _world.rank, _world.size = saved


def local_size() -> int:
    """How many ranks run on this machine (they share its cores)."""
    if _world.size == 1:
        return 1
    from mpi4py import MPI

    return _world.comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()


def _require() -> None:
    if not _world.initialized:
        raise RuntimeError("shenjing.distributed: call shenjing.distributed.init() first")


def _abort(message: str, code: int) -> None:
    """Say why on stderr, give mpiexec a moment to forward it (an abort kills the ranks' output
    pipes with them), then abort every rank."""
    print(message, file=sys.stderr, flush=True)
    time.sleep(ABORT_FLUSH_S)
    _world.comm.Abort(code)


def _guarded(what: str, call) -> Any:
    """Run a blocking MPI call; if it has not returned after the timeout, abort every rank."""
    done = threading.Event()

    def watchdog() -> None:
        if not done.wait(_world.timeout):
            _abort(f"shenjing.distributed: rank {_world.rank}: {what} waited {_world.timeout:.0f} s for the other ranks "
                   "(a rank has died or stopped); aborting the job", 1)

    t = threading.Thread(target=watchdog, daemon=True)
    t.start()
    try:
        return call()
    finally:
        done.set()


def _mpi_op(op: ReduceOp):
    from mpi4py import MPI

    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


def all_reduce_array(a, op: ReduceOp = ReduceOp.SUM) -> None:
    """``a`` (a contiguous array) ← the reduction of every rank's ``a``, in place."""
    _require()
    if _world.size == 1:
        return
    from mpi4py import MPI

    _guarded("all_reduce", lambda: _world.comm.Allreduce(MPI.IN_PLACE, a, op=_mpi_op(op)))
    if op is ReduceOp.AVG:
        a /= _world.size


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM) -> None:
    """torch.distributed.all_reduce: every rank's ``tensor`` becomes the reduction, in place."""
    with tensor.inplace() as a:
        if a.flags.c_contiguous:
            all_reduce_array(a, op)
        else:
            b = xp.ascontiguousarray(a)
            all_reduce_array(b, op)
            a[...] = b


def broadcast(tensor: Tensor, src: int = 0) -> None:
    """torch.distributed.broadcast: ``tensor`` on every rank becomes rank ``src``'s, in place."""
    _require()
    if _world.size == 1:
        return
    with tensor.inplace() as a:
        b = a if a.flags.c_contiguous else xp.ascontiguousarray(a)
        _guarded("broadcast", lambda: _world.comm.Bcast(b, root=src))
        if b is not a:
            a[...] = b


def all_gather(tensor_list: list, tensor: Tensor) -> None:
    """torch.distributed.all_gather: ``tensor_list[r]`` ← rank r's ``tensor`` (same shape on every rank)."""
    _require()
    if len(tensor_list) != _world.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries for a world of {_world.size}")
    a = xp.ascontiguousarray(tensor.array)
    out = xp.empty((_world.size,) + a.shape, dtype=a.dtype)
    if _world.size == 1:
        out[0] = a
    else:
        _guarded("all_gather", lambda: _world.comm.Allgather(a, out))
    for r, t in enumerate(tensor_list):
        with t.inplace() as dst:
            dst[...] = out[r]


def barrier() -> None:
    """Wait until every rank has reached this call."""
    _require()
    if _world.size > 1:
        _guarded("barrier", _world.comm.Barrier)


def any_rank(flag: bool) -> bool:
    """Is ``flag`` true on any rank? (one small all-reduce: for stopping every rank together)"""
    if _world.size == 1:
        return flag
    a = xp.asarray([1.0 if flag else 0.0])
    all_reduce_array(a, ReduceOp.MAX)
    return bool(a[0] > 0)


def mean_value(value: float) -> float:
    """The mean of a Python number over the ranks."""
    if _world.size == 1:
        return value
    a = xp.asarray([value], dtype=xp.float64)
    all_reduce_array(a, ReduceOp.SUM)
    return float(a[0] / _world.size)


def finish(code: int, grace: float = 5.0) -> int:
    """Leave the world with exit ``code``: after a failure, wait up to ``grace`` s for every rank to
    fail too (a failure all ranks meet, like divergence); if some rank does not, abort the job —
    a rank that failed alone must not leave the others waiting in a collective."""
    if code == 0 or _world.size == 1:
        return code
    request = _world.comm.Ibarrier()
    deadline = time.monotonic() + grace
    while not request.Test():
        if time.monotonic() > deadline:
            _abort(f"shenjing: rank {_world.rank} failed (exit code {code}); aborting the other ranks", code)
        time.sleep(0.01)
    return code
