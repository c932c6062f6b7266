"""In-place operations (原地操作) under autograd: ``x.add_(y)``, ``x[i] = v``, ``x.zero_()``, …

Outside a graph they write into the array at once. While a graph is recorded, the old value
becomes a snapshot that the new node reads, so the gradient stays exact; a node that saved the
tensor before sees its version move and its backward raises (PyTorch's rule). An in-place op on a
view (basic slicing, reshape, transpose) rewrites its base's history, as PyTorch does.
"""

from __future__ import annotations

import weakref

from .. import backend as B
from ..backend import xp
from ..ops import elementwise as E
from ..ops import index as I
from ..ops import shape as S
from .function import ShapeError
from .grad_mode import grad_enabled
from .tensor import Tensor, check_inplace


def inplace_op(self: Tensor, name: str, outplace, *args, **kwargs) -> Tensor:
    """Run ``outplace(self, *args)`` and write the result into ``self``.

    Recording a graph, the old value becomes a snapshot that the new node reads, so that the
    gradient stays exact; a tensor that some node saved earlier sees its version move and that
    node's backward raises (PyTorch's rule)."""
    recording = grad_enabled() and (self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args))
    if recording:
        check_inplace(self, name)
        base = _view_base(self)
        if base is not None:
            return _inplace_view(self, base, name, outplace, *args, **kwargs)
        old = Tensor._make(self._data.copy(), self.requires_grad, self.grad_fn)
        fn = self.grad_fn
        if fn is not None and "_out" in fn.__dict__:
            fn._out = weakref.ref(old)
            if fn.saves_output:  # fn's backward reads the value being overwritten: raise there, as PyTorch
                fn.out_version = -1
        r = outplace(old, *args, **kwargs)
    else:
        r = outplace(self, *args, **kwargs)
    if r._data.shape != self._data.shape:
        raise ShapeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape {tuple(r.shape)}")
    if r._data.dtype != self._data.dtype and not xp.can_cast(r._data.dtype, self._data.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {r._data.dtype} can't be cast to the desired output type {self._data.dtype}")
    if r._data is not self._data:
        self._data[...] = r._data
    self._vc[0] += 1
    if recording:
        self.grad_fn, self.requires_grad = r.grad_fn, r.requires_grad
        if r.grad_fn is not None:
            r.grad_fn._out = weakref.ref(self)
            if r.grad_fn.saves_output:
                r.grad_fn.out_version = self._vc[0]
    return self


def _view_base(t: Tensor):
    """The tensor whose memory ``t`` is a view of (basic slicing, reshape, transpose), or None."""
    vc = t._vc
    if len(vc) < 2:
        return None
    base = vc[1]()
    if base is None or base is t or not base._data.size or not xp.may_share_memory(base._data, t._data):
        return None
    return base


def _offsets(a):
    """Memory offset (in elements) of every element of ``a`` from its first byte."""
    off = xp.zeros(a.shape, dtype=B.int64)
    for k, (n, st) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        off = off + (xp.arange(n, dtype=B.int64) * (st // a.itemsize)).reshape(shape)
    return off


def _view_index(base, view):
    """For each element of the array ``view``, the flat (C-order) index of the ``base`` element it
    aliases; None if ``view`` is not a view of ``base``."""
    ob = _offsets(base)
    lo = int(ob.min())
    buf = xp.full(int(ob.max()) - lo + 1, -1, dtype=B.int64)
    buf[(ob - lo).reshape(-1)] = xp.arange(base.size, dtype=B.int64)
    start = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
    ov = start + _offsets(view) - lo
    if view.size and (ov.min() < 0 or ov.max() >= buf.size):
        return None
    idx = buf[ov]
    return None if view.size and idx.min() < 0 else idx


def _inplace_view(self: Tensor, base: Tensor, name: str, outplace, *args, **kwargs) -> Tensor:
    """An in-place op through a view, recorded as PyTorch does: the base gets the new history
    (base with the view's elements replaced), and the view becomes a view of the new base."""
    idx = _view_index(base._data, self._data)
    if idx is None:
        raise RuntimeError(f"{name}: in-place operation on a view of shape {tuple(self.shape)} whose layout is not supported under autograd")
    check_inplace(base, name)
    old_b = Tensor._make(base._data.copy(), base.requires_grad, base.grad_fn)
    fn = base.grad_fn
    if fn is not None and "_out" in fn.__dict__:
        fn._out = weakref.ref(old_b)
        if fn.saves_output:
            fn.out_version = -1
    old_v = I.GetItem.apply(S.reshape(old_b, -1), key=idx, advanced=True)
    r = outplace(old_v, *args, **kwargs)
    if r._data.shape != self._data.shape:
        raise ShapeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape {tuple(r.shape)}")
    if r._data.dtype != self._data.dtype:
        if not xp.can_cast(r._data.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"{name}: result type {r._data.dtype} can't be cast to the desired output type {self._data.dtype}")
        r = E.to_dtype(r, self._data.dtype)
    new_b = S.reshape(I.IndexPut.apply(S.reshape(old_b, -1), r, key=idx), base.shape)
    self._data[...] = r._data  # the memory the base shares
    self._vc[0] += 1
    base.grad_fn, base.requires_grad = new_b.grad_fn, new_b.requires_grad
    if new_b.grad_fn is not None:
        new_b.grad_fn._out = weakref.ref(base)
    v = I.GetItem.apply(S.reshape(base, -1), key=idx, advanced=True)
    self.grad_fn, self.requires_grad = v.grad_fn, v.requires_grad
    if v.grad_fn is not None:
        v.grad_fn._out = weakref.ref(self)
    return self


def arith_inplace(name, outplace, ufunc):
    def method(self, other, *, alpha=1):
        if not grad_enabled() or not (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            o = other._data if isinstance(other, Tensor) else other
            if alpha != 1:
                o = o * alpha
            d = self._data
            if (not isinstance(o, xp.ndarray) or (o.dtype == d.dtype and o.ndim <= d.ndim)) and (
                d.dtype.kind == "f" or ufunc is not xp.true_divide
            ):
                quiet = B.quiet_fp()  # as Function.apply: inf and NaN silently
                try:
                    ufunc(d, o, out=d, casting="same_kind")
                except ValueError:
                    raise ShapeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape of {tuple(xp.shape(o))}") from None
                except TypeError:
                    raise RuntimeError(
                        f"{name}: result type {B.result_type(self, other)} can't be cast to the desired output type {d.dtype} "
                        f"(shape {tuple(self.shape)})"
                    ) from None
                finally:
                    B.restore_fp(quiet)
                self._vc[0] += 1
                return self
        if alpha != 1:
            other = other * alpha
        return inplace_op(self, name, outplace, other)

    method.__name__ = name
    return method


def setitem(self: Tensor, key, value) -> None:
    if not grad_enabled() or not (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        k, _ = I.normalize_key(key)
        self._data[k] = value._data if isinstance(value, Tensor) else value
        self._vc[0] += 1
        return
    inplace_op(self, "__setitem__", I.index_put, key, value)


def simple_inplace(name, outplace):
    def method(self, *args, **kwargs):
        return inplace_op(self, name, outplace, *args, **kwargs)

    method.__name__ = name
    return method


def _overwrite(old: Tensor, value: Tensor) -> Tensor:
    return E.Overwrite.apply(old, E.to_dtype(value, old.dtype))


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast) into ``self``; recorded as PyTorch does: the old history gets gradient 0."""
    src = src if isinstance(src, Tensor) else Tensor(src)
    return inplace_op(self, "copy_", _overwrite, src)


def fill_(self, value):
    """Fill with ``value``; recorded (the old history gets gradient 0) when the graph is built."""
    B.check_fits("fill_", value, self._data.dtype)
    if grad_enabled() and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        v = value if isinstance(value, Tensor) else Tensor._make(xp.asarray(value, dtype=self._data.dtype))
        return inplace_op(self, "fill_", _overwrite, v)
    check_inplace(self, "fill_")
    self._data[...] = value._data if isinstance(value, Tensor) else value
    self._vc[0] += 1
    return self


def uniform_(self, a=0.0, b=1.0, generator=None):
    from ..random import rng, uniform_values

    check_inplace(self, "uniform_")
    self._data[...] = uniform_values(rng(generator), a, b, self.shape, self._data.dtype)
    self._vc[0] += 1
    return self


def normal_(self, mean=0.0, std=1.0, generator=None):
    from ..random import rng

    check_inplace(self, "normal_")
    self._data[...] = mean + std * rng(generator).standard_normal(self.shape)
    self._vc[0] += 1
    return self


def bernoulli_(self, p=0.5, generator=None):
    from ..random import rng

    check_inplace(self, "bernoulli_")
    self._data[...] = rng(generator).random(self.shape) < p
    self._vc[0] += 1
    return self
