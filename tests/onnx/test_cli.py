"""`shenjing train --export onnx` and `shenjing export`: the written model, run by onnxruntime,
reproduces the run's test accuracy."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import fake_fashion, run_main, small_run

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_fashion(tmp_path_factory.mktemp("fashion"))


def onnx_accuracy(model_path, run) -> float:
    from shenjing.train.registry import build_task

    cfg = json.loads((run / "config.json").read_text())
    x, y = build_task(cfg["dataset"], cfg, cfg["data"]).test.dataset.tensors
    logits = ort.InferenceSession(str(model_path)).run(None, {"input": x.numpy()})[0]
    return float((logits.argmax(1) == y.numpy()).mean())


def test_train_export_and_export_command(data, tmp_path, capsys):
    run = tmp_path / "run"
    code, out, _ = run_main(small_run(data, run, "--export", "onnx", epochs=2), capsys)
    assert code == 0 and "ONNX model" in out
    accuracy = json.loads((run / "metrics.json").read_text())["test_accuracy"]
    assert onnx_accuracy(run / "model.onnx", run) == pytest.approx(accuracy, abs=1e-9)
    code, out, _ = run_main(["export", run / "checkpoint.safetensors", "--out", tmp_path / "again.onnx", "--opset", "18"], capsys)
    assert code == 0 and "opset 18" in out
    assert onnx_accuracy(tmp_path / "again.onnx", run) == pytest.approx(accuracy, abs=1e-9)


def test_export_refuses_a_bad_opset_and_a_missing_checkpoint(tmp_path, capsys):
    code, _, err = run_main(["export", tmp_path / "nothing.safetensors", "--opset", "7"], capsys)
    assert code == 2 and "--opset" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(["export", tmp_path / "nothing.safetensors"], capsys)
    assert code == 3 and "nothing.safetensors" in err
