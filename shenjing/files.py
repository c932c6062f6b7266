"""Files (文件): atomic writes — all or nothing, so an interrupted save never leaves a half file.

A file is written to a temporary name beside its target (``.NAME.XXXXXXXX.tmp``), flushed to
disk, and moved over the target with ``os.replace``; on any error the temporary file is removed
and the target is left untouched. A process killed during a write can leave its temporary file
behind: :func:`remove_leftovers` deletes those of given targets (the trainer calls it when a run
starts in a folder).

:func:`fault_point` is the hook of the fault-injection tests (``tests/reliability``): with
``SHENJING_FAULT=NAME`` (or ``NAME@K``) in the environment, the process kills itself with SIGKILL
the first (K-th) time it reaches the point ``NAME``. Without the variable it does nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

__all__ = ["FAULT_ENV", "InvalidFileError", "atomic_write", "atomic_write_bytes", "fault_point", "remove_leftovers"]

FAULT_ENV = "SHENJING_FAULT"
_fault_counts: dict[str, int] = {}


class InvalidFileError(ValueError):
    """A file that cannot be used: damaged, truncated, or not of the expected format."""


def fault_point(name: str) -> None:
    """Kill this process (SIGKILL, as a power cut would) if ``$SHENJING_FAULT`` is ``name`` or
    ``name@k`` and this is the k-th time (default 1) the point is reached; otherwise nothing."""
    want = os.environ.get(FAULT_ENV)
    if not want:
        return
    target, _, nth = want.partition("@")
    if target != name:
        return
    _fault_counts[name] = count = _fault_counts.get(name, 0) + 1
    if count == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _reraise_naming(err: OSError, path: str) -> NoReturn:
    """Raise ``err`` again as the same kind of error naming the target ``path`` (a failed write()
    or fsync() names no file, a failed mkstemp() the temporary one)."""
    if err.errno is None or err.filename == path:
        raise err
    raise OSError(err.errno, err.strerror, path) from err


def atomic_write(path: str | os.PathLike, write: Callable) -> None:
    """Write through ``write(fileobj)`` into a temporary file beside ``path``, fsync, then
    ``os.replace`` it over ``path``; on any error the temporary file is removed and ``path`` is
    left untouched. An ``OSError`` (disk full, read-only, permission denied) names ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder} does not exist (saving {path})")
    name = os.path.basename(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        _reraise_naming(e, path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            fault_point(f"written:{name}")
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            _reraise_naming(e, path)
        raise
    fault_point(f"replaced:{name}")
    with contextlib.suppress(OSError, AttributeError):  # make the rename durable (POSIX)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating its folder if needed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(data))


def remove_leftovers(folder: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Delete the temporary files (``.NAME.*.tmp``) that interrupted atomic writes of ``names``
    left in ``folder``; returns the paths removed. Only one process may write to ``folder``."""
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for name in names:
        for p in folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed
