"""Broadcasting (广播) and its adjoint, summing over the broadcast axes.

The engine uses ``sum_to`` to return each input's gradient at that input's shape, so that ``b`` of
shape (3,) added to ``x`` of shape (2, 3) receives Σ over the broadcast axis.
"""

from __future__ import annotations

from ..backend import xp
from .function import Function
from .tensor import Tensor


def reduce_axes(shape: tuple, target: tuple) -> tuple | None:
    """The axes of an array of ``shape`` to sum over so that it reaches ``target``, or None when
    ``shape`` is not a broadcast of ``target``."""
    lead = len(shape) - len(target)
    if lead < 0:
        return None
    axes = list(range(lead))
    for i, s in enumerate(target):
        if shape[lead + i] != s:
            if s != 1:
                return None
            axes.append(lead + i)
    return tuple(axes)


class SumTo(Function):
    """Σ over the broadcast axes down to ``shape``: the adjoint of broadcasting."""

    saves_inputs = False

    def forward(self, a, shape):
        axes = reduce_axes(a.shape, shape)
        if axes is None:
            raise ValueError(f"shape {a.shape} is not a broadcast of {shape}")
        self.in_shape = a.shape
        return a.sum(axis=axes, keepdims=True).reshape(shape)

    def backward(self, g):
        return broadcast_to(g, self.in_shape)


class BroadcastTo(Function):
    """``expand`` / ``broadcast_to``: a read-only view; backward sums over the new axes."""

    saves_inputs = False
    is_view = True

    def forward(self, a, shape):
        self.in_shape = a.shape
        return xp.broadcast_to(a, shape)

    def backward(self, g):
        return sum_to(g, self.in_shape)


def sum_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    return x if x._data.shape == shape else SumTo.apply(x, shape=shape)


def broadcast_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    return x if x._data.shape == shape else BroadcastTo.apply(x, shape=shape)
