"""Shape operations (形状变换): views, concatenation, tiling, padding."""

from __future__ import annotations

from .. import backend as B
from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Tensor, wrap_dim
from ..backend import xp
from .elementwise import binary_operands, broadcast_to, expand  # noqa: F401  (re-exported)


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
