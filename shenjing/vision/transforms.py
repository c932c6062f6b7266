"""``torchvision.transforms`` for ported programs, with torchvision's semantics: ``ToTensor`` maps an
(H, W) or (H, W, C) uint8 image to a (C, H, W) float tensor in [0, 1]; ``Normalize(mean, std)`` works
per channel of a (C, H, W) tensor; ``Compose``, ``Lambda``, ``RandomCrop``, ``RandomHorizontalFlip``.
Random transforms draw from shenjing's global generator (``shenjing.manual_seed``).
"""

from __future__ import annotations

from ..data.transforms import Compose, Lambda, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

__all__ = ["Compose", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip", "ToTensor"]
