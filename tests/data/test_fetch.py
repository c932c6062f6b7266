"""A first run on a fresh machine: `shenjing train` and `shenjing data fetch` download Fashion-MNIST
when it is absent (progress bar, SHA-256 checked, atomic), `--no-download` forbids it, and the
message without a network says how to get the files. A local mirror (http.server on 127.0.0.1,
``$SHENJING_DATA_MIRROR``) serves small fake files and their SHA256SUMS: never the network."""

import functools
import hashlib
import http.server
import threading

import pytest
from cli_helpers import CLI, FILES, cli_env, fake_fashion, one_line_error, run_main, small_run

from shenjing import cli
from shenjing.data import datasets as D

NAMES = [name for pair in FILES.values() for name in pair]


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A mirror of fake Fashion-MNIST files with their SHA256SUMS; ``mirror.requests`` lists the paths asked for."""
    root = tmp_path / "mirror"
    files = fake_fashion(root / "fashion-mnist")
    sums = "".join(f"{hashlib.sha256((files / n).read_bytes()).hexdigest()}  {n}\n" for n in NAMES)
    (files / "SHA256SUMS").write_text(sums)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setenv("SHENJING_DATA_MIRROR", url)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHENJING_DATA", raising=False)
    monkeypatch.setitem(D.DATASETS["fashion-mnist"], "system_dir", str(tmp_path / "no-system"))  # as if nothing were installed
    server.url, server.files, server.requests = url, files, requests
    yield server
    server.shutdown()
    server.server_close()


def test_data_fetch_downloads_checks_and_writes_atomically(mirror, tmp_path):
    import subprocess

    dest = tmp_path / "got"
    r = subprocess.run(CLI + ["data", "fetch", "fashion-mnist", "--dir", str(dest)], capture_output=True, text=True, env=cli_env())
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES)  # no temporary file left
    for n in NAMES:
        assert (dest / n).read_bytes() == (mirror.files / n).read_bytes()
    assert f"downloading {mirror.url}fashion-mnist/train-images-idx3-ubyte.gz -> {dest}" in r.stdout
    assert f"Fashion-MNIST: the 4 files are in {dest} (SHA-256 checked)" in r.stdout
    assert "train-images-idx3-ubyte.gz" in r.stderr and "B/s" in r.stderr  # the progress bar
    mirror.requests.clear()
    r = subprocess.run(CLI + ["data", "fetch", "fashion-mnist", "--dir", str(dest)], capture_output=True, text=True, env=cli_env())
    assert r.returncode == 0 and mirror.requests == ["/fashion-mnist/SHA256SUMS"]  # verified files are kept


def test_train_fetches_the_dataset_on_a_fresh_machine(mirror, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    code, out, err = run_main(small_run(tmp_path / "data", tmp_path / "run", epochs=1), capsys)
    assert code == 0, err
    assert "downloading" in out and "test accuracy" in out
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(NAMES)
    assert (tmp_path / "run" / "metrics.json").exists()


def test_train_fetches_into_the_cache_without_data(mirror, tmp_path, capsys):
    args = ["train", "--val-size", "100", "--hidden", "32", "--batch-size", "64", "--epochs", "1", "--quiet", "--out", tmp_path / "run"]
    code, out, err = run_main(args, capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "home" / ".cache" / "shenjing" / "fashion-mnist").iterdir()) == sorted(NAMES)


def test_no_download_keeps_the_message_and_the_network_untouched(mirror, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    code, _, err = run_main(small_run(tmp_path / "data", tmp_path / "run") + ["--no-download"], capsys)
    line = one_line_error(err)
    assert code == cli.EXIT_INPUT and line.startswith("shenjing train: error: Fashion-MNIST train files")
    assert f"not found in {tmp_path / 'data'} (root); install them with `apt-get install dataset-fashion-mnist`." in line
    assert mirror.requests == [] and list((tmp_path / "data").iterdir()) == []


def test_an_incomplete_folder_is_not_repaired_behind_the_users_back(mirror, tmp_path, capsys):
    data = fake_fashion(tmp_path / "data")
    (data / NAMES[1]).unlink()
    code, _, err = run_main(small_run(data, tmp_path / "run"), capsys)
    assert code == cli.EXIT_INPUT and "holds some of the dataset's files but not train-labels-idx1-ubyte" in one_line_error(err)
    assert mirror.requests == []


def test_a_wrong_checksum_leaves_nothing(mirror, tmp_path, capsys):
    sums = mirror.files / "SHA256SUMS"
    sums.write_text(sums.read_text().replace(sums.read_text()[:64], "0" * 64))  # the first file's sum
    code, _, err = run_main(["data", "fetch", "fashion-mnist", "--dir", tmp_path / "got", "--quiet"], capsys)
    line = one_line_error(err)
    assert code == cli.EXIT_INPUT and "could not download Fashion-MNIST file train-images-idx3-ubyte.gz" in line and "SHA-256 mismatch" in line
    assert list((tmp_path / "got").iterdir()) == []  # no partial, no unverified file


def test_without_a_network_the_message_says_how_to_get_the_files(mirror, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SHENJING_DATA_MIRROR", "http://127.0.0.1:9/")  # nothing listens there
    (tmp_path / "data").mkdir()
    code, _, err = run_main(small_run(tmp_path / "data", tmp_path / "run"), capsys)
    line = one_line_error(err)
    assert code == cli.EXIT_INPUT and "not found in" in line and "and downloading them failed: " in line
    assert "Connection refused" in line and "apt-get install dataset-fashion-mnist" in line


def test_fetch_says_where_an_installed_dataset_is(mirror, tmp_path, capsys, monkeypatch):
    fake_fashion(tmp_path / "shared" / "fashion-mnist")
    monkeypatch.setenv("SHENJING_DATA", str(tmp_path / "shared"))
    code, out, _ = run_main(["data", "fetch", "fashion-mnist"], capsys)
    assert code == 0 and f"found in {tmp_path / 'shared' / 'fashion-mnist'} ($SHENJING_DATA); nothing to download" in out
    assert mirror.requests == []
    code, _, err = run_main(["data", "fetch", "cifar"], capsys)
    assert code == cli.EXIT_USAGE and "unknown dataset 'cifar'" in one_line_error(err)


def test_real_use_checks_the_built_in_sums(monkeypatch):
    monkeypatch.delenv("SHENJING_DATA_MIRROR")
    mirrors, sums = D.sources("fashion-mnist")
    assert mirrors == D.DATASETS["fashion-mnist"]["mirrors"] and sums == D.DATASETS["fashion-mnist"]["sha256"]
    assert sums["train-images-idx3-ubyte.gz"] == "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
