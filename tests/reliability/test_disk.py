"""Full and read-only disks lose nothing: the run stops with one line (exit code 4), the last
checkpoint stays whole, no temporary file is left, and ``--resume`` once there is room (or write
access) ends bit for bit as a run never disturbed.

As root, the run folder is a small tmpfs (``mount -t tmpfs -o size=...``), filled up with a
ballast file or remounted read-only; elsewhere those cases are skipped. The same failures are also
injected in this process, always: the checkpoint writer raising ENOSPC, ``mkstemp`` raising EROFS.
"""

import errno
import os
import subprocess
import time

import pytest
from cli_helpers import assert_same_run, fake_fashion, one_line_error, run_cli, run_main, small_run, snapshot

from shenjing import cli
from shenjing.train import load_checkpoint


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("disk")
    data = fake_fashion(root / "data")
    r = run_cli(small_run(data, root / "ref"))
    assert r.returncode == 0, r.stderr
    return data, root / "ref"


@pytest.fixture
def tmpfs(tmp_path):
    """A 4 MB tmpfs mounted on a fresh folder (skipped where mounting is not allowed)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        for _ in range(5):
            if subprocess.run(["umount", str(mnt)], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)


def test_full_disk_then_resume(reference, tmpfs):
    data, ref = reference
    ckpt_size = (ref / "checkpoint.safetensors").stat().st_size
    st = os.statvfs(tmpfs)
    room = int(1.5 * ckpt_size) + 64 * 1024  # the first checkpoint fits, a second beside it does not
    ballast = tmpfs / "ballast"
    ballast.write_bytes(b"\0" * (st.f_bavail * st.f_frsize - room))
    out = tmpfs / "run"
    r = run_cli(small_run(data, out))
    assert r.returncode == cli.EXIT_FILESYSTEM == 4
    line = one_line_error(r.stderr)
    assert "No space left on device (the disk is full)" in line and "continue with --resume" in line
    assert load_checkpoint(out / "checkpoint.safetensors")["epoch"] in (1, 2)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    ballast.unlink()
    r = run_cli(small_run(data, out, "--resume"))
    assert r.returncode == 0, r.stderr
    assert_same_run(ref, out)


def test_read_only_disk_then_resume(reference, tmpfs):
    data, ref = reference
    out = tmpfs / "run"
    assert run_cli(small_run(data, out, epochs=1)).returncode == 0
    before = snapshot(out)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    r = run_cli(small_run(data, out, "--resume"))
    assert r.returncode == 4 and "Read-only file system" in one_line_error(r.stderr)
    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert snapshot(out) == before
    r = run_cli(small_run(data, out, "--resume"))
    assert r.returncode == 0, r.stderr
    assert_same_run(ref, out)


def test_disk_full_during_a_checkpoint_write_in_process(tmp_path, capsys, monkeypatch):
    """ENOSPC half-way through the second checkpoint: exit 4 naming the file, epoch 1 kept whole."""
    from shenjing.nn import serialization

    data = fake_fashion(tmp_path / "data")
    assert run_main(small_run(data, tmp_path / "ref"), capsys)[0] == 0
    real, calls = serialization._write_safetensors, []

    def filling(f, arrays, metadata):
        calls.append(1)
        if len(calls) == 2:
            f.write(b"the first bytes")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(f, arrays, metadata)

    monkeypatch.setattr(serialization, "_write_safetensors", filling)
    out = tmp_path / "run"
    code, _, err = run_main(small_run(data, out), capsys)
    assert code == 4
    assert one_line_error(err) == (f"shenjing train: error: {out / 'checkpoint.safetensors'}: No space left on device (the disk is full); "
                                   f"the checkpoint in {out} is kept: continue with --resume")
    assert load_checkpoint(out / "checkpoint.safetensors")["epoch"] == 1
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert run_main(small_run(data, out, "--resume"), capsys)[0] == 0
    assert_same_run(tmp_path / "ref", out)


def test_read_only_folder_in_process(tmp_path, capsys, monkeypatch):
    from shenjing import files

    data = fake_fashion(tmp_path / "data")
    out = tmp_path / "run"
    assert run_main(small_run(data, out, epochs=1), capsys)[0] == 0
    before = snapshot(out)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(kwargs.get("dir", ""), "x.tmp"))

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    code, _, err = run_main(small_run(data, out, "--resume"), capsys)
    assert code == 4 and f"{out / 'checkpoint.json'}: Read-only file system" in one_line_error(err)
    assert snapshot(out) == before
