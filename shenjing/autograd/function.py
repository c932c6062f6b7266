"""Function (运算节点): one differentiable operation, ``forward`` and ``backward`` side by side.

In the spirit of the MulNode/AddNode objects of seed 001 五.III and DeZero's Function:

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
        fn = cls.__new__(cls)
        try:
            data = fn.forward(*[t._data for t in inputs], **kw)
        except ValueError as e:
            if isinstance(e, ShapeError):
                raise
            shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
            raise ShapeError(f"{cls.__name__.lower()}: {e} (input shapes {shapes})") from None
        if type(data) is not xp.ndarray:
            data = xp.asarray(data)
        if _enabled[0]:
            for t in inputs:
                if t.requires_grad:
                    break
            else:
                return _new(data, inputs, cls)
            out = Tensor._make(data, True, fn)
            fn.inputs = inputs
            if cls.saves_inputs:
                fn.versions = [t._vc[0] for t in inputs]
            if cls.is_view:
                out._vc = inputs[0]._vc
            fn._out = weakref.ref(out)
            if cls.saves_output:
                fn.out_version = out._vc[0]
            return out
        return _new(data, inputs, cls)

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


def _new(data, inputs, cls) -> Tensor:
    out = Tensor._make(data)
    if cls.is_view:
        out._vc = inputs[0]._vc
    return out
