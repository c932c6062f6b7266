"""Damaged files are refused with one line naming the file (exit code 3), and nothing is changed.

* every single-byte change of a checkpoint — each byte inverted, each digit of its header
  replaced — is refused by ``load_checkpoint`` (the checksums cover the tensors and the metadata);
* ``shenjing train --resume`` and ``shenjing evaluate`` on damaged checkpoints of a real run;
* damaged dataset files (IDX): truncated, bad magic number, corrupt gzip, wrong shape, counts or
  labels that do not match, a missing file in the dataset's folder;
* a damaged config.json next to a checkpoint that does not carry its options.
"""

import gzip
import json
import re

import numpy as np
import pytest
from cli_helpers import FILES, fake_fashion, one_line_error, run_main, small_run, snapshot

import shenjing as sj
from shenjing import nn, optim
from shenjing.data import DataLoader, TensorDataset, write_idx
from shenjing.files import InvalidFileError
from shenjing.train import Trainer, load_checkpoint


def tiny_checkpoint(folder):
    """A checkpoint small enough to damage at every byte (a 2-2 Linear, SGD with momentum)."""
    sj.manual_seed(0)
    g = sj.Generator().manual_seed(0)
    x = sj.randn(8, 2, generator=g)
    model = nn.Linear(2, 2)
    t = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), out_dir=folder,
                progress=False, generators=[g], config={"lr": 0.1, "epochs": 1})
    t.fit(DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=4, shuffle=True, generator=g), epochs=1)
    return folder / "checkpoint.safetensors"


def test_every_single_byte_change_of_a_checkpoint_is_refused(tmp_path):
    path = tiny_checkpoint(tmp_path)
    good = path.read_bytes()
    assert load_checkpoint(path)["epoch"] == 1
    header_end = 8 + int.from_bytes(good[:8], "little")
    variants = [(i, good[:i] + bytes([good[i] ^ 0xFF]) + good[i + 1:]) for i in range(len(good))]
    for m in re.finditer(rb"[0-9]", good[:header_end]):  # digits changed into other digits: still valid JSON
        i = m.start()
        variants.append((i, good[:i] + bytes([ord("0") + (good[i] - ord("0") + 1) % 10]) + good[i + 1:]))
    assert len(good) > 1000 and len(variants) > len(good) + 100
    bad = tmp_path / "bad.safetensors"
    for i, data in variants:
        bad.write_bytes(data)
        with pytest.raises(InvalidFileError, match="bad.safetensors"):
            load_checkpoint(bad)
            pytest.fail(f"a change at byte {i} of {len(good)} was not detected")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A completed run (2 epochs) made in this process: (data folder, run folder)."""
    root = tmp_path_factory.mktemp("corrupt")
    data = fake_fashion(root / "data")
    from shenjing.cli import main

    assert main([str(a) for a in small_run(data, root / "run", epochs=2)]) == 0
    return data, root / "run"


def _flip_epoch(d: bytes) -> bytes:
    at = d.index(b'[\\"epoch\\", 2]') + len(b'[\\"epoch\\", ')
    return d[:at] + b"1" + d[at + 1:]


DAMAGE = {
    "epoch digit": _flip_epoch,
    "tensor byte": lambda d: d[:-100] + bytes([d[-100] ^ 0x01]) + d[-99:],
    "truncated": lambda d: d[: len(d) // 2],
    "cut at the end": lambda d: d[:-1],
    "header only": lambda d: d[: 8 + int.from_bytes(d[:8], "little")],
    "empty": lambda d: b"",
    "garbage": lambda d: b"\x00garbage" * 100,
    "length prefix": lambda d: (10**9).to_bytes(8, "little") + d[8:],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("command", ["resume", "evaluate"])
def test_damaged_checkpoint_is_refused_by_the_command(run, tmp_path, capsys, damage, command):
    data, src = run
    out = tmp_path / "run"
    out.mkdir()
    for f in src.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    ckpt = out / "checkpoint.safetensors"
    ckpt.write_bytes(DAMAGE[damage](ckpt.read_bytes()))
    before = snapshot(out)
    argv = small_run(data, out, "--resume", epochs=3) if command == "resume" else ["evaluate", ckpt]
    code, stdout, err = run_main(argv, capsys)
    assert code == 3
    line = one_line_error(err)
    assert str(ckpt) in line and ("corrupt" in line or "not a valid" in line)
    assert snapshot(out) == before and "test_accuracy" not in stdout


def test_a_state_dict_or_a_folder_instead_of_a_checkpoint(run, tmp_path, capsys):
    data, _ = run
    out = tmp_path / "run"
    out.mkdir()
    sj.save({"w": sj.ones(2)}, out / "checkpoint.safetensors")
    code, _, err = run_main(small_run(data, out, "--resume"), capsys)
    assert code == 3 and "is not a shenjing checkpoint" in one_line_error(err)
    code, _, err = run_main(["evaluate", tmp_path / "nope.safetensors"], capsys)
    assert code == 3 and "does not exist" in one_line_error(err)
    (tmp_path / "dir.safetensors").mkdir()
    code, _, err = run_main(["evaluate", tmp_path / "dir.safetensors"], capsys)
    assert code == 3 and "dir.safetensors" in one_line_error(err)


def _write_gz(path, raw: bytes) -> None:
    path.write_bytes(gzip.compress(raw, mtime=0))


IDX_DAMAGE = {
    "truncated images": (0, lambda p: _write_gz(p, gzip.decompress(p.read_bytes())[:-100]), "truncated"),
    "bad magic": (1, lambda p: _write_gz(p, b"\x01\x02" + gzip.decompress(p.read_bytes())[2:]), "bad magic number"),
    "corrupt gzip": (0, lambda p: p.write_bytes(p.read_bytes()[:200]), "corrupt or truncated gzip"),
    "not gzip": (1, lambda p: p.write_bytes(b"plain text"), "is not gzip data"),
    "wrong shape": (0, lambda p: write_idx(p, np.zeros((600, 28, 27), np.uint8)), "wrong shape"),
    "fewer labels": (1, lambda p: write_idx(p, np.zeros(599, np.uint8)), "600 images but"),
    "label 12": (1, lambda p: write_idx(p, np.full(600, 12, np.uint8)), "label 12 out of range"),
    "missing file": (1, lambda p: p.unlink(), "holds some of the dataset's files but not train-labels-idx1-ubyte"),
}


@pytest.mark.parametrize("damage", list(IDX_DAMAGE))
def test_damaged_dataset_files_are_refused(tmp_path, capsys, damage):
    data = fake_fashion(tmp_path / "data")
    which, spoil, says = IDX_DAMAGE[damage]
    target = data / FILES["train"][which]
    spoil(target)
    code, _, err = run_main(small_run(data, tmp_path / "run", epochs=1), capsys)
    assert code == 3
    line = one_line_error(err)
    assert says in line and (str(target) in line or str(data) in line)
    assert not (tmp_path / "run").exists()


def test_damaged_config_json_of_a_checkpoint_without_options(tmp_path, capsys):
    path = tiny_checkpoint(tmp_path)
    state = load_checkpoint(path)
    state["config"] = None  # as written by an older shenjing or by the Python API
    from shenjing.train import save_checkpoint

    save_checkpoint(path, state)
    code, _, err = run_main(["evaluate", path], capsys)
    assert code == 3 and "config.json not found next to the checkpoint" in one_line_error(err)
    for text, says in (("{not json", "not valid JSON"), (json.dumps([1, 2]), "no dataset and model")):
        (tmp_path / "config.json").write_text(text)
        code, _, err = run_main(["evaluate", path], capsys)
        assert code == 3 and says in one_line_error(err)
