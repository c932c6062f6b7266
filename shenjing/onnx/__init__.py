"""ONNX (开放神经网络交换格式) export and import, checked with onnxruntime.

``export(model, args, path, input_names=..., output_names=..., dynamic_axes=..., opset_version=17)``
follows ``torch.onnx.export``; ``load(path)`` returns a Module that runs and trains. Needs the
``onnx`` package: ``pip install 'shenjing[onnx]'``."""

from .export import DEFAULT_OPSET, export
from .graph import UnsupportedOperatorError
from .load import OnnxModule, load

__all__ = ["export", "load", "OnnxModule", "UnsupportedOperatorError", "DEFAULT_OPSET"]
