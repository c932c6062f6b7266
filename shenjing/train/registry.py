"""Registries for ``shenjing train``: models and datasets by name.

Later parts of the framework (convolution, attention) register theirs with
``@register_model("name")`` and ``@register_dataset("name")``.

* a model builder takes ``(input_shape, num_classes, **options)`` and returns an ``nn.Module``
  (options it does not know are ignored);
* a dataset builder takes ``(cfg, root)`` — ``cfg`` holds seed, batch_size, val_size, subset —
  and returns a :class:`Task`: loaders, shapes, class names, loss and metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MODELS: dict[str, Callable] = {}
DATASETS: dict[str, Callable] = {}


@dataclass
class Task:
    """What a training run needs to know about its data."""

    train: object
    val: object | None
    test: object
    input_shape: tuple
    num_classes: int
    classes: list
    generators: list = field(default_factory=list)
    loss: Callable | None = None  # default: nn.CrossEntropyLoss()
    metrics: tuple = ("accuracy",)


def _value(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_options(items) -> dict:
    """``--opt KEY=VALUE`` items as a dict: ints, floats, true/false, else strings; '-' in keys → '_'."""
    out = {}
    for item in items or []:
        key, sep, val = str(item).partition("=")
        if not sep:
            raise ValueError(f"--opt expects KEY=VALUE, got {item!r}")
        out[key.replace("-", "_")] = _value(val)
    return out


def register_model(name: str):
    def deco(builder: Callable) -> Callable:
        MODELS[name] = builder
        return builder

    return deco


def register_dataset(name: str):
    def deco(builder: Callable) -> Callable:
        DATASETS[name] = builder
        return builder

    return deco


def build_model(name: str, input_shape: tuple, num_classes: int, **options):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name](tuple(input_shape), num_classes, **options)


def build_task(name: str, cfg: dict, root=None) -> Task:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    return DATASETS[name](cfg, root)


@register_model("mlp")
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
    std (feature scaling, Nelson); ``val_size`` training images held out; seeded shuffling."""
    from ..autograd.tensor import Tensor
    from ..backend import xp
    from ..data import MNIST, DataLoader, FashionMNIST, TensorDataset
    from ..random import Generator

    cls = FashionMNIST if name == "fashion-mnist" else MNIST
    tr_ds, te_ds = cls(root=root, train=True), cls(root=root, train=False)
    x = xp.asarray(tr_ds.data, dtype=xp.float32)[:, None] / 255.0
    xt = xp.asarray(te_ds.data, dtype=xp.float32)[:, None] / 255.0
    y, yt = xp.asarray(tr_ds.targets, dtype=xp.int64), xp.asarray(te_ds.targets, dtype=xp.int64)
    mean, std = float(x.mean()), float(x.std())
    x, xt = (x - mean) / std, (xt - mean) / std
    gen = Generator().manual_seed(cfg.get("seed", 0))
    perm = gen.rng.permutation(len(x))
    n_val = cfg.get("val_size", 5000)
    va, tr = perm[:n_val], perm[n_val:]
    if cfg.get("subset"):
        tr = tr[: cfg["subset"]]
    t = Tensor._make
    bs = cfg.get("batch_size", 128)
    train = DataLoader(TensorDataset(t(x[tr]), t(y[tr])), batch_size=bs, shuffle=True, generator=gen)
    val = DataLoader(TensorDataset(t(x[va]), t(y[va])), batch_size=1000) if n_val else None
    test = DataLoader(TensorDataset(t(xt), t(yt)), batch_size=1000)
    return Task(train, val, test, tuple(x.shape[1:]), len(tr_ds.classes), list(tr_ds.classes), [gen])


register_dataset("fashion-mnist")(lambda cfg, root=None: image_task("fashion-mnist", cfg, root))
register_dataset("mnist")(lambda cfg, root=None: image_task("mnist", cfg, root))


from . import zoo  # noqa: E402,F401  (registers cnn, lenet, resnet, densenet, unet and the segmentation toy)
from .sequence import sequence_task as _sequence_task  # noqa: E402,F401  (registers sort, reverse, copy, addition, transformer)
