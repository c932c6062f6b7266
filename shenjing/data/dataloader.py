"""Mini-batches (小批量) for stochastic gradient descent: samplers, collation and ``DataLoader``.

The API and the batching rules follow ``torch.utils.data``. Fang §6.2: a batch (批次) is drawn
without replacement (不放回), an epoch (轮) is one pass over all batches, and every epoch splits
the data into batches anew (Zhao §1, Algorithm 2: 小批量随机梯度下降).

Shuffling draws from a ``shenjing.Generator`` — the one given, one seeded with ``seed``, or a fresh
one seeded from the global generator each epoch (like PyTorch) — so a seeded run repeats bit for
bit. ``DataLoader.state_dict()`` records where the current epoch is, so a run resumed from a
checkpoint mid-epoch sees exactly the batches it would have seen.
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..random import Generator, rng
from .dataset import Dataset, IterableDataset

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "BatchSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
]


# ---------------------------------------------------------------------------------------------
# samplers (采样器)
# ---------------------------------------------------------------------------------------------
class Sampler:
    """An iterable over dataset indices."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def _index_array(self):
        """All indices of one pass as an int64 array (the fast path; consumes randomness like ``__iter__``)."""
        return xp.fromiter(iter(self), dtype=xp.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1 in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _index_array(self):
        return xp.arange(len(self.data_source), dtype=xp.int64)


class RandomSampler(Sampler):
    """A random order of the indices (without replacement unless ``replacement=True``).

    Draws from ``generator``; without one, each pass seeds a fresh Generator from the global one
    (as PyTorch does). ``epoch_state`` is the state the current pass started from, so a pass can be
    replayed exactly (``resume_from``).
    """

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None, generator: Generator | None = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self.epoch_state: dict | None = None
        self._resume: dict | None = None
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def resume_from(self, state: dict | None) -> None:
        """Make the next pass start from generator state ``state`` (a pass interrupted by a checkpoint)."""
        self._resume = state

    def _pass_generator(self) -> Generator:
        if self._resume is not None:
            gen = self.generator if self.generator is not None else Generator()
            gen.set_state(self._resume)
            self._resume = None
        elif self.generator is not None:
            gen = self.generator
        else:
            gen = Generator().manual_seed(int(rng().integers(0, 2**63 - 1)))
        self.epoch_state = gen.get_state()
        return gen

    def _index_array(self):
        r = self._pass_generator().rng
        n = len(self.data_source)
        if self.replacement:
            return r.integers(0, n, size=self.num_samples, dtype=xp.int64)
        full, rest = divmod(self.num_samples, n)
        parts = [r.permutation(n) for _ in range(full)]
        if rest:
            parts.append(r.permutation(n)[:rest])
        return xp.concatenate(parts).astype(xp.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __len__(self) -> int:
        return len(self.indices)

    def _index_array(self):
        idx = xp.asarray(self.indices, dtype=xp.int64)
        return idx[rng(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one may be short)."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size

    def _index_batches(self) -> Iterator:
        """The batches as int64 arrays (slices of one index array: no per-index Python work)."""
        if hasattr(self.sampler, "_index_array"):
            idx = self.sampler._index_array()
        else:
            idx = xp.fromiter(iter(self.sampler), dtype=xp.int64)
        n, b = len(idx), self.batch_size
        stop = n - n % b if self.drop_last else n
        for start in range(0, stop, b):
            yield idx[start:start + b]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._index_batches():
            yield batch.tolist()


# ---------------------------------------------------------------------------------------------
# collation (整理成批)
# ---------------------------------------------------------------------------------------------
def _stack(arrays: list) -> Tensor:
    return as_tensor(xp.stack(arrays))


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, like torch's ``default_collate``.

    Tensors and arrays → a stacked Tensor (new first dimension); Python ints → int64, floats →
    float64, bools → bool tensors; strings stay a list; dicts, namedtuples and sequences are
    collated field by field (a tuple of fields becomes a list, as in PyTorch).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) > 1:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, got shapes {sorted(shapes)}")
        return _stack([b.array for b in batch])
    if isinstance(elem, xp.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found array of dtype {elem.dtype}")
        shapes = {b.shape for b in batch}
        if len(shapes) > 1:
            raise RuntimeError(f"default_collate: stack expects each array to be equal size, got shapes {sorted(shapes)}")
        return _stack(list(batch))
    if isinstance(elem, xp.generic):
        if elem.dtype.kind in "OSUV":
            return list(batch)
        return as_tensor(xp.asarray(batch))
    if isinstance(elem, bool):
        return as_tensor(xp.asarray(batch, dtype=xp.bool_))
    if isinstance(elem, int):
        return as_tensor(xp.asarray(batch, dtype=xp.int64))
    if isinstance(elem, float):
        return as_tensor(xp.asarray(batch, dtype=xp.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return _collate_mapping(elem, batch)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        return _collate_sequence(elem, batch)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {type(elem)}")


def _collate_mapping(elem: collections.abc.Mapping, batch: Sequence[Any]) -> Any:
    """Dicts key by key, in the type of the first sample when it can be rebuilt."""
    out = {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, collections.abc.MutableMapping):
        try:
            clone = copy.copy(elem)
            clone.update(out)
            return clone
        except TypeError:
            return out
    try:
        return type(elem)(out)
    except TypeError:
        return out


def _collate_sequence(elem: collections.abc.Sequence, batch: Sequence[Any]) -> Any:
    """Sequences position by position; a tuple becomes a list (as in PyTorch), a list keeps its type."""
    size = len(elem)
    if any(len(e) != size for e in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    transposed = [list(s) for s in zip(*batch)]
    if isinstance(elem, tuple):
        return [default_collate(s) for s in transposed]
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, s in enumerate(transposed):
                clone[i] = default_collate(s)
            return clone
        return type(elem)([default_collate(s) for s in transposed])
    except TypeError:
        return [default_collate(s) for s in transposed]


def default_convert(data: Any) -> Any:
    """Arrays → Tensors, recursively (what the loader applies when automatic batching is off)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, xp.ndarray):
        return data if data.dtype.kind in "OSUV" else as_tensor(data)
    if isinstance(data, xp.generic):
        return data if data.dtype.kind in "OSUV" else as_tensor(xp.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# ---------------------------------------------------------------------------------------------
# DataLoader (数据加载器)
# ---------------------------------------------------------------------------------------------
# accepted for compatibility with torch code; they concern worker processes and devices, which shenjing does not use
_TORCH_ONLY_OPTIONS = {"timeout", "worker_init_fn", "multiprocessing_context", "prefetch_factor", "persistent_workers",
                       "pin_memory_device", "in_order"}


class DataLoader:
    """Iterate over ``dataset`` in mini-batches (小批量), like ``torch.utils.data.DataLoader``.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (or a Generator seeded with
    ``seed``; without either, from the global generator, seeded by ``shenjing.manual_seed``).
    Datasets that support it (TensorDataset, its Subsets, the image datasets) are batched with one
    fancy index per batch instead of per-sample ``__getitem__`` + collation. ``num_workers`` is
    accepted for API compatibility; loading happens in the main process.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0, collate_fn: Callable | None = None,
                 pin_memory: bool = False, drop_last: bool = False, generator: Generator | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        unknown = set(kwargs) - _TORCH_ONLY_OPTIONS
        if unknown:
            raise TypeError(f"DataLoader got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give either generator or seed, not both")
        if seed is not None:
            generator = Generator().manual_seed(seed)
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            if sampler is not None and shuffle:
                raise ValueError("sampler option is mutually exclusive with shuffle")
            if batch_sampler is not None:
                if batch_size != 1 or shuffle or sampler is not None or drop_last:
                    raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
                batch_size = None
                drop_last = False
            elif batch_size is None and drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if batch_size is not None or batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._batches_done = 0
        self._resume_skip = 0

    # -- size --------------------------------------------------------------------------------
    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    # -- iteration ---------------------------------------------------------------------------
    @property
    def _fast(self) -> bool:
        return self._auto_collate and self.batch_sampler is not None and bool(getattr(self.dataset, "_batchable", False))

    def _index_batches(self) -> Iterator:
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._index_batches()
        return (xp.asarray(b, dtype=xp.int64) for b in self.batch_sampler)

    def __iter__(self) -> Iterator[Any]:
        skip, self._resume_skip = self._resume_skip, 0
        if self._iterable:
            it = itertools.islice(self._iter_stream(), skip, None)
        elif self.batch_sampler is None:
            it = (self.collate_fn(self.dataset[i]) for i in itertools.islice(iter(self.sampler), skip, None))
        else:
            batches = itertools.islice(self._index_batches(), skip, None)  # resuming skips indices, not data
            if self._fast:
                it = (self.dataset._get_batch(idx) for idx in batches)
            elif hasattr(self.dataset, "__getitems__"):  # torch's batched-fetch protocol
                it = (self.collate_fn(self.dataset.__getitems__(idx.tolist())) for idx in batches)
            else:
                it = (self.collate_fn([self.dataset[i] for i in idx.tolist()]) for idx in batches)
        self._batches_done = skip
        for batch in it:
            self._batches_done += 1
            yield batch
        self._batches_done = 0
        if isinstance(self.sampler, RandomSampler):
            self.sampler.epoch_state = None

    def _iter_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        buf = []
        for sample in self.dataset:
            buf.append(sample)
            if len(buf) == self.batch_size:
                yield self.collate_fn(buf)
                buf = []
        if buf and not self.drop_last:
            yield self.collate_fn(buf)

    # -- checkpointing -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Where the loader is: how many batches of the current epoch were handed out, the state
        the epoch's shuffle started from, and the loader's own generator. JSON-serialisable; it
        goes into a checkpoint next to the global RNG state."""
        state: dict = {"batches_done": self._batches_done, "epoch_state": None, "generator": None}
        if self._batches_done and isinstance(self.sampler, RandomSampler):
            state["epoch_state"] = self.sampler.epoch_state
        if self.generator is not None:
            state["generator"] = self.generator.get_state()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state_dict()``: the next ``iter()`` replays the interrupted epoch's order
        and skips the batches already seen."""
        if state.get("generator") is not None and self.generator is not None:
            self.generator.set_state(state["generator"])
        self._resume_skip = int(state.get("batches_done", 0))
        if self._resume_skip and isinstance(self.sampler, RandomSampler):
            if state.get("epoch_state") is None:
                raise ValueError("DataLoader.load_state_dict: a mid-epoch state of a shuffling loader needs 'epoch_state'")
            self.sampler.resume_from(state["epoch_state"])
