"""The ONNX graph being written: names for tensors, initializers, nodes (used by ``export``)."""

from __future__ import annotations

from typing import Any

from ..autograd.tensor import Tensor
from ..backend import xp
from .proto import onnx_module


class UnsupportedOperatorError(RuntimeError):
    """An operation or layer that has no ONNX mapping (the message names it and where it ran)."""


class Graph:
    """Nodes and initializers of one graph; a Tensor gets its name when first used.

    ``names`` maps ``id(tensor)`` to its value name; leaves that are not graph inputs or
    parameters become initializers (constants) the first time a node reads them."""

    def __init__(self, opset: int, keep: list) -> None:
        self.opset = opset
        self.nodes: list = []
        self.initializers: dict[str, Any] = {}
        self.names: dict[int, str] = {}
        self.keep = keep  # every Tensor named here stays alive, so that ids are not reused
        self.counts: dict[str, int] = {}
        self.arrays: dict[int, str] = {}  # id(array) → name, for ops that take an input as an array
        self.params: dict[int, str] = {}  # id → state_dict name of the model's parameters and buffers

    def fresh(self, hint: str) -> str:
        k = self.counts.get(hint, 0)
        self.counts[hint] = k + 1
        return f"{hint}_{k}"

    def bind(self, t: Tensor, name: str) -> None:
        self.names[id(t)] = name
        self.arrays[id(t.array)] = name
        self.keep.append(t)

    def array_name(self, array) -> str:
        """The name of the value whose array ``array`` is (an op may take its input as an array)."""
        n = self.arrays.get(id(array))
        return n if n is not None else self.const(array, "const")

    def name(self, t: Tensor) -> str:
        """The value name of ``t``; a tensor no node produced becomes a constant initializer."""
        n = self.names.get(id(t))
        if n is None:
            n = self.params.get(id(t))
            if n is not None:  # a parameter or buffer, under its state_dict name
                self.initializers[n] = t.array
            else:
                n = self.const(t.array, "const")
            self.bind(t, n)
        return n

    def const(self, array, hint: str = "const") -> str:
        name = self.fresh(hint)
        self.initializers[name] = xp.asarray(array)
        return name

    def ints(self, values) -> str:
        """An int64 constant (shapes, axes, pads)."""
        return self.const(xp.asarray(list(values), dtype=xp.int64), "shape")

    def scalar(self, value, dtype) -> str:
        return self.const(xp.asarray(value, dtype=dtype), "const")

    def operand(self, t: Tensor, dtype) -> str:
        """``t``'s name as ``dtype``: a constant is stored in that dtype, a computed value is cast."""
        if t.dtype == dtype or xp.dtype(t.dtype) == xp.dtype(dtype):
            return self.name(t)
        if id(t) not in self.names:
            return self.const(t.array.astype(dtype), "const")
        return self.add("Cast", [self.name(t)], to=onnx_type(dtype))

    def add(self, op: str, inputs: list[str], n_out: int = 1, **attrs) -> Any:
        """Append a node; its output name (or names when ``n_out`` > 1)."""
        outs = [self.fresh(op.lower()) for _ in range(n_out)]
        self.nodes.append(onnx_module().helper.make_node(op, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def axes_op(self, op: str, x: str, axes, keepdims: bool) -> str:
        """A reduction: ``axes`` as an attribute before opset 18 (ReduceSum: 13), as an input after."""
        attrs = {"keepdims": int(keepdims)}
        inputs = [x]
        if axes is not None:
            axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
            if self.opset >= (13 if op == "ReduceSum" else 18):
                inputs.append(self.ints(axes))
            else:
                attrs["axes"] = axes
        return self.add(op, inputs, **attrs)


def onnx_type(dtype) -> int:
    """The ONNX element type of a NumPy dtype."""
    return onnx_module().helper.np_dtype_to_tensor_dtype(xp.dtype(dtype))
