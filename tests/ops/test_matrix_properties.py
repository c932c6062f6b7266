"""Property tests (hypothesis) of shenjing.linalg against PyTorch: norms over random dims and orders, and
det/slogdet/inv/solve/cholesky/qr/svd/eigh on random batches (zero-size included) of float64/float32
matrices, contiguous or not (see tests/properties.py). The matrices are built with a known, well separated
spectrum, so that values and gradients are well conditioned; singular vectors and eigenvectors are
compared through sign-free quantities."""

import numpy as np
from hypothesis import strategies as st
from properties import FLOATS, LAYOUTS, array, budgets, compare, shapes, two_dims

INF = float("inf")
# decompositions lose a few digits more than elementwise ops
MATRIX_TOL = {np.dtype(np.float64): (1e-7, 1e-8), np.dtype(np.float32): (2e-3, 2e-4)}


def _orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal((*batch, n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _matrix(draw, batch, m, n, dtype, symmetric=False):
    """U diag(s) Vᵀ with singular values (or eigenvalues) spread over [1, 3] and at least 0.4 apart."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = min(m, n)
    s = 1.0 + 0.5 * np.arange(k)[::-1] + 0.1 * rng.random(k)
    if symmetric:
        s = s * rng.choice([-1.0, 1.0], k)  # eigenvalues of both signs
        u = _orthogonal(rng, batch, n)
        return np.asarray((u * s) @ np.swapaxes(u, -1, -2), dtype=dtype)
    u, v = _orthogonal(rng, batch, m)[..., :k], _orthogonal(rng, batch, n)[..., :k]
    return np.asarray((u * s) @ np.swapaxes(v, -1, -2), dtype=dtype)


def _check(draw, fn, *arrays, **kw):
    return compare(draw, fn, *arrays, tol=MATRIX_TOL[arrays[0].dtype], **kw)


def _vector_norm(data):
    d = data.draw
    x = array(d, d(shapes(0, 3)), d(FLOATS))
    ord = d(st.sampled_from([2, 1, 0, INF, -INF, 3, 0.5, -1, 1.5]))
    dim = d(st.one_of(st.none(), st.lists(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1), max_size=x.ndim, unique_by=lambda i: i % max(x.ndim, 1))
                      .map(tuple)))
    keepdim = d(st.booleans())
    axes = range(x.ndim) if not dim else [a % x.ndim for a in dim]
    if (ord < 0 or ord == INF) and (x.size == 0 and (not dim or 0 in [x.shape[a] for a in axes])):
        return  # no identity: both refuse (tested in test_matrix.py)
    compare(d, lambda m, x: m.linalg.vector_norm(x, ord, dim, keepdim), x, view=d(LAYOUTS))


def _matrix_norm(data):
    d = data.draw
    x = _matrix(d, d(shapes(0, 2, 1, 3)), d(st.integers(1, 4)), d(st.integers(1, 4)), d(FLOATS))
    ord = d(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, INF, -INF]))
    dims = two_dims(d, x.ndim)
    x = np.moveaxis(x, (-2, -1), dims)  # the well-conditioned matrices along the chosen dims
    keepdim = d(st.booleans())
    _check(d, lambda m, x: m.linalg.matrix_norm(x, ord, dims, keepdim), x, view=d(LAYOUTS))


def _square(data):
    d = data.draw
    dtype, batch, n = d(FLOATS), d(shapes(0, 2, 0, 3)), d(st.integers(0, 4))
    a = _matrix(d, batch, n, n, dtype)
    layout = d(LAYOUTS)
    _check(d, lambda m, a: (m.linalg.det(a), m.linalg.slogdet(a), m.linalg.inv(a)), a, view=layout)
    k = d(st.one_of(st.none(), st.integers(0, 3)))
    b = array(d, (*batch, n) if k is None else (*batch, n, k), dtype)
    left = k is None or d(st.booleans())  # (a vector B is a column: left=False needs a matrix)
    _check(d, lambda m, a, b: m.linalg.solve(a, b if left else b.mT, left=left), a, b, view=layout)
    spd = _matrix(d, batch, n, n, dtype, symmetric=True)
    spd = np.asarray(spd @ np.swapaxes(spd, -1, -2), dtype=dtype)
    upper = d(st.booleans())
    _check(d, lambda m, a: m.linalg.cholesky(a, upper=upper), spd, view=layout)


def _qr(data):
    d = data.draw
    batch, m, n = d(shapes(0, 2, 0, 3)), d(st.integers(0, 4)), d(st.integers(0, 4))
    a = _matrix(d, batch, m, n, d(FLOATS))
    mode = d(st.sampled_from(["reduced", "complete"]))
    _check(d, lambda lib, a: lib.linalg.qr(a, mode), a, view=d(LAYOUTS), grad=mode == "reduced" or m <= n)


def _svd(data):
    d = data.draw
    batch, m, n = d(shapes(0, 2, 0, 3)), d(st.integers(0, 4)), d(st.integers(0, 4))
    a = _matrix(d, batch, m, n, d(FLOATS))
    full = d(st.booleans())
    w = np.linspace(1.0, 2.0, min(m, n))

    def f(lib, a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=full)
        k = S.shape[-1]
        U, Vh = U[..., :k], Vh[..., :k, :]
        return S, (U * lib.tensor(w, dtype=a.dtype)) @ Vh, U * U, Vh * Vh, lib.linalg.svdvals(a)

    _check(d, f, a, view=d(LAYOUTS))


def _eigh(data):
    d = data.draw
    batch, n = d(shapes(0, 2, 0, 3)), d(st.integers(0, 4))
    a = _matrix(d, batch, n, n, d(FLOATS), symmetric=True)
    uplo = d(st.sampled_from(["L", "U"]))
    w = np.linspace(1.0, 2.0, n)

    def f(lib, a):
        L, V = lib.linalg.eigh(a, uplo)
        return L, (V * lib.tensor(w, dtype=a.dtype)) @ V.mT, V * V, lib.linalg.eigvalsh(a, uplo)

    _check(d, f, a, view=d(LAYOUTS))


test_vector_norm, test_vector_norm_long = budgets(_vector_norm, st.data())
test_matrix_norm, test_matrix_norm_long = budgets(_matrix_norm, st.data())
test_square, test_square_long = budgets(_square, st.data())
test_qr, test_qr_long = budgets(_qr, st.data())
test_svd, test_svd_long = budgets(_svd, st.data())
test_eigh, test_eigh_long = budgets(_eigh, st.data())
