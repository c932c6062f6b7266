"""Checkpoints (检查点): model, optimiser, scheduler, RNG state and epoch in one safetensors file.

Written with ``shenjing.save`` (no pickle): tensors in safetensors, the rest as JSON in its
metadata, with a CRC-32 of the data. The file goes to a temporary name beside the old one and is
renamed over it, so a crash leaves the previous checkpoint whole; a damaged file is refused.
"""

from __future__ import annotations

from pathlib import Path

from ..nn.serialization import _atomic_write, load, save


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename (all or nothing)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda f: f.write(data))


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Save a nested state (dicts/lists of tensors, numbers, strings) atomically to ``path``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save({"shenjing_checkpoint": 1, "state": state}, path)


def load_checkpoint(path: str | Path) -> dict:
    """Load and verify a checkpoint; a truncated or damaged file raises ValueError naming it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    obj = load(path)
    if not isinstance(obj, dict) or obj.get("shenjing_checkpoint") != 1:
        raise ValueError(f"{path} is not a shenjing checkpoint (written by Trainer.save / save_checkpoint)")
    return obj["state"]
