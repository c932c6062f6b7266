import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset
from shenjing.files import InvalidFileError
from shenjing.train import (
    Callback,
    CheckpointMismatchError,
    DivergenceError,
    EarlyStopping,
    LRSchedulerCallback,
    NonFiniteError,
    Trainer,
    load_checkpoint,
)

RUN = Path(__file__).with_name("_run.py")


def _data(n=120, seed=0):
    g = sj.Generator().manual_seed(seed)
    x = sj.randn(n, 4, generator=g)
    y = (x[:, 0] - x[:, 1] > 0).long()
    return x, y, g


def _trainer(tmp_path=None, callbacks=(), seed=0, lr=0.1, **kwargs):
    sj.manual_seed(seed)
    x, y, g = _data()
    loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    t = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=callbacks, out_dir=tmp_path, progress=False, generators=[g], **kwargs)
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
    # a learning rate too large: the loss goes up (past 10⁴ × its start: the divergence guard is off here)
    t, loader = _trainer(callbacks=[es], lr=5.0, max_loss_growth=None)
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


# ---------------------------------------------------------------------- reliability of the loop and its files


def test_loss_growth_stops_before_the_update_and_keeps_the_checkpoint(tmp_path):
    t, loader = _trainer(tmp_path)
    t.fit(loader, epochs=1)
    ckpt = tmp_path / "checkpoint.safetensors"
    before = ckpt.read_bytes()
    assert t.loss_reference > 0 and load_checkpoint(ckpt)["loss_reference"] == t.loss_reference  # kept across resumes
    t.optimizer.param_groups[0]["lr"] = 1e4  # the loss explodes within a few steps
    with pytest.raises(DivergenceError, match=r"at epoch 2, global step (\d+) is more than 10000 × the first step's loss") as e:
        t.fit(loader, epochs=3)
    assert not isinstance(e.value, NonFiniteError) and ckpt.read_bytes() == before and t.epoch == 1
    failing = int(re.search(r"global step (\d+)", str(e.value)).group(1))
    assert t.global_step == failing - 1  # stopped before that step's update


def test_loss_growth_bound_is_configurable_and_checked():
    t, loader = _trainer(lr=5.0, max_loss_growth=1e12)
    t.fit(loader, epochs=1)  # the same run as test_early_stopping's: past 10⁴ × its start, below 10¹²
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="max_loss_growth"):
            _trainer(max_loss_growth=bad)


def test_save_writes_the_checkpoint_before_the_history(tmp_path, monkeypatch):
    from shenjing.train import trainer as trainer_module

    order = []
    real_ckpt, real_bytes = trainer_module.save_checkpoint, trainer_module.atomic_write_bytes
    monkeypatch.setattr(trainer_module, "save_checkpoint", lambda p, s: (order.append(Path(p).name), real_ckpt(p, s)))
    monkeypatch.setattr(trainer_module, "atomic_write_bytes", lambda p, d: (order.append(Path(p).name), real_bytes(p, d)))
    t, loader = _trainer(tmp_path)
    t.fit(loader, epochs=1)
    assert order == ["checkpoint.safetensors", "checkpoint.json", "history.csv", "history.json"]


def test_resume_rewrites_history_from_the_checkpoint_and_removes_leftovers(tmp_path):
    t, loader = _trainer(tmp_path)
    t.fit(loader, epochs=2)
    good = json.loads((tmp_path / "history.json").read_text())
    (tmp_path / "history.json").write_text(json.dumps(good + [{"epoch": 3, "train_loss": 0.0}]))  # a history ahead of it
    (tmp_path / "history.csv").write_text("epoch\n1\n")  # and one behind
    (tmp_path / "checkpoint.json").unlink()
    leftovers = [tmp_path / ".checkpoint.safetensors.abcd1234.tmp", tmp_path / ".history.json.x.tmp"]
    for p in leftovers:
        p.write_bytes(b"half a file")
    (tmp_path / ".notes.txt.x.tmp").write_bytes(b"not ours")
    t2, loader2 = _trainer(tmp_path)
    t2.fit(loader2, epochs=2, resume=True)  # nothing left to train: only the files are put right
    assert json.loads((tmp_path / "history.json").read_text()) == good
    assert len((tmp_path / "history.csv").read_text().strip().splitlines()) == 3
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 2
    assert not any(p.exists() for p in leftovers) and (tmp_path / ".notes.txt.x.tmp").exists()


def test_checkpoint_of_another_model_is_refused(tmp_path):
    t, loader = _trainer(tmp_path)
    t.fit(loader, epochs=1)
    before = (tmp_path / "history.json").read_bytes()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    other = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), out_dir=tmp_path, progress=False)
    with pytest.raises(CheckpointMismatchError, match="does not fit this model.*size mismatch"):
        other.fit(loader, epochs=2, resume=True)
    assert (tmp_path / "history.json").read_bytes() == before and other.epoch == 0


def test_checkpoint_integrity_covers_the_metadata(tmp_path):
    """One flipped digit of the stored epoch (still valid JSON) is refused, not resumed from."""
    t, loader = _trainer(tmp_path, config={"lr": 0.1})
    t.fit(loader, epochs=1)
    ckpt = tmp_path / "checkpoint.safetensors"
    assert load_checkpoint(ckpt)["config"] == {"lr": 0.1}
    data = ckpt.read_bytes()
    at = data.index(b'[\\"epoch\\", 1]') + len(b'[\\"epoch\\", ')
    ckpt.write_bytes(data[:at] + b"2" + data[at + 1:])
    with pytest.raises(InvalidFileError, match="checksum mismatch in the metadata"):
        load_checkpoint(ckpt)
    t2, loader2 = _trainer(tmp_path)
    with pytest.raises(InvalidFileError):
        t2.fit(loader2, epochs=3, resume=True)
