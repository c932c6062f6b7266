"""The ``shenjing`` command: help, train/evaluate, honest resume, divergence, and how failures are
reported (one line and an exit code per kind; a traceback only with --debug or for an internal
error). The fault-injection and matrix tests are in tests/reliability/."""

import json
import subprocess
import sys

import pytest
from cli_helpers import CLI, cli_env, fake_fashion, one_line_error, run_cli, run_main, small_run, snapshot

from shenjing import cli
from shenjing.data.datasets import find_files
from shenjing.train import load_checkpoint

HAVE_FASHION = find_files("fashion-mnist", "train") is not None and find_files("fashion-mnist", "test") is not None


@pytest.fixture
def data(tmp_path):
    return fake_fashion(tmp_path / "data")


def test_help_for_every_command():
    for cmd in ([], ["train"], ["sweep"], ["evaluate"], ["info"], ["lab"], ["lab", "run"], ["lab", "report"]):
        r = subprocess.run(CLI + cmd + ["--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage: shenjing" in r.stdout
    r = subprocess.run(CLI + ["--help"], capture_output=True, text=True)
    for code, what in cli.EXIT_CODES.items():  # the table of exit codes is in the epilog
        assert f"{code:>3}  {what}" in r.stdout


def test_info_names_backend_and_datasets():
    r = subprocess.run(CLI + ["info"], capture_output=True, text=True, check=True)
    assert "backend: numpy" in r.stdout and "dataset fashion-mnist" in r.stdout


def test_missing_dataset_is_one_line_with_how_to_get_it(tmp_path):
    r = run_cli(["train", "--data", tmp_path, "--out", tmp_path / "o", "--no-download"])
    assert r.returncode == cli.EXIT_INPUT == 3
    line = one_line_error(r.stderr)
    assert line.startswith("shenjing train: error: Fashion-MNIST train files") and "apt-get install dataset-fashion-mnist" in line


def test_usage_error_is_one_line_naming_the_option(capsys, tmp_path):
    code, _, err = run_main(["train", "--lr", "nan", "--out", tmp_path / "o"], capsys)
    assert code == 2 and one_line_error(err) == "shenjing train: error: argument --lr: must be a finite number > 0, got 'nan'"
    assert not (tmp_path / "o").exists()


def test_train_resume_epochs_and_evaluate(data, tmp_path, capsys):
    """--epochs may grow on --resume: the run continues and config.json records the new value."""
    out, ref = tmp_path / "run", tmp_path / "ref"
    assert run_main(small_run(data, ref, epochs=3), capsys)[0] == 0
    assert run_main(small_run(data, out, epochs=2), capsys)[0] == 0
    code, stdout, _ = run_main(small_run(data, out, "--resume", epochs=3), capsys)
    assert code == 0 and "resuming from the checkpoint of epoch 2" in stdout
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["epochs"] == 3 and cfg["resume"] is True and cfg["samples"] == {"train": 500, "val": 100, "test": 200}
    assert cfg["momentum"] is None  # adam has none: nothing is recorded that did not run
    assert load_checkpoint(out / "checkpoint.safetensors")["config"]["epochs"] == 3
    h, r = (json.loads((d / "history.json").read_text()) for d in (out, ref))
    assert [row["epoch"] for row in h] == [1, 2, 3]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in h] == [{k: v for k, v in row.items() if k != "seconds"} for row in r]
    code, stdout, _ = run_main(["evaluate", out / "checkpoint.safetensors"], capsys)
    ev, m = json.loads(stdout), json.loads((out / "metrics.json").read_text())
    assert code == 0 and ev["epoch"] == 3 and ev["test_accuracy"] == m["test_accuracy"] and ev["test_loss"] == m["test_loss"]


@pytest.mark.parametrize("change, named", [
    (["--lr", "0.01"], "--lr 0.001 → 0.01"),
    (["--optimizer", "sgd"], "--optimizer adam → sgd"),
    (["--hidden", "64"], "--hidden 32 → 64"),
    (["--seed", "1", "--batch-size", "32"], "--batch-size 64 → 32; --seed 0 → 1"),
])
def test_resume_with_other_hyper_parameters_is_refused(data, tmp_path, capsys, change, named):
    """The checkpoint's options are what would train: a change is refused, naming each option, and
    no file is touched (config.json included)."""
    out = tmp_path / "run"
    assert run_main(small_run(data, out, epochs=1), capsys)[0] == 0
    before = snapshot(out)
    code, _, err = run_main(small_run(data, out, "--resume", *change, epochs=2), capsys)
    assert code == cli.EXIT_RESUME == 5
    line = one_line_error(err)
    assert named in line and "other options" in line
    assert snapshot(out) == before


def test_resume_refuses_fewer_epochs_and_a_cosine_schedule_of_another_length(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_main(small_run(data, out, "--schedule", "cosine", epochs=2), capsys)[0] == 0
    before = snapshot(out)
    code, _, err = run_main(small_run(data, out, "--schedule", "cosine", "--resume", epochs=3), capsys)
    assert code == 5 and "length of the cosine schedule" in one_line_error(err)
    assert snapshot(out) == before
    assert run_main(small_run(data, out, "--schedule", "cosine", "--resume", epochs=2), capsys)[0] == 0  # nothing left to train
    plain = tmp_path / "plain"
    assert run_main(small_run(data, plain, epochs=2), capsys)[0] == 0
    before = snapshot(plain)
    code, _, err = run_main(small_run(data, plain, "--resume", epochs=1), capsys)
    assert code == 5 and "--epochs 1 is fewer than the 2 epochs" in one_line_error(err)
    assert snapshot(plain) == before


def test_resume_without_a_checkpoint_starts_a_new_run(data, tmp_path, capsys):
    code, stdout, _ = run_main(small_run(data, tmp_path / "new", "--resume", epochs=1), capsys)
    assert code == 0 and "no checkpoint in" in stdout and load_checkpoint(tmp_path / "new" / "checkpoint.safetensors")["epoch"] == 1


def test_adam_at_a_huge_learning_rate_stops_as_diverged(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_main(small_run(data, out, "--lr", "1e6", epochs=3), capsys)
    assert code == cli.EXIT_DIVERGED == 6
    line = one_line_error(err)
    assert line.startswith("shenjing train: error: training diverged: loss") and "epoch 1, global step 2" in line
    assert not (out / "metrics.json").exists()
    code, _, err = run_main(small_run(data, tmp_path / "off", "--lr", "1e6", "--max-loss-growth", "0", epochs=1), capsys)
    assert code in (0, 6)  # the bound is off: only NaN/Inf could stop it
    assert "more than" not in err


def test_nan_is_reported_in_one_line_with_the_layer(data, tmp_path, capsys, monkeypatch):
    from shenjing.train import registry

    def nan_mlp(*args, **kwargs):
        model = registry.mlp(*args, **kwargs)
        with model[-1].weight.inplace() as w:
            w[0, 0] = float("nan")
        return model

    monkeypatch.setitem(registry.MODELS, "mlp", nan_mlp)
    code, _, err = run_main(small_run(data, tmp_path / "run", epochs=1), capsys)
    assert code == 6 and "first non-finite value in '4' (Linear)" in one_line_error(err)


def test_internal_error_shows_the_traceback_and_how_to_report_it(data, tmp_path, capsys, monkeypatch):
    from shenjing.train import registry

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(registry.MODELS, "mlp", broken)
    code, _, err = run_main(small_run(data, tmp_path / "run", epochs=1), capsys)
    assert code == cli.EXIT_INTERNAL == 70
    assert "Traceback" in err and "ZeroDivisionError: a bug" in err and "internal error" in err and "shenjing info" in err


def test_ctrl_c_is_one_line(data, tmp_path, capsys, monkeypatch):
    from shenjing.train import registry

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(registry.MODELS, "mlp", interrupted)
    code, _, err = run_main(small_run(data, tmp_path / "run", epochs=1), capsys)
    assert code == cli.EXIT_INTERRUPTED == 130 and one_line_error(err) == "shenjing: interrupted"


def test_info_says_which_dataset_folder_is_incomplete(tmp_path, monkeypatch):
    folder = fake_fashion(tmp_path / "data" / "fashion-mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    r = subprocess.run(CLI + ["info"], capture_output=True, text=True, env=cli_env(SHENJING_DATA=str(tmp_path / "data")))
    assert r.returncode == 0 and f"dataset fashion-mnist: incomplete: {folder} lacks test files (train in {folder})" in r.stdout


def test_debug_shows_the_traceback_of_a_user_error(data, tmp_path, capsys):
    out = tmp_path / "run"
    run_main(small_run(data, out, epochs=1), capsys)
    code, _, err = run_main(small_run(data, out, "--resume", "--lr", "0.5", "--debug", epochs=1), capsys)
    assert code == 5 and "Traceback" in err and "CheckpointMismatchError" in err
    assert err.strip().splitlines()[-1].startswith("shenjing train: error: --resume")


def test_a_folder_in_use_is_refused(data, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with cli.folder_lock(out):  # another run holds the folder
        code, _, err = run_main(small_run(data, out, epochs=1), capsys)
    assert code == 5 and "in use by another shenjing run" in one_line_error(err)
    assert run_main(small_run(data, out, epochs=1), capsys)[0] == 0


def test_closed_output_ends_quietly():
    """`shenjing lab list | head -1`: the reader goes away; no traceback, status 141 (128 + SIGPIPE)."""
    p = subprocess.Popen(CLI + ["lab", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    p.stdout.close()  # the reader is gone before anything is written
    err = p.stderr.read()
    p.stderr.close()
    assert p.wait(timeout=120) == cli.EXIT_PIPE == 141 and err == b""
    r = subprocess.run(f"{sys.executable} -m shenjing.cli lab list | head -1", shell=True, capture_output=True, text=True, env=cli_env())
    assert len(r.stdout.splitlines()) == 1 and r.stderr == ""


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
