"""Running a Python snippet or the command on 2 MPI ranks (mpiexec from the `mpi` extra, loopback)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def mpiexec() -> str:
    """The mpiexec beside this Python (the mpich wheel's), or on PATH; skip when MPI is not installed."""
    pytest.importorskip("mpi4py", reason="MPI is not installed: pip install -e '.[mpi]' (CI installs it)")
    here = Path(sys.executable).parent / "mpiexec"
    found = str(here) if here.exists() else shutil.which("mpiexec")
    if not found:
        pytest.skip("mpi4py is installed but no mpiexec was found")
    return found


def env() -> dict:
    e = {k: v for k, v in os.environ.items() if k not in ("SHENJING_FAULT", "SHENJING_DATA")}
    e["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return e


def run_ranks(n: int, args: list, timeout: float = 120) -> subprocess.CompletedProcess:
    """``mpiexec -n n ARGS`` (a timeout fails the test instead of hanging it)."""
    return subprocess.run([mpiexec(), "-n", str(n), *map(str, args)], capture_output=True, text=True, env=env(), timeout=timeout)


def run_script(n: int, code: str, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    script = tmp_path / "ranks.py"
    script.write_text(code)
    return run_ranks(n, [sys.executable, script], timeout)
