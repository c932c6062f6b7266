"""The IDX file format of MNIST and Fashion-MNIST: a reader that checks everything, and a writer.

An IDX file is a 4-byte magic number — two zero bytes, a type code, the number of dimensions — then
one big-endian uint32 per dimension, then the values in C order (big-endian). Files may be gzipped.
The reader refuses a wrong magic number, an unknown type code, a wrong number of
dimensions or shape, and a file whose size does not match its header (truncated or with trailing
bytes), with a ``ValueError`` that names the file and what is wrong.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..backend import xp
from ..files import InvalidFileError, atomic_write_bytes

__all__ = ["IDXError", "read_idx", "write_idx", "read_idx_header", "IDX_DTYPES"]

# type code → dtype of the stored (big-endian) values
IDX_DTYPES = {
    0x08: xp.dtype(">u1"),
    0x09: xp.dtype(">i1"),
    0x0B: xp.dtype(">i2"),
    0x0C: xp.dtype(">i4"),
    0x0D: xp.dtype(">f4"),
    0x0E: xp.dtype(">f8"),
}
_CODES = {d.newbyteorder("=").str[1:]: c for c, d in IDX_DTYPES.items()}  # "u1" → 0x08 ...
_MAX_DIMS = 16


class IDXError(InvalidFileError):
    """A file that is not a valid IDX file (bad magic number, type, dimensions or size); a
    ``ValueError``."""


def _fail(path: Any, what: str) -> IDXError:
    return IDXError(f"{path}: {what}")


def _load_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip, whatever the file is called
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise _fail(path, f"corrupt or truncated gzip data ({type(e).__name__}: {e}); delete the file and fetch it again") from None
    if path.name.endswith(".gz"):
        raise _fail(path, f"named .gz but is not gzip data (starts with {raw[:4].hex() or 'nothing'})")
    return raw


def _parse_header(path: Any, buf: bytes, ndim: int | None) -> tuple[Any, tuple[int, ...], int]:
    if len(buf) < 4:
        raise _fail(path, f"too short to be an IDX file: {len(buf)} bytes, a header needs at least 4")
    z0, z1, code, nd = buf[0], buf[1], buf[2], buf[3]
    if z0 != 0 or z1 != 0:
        raise _fail(path, f"bad magic number 0x{buf[:4].hex()}: an IDX file starts with two zero bytes, a type code and the number of dimensions")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise _fail(path, f"bad magic number 0x{buf[:4].hex()}: unknown data type code 0x{code:02x} (known: {known})")
    if nd == 0 or nd > _MAX_DIMS:
        raise _fail(path, f"bad magic number 0x{buf[:4].hex()}: {nd} dimensions (expected 1 to {_MAX_DIMS})")
    if ndim is not None and nd != ndim:
        raise _fail(path, f"wrong number of dimensions: the header says {nd}, expected {ndim}")
    header = 4 + 4 * nd
    if len(buf) < header:
        raise _fail(path, f"truncated header: {nd} dimensions need {header} header bytes, the file has {len(buf)}")
    shape = struct.unpack(f">{nd}I", buf[4:header])
    return IDX_DTYPES[code], tuple(int(s) for s in shape), header


def read_idx_header(path: str | os.PathLike) -> tuple[Any, tuple[int, ...]]:
    """The (native-endian dtype, shape) recorded in an IDX file's header, checked as in ``read_idx``."""
    p = Path(path)
    with open(p, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(p, "rb") if gz else open(p, "rb")) as f:
            head = f.read(4 + 4 * _MAX_DIMS)
    except (EOFError, OSError, zlib.error) as e:
        raise _fail(p, f"corrupt or truncated gzip data ({type(e).__name__}: {e})") from None
    dtype, shape, _ = _parse_header(p, head, None)
    return dtype.newbyteorder("="), shape


def read_idx(path: str | os.PathLike, ndim: int | None = None, shape: Sequence[int | None] | None = None, dtype: Any = None) -> Any:
    """Read an IDX file (gzipped or raw) into a native-endian, writable array.

    ``ndim``, ``shape`` (``None`` entries are free) and ``dtype`` are checked if given. Raises
    ``IDXError`` (a ``ValueError``) naming the file for a bad magic number or type code, a wrong
    number of dimensions or shape, or a size that does not match the header.
    """
    p = Path(path)
    if shape is not None and ndim is None:
        ndim = len(shape)
    buf = _load_bytes(p)
    stored, dims, header = _parse_header(p, buf, ndim)
    if shape is not None:
        if len(shape) != len(dims) or any(s is not None and s != d for s, d in zip(shape, dims)):
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise _fail(p, f"wrong shape: the header says {dims}, expected {want}")
    native = stored.newbyteorder("=")
    if dtype is not None and xp.dtype(dtype) != native:
        raise _fail(p, f"wrong data type: the header says {native} (code 0x{buf[2]:02x}), expected {xp.dtype(dtype)}")
    count = 1
    for d in dims:
        count *= d
    expected = count * stored.itemsize
    found = len(buf) - header
    if found < expected:
        raise _fail(p, f"truncated: the header {dims} of {native} needs {expected} data bytes, the file has {found} "
                       f"({100 * found / max(expected, 1):.1f}%); delete it and fetch it again")
    if found > expected:
        raise _fail(p, f"size mismatch: {found - expected} bytes after the {expected} data bytes that the header {dims} describes")
    arr = xp.frombuffer(buf, dtype=stored, count=count, offset=header).reshape(dims)
    return arr.astype(native)  # a native-endian, writable copy


def write_idx(path: str | os.PathLike, array: Any, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, gzipped if ``compress`` (default: if the name ends in .gz).

    Written atomically (:func:`shenjing.files.atomic_write_bytes`): to a temporary file in the same
    directory, flushed to disk, then renamed.
    """
    p = Path(path)
    a = xp.asarray(array)
    key = a.dtype.str[1:]  # "<f4" → "f4", "|u1" → "u1"
    if key not in _CODES:
        raise TypeError(f"write_idx: dtype {a.dtype} has no IDX type code (uint8, int8, int16, int32, float32, float64)")
    if a.ndim == 0 or a.ndim > _MAX_DIMS:
        raise ValueError(f"write_idx: IDX stores 1 to {_MAX_DIMS} dimensions, got shape {a.shape}")
    code = _CODES[key]
    data = bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + xp.ascontiguousarray(a, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = p.name.endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(p, data)
    return p
