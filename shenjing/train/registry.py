"""Registries for ``shenjing train``: models and datasets by name.

This module owns the tables and fills them with the built-in builders — ``mlp`` and the image
datasets here, the convolutional models and the segmentation toy from :mod:`.zoo`, the sequence
tasks and the Transformer from :mod:`.sequence` — which never import it back. More can be added
with ``@register_model("name")`` and ``@register_dataset("name", options=(...))``.

* a model builder takes ``(input_shape, num_classes, **options)`` and returns an ``nn.Module``
  (options it does not know are ignored);
* a dataset builder takes ``(cfg, root)`` — ``cfg`` holds seed, batch_size, val_size, subset
  (None: the dataset's default) and the ``--opt`` items — and returns a
  :class:`~shenjing.train.task.Task`: loaders, shapes, class names, loss and metrics. A value it
  cannot honour raises :class:`~shenjing.train.task.OptionError`.

:func:`known_options` lists the ``--opt`` keys a model and a dataset read, so that a misspelt key
is refused rather than silently ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

from . import sequence, zoo
from .task import OptionError, Task, parse_options

__all__ = ["DATASETS", "DATASET_OPTIONS", "MODELS", "Task", "build_model", "build_task", "image_task", "known_options", "mlp",
           "parse_options", "register_dataset", "register_model"]


def mlp(input_shape: tuple, num_classes: int, hidden=(512, 512), dropout: float = 0.2, **_):
    """Flatten → [Linear → ReLU → Dropout] × len(hidden) → Linear (多层感知机)."""
    from .. import nn

    n_in = 1
    for s in input_shape:
        n_in *= s
    layers = [nn.Flatten()]
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n_in = h
    layers.append(nn.Linear(n_in, num_classes))
    return nn.Sequential(*layers)


def image_task(name: str, cfg: dict, root=None) -> Task:
    """Fashion-MNIST/MNIST as (N, 1, 28, 28) floats, standardised with the training set's mean and
    std (feature scaling, Nelson); ``val_size`` training images held out (default 5000), the first
    ``subset`` of the rest trained on (None or 0: all); seeded shuffling. When no file of the dataset
    is found, it is downloaded (into ``root``, or the cache) if ``cfg["no_download"]`` is False."""
    from ..backend import xp
    from ..creation import as_tensor as t
    from ..data import MNIST, DataLoader, FashionMNIST, TensorDataset
    from ..data.datasets import dataset_dir
    from ..random import Generator

    cls = FashionMNIST if name == "fashion-mnist" else MNIST
    # `shenjing train` fetches the dataset when none of its files is found (a fresh machine), unless --no-download
    download = cfg.get("no_download") is False and dataset_dir(name, root) is None
    tr_ds, te_ds = (cls(root=root, train=t, search_installed=False, download=download) for t in (True, False))  # --data DIR: that folder only
    x = xp.asarray(tr_ds.data, dtype=xp.float32)[:, None]
    xt = xp.asarray(te_ds.data, dtype=xp.float32)[:, None]
    y, yt = xp.asarray(tr_ds.targets, dtype=xp.int64), xp.asarray(te_ds.targets, dtype=xp.int64)
    for a in (x, xt):  # in place (the same float32 values as (x / 255 − mean) / std): no 188 MB temporaries
        a /= 255.0
    mean, std = float(x.mean()), float(x.std())
    for a in (x, xt):
        a -= mean
        a /= std
    n_val = 5000 if cfg.get("val_size") is None else int(cfg["val_size"])
    if not 0 <= n_val < len(x):
        raise OptionError("val_size", f"must be between 0 and {len(x) - 1} (the {name} training set has {len(x)} images), got {n_val}")
    subset = int(cfg.get("subset") or 0)
    if not 0 <= subset <= len(x) - n_val:
        raise OptionError("subset", f"must be between 1 and {len(x) - n_val} (the {name} training images left after "
                                    f"--val-size {n_val}), got {subset}")
    gen = Generator().manual_seed(cfg.get("seed", 0))
    perm = gen.rng.permutation(len(x))
    va, tr = perm[:n_val], perm[n_val:]
    if subset:
        tr = tr[:subset]
    bs = cfg.get("batch_size") or 128
    train = DataLoader(TensorDataset(t(x[tr]), t(y[tr])), batch_size=bs, shuffle=True, generator=gen)
    val = DataLoader(TensorDataset(t(x[va]), t(y[va])), batch_size=1000) if n_val else None
    test = DataLoader(TensorDataset(t(xt), t(yt)), batch_size=1000)
    return Task(train, val, test, tuple(x.shape[1:]), len(tr_ds.classes), list(tr_ds.classes), [gen])


MODELS: dict[str, Callable] = {
    "mlp": mlp,
    "cnn": zoo.cnn_model,
    "lenet": zoo.lenet_model,
    "resnet": zoo.resnet_model,
    "densenet": zoo.densenet_model,
    "unet": zoo.unet_model,
    "transformer": sequence.transformer_model,
}
DATASETS: dict[str, Callable] = {
    "fashion-mnist": partial(image_task, "fashion-mnist"),
    "mnist": partial(image_task, "mnist"),
    "segmentation": zoo.segmentation_task,
    **{name: partial(sequence.sequence_task, name) for name in sequence.TASKS},
}
DATASET_OPTIONS: dict[str, tuple[str, ...]] = {  # the --opt keys each dataset reads
    "fashion-mnist": (),
    "mnist": (),
    "segmentation": (),
    **sequence.TASK_OPTIONS,
}


def register_model(name: str):
    """``@register_model("name")``: add a model builder to :data:`MODELS`."""
    def deco(builder: Callable) -> Callable:
        MODELS[name] = builder
        return builder

    return deco


def register_dataset(name: str, options: tuple[str, ...] | None = None):
    """``@register_dataset("name", options=("key", ...))``: add a dataset builder to :data:`DATASETS`;
    ``options`` are the ``--opt`` keys it reads (None: not declared, every key is accepted)."""
    def deco(builder: Callable) -> Callable:
        DATASETS[name] = builder
        if options is None:
            DATASET_OPTIONS.pop(name, None)
        else:
            DATASET_OPTIONS[name] = tuple(options)
        return builder

    return deco


def build_model(name: str, input_shape: tuple, num_classes: int, **options):
    """``MODELS[name](input_shape, num_classes, **options)``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name](tuple(input_shape), num_classes, **options)


def build_task(name: str, cfg: dict, root=None) -> Task:
    """``DATASETS[name](cfg, root)``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    return DATASETS[name](cfg, root)


def known_options(model: str, dataset: str) -> set[str] | None:
    """The ``--opt`` keys that model ``model`` (its builder's named parameters) and dataset
    ``dataset`` (:data:`DATASET_OPTIONS`) read; None if the dataset does not declare its keys."""
    if dataset not in DATASET_OPTIONS or model not in MODELS:
        return None
    params = inspect.signature(MODELS[model]).parameters.values()
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return (named - {"input_shape", "num_classes"}) | set(DATASET_OPTIONS[dataset])
