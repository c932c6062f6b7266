"""Data (数据): datasets, mini-batch loading, transforms, Fashion-MNIST/MNIST and toy sets.

``from shenjing.data import DataLoader, TensorDataset`` mirrors ``torch.utils.data``;
``shenjing.data.toy`` holds the seeded toy generators, ``shenjing.data.transforms`` the transforms.
"""

from __future__ import annotations

from . import toy, transforms
from .dataloader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    default_collate,
    default_convert,
)
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
    train_val_split,
    train_val_test_split,
)
from .datasets import MNIST, FashionMNIST, cache_dir, dataset_status, download_dataset, find_files, search_dirs
from .idx import IDXError, read_idx, read_idx_header, write_idx
from .transforms import (
    Compose,
    Flatten,
    Lambda,
    MinMaxScale,
    Normalize,
    OneHot,
    RandomCrop,
    RandomHorizontalFlip,
    Standardize,
    ToTensor,
    Transform,
    one_hot,
)
