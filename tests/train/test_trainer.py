import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset
from shenjing.train import Callback, EarlyStopping, LRSchedulerCallback, NonFiniteError, Trainer, load_checkpoint

RUN = Path(__file__).with_name("_run.py")


def _data(n=120, seed=0):
    g = sj.Generator().manual_seed(seed)
    x = sj.randn(n, 4, generator=g)
    y = (x[:, 0] - x[:, 1] > 0).long()
    return x, y, g


def _trainer(tmp_path=None, callbacks=(), seed=0, lr=0.1):
    sj.manual_seed(seed)
    x, y, g = _data()
    loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    t = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=callbacks, out_dir=tmp_path, progress=False, generators=[g])
    return t, loader


def test_seeded_runs_give_identical_histories(tmp_path):
    h1 = _trainer(tmp_path / "a")[0].fit(_trainer()[1], epochs=3)
    t2, loader2 = _trainer(tmp_path / "b")
    h2 = t2.fit(loader2, epochs=3)
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in h1] == [{k: v for k, v in r.items() if k not in drop} for r in h2]


def test_history_files_and_checkpoint(tmp_path):
    t, loader = _trainer(tmp_path)
    hist = t.fit(loader, loader, epochs=2)
    assert len(hist) == 2 and "val_accuracy" in hist[-1]
    rows = (tmp_path / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch,")
    assert json.loads((tmp_path / "history.json").read_text())[1]["epoch"] == 2
    state = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert state["epoch"] == 2
    for k, v in t.model.state_dict().items():
        np.testing.assert_array_equal(state["model"][k].numpy(), v.numpy())


def test_learns_the_task():
    t, loader = _trainer()
    t.fit(loader, epochs=8)
    assert t.evaluate(loader)["accuracy"] > 0.9


def test_sigkill_mid_epoch_then_resume_is_bit_exact(tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    subprocess.run([sys.executable, str(RUN), str(full), "5"], check=True)
    r = subprocess.run([sys.executable, str(RUN), str(cut), "5", "33"])  # 13 steps per epoch: dies in epoch 3
    assert r.returncode == -9
    assert load_checkpoint(cut / "checkpoint.safetensors")["epoch"] == 2
    subprocess.run([sys.executable, str(RUN), str(cut), "5", "--resume"], check=True)
    a, b = sj.load(full / "final.safetensors"), sj.load(cut / "final.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())


def test_corrupt_checkpoint_is_refused_and_previous_kept(tmp_path, monkeypatch):
    t, loader = _trainer(tmp_path)
    t.fit(loader, epochs=1)
    ckpt = tmp_path / "checkpoint.safetensors"
    good = ckpt.read_bytes()
    bad = bytearray(good)
    bad[-5] ^= 0xFF
    ckpt.write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(ckpt)
    ckpt.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="checkpoint"):
        load_checkpoint(ckpt)
    # a save that fails half-way (the disk refuses to sync) leaves the previous file as it was
    ckpt.write_bytes(good)

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", fail)
    with pytest.raises(OSError):
        t.save()
    monkeypatch.undo()
    assert ckpt.read_bytes() == good
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert load_checkpoint(ckpt)["epoch"] == 1


def test_nan_stops_naming_the_layer(tmp_path):
    t, loader = _trainer(tmp_path)
    t.fit(loader, epochs=1)
    before = (tmp_path / "checkpoint.safetensors").read_bytes()
    with sj.no_grad():
        t.model[3].weight[0, 0] = math.nan
    with pytest.raises(NonFiniteError, match=r"'3' \(Linear\)") as e:
        t.fit(loader, epochs=2)
    assert "epoch 2" in str(e.value)
    assert (tmp_path / "checkpoint.safetensors").read_bytes() == before


def test_early_stopping_restores_best_weights():
    es = EarlyStopping("train_loss", patience=1)
    t, loader = _trainer(callbacks=[es], lr=5.0)  # a learning rate too large: the loss goes up
    t.fit(loader, epochs=10)
    assert es.stopped_epoch is not None
    for k, v in t.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), es.best_state[k])


class _LrLog(Callback):
    """Records the learning rate each update is about to use (after the other callbacks ran)."""

    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_after_backward(self, trainer) -> None:
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_lr_scheduler_callback_interval(interval):
    t, loader = _trainer()
    sched = optim.lr_scheduler.CosineAnnealingLR(t.optimizer, T_max=36)
    log = _LrLog()
    t.callbacks = [LRSchedulerCallback(sched, interval=interval), log]
    t.fit(loader, epochs=3)  # 12 updates per epoch
    expected = [0.1 * (1 + math.cos(math.pi * k / 36)) / 2 for k in range(36)]
    if interval == "epoch":
        expected = [expected[e] for e in range(3) for _ in range(12)]
    np.testing.assert_allclose(log.lrs, expected, rtol=1e-12)


def test_lr_scheduler_callback_rejects_unknown_interval():
    t, _ = _trainer()
    with pytest.raises(ValueError, match="interval"):
        LRSchedulerCallback(optim.lr_scheduler.StepLR(t.optimizer, 1), interval="batch")
