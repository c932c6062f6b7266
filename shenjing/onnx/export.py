"""``export(model, args, f, ...)``: one recorded forward pass written as an ONNX model (after torch.onnx.export).

The forward pass runs once with every op recorded (``autograd.function.recording``); each recorded
op becomes ONNX nodes (``to_onnx.CONVERTERS``), batch-norm layers in eval mode become one
BatchNormalization node, parameters and buffers become initializers under their ``state_dict``
names. A second pass, with the dynamic axes resized and new input values, must record the same ops:
what differs is a shape along a dynamic axis (written as −1) — anything else (control flow on
values, a value computed outside the recorded ops) is refused. The written model is then run by
``shenjing.onnx.load`` and compared with the model's own output."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

from ..autograd.function import Call, recording
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..files import atomic_write_bytes
from .graph import Graph, UnsupportedOperatorError, onnx_type
from .proto import onnx_module
from .to_onnx import CONVERTERS

DEFAULT_OPSET = 17


class BatchNormLayer:
    """Marks a batch-norm layer recorded as one op (ONNX BatchNormalization)."""

    __name__ = "BatchNormLayer"


def _is_batch_norm(m) -> bool:
    from ..nn import BatchNorm1d, BatchNorm2d

    return isinstance(m, (BatchNorm1d, BatchNorm2d)) and not m.training and m.running_mean is not None


def _refuse_notes_forms(model) -> None:
    """ONNX BatchNormalization computes (x − μ)/√(σ² + ε) per channel: the notes' forms cannot be written."""
    from ..nn import BatchNorm1d, BatchNorm2d, SyncBatchNorm

    for path, m in model.named_modules():
        if isinstance(m, (BatchNorm1d, BatchNorm2d, SyncBatchNorm)) and m.notes_form():
            raise UnsupportedOperatorError(
                f"export: batch-norm layer {path or type(m).__name__!r} ({type(m).__name__}) uses eps_form={m.eps_form!r}, "
                f"stats={m.stats!r}; ONNX BatchNormalization has only eps_form='sqrt', stats='per_feature'")


def _batch_norm(g: Graph, c: Call, alt) -> str:
    m, x = c.kw["module"], c.inputs[0]
    C, dtype = m.num_features, x.dtype
    scale = g.name(m.weight) if m.weight is not None else g.const(xp.ones(C, dtype), "ones")
    bias = g.name(m.bias) if m.bias is not None else g.const(xp.zeros(C, dtype), "zeros")
    return g.add("BatchNormalization", [g.name(x), scale, bias, g.name(m.running_mean), g.name(m.running_var)], epsilon=float(m.eps))


CONVERTERS["BatchNormLayer"] = _batch_norm


def _record(model, args: tuple) -> tuple[list[Call], list[str], Any]:
    """Run ``model(*args)`` recording its ops; each op's module path; the output."""
    from ..autograd.grad_mode import no_grad

    paths: dict[int, str] = {}
    stack: list[int] = []
    handles = []
    with recording() as calls:

        def pre(module, inputs, path=""):
            stack.append(len(calls))

        def post(module, inputs, out, path=""):
            start = stack.pop()
            if _is_batch_norm(module):
                del calls[start:]
                calls.append(Call(BatchNormLayer, (inputs[0],), {"module": module}, out))
            for j in range(start, len(calls)):
                paths.setdefault(j, path or type(module).__name__)

        for path, m in model.named_modules():
            handles.append(m.register_forward_pre_hook(lambda mod, a, p=path: pre(mod, a, p)))
            handles.append(m.register_forward_hook(lambda mod, a, o, p=path: post(mod, a, o, p)))
        try:
            with no_grad():
                out = model(*args)
        finally:
            for h in handles:
                h.remove()
    return calls, [paths.get(j, "") for j in range(len(calls))], out


def _outputs(out) -> list[Tensor]:
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not all(isinstance(o, Tensor) for o in outs):
        raise UnsupportedOperatorError(f"export: the model must return a Tensor or a tuple of Tensors, got {type(out).__name__}")
    return outs


def _resized(args: tuple, names: list[str], dynamic_axes: dict, rng) -> tuple:
    """New inputs for the second recording: dynamic axes grown by 1, 2, ..., fresh float values."""
    new = []
    for name, a in zip(names, args):
        shape = list(a.shape)
        for k, axis in enumerate(sorted(_axes(dynamic_axes.get(name, ())))):
            shape[axis] += 1 + k
        arr = a.array
        if arr.dtype.kind == "f":
            v = rng.standard_normal(shape).astype(arr.dtype)
        else:  # integer inputs (token ids) keep their values, repeated to the new shape
            v = xp.resize(arr, shape) if arr.size else xp.zeros(shape, arr.dtype)
        new.append(as_tensor(v))
    return tuple(new)


def _axes(spec) -> list[int]:
    return list(spec.keys()) if isinstance(spec, dict) else list(spec)


def _compare(calls, alt, paths, known_tensors: list) -> None:
    """Both recordings must be the same ops; their constants equal."""
    known = {id(t) for t in known_tensors}
    if [c.fn.__name__ for c in calls] != [c.fn.__name__ for c in alt]:
        raise UnsupportedOperatorError("export: the model runs different ops for other input values or sizes (control flow on "
                                       "the input); ONNX export records one forward pass and cannot keep that")
    arrays = {id(t.array) for t in known_tensors}
    for c, d, path in zip(calls, alt, paths):
        for k, v, w in _kw_arrays(c.kw, d.kw):  # arrays passed as arguments: the model's input, or constants
            if id(v) not in arrays and (v.shape != w.shape or not xp.array_equal(v, w)):
                raise UnsupportedOperatorError(f"export: the argument {k!r} of {c.fn.__name__.lower()} in {path or 'the model'} "
                                               "depends on the input but was computed outside the recorded ops")
        for t, u in zip(c.inputs, d.inputs):
            if id(t) in known:
                continue
            if t.shape != u.shape or not xp.array_equal(t.array, u.array, equal_nan=True):
                raise UnsupportedOperatorError(
                    f"export: an input of {c.fn.__name__.lower()} in {path or 'the model'} was computed from the model's input "
                    "outside the recorded ops (or depends on a dynamic axis): it cannot be written as a constant")


def _kw_arrays(kw: dict, other: dict):
    """(name, array, the other recording's array) for the arrays among keyword arguments, also inside tuples."""
    for k, v in kw.items():
        pairs = zip(v, other[k]) if isinstance(v, tuple) and isinstance(other[k], tuple) else [(v, other[k])]
        for a, b in pairs:
            if isinstance(a, xp.ndarray):
                yield k, a, b


def _value_info(name: str, t: Tensor, dyn: dict):
    onnx = onnx_module()
    dims = [dyn.get(i, d) for i, d in enumerate(t.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx_type(t.dtype), dims)


def _dyn_names(name: str, spec) -> dict:
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(a): f"{name}_dim_{int(a)}" for a in spec}


def _build(model, args, calls, paths, alt, outs, in_names, out_names, dynamic_axes, opset):
    onnx = onnx_module()
    g = Graph(opset, keep=list(args) + outs)
    g.params = {id(t): n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t is not None}
    for n, t in zip(in_names, args):
        g.bind(t, n)
    produced = {}
    for i, c in enumerate(calls):
        conv = CONVERTERS.get(c.fn.__name__)
        if conv is None:
            raise UnsupportedOperatorError(f"export: {c.fn.__name__} (in {paths[i] or 'the model'}) has no ONNX mapping")
        name = conv(g, c, alt[i] if alt is not None else None)
        g.bind(c.output, name)
        produced[name] = True
    for t, n in zip(outs, out_names):
        src = g.name(t)
        for node in g.nodes:
            if src in produced and src in node.output:
                node.output[list(node.output).index(src)] = n
                break
        else:
            g.nodes.append(onnx.helper.make_node("Identity", [src], [n]))
        for node in g.nodes:  # later readers of the renamed value
            for k, inp in enumerate(node.input):
                if inp == src and src in produced:
                    node.input[k] = n
    inputs = [_value_info(n, t, _dyn_names(n, dynamic_axes.get(n, ()))) for n, t in zip(in_names, args)]
    outputs = [_value_info(n, t, _dyn_names(n, dynamic_axes.get(n, ()))) for n, t in zip(out_names, outs)]
    inits = [onnx.numpy_helper.from_array(xp.array(a, order="C"), n) for n, a in g.initializers.items()]
    graph = onnx.helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, inits)
    proto = onnx.helper.make_model(graph, producer_name="shenjing", opset_imports=[onnx.helper.make_opsetid("", opset)])
    trainable = [n for n, p in model.named_parameters() if n in g.initializers and p.requires_grad]
    onnx.helper.set_model_props(proto, {"shenjing.parameters": ",".join(trainable)})
    onnx.checker.check_model(proto)
    return proto


def _names(given: Sequence[str] | None, n: int, stem: str) -> list[str]:
    if given is None:
        return [stem] if n == 1 else [f"{stem}_{i}" for i in range(n)]
    names = list(given)
    if len(names) != n or len(set(names)) != n:
        raise ValueError(f"export: {stem}_names must be {n} distinct names, got {names}")
    return names


def export(model, args, f: str | os.PathLike | io.IOBase, *, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, dynamic_axes: dict | None = None,
           opset_version: int = DEFAULT_OPSET, verify: bool = True) -> None:
    """Write ``model`` as an ONNX file (torch.onnx.export's arguments): ``args`` a Tensor or a tuple
    of Tensors, ``dynamic_axes`` ``{name: [axis, ...]}`` or ``{name: {axis: "label"}}``. The model
    is exported in eval mode (dropout off, batch norm with running statistics) and put back.
    ``verify``: run the written file with ``shenjing.onnx.load`` and compare with the model."""
    from ..random import Generator

    if not 13 <= opset_version <= 21:
        raise ValueError(f"export: opset_version must be between 13 and 21, got {opset_version}")
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    args = tuple(a if isinstance(a, Tensor) else as_tensor(xp.asarray(a)) for a in args)
    in_names = _names(input_names, len(args), "input")
    dynamic_axes = dict(dynamic_axes or {})
    _refuse_notes_forms(model)
    was_training = model.training
    model.eval()
    try:
        calls, paths, out = _record(model, args)
        outs = _outputs(out)
        out_names = _names(output_names, len(outs), "output")
        unknown = set(dynamic_axes) - set(in_names) - set(out_names)
        if unknown:
            raise ValueError(f"export: dynamic_axes names {sorted(unknown)} are not input or output names ({in_names + out_names})")
        alt_args = _resized(args, in_names, dynamic_axes, Generator().manual_seed(0).rng)
        alt, _, _ = _record(model, alt_args)
        _compare(calls, alt, paths, list(model.parameters()) + list(model.buffers()) + list(args) + [c.output for c in calls])
        proto = _build(model, args, calls, paths, alt if dynamic_axes else None, outs, in_names, out_names, dynamic_axes, opset_version)
        if verify:
            _verify(proto, alt_args if dynamic_axes else args, _outputs(model(*(alt_args if dynamic_axes else args))))
    finally:
        model.train(was_training)
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        atomic_write_bytes(f, data)
    else:
        f.write(data)


def _verify(proto, args: tuple, expected: list[Tensor]) -> None:
    """The written graph, run by shenjing's ONNX reader, must give the model's outputs."""
    from ..autograd.grad_mode import no_grad
    from .load import OnnxModule

    with no_grad():
        got = OnnxModule(proto)(*args)
    got = got if isinstance(got, tuple) else (got,)
    for i, (a, b) in enumerate(zip(got, expected)):
        x, y = a.array.astype(xp.float64), b.array.astype(xp.float64)
        scale = max(float(xp.abs(y).max()) if y.size else 0.0, 1.0)
        if x.shape != y.shape or not xp.allclose(x, y, rtol=1e-4, atol=1e-5 * scale, equal_nan=True):
            diff = float(xp.abs(x - y).max()) if x.shape == y.shape else f"shape {x.shape} vs {y.shape}"
            raise RuntimeError(f"export: the written ONNX graph does not reproduce output {i} of the model (max |Δ| {diff}); "
                               "this is a bug in shenjing.onnx — please report it")
