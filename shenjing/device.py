"""Devices (设备) as PyTorch names them. shenjing computes with NumPy on the CPU: ``'cpu'`` is the
only device, and asking for a GPU (``'cuda'``, ``'mps'``, ...) is an error that says so, rather
than a silent copy that is not one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["device", "check_device", "NoGPUError"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "mtia", "privateuseone")


class NoGPUError(RuntimeError):
    """A GPU device was asked for; shenjing has no GPU backend."""


class device:  # noqa: N801  (torch.device)
    """``shenjing.device('cpu')``, ``device('cuda:0')``, ``device('cuda', 0)``: a device name with
    ``type`` and ``index``. Creating a GPU device is allowed (as in PyTorch without a GPU); using it
    for a tensor or module is refused by :func:`check_device`."""

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string like 'cpu' or 'cuda:0', got {type!r}")
        name, _, idx = type.partition(":")
        if name not in _KNOWN:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError(f"device(): the index is given twice ({type!r} and index={index})")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        self.type = name
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def is_device(obj: Any) -> bool:
    """Whether ``obj`` names a device (a device or a string that parses as one)."""
    if isinstance(obj, device):
        return True
    if isinstance(obj, str):
        return obj.partition(":")[0] in _KNOWN
    return False


def check_device(d: Any, where: str) -> device:
    """The device ``d`` names if it is the CPU; :class:`NoGPUError` naming ``where`` otherwise."""
    dev = d if isinstance(d, device) else device(d)
    if dev.type not in ("cpu", "meta") or (dev.type == "cpu" and dev.index not in (None, 0)):
        raise NoGPUError(
            f"{where}: device '{dev}' is not available: shenjing computes with NumPy on the CPU and has no GPU backend. "
            "Use 'cpu' — e.g. device = 'cuda' if shenjing.cuda.is_available() else 'cpu' picks it"
        )
    if dev.type == "meta":
        raise NoGPUError(f"{where}: the 'meta' device (shapes without data) is not supported; use 'cpu'")
    return dev
