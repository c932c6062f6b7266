"""Transforms (数据变换): scaling, one-hot labels and random image augmentation (数据增强).

A transform maps one sample (``t(x)``) or a whole batch whose first dimension indexes samples
(``t.apply_batch(xs)``); random transforms draw independently per sample either way, from the
given ``shenjing.Generator`` or the global one, so seeded runs repeat. Inputs may be Tensors or
arrays; outputs are Tensors.

Feature scaling (特征缩放, Nelson "特征的比例影响梯度下降的性能"): standardising every feature to
mean 0 and standard deviation 1 makes the loss surface round rather than a long narrow valley, so
gradient descent takes a larger step size. Fit the statistics on the training set only and apply
the same transform to the validation and test sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..random import Generator, rng

__all__ = [
    "Transform",
    "Compose",
    "Lambda",
    "ToTensor",
    "Flatten",
    "Standardize",
    "Normalize",
    "MinMaxScale",
    "OneHot",
    "one_hot",
    "RandomCrop",
    "RandomHorizontalFlip",
]


def _arr(x: Any):
    return x.array if isinstance(x, Tensor) else xp.asarray(x)


def _out(a) -> Tensor:
    return as_tensor(a)


class Transform:
    """Base class: ``__call__`` maps one sample, ``apply_batch`` a stack of samples (dim 0)."""

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def apply_batch(self, xs: Any) -> Any:
        """Default: apply per sample and stack. Transforms that can, override this vectorised."""
        return _out(xp.stack([_arr(self(x)) for x in _arr(xs)]))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "generator")
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def apply_batch(self, xs: Any) -> Any:
        for t in self.transforms:
            if isinstance(t, Transform):
                xs = t.apply_batch(xs)
            else:
                xs = _out(xp.stack([_arr(t(x)) for x in _arr(xs)]))
        return xs

    @property
    def batchable(self) -> bool:
        return all(isinstance(t, Transform) for t in self.transforms)

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda(Transform):
    """A user function as a transform; ``batched=True`` if it also works on a batch as a whole."""

    def __init__(self, fn: Callable, batched: bool = False) -> None:
        self.fn = fn
        self.batched = batched

    def __call__(self, x: Any) -> Any:
        return self.fn(x)

    def apply_batch(self, xs: Any) -> Any:
        return self.fn(xs) if self.batched else super().apply_batch(xs)


class ToTensor(Transform):
    """An image to a CHW float tensor, as torchvision's ToTensor: (H, W) → (1, H, W) and
    (H, W, C) → (C, H, W); uint8 pixels 0..255 become values in [0, 1] (the default float dtype,
    or ``dtype``), other dtypes keep their values (and dtype unless ``dtype`` is given).

    ``apply_batch`` does the same to every sample of a stack: (N, H, W) → (N, 1, H, W),
    (N, H, W, C) → (N, C, H, W).
    """

    def __init__(self, dtype: Any = None) -> None:
        self.dtype = dtype

    def _convert(self, a, lead: int) -> Tensor:
        nd = a.ndim - lead
        if nd == 2:
            a = xp.expand_dims(a, lead)
        elif nd == 3:
            a = xp.moveaxis(a, -1, lead)
        else:
            what = "sample of the batch" if lead else "image"
            raise ValueError(f"ToTensor: an {what} must be (H, W) or (H, W, C), got shape {tuple(a.shape[lead:])}")
        if a.dtype == xp.uint8:
            dtype = B.get_default_dtype() if self.dtype is None else xp.dtype(self.dtype)
            a = a.astype(dtype) * dtype.type(1 / 255)
        elif self.dtype is not None:
            a = a.astype(xp.dtype(self.dtype))
        return _out(xp.ascontiguousarray(a))

    def __call__(self, x: Any) -> Tensor:
        return self._convert(_arr(x), 0)

    def apply_batch(self, xs: Any) -> Tensor:
        return self._convert(_arr(xs), 1)


class Flatten(Transform):
    """A sample to a vector (a batch to (N, features)): the input an MLP takes."""

    def __call__(self, x: Any) -> Tensor:
        return _out(_arr(x).reshape(-1))

    def apply_batch(self, xs: Any) -> Tensor:
        a = _arr(xs)
        return _out(a.reshape(a.shape[0], -1))


class Standardize(Transform):
    """Standardise features (标准化, z-score; Nelson 特征缩放): x ↦ (x − μ) / σ.

    ``fit(train)`` computes μ and σ over ``axis`` (default 0: one pair per feature; ``None``: one
    pair for everything) and is then applied unchanged to validation and test data. Features with
    σ < ``eps`` are only centred. ``inverse`` undoes the scaling (e.g. for regression targets).
    """

    def __init__(self, mean: Any = None, std: Any = None, axis: int | tuple[int, ...] | None = 0, eps: float = 1e-8) -> None:
        self.axis = axis
        self.eps = eps
        self.mean = None if mean is None else _arr(mean)
        self.std = None if std is None else _arr(std)

    def fit(self, data: Any) -> Standardize:
        a = _arr(data)
        a = a.astype(xp.float64) if a.dtype.kind != "f" else a
        if self.axis is None:
            self.mean, self.std = xp.asarray(a.mean(dtype=xp.float64)), xp.asarray(a.std(dtype=xp.float64))
            return self
        axes = tuple(ax % a.ndim for ax in (self.axis if isinstance(self.axis, tuple) else (self.axis,)))
        if 0 not in axes:
            raise ValueError(f"Standardize: axis must include 0 (the sample dimension) or be None, got {self.axis}")
        # keepdims then drop the sample dim: stats broadcast against one sample and against a batch
        self.mean = a.mean(axis=axes, keepdims=True, dtype=xp.float64)[0]
        self.std = a.std(axis=axes, keepdims=True, dtype=xp.float64)[0]
        return self

    def _check(self) -> None:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardize: call fit(train_data) first (or pass mean and std)")

    def __call__(self, x: Any) -> Tensor:
        self._check()
        a = _arr(x)
        dtype = a.dtype if a.dtype.kind == "f" else B.get_default_dtype()
        std = xp.where(self.std < self.eps, 1.0, self.std).astype(dtype)
        return _out((a.astype(dtype, copy=False) - self.mean.astype(dtype)) / std)

    def apply_batch(self, xs: Any) -> Tensor:
        return self(xs)

    def inverse(self, x: Any) -> Tensor:
        self._check()
        a = _arr(x)
        std = xp.where(self.std < self.eps, 1.0, self.std)
        return _out((a * std + self.mean).astype(a.dtype if a.dtype.kind == "f" else B.get_default_dtype(), copy=False))

    def state_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "axis": self.axis, "eps": self.eps}

    @classmethod
    def from_state_dict(cls, state: dict) -> Standardize:
        axis = tuple(state["axis"]) if isinstance(state["axis"], list) else state["axis"]
        return cls(xp.asarray(state["mean"]), xp.asarray(state["std"]), axis, state["eps"])


class Normalize(Transform):
    """Per-channel normalisation of images (归一化; torchvision Normalize): (x − mean[c]) / std[c].

    ``mean``/``std`` are numbers or one value per channel; the channel dimension is ``-3`` of
    (C, H, W) images (or of a batch (N, C, H, W)). For plain feature vectors use ``Standardize``.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float], channel_dim: int = -3) -> None:
        self.mean = mean
        self.std = std
        self.channel_dim = channel_dim
        s = xp.asarray(std, dtype=xp.float64)
        if (s == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion, leading to division by zero (std={std})")

    def _stats(self, a):
        m = xp.asarray(self.mean, dtype=xp.float64)
        s = xp.asarray(self.std, dtype=xp.float64)
        if m.ndim:  # put the per-channel values on channel_dim
            shape = [1] * (-self.channel_dim)
            shape[0] = -1
            m, s = m.reshape(shape), s.reshape(shape)
        return m, s

    def __call__(self, x: Any) -> Tensor:
        a = _arr(x)
        m, s = self._stats(a)
        dtype = a.dtype if a.dtype.kind == "f" else B.get_default_dtype()
        return _out((a.astype(dtype, copy=False) - m.astype(dtype)) / s.astype(dtype))

    def apply_batch(self, xs: Any) -> Tensor:
        return self(xs)

    @staticmethod
    def fit(images: Any, channel_dim: int | None = None) -> Normalize:
        """Mean and std of training images: one pair overall, or one per channel of ``channel_dim``."""
        a = _arr(images)
        a = a / 255.0 if a.dtype == xp.uint8 else a.astype(xp.float64)
        if channel_dim is None:
            return Normalize(float(a.mean()), float(a.std()))
        cd = channel_dim % a.ndim
        axes = tuple(i for i in range(a.ndim) if i != cd)
        return Normalize(a.mean(axis=axes).tolist(), a.std(axis=axes).tolist(), channel_dim=channel_dim - a.ndim if channel_dim >= 0 else channel_dim)


class MinMaxScale(Transform):
    """Rescale every feature to [low, high] with the range seen in ``fit(train)`` (min-max 归一化)."""

    def __init__(self, low: float = 0.0, high: float = 1.0, axis: int | tuple[int, ...] | None = 0) -> None:
        self.low, self.high, self.axis = low, high, axis
        self.min = self.max = None

    def fit(self, data: Any) -> MinMaxScale:
        a = _arr(data)
        self.min = a.min(axis=self.axis).astype(xp.float64)
        self.max = a.max(axis=self.axis).astype(xp.float64)
        return self

    def __call__(self, x: Any) -> Tensor:
        if self.min is None:
            raise RuntimeError("MinMaxScale: call fit(train_data) first")
        a = _arr(x)
        span = xp.where(self.max - self.min == 0, 1.0, self.max - self.min)
        dtype = a.dtype if a.dtype.kind == "f" else B.get_default_dtype()
        return _out((self.low + (a - self.min) / span * (self.high - self.low)).astype(dtype, copy=False))

    def apply_batch(self, xs: Any) -> Tensor:
        return self(xs)


def one_hot(labels: Any, num_classes: int = -1, dtype: Any = None) -> Tensor:
    """Class indices → one-hot vectors (独热编码): shape (..., num_classes).

    ``dtype=None`` gives int64 like ``torch.nn.functional.one_hot``; ``num_classes=-1`` uses max+1.
    """
    a = _arr(labels)
    if a.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class indices must be integers, got dtype {a.dtype}")
    if num_classes < 0:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got min {a.min()} max {a.max()}")
    out = xp.zeros(a.shape + (num_classes,), dtype=xp.int64 if dtype is None else xp.dtype(dtype))
    xp.put_along_axis(out, a[..., None].astype(xp.int64), 1, axis=-1)
    return _out(out)


class OneHot(Transform):
    """Transform form of ``one_hot`` (default dtype: the default float, ready for an MSE target)."""

    def __init__(self, num_classes: int, dtype: Any = None) -> None:
        self.num_classes = num_classes
        self.dtype = dtype

    def __call__(self, x: Any) -> Tensor:
        return one_hot(x, self.num_classes, B.get_default_dtype() if self.dtype is None else self.dtype)

    def apply_batch(self, xs: Any) -> Tensor:
        return self(xs)


def _pad_hw(a, padding, fill, mode: str):
    """Pad the last two dims; ``padding`` is an int, (left/right, top/bottom) or (l, t, r, b) like torchvision."""
    if isinstance(padding, int):
        l = t = r = b = padding
    elif len(padding) == 2:
        l = r = padding[0]
        t = b = padding[1]
    elif len(padding) == 4:
        l, t, r, b = padding
    else:
        raise ValueError(f"padding must be an int or a sequence of 2 or 4 ints, got {padding}")
    if not (l or t or r or b):
        return a
    widths = [(0, 0)] * (a.ndim - 2) + [(t, b), (l, r)]
    if mode == "constant":
        return xp.pad(a, widths, mode="constant", constant_values=fill)
    return xp.pad(a, widths, mode=mode)


class RandomCrop(Transform):
    """Crop a random ``size`` window of an image (..., H, W), after optional padding (随机裁剪).

    ``padding`` as in torchvision (int, 2 or 4 values); ``padding_mode``: constant (with ``fill``),
    edge, reflect or symmetric. Each sample of a batch gets its own offset, drawn from ``generator``.
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None, pad_if_needed: bool = False,
                 fill: float = 0, padding_mode: str = "constant", generator: Generator | None = None) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.generator = generator

    def _prepare(self, a):
        if a.ndim < 2:
            raise ValueError(f"RandomCrop: expected an image (..., H, W), got shape {a.shape}")
        if self.padding is not None:
            a = _pad_hw(a, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed:
            h, w = a.shape[-2:]
            if w < tw:
                a = _pad_hw(a, (tw - w, 0), self.fill, self.padding_mode)
            if h < th:
                a = _pad_hw(a, (0, th - h), self.fill, self.padding_mode)
        h, w = a.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the (padded) image size {(h, w)}")
        return a, h - th, w - tw

    def __call__(self, x: Any) -> Tensor:
        a, dy, dx = self._prepare(_arr(x))
        r = rng(self.generator)
        i = int(r.integers(0, dy + 1))
        j = int(r.integers(0, dx + 1))
        th, tw = self.size
        return _out(xp.ascontiguousarray(a[..., i:i + th, j:j + tw]))

    def apply_batch(self, xs: Any) -> Tensor:
        a, dy, dx = self._prepare(_arr(xs))
        n = a.shape[0]
        r = rng(self.generator)
        i = r.integers(0, dy + 1, size=n)
        j = r.integers(0, dx + 1, size=n)
        th, tw = self.size
        win = xp.lib.stride_tricks.sliding_window_view(a, (th, tw), axis=(-2, -1))  # (N, ..., dy+1, dx+1, th, tw)
        mid = (slice(None),) * (a.ndim - 3)  # channel dims between the sample and the window offsets
        # (with slices between them, NumPy puts the advanced-index dim first: (N, ..., th, tw) either way)
        out = win[(xp.arange(n), *mid, i, j)]
        return _out(xp.ascontiguousarray(out))


class RandomHorizontalFlip(Transform):
    """Mirror an image left↔right with probability ``p`` (随机水平翻转), per sample."""

    def __init__(self, p: float = 0.5, generator: Generator | None = None) -> None:
        self.p = p
        self.generator = generator

    def __call__(self, x: Any) -> Tensor:
        a = _arr(x)
        if rng(self.generator).random() < self.p:
            a = xp.ascontiguousarray(a[..., ::-1])
        return _out(a)

    def apply_batch(self, xs: Any) -> Tensor:
        a = _arr(xs)
        flip = rng(self.generator).random(a.shape[0]) < self.p
        out = a.copy()
        out[flip] = a[flip][..., ::-1]
        return _out(out)
