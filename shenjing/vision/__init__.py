"""``shenjing.vision`` as ``torchvision`` for ported programs: ``datasets`` (FashionMNIST, MNIST) and
``transforms`` (ToTensor, Normalize, Compose, ...) with torchvision's semantics, so
``from torchvision import datasets, transforms`` becomes ``from shenjing.vision import datasets, transforms``.
They are the objects of :mod:`shenjing.data` under torchvision's names.
"""

from __future__ import annotations

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
