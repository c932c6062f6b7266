"""Function (运算节点): one differentiable operation, ``forward`` and ``backward`` side by side.

In the spirit of the MulNode/AddNode objects of Wang 五.III and DeZero's Function:

* ``forward(*arrays, **kw)`` computes on backend arrays and may keep what ``backward`` needs;
* ``backward(grad)`` receives the gradient of the output as a Tensor and returns one Tensor (or
  ``None``) per Tensor input, written with Tensor ops, so that with ``create_graph=True`` the
  gradient is itself a graph and can be differentiated again.

``apply`` records the node only when grad mode is on and some input requires grad.
"""

from __future__ import annotations

import weakref

from ..backend import xp
from .grad_mode import _enabled
from .tensor import Tensor


class ShapeError(ValueError, RuntimeError):
    """A shape or size mismatch; both a ValueError and a RuntimeError (PyTorch raises the latter)."""


class Function:
    #: does backward read the values of its inputs? (then an in-place change to one is an error)
    saves_inputs = True
    #: does backward read the output (``self.output``)? then an in-place change to it is an error
    saves_output = False
    #: does the output share memory with input 0 (reshape, transpose, basic slicing)?
    is_view = False

    inputs: tuple
    _out: weakref.ref

    @classmethod
    def apply(cls, *inputs: Tensor, **kw) -> Tensor:
        # The hot path of every operation: kept flat (no helper calls) because a Python engine pays
        # for each call; the Tensor is built field by field (as Tensor._make does).
        fn = _new_object(cls)
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
        if _enabled[0]:
            for t in inputs:
                if t.requires_grad:
                    break
            else:
                out.requires_grad = False
                out.grad_fn = None
                return out
            out.requires_grad = True
            out.grad_fn = fn
            fn.inputs = inputs
            # Each input's producer now (PyTorch's edges): an in-place op may give an input a new
            # grad_fn later, and this node's gradient must still reach the producer it saw.
            n = len(inputs)
            fn.next_fns = (inputs[0].grad_fn,) if n == 1 else (inputs[0].grad_fn, inputs[1].grad_fn) if n == 2 else tuple(
                [t.grad_fn for t in inputs])
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

    def forward(self, *arrays, **kw):
        raise NotImplementedError

    def backward(self, grad: Tensor):
        raise NotImplementedError

    def check_versions(self) -> None:
        """RuntimeError if a tensor that backward needs was modified in place after forward."""
        if self.saves_inputs:
            for i, (t, v) in enumerate(zip(self.inputs, self.versions)):
                if t._vc[0] != v:
                    raise RuntimeError(
                        f"{type(self).__name__}.backward: input {i} of shape {tuple(t.shape)} was "
                        f"modified by an in-place operation after the forward pass (version "
                        f"{t._vc[0]}, saved at version {v}); backward needs its original value. "
                        "Use an out-of-place operation or .clone()."
                    )
        if self.saves_output:
            out = self._out()
            if out is not None and out._vc[0] != self.out_version:
                raise RuntimeError(
                    f"{type(self).__name__}.backward: its output of shape {tuple(out.shape)} was "
                    "modified by an in-place operation after the forward pass; backward needs its "
                    "original value. Use an out-of-place operation or .clone()."
                )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    @property
    def name(self) -> str:
        return type(self).__name__


_new_object = object.__new__
_ndarray = xp.ndarray
_weakref = weakref.ref
