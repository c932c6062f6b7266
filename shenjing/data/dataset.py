"""Datasets (数据集): indexable collections of samples, and ways to split them.

``Dataset``/``TensorDataset``/``Subset``/``ConcatDataset``/``random_split`` follow
``torch.utils.data``. Splitting into training, validation and test sets (训练集/验证集/测试集) is
done by ``train_val_split`` and ``train_val_test_split``, seeded like everything else.

Datasets that can hand out a whole batch with one fancy index expose ``_batchable = True`` and
``_get_batch(indices)``; ``DataLoader`` uses that fast path instead of per-sample collation.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..random import Generator, rng

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "train_val_split",
    "train_val_test_split",
]


class Dataset:
    """A map-style dataset (数据集): ``dataset[i]`` is the i-th sample, ``len(dataset)`` the count."""

    _batchable = False

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples (可迭代数据集): the loader batches what ``__iter__`` yields, in order."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it cannot be indexed")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} is an IterableDataset without a __len__")


def _as_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return as_tensor(xp.asarray(x))


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension (torch TensorDataset).

    ``dataset[i]`` is ``tuple(t[i] for t in tensors)``; a batch of indices is one fancy index per
    tensor (the DataLoader's fast path).
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: at least one tensor is needed")
        ts = tuple(_as_tensor(t) for t in tensors)
        for t in ts:
            if t.ndim == 0:
                raise ValueError("TensorDataset: tensors must have a first (sample) dimension, got a 0-d tensor")
        n = ts[0].shape[0]
        if any(t.shape[0] != n for t in ts):
            shapes = ", ".join(str(tuple(t.shape)) for t in ts)
            raise ValueError(f"TensorDataset: size mismatch between tensors: all need the same first dimension, got shapes {shapes}")
        self.tensors = ts

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(as_tensor(t.array[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    @property
    def _batchable(self) -> bool:  # a subclass that changes __getitem__ loses the fast path
        return type(self).__getitem__ is TensorDataset.__getitem__

    def _get_batch(self, indices) -> list[Tensor]:
        """The samples at ``indices`` already collated: one fancy index per tensor."""
        return [as_tensor(t.array[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (torch Subset)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        self._idx = None

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def _batchable(self) -> bool:
        return type(self).__getitem__ is Subset.__getitem__ and bool(getattr(self.dataset, "_batchable", False))

    def _get_batch(self, indices):
        if self._idx is None:
            self._idx = xp.asarray(self.indices, dtype=xp.int64).reshape(-1)
        return self.dataset._get_batch(self._idx[indices])


class ConcatDataset(Dataset):
    """Datasets one after the other (torch ConcatDataset)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else self.cumulative_sizes[d - 1]
        return self.datasets[d][idx - start]


def _resolve_rng(generator: Generator | None, seed: int | None):
    if generator is not None and seed is not None:
        raise ValueError("give either generator or seed, not both")
    if seed is not None:
        return Generator().manual_seed(seed).rng
    return rng(generator)


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """torch.utils.data.random_split's rule: fractions are floored, the remainder goes round-robin."""
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        out = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            out.append(int(math.floor(n * frac)))
        for i in range(n - sum(out)):
            out[i % len(out)] += 1
        return out
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, got {lengths}")
    out = [int(x) for x in lengths]
    if sum(out) != n:
        raise ValueError(f"Sum of input lengths ({sum(out)}) does not equal the length of the input dataset ({n})!")
    return out


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Generator | None = None, seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping Subsets (随机划分; torch random_split).

    ``lengths`` are sample counts summing to ``len(dataset)`` or fractions summing to 1. The
    permutation is drawn from ``generator`` (or a fresh one seeded with ``seed``, or the global one).
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    perm = _resolve_rng(generator, seed).permutation(n)
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[start:start + size].tolist()))
        start += size
    return out


def _labels_of(dataset: Dataset, stratify) -> Any:
    if stratify is True:
        targets = getattr(dataset, "targets", None)
        if targets is None:
            raise ValueError("stratify=True needs a dataset with a .targets attribute; pass the labels instead")
        stratify = targets
    arr = xp.asarray(stratify)
    if arr.shape != (len(dataset),):
        raise ValueError(f"stratify: expected one label per sample, shape ({len(dataset)},), got {arr.shape}")
    return arr


def _split_indices(n: int, fractions: Sequence[float], r, labels=None, shuffle: bool = True) -> list:
    """Index arrays for the parts; the first part takes what rounding leaves over."""
    for f in fractions:
        if not 0 <= f < 1:
            raise ValueError(f"split fractions must lie in [0, 1), got {list(fractions)}")
    if sum(fractions) >= 1:
        raise ValueError(f"split fractions {list(fractions)} leave no training samples")
    if labels is None:
        idx = r.permutation(n) if shuffle else xp.arange(n)
        groups = [idx]
    else:
        classes = xp.unique(labels)
        groups = []
        for c in classes:
            g = xp.flatnonzero(labels == c)
            groups.append(r.permutation(g) if shuffle else g)
    parts = [[] for _ in range(len(fractions) + 1)]
    for g in groups:
        m = len(g)
        sizes = [int(round(m * f)) for f in fractions]
        start = m - sum(sizes)
        parts[0].append(g[:start])
        for k, s in enumerate(sizes):
            parts[k + 1].append(g[start:start + s])
            start += s
    out = []
    for p in parts:
        idx = xp.concatenate(p) if p else xp.zeros(0, xp.int64)
        if labels is not None and shuffle:
            idx = r.permutation(idx)
        elif labels is not None:
            idx = xp.sort(idx)
        out.append(idx)
    return out


def train_val_split(dataset: Dataset, val_fraction: float = 0.1, generator: Generator | None = None, seed: int | None = None,
                    stratify: Any = None, shuffle: bool = True) -> tuple[Subset, Subset]:
    """Split into a training set and a validation set (训练集/验证集), seeded.

    ``stratify`` (labels, or True to use ``dataset.targets``) keeps the class proportions in both.
    """
    r = _resolve_rng(generator, seed)
    labels = None if stratify is None or stratify is False else _labels_of(dataset, stratify)
    train, val = _split_indices(len(dataset), [val_fraction], r, labels, shuffle)
    return Subset(dataset, train.tolist()), Subset(dataset, val.tolist())


def train_val_test_split(dataset: Dataset, val_fraction: float = 0.1, test_fraction: float = 0.1, generator: Generator | None = None,
                         seed: int | None = None, stratify: Any = None, shuffle: bool = True) -> tuple[Subset, Subset, Subset]:
    """Split into training, validation and test sets (训练集/验证集/测试集), seeded.

    The validation set picks the hyper-parameters, the test set is looked at once at the end.
    ``stratify`` (labels, or True to use ``dataset.targets``) keeps the class proportions.
    """
    r = _resolve_rng(generator, seed)
    labels = None if stratify is None or stratify is False else _labels_of(dataset, stratify)
    train, val, test = _split_indices(len(dataset), [val_fraction, test_fraction], r, labels, shuffle)
    return Subset(dataset, train.tolist()), Subset(dataset, val.tolist()), Subset(dataset, test.tolist())
