"""Saving and loading weights (模型保存与加载) without pickle: ``.safetensors`` and ``.npz``.

A state_dict uses PyTorch's key names and shapes, so a file written from
``torch_model.state_dict()`` (as NumPy arrays, e.g. by ``safetensors.torch.save_file``) loads into
the equivalent shenjing model, and the reverse. Any file name works (``model.pth`` as in PyTorch
tutorials); the content is one of these two formats, safetensors unless npz is asked for (a
``.npz`` name or ``format='npz'``), and reading recognises the format by content:

* ``.safetensors`` — the ``safetensors`` package's NumPy API (header of names, dtypes, shapes, then
  raw bytes);
* ``.npz`` — a NumPy zip archive, read with ``allow_pickle=False`` (each member carries a CRC-32).

shenjing adds metadata: the key order, a CRC-32 of the arrays' bytes (``shenjing.crc32``) and a
CRC-32 of all the other metadata, canonical JSON (``shenjing.meta_crc32``) — which holds the
arrays' CRC, so one check covers the arrays and the metadata (the structure and numbers of a
nested object such as a checkpoint's epoch). Files without these entries (from other tools or
older versions) are read without the check.

Writes are atomic: the file is written to a temporary file in the same folder, flushed to
disk and moved over the target with ``os.replace``, so a failed or interrupted save leaves the old
file as it was. A corrupt or truncated file gives an ``InvalidFileError`` (a ``ValueError``) that
names the path.

``shenjing.save(obj, path)`` / ``shenjing.load(path)`` wrap these for state dicts; they also accept
nested containers (dicts, lists, tuples of tensors, numbers, strings, None — e.g. an optimiser's
state_dict or a checkpoint), whose structure is stored as JSON next to the arrays. Nothing is ever
pickled, so loading a file cannot run code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..files import InvalidFileError, atomic_write

__all__ = ["save_state_dict", "load_state_dict", "save", "load"]

_KEYS = "shenjing.keys"  # JSON list: the key order of the state dict
_CRC = "shenjing.crc32"  # CRC-32 of the arrays' bytes, in key order
_META_CRC = "shenjing.meta_crc32"  # CRC-32 of the canonical JSON of every other metadata entry
_TREE = "shenjing.tree"  # JSON skeleton of a nested object (save/load of non-flat objects)
_NPZ_META = "__shenjing_meta__"  # npz member holding the metadata (a uint8 array of JSON bytes)
_EXTS = (".safetensors", ".npz")


# ------------------------------------------------------------------ helpers


def _format(path, format: str | None = None) -> str:
    """The format to write: ``format`` if given ('safetensors' or 'npz'), else ``.npz`` for a name
    ending in .npz, else safetensors — whatever the name (``model.pth``, ``ckpt.pt``, no suffix)."""
    if format is not None:
        fmt = "." + str(format).lower().lstrip(".")
        if fmt not in _EXTS:
            raise ValueError(f"save: format must be 'safetensors' or 'npz', got {format!r} (pickle is never written)")
        return fmt
    return ".npz" if os.fspath(path).lower().endswith(".npz") else ".safetensors"


_PICKLE_HELP = (
    "shenjing never unpickles (loading a pickle can run arbitrary code). Convert the file once in PyTorch:\n"
    "    import torch; from safetensors.torch import save_file\n"
    "    sd = torch.load(PATH, weights_only=True)\n"
    "    save_file({k: v.contiguous() for k, v in sd.items()}, 'model.safetensors')\n"
    "then model.load_state_dict(shenjing.load('model.safetensors')) (state-dict key names are PyTorch's)."
)


def _sniff(path, data: bytes) -> str:
    """The format of a file from its first bytes: '.safetensors', '.npz' or a pickle refusal."""
    name = os.fspath(path)
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            names = []
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            raise InvalidFileError(f"{name}: a PyTorch pickle file (torch.save's zip format, data.pkl inside). " + _PICKLE_HELP.replace("PATH", repr(name)))
        return ".npz"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise InvalidFileError(f"{name}: a pickle file (old torch.save format). " + _PICKLE_HELP.replace("PATH", repr(name)))
    if len(data) >= 9 and data[8:9] == b"{":
        return ".safetensors"
    low = name.lower()
    for ext in _EXTS:  # damaged files of a known format: let that reader name the damage
        if low.endswith(ext):
            return ext
    head = data[:16]
    raise InvalidFileError(f"{name}: not a safetensors or npz file (corrupt, truncated or another format; first bytes {head!r})")


def _as_array(value, key: str):
    """A C-contiguous backend array from a shenjing Tensor, an array, a NumPy scalar or a torch tensor."""
    if isinstance(value, Tensor):
        arr = value.array
    elif isinstance(value, (xp.ndarray, xp.generic)):
        arr = xp.asarray(value)
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        arr = value.detach().cpu().numpy()
    else:
        raise TypeError(f"save: value of '{key}' is a {type(value).__name__}, not a tensor or array")
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"save: '{key}' has dtype {arr.dtype}, which cannot be stored without pickle")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray would make 0-d arrays 1-d)


def _is_tensor(value) -> bool:
    return isinstance(value, (Tensor, xp.ndarray)) or (hasattr(value, "detach") and hasattr(value, "numpy"))


def _crc(arrays: Mapping) -> str:
    c = 0
    for k in arrays:
        c = zlib.crc32(k.encode(), c)
        a = arrays[k]
        c = zlib.crc32((a if a.flags.c_contiguous else a.copy(order="C")).reshape(-1).view(xp.uint8).data, c)
    return f"{c:08x}"


def _meta_crc(metadata: Mapping) -> str:
    """CRC-32 of the metadata (without its own entry) as canonical JSON: sorted keys, no spaces."""
    rest = {k: v for k, v in metadata.items() if k != _META_CRC}
    return f"{zlib.crc32(json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(',', ':')).encode()):08x}"


def _write_safetensors(f, arrays: Mapping, metadata: dict) -> None:
    from safetensors.numpy import save as st_save

    f.write(st_save(dict(arrays), metadata=metadata))


def _write_npz(f, arrays: Mapping, metadata: dict) -> None:
    """The layout of ``numpy.savez``: one ``name.npy`` member per array (plus the metadata)."""
    members = dict(arrays)
    members[_NPZ_META] = xp.frombuffer(json.dumps(metadata).encode(), dtype=xp.uint8)
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for k, arr in members.items():
            with zf.open(k + ".npy", "w", force_zip64=True) as fh:
                xp.lib.format.write_array(fh, xp.asanyarray(arr), allow_pickle=False)


def _corrupt(path, fmt: str, err: BaseException) -> InvalidFileError:
    return InvalidFileError(f"{os.fspath(path)}: not a valid {fmt} file (corrupt or truncated?): {type(err).__name__}: {err}")


def _read_safetensors(path, data: bytes):
    from safetensors.numpy import load as st_load

    try:
        arrays = st_load(data)
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + n])
    except Exception as e:  # SafetensorError, JSON errors, bad dtypes
        raise _corrupt(path, ".safetensors", e) from None
    metadata = header.get("__metadata__") or {}
    order = [k for k in header if k != "__metadata__"]
    order.sort(key=lambda k: header[k]["data_offsets"][0])
    return arrays, order, metadata


def _read_npz(path, data: bytes):
    try:
        with xp.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # BadZipFile, EOFError, ValueError (object arrays), zlib errors
        raise _corrupt(path, ".npz", e) from None
    metadata = {}
    meta = arrays.pop(_NPZ_META, None)
    if meta is not None:
        try:
            metadata = json.loads(meta.tobytes().decode())
        except Exception as e:
            raise _corrupt(path, ".npz", e) from None
    return arrays, list(arrays), metadata


def _read(path):
    """(arrays, key order, metadata) of a file, checked; the format is recognised by content."""
    with open(path, "rb") as f:
        data = f.read()
    fmt = _sniff(path, data)
    arrays, order, metadata = (_read_safetensors if fmt == ".safetensors" else _read_npz)(path, data)
    unknown = [k for k in metadata if k.startswith("shenjing.") and k not in (_KEYS, _CRC, _META_CRC, _TREE)]
    if unknown:
        raise InvalidFileError(f"{os.fspath(path)}: corrupt {fmt} file: unknown metadata entry {unknown[0]!r}")
    if _META_CRC in metadata and _meta_crc(metadata) != metadata[_META_CRC]:
        raise InvalidFileError(f"{os.fspath(path)}: corrupt {fmt} file: checksum mismatch in the metadata (the file was damaged after saving)")
    keys = metadata.get(_KEYS)
    if keys is not None:
        try:
            keys = json.loads(keys) if isinstance(keys, str) else keys
        except ValueError as e:
            raise _corrupt(path, fmt, e) from None
        if sorted(keys) != sorted(arrays):
            raise InvalidFileError(f"{os.fspath(path)}: corrupt {fmt} file: the stored key list does not match the arrays")
        order = keys
    arrays = OrderedDict((k, arrays[k]) for k in order)
    if _CRC in metadata and _crc(arrays) != metadata[_CRC]:
        raise InvalidFileError(f"{os.fspath(path)}: corrupt {fmt} file: checksum mismatch (the data was damaged after saving)")
    return arrays, metadata


def _write(path, arrays: Mapping, metadata: dict, format: str | None = None) -> None:
    fmt = _format(path, format)
    if fmt == ".npz" and _NPZ_META in arrays:
        raise ValueError(f"save: the key '{_NPZ_META}' is reserved")
    meta = {_KEYS: json.dumps(list(arrays)), _CRC: _crc(arrays)}
    meta.update(metadata)
    meta[_META_CRC] = _meta_crc(meta)
    writer = _write_safetensors if fmt == ".safetensors" else _write_npz
    atomic_write(path, lambda f: writer(f, arrays, meta))


def _tensor(arr) -> Tensor:
    if not arr.flags.writeable or not arr.flags.c_contiguous:
        arr = xp.array(arr)
    return as_tensor(arr)


# ------------------------------------------------------------------ state dicts


def save_state_dict(state_dict: Mapping[str, Any], path: str | os.PathLike, metadata: Mapping[str, str] | None = None,
                    format: str | None = None) -> None:
    """Write a state dict (names → tensors or arrays) to ``path`` atomically: safetensors, or npz
    for a ``.npz`` name or ``format='npz'``.

    ``metadata`` (str → str) is stored alongside (safetensors header / an npz member)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save_state_dict: expected a mapping of names to tensors, got {type(state_dict).__name__}")
    arrays = OrderedDict()
    for k, v in state_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"save_state_dict: keys must be strings, got {k!r}")
        arrays[k] = _as_array(v, k)
    meta = {}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("save_state_dict: metadata must map str to str")
        meta[k] = v
    _write(path, arrays, meta, format)


def load_state_dict(path: str | os.PathLike) -> OrderedDict[str, Tensor]:
    """Read a state dict written by ``save_state_dict`` (or by safetensors/NumPy from a torch
    model): an OrderedDict of names → shenjing Tensors, in the saved order.

    Raises ``InvalidFileError`` (a ``ValueError``) naming ``path`` if the file is corrupt or truncated."""
    arrays, metadata = _read(path)
    if _TREE in metadata:
        raise InvalidFileError(f"{os.fspath(path)}: holds a nested object saved by shenjing.save; read it with shenjing.load")
    return OrderedDict((k, _tensor(a)) for k, a in arrays.items())


# ------------------------------------------------------------------ shenjing.save / shenjing.load


def _is_flat(obj) -> bool:
    return isinstance(obj, Mapping) and all(isinstance(k, str) and _is_tensor(v) for k, v in obj.items())


def _encode(obj, arrays: dict):
    """A JSON skeleton of ``obj``; tensors go into ``arrays`` under '<n>'."""
    if _is_tensor(obj):
        key = str(len(arrays))
        arrays[key] = _as_array(obj, key)
        return {"__tensor__": key, "param": type(obj).__name__ == "Parameter"}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, xp.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (bool, int, float, str))):
                raise TypeError(f"save: dict keys must be str, int, float, bool or None (no pickle), got {type(k).__name__}")
            items.append([k, _encode(v, arrays)])
        return {"__dict__": items, "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    raise TypeError(
        f"save: cannot store an object of type {type(obj).__name__} without pickle; save tensors, numbers, "
        "strings and dicts/lists/tuples of them (for a Module save module.state_dict())"
    )


def _decode(node, arrays: Mapping):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "__tensor__" in node:
            t = _tensor(arrays[node["__tensor__"]])
            if node.get("param"):
                from .module import Parameter

                return Parameter(t)
            return t
        if "__tuple__" in node:
            return tuple(_decode(v, arrays) for v in node["__tuple__"])
        pairs = [(k, _decode(v, arrays)) for k, v in node["__dict__"]]
        return OrderedDict(pairs) if node.get("ordered") else dict(pairs)
    return node


def _check_map_location(map_location: Any) -> None:
    """``map_location`` as torch.load takes it; only the CPU exists here (a GPU target is refused)."""
    from ..device import check_device

    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, Mapping) else [map_location]
    for t in targets:
        check_device(t, "load(map_location=...)")


def save(obj: Any, f: str | os.PathLike, format: str | None = None, **kwargs: Any) -> None:
    """``torch.save`` without pickle, under any file name (``model.pth``, ``ckpt.pt``, ...): the file is
    safetensors (npz for a ``.npz`` name or ``format='npz'``). A flat dict of names → tensors (a
    state_dict) is a plain safetensors file readable by other tools; nested containers of tensors,
    numbers and strings keep their structure (stored as JSON). A whole Module is refused: its
    class and code would need pickle — save ``model.state_dict()`` instead."""
    from .module import Module

    if isinstance(obj, Module):
        raise TypeError(
            f"save: cannot save a whole Module ({type(obj).__name__}): that needs pickle, which shenjing never writes. "
            "Save its weights instead: shenjing.save(model.state_dict(), path), and load them into a new model with "
            "model.load_state_dict(shenjing.load(path))"
        )
    unknown = set(kwargs) - {"pickle_module", "pickle_protocol", "_use_new_zipfile_serialization"}
    if unknown:
        raise TypeError(f"save: unexpected keyword argument(s) {sorted(unknown)}")
    if _is_flat(obj):
        save_state_dict(obj, f, format=format)
        return
    arrays: dict = OrderedDict()
    tree = _encode(obj, arrays)
    _write(f, arrays, {_TREE: json.dumps(tree)}, format)


def load(f: str | os.PathLike, map_location: Any = None, weights_only: bool | None = None, **kwargs: Any) -> Any:
    """``torch.load`` for files written by ``shenjing.save`` / ``save_state_dict`` (or any
    safetensors/npz file of arrays), whatever the name: the format is recognised by content. Returns
    a state dict of Tensors, or the nested object that was saved. ``map_location`` ('cpu') and
    ``weights_only`` are accepted as in PyTorch; only data is ever read, so both give the same
    result. A pickle file (PyTorch's own torch.save format) is refused with how to convert it."""
    _check_map_location(map_location)
    arrays, metadata = _read(f)
    if _TREE in metadata:
        try:
            tree = json.loads(metadata[_TREE])
            return _decode(tree, arrays)
        except (ValueError, KeyError, TypeError) as e:
            raise _corrupt(f, "saved-object", e) from None
    return OrderedDict((k, _tensor(a)) for k, a in arrays.items())
