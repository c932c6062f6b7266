"""Linear algebra (线性代数): batched matmul, the fused linear layer, einsum, outer and dot products."""

from __future__ import annotations

import string

from ..autograd.function import Function, ShapeError
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from .elementwise import binary_operands, check_same_dtype, sum_to
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
