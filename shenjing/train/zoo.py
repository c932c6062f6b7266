"""Convolutional models and the segmentation toy in the ``shenjing train`` registries (模型库).

Models (``--model``; options by ``--opt key=value``, unknown options ignored):

* ``cnn``      — :class:`~shenjing.nn.SmallCNN`: channels=32,64, convs=2 (per stage, or 1,2), fc=0, dropout
  (``--dropout``), batch_norm=true;
* ``lenet``    — :class:`~shenjing.nn.LeNet5`: activation=tanh, pool=avg, padding=2 for 28×28 (0 for 32×32);
* ``resnet``   — :class:`~shenjing.nn.ResNet` (pre-activation, 残差网络): depth=14 (6n + 2), width=16,
  blocks=2,2,2 (overrides depth), scale (e.g. 0.7071 for 1/√2);
* ``densenet`` — :class:`~shenjing.nn.DenseNet` (密集连接): growth=12, blocks=4,4,4, bottleneck=false,
  compression=0.5;
* ``unet``     — :class:`~shenjing.nn.UNet` (U 型网络): depth=3, width=16, up=transpose|bilinear|nearest.

Dataset ``segmentation``: :func:`shenjing.data.toy.segmentation` images (1, 32, 32) with 3 classes
(background, circle, rectangle); ``--subset`` training images (default 2048), min(``--val-size``,
512) validation images (default 512; ``shenjing train`` refuses more) and 512 test images from
independent seeds; loss: per-pixel cross-entropy; metrics: pixel accuracy and mean IoU (交并比).
"""

from __future__ import annotations

from typing import Any

from ..backend import xp
from .task import Task, int_tuple


def _hw(input_shape: tuple) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"convolutional models need (C, H, W) inputs, got input shape {input_shape}")
    return tuple(int(s) for s in input_shape)


def cnn_model(input_shape: tuple, num_classes: int, channels: Any = (32, 64), convs: Any = 2, fc: int = 0,
              dropout: float = 0.25, batch_norm: bool = True, **_: Any):
    """[Conv-BN-ReLU]×convs → max-pool per width in ``channels``, then dropout → Linear (SmallCNN)."""
    from ..nn.architectures import SmallCNN

    c, h, w = _hw(input_shape)
    n_conv = int_tuple(convs)
    return SmallCNN(num_classes, c, (h, w), channels=int_tuple(channels), convs_per_stage=n_conv[0] if len(n_conv) == 1 else n_conv, fc=int(fc),
                    dropout=float(dropout), batch_norm=bool(batch_norm))


def lenet_model(input_shape: tuple, num_classes: int, activation: str = "tanh", pool: str = "avg",
                padding: int | None = None, **_: Any):
    """LeNet-5; padding 2 on 28×28 inputs (the classic 32×32 layout), else 0 unless given."""
    from ..nn.architectures import LeNet5

    c, h, w = _hw(input_shape)
    padding = (2 if h == 28 else 0) if padding is None else int(padding)
    return LeNet5(num_classes, c, (h, w), padding=padding, activation=activation, pool=pool)


def resnet_model(input_shape: tuple, num_classes: int, depth: int = 14, width: int = 16, blocks: Any = None,
                 scale: float | None = None, **_: Any):
    """A pre-activation ResNet of depth 6n + 2 (or explicit ``blocks`` per stage)."""
    from ..nn.architectures import ResNet

    c, _h, _w = _hw(input_shape)
    return ResNet(num_classes, c, width=int(width), blocks=None if blocks is None else int_tuple(blocks), depth=int(depth),
                  scale=None if scale is None else float(scale))


def densenet_model(input_shape: tuple, num_classes: int, growth: int = 12, blocks: Any = (4, 4, 4),
                   bottleneck: bool = False, compression: float = 0.5, **_: Any):
    """A small DenseNet (dense blocks with concatenation, transition layers)."""
    from ..nn.architectures import DenseNet

    c, _h, _w = _hw(input_shape)
    return DenseNet(num_classes, c, growth=int(growth), blocks=int_tuple(blocks), bottleneck=bool(bottleneck),
                    compression=float(compression))


def unet_model(input_shape: tuple, num_classes: int, depth: int = 3, width: int = 16, up: str = "transpose",
               batch_norm: bool = True, **_: Any):
    """A U-Net with per-pixel logits (N, classes, H, W)."""
    from ..nn.architectures import UNet

    c, _h, _w = _hw(input_shape)
    return UNet(c, num_classes, depth=int(depth), width=int(width), up=str(up), batch_norm=bool(batch_norm))


# ------------------------------------------------------------------------- segmentation metrics


def _arrays(output, target):
    return xp.asarray(output), xp.asarray(target)


def pixel_accuracy(output, target) -> float:
    """Fraction of pixels whose arg-max class (over dim 1 of (N, C, H, W) logits) equals the mask."""
    out, y = _arrays(output, target)
    return float((out.argmax(1) == y).mean())


def segmentation_confusion(output, target, num_classes: int | None = None):
    """C[i, j]: pixels of true class i predicted as j, from (N, C, H, W) logits and (N, H, W) masks."""
    out, y = _arrays(output, target)
    n = num_classes or out.shape[1]
    pred = out.argmax(1).reshape(-1)
    return xp.bincount(y.reshape(-1).astype(xp.int64) * n + pred, minlength=n * n).reshape(n, n)


def iou_per_class(output, target, num_classes: int | None = None):
    """IoU_c = |pred = c ∧ true = c| / |pred = c ∨ true = c| (交并比, Jaccard index) per class;
    NaN for a class absent from both."""
    cm = segmentation_confusion(output, target, num_classes).astype(xp.float64)
    inter = xp.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    with xp.errstate(invalid="ignore", divide="ignore"):
        return inter / union


def mean_iou(output, target) -> float:
    """Mean over classes of the IoU (mIoU), pooled over all pixels of the batch or data set; classes
    absent from both prediction and mask are left out."""
    iou = iou_per_class(output, target)
    return float(xp.nanmean(iou)) if not xp.isnan(iou).all() else 0.0


SEGMENTATION_CLASSES = ["background", "circle", "rectangle"]


def segmentation_task(cfg: dict, root=None, size: int = 32) -> Task:
    """The U-Net toy (Fang §8.3 segmentation): shapes on noisy backgrounds, per-pixel masks."""
    from ..data import DataLoader, TensorDataset
    from ..data.toy import segmentation
    from ..random import Generator

    seed = int(cfg.get("seed", 0))
    n_train = int(cfg.get("subset") or 2048)
    n_val = min(512 if cfg.get("val_size") is None else int(cfg["val_size"]), 512)
    bs = int(cfg.get("batch_size") or 32)
    x, y = segmentation(n_train, size, n_classes=3, seed=1000 + seed)
    xt, yt = segmentation(512, size, n_classes=3, seed=3000 + seed)
    gen = Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True, generator=gen)
    val = None
    if n_val:
        xv, yv = segmentation(n_val, size, n_classes=3, seed=2000 + seed)
        val = DataLoader(TensorDataset(xv, yv), batch_size=128)
    test = DataLoader(TensorDataset(xt, yt), batch_size=128)
    return Task(train, val, test, (1, size, size), 3, list(SEGMENTATION_CLASSES), [gen],
                metrics=(pixel_accuracy, mean_iou))
