"""Checkpoints (检查点): model, optimiser, scheduler, RNG state and epoch in one safetensors file.

The file is written to a temporary name in the same folder and renamed over the old one, so a
crash leaves the previous checkpoint whole. Non-tensor state travels as JSON in the safetensors
metadata with a SHA-256 of the tensor bytes; a file whose bytes do not match is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..autograd.tensor import Tensor
from ..backend import xp

FORMAT = "shenjing-checkpoint-1"


def _split(obj, path: str, tensors: dict):
    """JSON-able structure with tensors moved to ``tensors`` (dicts with non-string keys kept)."""
    if isinstance(obj, Tensor) or isinstance(obj, xp.ndarray):
        arr = obj._data if isinstance(obj, Tensor) else obj
        tensors[path] = xp.ascontiguousarray(arr)
        return {"__tensor__": path, "shape": list(arr.shape)}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _split(v, f"{path}.{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[k, _split(v, f"{path}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, xp.generic):
        return obj.item()
    return obj


def _join(obj, tensors: dict):
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return Tensor._make(tensors[obj["__tensor__"]].reshape(obj["shape"]).copy())
        if "__items__" in obj:
            return {(k if not isinstance(k, list) else tuple(k)): _join(v, tensors) for k, v in obj["__items__"]}
        return {k: _join(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, tensors) for v in obj]
    return obj


def _digest(tensors: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        a = tensors[k]
        h.update(k.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename (all or nothing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Save a nested state (dicts/lists of tensors, numbers, strings) atomically to ``path``."""
    from safetensors.numpy import save

    tensors: dict = {}
    tree = _split(state, "s", tensors)
    meta = {"format": FORMAT, "sha256": _digest(tensors), "state": json.dumps(tree)}
    atomic_write_bytes(path, save(tensors, metadata=meta))


def load_checkpoint(path: str | Path) -> dict:
    """Load and verify a checkpoint; a truncated or altered file raises ValueError naming it."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for a bad header or size
        raise ValueError(f"checkpoint {path} is corrupt or truncated and was refused: {e}") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path} is not a shenjing checkpoint (format {meta.get('format')!r})")
    if _digest(tensors) != meta.get("sha256"):
        raise ValueError(f"checkpoint {path} is corrupt: its SHA-256 does not match the recorded one; refused")
    return _join(json.loads(meta["state"]), tensors)
