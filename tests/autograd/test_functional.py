"""autograd.functional: jacobian, hessian, vjp, jvp, hvp against torch.autograd.functional (float64),
and the Hessian top eigenvalue by power iteration against the full Hessian's spectrum."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import shenjing as sj
from shenjing.autograd import functional as F

TOL = {"rtol": 1e-10, "atol": 1e-12}


def f_single(lib, x):
    return (x.tanh() * x.sin()).sum() + (x ** 3).sum() * 0.1


def f_pair(lib, x, w):
    """A scalar of two inputs with cross terms: Σ tanh(x @ wᵀ)²."""
    return ((x @ w.T).tanh() ** 2).sum()


def _pair(rng, *shapes):
    arrs = [rng.standard_normal(s) for s in shapes]
    return [sj.tensor(a) for a in arrs], [torch.tensor(a) for a in arrs]


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().numpy())


def test_jacobian_single(rng):
    (xs,), (xt,) = _pair(rng, (4,))
    fs = lambda x: (x.tanh() * 2.0 + x.exp() * x).reshape(2, 2)  # noqa: E731
    J = F.jacobian(fs, xs)
    Jt = TF.jacobian(fs, xt)
    assert tuple(J.shape) == (2, 2, 4)
    np.testing.assert_allclose(_np(J), _np(Jt), **TOL)


def test_jacobian_tuples(rng):
    xs, xt = _pair(rng, (3,), (3,))

    def f(lib):
        return lambda x, y: ((x * y).tanh() * 2.0 + x.exp(), (x * y.sum()).sin())

    J = F.jacobian(f(sj), tuple(xs))
    Jt = TF.jacobian(f(torch), tuple(xt))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(_np(J[i][j]), _np(Jt[i][j]), **TOL)


def test_jacobian_unused_input_is_zero(rng):
    xs, _ = _pair(rng, (3,), (2,))
    J = F.jacobian(lambda x, y: x * 2.0, tuple(xs))
    assert np.all(_np(J[1]) == 0) and tuple(J[1].shape) == (3, 2)
    with pytest.raises(RuntimeError):
        F.jacobian(lambda x, y: x * 2.0, tuple(xs), strict=True)


def test_hessian_single(rng):
    (xs,), (xt,) = _pair(rng, (5,))
    H = F.hessian(lambda x: f_single(sj, x), xs)
    Ht = TF.hessian(lambda x: f_single(torch, x), xt)
    np.testing.assert_allclose(_np(H), _np(Ht), **TOL)
    np.testing.assert_allclose(_np(H), _np(H).T, **TOL)


def test_hessian_tuple(rng):
    xs, xt = _pair(rng, (3, 2), (4, 2))
    H = F.hessian(lambda x, w: f_pair(sj, x, w), tuple(xs))
    Ht = TF.hessian(lambda x, w: f_pair(torch, x, w), tuple(xt))
    for i in range(2):
        for j in range(2):
            assert tuple(H[i][j].shape) == tuple(Ht[i][j].shape)
            np.testing.assert_allclose(_np(H[i][j]), _np(Ht[i][j]), **TOL)


def test_vjp_jvp_hvp(rng):
    xs, xt = _pair(rng, (3, 2), (4, 2))
    v_out = rng.standard_normal((3, 4))
    v_in = [rng.standard_normal((3, 2)), rng.standard_normal((4, 2))]
    g = lambda x, w: (x @ w.T).tanh() * x.sum()  # noqa: E731

    out, r = F.vjp(g, tuple(xs), sj.tensor(v_out))
    out_t, r_t = TF.vjp(g, tuple(xt), torch.tensor(v_out))
    np.testing.assert_allclose(_np(out), _np(out_t), **TOL)
    for a, b in zip(r, r_t):
        np.testing.assert_allclose(_np(a), _np(b), **TOL)

    out, r = F.jvp(g, tuple(xs), tuple(sj.tensor(v) for v in v_in))
    _, r_t = TF.jvp(g, tuple(xt), tuple(torch.tensor(v) for v in v_in))
    np.testing.assert_allclose(_np(r), _np(r_t), **TOL)

    s = lambda x, w: f_pair(None, x, w)  # noqa: E731
    val, r = F.hvp(s, tuple(xs), tuple(sj.tensor(v) for v in v_in))
    val_t, r_t = TF.hvp(s, tuple(xt), tuple(torch.tensor(v) for v in v_in))
    assert abs(val.item() - val_t.item()) < 1e-12
    for a, b in zip(r, r_t):
        np.testing.assert_allclose(_np(a), _np(b), **TOL)
    # hvp equals the full Hessian applied to v
    H = F.hessian(s, tuple(xs))
    Hv0 = sum(np.tensordot(_np(H[0][j]), v_in[j], axes=2) for j in range(2))
    np.testing.assert_allclose(_np(r[0]), Hv0, **TOL)


def test_create_graph_third_derivative():
    x = sj.tensor([0.3, -0.7], dtype=sj.float64, requires_grad=True)
    _, hv = F.hvp(lambda z: (z ** 4).sum(), x, sj.ones(2, dtype=sj.float64), create_graph=True)
    # Hv = 12 z² ⊙ 1, d/dz Σ Hv = 24 z
    (g,) = sj.autograd.grad(hv.sum(), x)
    np.testing.assert_allclose(g.numpy(), 24 * np.array([0.3, -0.7]), rtol=1e-12)


# ----------------------------------------------------------------- Hessian eigenvalues


def _mlp_data(r):
    x = r.standard_normal((16, 3))
    y = np.sin(x @ np.array([1.0, -2.0, 0.5]))[:, None]
    shapes = [(5, 3), (5,), (1, 5), (1,)]
    params = [r.standard_normal(s) * 0.8 for s in shapes]
    return x, y, params


def _mlp_loss(lib, x, y, W1, b1, W2, b2):
    h = (x @ W1.T + b1).tanh()
    out = h @ W2.T + b2
    return ((out - y) ** 2).mean()


def _torch_hessian_matrix(x, y, params):
    xt, yt = torch.tensor(x), torch.tensor(y)
    ps = tuple(torch.tensor(p) for p in params)
    H = TF.hessian(lambda *q: _mlp_loss(torch, xt, yt, *q), ps)
    sizes = [p.size for p in params]
    n = sum(sizes)
    M = np.zeros((n, n))
    offs = np.cumsum([0] + sizes)
    for i in range(4):
        for j in range(4):
            M[offs[i]:offs[i + 1], offs[j]:offs[j + 1]] = H[i][j].numpy().reshape(sizes[i], sizes[j])
    return M


def test_hessian_top_eigenvalue_small_mlp(rng):
    while True:  # power iteration needs a gap |λ₂| < |λ₁|: draw until the spectrum has one (0.9 converges in < 1000 steps)
        x, y, params = _mlp_data(rng)
        evals = np.linalg.eigvalsh(_torch_hessian_matrix(x, y, params))
        mags = np.sort(np.abs(evals))
        if mags[-2] < 0.9 * mags[-1] and np.sort(evals)[-2] < 0.9 * evals[-1]:
            break
    dominant = evals[np.argmax(np.abs(evals))]

    xs, ys = sj.tensor(x), sj.tensor(y)
    ps = [sj.tensor(p, requires_grad=True) for p in params]
    res = F.hessian_top_eigenvalue(lambda: _mlp_loss(sj, xs, ys, *ps), ps, iters=1000, tol=1e-13,
                                   generator=sj.Generator().manual_seed(int(rng.integers(2**63))))
    lam, vec = res
    assert res.converged
    assert abs(lam - dominant) < 1e-6, (lam, dominant, evals[-3:])
    # the eigenvector: unit norm, H v = λ v
    flat = np.concatenate([v.numpy().ravel() for v in vec])
    assert abs(np.linalg.norm(flat) - 1) < 1e-10
    M = _torch_hessian_matrix(x, y, params)
    np.testing.assert_allclose(M @ flat, lam * flat, atol=1e-5)
    # λ_max variant agrees with the largest algebraic eigenvalue
    lm = F.hessian_lambda_max(lambda: _mlp_loss(sj, xs, ys, *ps), ps, iters=1000, tol=1e-13)
    assert abs(lm.eigenvalue - evals[-1]) < 1e-6


def _quadratic(eigs, r):
    Q, _ = np.linalg.qr(r.standard_normal((len(eigs), len(eigs))))
    A = Q @ np.diag(eigs) @ Q.T
    At = sj.tensor(A)
    theta = sj.tensor(r.standard_normal(len(eigs)), requires_grad=True)
    return (lambda: 0.5 * (theta * (At @ theta)).sum()), [theta]


def test_negative_dominant_eigenvalue(rng):
    eigs = [-5.0, 2.0, 1.0, 0.5]
    loss, params = _quadratic(eigs, rng)
    top = F.hessian_top_eigenvalue(loss, params, iters=500, tol=1e-14)
    assert abs(top.eigenvalue - (-5.0)) < 1e-8  # largest magnitude, with its sign
    assert abs(F.hessian_lambda_max(loss, params, iters=500, tol=1e-14).eigenvalue - 2.0) < 1e-8
    assert abs(F.hessian_lambda_min(loss, params, iters=500, tol=1e-14).eigenvalue - (-5.0)) < 1e-8


def test_positive_dominant_lambda_min(rng):
    loss, params = _quadratic([4.0, 1.0, -1.5, 0.25], rng)
    assert abs(F.hessian_top_eigenvalue(loss, params, iters=500, tol=1e-14).eigenvalue - 4.0) < 1e-8
    assert abs(F.hessian_lambda_max(loss, params, iters=500, tol=1e-14).eigenvalue - 4.0) < 1e-8
    assert abs(F.hessian_lambda_min(loss, params, iters=500, tol=1e-14).eigenvalue - (-1.5)) < 1e-8


def test_eigenvalue_of_linear_loss_is_zero():
    w = sj.tensor([1.0, 2.0], dtype=sj.float64, requires_grad=True)
    res = F.hessian_top_eigenvalue(lambda: (w * 3.0).sum(), [w])
    assert res.eigenvalue == 0.0
