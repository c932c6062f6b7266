"""``torch.utils.data`` for ported programs: the same objects as :mod:`shenjing.data` under
PyTorch's module path, so ``from torch.utils.data import DataLoader`` becomes
``from shenjing.utils.data import DataLoader``.
"""

from __future__ import annotations

from ..data.dataloader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    default_collate,
    default_convert,
)
from ..data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from ..data.distributed import DistributedSampler

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "default_collate",
    "default_convert", "random_split",
]
