"""Functional convolution, pooling and resampling (卷积、池化、上采样的函数形式), as torch.nn.functional.

The operations live in ``shenjing/ops/conv.py`` and ``shenjing/ops/pool.py`` (one Function per op,
forward and backward side by side); this module gathers their public forms, plus ``pad`` (填充).
"""

from __future__ import annotations

from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold
from ...ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    interpolate,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
    upsample,
)
from ...ops.shape import pad

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_unpool1d",
    "max_unpool2d", "interpolate", "upsample", "pad",
]
