"""Fashion-MNIST / MNIST: file search order, gz and raw files, errors, download and the real data."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import MNIST, Compose, DataLoader, FashionMNIST, Flatten, ToTensor, default_collate, write_idx
from shenjing.data import datasets as D

SYSTEM = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An isolated machine: empty HOME, no $SHENJING_DATA, no system directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SHENJING_DATA", raising=False)
    monkeypatch.delenv("SHENJING_DATA_MIRROR", raising=False)  # the mirrors of DATASETS are patched to file:// folders below
    for name in D.DATASETS:
        monkeypatch.setitem(D.DATASETS[name], "system_dir", str(tmp_path / "no-system" / name))
    return tmp_path


def write_split(d, split, n, gz=True, seed=0, dotted=False, label_offset=0):
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    stem_img, stem_lbl = D._SPLIT_FILES[split]
    if dotted:
        stem_img, stem_lbl = stem_img.replace("-idx", ".idx"), stem_lbl.replace("-idx", ".idx")
    suffix = ".gz" if gz else ""
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = ((np.arange(n) + label_offset) % 10).astype(np.uint8)
    write_idx(d / (stem_img + suffix), images)
    write_idx(d / (stem_lbl + suffix), labels)
    return images, labels


def write_all(d, gz=True, n_train=30, n_test=10, seed=0):
    tr = write_split(d, "train", n_train, gz, seed)
    te = write_split(d, "test", n_test, gz, seed + 1)
    return tr, te


# --- search order ------------------------------------------------------------------------------
def test_loads_from_shenjing_data(env, monkeypatch):
    (img, lbl), (timg, tlbl) = write_all(env / "data" / "fashion-mnist")
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    ds = FashionMNIST()
    assert len(ds) == 30 and ds.data.dtype == np.uint8 and ds.data.shape == (30, 28, 28)
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, img)
    np.testing.assert_array_equal(ds.targets, lbl)
    assert ds.classes[0] == "T-shirt/top" and len(ds.classes) == 10 and ds.class_to_idx["Bag"] == 8
    assert ds.root == env / "data" / "fashion-mnist"
    test = FashionMNIST(train=False)
    assert len(test) == 10
    np.testing.assert_array_equal(test.data, timg)
    x, y = ds[3]
    assert isinstance(x, sj.Tensor) and x.dtype == sj.uint8 and x.shape == (28, 28) and y == 3
    assert "Number of datapoints: 30" in repr(ds)


def test_fashion_files_directly_in_shenjing_data(env, monkeypatch):
    write_all(env / "flat")
    monkeypatch.setenv("SHENJING_DATA", str(env / "flat"))
    assert len(FashionMNIST()) == 30
    with pytest.raises(FileNotFoundError):  # MNIST never takes files that are not in an mnist directory
        MNIST()


def test_search_order_env_then_cache_then_system(env, monkeypatch):
    home_cache = env / "home" / ".cache" / "shenjing" / "fashion-mnist"
    system = env / "no-system" / "fashion-mnist"
    write_split(system, "train", 5)
    assert len(FashionMNIST()) == 5  # only the system directory has files
    write_split(home_cache, "train", 6)
    assert len(FashionMNIST()) == 6  # ~/.cache/shenjing beats the system directory
    write_split(env / "data" / "fashion-mnist", "train", 7)
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    assert len(FashionMNIST()) == 7  # $SHENJING_DATA beats both
    dirs = [d for d, _ in D.search_dirs("fashion-mnist")]
    assert dirs.index(env / "data" / "fashion-mnist") < dirs.index(home_cache) < dirs.index(system)
    assert dirs[-1] == system


def test_real_search_dirs_end_in_debian_directory(monkeypatch):
    monkeypatch.delenv("SHENJING_DATA", raising=False)
    monkeypatch.delenv("SHENJING_DATA_MIRROR", raising=False)  # the mirrors of DATASETS are patched to file:// folders below
    dirs = D.search_dirs("fashion-mnist")
    assert dirs[-1] == (SYSTEM, "Debian package dataset-fashion-mnist")
    assert dirs[0][0] == Path.home() / ".cache" / "shenjing" / "fashion-mnist"


def test_incomplete_directory_is_refused_not_mixed(env, monkeypatch):
    """A dataset is read from one folder: the first that holds any of its files. A folder missing
    one file is refused with a message naming the folder and the file — never completed from
    another location (a training set from one place, a test set from another)."""
    d = env / "data" / "fashion-mnist"
    write_all(d, n_train=7, n_test=3)
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    write_all(env / "home" / ".cache" / "shenjing" / "fashion-mnist", n_train=6, n_test=2)
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    assert len(FashionMNIST()) == 7  # the training files are there
    with pytest.raises(D.IncompleteDatasetError, match="t10k-labels-idx1-ubyte") as e:
        FashionMNIST(train=False)
    assert str(d) in str(e.value) and "one folder" in str(e.value)
    assert isinstance(e.value, FileNotFoundError)
    (d / "train-labels-idx1-ubyte.gz").unlink()  # images without labels: refused too
    with pytest.raises(D.IncompleteDatasetError, match="train-labels-idx1-ubyte"):
        FashionMNIST()
    assert D.dataset_status()["fashion-mnist"] == {"train": None, "test": None}
    for f in d.iterdir():  # a folder with none of the files is passed over
        f.unlink()
    assert len(FashionMNIST()) == 6 and len(FashionMNIST(train=False)) == 2
    assert D.dataset_dir("fashion-mnist")[0] == env / "home" / ".cache" / "shenjing" / "fashion-mnist"


def test_root_is_searched_alone(env, monkeypatch):
    write_split(env / "home" / ".cache" / "shenjing" / "fashion-mnist", "train", 6)
    write_split(env / "mine", "train", 4)
    assert len(FashionMNIST(root=env / "mine")) == 4
    with pytest.raises(FileNotFoundError, match="mine"):
        FashionMNIST(root=env / "mine", train=False)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dotted", [False, True])
def test_gz_and_raw_names(env, monkeypatch, gz, dotted):
    img, lbl = write_split(env / "data" / "mnist", "test", 8, gz=gz, dotted=dotted)
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    ds = MNIST(train=False)
    np.testing.assert_array_equal(ds.data, img)
    assert ds.classes[3] == "3 - three"
    assert ds.image_file.name.endswith(".gz") == gz


def test_not_found_says_how_to_get_the_files(env):
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST()
    msg = str(e.value)
    assert "Fashion-MNIST train files" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "SHENJING_DATA" in msg and "download=True" in msg
    assert str(env / "home" / ".cache" / "shenjing" / "fashion-mnist") in msg
    with pytest.raises(FileNotFoundError) as e:
        MNIST(train=False)
    assert "MNIST test files" in str(e.value) and "apt-get" not in str(e.value)


# --- bad files --------------------------------------------------------------------------------
def test_truncated_dataset_file_names_the_file(env, monkeypatch):
    d = env / "data" / "fashion-mnist"
    write_split(d, "train", 20, gz=False)
    f = d / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-50])
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    with pytest.raises(ValueError, match="truncated") as e:
        FashionMNIST()
    assert str(f) in str(e.value)


def test_count_mismatch_and_bad_labels(env, monkeypatch):
    d = env / "data" / "fashion-mnist"
    write_split(d, "train", 20)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    with pytest.raises(ValueError, match="20 images but .* 19 labels"):
        FashionMNIST()
    write_idx(d / "train-labels-idx1-ubyte.gz", np.full(20, 12, np.uint8))
    with pytest.raises(ValueError, match="label 12 out of range"):
        FashionMNIST()
    write_idx(d / "train-images-idx3-ubyte.gz", np.zeros((20, 28, 27), np.uint8))
    with pytest.raises(ValueError, match="wrong shape"):
        FashionMNIST()


# --- loading with transforms --------------------------------------------------------------------
def test_transforms_and_fast_batches(env, monkeypatch):
    img, lbl = write_split(env / "data" / "fashion-mnist", "train", 25)[0:2]
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    ds = FashionMNIST(transform=Compose([ToTensor(), Flatten()]))
    x, y = ds[2]
    assert x.shape == (784,) and x.dtype == sj.float32
    np.testing.assert_allclose(x.numpy(), img[2].reshape(-1) / 255, rtol=1e-6)
    assert ds._batchable
    fast = list(DataLoader(ds, batch_size=8, shuffle=True, seed=0))
    slow = list(DataLoader(ds, batch_size=8, shuffle=True, seed=0, collate_fn=default_collate))
    for (a, b), (c, d) in zip(fast, slow):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert a.dtype == c.dtype and b.dtype == d.dtype == sj.int64
    td = ds.to_tensor_dataset()
    assert td.tensors[0].shape == (25, 784) and td.tensors[1].dtype == sj.int64
    plain = FashionMNIST(transform=lambda t: t.numpy().astype(np.float32))
    assert not plain._batchable
    xb, yb = next(iter(DataLoader(plain, batch_size=4)))
    assert xb.shape == (4, 28, 28) and xb.dtype == sj.float32


# --- download -------------------------------------------------------------------------------
def _mirror(env, monkeypatch):
    src = env / "mirror"
    write_all(src)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}
    monkeypatch.setitem(D.DATASETS["fashion-mnist"], "sha256", sums)
    monkeypatch.setitem(D.DATASETS["fashion-mnist"], "mirrors", ("file:///nonexistent-mirror/", src.as_uri() + "/"))
    return src


def test_download_verifies_and_writes_atomically(env, monkeypatch, capsys):
    src = _mirror(env, monkeypatch)
    ds = FashionMNIST(download=True)
    dest = env / "home" / ".cache" / "shenjing" / "fashion-mnist"
    assert ds.root == dest and len(ds) == 30
    assert sorted(p.name for p in dest.iterdir()) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert (dest / "train-images-idx3-ubyte.gz").read_bytes() == (src / "train-images-idx3-ubyte.gz").read_bytes()
    assert len(FashionMNIST(train=False, download=True)) == 10
    assert "downloading" in capsys.readouterr().out


def test_download_to_shenjing_data(env, monkeypatch):
    _mirror(env, monkeypatch)
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    out = D.download_dataset("fashion-mnist", verbose=False)
    assert out == env / "data" / "fashion-mnist" and len(list(out.iterdir())) == 4


def test_download_bad_checksum_leaves_nothing(env, monkeypatch):
    _mirror(env, monkeypatch)
    monkeypatch.setitem(D.DATASETS["fashion-mnist"]["sha256"], "train-images-idx3-ubyte.gz", "0" * 64)
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST(download=True)
    msg = str(e.value)
    assert "SHA-256 mismatch" in msg and "apt-get install dataset-fashion-mnist" in msg
    dest = env / "home" / ".cache" / "shenjing" / "fashion-mnist"
    assert [p.name for p in dest.iterdir()] == []  # no partial or unverified file


def test_no_download_without_flag(env, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("network used without download=True")

    monkeypatch.setattr(D.urllib.request, "urlopen", boom)
    with pytest.raises(FileNotFoundError):
        FashionMNIST()


def test_dataset_status(env, monkeypatch):
    write_split(env / "data" / "mnist", "train", 3)
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    st = D.dataset_status()
    assert st["mnist"] == {"train": str(env / "data" / "mnist"), "test": None}
    assert st["fashion-mnist"] == {"train": None, "test": None}


# --- the real data (Debian package dataset-fashion-mnist) ---------------------------------------
@pytest.mark.skipif(not (SYSTEM / "train-images-idx3-ubyte.gz").exists(),
                    reason="real Fashion-MNIST not installed: apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist():
    train = FashionMNIST(root=SYSTEM)
    test = FashionMNIST(root=SYSTEM, train=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    assert np.bincount(train.targets).tolist() == [6000] * 10
    assert np.bincount(test.targets).tolist() == [1000] * 10
    assert train.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # first labels of the official files
    assert test.targets[:5].tolist() == [9, 2, 1, 1, 6]
    assert 70 < train.data.mean() < 75  # mean pixel ≈ 72.9 (0.286 · 255)
    with gzip.open(SYSTEM / "t10k-labels-idx1-ubyte.gz") as f:
        assert f.read(4) == b"\x00\x00\x08\x01"


# --- torchvision-style root: FashionMNIST(root="data", download=True) on a machine with the data installed
def test_root_without_files_uses_the_installed_copy_and_says_where(env, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("network used although the data is installed")

    monkeypatch.setattr(D.urllib.request, "urlopen", boom)
    img = write_split(env / "data" / "fashion-mnist", "test", 5)[0]
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    with pytest.warns(UserWarning, match=r"no files under root=.*data-missing/data'; using the installed copy in .*data/fashion-mnist"):
        ds = FashionMNIST(root=env / "data-missing" / "data", train=False, download=True)
    np.testing.assert_array_equal(ds.data, img)
    assert not (env / "data-missing").exists()  # nothing downloaded or created


def test_root_download_from_a_local_mirror_when_nothing_is_installed(env, monkeypatch):
    src = _mirror(env, monkeypatch)
    ds = FashionMNIST(root=env / "data", download=True)
    assert ds.root == env / "data" and len(ds) == 30
    assert (env / "data" / "train-images-idx3-ubyte.gz").read_bytes() == (src / "train-images-idx3-ubyte.gz").read_bytes()


def test_root_error_lists_every_place_looked_at(env, monkeypatch):
    monkeypatch.setitem(D.DATASETS["fashion-mnist"], "mirrors", ("file:///nonexistent-mirror/",))
    monkeypatch.setenv("SHENJING_DATA", str(env / "shared"))
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST(root=env / "data", download=True)
    msg = str(e.value)
    for d, _ in D.search_dirs("fashion-mnist", env / "data") + D.search_dirs("fashion-mnist"):
        assert str(d) in msg
    assert "nonexistent-mirror" in msg and "apt-get install dataset-fashion-mnist" in msg
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST(root=env / "data")
    assert str(env / "shared" / "fashion-mnist") in str(e.value) and "(root" in str(e.value)


def test_search_installed_false_keeps_to_root(env, monkeypatch):
    write_split(env / "data" / "fashion-mnist", "train", 5)
    monkeypatch.setenv("SHENJING_DATA", str(env / "data"))
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST(root=env / "mine", search_installed=False)
    assert str(env / "mine") in str(e.value) and str(env / "data" / "fashion-mnist") not in str(e.value)
