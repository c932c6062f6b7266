"""``shenjing sweep --workers 2``: the trials dealt over 2 MPI ranks give the table of a serial sweep."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from tests.cli_helpers import CLI, fake_fashion

from .mpi_helpers import env, mpiexec


def sweep(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = [*CLI, "sweep", "--grid", "lr=0.001,0.1,1e6", "--grid", "hidden=64,128x128", "--out", str(out), *extra,
            "--", "--data", str(data), "--epochs", "1", "--val-size", "100", "--batch-size", "64", "--dropout", "0.2"]
    return subprocess.run(argv, capture_output=True, text=True, env=env(), timeout=300)


def table(out: Path) -> list[dict]:
    """sweep.csv without the training times."""
    return [{k: v for k, v in row.items() if k != "train_seconds"} for row in csv.DictReader((out / "sweep.csv").open())]


def test_sweep_on_two_ranks_equals_serial(tmp_path):
    mpiexec()
    data = fake_fashion(tmp_path / "data", n_train=400, n_test=100)
    serial, spread = sweep(data, tmp_path / "serial"), sweep(data, tmp_path / "spread", "--workers", "2")
    assert serial.returncode == 0, serial.stderr
    assert spread.returncode == 0, spread.stderr
    rows = table(tmp_path / "spread")
    assert rows == table(tmp_path / "serial")  # the same metrics to the last bit, dropout masks included (both on 1 BLAS thread)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "ok", "diverged", "diverged"]
    # rank 0 alone writes the table and the figure; every trial trained in one process
    assert spread.stdout.count("sweep: 6 trials on 2 ranks, 2 diverged -> ") == 1 and (tmp_path / "spread" / "sweep.png").exists()
    assert all(json.loads((tmp_path / "spread" / r["trial"] / "config.json").read_text())["ranks"] == 1 for r in rows)
