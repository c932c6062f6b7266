"""Matrix functions of torch.linalg (线性代数): vector and matrix norms, determinant, inverse, linear
solve, and the Cholesky, QR, symmetric-eigen and singular value decompositions, each with PyTorch's
gradient, written with Tensor ops (so it can be differentiated again). Real floating dtypes.

A decomposition with several outputs is one node whose output packs them side by side along the last
axis; the outputs are views of it and backward unpacks their gradients. An output whose gradient is
all zeros (not used) is skipped, as PyTorch skips an undefined one.

Degenerate spectra: the SVD gradient divides by s_j² − s_i², the eigh gradient by λ_j − λ_i; with
repeated singular values or eigenvalues these are 0 and the gradient of U, V (or of the eigenvectors)
is inf/NaN, as in PyTorch — only a loss invariant to the choice of basis of the repeated subspace has
a well-defined gradient there. The values alone (svdvals, eigvalsh, the spectral norms) always have one.
"""

from __future__ import annotations

import math
from collections import namedtuple

from ..autograd.function import Function, ShapeError
from ..autograd.tensor import Tensor, wrap_dim
from ..backend import xp
from .elementwise import check_same_dtype, const, where
from .reduce import vector_norm
from .shape import cat, diag_embed, diagonal

svd_result = namedtuple("linalg_svd", ["U", "S", "Vh"])
qr_result = namedtuple("linalg_qr", ["Q", "R"])
eigh_result = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle: singular, not positive-definite, no convergence (torch.linalg.LinAlgError)."""


def _check(op: str, *tensors: Tensor, square: bool = True) -> None:
    """Floating dtype, at least 2 dimensions, square matrices (if ``square``); errors name ``op``."""
    for A in tensors:
        if A.dtype.kind not in "fc":
            raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {A.dtype} (shape {tuple(A.shape)})")
        if A.ndim < 2:
            raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions (got shape {tuple(A.shape)})")
        if square and A.shape[-1] != A.shape[-2]:
            raise ShapeError(f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices")


def _lapack(op: str, f, *arrays):
    """``f(*arrays)``, NumPy's LinAlgError re-raised as ours, naming ``op`` and the shapes."""
    try:
        return f(*arrays)
    except xp.linalg.LinAlgError as e:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise LinAlgError(f"{op}: {e} (input shapes {shapes})") from None


def _eye(n: int, dtype) -> Tensor:
    return const(xp.eye(n), dtype)


# ---------------------------------------------------------------- several outputs in one node


def _pack(arrays, batch) -> xp.ndarray:
    return xp.concatenate([a.reshape(batch + (math.prod(a.shape[len(batch):]),)) for a in arrays], axis=-1)


def _unpack(t: Tensor, batch, shapes) -> list[Tensor]:
    out, start = [], 0
    for shape in shapes:
        n = math.prod(shape)
        out.append(t[..., start:start + n].reshape(batch + tuple(shape)))
        start += n
    return out


class Packed(Function):
    """A decomposition's outputs packed along the last axis; subclasses give ``decompose`` (arrays),
    ``shapes`` (the outputs' shapes after the batch axes) and ``adjoint(A, outputs, their gradients)``
    (the input's gradient; an unused output's gradient is None)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a, **kw):
        self.kw, self.batch = kw, a.shape[:-2]
        return _pack(self.decompose(a, **kw), self.batch)

    def backward(self, g):
        shape = self.inputs[0].shape
        if 0 in shape:
            return const(xp.zeros(shape), g.dtype)
        shapes = self.shapes(shape, **self.kw)
        grads = [x if x._data.any() else None for x in _unpack(g, self.batch, shapes)]
        if all(x is None for x in grads):
            return None
        return self.adjoint(self.inputs[0], _unpack(self.output, self.batch, shapes), grads, **self.kw)

    @classmethod
    def outputs(cls, A: Tensor, **kw) -> list[Tensor]:
        return _unpack(cls.apply(A, **kw), tuple(A.shape[:-2]), cls.shapes(A.shape, **kw))


class SVD(Packed):
    """A = U diag(S) Vh (奇异值分解). Backward (real case, PyTorch's; Townsend's notes), with
    E_jk = s_k² − s_j² (1 on the diagonal) and skew(X) = X − Xᵀ:
    ∂A = U [(skew(UᵀgU) S + S skew(VhgVᵀ)) / E + diag(gS)] Vh, plus (I − UUᵀ) gU S⁻¹ Vh for m > n
    (U S⁻¹ gVh (I − VᵀV) for m < n)."""

    @staticmethod
    def decompose(a, full_matrices):
        return _lapack("linalg.svd", lambda x: xp.linalg.svd(x, full_matrices=full_matrices), a)

    @staticmethod
    def shapes(shape, full_matrices):
        m, n = shape[-2:]
        k = min(m, n)
        return ((m, m if full_matrices else k), (k,), (n if full_matrices else k, n))

    @staticmethod
    def adjoint(A, outs, grads, full_matrices):
        (U, S, Vh), (gU, gS, gVh) = outs, grads
        m, n = A.shape[-2:]
        k = S.shape[-1]
        if full_matrices:  # only the first k singular vectors take part, as in PyTorch
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = None if gU is None else gU[..., :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        if gU is None and gVh is None:
            return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye(k, S.dtype)
        UhgU = None if gU is None else U.mT @ gU - gU.mT @ U
        VhgV = None if gVh is None else Vh @ gVh.mT - gVh @ Vh.mT
        if VhgV is None:
            ret = UhgU / E * S.unsqueeze(-2)
        elif UhgU is None:
            ret = S.unsqueeze(-1) * (VhgV / E)
        else:
            ret = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
        if gS is not None:
            ret = ret + diag_embed(gS)
        if m > n and gU is not None:
            gUSinv = gU / S.unsqueeze(-2)
            return (U @ ret + gUSinv - U @ (U.mT @ gUSinv)) @ Vh
        if m < n and gVh is not None:
            SinvgVh = gVh / S.unsqueeze(-1)
            return U @ (ret @ Vh + SinvgVh - (SinvgVh @ Vh.mT) @ Vh)
        return U @ (ret @ Vh)


class Eigh(Packed):
    """A = V diag(L) Vᵀ for symmetric A (对称矩阵的特征分解), read from one triangle (``UPLO``).
    Backward (PyTorch's): ∂A = V (diag(gL) + ½(VᵀgV − gVᵀV) / E) Vᵀ, E_ij = λ_j − λ_i (1 on the diagonal)."""

    @staticmethod
    def decompose(a, UPLO):
        return _lapack("linalg.eigh", lambda x: xp.linalg.eigh(x, UPLO=UPLO), a)

    @staticmethod
    def shapes(shape, UPLO):
        n = shape[-1]
        return ((n,), (n, n))

    @staticmethod
    def adjoint(A, outs, grads, UPLO):
        (L, V), (gL, gV) = outs, grads
        if gV is None:
            return (V * gL.unsqueeze(-2)) @ V.mT
        VhgV = V.mT @ gV
        E = L.unsqueeze(-2) - L.unsqueeze(-1) + _eye(L.shape[-1], L.dtype)
        ret = 0.5 * (VhgV - VhgV.mT) / E
        if gL is not None:  # the diagonal of ret is 0: adding writes gL there
            ret = ret + diag_embed(gL)
        return V @ (ret @ V.mT)


class QR(Packed):
    """A = QR (QR 分解), Q with orthonormal columns, R upper triangular. Backward (PyTorch's), with
    M = gR Rᵀ − Qᵀ gQ: for m ≥ n, ∂A = (Q (triu(M) + triu(M)ᵀ − diag(M)) + gQ) R⁻ᵀ; for m < n,
    ∂A = [Q tril(Mᵀ − M) R₁⁻ᵀ, 0] + Q gR with R₁ the leading m×m block."""

    @staticmethod
    def decompose(a, mode):
        return _lapack("linalg.qr", lambda x: xp.linalg.qr(x, mode=mode), a)

    @staticmethod
    def shapes(shape, mode):
        m, n = shape[-2:]
        k = m if mode == "complete" else min(m, n)
        return ((m, k), (k, n))

    @staticmethod
    def adjoint(A, outs, grads, mode):
        (Q, R), (gQ, gR) = outs, grads
        m, n = A.shape[-2:]
        if mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        M = (0 if gR is None else gR @ R.mT) - (0 if gQ is None else Q.mT @ gQ)
        if m >= n:
            X = M.triu()
            gA = Q @ (X + X.mT - diag_embed(diagonal(X, 0, -2, -1)))
            if gQ is not None:
                gA = gA + gQ
            return gA @ inv(R).mT
        gA = Q @ (M.mT - M).tril() @ inv(R[..., :m]).mT
        gA = cat([gA, const(xp.zeros(gA.shape[:-1] + (n - m,)), gA.dtype)], -1)
        return gA if gR is None else gA + Q @ gR


def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; ``full_matrices=False``: the reduced form."""
    _check("linalg.svd", A, square=False)
    return svd_result(*SVD.outputs(A, full_matrices=full_matrices))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values, descending; gradient U diag(gS) Vh, defined for any spectrum."""
    _check("linalg.svdvals", A, square=False)
    return SVD.outputs(A, full_matrices=False)[1]


def eigh(A: Tensor, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix, read from its lower (``UPLO='L'``) or upper triangle."""
    _check("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got '{UPLO}'")
    return eigh_result(*Eigh.outputs(A, UPLO=UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    return eigh(A, UPLO).eigenvalues


def qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = QR; ``mode`` 'reduced' (Q m×k), 'complete' (Q m×m) or 'r' (R only; Q empty, no gradient)."""
    _check("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        R = Tensor._make(_lapack("linalg.qr", lambda x: xp.linalg.qr(x, mode="r"), A._data))
        return qr_result(Tensor._make(xp.zeros((0,), A.dtype)), R)
    return qr_result(*QR.outputs(A, mode=mode))


# ---------------------------------------------------------------- one-output matrix functions


class Cholesky(Function):
    """A = L Lᵀ, L lower triangular (Cholesky 分解), read from A's lower triangle. Backward (PyTorch's):
    Φ = tril(Lᵀ G), ∂A = L⁻ᵀ ½(Φ + tril(Φ, −1)ᵀ) L⁻¹."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return _lapack("linalg.cholesky", xp.linalg.cholesky, a)

    def backward(self, g):
        L = self.output
        phi = (L.mT @ g).tril()
        Linv = inv(L)
        return Linv.mT @ (0.5 * (phi + phi.tril(-1).mT)) @ Linv


class Inv(Function):
    """A⁻¹ (逆矩阵); ∂A = −A⁻ᵀ G A⁻ᵀ."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return _lapack("linalg.inv", xp.linalg.inv, a)

    def backward(self, g):
        y = self.output.mT
        return -(y @ g @ y)


class Solve(Function):
    """X = A⁻¹B (线性方程组), B of shape (…, n, k); ∂B = A⁻ᵀ G, ∂A = −∂B Xᵀ (Giles 2008, §2.3.1)."""

    saves_output = True
    reads = ((0, "out"), (0,))

    def forward(self, a, b):
        return _lapack("linalg.solve", xp.linalg.solve, a, b)

    def backward(self, g):
        A = self.inputs[0]
        gB = Solve.apply(A.mT, g)
        return (-(gB @ self.output.mT) if self.needs_input_grad[0] else None), gB


class Det(Function):
    """det A (行列式); ∂A = g det(A) A⁻ᵀ when A is invertible. For a (numerically) singular A, PyTorch's
    adjugate from the SVD A = U S Vh: ∂A = g det(U) det(Vh) U diag(Π_{j≠i} s_j) Vh."""

    saves_output = True

    def forward(self, a):
        return xp.linalg.det(a)

    def backward(self, g):
        A, d = self.inputs[0], self.output
        if A._data.size == 0:
            return const(xp.zeros(A.shape), g.dtype)
        if (xp.abs(d._data) >= 100 * xp.finfo(A.dtype).eps).all():
            return (g * d).unsqueeze(-1).unsqueeze(-1) * inv(A).mT
        U, S, Vh = svd(A)
        n = S.shape[-1]
        others = where(const(xp.eye(n, dtype=bool), bool), 1.0, S.unsqueeze(-2).expand(*S.shape[:-1], n, n)).prod(-1)
        D = (det(U) * det(Vh) * g).unsqueeze(-1) * others
        return (U * D.unsqueeze(-2)) @ Vh


class SlogDet(Packed):
    """(sign det A, log |det A|); ∂A = g_logabsdet A⁻ᵀ (the sign is piecewise constant: no gradient)."""

    @staticmethod
    def decompose(a):
        return xp.linalg.slogdet(a)

    @staticmethod
    def shapes(shape):
        return ((), ())

    @staticmethod
    def adjoint(A, outs, grads):
        g = grads[1]
        return None if g is None else g.unsqueeze(-1).unsqueeze(-1) * inv(A).mT


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L with A = L Lᵀ (``upper=True``: U = Lᵀ, A = UᵀU) of a symmetric positive-definite A."""
    _check("linalg.cholesky", A)
    L = Cholesky.apply(A)
    return L.mT if upper else L


def inv(A: Tensor) -> Tensor:
    _check("linalg.inv", A)
    return Inv.apply(A)


def det(A: Tensor) -> Tensor:
    _check("linalg.det", A)
    return Det.apply(A)


def slogdet(A: Tensor):
    """(sign, log|det A|): the determinant without overflow; the sign has no gradient."""
    _check("linalg.slogdet", A)
    return slogdet_result(*SlogDet.outputs(A))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with AX = B (``left=False``: XA = B); B a vector (…, n) or matrices (…, n, k), batches broadcast.
    As in PyTorch a vector B is a column (…, n, 1), so ``left=False`` needs matrices (or n = 1)."""
    _check("linalg.solve", A)
    check_same_dtype("linalg.solve", A, B)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    if b.ndim < 2 or (b.shape[-2] if left else b.shape[-1]) != A.shape[-1]:
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
                         f"(A of shape {tuple(A.shape)}, B of shape {tuple(B.shape)})")
    X = Solve.apply(A, b) if left else Solve.apply(A.mT, b.mT).mT
    return X.squeeze(-1) if vector else X


# ---------------------------------------------------------------- norms


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """‖A‖ over the matrix axes ``dim``: 'fro' (√Σa²), 'nuc' (Σ s_i), 2 / −2 (largest / smallest singular
    value), 1 / −1 (max / min column sum of |a|), inf / −inf (max / min row sum)."""
    _check("linalg.matrix_norm", A, square=False)
    if dtype is not None:
        A = A.to(dtype)
    dim = tuple(dim)
    if len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = wrap_dim(dim[0], A.ndim, "linalg.matrix_norm"), wrap_dim(dim[1], A.ndim, "linalg.matrix_norm")
    if d0 == d1:
        raise ShapeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    inf = float("inf")
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        for d in sorted((d0, d1)) if keepdim else ():
            out = out.unsqueeze(d)
        return out
    if ord not in (1, -1, inf, -inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if abs(ord) == inf:
        d0, d1 = d1, d0
    s = A.abs().sum(d0, keepdim=keepdim)
    d1 = d1 - 1 if not keepdim and d0 < d1 else d1
    return s.amax(d1, keepdim=keepdim) if ord > 0 else s.amin(d1, keepdim=keepdim)


def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """torch.linalg.norm: a vector norm, or a matrix norm when ``ord`` is given for 2 dims (or a matrix)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise ShapeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if dim is None and ord is not None and A.ndim not in (1, 2):
        raise ShapeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str) or (ord is not None and (len(dim) == 2 if dim is not None else A.ndim == 2)):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """torch.norm: ‖x‖_p over ``dim`` (all by default) for a number p; 'fro' is the 2-norm, 'nuc' the nuclear norm."""
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        return matrix_norm(input, p, tuple(range(input.ndim)) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)
