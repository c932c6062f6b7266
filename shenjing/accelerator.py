"""``shenjing.accelerator`` as ``torch.accelerator`` reads without a GPU: PyTorch's current tutorials
pick ``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else 'cpu'``,
which here gives ``'cpu'``.
"""

from __future__ import annotations

from .device import device

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    """False: shenjing has no GPU backend."""
    return False


def current_accelerator(check_available: bool = False) -> device | None:
    """None: there is no accelerator."""
    return None


def device_count() -> int:
    return 0
