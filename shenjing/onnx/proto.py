"""The ``onnx`` package, imported when first needed (an optional dependency: ``pip install 'shenjing[onnx]'``)."""

from __future__ import annotations

import importlib
from types import ModuleType


def onnx_module() -> ModuleType:
    try:
        return importlib.import_module("onnx")
    except ImportError:
        raise ImportError("shenjing.onnx needs the onnx package: pip install 'shenjing[onnx]' (or pip install onnx)") from None
