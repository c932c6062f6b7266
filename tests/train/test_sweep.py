"""``shenjing sweep``: the grid and its random draw, one trial = one ``shenjing train`` run, the table
and figure, diverged trials as rows, and every bad grid refused before a trial runs."""

import csv
import json

import pytest
from cli_helpers import fake_fashion, one_line_error, run_main

from shenjing.cli import job_threads
from shenjing.train.sweep import MAX_TRIALS, configurations, nth_configuration, parse_grid, trial_argv
from shenjing.train.task import OptionError

OPTIONS = {"lr", "hidden", "weight_decay", "optimizer"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_fashion(tmp_path_factory.mktemp("fashion"), n_train=400, n_test=100)


def train_options(data) -> list[str]:
    return ["--data", str(data), "--epochs", "1", "--val-size", "100", "--batch-size", "64", "--dropout", "0"]


def test_the_grid_in_order_and_drawn_at_random():
    grid = parse_grid(["lr=0.1, 0.01", "weight_decay=0,1e-4,1e-3", "hidden=8,16x16"], OPTIONS)
    assert grid == {"lr": ["0.1", "0.01"], "weight-decay": ["0", "1e-4", "1e-3"], "hidden": ["8", "16x16"]}
    every = configurations(grid)
    assert len(every) == 12 and every[0] == {"lr": "0.1", "weight-decay": "0", "hidden": "8"}
    assert every[1]["hidden"] == "16x16" and every[2]["weight-decay"] == "1e-4" and every[6]["lr"] == "0.01"  # the last varies fastest
    assert [nth_configuration(grid, i) for i in range(12)] == every
    drawn = configurations(grid, random=5, seed=3)
    assert len(drawn) == 5 and all(c in every for c in drawn) and len({json.dumps(c) for c in drawn}) == 5
    assert drawn == sorted(drawn, key=every.index) == configurations(grid, random=5, seed=3) != configurations(grid, random=5, seed=4)
    assert configurations(grid, random=12, seed=0) == every
    assert trial_argv({"lr": "0.1", "hidden": "16x16", "opt.width": "3x3"}) == ["--lr=0.1", "--hidden=16,16", "--opt", "width=3x3"]


@pytest.mark.parametrize("specs, random, message", [
    (["lr"], None, "must be NAME=V1,V2,..."),
    (["lrr=0.1"], None, "unknown train option 'lrr'"),
    (["lr=0.1,,0.2"], None, "an empty value"),
    (["lr=0.1,0.1"], None, "a value repeats"),
    (["lr=0.1", "lr=0.2"], None, "lr is given twice"),
    (["opt.=1"], None, "opt. needs the option's key"),
    (["lr=" + ",".join(map(str, range(1, 11))), "hidden=" + ",".join(map(str, range(1, 102)))], None,
     f"10 × 101 = 1010 configurations, more than {MAX_TRIALS}"),
    (["lr=1,2"], 3, "must be from 1 to 2"),
])
def test_bad_grids(specs, random, message):
    with pytest.raises(OptionError, match=message.replace(".", r"\.").replace("(", r"\(")):
        configurations(parse_grid(specs, OPTIONS), random)


def test_a_sweep_is_train_runs_a_table_and_a_figure(data, tmp_path, capsys):
    out = tmp_path / "sweep"
    code, stdout, _ = run_main(["sweep", "--grid", "lr=0.001,0.1", "--grid", "hidden=8,16x16", "--out", out, "--", *train_options(data)], capsys)
    assert code == 0 and stdout.strip().splitlines()[-1].startswith(f"sweep: 4 trials -> {out / 'sweep.csv'}, {out / 'sweep.png'}; best test accuracy")
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(r["trial"], r["lr"], r["hidden"], r["status"]) for r in rows] == [
        ("trial-000", "0.001", "8", "ok"), ("trial-001", "0.001", "16x16", "ok"), ("trial-002", "0.1", "8", "ok"), ("trial-003", "0.1", "16x16", "ok")]
    for r in rows:  # the row is the trial's metrics.json
        metrics = json.loads((out / r["trial"] / "metrics.json").read_text())
        assert {k: str(v) for k, v in metrics.items()} == {k: r[k] for k in metrics}
    assert (out / "sweep.png").stat().st_size > 10_000
    # a trial is `shenjing train` with its options (on the sweep's --threads 1: BLAS's sums depend on its threads)
    with job_threads(1):
        code, _, _ = run_main(["train", *train_options(data), "--lr", "0.1", "--hidden", "16,16", "--quiet", "--out", tmp_path / "direct"], capsys)
    direct, trial = (json.loads((d / "metrics.json").read_text()) for d in (tmp_path / "direct", out / "trial-003"))
    assert code == 0 and direct.pop("train_seconds") > 0 and trial.pop("train_seconds") > 0 and direct == trial
    direct, trial = (json.loads((d / "config.json").read_text()) for d in (tmp_path / "direct", out / "trial-003"))
    assert trial.pop("out") == str(out / "trial-003") and direct.pop("out") == str(tmp_path / "direct")
    assert trial == direct and trial["lr"] == 0.1 and trial["hidden"] == "16,16"


def test_a_diverged_trial_is_a_row(data, tmp_path, capsys):
    out = tmp_path / "sweep"
    code, stdout, _ = run_main(["sweep", "--grid", "lr=0.001,1e6", "--out", out, "--", *train_options(data), "--hidden", "8"], capsys)
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert code == 0 and [r["status"] for r in rows] == ["ok", "diverged"] and ", 1 diverged ->" in stdout
    assert rows[1]["test_accuracy"] == "" and rows[1]["note"].startswith("loss") and rows[0]["note"] == ""


@pytest.mark.parametrize("argv, message", [
    (["--grid", "lr=-1,0.1"], "argument --grid: lr=-1: must be a finite number > 0, got '-1'"),
    (["--grid", "optimizer=sgd,foo"], "argument --grid: optimizer=foo: invalid choice: 'foo'"),
    (["--grid", "optimizer=sgd,adam", "--", "--momentum", "0.5"], "argument --grid: trial-001 (optimizer=adam): argument --momentum: adam has no momentum"),
    (["--grid", "lr=0.1,0.2", "--", "--lr", "0.3"], "argument --grid: lr is also set in the train options after --"),
    (["--grid", "opt.width=1,2"], "argument --grid: trial-000 (opt.width=1): argument --opt: mlp on fashion-mnist has no option 'width'"),
    (["--grid", "lr=0.1,0.2", "--", "--out", "x"], "the train options after --: --out and --resume are not a trial's"),
    (["--grid", "lr=0.1,0.2", "--", "--lrx", "3"], "the train options after --: unrecognized arguments: --lrx 3"),
    (["--grid", "lr=0.1,0.2", "--epochs", "1"], "unrecognized arguments: --epochs (the options of `shenjing train` go after --"),
    (["--grid", "lr=0.1,0.2", "--random", "3"], "argument --random: must be from 1 to 2"),
])
def test_bad_sweeps_are_one_line_and_run_nothing(argv, message, tmp_path, capsys):
    code, _, err = run_main(["sweep", "--out", tmp_path / "sweep", *argv], capsys)
    assert code == 2 and message in one_line_error(err)
    assert not (tmp_path / "sweep").exists()
