"""Linear algebra (线性代数): batched matmul, the fused linear layer, einsum, outer, dot, cross, Kronecker
and tensor products, distances."""

from __future__ import annotations

import math
import string

from ..autograd.function import Function, ShapeError
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor, wrap_dim
from ..backend import xp
from .elementwise import binary_operands, check_same_dtype, const, sum_to, where
from .reduce import vector_norm
from .shape import Permute


class MatMul(Function):
    """C = A @ B with NumPy/PyTorch broadcasting; ∂A = G Bᵀ, ∂B = Aᵀ G (Zhao eq. 4.x)."""

    def forward(self, a, b):
        if b.ndim == 2 and a.ndim > 2:  # fold the batch into one GEMM
            return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + b.shape[-1:])
        return a @ b

    reads = ((1,), (0,))  # ∂A = G Bᵀ needs B only, ∂B = Aᵀ G needs A only

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        # A gradient is made in its input's memory layout: for a transposed (column-major) input,
        # such as W.T in x @ W.T, it is computed as (…)ᵀ, so that after the transpose's own backward
        # the leaf's gradient is row-major like the weight (torch's mm backward does the same);
        # otherwise the optimiser's updates would stride through memory.
        if a._data.ndim == 2 and b._data.ndim == 2:  # the MLP case, with direct applies (no re-checks)
            ga = gb = None
            if need_a:
                ga = _t(MatMul.apply(b, _t(g))) if _col_major(a._data) else MatMul.apply(g, _t(b))
            if need_b:
                gb = _t(MatMul.apply(_t(g), a)) if _col_major(b._data) else MatMul.apply(_t(a), g)
            return ga, gb
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a.ndim == 1 and b.ndim > 1 else g
        if b.ndim == 1:  # vector · vector: g is 0-d
            g2 = g2.reshape(1, 1) if a.ndim == 1 else g2.unsqueeze(-1)
        ga = gb = None
        if need_a:  # the engine sums over broadcast batch axes (and the unit axis of a vector a)
            ga = g2 @ b2.mT
        if need_b:
            if b2.ndim == 2 and a2.ndim > 2:
                k, n = a2.shape[-1], g2.shape[-1]
                if b.ndim == 2 and _col_major(b._data):
                    gb = (g2.reshape(-1, n).mT @ a2.reshape(-1, k)).mT
                else:
                    gb = a2.reshape(-1, k).mT @ g2.reshape(-1, n)
            else:
                gb = sum_to(a2.mT @ g2, b2.shape)  # (k, 1) of a vector b: sum first, then drop the unit axis
            gb = gb.reshape(b.shape)
        return ga, gb


def _col_major(arr) -> bool:
    """A 2-D array stored column-major (a transposed view of a row-major one)."""
    return arr.flags.f_contiguous and not arr.flags.c_contiguous


def _t(x: Tensor) -> Tensor:
    return Permute.apply(x, dims=(1, 0))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input._data.dtype != other._data.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got {input.dtype} and {other.dtype} "
                           f"(shapes {tuple(input.shape)} and {tuple(other.shape)}); convert one with .to(dtype)")
    a, b = binary_operands(input, other)
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:  # matrix @ matrix: nothing more to check
        return MatMul.apply(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        sa = "x".join(map(str, a.shape))
        sb = "x".join(map(str, b.shape))
        raise ShapeError(f"matmul: mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if a.ndim > 2 and b.ndim > 2:
        try:
            xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ShapeError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast") from None
    return MatMul.apply(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: both arguments must be 2D, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected two 3D tensors with the same batch size, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise ShapeError(f"dot: 1D tensors of the same size expected, but got shapes {tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input, other)


inner = vdot = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """x yᵀ for vectors x, y."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"outer: expected two vectors, got shapes {tuple(input.shape)} and {tuple(vec2.shape)}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def _parse(equation: str, shapes):
    """Explicit form 'ij,jk->ik' with ellipses replaced by unused letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ShapeError(f"einsum(): {len(ins)} operands in the equation '{equation}' but {len(shapes)} tensors given")
    free = [c for c in string.ascii_letters if c not in eq]
    nell = max((len(s) - (len(t) - 3) for t, s in zip(ins, shapes) if "..." in t), default=0)
    ell = "".join(free[:nell])
    full = []
    for t, s in zip(ins, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[nell - k:] if k else "")
        if len(t) != len(s):
            raise ShapeError(f"einsum(): the subscripts '{t}' do not match an operand of shape {tuple(s)}")
        full.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for t in full:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return full, out


class Einsum(Function):
    saves_inputs = True

    def forward(self, *arrays, ins, out):
        self.ins, self.out = ins, out
        r = xp.einsum(",".join(ins) + "->" + out, *arrays, optimize=len(arrays) > 2)
        if len(arrays) == 1 and xp.may_share_memory(r, arrays[0]):
            r = r.copy()  # NumPy returns a view for a pure transpose or diagonal; the result must own its memory
        return r

    def backward(self, g):
        grads = []
        for i, t in enumerate(self.inputs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            sub = self.ins[i]
            uniq = "".join(dict.fromkeys(sub))  # 'iij' -> 'ij'
            size = {c: t.shape[k] for k, c in enumerate(sub)}
            others = [(s, x) for j, (s, x) in enumerate(zip(self.ins, self.inputs)) if j != i]
            avail = set(self.out).union(*[set(s) for s, _ in others]) if others else set(self.out)
            kept = "".join(c for c in uniq if c in avail)
            eq = ",".join([self.out] + [s for s, _ in others]) + "->" + kept
            gi = einsum(eq, g, *[x for _, x in others])
            if kept != uniq:  # letters summed only in this operand: broadcast back
                gi = gi.reshape([size[c] if c in kept else 1 for c in uniq]).expand([size[c] for c in uniq])
            if uniq != sub:  # a repeated subscript reads a diagonal: the gradient goes back onto it
                used = set("".join(self.ins) + self.out)
                free = [c for c in string.ascii_letters if c not in used]
                target, eye_subs, eyes, seen = "", [], [], set()
                for c in sub:
                    if c in seen:
                        f = free.pop()
                        target += f
                        eye_subs.append(c + f)
                        eyes.append(Tensor._make(xp.eye(size[c], dtype=g.dtype)))
                    else:
                        seen.add(c)
                        target += c
                gi = einsum(",".join([uniq] + eye_subs) + "->" + target, gi, *eyes)
            grads.append(gi)
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (爱因斯坦求和), e.g. einsum('bij,bjk->bik', a, b)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse(equation, [o.shape for o in operands])
    if len({o.dtype for o in operands}) > 1:
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got {', '.join(str(o.dtype) for o in operands)} in '{equation}'")
    dims = {}
    for sub, o in zip(ins, operands):
        for c, n in zip(sub, o.shape):
            if dims.setdefault(c, n) != n and n != 1 and dims[c] != 1:
                raise ShapeError(f"einsum(): operands do not broadcast for subscript '{c}' ({dims[c]} vs {n}) in '{equation}'")
    return Einsum.apply(*operands, ins=ins, out=out)


def _add_scaled(op: str, input: Tensor, product: Tensor, beta, alpha) -> Tensor:
    """β·input + α·product, ``input`` broadcast to the product's shape; β = 0 ignores its values (NaN too),
    as PyTorch (its gradient is 0)."""
    try:
        ok = xp.broadcast_shapes(tuple(input.shape), tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}: the input of shape {tuple(input.shape)} does not broadcast to the product's shape {tuple(product.shape)}")
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out + where(const(True, bool), 0.0, input)
    return out + (input if beta == 1 else input * beta)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·(mat1 @ mat2)."""
    check_same_dtype("addmm", input, mat1, mat2)
    return _add_scaled("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·(batch1 @ batch2), batch by batch."""
    check_same_dtype("baddbmm", input, batch1, batch2)
    return _add_scaled("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """a × b along ``dim`` (size 3; None: the first such dimension, as torch.cross), batch sizes broadcast:
    (a × b)_i = a_{i+1} b_{i+2} − a_{i+2} b_{i+1}, indices mod 3."""
    check_same_dtype("linalg.cross", input, other)
    a, b = input, other
    if a.ndim != b.ndim:
        raise ShapeError(f"linalg.cross: inputs must have the same number of dimensions (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    try:
        shape = xp.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ShapeError(f"linalg.cross: inputs of shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast") from None
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dimension of size 3 in inputs of shapes {tuple(a.shape)} and {tuple(b.shape)}")
    d = wrap_dim(dim, len(shape), "linalg.cross")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise ShapeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {a.shape[d]} and {b.shape[d]}")
    a, b = a.expand(shape), b.expand(shape)
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    return cross(input, other, dim)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """Pairwise distances ‖x1[i] − x2[j]‖_p of the rows of (…, P, M) and (…, R, M) → (…, P, R); the
    gradient at distance 0 is 0 (as PyTorch)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise ValueError(f"cdist only supports non-negative p values, got {p}")
    check_same_dtype("cdist", x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 0 or x1.shape[-1] == 0:  # the count of differing coordinates (0 without coordinates), gradient 0 as PyTorch's
        return diff.abs().sign().sum(-1)
    return vector_norm(diff, p, dim=-1)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Σ over the paired axes: ``dims`` = k (the last k of a with the first k of b) or two lists of axes."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise ValueError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [wrap_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise ShapeError(f"tensordot: contracted dimensions need to match, but first has sizes {[a.shape[i] for i in da]} and "
                         f"second has sizes {[b.shape[j] for j in db]} (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    A = a.permute(fa + da).reshape(math.prod(a.shape[i] for i in fa), k)
    B = b.permute(db + fb).reshape(k, math.prod(b.shape[j] for j in fb))
    return matmul(A, B).reshape([a.shape[i] for i in fa] + [b.shape[j] for j in fb])


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product (克罗内克积): block (i, j) of a ⊗ b is a_ij·b; shapes multiply axis by axis."""
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape([x for s in sa for x in (s, 1)])
    b = other.reshape([x for s in sb for x in (1, s)])
    return (a * b).reshape([x * y for x, y in zip(sa, sb)])


# ---------------------------------------------------------------- the linear layer (fused: one node per layer)


class Linear(Function):
    """y = x Wᵀ + b (全连接层/仿射变换, Zhao §2: z = W a + b in the row layout).

    Backward: ∂x = G W, ∂W = Gᵀ X, ∂b = Σ_rows G, with the batch dimensions folded into rows."""

    def forward(self, x, w, b=None):
        if x.ndim > 2:
            y = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need_x, need_w, need_b = (*self.needs_input_grad, False)[:3]
        gx = gw = gb = None
        if not grad_enabled():  # plain backward: the same formulas on arrays (no graph to record)
            ga = g._data
            if need_x:
                gx = Tensor._make(ga @ w._data)
            g2 = ga.reshape(-1, ga.shape[-1])
            if need_w:
                gw = Tensor._make(g2.T @ x._data.reshape(-1, w.shape[1]))
            if need_b:
                gb = Tensor._make(g2.sum(0))
            return gx, gw, gb
        if need_x:
            gx = g @ w
        g2 = g.reshape(-1, w.shape[0]) if g.ndim != 2 else g
        if need_w:
            gw = g2.mT @ (x.reshape(-1, w.shape[1]) if x.ndim != 2 else x)
        if need_b:
            gb = g2.sum(0)  # the engine sums it to a 0-d bias
        return gx, gw, gb




def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with ``weight`` of shape (out_features, in_features) like torch.

    ``input`` is (*, in_features); the result is (*, out_features)."""
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        rows = "x".join(map(str, (input._data.size // max(input.shape[-1], 1), input.shape[-1]))) if input.ndim else "scalar"
        raise ShapeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows} and {weight.shape[1]}x{weight.shape[0]}); "
            f"input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)} (in_features={weight.shape[1]})"
        )
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), ()):
        raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} does not match out_features={weight.shape[0]}")
    check_same_dtype("linear", input, weight, bias)
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
