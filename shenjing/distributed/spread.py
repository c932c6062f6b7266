"""Spreading independent jobs (lab experiments, sweep trials) over MPI ranks: ``--workers N`` relaunches
the command under ``mpiexec -n N``; each rank runs its share and every rank gathers the (small,
JSON-able) results, rank 0 to report them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import group

INSTALL_HINT = "pip install 'shenjing[mpi]'"


def find_mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich wheel's), else on PATH; None without mpi4py or mpiexec."""
    if not group.is_available():
        return None
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def relaunch(workers: int, argv: list[str]) -> int:
    """Run ``python -m shenjing.cli ARGV`` on ``workers`` ranks; returns its exit code.
    Raises RuntimeError (one line naming the install command) when MPI is missing."""
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise RuntimeError(f"--workers {workers} needs MPI (mpi4py and mpiexec): {INSTALL_HINT}")
    return subprocess.call([mpiexec, "-n", str(workers), sys.executable, "-m", "shenjing.cli", *argv])


def deal(items: list, rank: int, size: int) -> list:
    """Rank ``rank``'s share of ``items``: round robin in their order (item i goes to rank i mod size)."""
    return items[rank::size]


def gather_in_order(results: list[Any], n_items: int, size: int) -> list[Any]:
    """Every rank's results back in the items' order (as dealt by ``deal``), on every rank: each can
    then return the same exit code (a rank returning another one alone would abort the job)."""
    from mpi4py import MPI

    ordered: list[Any] = [None] * n_items
    for r, share in enumerate(MPI.COMM_WORLD.allgather(results)):
        ordered[r::size] = share
    return ordered
