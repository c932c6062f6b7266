"""Indexing (索引): slicing, advanced indexing, gather/scatter.

The backward of an index with repeated positions accumulates (x[[0, 0]] sends 2·g to x[0]).
"""

from __future__ import annotations

from collections import namedtuple

from .. import backend as B
from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Tensor, wrap_dim
from ..backend import xp
from .elementwise import const, where


class IndexOutOfRange(IndexError, RuntimeError):
    """An index out of range: an IndexError, and the RuntimeError that PyTorch's gather/scatter raise."""


def _index_part(k):
    if isinstance(k, Tensor):
        a = k._data
        if a.ndim == 0 and a.dtype.kind in "iu":
            return int(a)
        if a.dtype.kind not in "iub":
            raise IndexError(f"index: tensors used as indices must be long, int or bool tensors, got {a.dtype}")
        return a
    if isinstance(k, list):
        a = xp.asarray([_index_part(e) if isinstance(e, Tensor) else e for e in k])
        return a
    return k


def normalize_key(key):
    """A NumPy key from a PyTorch one, and whether it uses advanced (array) indexing."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for k in parts:
        k = _index_part(k)
        if isinstance(k, bool):
            k = xp.asarray(k)
        if isinstance(k, xp.ndarray) and k.dtype == bool and k.ndim:  # a mask is its nonzero indices
            out.extend(xp.nonzero(k))
        else:
            out.append(k)
    advanced = any(isinstance(k, xp.ndarray) for k in out)
    return (tuple(out) if isinstance(key, tuple) or len(out) != 1 else out[0]), advanced


class GetItem(Function):
    saves_inputs = False

    def forward(self, a, key, advanced):
        self.key, self.advanced, self.in_shape = key, advanced, a.shape
        return a[key]

    def backward(self, g):
        return IndexAddTo.apply(g, key=self.key, shape=self.in_shape, advanced=self.advanced)


class _GetItemView(GetItem):
    is_view = True


class IndexAddTo(Function):
    """zeros(shape) with g added at ``key`` (accumulating repeats): the adjoint of indexing."""

    saves_inputs = False

    def forward(self, g, key, shape, advanced):
        self.key, self.advanced = key, advanced
        z = xp.zeros(shape, dtype=g.dtype)
        if advanced:
            xp.add.at(z, key, g)
        else:
            z[key] = g
        return z

    def backward(self, gg):
        return (_GetItemView if not self.advanced else GetItem).apply(gg, key=self.key, advanced=self.advanced)


def getitem(input: Tensor, key) -> Tensor:
    k, advanced = normalize_key(key)
    try:
        return (GetItem if advanced else _GetItemView).apply(input, key=k, advanced=advanced)
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor shape {tuple(input.shape)})") from None


class IndexPut(Function):
    """out = a with out[key] = v: the differentiable form of ``a[key] = v``."""

    saves_inputs = False

    def forward(self, a, v, key):
        self.key = key
        out = a.copy()
        out[key] = v
        return out

    def backward(self, g):
        need_a, need_v = self.needs_input_grad
        ga = IndexPut.apply(g, Tensor._make(xp.zeros((), g.dtype)), key=self.key) if need_a else None
        gv = None
        if need_v:  # the engine sums it to v's shape when v was broadcast into the slots
            k = self.key
            gv = GetItem.apply(g, key=k, advanced=isinstance(k, xp.ndarray) or (isinstance(k, tuple) and any(isinstance(p, xp.ndarray) for p in k)))
        return ga, gv


def index_put(input: Tensor, key, value) -> Tensor:
    k, _ = normalize_key(key)
    v = value if isinstance(value, Tensor) else Tensor._make(xp.asarray(value, dtype=input.dtype))
    if v.dtype != input.dtype:
        v = v.to(input.dtype)
    return IndexPut.apply(input, v, key=k)


def _full_index(index, dim: int):
    """An index tuple that picks index[i, j, ...] along ``dim`` and i, j, ... elsewhere."""
    parts = []
    for d, n in enumerate(index.shape):
        if d == dim:
            parts.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


def _check_gather(op: str, input: Tensor, dim: int, index: Tensor) -> int:
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}(): Expected dtype int64 for index, got {index.dtype} (input shape {tuple(input.shape)}, index shape {tuple(index.shape)})"
        )
    d = wrap_dim(dim, input.ndim, op)
    if index.ndim != input.ndim:
        raise ShapeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(index {tuple(index.shape)}, input {tuple(input.shape)})"
        )
    for i, (si, sx) in enumerate(zip(index.shape, input.shape)):
        if i != d and si > sx:
            raise ShapeError(
                f"{op}(): Size does not match at dimension {i} expected index {tuple(index.shape)} "
                f"to be no larger than self {tuple(input.shape)} apart from dimension {d}"
            )
    n = input.shape[d]
    if index.numel() and (index._data.min() < -n or index._data.max() >= n):
        raise IndexOutOfRange(
            f"{op}(): index out of range for dimension {d} with size {n} (input shape {tuple(input.shape)}, "
            f"index shape {tuple(index.shape)})"
        )
    return d


class Gather(Function):
    saves_inputs = False

    def forward(self, a, index, dim):
        self.dim, self.in_shape = dim, a.shape
        self.idx = _full_index(index, dim)
        return a[self.idx]

    def backward(self, g):
        return IndexAddTo.apply(g, key=self.idx, shape=self.in_shape, advanced=True), None


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = input[index[i][j]][j] for dim = 0 (torch.gather)."""
    d = _check_gather("gather", input, dim, index)
    return Gather.apply(input, index, dim=d)


class ScatterAdd(Function):
    saves_inputs = False

    def forward(self, a, index, src, dim):
        self.idx = _full_index(index, dim)
        self.src_key = tuple(slice(0, n) for n in index.shape)
        out = a.copy()
        xp.add.at(out, self.idx, src[self.src_key])
        return out

    def backward(self, g):
        src = self.inputs[2]
        gsrc = None
        if self.needs_input_grad[2]:
            picked = GetItem.apply(g, key=self.idx, advanced=True)
            gsrc = IndexAddTo.apply(picked, key=self.src_key, shape=src.shape, advanced=False)
        return g, None, gsrc


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """out = input; out[index[i][j]][j] += src[i][j] (dim = 0), repeats accumulate."""
    d = _check_gather("scatter_add", input, dim, index)
    if src.dtype != input.dtype:
        src = src.to(input.dtype)
    return ScatterAdd.apply(input, index, src, dim=d)


def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None) -> Tensor:
    """out = input; out[index[i][j]][j] = src[i][j] (or ``value``). ``reduce='add'``/``'multiply'``
    accumulates instead (no derivative, as PyTorch: use scatter_reduce)."""
    d = _check_gather("scatter", input, dim, index)
    key = _full_index(index._data, d)
    if src is None or not isinstance(src, Tensor):
        src = Tensor._make(xp.broadcast_to(xp.asarray(value if src is None else src, dtype=input.dtype), index.shape))
    src = src[tuple(slice(0, n) for n in index.shape)].to(input.dtype)
    if reduce is None:
        return IndexPut.apply(input, src, key=key)
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got '{reduce}'")
    return ScatterAccumulate.apply(input, src, key=key, reduce="sum" if reduce == "add" else "prod")


_REDUCE = {"sum": xp.add, "prod": xp.multiply, "mean": xp.add, "amax": xp.maximum, "amin": xp.minimum}


def _scatter_reduce_array(a, src, key, reduce: str, include_self: bool):
    """``a`` with ``src`` combined in at ``key`` by ``reduce``; without ``include_self`` the old values
    at the scattered positions are left out."""
    out = a.copy()
    if not include_self:
        kind = a.dtype.kind
        info = xp.finfo(a.dtype) if kind == "f" else xp.iinfo(a.dtype) if kind in "iu" else None
        lowest, highest = (-xp.inf, xp.inf) if kind == "f" else (info.min, info.max) if info else (False, True)
        out[key] = {"sum": 0, "mean": 0, "prod": 1, "amax": lowest, "amin": highest}[reduce]
    _REDUCE[reduce].at(out, key, src)
    if reduce == "mean":
        count = xp.full(a.shape, int(include_self), dtype=a.dtype)
        xp.add.at(count, key, 1)
        count = xp.maximum(count, 1)
        out = out / count if a.dtype.kind in "fc" else xp.floor_divide(out, count)
    return out


class ScatterAccumulate(Function):
    """scatter(…, reduce='add'/'multiply'): values only; PyTorch gives it no derivative."""

    saves_inputs = False

    def forward(self, a, src, key, reduce):
        return _scatter_reduce_array(a, src, key, reduce, True)

    def backward(self, g):
        raise RuntimeError(f"the derivative for 'scatter' with reduce is not implemented (gradient of shape {tuple(g.shape)}); "
                           "use scatter_reduce, which has one")


class ScatterReduce(Function):
    """out = input with src combined in at index along a dim by sum, prod, mean, amax or amin
    (``include_self``: the old value takes part). Backward (PyTorch's formulas), ∂input and ∂src:
    sum: g and g[index]; mean: g/N and (g/N)[index], N the count of members; prod: g times the product
    of the other members; amax, amin: g shared evenly between the members equal to the result. Without
    ``include_self`` the scattered positions give the input 0."""

    saves_output = True

    def forward(self, a, src, key, reduce, include_self):
        self.key, self.reduce, self.include_self = key, reduce, include_self
        self.hit = xp.zeros(a.shape, dtype=bool)
        self.hit[key] = True  # the positions something is scattered to
        return _scatter_reduce_array(a, src, key, reduce, include_self)

    def backward(self, g):
        x, s = self.inputs
        key, reduce, keep = self.key, self.reduce, self.include_self
        left = Tensor._make(~self.hit)  # positions whose old value stays (alone) in the result
        if reduce in ("sum", "mean"):
            n = xp.full(x.shape, int(keep), dtype=g.dtype)
            xp.add.at(n, key, 1)
            g = g / const(xp.maximum(n, 1), g.dtype) if reduce == "mean" else g
            gx = g if keep else g * left
            return gx, GetItem.apply(g, key=key, advanced=True)
        if reduce == "prod":
            return self._prod_grads(g, x, s)
        y = self.output  # amax / amin: the members equal to the result share g
        self_wins = (x._data == y._data) & (keep | ~self.hit)
        src_wins = s._data == y._data[key]
        n = self_wins.astype(g.dtype)
        xp.add.at(n, key, src_wins)
        share = g / const(xp.maximum(n, 1), g.dtype)
        return share * Tensor._make(self_wins), GetItem.apply(share, key=key, advanced=True) * Tensor._make(src_wins)

    def _prod_grads(self, g, x, s):
        """Each member's gradient is g times the product of the other members of its group:
        P/e when the group has no zero, P (the product of the non-zeros) for its only zero, else 0."""
        key, keep = self.key, self.include_self
        one = const(1.0, x.dtype)
        P = ScatterReduce.apply(where(x == 0, one, x), where(s == 0, one, s), key=key, reduce="prod", include_self=keep)
        zeros = ((x._data == 0) & keep).astype(xp.int64)
        xp.add.at(zeros, key, s._data == 0)

        def others(e: Tensor, p: Tensor, z) -> Tensor:  # e: the members, p: their group's P, z: its count of zeros
            zero = Tensor._make(e._data == 0)
            return where(zero, p * const(z == 1, p.dtype), where(Tensor._make(z == 0), p / where(zero, one, e), 0.0))

        gx = g * others(x, P, zeros) if keep else g * Tensor._make(~self.hit)
        gs = GetItem.apply(g, key=key, advanced=True) * others(s, GetItem.apply(P, key=key, advanced=True), zeros[key])
        return gx, gs


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
    """out = input with out[index[i][j]][j] ⊕= src[i][j] (dim = 0) for ⊕ in 'sum', 'prod', 'mean',
    'amax', 'amin'; ``include_self=False`` leaves the old values at the scattered positions out
    (mean of integers rounds down, as PyTorch).

    One difference from PyTorch 2.13: with include_self=False, amax/amin share the gradient only
    among the values that took part, whereas PyTorch also counts an excluded old value that happens to
    equal the result (pytorch issue "scatter_reduce amax include_self=False gradient")."""
    if reduce not in _REDUCE:
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d = _check_gather("scatter_reduce", input, dim, index)
    if src.dtype != input.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and {src.dtype})")
    for i, (si, ss) in enumerate(zip(index.shape, src.shape)):
        if si > ss:
            raise ShapeError(f"scatter_reduce(): Expected index {tuple(index.shape)} to be smaller than src {tuple(src.shape)} apart from dimension {i}")
    src = src[tuple(slice(0, n) for n in index.shape)]
    return ScatterReduce.apply(input, src, key=_full_index(index._data, d), reduce=reduce, include_self=include_self)


def _index_vector(op: str, input: Tensor, dim: int, index, source: Tensor | None = None, negative: bool = False):
    """(dim, index as an int64 vector) for the index_* ops; checks the index and ``source``'s shape."""
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Index is supposed to be a vector of integers, got shape {idx.shape} and dtype {idx.dtype}")
    if source is not None and source.dtype != input.dtype:
        raise RuntimeError(f"{op}(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type")
    idx = idx.reshape(-1).astype(B.int64)
    d = wrap_dim(dim, input.ndim, op)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < (-n if negative else 0)):
        raise IndexOutOfRange(f"{op}(): index out of range in self (index values {idx.tolist()}, size {n} at dimension {d})")
    if source is not None:
        want = [idx.size if i == d else s for i, s in enumerate(input.shape)]
        if (list(source.shape) != want) if input.ndim else source.numel() != idx.size:
            raise ShapeError(f"{op}(): source of shape {tuple(source.shape)} does not match the input {tuple(input.shape)} with "
                             f"{idx.size} indices along dimension {d} (expected {tuple(want)})")
    return d, idx % n if n else idx


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """out = input; out[…, index[i], …] += alpha·source[…, i, …] along ``dim`` (repeats accumulate)."""
    d, idx = _index_vector("index_add", input, dim, index, source)
    if input.ndim == 0:
        return index_add(input.reshape(1), 0, index, source.reshape(-1), alpha=alpha).reshape(())
    src = source if alpha == 1 else (source * alpha).to(input.dtype)
    return input + IndexAddTo.apply(src, key=(slice(None),) * d + (idx,), shape=tuple(input.shape), advanced=True)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """out = input; out[…, index[i], …] = source[…, i, …] along ``dim``."""
    d, idx = _index_vector("index_copy", input, dim, index, source)
    if input.ndim == 0:
        return index_copy(input.reshape(1), 0, index, source.reshape(-1)).reshape(())
    return IndexPut.apply(input, source, key=(slice(None),) * d + (idx,))


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """out = input with the slices index[i] along ``dim`` set to ``value`` (a number or a 0-d tensor,
    which then gets the sum of their gradients); negative indices count from the end."""
    d, idx = _index_vector("index_fill", input, dim, index, negative=True)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_(): Expected a 0-dimensional value tensor, got one of shape {tuple(value.shape)}")
    if input.ndim == 0:
        return index_fill(input.reshape(1), 0, index, value).reshape(())
    v = value.to(input.dtype) if isinstance(value, Tensor) else Tensor._make(xp.asarray(value, dtype=input.dtype))
    return IndexPut.apply(input, v, key=(slice(None),) * d + (xp.unique(idx),))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """out = input with the positions where ``mask`` is true filled, in order, by source's first elements
    (input and mask broadcast)."""
    if mask.dtype != B.bool_:
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got {mask.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: expected self ({input.dtype}) and source ({source.dtype}) to have the same dtype")
    try:
        shape = xp.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise ShapeError(f"masked_scatter: mask of shape {tuple(mask.shape)} does not broadcast with input {tuple(input.shape)}") from None
    where_true = xp.nonzero(xp.broadcast_to(mask._data, shape).reshape(shape or (1,)))
    k = where_true[0].size
    if source.numel() < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements (the number of true mask elements), got {source.numel()}")
    values = source.reshape(-1)[:k]
    return IndexPut.apply(input.expand(shape).reshape(shape or (1,)), values, key=where_true).reshape(shape)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise IndexError(f"index_select(): Index is supposed to be a vector of integers, got shape {idx.shape} and dtype {idx.dtype}")
    d = wrap_dim(dim, input.ndim, "index_select")
    if input.ndim == 0:
        return input.reshape(1)[idx.reshape(-1)].reshape(idx.shape)
    return getitem(input, (slice(None),) * d + (idx.reshape(-1),))


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """Where ``mask`` is true, ``value``; elsewhere ``input`` (keeps the input's dtype)."""
    if mask.dtype != B.bool_:
        raise RuntimeError(
            f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype} (input shape "
            f"{tuple(input.shape)}, mask shape {tuple(mask.shape)})"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with {value.ndim} dimension(s).")
        v = value.to(input.dtype)
    else:
        v = Tensor._make(xp.asarray(value, dtype=input.dtype))
    return where(mask, v, input)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    shape = xp.broadcast_shapes(input.shape, mask.shape)
    return getitem(input.expand(shape), mask._data if mask.shape == shape else xp.broadcast_to(mask._data, shape))


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = wrap_dim(dim, input.ndim, "take_along_dim")
    shape_in, shape_ix = list(input.shape), list(indices.shape)
    shape_in[d] = shape_ix[d] = 1
    common = list(xp.broadcast_shapes(tuple(shape_in), tuple(shape_ix)))
    si, sx = list(common), list(common)
    si[d], sx[d] = input.shape[d], indices.shape[d]
    return gather(input.expand(si), d, indices.expand(sx))


def nonzero(input: Tensor, as_tuple: bool = False):
    """The indices of the non-zero elements: an (n, ndim) tensor, or (``as_tuple``) one index vector per dim."""
    a = input._data
    nz = xp.nonzero(a.reshape(1) if a.ndim == 0 else a)
    if as_tuple:
        return tuple(Tensor._make(i.astype(B.int64)) for i in nz)
    return Tensor._make(xp.stack(nz, axis=1).astype(B.int64)[:, :a.ndim])


def take(input: Tensor, index: Tensor) -> Tensor:
    return getitem(input.reshape(-1), index._data)


sort_result = namedtuple("sort_result", ["values", "indices"])


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim`` (排序); ties keep their order (stable), NaN counts as the
    largest value (last ascending, first descending), as PyTorch."""
    a = input._data
    if a.ndim == 0:
        return Tensor._make(xp.zeros((), dtype=B.int64))
    d = wrap_dim(dim, a.ndim, "argsort")
    if not descending:
        return Tensor._make(xp.argsort(a, axis=d, kind="stable").astype(B.int64))
    # descending and stable: sort the reversed array ascending, then reverse (ties come back in their order)
    n = a.shape[d]
    rev = xp.flip(xp.argsort(xp.flip(a, d), axis=d, kind="stable"), d)
    return Tensor._make((n - 1 - rev).astype(B.int64))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) sorted along ``dim``; the gradient flows back to the original positions."""
    idx = argsort(input, dim, descending, stable)
    if input.ndim == 0:
        return sort_result(input, idx)
    return sort_result(gather(input, dim, idx), idx)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the k largest (or smallest) entries along ``dim``."""
    d = wrap_dim(dim, max(input.ndim, 1), "topk")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k={k} out of range for dimension {d} of size {n} (shape {tuple(input.shape)})")
    idx = argsort(input, d, descending=largest).narrow(d, 0, k) if input.ndim else argsort(input)
    return sort_result(gather(input, d, idx) if input.ndim else input, idx)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the k-th smallest entry (k from 1) along ``dim``; the gradient goes to that entry."""
    d = wrap_dim(dim, input.ndim, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {d} of size {n} (shape {tuple(input.shape)})")
    if input.ndim == 0:
        return sort_result(input.clone(), Tensor._make(xp.zeros((), dtype=B.int64)))
    idx = argsort(input, d).narrow(d, k - 1, 1)
    values = gather(input, d, idx)
    return sort_result(values, idx) if keepdim else sort_result(values.squeeze(d), idx.squeeze(d))


def _search_dtype(out_int32: bool):
    return B.int32 if out_int32 else B.int64


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False, side: str | None = None,
                 sorter: Tensor | None = None) -> Tensor:
    """For each value of ``input``, the index at which it would be inserted into the last dim of
    ``sorted_sequence`` to keep it sorted (left of equal values, or right of them with ``right``/``side='right'``).
    The sequence is 1-d, or has ``input``'s leading dims."""
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise RuntimeError(f"searchsorted(): side must be 'left' or 'right' and agree with right={right}, got side='{side}'")
        right = side == "right"
    seq = sorted_sequence._data
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    scalar = not isinstance(input, Tensor)
    v = xp.asarray(input) if scalar else input._data
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq, v, side=how)
    elif scalar or seq.shape[:-1] != v.shape[:-1]:
        raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor "
                           f"and input value tensor must match, but we got boundaries tensor {list(seq.shape)} and input value tensor "
                           f"{list(xp.shape(v))}")
    else:
        out = xp.empty(v.shape, dtype=B.int64)
        for i in xp.ndindex(seq.shape[:-1]):
            out[i] = xp.searchsorted(seq[i], v[i], side=how)
    return Tensor._make(xp.asarray(out, dtype=_search_dtype(out_int32)))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value among the 1-d ``boundaries``: i with b[i−1] < x ≤ b[i] (b[i−1] ≤ x < b[i] with ``right``)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries.ndim}) (shape {tuple(boundaries.shape)})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None):
    """The distinct values (or, with ``dim``, the distinct slices along ``dim``) in ascending order, as
    PyTorch's CPU kernel (sorted also when ``sorted=False``; each NaN is distinct); optionally the inverse
    (where each element, or slice, went) and the counts. No gradient."""
    a = input._data
    if dim is None:
        u, inv, cnt = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(a.shape)
    else:
        d = wrap_dim(dim, a.ndim, "unique")
        if any(n == 0 for i, n in enumerate(a.shape) if i != d):
            raise RuntimeError(f"unique(): there are 0 sized dimensions, and they aren't selected, so unique cannot be applied "
                               f"(shape {tuple(input.shape)}, dim {dim})")
        u, inv, cnt = xp.unique(a, return_inverse=True, return_counts=True, axis=d, equal_nan=False)
        inv = inv.reshape(-1)
    out = [Tensor._make(u)]
    if return_inverse:
        out.append(Tensor._make(inv.astype(B.int64)))
    if return_counts:
        out.append(Tensor._make(cnt.astype(B.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# ---------------------------------------------------------------- embedding


class Embedding(Function):
    """out = W[idx] (词嵌入, a table lookup). Backward scatters g back to the rows of W, adding
    repeats; the padding row receives no gradient."""

    saves_inputs = False

    def forward(self, w, idx, padding_idx, scale_grad_by_freq):
        self.idx, self.pad, self.shape, self.freq = idx, padding_idx, w.shape, scale_grad_by_freq
        return xp.take(w, idx, axis=0)

    def backward(self, g):
        idx = self.idx
        keep = None
        if self.pad is not None:
            keep = (idx != self.pad)[..., None].astype(g.dtype)
        if self.freq:
            counts = xp.bincount(idx.reshape(-1), minlength=self.shape[0])
            inv = (1.0 / counts[idx])[..., None].astype(g.dtype)
            keep = inv if keep is None else keep * inv
        if keep is not None:
            g = g * Tensor._make(keep)
        return IndexAddTo.apply(g, key=idx, shape=self.shape, advanced=True)




def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input``.

    ``padding_idx`` gets no gradient; ``max_norm`` renormalises, in place, the rows looked up
    whose ``norm_type``-norm exceeds it (as torch does)."""
    idx = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected an integer (Long or Int) index tensor, got {idx.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(weight.shape)}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} out of range for an embedding of {n} rows (index out of range in self)")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings {n}")
        padding_idx %= n
    if max_norm is not None:  # renormalise the rows looked up, in place (recorded by no graph, as torch)
        rows = xp.unique(idx)
        w = weight._data
        norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1) if norm_type != 2 else xp.sqrt((w[rows] ** 2).sum(1))
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] *= scale[:, None].astype(w.dtype)
        weight._vc[0] += 1
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported (use sparse=False)")
    return Embedding.apply(weight, idx=idx.astype(xp.int64, copy=False), padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)
