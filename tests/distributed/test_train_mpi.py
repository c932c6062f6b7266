"""`mpiexec -n 2 shenjing train` against one process with the same seed and global batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shenjing.train import load_checkpoint
from tests.cli_helpers import CLI, fake_fashion, run_cli

from .mpi_helpers import run_ranks

FASHION = Path("/usr/share/datasets/fashion-mnist")


def weights(run: Path) -> dict:
    return {k: v.numpy() for k, v in load_checkpoint(run / "checkpoint.safetensors")["model"].items()}


def relative_difference(a: dict, b: dict) -> float:
    """max over tensors of ‖a − b‖ / ‖a‖ (floating-point tensors)."""
    return max(float(np.linalg.norm(a[k] - b[k]) / (np.linalg.norm(a[k]) + 1e-12)) for k in a if a[k].dtype.kind == "f")


def both(args: list, tmp_path: Path) -> tuple[dict, dict]:
    one, two = tmp_path / "one", tmp_path / "two"
    res = run_cli([*args, "--out", one])
    assert res.returncode == 0, res.stderr
    res = run_ranks(2, [*CLI, *args, "--out", two], timeout=300)
    assert res.returncode == 0, res.stderr
    assert "on 2 ranks (" in res.stdout and res.stdout.count("test accuracy") == 1  # rank 0 alone reports
    assert json.loads((two / "config.json").read_text())["ranks"] == 2
    return weights(one), weights(two)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_fashion(tmp_path_factory.mktemp("fashion"), n_train=1024, n_test=200)


@pytest.mark.skipif(not (FASHION / "t10k-labels-idx1-ubyte.gz").exists(), reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
def test_two_ranks_end_with_the_weights_of_one_process(tmp_path):
    a, b = both(["train", "--epochs", "1", "--subset", "8192", "--dropout", "0", "--quiet"], tmp_path)
    assert relative_difference(a, b) < 1e-4


def test_batch_norm_cnn_with_sync_batch_norm(data, tmp_path):
    args = ["train", "--data", data, "--model", "cnn", "--opt", "convs=1", "--opt", "fc=32", "--dropout", "0", "--val-size", "0",
            "--epochs", "1", "--optimizer", "sgd", "--lr", "0.01", "--quiet"]
    a, b = both(args, tmp_path)
    assert relative_difference(a, b) < 1e-4


def test_resume_under_mpi(data, tmp_path):
    base = ["train", "--data", data, "--hidden", "32", "--dropout", "0", "--val-size", "100", "--quiet"]
    ref, run = tmp_path / "ref", tmp_path / "run"
    assert run_cli([*base, "--epochs", "2", "--out", ref]).returncode == 0
    assert run_ranks(2, [*CLI, *base, "--epochs", "1", "--out", run]).returncode == 0
    res = run_ranks(2, [*CLI, *base, "--epochs", "2", "--out", run, "--resume"])
    assert res.returncode == 0 and "resuming from the checkpoint of epoch 1" in res.stdout
    assert relative_difference(weights(ref), weights(run)) < 1e-4
    assert [row["epoch"] for row in json.loads((run / "history.json").read_text())] == [1, 2]


def test_batch_that_does_not_split_and_divergence_stop_every_rank(data, tmp_path):
    res = run_ranks(2, [*CLI, "train", "--data", data, "--batch-size", "33", "--out", tmp_path / "a", "--quiet"])
    assert res.returncode == 2 and "--batch-size" in res.stderr and "Traceback" not in res.stderr
    diverging = ["train", "--data", data, "--lr", "1e6", "--hidden", "32", "--val-size", "100", "--epochs", "2", "--quiet"]
    res = run_ranks(2, [*CLI, *diverging, "--out", tmp_path / "b"])
    assert res.returncode == 6 and "(rank 0) training diverged" in res.stderr and "(rank 1) training diverged" in res.stderr
