"""``load(path)``: an ONNX model as a shenjing Module that runs and trains (``OnnxModule``).

Initializers become parameters (trainable) or buffers under their ONNX names, dots making
submodules as in a ``state_dict`` ("fc1.weight" is ``module.fc1.weight``), so the weights of the
model that was exported load back with ``load_state_dict``. Which initializers train: those listed
by shenjing's exporter; for files from elsewhere, every floating-point initializer of rank ≥ 1
except batch-norm running statistics."""

from __future__ import annotations

import os
import re

from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..files import InvalidFileError
from ..nn import Module, Parameter
from .from_onnx import OPS
from .graph import UnsupportedOperatorError
from .proto import onnx_module


def _attrs(node) -> dict:
    onnx = onnx_module()
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = onnx.numpy_helper.to_array(v)
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [s.decode() for s in v]
        out[a.name] = v
    return out


def _trainable(proto) -> set[str]:
    props = {p.key: p.value for p in proto.metadata_props}
    if "shenjing.parameters" in props:
        return {n for n in props["shenjing.parameters"].split(",") if n}
    stats = {n.input[k] for n in proto.graph.node if n.op_type == "BatchNormalization" for k in (3, 4) if len(n.input) > k}
    onnx = onnx_module()
    return {i.name for i in proto.graph.initializer
            if i.name not in stats and len(i.dims) >= 1 and onnx.helper.tensor_dtype_to_np_dtype(i.data_type).kind == "f"}


def _attribute(name: str) -> list[str]:
    """A value name as a path of valid attribute names ("onnx::Conv_3" → ["onnx__Conv_3"])."""
    return [re.sub(r"\W", "_", p) or "_" for p in name.split(".")]


class OnnxModule(Module):
    """Runs an ONNX graph with shenjing ops; ``input_names`` / ``output_names`` as in the file."""

    def __init__(self, proto) -> None:
        super().__init__()
        onnx = onnx_module()
        graph = proto.graph
        missing = sorted({n.op_type for n in graph.node if n.domain not in ("", "ai.onnx") or n.op_type not in OPS})
        if missing:
            raise UnsupportedOperatorError(f"onnx.load: operators not supported by shenjing: {', '.join(missing)}")
        trainable = _trainable(proto)
        self.value_paths: dict[str, list[str]] = {}
        for init in graph.initializer:
            array = onnx.numpy_helper.to_array(init).copy()
            self._place(init.name, array, init.name in trainable)
        inits = {i.name for i in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in inits]
        self.output_names = [o.name for o in graph.output]
        self.nodes = [(n.op_type, list(n.input), list(n.output), _attrs(n)) for n in graph.node]

    def _place(self, name: str, array, trainable: bool) -> None:
        path = _attribute(name)
        owner = self
        for part in path[:-1]:
            child = getattr(owner, part, None)
            if not isinstance(child, Module):
                child = Module()
                owner.add_module(part, child)
            owner = child
        if trainable:
            owner.register_parameter(path[-1], Parameter(as_tensor(array)))
        else:
            owner.register_buffer(path[-1], as_tensor(array))
        self.value_paths[name] = path

    def _value(self, name: str) -> Tensor:
        owner = self
        for part in self.value_paths[name]:
            owner = getattr(owner, part)
        return owner

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule.forward: expected {len(self.input_names)} inputs ({', '.join(self.input_names)}), got {len(inputs)}")
        env: dict[str, Tensor | None] = {"": None}
        env.update({n: (x if isinstance(x, Tensor) else as_tensor(xp.asarray(x))) for n, x in zip(self.input_names, inputs)})
        for name in self.value_paths:
            env[name] = self._value(name)
        for op, ins, outs, attrs in self.nodes:
            try:
                result = OPS[op](attrs, *[env[i] for i in ins])
            except UnsupportedOperatorError:
                raise
            except Exception as e:
                raise type(e)(f"onnx node {op} ({', '.join(ins)} → {', '.join(outs)}): {e}") from e
            results = result if isinstance(result, tuple) else (result,)
            for n, r in zip(outs, results):
                env[n] = r
        out = tuple(env[n] for n in self.output_names)
        return out[0] if len(out) == 1 else out


def load(path: str | os.PathLike) -> OnnxModule:
    """Read an ONNX file (shenjing's or another exporter's) as a Module; refuses a damaged file."""
    onnx = onnx_module()
    try:
        proto = onnx.load(os.fspath(path))
        onnx.checker.check_model(proto)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise InvalidFileError(f"{path}: not a valid ONNX model ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    return OnnxModule(proto)
