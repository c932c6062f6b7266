"""Tensor (张量): an array with a gradient and a link to the operation that made it.

This file holds the state, conversion, hooks and the public surface that other packages use
(``array``, ``inplace``, ``data``, ``numpy``). The operators, the math methods and ``backward`` are
bound to the class by ``shenjing.autograd.methods.bind_tensor_methods()``, called once when
``shenjing`` is imported.
"""

from __future__ import annotations

from typing import Any

from .. import backend as B
from ..backend import xp
from .grad_mode import grad_enabled


class Tensor:
    """A multi-dimensional array that can record the operations applied to it (define-by-run).

    ``requires_grad`` leaves accumulate ``.grad`` in ``backward()``; results of operations carry
    ``grad_fn``, the Function node that made them (Wang 五.III's node objects).
    """

    __slots__ = ("_data", "grad", "requires_grad", "grad_fn", "_vc", "_hooks", "_retain", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._vc = [0]
        self._hooks = None
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool = False, grad_fn=None) -> Tensor:
        t = object.__new__(cls)
        t._data = data
        t.grad = None
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._vc = [0]
        t._hooks = None
        t._retain = False
        return t

    # --- array-like properties -------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's values, detached from the graph (like torch's ``.data``)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else _to_array(value, None)

    @property
    def array(self):
        """The backend array holding the values (shares memory, outside the graph), for reading.

        To write into it, use ``with t.inplace() as a: ...``, which moves the version counter."""
        return self._data

    def inplace(self) -> _InPlace:
        """``with p.inplace() as a: a -= lr * g`` — write into the backend array directly, recording
        no graph (optimiser updates, running statistics, initialisation). On exit the version
        counter moves, so a backward that saved this tensor raises, as after any in-place op."""
        return _InPlace(self)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._vc[0]

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[wrap_dim(dim, self._data.ndim, "stride")]

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # --- conversion ----------------------------------------------------------------------
    def numpy(self, force: bool = False):
        """The values as an ndarray sharing memory (like torch: refused while requiring grad)."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements (shape {tuple(self._data.shape)}) "
                "cannot be converted to a Python scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = xp.array2string(self._data, separator=", ", prefix="tensor(", precision=4)
        extra = ""
        if self._data.dtype not in (B.get_default_dtype(), B.int64, B.bool_) or self._data.size == 0:
            extra += f", dtype=shenjing.{self._data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self.requires_grad))

    def __deepcopy__(self, memo) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError("Only tensors created by the user (graph leaves) support deepcopy")
        t = Tensor._make(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            t.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = t
        return t

    # --- autograd ----------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only Tensors of floating point dtype can require gradients, "
                f"got {self._data.dtype} (shape {tuple(self._data.shape)})"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad flags of leaf variables; "
                "use .detach() for a non-leaf"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory and the version counter)."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on Tensor that has requires_grad=False")
        self._retain = True

    @property
    def retains_grad(self) -> bool:
        return self._retain

    def register_hook(self, hook):
        """``hook(grad) -> Tensor | None`` runs when this tensor's gradient is computed; a returned
        tensor replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)



def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor sharing memory with ``data`` when it is a Tensor or an array of ``dtype`` already
    (torch.as_tensor), else a new one; the way to wrap a backend array without copying it."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or xp.dtype(dtype) == data.dtype):
        return Tensor._make(data)
    return Tensor(data, dtype=dtype)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return Tensor._make(array)


class Size(tuple):
    """torch.Size: a tuple of ints."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"shenjing.Size({list(self)})"


class _InPlace:
    """The context of :meth:`Tensor.inplace`; inside, floating-point errors give inf and NaN silently (as in an op)."""

    __slots__ = ("t", "quiet")

    def __init__(self, t: Tensor) -> None:
        self.t = t

    def __enter__(self):
        self.quiet = B.quiet_fp()
        return self.t._data

    def __exit__(self, *exc) -> None:
        B.restore_fp(self.quiet)
        self.t._vc[0] += 1


class _HookHandle:
    def __init__(self, hooks: list, hook) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _rebuild(data, requires_grad):
    t = Tensor._make(data)
    t.requires_grad = requires_grad
    return t


def check_inplace(t: Tensor, op: str) -> None:
    if grad_enabled() and t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad (shape {tuple(t.shape)}) is being used in an "
            "in-place operation; wrap it in shenjing.no_grad() or use an out-of-place op"
        )


def wrap_dim(d: int, ndim: int, op: str) -> int:
    """``d`` as a non-negative axis of an ``ndim``-d tensor (negative counts from the end); IndexError naming ``op`` if out of range."""
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


def _infer_dtype(data):
    """The dtype torch.tensor picks for nested data: Python bool/int/float count as bool/int64/the
    default float, NumPy scalars, arrays and tensors keep their dtype, and all of them promote."""
    found = set()

    def walk(x):
        if isinstance(x, (list, tuple)):
            for e in x:
                walk(e)
        elif isinstance(x, Tensor):
            found.add(x._data.dtype)
        elif hasattr(x, "dtype"):  # NumPy scalars (np.float64 is also a Python float) and arrays
            found.add(xp.dtype(x.dtype))
        else:
            found.add(B.scalar_dtype(x))

    walk(data)
    out = None
    for d in found:
        out = d if out is None else B.promote_types(out, d)
    return B.get_default_dtype() if out is None else out


@B.quietly
def _to_array(data, dtype):
    """Convert Python or array data to a backend array with torch.tensor's dtype rules (1e308 in float32
    is inf, silently)."""
    if dtype is not None:
        dtype = xp.dtype(dtype)
    if isinstance(data, Tensor):
        arr = data._data
        return arr.astype(dtype) if dtype is not None and arr.dtype != dtype else arr.copy()
    if isinstance(data, xp.ndarray):
        return xp.array(data, dtype=dtype, copy=True)
    if isinstance(data, xp.generic):
        return xp.asarray(data, dtype=dtype)
    if isinstance(data, (list, tuple)) and any(isinstance(e, Tensor) for e in _flat(data)):
        data = _untensor(data)
    target = dtype if dtype is not None else _infer_dtype(data)
    try:
        return xp.asarray(data, dtype=target)
    except (ValueError, TypeError) as e:
        raise ValueError(f"tensor: could not convert data of type {type(data).__name__} to an array: {e}") from None


def _flat(x):
    if isinstance(x, (list, tuple)):
        for e in x:
            yield from _flat(e)
    else:
        yield x


def _untensor(x):
    if isinstance(x, (list, tuple)):
        return [_untensor(e) for e in x]
    return x._data if isinstance(x, Tensor) else x
