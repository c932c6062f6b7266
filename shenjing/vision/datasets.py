"""``torchvision.datasets`` for ported programs: Fashion-MNIST and MNIST.

``FashionMNIST(root="data", train=True, download=True, transform=ToTensor())`` reads the files from
``root`` (also torchvision's ``root/FashionMNIST/raw`` layout); if they are not there it uses the
installed copy ($SHENJING_DATA, ``~/.cache/shenjing``, the Debian package ``dataset-fashion-mnist``)
with a warning naming where, and downloads only when none exists. ``dataset[i]`` is
(image, label): the 28×28 uint8 image as a Tensor (torchvision gives a PIL image; ``ToTensor``
turns either into a 1×28×28 float tensor) and an int.
"""

from __future__ import annotations

from ..data.datasets import MNIST, FashionMNIST

__all__ = ["FashionMNIST", "MNIST"]
