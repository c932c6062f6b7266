"""Checkpoints (检查点): model, optimiser, scheduler, RNG state and epoch in one safetensors file.

Written with ``shenjing.save`` (no pickle): tensors in safetensors, the rest as JSON in its
metadata, with a CRC-32 of the data. The file goes to a temporary name beside the old one and is
renamed over it, so a crash leaves the previous checkpoint whole. The file's checksums cover the
tensors and the metadata (the epoch, the history, the run's options): a damaged file is refused
with an :class:`~shenjing.files.InvalidFileError`.
"""

from __future__ import annotations

from pathlib import Path

from ..files import InvalidFileError
from ..nn.serialization import load, save

__all__ = ["CheckpointMismatchError", "load_checkpoint", "save_checkpoint"]


class CheckpointMismatchError(ValueError):
    """A checkpoint that does not fit what it is loaded into: another model or optimiser, or a
    run started with other options."""


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Save a nested state (dicts/lists of tensors, numbers, strings) atomically to ``path``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save({"shenjing_checkpoint": 1, "state": state}, path)


def load_checkpoint(path: str | Path) -> dict:
    """Load and verify a checkpoint; a truncated or damaged file raises InvalidFileError (a
    ValueError) naming it, a missing one FileNotFoundError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    obj = load(path)
    if not isinstance(obj, dict) or obj.get("shenjing_checkpoint") != 1:
        raise InvalidFileError(f"{path} is not a shenjing checkpoint (written by Trainer.save / save_checkpoint)")
    return obj["state"]
