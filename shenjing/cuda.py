"""``shenjing.cuda`` as ``torch.cuda`` reads on a machine without a GPU: shenjing has no GPU backend,
so ``is_available()`` is False and programs that test it take their CPU branch.
"""

from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """False: shenjing computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seeds the GPU generator in PyTorch; with no GPU there is nothing to seed (PyTorch also
    ignores the call without CUDA). Seed shenjing with ``shenjing.manual_seed``."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """As :func:`manual_seed` for every GPU: nothing to seed here."""
    int(seed)
