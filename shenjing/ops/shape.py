"""Shape operations (形状变换): views, concatenation, tiling, padding, diagonals and sliding windows."""

from __future__ import annotations

import math

from .. import backend as B
from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Size, Tensor, wrap_dim
from ..backend import xp
from .elementwise import binary_operands, broadcast_to, expand, logical_xor  # noqa: F401  (re-exported)
from .index import IndexAddTo, index_select


def _sizes(sizes) -> tuple:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


class Reshape(Function):
    saves_inputs = False
    is_view = True

    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


def reshape(input: Tensor, *shape, **kw) -> Tensor:
    if kw:  # reshape(x, shape=(...)), as torch.reshape(input, shape)
        shape = (kw.pop("shape"),)
    shape = tuple(int(s) for s in _sizes(shape))
    if shape == input._data.shape:
        return input
    n, unknown = 1, 0
    for s in shape:
        if s == -1:
            unknown += 1
        elif s < 0:
            raise ShapeError(f"reshape: invalid shape dimension {s} in {list(shape)}")
        else:
            n *= s
    size = input._data.size
    if unknown > 1 or (unknown == 0 and n != size) or (unknown == 1 and (n == 0 or size % n)):
        raise ShapeError(f"reshape: shape '{list(shape)}' is invalid for input of size {size} (shape {tuple(input.shape)})")
    return Reshape.apply(input, shape=shape)


def view(input: Tensor, *shape, **kw) -> Tensor:
    """The same memory seen with another shape; like PyTorch, refused when the strides do not
    allow it (a transposed tensor, a strided slice): use ``reshape`` there. ``view(dtype)``
    reinterprets the bytes."""
    if kw:  # view(size=(...)) or view(dtype=...)
        shape = (kw.get("size", kw.get("dtype")),)
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Tensor)):
        return Tensor._make(input._data.view(xp.dtype(shape[0])))
    try:
        out = reshape(input, *shape)
    except ShapeError as e:
        raise ShapeError(str(e).replace("reshape:", "view:", 1)) from None
    if out is not input and input._data.size and not xp.may_share_memory(out._data, input._data):
        raise RuntimeError(
            f"view: view size is not compatible with input tensor's size and stride (shape "
            f"{tuple(input.shape)}, stride {input.stride()}, requested {list(out.shape)}): at least one "
            "dimension spans across two contiguous subspaces. Use .reshape(...) instead."
        )
    return out


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return input.reshape(1)
    s, e = wrap_dim(start_dim, input.ndim, "flatten"), wrap_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise ShapeError("flatten: start_dim cannot come after end_dim")
    shape = input.shape
    return input.reshape(shape[:s] + (-1 if 0 not in shape[s:e + 1] else 0,) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = wrap_dim(dim, input.ndim, "unflatten")
    shape = input.shape
    return input.reshape(shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input: Tensor, dim=None) -> Tensor:
    shape = input.shape
    if dim is None:
        axes = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = (dim,) if isinstance(dim, int) else dim
        axes = {wrap_dim(d, input.ndim, "squeeze") for d in dims}
        axes = {i for i in axes if input.ndim and shape[i] == 1}
    return input.reshape(tuple(s for i, s in enumerate(shape) if i not in axes))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = wrap_dim(dim, input.ndim + 1, "unsqueeze")
    shape = input.shape
    return input.reshape(shape[:d] + (1,) + shape[d:])


class Permute(Function):
    saves_inputs = False
    is_view = True

    def forward(self, a, dims):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return Permute.apply(g, dims=tuple(inv))  # a valid permutation by construction


def permute(input: Tensor, *dims, **kw) -> Tensor:
    if kw:  # permute(x, dims=(...))
        dims = (kw.pop("dims"),)
    dims = _sizes(dims)
    n = input.ndim
    if len(dims) != n:
        raise ShapeError(f"permute: number of dims ({len(dims)}) doesn't match the tensor's ndim ({n}), shape {tuple(input.shape)}")
    dims = tuple(wrap_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise ShapeError(f"permute: repeated dim in {list(dims)}")
    if dims == tuple(range(n)):
        return input
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    n = input.ndim
    if n == 0:
        return input
    d0, d1 = wrap_dim(dim0, n, "transpose"), wrap_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, dims)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    if input.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input: Tensor, source, destination) -> Tensor:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    n = input.ndim
    src = [wrap_dim(s, n, "movedim") for s in src]
    dst = [wrap_dim(d, n, "movedim") for d in dst]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


class Tile(Function):
    """repeat/tile: backward folds the copies back onto the original and sums them."""

    saves_inputs = False

    def forward(self, a, reps):
        self.in_shape, self.reps = a.shape, reps
        return xp.tile(a, reps)

    def backward(self, g):
        shape = self.in_shape
        shape = (1,) * (len(self.reps) - len(shape)) + tuple(shape)
        split = []
        for r, s in zip(self.reps, shape):
            split += [r, s]
        g = g.reshape(split).sum(dim=tuple(range(0, len(split), 2)))
        return g.reshape(self.in_shape)


def repeat(input: Tensor, *sizes) -> Tensor:
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise ShapeError(
            f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number "
            f"of dimensions of tensor ({input.ndim})"
        )
    return Tile.apply(input, reps=sizes)


def tile(input: Tensor, dims) -> Tensor:
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


class Flip(Function):
    saves_inputs = False

    def forward(self, a, axes):
        self.axes = axes
        return xp.flip(a, axes).copy()  # a copy, as torch.flip (NumPy's flip is a view)

    def backward(self, g):
        return g.flip(self.axes)


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(wrap_dim(d, input.ndim, "flip") for d in dims)
    return Flip.apply(input, axes=axes if input.ndim else ())


class Roll(Function):
    saves_inputs = False

    def forward(self, a, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return xp.roll(a, shifts, axes)

    def backward(self, g):
        s = self.shifts
        neg = -s if isinstance(s, int) else tuple(-x for x in s)
        return Roll.apply(g, shifts=neg, axes=self.axes)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is not None:
        dims = (wrap_dim(dims, input.ndim, "roll"),) if isinstance(dims, int) else tuple(wrap_dim(d, input.ndim, "roll") for d in dims)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        if len(shifts) != len(dims):
            raise ShapeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    return Roll.apply(input, shifts=shifts, axes=dims)


class Cat(Function):
    """Concatenation; legacy empty 1-D inputs of shape (0,) are skipped (and get a (0,) gradient)."""

    saves_inputs = False

    def forward(self, *arrays, axis):
        self.axis = axis
        self.skip = [a.shape == (0,) and arrays[0].ndim != 1 for a in arrays] if any(a.shape == (0,) for a in arrays) else None
        if self.skip:
            arrays = [a for a, s in zip(arrays, self.skip) if not s]
        self.sizes = [a.shape[axis] for a in arrays]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, g):
        out, start = [], 0
        sizes = iter(self.sizes)
        for skip, need in zip(self.skip or [False] * len(self.inputs), self.needs_input_grad):
            if skip:
                out.append(Tensor._make(xp.zeros((0,), g.dtype)) if need else None)
                continue
            n = next(sizes)
            out.append(g.narrow(self.axis, start, n) if need else None)
            start += n
        return tuple(out)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("cat: expected a non-empty list of Tensors")
    # PyTorch skips legacy empty 1-D tensors of shape (0,)
    keep = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = keep[0]
    d = wrap_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(keep):
        if t.ndim != ref.ndim or any(s != r for j, (s, r) in enumerate(zip(t.shape, ref.shape)) if j != d):
            raise ShapeError(
                f"cat: Sizes of tensors must match except in dimension {d}. Expected shape like "
                f"{tuple(ref.shape)} but got {tuple(t.shape)} for tensor number {i} in the list"
            )
    dt = B.result_type(*keep) if len({t.dtype for t in tensors}) > 1 else ref.dtype
    return Cat.apply(*[t.to(dt) for t in tensors], axis=d)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack: expected a non-empty list of Tensors")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ShapeError(f"stack: expects each tensor to be equal size, but got {tuple(shape)} at entry 0 and {tuple(t.shape)} at entry {i}")
    d = wrap_dim(dim, len(shape) + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def hstack(tensors) -> Tensor:
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = wrap_dim(dim, input.ndim, "narrow")
    if start < 0:
        start += input.shape[d]
    if start < 0 or start + length > input.shape[d] or length < 0:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({input.shape[d]})")
    key = (slice(None),) * d + (slice(start, start + length),)
    return input[key]


def split(tensor: Tensor, split_size_or_sections=None, dim: int = 0, *, split_size=None):
    """Pieces of ``split_size`` along ``dim`` (the last one smaller), or of the listed sizes."""
    if split_size_or_sections is None:
        split_size_or_sections = split_size
    d = wrap_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        sizes = [min(s, n - i) for i in range(0, n, s)] if s > 0 else [n]
        if n == 0:
            sizes = [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be greater than 0, got {chunks}")
    n = input.shape[wrap_dim(dim, input.ndim, "chunk")]
    return split(input, max(-(-n // chunks), 1), dim)


def unbind(input: Tensor, dim: int = 0):
    d = wrap_dim(dim, input.ndim, "unbind")
    return tuple(input.select(d, i) for i in range(input.shape[d]))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    d = wrap_dim(dim, input.ndim, "select")
    return input[(slice(None),) * d + (index,)]


class _Triangle(Function):
    saves_inputs = False

    def forward(self, a, k, lower):
        self.k, self.lower = k, lower
        return xp.tril(a, k) if lower else xp.triu(a, k)

    def backward(self, g):
        return _Triangle.apply(g, k=self.k, lower=self.lower)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim < 2:
        raise ShapeError(f"tril: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return _Triangle.apply(input, k=diagonal, lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim < 2:
        raise ShapeError(f"triu: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return _Triangle.apply(input, k=diagonal, lower=False)


class PadConstant(Function):
    saves_inputs = False

    def forward(self, a, widths, value):
        self.crop = tuple(slice(lo, a.shape[i] + lo) for i, (lo, _) in enumerate(widths))
        return xp.pad(a, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.crop]


_NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """F.pad: ``pad`` lists (left, right) pairs starting from the last dimension.

    constant pads with ``value``; reflect mirrors without the edge; replicate repeats the edge;
    circular wraps around (Fang ch. 7 padding modes). Negative widths crop."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ShapeError(f"pad: padding length must be divisible by 2 and at most 2*ndim ({2 * input.ndim}), got {len(pad)} for shape {tuple(input.shape)}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if any(lo < 0 or hi < 0 for lo, hi in widths):  # crop first, then pad what is positive
        key = tuple(slice(-lo if lo < 0 else None, hi if hi < 0 else None) for lo, hi in widths)
        input = input[key]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return PadConstant.apply(input, widths=widths, value=0 if value is None else value)
    if mode not in _NP_MODE:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got '{mode}'")
    out = input
    for d, (lo, hi) in enumerate(widths):
        if lo == hi == 0:
            continue
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ShapeError(
                f"pad: padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {d} of input {tuple(input.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise ShapeError(f"pad: padding value causes wrapping around more than once: ({lo}, {hi}) at dimension {d} of input {tuple(input.shape)}")
        idx = xp.pad(xp.arange(n), (lo, hi), mode=_NP_MODE[mode])
        out = out.index_select(d, Tensor._make(idx))
    return out


# ---------------------------------------------------------------- diagonals and sliding windows (strided views)


def _positions(in_shape, shape, steps, start):
    """The flat (C-order) input position that each output element of a strided view reads."""
    lstride = [1] * len(in_shape)
    for j in range(len(in_shape) - 2, -1, -1):
        lstride[j] = lstride[j + 1] * in_shape[j + 1]
    pos = xp.asarray(sum(s * st for s, st in zip(start, lstride)), dtype=B.int64)
    for k, (n, step) in enumerate(zip(shape, steps)):
        axis = [1] * len(shape)
        axis[k] = n
        pos = pos + (xp.arange(n, dtype=B.int64) * sum(c * st for c, st in zip(step, lstride))).reshape(axis)
    return xp.broadcast_to(pos, shape)


class StridedView(Function):
    """out[i] = input[start + Σ_k i_k·steps[k]] (``steps[k]``: how far output axis k moves along each
    input axis): the view behind diagonal and Tensor.unfold, sharing the input's memory.

    Backward: the adjoint, g added back at the positions read (overlapping windows accumulate)."""

    saves_inputs = False
    is_view = True

    def forward(self, a, shape, steps, start):
        self.in_shape, self.args = a.shape, (shape, steps, start)
        if 0 in shape:
            return xp.empty(shape, a.dtype)
        base = a[tuple(slice(s, None) for s in start)]
        strides = tuple(sum(c * st for c, st in zip(step, a.strides)) for step in steps)
        return xp.lib.stride_tricks.as_strided(base, shape, strides)

    def backward(self, g):
        flat = IndexAddTo.apply(g, key=_positions(self.in_shape, *self.args), shape=(math.prod(self.in_shape),), advanced=True)
        return Reshape.apply(flat, shape=self.in_shape)


def _diagonal_spec(shape, offset: int, d1: int, d2: int) -> dict:
    """The StridedView arguments of the ``offset`` diagonal of axes (d1, d2) of a ``shape`` tensor."""
    n1, n2 = shape[d1], shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    start = [0] * len(shape)
    if length:
        start[d2 if offset >= 0 else d1] = abs(offset)
    keep = [i for i in range(len(shape)) if i not in (d1, d2)]
    unit = [tuple(int(j == i) for j in range(len(shape))) for i in keep]
    diag = tuple(int(j in (d1, d2)) for j in range(len(shape)))
    return {"shape": tuple(shape[i] for i in keep) + (length,), "steps": tuple(unit) + (diag,), "start": tuple(start)}


def _diagonal_dims(op: str, ndim: int, dim1: int, dim2: int) -> tuple[int, int]:
    if ndim < 2:
        raise ShapeError(f"{op}: the tensor must have at least 2 dimensions, got {ndim}")
    d1, d2 = wrap_dim(dim1, ndim, op), wrap_dim(dim2, ndim, op)
    if d1 == d2:
        raise ShapeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal (对角线) of axes (dim1, dim2), a view whose last axis runs along it;
    offset > 0 is above the main diagonal, < 0 below."""
    d1, d2 = _diagonal_dims("diagonal", input.ndim, dim1, dim2)
    return StridedView.apply(input, **_diagonal_spec(input.shape, offset, d1, d2))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Zeros with the last axis of ``input`` written on the ``offset`` diagonal of the new axes
    (dim1, dim2): the adjoint of :func:`diagonal`."""
    if input.ndim == 0:
        raise ShapeError("diag_embed: the input must have at least 1 dimension, got a 0-d tensor")
    d1, d2 = _diagonal_dims("diag_embed", input.ndim + 1, dim1, dim2)
    m = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(m if i in (d1, d2) else next(rest) for i in range(input.ndim + 1))
    key = _positions(shape, **_diagonal_spec(shape, offset, d1, d2))
    return IndexAddTo.apply(input, key=key, shape=(math.prod(shape),), advanced=True).reshape(shape)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector → the square matrix with it on the ``diagonal``-th diagonal; a matrix → that diagonal (a copy)."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return StridedView.apply(input, **_diagonal_spec(input.shape, diagonal, 0, 1)).clone()
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D (shape {tuple(input.shape)})")


def trace(input: Tensor) -> Tensor:
    """Σ_i A_ii (迹) of a matrix."""
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {input.ndim} (shape {tuple(input.shape)})")
    return diagonal(input).sum()


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold: every window of ``size`` along ``dimension``, ``step`` apart, as a view with a new
    last axis of length ``size``: (…, n, …) → (…, (n − size)//step + 1, …, size)."""
    d = wrap_dim(dimension, input.ndim, "unfold")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= size <= n:
        raise ShapeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size} (shape {tuple(input.shape)})")
    if step <= 0:
        raise ShapeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:
        return input.reshape(1)[:size]
    unit = [tuple(int(j == i) for j in range(input.ndim)) for i in range(input.ndim)]
    steps = tuple(tuple(step * c for c in u) if i == d else u for i, u in enumerate(unit)) + (unit[d],)
    shape = tuple((n - size) // step + 1 if i == d else s for i, s in enumerate(input.shape)) + (size,)
    return StridedView.apply(input, shape=shape, steps=steps, start=(0,) * input.ndim)


# ---------------------------------------------------------------- more splitting, repeating and arranging


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place: [a, b] → [a, a, b, b].
    ``repeat_interleave(counts)`` alone gives the indices [0]*counts[0] + [1]*counts[1] + …."""
    if repeats is None:
        counts = input._data
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise ShapeError(f"repeat_interleave: repeats must be a 0-d or 1-d integer tensor, got shape {tuple(input.shape)}")
        return Tensor._make(xp.repeat(xp.arange(counts.size, dtype=B.int64), counts.reshape(-1)))
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        d = wrap_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:
            input = input.reshape(1)
    n = input.shape[d]
    reps = xp.asarray(repeats._data if isinstance(repeats, Tensor) else repeats).reshape(-1)
    if reps.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats has to be an integer tensor or int, got dtype {reps.dtype}")
    if reps.size == 1:
        reps = xp.broadcast_to(reps, (n,))
    if reps.size != n:
        raise ShapeError(f"repeat_interleave: repeats must have the same size as input along dim, but got repeats.size(0) = {reps.size} "
                         f"and input.size({d}) = {n} (input shape {tuple(input.shape)})")
    if reps.size and reps.min() < 0:
        raise ShapeError("repeat_interleave: repeats can not be negative")
    idx = xp.repeat(xp.arange(n, dtype=B.int64), reps)
    if output_size is not None and idx.size != output_size:
        raise ShapeError(f"repeat_interleave: output_size {output_size} does not match the total of repeats {idx.size}")
    return index_select(input, d, Tensor._make(idx))


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0):
    """Views of ``input`` split along ``dim``: into k near-equal pieces (the first n mod k one longer),
    or at the listed indices (slicing rules: indices past the end give empty pieces)."""
    if input.ndim == 0:
        raise ShapeError("tensor_split: expected at least a 1-dimensional tensor, but got a 0-d tensor")
    d = wrap_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.ndim > 1 or ios.dtype.kind not in "iu":
            raise ShapeError(f"tensor_split: indices_or_sections must be a 0-d or 1-d integer tensor, got shape {tuple(ios.shape)}")
        ios = int(ios.item()) if ios.ndim == 0 else ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise ShapeError(f"tensor_split: number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds = [0]
        for i in range(ios):
            bounds.append(bounds[-1] + q + (i < r))
    else:
        bounds = [0, *ios, None]
    pre = (slice(None),) * d
    return tuple(input[pre + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))


def _split_along(op: str, input: Tensor, indices_or_sections, dim: int, min_dim: int) -> tuple:
    if input.ndim < min_dim:
        raise ShapeError(f"torch.{op} requires a tensor with at least {min_dim} dimension, but got a tensor with {input.ndim} dimensions!")
    if isinstance(indices_or_sections, int):
        n = input.shape[dim]
        if indices_or_sections == 0 or n % indices_or_sections:
            raise ShapeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension {n} is not divisible "
                             f"by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """tensor_split along the columns (dim 1; dim 0 of a vector), equal pieces required."""
    return _split_along("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def broadcast_shapes(*shapes):
    """The shape that the given shapes broadcast to (广播)."""
    try:
        return Size(xp.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together") from None


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded (as views) to their common broadcast shape."""
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


def _atleast(n: int, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in ts:
        s = tuple(t.shape)
        if len(s) < n:  # () → ones; (k,) → (1, k) or (1, k, 1); (m, k) → (m, k, 1)
            s = (1,) * n if not s else (1, *s, 1)[:n] if len(s) == 1 else (*s, 1)
        out.append(t.reshape(s))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,))."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: () → (1, 1), (n,) → (1, n)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: () → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1)."""
    return _atleast(3, tensors)


def dstack(tensors) -> Tensor:
    """Concatenation along the third axis of the tensors made at least 3-d (depthwise)."""
    return cat(atleast_3d(list(tensors)), 2)


def cartesian_prod(*tensors) -> Tensor:
    """The rows of itertools.product of 1-d tensors, as an (n₁·n₂·…, k) tensor (one tensor: itself)."""
    if len(tensors) == 1:
        return tensors[0]
    for t in tensors:
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expect 1D vectors, got a tensor of shape {tuple(t.shape)}")
    shape = tuple(t.shape[0] for t in tensors)
    cols = [t.reshape([-1 if i == k else 1 for i in range(len(tensors))]).expand(shape).reshape(-1) for k, t in enumerate(tensors)]
    return stack(cols, 1)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotation by 90° k times in the plane of ``dims``, from the first axis towards the second."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dim(dims[0], input.ndim, "rot90"), wrap_dim(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise ShapeError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip((d0, d1))
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None) -> Tensor:
    """The n-th forward difference x[i+1] − x[i] along ``dim`` (差分; logical xor for bool), after
    concatenating ``prepend`` and ``append`` (n = 0: the input as it is)."""
    if input.ndim == 0:
        raise ShapeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim, "diff")
    if n == 0:  # the input itself, prepend and append ignored (as PyTorch)
        return input
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        hi, lo = x.narrow(d, min(m, 1), max(m - 1, 0)), x.narrow(d, 0, max(m - 1, 0))
        x = logical_xor(hi, lo) if x.dtype == B.bool_ else hi - lo
    return x
