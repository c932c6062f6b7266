import json
import subprocess
import sys

import pytest

from shenjing.data.datasets import find_files

CLI = [sys.executable, "-m", "shenjing.cli"]
HAVE_FASHION = find_files("fashion-mnist", "train") is not None and find_files("fashion-mnist", "test") is not None


def test_help_for_every_command():
    for cmd in ([], ["train"], ["evaluate"], ["info"]):
        r = subprocess.run(CLI + cmd + ["--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage: shenjing" in r.stdout


def test_info_names_backend_and_datasets():
    r = subprocess.run(CLI + ["info"], capture_output=True, text=True, check=True)
    assert "backend: numpy" in r.stdout and "dataset fashion-mnist" in r.stdout


def test_missing_dataset_gives_clear_error(tmp_path):
    r = subprocess.run(CLI + ["train", "--data", str(tmp_path), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "apt-get install dataset-fashion-mnist" in r.stderr


@pytest.mark.skipif(not HAVE_FASHION, reason="Fashion-MNIST files not installed (apt-get install dataset-fashion-mnist)")
def test_train_then_evaluate_on_fashion_mnist(tmp_path):
    out = tmp_path / "run"
    subprocess.run(CLI + ["train", "--subset", "3000", "--val-size", "1000", "--epochs", "2", "--hidden", "64",
                          "--out", str(out), "--quiet"], check=True, capture_output=True)
    for f in ("history.csv", "history.json", "metrics.json", "curves.png", "confusion.png", "checkpoint.safetensors", "config.json"):
        assert (out / f).stat().st_size > 0, f
    m = json.loads((out / "metrics.json").read_text())
    assert m["test_accuracy"] > 0.6 and m["epochs"] == 2 and m["train_seconds"] > 0
    r = subprocess.run(CLI + ["evaluate", str(out / "checkpoint.safetensors")], capture_output=True, text=True, check=True)
    ev = json.loads(r.stdout)
    assert ev["epoch"] == 2 and abs(ev["test_accuracy"] - m["test_accuracy"]) < 1e-12
