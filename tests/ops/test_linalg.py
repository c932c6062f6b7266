"""Linear algebra against PyTorch in float64: matmul in every 1-D/2-D/batched case, einsum, outer, dot."""

import numpy as np
import pytest
import torch
from torch_compare import check, rand

import shenjing as sj

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((1, 2, 3), (6, 3, 4)),
    ((0, 3), (3, 4)),
    ((2, 0), (0, 4)),
    ((1, 3), (3, 1)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, rng):
    a, b = rand(rng, *shapes[0]), rand(rng, *shapes[1])
    check(lambda m, x, y: (m.matmul(x, y), x @ y), a, b)


@pytest.mark.parametrize("shapes", [((4, 3), (3, 5)), ((2, 4, 3), (3, 5)), ((2, 4, 3), (2, 3, 5))], ids=str)
@pytest.mark.parametrize("view", ["T", "stride"])
def test_matmul_noncontiguous(shapes, view, rng):
    a, b = rand(rng, *shapes[0]), rand(rng, *shapes[1])
    check(lambda m, x, y: x @ y, a, b, view=view)


def test_matmul_transposed_operands(rng):
    x, w = rand(rng, 5, 4), rand(rng, 3, 4)
    check(lambda m, x, w: (x @ w.T, w @ x.T, x.T @ x, (w.T).T @ x.T), x, w)
    check(lambda m, x, w: m.matmul(x.reshape(5, 1, 4), w.T), x, w)


def test_matmul_with_constant_and_rmatmul(rng):
    a, b = rand(rng, 3, 4), rand(rng, 4, 2)
    check(lambda m, x: x @ m.tensor(b), a)
    check(lambda m, y: m.tensor(a) @ y, b)
    s = sj.tensor(a)
    r = b.T @ s.T  # ndarray @ Tensor defers to Tensor.__rmatmul__
    assert isinstance(r, sj.Tensor)
    np.testing.assert_allclose(r.numpy(), b.T @ a.T)


def test_mm_bmm_mv_dot_outer_inner(rng):
    a, b, v, w = rand(rng, 3, 4), rand(rng, 4, 5), rand(rng, 4), rand(rng, 4)
    check(lambda m, x, y, v, w: (m.mm(x, y), x.mm(y), m.mv(x, v), x.mv(w), m.dot(v, w), v.dot(w), m.outer(v, w),
                                 v.outer(w), m.inner(v, w)), a, b, v, w)
    p, q = rand(rng, 2, 3, 4), rand(rng, 2, 4, 5)
    check(lambda m, x, y: (m.bmm(x, y), x.bmm(y)), p, q)


def test_matmul_integer_and_mixed(rng):
    a, b = rng.integers(-3, 4, (2, 3)), rng.integers(-3, 4, (3, 2))
    check(lambda m, x, y: x @ y, a, b, grad=False)
    check(lambda m, x, y: x.double() @ y, rand(rng, 2, 3), b.astype(np.float64))


def test_matmul_float32(rng):
    a, b = rand(rng, 8, 16).astype(np.float32), rand(rng, 16, 4).astype(np.float32)
    check(lambda m, x, y: x @ y, a, b, rtol=1e-5, atol=1e-5)


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 5, 2, 3), (5, 3, 4)]),
    ("...i,...i->...", [(2, 3, 4), (4,)]),
    ("i...->...", [(3, 2, 4)]),
    ("bi,bj,bk->ijk", [(5, 2), (5, 3), (5, 4)]),
    ("ij,kl->ijkl", [(2, 3), (4, 5)]),
    ("ijk,jl->il", [(2, 3, 4), (3, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("i,i,i->", [(4,), (4,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij, jk -> ik", [(2, 3), (3, 4)]),
    ("ba,ca", [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum(eq, shapes, rng):
    arrays = [rand(rng, *s) for s in shapes]
    check(lambda m, *xs: m.einsum(eq, *xs), *arrays)


def test_einsum_list_operands_broadcast_and_views(rng):
    a, b = rand(rng, 3, 4), rand(rng, 4, 5)
    check(lambda m, x, y: m.einsum("ij,jk->ik", [x, y]), a, b)
    check(lambda m, x, y: m.einsum("ij,jk->ik", x, y), a, b, view="T")
    check(lambda m, x, y: m.einsum("bij,bjk->bik", x, y), rand(rng, 1, 3, 4), rand(rng, 6, 4, 5))


def test_einsum_diagonal_and_trace(rng):
    a = rand(rng, 4, 4)
    check(lambda m, x: (m.einsum("ii->i", x), m.einsum("ii", x), m.einsum("ii->", x)), a)
    check(lambda m, x, v: (m.einsum("ii,i->i", x, v), m.einsum("ij,ii->j", x, x)), a, rand(rng, 4))
    check(lambda m, x: m.einsum("iij->ij", x), rand(rng, 3, 3, 2))


def test_matmul_errors(rng):
    with pytest.raises((ValueError, RuntimeError)):
        sj.tensor(rand(rng, 2, 3)) @ sj.tensor(rand(rng, 2, 3))
    with pytest.raises((ValueError, RuntimeError)):
        sj.tensor(rand(rng, 2, 2, 3)) @ sj.tensor(rand(rng, 3, 3, 4))
    with pytest.raises((ValueError, RuntimeError)):
        sj.dot(sj.tensor(rand(rng, 3)), sj.tensor(rand(rng, 4)))
    with pytest.raises((ValueError, RuntimeError)):
        sj.einsum("ij,jk->ik", sj.tensor(rand(rng, 2, 3)), sj.tensor(rand(rng, 4, 5)))
    with pytest.raises((ValueError, RuntimeError)):
        sj.tensor(2.0) @ sj.tensor(rand(rng, 2))
    with pytest.raises((ValueError, RuntimeError)):
        torch.tensor(2.0) @ torch.tensor(rand(rng, 2))


@pytest.mark.parametrize("op", ["matmul", "mm", "bmm", "dot", "einsum"])
def test_mixed_float_dtypes_are_refused_like_pytorch(op):
    """float32 @ float64 is an error in PyTorch, not a silent promotion to float64."""
    shapes = {"matmul": ((2, 3), (3, 4)), "mm": ((2, 3), (3, 4)), "bmm": ((2, 2, 3), (2, 3, 4)), "dot": ((3,), (3,)),
              "einsum": ((2, 3), (3, 4))}[op]
    for lib in (sj, torch):
        a, b = lib.ones(*shapes[0], dtype=lib.float32), lib.ones(*shapes[1], dtype=lib.float64)
        with pytest.raises(RuntimeError):
            lib.einsum("ij,jk->ik", a, b) if op == "einsum" else getattr(lib, op)(a, b)


# ---------------------------------------------------------------- cross, cdist, tensordot, kron, addmm, baddbmm (issue 13)


def test_cross(rng):
    a, b = rand(rng, 2, 3, 4), rand(rng, 2, 3, 4)
    check(lambda m, x, y: (m.cross(x, y, dim=1), x.cross(y, 1), m.linalg.cross(x.transpose(1, 2), y.transpose(1, 2)),
                           m.linalg.cross(x, y, dim=-2)), a, b)
    check(lambda m, x, y: m.linalg.cross(x, y), rand(rng, 4, 3), rand(rng, 1, 3))  # batch sizes broadcast
    check(lambda m, x, y: m.cross(x, y, dim=0), rand(rng, 3, 2), rand(rng, 3, 2), view="T")
    check(lambda m, x, y: m.linalg.cross(x, y), np.zeros((0, 3)), rand(rng, 1, 3))
    with pytest.raises(RuntimeError):
        sj.linalg.cross(sj.ones(2, 4), sj.ones(2, 4))
    for a, b in [(sj.ones(2, 1), sj.ones(2, 3)), (sj.ones(2, 3), sj.ones(3))]:
        with pytest.raises(RuntimeError):
            sj.linalg.cross(a, b)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, 0.0, float("inf")])
def test_cdist(p, rng):
    x1, x2 = rand(rng, 2, 4, 3), rand(rng, 2, 5, 3)
    check(lambda m, a, b: m.cdist(a, b, p=p), x1, x2)
    check(lambda m, a, b: m.cdist(a, b, p), x1[0], x2[:, :2], view="T")
    same = x1[0].copy()
    check(lambda m, a, b: m.cdist(a, b, p=p), same, np.concatenate([same[:2], x2[0]]))  # zero distances: gradient 0


def test_cdist_empty_and_errors(rng):
    check(lambda m, a, b: m.cdist(a, b), np.zeros((0, 3)), rand(rng, 4, 3))
    check(lambda m, a, b: (m.cdist(a, b), m.cdist(a, b, float("inf")), m.cdist(a, b, 0.5)), rand(rng, 2, 0), rand(rng, 4, 0))  # (property-test find)
    for a, b in [(sj.ones(3), sj.ones(2, 3)), (sj.ones(2, 3), sj.ones(2, 4))]:
        with pytest.raises(RuntimeError):
            sj.cdist(a, b)


TENSORDOT = [
    ((3, 4, 5), (4, 5, 6), 2),
    ((3, 4, 5), (5, 6), 1),
    ((3, 4), (5, 6), 0),
    ((3, 4, 5), (4, 3, 2), ([0, 1], [1, 0])),
    ((3, 4, 5), (5, 3), ((2, 0), (0, 1))),
    ((3, 0), (0, 2), 1),
    ((2, 3), (2, 3), ([0, -1], [0, 1])),
]


@pytest.mark.parametrize("sa,sb,dims", TENSORDOT, ids=str)
def test_tensordot(sa, sb, dims, rng):
    check(lambda m, a, b: m.tensordot(a, b, dims=dims), rand(rng, *sa), rand(rng, *sb))
    check(lambda m, a, b: m.tensordot(a, b, dims), rand(rng, *sa), rand(rng, *sb), view="T")


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 5)), ((3,), (2, 2)), ((2, 1, 3), (3, 2)), ((), (3,)), ((0, 2), (3, 1))], ids=str)
def test_kron(sa, sb, rng):
    check(lambda m, a, b: (m.kron(a, b), b.kron(a)), rand(rng, *sa), rand(rng, *sb))
    check(lambda m, a, b: m.kron(a, b), np.arange(6).reshape(2, 3), np.array([[1, -1]]), grad=False)


def test_addmm_baddbmm(rng):
    inp, a, b = rand(rng, 4, 5), rand(rng, 4, 3), rand(rng, 3, 5)
    check(lambda m, i, x, y: (m.addmm(i, x, y), i.addmm(x, y, beta=0.5, alpha=-2), m.addmm(i[0], x, y, alpha=3), m.addmm(i[:, :1], x, y, beta=0)),
          inp, a, b)
    check(lambda m, i, x, y: m.addmm(i, x, y), inp, a, b, view="T")
    check(lambda m, i, x, y: (m.baddbmm(i, x, y), i.baddbmm(x, y, beta=2, alpha=0.5), m.baddbmm(i[0], x, y, beta=0)),
          rand(rng, 2, 4, 5), rand(rng, 2, 4, 3), rand(rng, 2, 3, 5))
    check(lambda m, i, x, y: (i.clone().addmm_(x, y, alpha=2), i.clone().unsqueeze(0).baddbmm_(x.unsqueeze(0), y.unsqueeze(0))), inp, a, b)


def test_addmm_beta_zero_ignores_nan(rng):
    inp = np.full((2, 2), np.nan)
    check(lambda m, i, x, y: m.addmm(i, x, y, beta=0), inp, rand(rng, 2, 3), rand(rng, 3, 2))
    with pytest.raises(RuntimeError):
        sj.addmm(sj.ones(3, 4, 5), sj.ones(4, 3), sj.ones(3, 5))


def test_products_gradcheck(rng):
    from shenjing.autograd.gradcheck import gradcheck, gradgradcheck

    a, b = sj.tensor(rand(rng, 3, 3), requires_grad=True), sj.tensor(rand(rng, 3, 3), requires_grad=True)
    for f in (lambda a, b: sj.linalg.cross(a, b), lambda a, b: sj.cdist(a, b), lambda a, b: sj.cdist(a, b, 1.5),
              lambda a, b: sj.tensordot(a, b, 1), lambda a, b: sj.kron(a, b), lambda a, b: sj.addmm(a, a, b, beta=0.5, alpha=2)):
        assert gradcheck(f, (a, b))
        assert gradgradcheck(f, (a, b))


def test_products_refuse_mixed_dtypes():
    """As PyTorch (found by comparing edge cases): no promotion inside these products."""
    a, b = sj.ones(3), sj.ones(3, dtype=sj.float64)
    for call in (lambda: sj.linalg.cross(a, b), lambda: sj.addmm(sj.ones(2, 2), b.reshape(3, 1)[:2], b.reshape(1, 3)[:, :2]),
                 lambda: sj.baddbmm(sj.ones(1, 2, 2), sj.ones(1, 2, 2, dtype=sj.float64), sj.ones(1, 2, 2, dtype=sj.float64))):
        with pytest.raises(RuntimeError):
            call()
