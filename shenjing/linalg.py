"""shenjing.linalg (as torch.linalg): norms, determinant, inverse, solve and the Cholesky, QR, symmetric
eigen- and singular value decompositions, with gradients (see shenjing.ops.matrix for the formulas)."""

from __future__ import annotations

from .ops.linalg import linalg_cross as cross
from .ops.linalg import matmul
from .ops.matrix import (
    LinAlgError,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_norm,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)
from .ops.matrix import linalg_norm as norm
from .ops.reduce import vector_norm
from .ops.shape import diagonal as _diagonal

__all__ = [
    "LinAlgError", "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "norm", "qr",
    "slogdet", "solve", "svd", "svdvals", "vector_norm", "vecdot",
]


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The ``offset`` diagonal of the matrices of A (torch.linalg.diagonal: the last two dims by default)."""
    return _diagonal(A, offset, dim1, dim2)


def vecdot(x, y, *, dim: int = -1):
    """Σ x·y along ``dim``, batches broadcast."""
    return (x * y).sum(dim)
