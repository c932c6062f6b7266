"""Fashion-MNIST and MNIST: 28×28 grey images in 10 classes, read with the IDX reader.

Files are looked for in these folders, in this order:

1. ``root`` if given (if the files are not there, the folders below are searched next, with a
   warning naming where they were found, before ``download=True`` downloads into ``root``);
2. ``$SHENJING_DATA/<name>`` (for Fashion-MNIST also ``$SHENJING_DATA`` itself);
3. ``~/.cache/shenjing/<name>`` (where ``download=True`` puts them);
4. ``/usr/share/datasets/<name>`` (Debian: ``apt-get install dataset-fashion-mnist``).

A dataset is read from one folder as a whole: the first folder that holds any of its four files.
A folder holding none of them is passed over; one holding some but not those of the split asked
for is an error naming the folder and the missing files — the training set of one location is
never mixed with the test set of another. ``<name>`` is ``fashion-mnist`` or ``mnist``; gzipped
and uncompressed files are both accepted.
``download=True`` (and ``shenjing data fetch NAME``, and ``shenjing train`` when the files are
absent) fetches the official files with urllib, with a progress bar, checks their SHA-256 against
the sums built in here and writes them atomically; without it nothing touches the network.
``$SHENJING_DATA_MIRROR=URL`` fetches from a mirror instead (a local one, or a test's):
``URL/<name>/<file>``, with the expected sums read from the mirror's ``URL/<name>/SHA256SUMS`` (the
format of ``sha256sum``) — for a mirror of the official files those are the sums built in here. No
pickle anywhere.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..files import InvalidFileError
from .dataset import Dataset, TensorDataset
from .idx import read_idx
from .transforms import Transform

__all__ = ["FashionMNIST", "MNIST", "IncompleteDatasetError", "DownloadError", "search_dirs", "dataset_dir", "find_files", "download_dataset",
           "cache_dir", "dataset_status", "DATASETS", "locate", "MIRROR_ENV", "sources"]

_ENV = "SHENJING_DATA"
MIRROR_ENV = "SHENJING_DATA_MIRROR"

DATASETS: dict[str, dict[str, Any]] = {
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "aliases": ("fashion-mnist", "fashion_mnist", "FashionMNIST/raw", "FashionMNIST"),
        "system_dir": "/usr/share/datasets/fashion-mnist",
        "debian_package": "dataset-fashion-mnist",
        "mirrors": (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        "sha256": {  # of the official .gz files (the Debian package recompresses them: other sums, same data)
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        "classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        "bare_env_dir": True,
    },
    "mnist": {
        "title": "MNIST",
        "aliases": ("mnist", "MNIST/raw", "MNIST"),
        "system_dir": "/usr/share/datasets/mnist",
        "debian_package": None,
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        "sha256": {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        "classes": ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"],
        "bare_env_dir": False,
    },
}

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _spec(name: str) -> dict[str, Any]:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def _variants(stem: str) -> list[str]:
    """File names a stem may have: gz or raw, and the 'train-images.idx3-ubyte' spelling."""
    dotted = stem.replace("-idx", ".idx")
    return [stem + ".gz", stem, dotted + ".gz", dotted]


def cache_dir() -> Path:
    """``~/.cache/shenjing`` (``~`` from $HOME)."""
    return Path(os.path.expanduser("~")) / ".cache" / "shenjing"


def search_dirs(name: str = "fashion-mnist", root: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """The directories searched for dataset ``name``, in order, each with where it comes from."""
    spec = _spec(name)
    if root is not None:
        r = Path(root).expanduser()
        return [(r, "root")] + [(r / a, "root") for a in spec["aliases"]]
    out: list[tuple[Path, str]] = []
    env = os.environ.get(_ENV)
    if env:
        base = Path(env).expanduser()
        out += [(base / a, f"${_ENV}") for a in spec["aliases"]]
        if spec["bare_env_dir"]:
            out.append((base, f"${_ENV}"))
    out += [(cache_dir() / a, "cache") for a in spec["aliases"]]
    pkg = spec["debian_package"]
    out.append((Path(spec["system_dir"]), f"Debian package {pkg}" if pkg else "system"))
    seen, uniq = set(), []
    for d, why in out:
        if d not in seen:
            seen.add(d)
            uniq.append((d, why))
    return uniq


class IncompleteDatasetError(FileNotFoundError):
    """The folder a dataset is read from lacks some of the files asked for (see the module docstring)."""


class DownloadError(RuntimeError):
    """No mirror delivered a dataset file with the expected SHA-256 (the message has every mirror's error)."""


def _find_in(d: Path, stem: str) -> Path | None:
    for v in _variants(stem):
        p = d / v
        if p.is_file():
            return p
    return None


def dataset_dir(name: str = "fashion-mnist", root: str | os.PathLike | None = None) -> tuple[Path, str] | None:
    """(folder, where it comes from) that ``name`` is read from: the first searched folder holding
    any of the dataset's files; None if no folder holds one."""
    stems = [s for pair in _SPLIT_FILES.values() for s in pair]
    for d, why in search_dirs(name, root):
        if d.is_dir() and any(_find_in(d, s) is not None for s in stems):
            return d, why
    return None


def find_files(name: str = "fashion-mnist", split: str = "train", root: str | os.PathLike | None = None) -> tuple[Path, Path] | None:
    """(images, labels) paths of ``split`` ('train' or 'test') in :func:`dataset_dir`; None if no
    folder holds any file of the dataset. Raises :class:`IncompleteDatasetError` naming the folder
    and the missing files if that folder lacks the split's files (no other location is used)."""
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    found = dataset_dir(name, root)
    if found is None:
        return None
    d, why = found
    files = [_find_in(d, stem) for stem in _SPLIT_FILES[split]]
    if None in files:
        missing = " and ".join(f"{stem}[.gz]" for stem, f in zip(_SPLIT_FILES[split], files) if f is None)
        raise IncompleteDatasetError(
            f"{_spec(name)['title']} folder {d} ({why}) holds some of the dataset's files but not {missing}: a dataset is read "
            f"from one folder as a whole, so add the missing file(s) there (or move that folder's files away to use another location)"
        )
    return files[0], files[1]


def _default_dest(name: str) -> Path:
    env = os.environ.get(_ENV)
    return (Path(env).expanduser() if env else cache_dir()) / name


def _how_to_get(name: str, root: Any = None) -> str:
    spec = _spec(name)
    lines = ["To get them, do one of:"]
    if spec["debian_package"]:
        lines.append(f"  - apt-get install {spec['debian_package']}   (Debian/Ubuntu, as root; installs {spec['system_dir']})")
    lines.append(f"  - put the four files (gz or raw) in DIR/{name} and set {_ENV}=DIR")
    dest = Path(root).expanduser() if root is not None else _default_dest(name)
    lines.append(f"  - run `shenjing data fetch {name}` (or pass download=True) to fetch them from {spec['mirrors'][0]} into {dest} "
                 "(SHA-256 checked)")
    return "\n".join(lines)


def _not_found(name: str, split: str, root: Any, download_error: str | None = None, search_installed: bool = True) -> FileNotFoundError:
    spec = _spec(name)
    img_stem, lbl_stem = _SPLIT_FILES[split]
    dirs = search_dirs(name, root) + (search_dirs(name) if root is not None and search_installed else [])
    looked = "\n".join(f"  {d}   ({why}{'' if d.is_dir() else ', does not exist'})" for d, why in dirs)
    if root is not None and not search_installed:
        where = f"{dirs[0][0]} (root)"
    else:
        where = f"any of the {len(dirs)} folders searched (" + ("root, " if root is not None else "") + f"${_ENV}, ~/.cache/shenjing, {spec['system_dir']})"
    if spec["debian_package"]:
        fix = f"install them with `apt-get install {spec['debian_package']}`"
    else:
        fix = f"put the four files in DIR/{name} and set {_ENV}=DIR"
    failed, why = "", ""
    if download_error is not None:
        failed = f"\nDownloading failed too: {download_error}"
        why = f", and downloading them failed: {download_error.splitlines()[0].rstrip(':')}"
    return FileNotFoundError(
        f"{spec['title']} {split} files ({img_stem}[.gz] and {lbl_stem}[.gz]) not found in {where}{why}; {fix}.\n"
        f"Looked in:\n{looked}{failed}\n{_how_to_get(name, root)}"
    )


def locate(name: str, split: str, root: str | os.PathLike | None = None, download: bool = False,
           search_installed: bool = True) -> tuple[Path, Path]:
    """(images, labels) of ``split``, as a torchvision dataset finds them: in ``root`` if given; if
    not there, in the installed locations ($SHENJING_DATA, the cache, the Debian package) — with a
    warning naming where — and only then, with ``download=True``, downloaded into ``root`` (or the
    cache). The error when nothing works lists every folder looked at. ``search_installed=False``
    keeps to ``root`` (``shenjing train --data DIR`` means that folder only)."""
    try:
        files = find_files(name, split, root)
    except IncompleteDatasetError:
        if not download:
            raise
        files = None
    if files is None and root is not None and search_installed:
        try:
            files = find_files(name, split)
        except IncompleteDatasetError:
            files = None
        if files is not None:
            warnings.warn(f"{_spec(name)['title']}: no files under root={os.fspath(root)!r}; using the installed copy in {files[0].parent}",
                          stacklevel=3)
    if files is None:
        if not download:
            raise _not_found(name, split, root, search_installed=search_installed)
        try:
            download_dataset(name, root, splits=(split,))
        except DownloadError as e:  # every mirror failed: the download errors and every folder looked at
            raise _not_found(name, split, root, str(e).split("\nTo get them")[0], search_installed) from None
        files = find_files(name, split, root if root is not None else _default_dest(name))
        if files is None:
            raise _not_found(name, split, root)
    return files


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(url: str, dest: Path, sha256: str, timeout: float, progress: bool = False) -> None:
    """Stream ``url`` into a temporary file beside ``dest`` (a progress bar on stderr with
    ``progress``), check SHA-256, then rename (atomic)."""
    from tqdm import tqdm

    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as resp:
            size = resp.headers.get("Content-Length")
            with tqdm(total=int(size) if size and size.isdigit() else None, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=dest.name, disable=not progress, leave=False) as bar:
                for chunk in iter(lambda: resp.read(1 << 16), b""):
                    h.update(chunk)
                    f.write(chunk)
                    bar.update(len(chunk))
        got = h.hexdigest()
        if got != sha256:
            raise ValueError(f"SHA-256 mismatch for {url}: got {got}, expected {sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mirror_sums(url: str, timeout: float) -> dict[str, str]:
    """{file name: SHA-256} from a mirror's SHA256SUMS (lines ``<hex>  <name>``, as ``sha256sum`` writes)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            text = resp.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(f"${MIRROR_ENV}: cannot read the mirror's checksums {url}: {e}") from None
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def sources(name: str, timeout: float = 60.0) -> tuple[tuple[str, ...], dict[str, str]]:
    """(mirror URLs, {file: SHA-256}) that ``name`` is downloaded from: the official mirrors and the
    sums built in here, or with ``$SHENJING_DATA_MIRROR=URL`` that mirror (``URL/<name>/``) and its SHA256SUMS."""
    spec = _spec(name)
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return tuple(spec["mirrors"]), dict(spec["sha256"])
    base = f"{mirror.rstrip('/')}/{name}/"
    return (base,), _mirror_sums(base + "SHA256SUMS", timeout)


def download_dataset(name: str = "fashion-mnist", root: str | os.PathLike | None = None, splits: Sequence[str] = ("train", "test"),
                     mirrors: Sequence[str] | None = None, timeout: float = 60.0, verbose: bool = True) -> Path:
    """Download the official .gz files of ``name`` into ``root`` (default ``$SHENJING_DATA/<name>`` or
    ``~/.cache/shenjing/<name>``), checking each file's SHA-256; returns the directory.

    Files already there with the right checksum are kept. Each file is written to a temporary
    file and renamed only once its checksum matches, so an interrupted download leaves nothing half
    written; ``verbose`` prints what is fetched, with a progress bar. Raises :class:`DownloadError`
    (with the ways to get the files by hand) if every mirror fails. ``mirrors`` (default:
    :func:`sources`) are tried in order, against the built-in sums.
    """
    spec = _spec(name)
    dest = Path(root).expanduser() if root is not None else _default_dest(name)
    mirrors, sums = (tuple(mirrors), spec["sha256"]) if mirrors is not None else sources(name, timeout)
    dest.mkdir(parents=True, exist_ok=True)
    for split in splits:
        for stem in _SPLIT_FILES[split]:
            fname = stem + ".gz"
            if fname not in sums:
                raise DownloadError(f"the mirror's SHA256SUMS ({mirrors[0]}SHA256SUMS) lists no {fname}")
            target = dest / fname
            if target.is_file() and _sha256(target) == sums[fname]:
                continue
            errors = []
            for m in mirrors:
                url = m.rstrip("/") + "/" + fname
                if verbose:
                    print(f"downloading {url} -> {target}", flush=True)
                try:
                    _fetch(url, target, sums[fname], timeout, progress=verbose)
                    break
                except (urllib.error.URLError, OSError, ValueError) as e:
                    errors.append(f"  {url}: {e}")
            else:
                raise DownloadError(f"could not download {spec['title']} file {fname} from any mirror ({errors[0].strip()}):\n"
                                    + "\n".join(errors) + "\n" + _how_to_get(name, root))
    return dest


def dataset_status() -> dict[str, dict[str, str | None]]:
    """Which dataset files are found where ({name: {split: directory or None}}), for ``shenjing info``."""
    out: dict[str, dict[str, str | None]] = {}
    for name in DATASETS:
        out[name] = {}
        for split in _SPLIT_FILES:
            try:
                f = find_files(name, split)
            except IncompleteDatasetError:
                f = None
            out[name][split] = str(f[0].parent) if f else None
    return out


class _IDXImageDataset(Dataset):
    """Images (N, 28, 28) uint8 in ``data``, labels (N,) int64 in ``targets``, names in ``classes``."""

    _name = ""

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False, search_installed: bool = True) -> None:
        spec = _spec(self._name)
        self.train = train
        self.split = "train" if train else "test"
        self.transform = transform
        self.target_transform = target_transform
        self.classes = list(spec["classes"])
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        files = locate(self._name, self.split, root, download, search_installed)
        self.image_file, self.label_file = files
        self.root = self.image_file.parent
        images = read_idx(self.image_file, shape=(None, 28, 28), dtype=xp.uint8)
        labels = read_idx(self.label_file, ndim=1, dtype=xp.uint8)
        if images.shape[0] != labels.shape[0]:
            raise InvalidFileError(f"{self.image_file} has {images.shape[0]} images but {self.label_file} has {labels.shape[0]} labels")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise InvalidFileError(f"{self.label_file}: label {int(labels.max())} out of range for {len(self.classes)} classes")
        self.data = images
        self.targets = labels.astype(xp.int64)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img: Any = as_tensor(self.data[index])
        target: Any = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def _batchable(self) -> bool:
        ok = [t is None or (isinstance(t, Transform) and getattr(t, "batchable", True)) for t in (self.transform, self.target_transform)]
        return all(ok) and type(self).__getitem__ is _IDXImageDataset.__getitem__

    def _get_batch(self, indices) -> list[Tensor]:
        imgs = self.data[indices]
        x = self.transform.apply_batch(imgs) if self.transform is not None else as_tensor(imgs)
        y = self.targets[indices]
        y = self.target_transform.apply_batch(y) if self.target_transform is not None else as_tensor(y)
        return [x, y]

    def to_tensor_dataset(self) -> TensorDataset:
        """All samples, transforms applied once, as a TensorDataset (random transforms are frozen)."""
        return TensorDataset(*self._get_batch(slice(None)))

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}", f"    Root location: {self.root}",
                 f"    Split: {self.split.capitalize()}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


class FashionMNIST(_IDXImageDataset):
    """Fashion-MNIST (Zalando): 60 000 training and 10 000 test 28×28 grey images of 10 clothing classes.

    ``data``: uint8 array (N, 28, 28); ``targets``: int64 array (N,); ``classes``: the names.
    ``dataset[i]`` is (image, label): the uint8 image Tensor (after ``transform``) and an int.
    """

    _name = "fashion-mnist"


class MNIST(_IDXImageDataset):
    """MNIST handwritten digits (手写数字), read like Fashion-MNIST from ``mnist`` directories."""

    _name = "mnist"

