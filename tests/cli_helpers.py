"""Helpers for the tests of the ``shenjing`` command (tests/test_cli.py, tests/reliability/): a small
learnable Fashion-MNIST look-alike, the command in a subprocess or in this process, and the
comparison of two runs' results bit for bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from shenjing.data import write_idx

CLI = [sys.executable, "-m", "shenjing.cli"]
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def fake_fashion(folder: Path, n_train: int = 600, n_test: int = 200, seed: int = 0) -> Path:
    """Four IDX files shaped like Fashion-MNIST's: noise with a bright band whose row is the class."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        y = (np.arange(n) % 10).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for c in range(10):
            x[y == c, 2 * c:2 * c + 3, :] += 150
        write_idx(folder / FILES[split][0], x)
        write_idx(folder / FILES[split][1], y)
    return folder


def small_run(data: Path, out: Path, *extra: str, epochs: int = 3) -> list[str]:
    """The arguments of a small training run (8 steps per epoch) on :func:`fake_fashion` data."""
    return ["train", "--data", str(data), "--val-size", "100", "--hidden", "32", "--batch-size", "64",
            "--epochs", str(epochs), "--quiet", "--out", str(out), *extra]


def cli_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SHENJING_FAULT", "SHENJING_DATA")}
    env.update(extra)
    return env


def run_cli(args: list[str], fault: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``shenjing ARGS`` in a subprocess (with ``SHENJING_FAULT=fault`` if given)."""
    env = cli_env(**({"SHENJING_FAULT": fault} if fault else {}))
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=timeout)


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    """``shenjing ARGV`` in this process: (exit code, stdout, stderr)."""
    from shenjing.cli import main

    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    """The single line of a failure on stderr (asserts there is exactly one and no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (name → bytes), to check that a refused command changed nothing."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


def _drop(rows, *keys):
    return [{k: v for k, v in r.items() if k not in keys} for r in rows]


def assert_same_run(a: Path, b: Path) -> None:
    """Two run folders hold the same results bit for bit: every tensor of the checkpoint (model,
    optimiser, generators' states), the epoch and step, the history and the test metrics (all but
    the wall-clock times), and no temporary file is left."""
    from shenjing.train import load_checkpoint

    sa, sb = load_checkpoint(a / "checkpoint.safetensors"), load_checkpoint(b / "checkpoint.safetensors")
    assert (sa["epoch"], sa["global_step"]) == (sb["epoch"], sb["global_step"])
    for part in ("model", "optimizer", "rng"):
        _assert_same_tree(sa[part], sb[part], part)
    assert _drop(sa["history"], "seconds") == _drop(sb["history"], "seconds")
    ha, hb = (json.loads((d / "history.json").read_text()) for d in (a, b))
    assert _drop(ha, "seconds") == _drop(hb, "seconds") == _drop(sa["history"], "seconds")
    assert (a / "history.csv").read_text().count("\n") == (b / "history.csv").read_text().count("\n") == len(ha) + 1
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    assert _drop([ma], "train_seconds") == _drop([mb], "train_seconds")
    for d in (a, b):
        assert not [p.name for p in d.iterdir() if p.name.endswith(".tmp")], f"temporary files left in {d}"


def _assert_same_tree(x, y, where: str) -> None:
    if isinstance(x, dict):
        assert isinstance(y, dict) and list(x) == list(y), where
        for k in x:
            _assert_same_tree(x[k], y[k], f"{where}.{k}")
    elif isinstance(x, (list, tuple)):
        assert isinstance(y, (list, tuple)) and len(x) == len(y), where
        for i, (u, v) in enumerate(zip(x, y)):
            _assert_same_tree(u, v, f"{where}[{i}]")
    elif hasattr(x, "numpy"):
        u, v = x.detach().numpy(), y.detach().numpy()
        assert u.dtype == v.dtype and u.shape == v.shape and np.array_equal(u, v), where
    else:
        assert x == y, where
