"""``shenjing lab run ID... --workers 2`` and ``lab report --workers 2``: experiments spread over 2 MPI ranks
give the result.json and the report of a serial run."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from shenjing.distributed.spread import deal

from .mpi_helpers import env, mpiexec

IDS = ["frequency-principle", "vanishing-gradients", "xor"]


def lab_run(out, *extra, command: str = "run") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shenjing.cli", "lab", command, *IDS, "--quick", "--out", str(out), *extra],
                          capture_output=True, text=True, env=env(), timeout=180)


def results(out) -> dict:
    """Each experiment's result.json without its runtime fields."""
    got = {}
    for exp_id in IDS:
        res = json.loads((out / exp_id / "result.json").read_text())
        got[exp_id] = {k: v for k, v in res.items() if "runtime" not in k}
    return got


def test_deal_is_round_robin_and_covers_every_item():
    items = list(range(7))
    shares = [deal(items, r, 3) for r in range(3)]
    assert shares == [[0, 3, 6], [1, 4], [2, 5]]
    assert sorted(sum(shares, [])) == items


def test_lab_run_with_two_workers_equals_serial(tmp_path):
    mpiexec()
    serial, spread = lab_run(tmp_path / "serial"), lab_run(tmp_path / "spread", "--workers", "2", "--lang", "zh")
    assert serial.returncode == 0, serial.stderr
    assert spread.returncode == 0, spread.stderr
    assert results(tmp_path / "serial") == results(tmp_path / "spread")
    # rank 0 prints every experiment once, in the order asked
    printed = [line.split(":")[0] for line in spread.stdout.splitlines() if not line.startswith(" ")]
    assert printed == IDS
    assert spread.stdout.count("结论: 论断成立") == len(IDS)  # --lang reaches the relaunched ranks


def test_lab_report_with_two_workers_equals_serial(tmp_path):
    mpiexec()
    serial, spread = (lab_run(tmp_path / name, *extra, command="report") for name, extra in (("serial", ()), ("spread", ("--workers", "2"))))
    assert serial.returncode == 0, serial.stderr
    assert spread.returncode == 0, spread.stderr
    assert results(tmp_path / "serial") == results(tmp_path / "spread")

    def page(out) -> str:  # the report without the runtimes
        return re.sub(r"\d+\.\d s<", " s<", (out / "report.html").read_text())

    assert page(tmp_path / "serial") == page(tmp_path / "spread")
    assert all(f"id='{exp_id}'" in page(tmp_path / "spread") for exp_id in IDS)
    # each rank prints its experiments' progress lines; rank 0 alone writes and names the page
    assert sorted(line.split()[1] for line in spread.stdout.splitlines() if line.startswith("✓")) == sorted(IDS)
    assert spread.stdout.count("report: ") == 1


def test_lab_run_refuses_an_unknown_id_among_several(tmp_path):
    r = subprocess.run([sys.executable, "-m", "shenjing.cli", "lab", "run", "xor", "no-such", "--quick", "--out", str(tmp_path)],
                       capture_output=True, text=True, env=env(), timeout=60)
    assert r.returncode == 2 and "unknown lab experiment 'no-such'" in r.stderr
