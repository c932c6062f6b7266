"""torch.linalg's matrix functions against PyTorch in float64: vector/matrix norms, det, slogdet, inv, solve,
cholesky, qr, svd, eigh — values and gradients, batches, non-contiguous and zero-size inputs, gradcheck and
second derivatives. Singular vectors and eigenvectors are fixed only up to sign, so they are compared
through quantities that do not depend on it (U·U, U diag(w) Vh, V diag(w) Vᵀ)."""

import numpy as np
import pytest
import torch
from torch_compare import check, rand

import shenjing as sj
from shenjing.autograd.gradcheck import gradcheck, gradgradcheck

INF = float("inf")


def spd(rng, *shape):
    """A symmetric positive-definite matrix (batch): B Bᵀ + n I."""
    b = rand(rng, *shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def well_conditioned(rng, *shape):
    return rand(rng, *shape) + 3 * np.eye(shape[-1])


@pytest.mark.parametrize("ord", [2, 1, 0, INF, -INF, 3, 0.5, -1, 1.5])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, True), ((0, 2), False), (-1, False), ((), False)])
def test_vector_norm(ord, dim, keepdim, rng):
    x = rand(rng, 3, 4, 2)
    x[0, 1] = 0.0  # a zero vector and zero entries: the gradient there is 0 (p ≥ 1) as in PyTorch
    check(lambda m, x: m.linalg.vector_norm(x, ord, dim, keepdim), x)
    check(lambda m, x: m.linalg.vector_norm(x, ord=ord, dim=dim, keepdim=keepdim), rand(rng, 3, 4, 2), view="T")


def test_vector_norm_dtype_0d_empty_and_errors(rng):
    check(lambda m, x: (m.linalg.vector_norm(x), m.linalg.vector_norm(x, 3), m.linalg.vector_norm(x, INF)), np.asarray(rand(rng)))
    check(lambda m, x: (m.linalg.vector_norm(x), m.linalg.vector_norm(x, 1, dim=0), m.linalg.vector_norm(x, 0.5, dim=1)), np.zeros((0, 3)))
    check(lambda m, x: m.linalg.vector_norm(x, dtype=m.float64), rand(rng, 3).astype(np.float32), grad=False)
    with pytest.raises(RuntimeError, match="floating point"):
        sj.linalg.vector_norm(sj.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):  # dtype= does not convert an integer input (as PyTorch)
        sj.linalg.vector_norm(sj.tensor([3, 4]), dtype=sj.float32)
    for ord in (INF, -INF, -1, -0.5):  # no identity for the max or a negative order (the last two: property-test finds)
        with pytest.raises(RuntimeError, match="identity"):
            sj.linalg.vector_norm(sj.zeros(0, 3), ord, dim=0)
        with pytest.raises(RuntimeError, match="identity"):
            torch.linalg.vector_norm(torch.zeros(0, 3), ord, dim=0)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, INF, -INF])
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 1), False)])
def test_matrix_norm(ord, dim, keepdim, rng):
    check(lambda m, x: m.linalg.matrix_norm(x, ord, dim, keepdim), rand(rng, 2, 3, 4))
    check(lambda m, x: m.linalg.matrix_norm(x, ord=ord), rand(rng, 3, 4), view="T")


NORMS = {
    "default": lambda m, x: (m.linalg.norm(x), m.linalg.norm(x, dim=1), m.linalg.norm(x, keepdim=True)),
    "vector_ord": lambda m, x: (m.linalg.norm(x[0], 3), m.linalg.norm(x, INF, dim=0), m.linalg.norm(x, 1, (1,))),
    "matrix_ord": lambda m, x: (m.linalg.norm(x, "fro"), m.linalg.norm(x, "nuc"), m.linalg.norm(x, 2), m.linalg.norm(x, -INF, (1, 0))),
    "torch_norm": lambda m, x: (m.norm(x), x.norm(1), x.norm(dim=0), m.norm(x, p=3, dim=1, keepdim=True), x.norm("fro", (0, 1)),
                                x.norm(p="nuc"), m.norm(x, INF)),
}


@pytest.mark.parametrize("name", sorted(NORMS))
def test_norm_forms(name, rng):
    check(NORMS[name], rand(rng, 3, 4))


def test_norm_errors():
    for call in (lambda: sj.linalg.norm(sj.ones(2, 2, 2), 2), lambda: sj.linalg.norm(sj.ones(3), dim=(0, 1, 2)),
                 lambda: sj.linalg.matrix_norm(sj.ones(3, 3), 3), lambda: sj.linalg.matrix_norm(sj.ones(3)),
                 lambda: sj.linalg.matrix_norm(sj.ones(2, 2, dtype=sj.int64), dtype=sj.float32)):
        with pytest.raises(RuntimeError):
            call()


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 0), (0, 2, 2)], ids=str)
def test_det_slogdet_inv(shape, rng):
    a = rand(rng, *shape)
    check(lambda m, x: (m.linalg.det(x), m.det(x), x.det(), m.linalg.slogdet(x), m.slogdet(x)), a, rtol=1e-9)
    check(lambda m, x: (m.linalg.inv(x), m.inverse(x), x.inverse()), well_conditioned(rng, *shape), rtol=1e-9)
    check(lambda m, x: (m.linalg.det(x), m.linalg.inv(x)), well_conditioned(rng, *shape), view="T", rtol=1e-9)


def test_det_of_singular_matrices(rng):
    """The gradient of det at a singular matrix is the adjugate (PyTorch's SVD formula). PyTorch uses that
    formula when building a graph; its plain backward returns 0 when det is exactly 0 (its perturbed LU
    solve of a zero right-hand side), so the reference here is the create_graph one."""
    a = rand(rng, 3, 3)
    a[2] = a[0] - 2 * a[1]
    batch = np.stack([a, well_conditioned(rng, 3, 3), np.zeros((3, 3)), np.diag([2.0, 0.0, 0.0])])
    v = rand(rng, 4)
    x, t = sj.tensor(batch, requires_grad=True), torch.tensor(batch, requires_grad=True)
    (sj.linalg.det(x) * sj.tensor(v)).sum().backward()
    (want,) = torch.autograd.grad((torch.linalg.det(t) * torch.tensor(v)).sum(), t, create_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), want.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert gradcheck(sj.linalg.det, (sj.tensor(a, requires_grad=True),))


SOLVE = [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3, 2)), ((2, 3, 3), (2, 3)), ((3, 3), (2, 3, 1)), ((0, 0), (0, 2)), ((2, 2), (2, 0))]


@pytest.mark.parametrize("sa,sb", SOLVE, ids=str)
def test_solve(sa, sb, rng):
    A, B = well_conditioned(rng, *sa), rand(rng, *sb)
    check(lambda m, a, b: m.linalg.solve(a, b), A, B, rtol=1e-9)
    if len(sb) >= 2 and len(sb) != len(sa) - 1:
        check(lambda m, a, b: m.linalg.solve(a, b.mT, left=False), A, B, rtol=1e-9)
    check(lambda m, a, b: m.linalg.solve(a, b), A, B, view="T", rtol=1e-9)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 0)], ids=str)
def test_cholesky(shape, rng):
    A = spd(rng, *shape)
    check(lambda m, a: (m.linalg.cholesky(a), m.linalg.cholesky(a, upper=True)), A, rtol=1e-9)
    check(lambda m, a: m.linalg.cholesky(a), A, view="T", rtol=1e-9)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 3, 5), (0, 3), (3, 0)], ids=str)
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr(shape, mode, rng):
    differentiable = mode == "reduced" or shape[-2] <= shape[-1]
    check(lambda m, a: m.linalg.qr(a, mode=mode), rand(rng, *shape), grad=differentiable, rtol=1e-9, atol=1e-9)
    check(lambda m, a: m.linalg.qr(a, mode)[1], rand(rng, *shape), view="T", grad=differentiable, rtol=1e-9, atol=1e-9)


def test_qr_r_mode_and_complete_tall_are_not_differentiable(rng):
    check(lambda m, a: m.linalg.qr(a, mode="r"), rand(rng, 4, 3), requires_grad=False, rtol=1e-9, atol=1e-9)
    Q, R = sj.linalg.qr(sj.tensor(rand(rng, 4, 3), requires_grad=True), mode="complete")
    with pytest.raises(RuntimeError, match="not differentiable"):
        (Q.sum() + R.sum()).backward()


def _svd_invariants(m, U, S, Vh, w):
    """Sign-free functions of an SVD: S, U diag(w) Vh, U², Vh² (first k singular vectors)."""
    k = S.shape[-1]
    U, Vh = U[..., :k], Vh[..., :k, :]
    return S, (U * w[:k]) @ Vh, U * U, Vh * Vh


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 2), (1, 1), (0, 3), (2, 0, 0)], ids=str)
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd(shape, full_matrices, rng):
    w = np.linspace(1.0, 2.0, 4)

    def f(m, a):
        U, S, Vh = m.linalg.svd(a, full_matrices=full_matrices)
        return (*_svd_invariants(m, U, S, Vh, m.tensor(w)), m.linalg.svdvals(a))

    check(f, rand(rng, *shape), rtol=1e-8, atol=1e-9)
    check(lambda m, a: m.linalg.svdvals(a), rand(rng, *shape), view="T", rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 0)], ids=str)
@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh(shape, UPLO, rng):
    """The other triangle is ignored (so the input need not be symmetric); the gradient is PyTorch's symmetric one."""
    w = np.linspace(1.0, 2.0, shape[-1])

    def f(m, a):
        L, V = m.linalg.eigh(a, UPLO)
        return L, (V * m.tensor(w)) @ V.mT, V * V, m.linalg.eigvalsh(a, UPLO=UPLO)

    check(f, rand(rng, *shape), rtol=1e-8, atol=1e-9)
    check(lambda m, a: m.linalg.eigh(a)[0], rand(rng, *shape), view="stride" if len(shape) == 3 else "T", rtol=1e-8, atol=1e-9)


def test_spectral_values_at_degenerate_spectra_have_gradients(rng):
    """svdvals and eigvalsh stay differentiable at repeated values (the vectors' gradients would not)."""
    check(lambda m, a: (m.linalg.svdvals(a), m.linalg.eigvalsh(a), m.linalg.matrix_norm(a, 2)), np.eye(3) * 2.0)


def test_gradcheck_and_second_derivatives(rng):
    cases = {
        "det": (sj.linalg.det, rand(rng, 3, 3)),
        "slogdet": (lambda a: sj.linalg.slogdet(a).logabsdet, well_conditioned(rng, 3, 3)),
        "inv": (sj.linalg.inv, well_conditioned(rng, 3, 3)),
        "solve": (lambda a: sj.linalg.solve(a, a[:, :2] ** 2), well_conditioned(rng, 3, 3)),
        "cholesky": (lambda a: sj.linalg.cholesky(a @ a.mT + sj.eye(3, dtype=a.dtype)), rand(rng, 3, 3)),
        "qr": (lambda a: [t * t for t in sj.linalg.qr(a)], rand(rng, 4, 3)),
        "qr_wide": (lambda a: [t * t for t in sj.linalg.qr(a)], rand(rng, 2, 3)),
        "svd": (lambda a: _svd_invariants(sj, *sj.linalg.svd(a, full_matrices=False), sj.tensor([1.0, 2.0, 3.0]))[1:], rand(rng, 4, 3)),
        "svd_wide": (lambda a: _svd_invariants(sj, *sj.linalg.svd(a), sj.tensor([1.0, 2.0]))[1:], rand(rng, 2, 3)),
        "eigh": (lambda a: [t * t for t in sj.linalg.eigh(a + a.mT)], rand(rng, 3, 3)),
        "norms": (lambda a: [sj.linalg.matrix_norm(a, o) for o in ("fro", "nuc", 2, 1)] + [sj.linalg.vector_norm(a, 3)], rand(rng, 3, 4)),
    }
    for name, (f, a) in cases.items():
        x = sj.tensor(a, requires_grad=True)
        assert gradcheck(f, (x,)), name
        assert gradgradcheck(f, (x,)), name


def test_errors_name_the_problem(rng):
    with pytest.raises(sj.linalg.LinAlgError, match="linalg.inv"):
        sj.linalg.inv(sj.ones(3, 3, dtype=sj.float64))
    with pytest.raises(RuntimeError, match="linalg.cholesky"):
        sj.linalg.cholesky(-sj.eye(3))
    with pytest.raises(RuntimeError, match="linalg.solve"):
        sj.linalg.solve(sj.zeros(2, 2), sj.ones(2))
    for m in (sj, torch):  # a vector B is a column: XA = B refuses it (property-test find)
        with pytest.raises(RuntimeError, match="XA = B"):
            m.linalg.solve(m.eye(2, dtype=m.float64), m.ones(2, dtype=m.float64), left=False)
    for call in (lambda: sj.linalg.det(sj.ones(2, 3)), lambda: sj.linalg.inv(sj.ones(3)), lambda: sj.linalg.det(sj.eye(2, dtype=sj.int64)),
                 lambda: sj.linalg.solve(sj.eye(3), sj.ones(4)), lambda: sj.linalg.qr(sj.ones(2, 2), mode="full"),
                 lambda: sj.linalg.solve(sj.eye(3), sj.ones(3, dtype=sj.float64))):
        with pytest.raises((RuntimeError, ValueError)):
            call()
    assert issubclass(sj.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize("p", [2, 1, 0, 3.5, INF, -INF])
def test_dist(p, rng):
    # (p = 0 counts non-zeros: PyTorch's backward of dist fails there, so values only)
    check(lambda m, x, y: (m.dist(x, y, p), x.dist(y, p=p)), rand(rng, 3, 4), rand(rng, 4), grad=p != 0)


def test_linalg_namespace_helpers(rng):
    check(lambda m, a, b: (m.linalg.diagonal(a), m.linalg.diagonal(a, offset=1, dim1=0, dim2=2), m.linalg.vecdot(a, b),
                           m.linalg.vecdot(a, b[0, :, :1], dim=1), m.linalg.matmul(a, b.mT)), rand(rng, 2, 3, 4), rand(rng, 2, 3, 4))
    assert set(sj.linalg.__all__) <= set(dir(torch.linalg)) and sj.linalg.LinAlgError is sj.ops.matrix.LinAlgError
