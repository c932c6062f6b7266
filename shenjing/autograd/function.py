"""Function (运算节点): one differentiable operation, ``forward`` and ``backward`` side by side.

In the spirit of the MulNode/AddNode objects of Wang 五.III and DeZero's Function:

* ``forward(*arrays, **kw)`` computes on backend arrays and may keep what ``backward`` needs;
* ``backward(grad)`` receives the gradient of the output as a Tensor and returns one Tensor (or
  ``None``) per input, written with Tensor ops, so that with ``create_graph=True`` the gradient is
  itself a graph and can be differentiated again.

The engine does the plumbing once for every op, as PyTorch's does: ``self.needs_input_grad`` tells
backward which inputs want a gradient (it may skip the others), and a returned gradient is summed
back to its input's shape when the input was broadcast (un-broadcasting), then cast to its dtype.
``apply`` records the node only when grad mode is on and some input requires grad. Forward runs with
NumPy's floating-point warnings off (0/0 is NaN, log 0 is −inf, silently, as in PyTorch).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Lock

from ..backend import quiet_fp as _quiet_fp
from ..backend import restore_fp as _restore_fp
from ..backend import xp
from .grad_mode import grad_enabled
from .tensor import Tensor


class ShapeError(ValueError, RuntimeError):
    """A shape or size mismatch; both a ValueError and a RuntimeError (PyTorch raises the latter)."""


class Function:
    #: does backward read the values of its inputs? (then an in-place change to one is an error)
    saves_inputs = True
    #: does backward read the output (``self.output``)? then an in-place change to it is an error
    saves_output = False
    #: which saved values each input's gradient reads, one tuple per input, of input positions and
    #: "out"; None: every saved value. An in-place change is an error only for what a needed
    #: gradient reads (``a * b`` keeps ``a`` only when ``b`` needs a gradient, as PyTorch).
    reads: tuple | None = None
    #: does the output share memory with input 0 (reshape, transpose, basic slicing)?
    is_view = False

    inputs: tuple
    needs_input_grad: tuple
    _out: weakref.ref

    @classmethod
    def apply(cls, *inputs: Tensor, **kw) -> Tensor:
        # The hot path of every operation: kept flat (no helper calls) because a Python engine pays
        # for each call; the Tensor is built field by field (as Tensor._make does).
        fn = _new_object(cls)
        quiet = _quiet_fp()  # 0/0, log 0, overflow: NaN and ±inf without NumPy's RuntimeWarning, as PyTorch
        try:
            if len(inputs) == 1:
                data = fn.forward(inputs[0]._data, **kw)
            elif len(inputs) == 2:
                data = fn.forward(inputs[0]._data, inputs[1]._data, **kw)
            else:
                data = fn.forward(*[t._data for t in inputs], **kw)
        except ValueError as e:
            if isinstance(e, ShapeError):
                raise
            shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
            raise ShapeError(f"{cls.__name__.lower()}: {e} (input shapes {shapes})") from None
        finally:
            _restore_fp(quiet)
        if type(data) is not _ndarray:
            data = xp.asarray(data)
        out = _new_object(Tensor)
        out._data = data
        out.grad = None
        out._hooks = None
        out._retain = False
        if cls.is_view:  # a view shares its base's version counter, which also remembers the base
            vc = out._vc = inputs[0]._vc
            if len(vc) == 1:
                vc.append(_weakref(inputs[0]))
        else:
            out._vc = [0]
        if grad_enabled():
            n = len(inputs)
            if n == 1:
                needs = (True,) if inputs[0].requires_grad else None
            elif n == 2:
                ra, rb = inputs[0].requires_grad, inputs[1].requires_grad
                needs = (ra, rb) if ra or rb else None
            else:
                needs = tuple([t.requires_grad for t in inputs])
                if True not in needs:
                    needs = None
            if needs is not None:
                out.requires_grad = True
                out.grad_fn = fn
                fn.inputs = inputs
                fn.needs_input_grad = needs
                # Each input's producer now (PyTorch's edges): an in-place op may give an input a new
                # grad_fn later, and this node's gradient must still reach the producer it saw.
                fn.next_fns = ((inputs[0].grad_fn,) if n == 1 else (inputs[0].grad_fn, inputs[1].grad_fn) if n == 2
                               else tuple([t.grad_fn for t in inputs]))
                if cls.saves_inputs:
                    fn.versions = [t._vc[0] for t in inputs]
                fn._out = _weakref(out)
                if cls.saves_output:
                    fn.out_version = out._vc[0]
                return out
        out.requires_grad = False
        out.grad_fn = None
        return out

    @property
    def output(self) -> Tensor:
        """The output tensor (for backward formulas that use it, like exp' = exp)."""
        out = self._out()
        if out is None:
            raise RuntimeError(f"{self.name}.backward: its output tensor no longer exists")
        return out

    @property
    def freed(self) -> bool:
        """Was this node's saved state released by a backward (without ``retain_graph``)?"""
        return "inputs" not in self.__dict__

    def forward(self, *arrays, **kw):
        raise NotImplementedError

    def backward(self, grad: Tensor):
        raise NotImplementedError

    def check_versions(self) -> None:
        """RuntimeError if a value that this backward reads was modified in place after forward."""
        inputs, output = self._checked()
        for i in inputs:
            t, v = self.inputs[i], self.versions[i]
            if t._vc[0] != v:
                raise RuntimeError(
                    f"{self.name}.backward: one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: input {i} of shape {tuple(t.shape)} is at version {t._vc[0]}; expected version {v} "
                    "instead. Use an out-of-place operation or .clone() before the in-place one."
                )
        out = self._out() if output else None
        if out is not None and out._vc[0] != self.out_version:
            raise RuntimeError(
                f"{self.name}.backward: one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: its output of shape {tuple(out.shape)} is at version {out._vc[0]}; expected version "
                f"{self.out_version} instead. Use an out-of-place operation or .clone() before the in-place one."
            )

    def _checked(self) -> tuple[tuple, bool]:
        """(the inputs, whether the output) that the needed gradients read; one answer per class and
        ``needs_input_grad``, kept in the class's ``_plans``."""
        cls, needs = type(self), self.needs_input_grad
        plans = cls.__dict__.get("_plans")
        if plans is None:
            plans = cls._plans = {}
        plan = plans.get(needs)
        if plan is None:
            if cls.reads is None:
                plan = (tuple(range(len(needs))) if cls.saves_inputs else (), cls.saves_output)
            else:
                used = {r for need, rs in zip(needs, cls.reads) if need for r in rs}
                plan = (tuple(sorted(i for i in used if i != "out")), "out" in used)
            plans[needs] = plan
        return plan

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class Call:
    """One recorded op: its Function class, input Tensors, keyword arguments and output."""

    fn: type[Function]
    inputs: tuple
    kw: dict
    output: Tensor


_recording = Lock()


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Record every op applied in the block, grad mode or not, in order (for export: ``shenjing.onnx``).

    The list of ``Call`` fills as ops run. One recording at a time in the process; ops in other
    threads during the block are recorded too, so record from one thread."""
    if not _recording.acquire(blocking=False):
        raise RuntimeError("recording: another recording is in progress")
    calls: list[Call] = []
    plain = Function.__dict__["apply"]

    def apply(cls, *inputs, **kw):
        out = plain.__func__(cls, *inputs, **kw)
        calls.append(Call(cls, inputs, kw, out))
        return out

    Function.apply = classmethod(apply)  # swapped only here, so that the hot path pays nothing
    try:
        yield calls
    finally:
        Function.apply = plain
        _recording.release()


_new_object = object.__new__
_ndarray = xp.ndarray
_weakref = weakref.ref
