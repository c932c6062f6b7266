"""Kills at any moment, then ``--resume``: the run ends bit for bit as one never interrupted.

A run of ``shenjing train`` (3 epochs of 8 steps on a small Fashion-MNIST look-alike) is killed
with SIGKILL — at named points inside the steps and the atomic writes (``SHENJING_FAULT``, see
``shenjing/files.py``: after a temporary file is written but before its rename, between the
checkpoint's rename and the history's, during a step), or after a random delay — and resumed until
it completes. Its checkpoint tensors, history and test metrics must equal those of the
uninterrupted run, and no temporary file may remain. Fast cases run by default; the full matrix
with ``-m slow``.
"""

import signal
import subprocess
import time

import pytest
from cli_helpers import CLI, assert_same_run, cli_env, fake_fashion, run_cli, small_run

from shenjing.train import load_checkpoint


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(data folder, uninterrupted run folder, its wall time in seconds)."""
    root = tmp_path_factory.mktemp("kill")
    data = fake_fashion(root / "data")
    t0 = time.perf_counter()
    r = run_cli(small_run(data, root / "ref"))
    assert r.returncode == 0, r.stderr
    return data, root / "ref", time.perf_counter() - t0


def resume_until_done(data, out, attempts: int = 3) -> None:
    for _ in range(attempts):
        r = run_cli(small_run(data, out, "--resume"))
        if r.returncode == 0:
            return
        assert r.returncode == -signal.SIGKILL, r.stderr
    raise AssertionError("the resumed run did not complete")


def kill_at(point: str, data, out) -> None:
    r = run_cli(small_run(data, out), fault=point)
    assert r.returncode == -signal.SIGKILL, f"the fault point {point} was not reached: {r.stderr}"


FAST_POINTS = ["step@11", "written:checkpoint.safetensors@2", "replaced:checkpoint.safetensors@2"]
SLOW_POINTS = ["step@1", "step@24", "replaced:config.json", "written:checkpoint.safetensors@1", "replaced:checkpoint.safetensors@3",
               "written:checkpoint.json@2", "replaced:checkpoint.json@1", "written:history.csv@2", "written:history.json@3",
               "replaced:history.json@1", "written:metrics.json", "replaced:metrics.json", "written:curves.png"]


@pytest.mark.parametrize("point", FAST_POINTS + [pytest.param(p, marks=pytest.mark.slow) for p in SLOW_POINTS])
def test_kill_at_a_named_point_then_resume_is_bit_exact(reference, tmp_path, point):
    data, ref, _ = reference
    out = tmp_path / "run"
    kill_at(point, data, out)
    if point == "written:checkpoint.safetensors@2":  # killed before the rename: the old checkpoint, a leftover
        assert load_checkpoint(out / "checkpoint.safetensors")["epoch"] == 1
        assert [p.name for p in out.glob(".checkpoint.safetensors.*.tmp")]
    if point == "replaced:checkpoint.safetensors@2":  # killed between the renames: the history is one epoch behind
        assert load_checkpoint(out / "checkpoint.safetensors")["epoch"] == 2
        assert (out / "history.json").read_text().count('"epoch"') == 1
    resume_until_done(data, out)
    assert_same_run(ref, out)


def kill_after(delay: float, args, timeout: float = 300) -> int:
    p = subprocess.Popen(CLI + [str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env())
    try:
        p.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
    p.stderr.close()
    return p.wait(timeout=timeout)


@pytest.mark.parametrize("kills", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
@pytest.mark.parametrize("case", [0, *(pytest.param(i, marks=pytest.mark.slow) for i in range(1, 5))])
def test_kill_after_a_random_delay_then_resume_is_bit_exact(reference, tmp_path, rng, kills, case):
    """``kills`` SIGKILLs at random moments (the first run, then the resumed ones), then a resume
    that completes. The delays come from the test's seeded generator (replayable)."""
    data, ref, seconds = reference
    out = tmp_path / "run"
    codes = []
    for k in range(kills):
        args = small_run(data, out, *(["--resume"] if k else []))
        codes.append(kill_after(float(rng.uniform(0.3, seconds)), args))
    assert set(codes) <= {0, -signal.SIGKILL}, codes
    resume_until_done(data, out)
    assert_same_run(ref, out)
