"""Second derivatives and Hessian-vector products against torch.autograd.grad(create_graph=True),
through every op a multilayer perceptron or a CNN uses."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_compare import assert_same, make

import shenjing as sj


def _grad(lib, outputs, inputs, **kw):
    return (sj.autograd.grad if lib is sj else torch.autograd.grad)(outputs, inputs, **kw)


def _pad(m, *args, **kw):
    return (F.pad if m is torch else sj.pad)(*args, **kw)


def hvp_check(fn, *arrays, rtol=1e-9, atol=1e-9):
    """Compare f, ∇f and H·v (and ∇ of ‖∇f‖²) of the scalar ``fn(lib, *xs)`` with PyTorch."""
    vs = [np.random.standard_normal(a.shape) if a.dtype.kind == "f" else None for a in arrays]  # seeded per test (conftest)
    results = {}
    for lib in (sj, torch):
        xs = [make(lib, a)[1] for a in arrays]
        diff = [x for x in xs if getattr(x, "requires_grad", False)]
        f = fn(lib, *xs)
        g = _grad(lib, f, diff, create_graph=True)
        dot = sum((gi * lib.tensor(v)).sum() for gi, v in zip(g, [v for v in vs if v is not None]))
        hv = _grad(lib, dot, diff, retain_graph=True, allow_unused=True)
        sq = sum((gi * gi).sum() for gi in g)
        gg = _grad(lib, sq, diff, allow_unused=True)
        results[lib] = (f, g, hv, gg)
    (fs, gs, hs, ggs), (ft, gt, ht, ggt) = results[sj], results[torch]
    assert_same(fs, ft, rtol, atol, what="value")
    for i, (a, b) in enumerate(zip(gs, gt)):
        assert a.requires_grad == b.requires_grad, f"gradient {i} requires_grad"
        assert_same(a, b, rtol, atol, what=f"gradient {i}")
    for name, ss, tt in (("Hv", hs, ht), ("grad of |grad|^2", ggs, ggt)):
        for i, (a, b) in enumerate(zip(ss, tt)):
            if b is None:
                assert a is None, f"{name} {i}: torch has none, shenjing has one"
            else:
                assert a is not None, f"{name} {i}: shenjing has none"
                assert_same(a, b, rtol, atol, what=f"{name} {i}")


def _loss(m, out):
    """A nonlinear scalar of an op's output, so that every op's backward gets differentiated."""
    return (out * out).sum() * 0.5 + out.sin().sum()


OPS = {
    "matmul": (lambda m, x, w: x @ w, [(4, 3), (3, 5)]),
    "matmul_T": (lambda m, x, w: x @ w.T, [(4, 3), (5, 3)]),
    "matmul_batched": (lambda m, x, w: m.matmul(x, w), [(2, 4, 3), (3, 5)]),
    "matmul_bb": (lambda m, x, w: x @ w, [(2, 4, 3), (1, 3, 5)]),
    "matvec": (lambda m, x, v: x @ v, [(4, 3), (3,)]),
    "vecvec": (lambda m, x, v: (x @ v).reshape(1), [(3,), (3,)]),
    "add_broadcast": (lambda m, x, b: x + b, [(4, 3), (3,)]),
    "mul_broadcast": (lambda m, x, b: x * b, [(4, 3), (4, 1)]),
    "sub_div": (lambda m, x, b: (x - b) / (b * b + 1), [(4, 3), (3,)]),
    "div": (lambda m, x, b: x / (b.abs() + 0.5), [(4, 3), (1, 3)]),
    "relu": (lambda m, x: m.relu(x) * x, [(4, 3)]),
    "tanh": (lambda m, x: m.tanh(x), [(4, 3)]),
    "sigmoid": (lambda m, x: m.sigmoid(x), [(4, 3)]),
    "exp": (lambda m, x: m.exp(x * 0.5), [(4, 3)]),
    "log": (lambda m, x: m.log(x * x + 0.5), [(4, 3)]),
    "log1p_expm1": (lambda m, x: m.log1p(x.abs()) + m.expm1(x * 0.3), [(4, 3)]),
    "sqrt": (lambda m, x: m.sqrt(x * x + 0.5), [(4, 3)]),
    "rsqrt": (lambda m, x: m.rsqrt(x * x + 0.5), [(4, 3)]),
    "pow": (lambda m, x: (x * x + 0.5) ** 1.5 + x**3, [(4, 3)]),
    "pow_tensor": (lambda m, x, e: (x.abs() + 0.5) ** e, [(4, 3), (3,)]),
    "square_reciprocal": (lambda m, x: m.square(x) + m.reciprocal(x * x + 1), [(4, 3)]),
    "trig": (lambda m, x: m.sin(x) * m.cos(x) + m.tan(x * 0.3) + m.atan(x), [(4, 3)]),
    "erf": (lambda m, x: m.erf(x), [(4, 3)]),
    "abs": (lambda m, x: m.abs(x) * x, [(4, 3)]),
    "clamp": (lambda m, x: m.clamp(x, -0.5, 0.5) * x, [(4, 3)]),
    "maximum": (lambda m, x, y: m.maximum(x, y) * x, [(4, 3), (3,)]),
    "minimum": (lambda m, x, y: m.minimum(x, y) * y, [(4, 3), (4, 1)]),
    "where": (lambda m, x, y: m.where(x > 0, x * y, y * y), [(4, 3), (3,)]),
    "softmax": (lambda m, x: m.softmax(x, dim=1), [(4, 3)]),
    "softmax0": (lambda m, x: x.softmax(0), [(4, 3)]),
    "log_softmax": (lambda m, x: m.log_softmax(x, dim=-1), [(4, 3)]),
    "logsumexp": (lambda m, x: m.logsumexp(x, dim=1), [(4, 3)]),
    "logsumexp_all": (lambda m, x: x.logsumexp((0, 1), keepdim=True), [(4, 3)]),
    "sum_mean": (lambda m, x: x.sum(1) * x.mean(0).sum() + x.mean(), [(4, 3)]),
    "sum_keepdim": (lambda m, x: x * x.sum(-1, keepdim=True), [(4, 3)]),
    "var_std": (lambda m, x: x.var(1) + x.std(0).sum() + x.var(correction=0), [(4, 3)]),
    "norm": (lambda m, x: x.norm(dim=1) + x.norm() + x.norm(p=3, dim=0).sum(), [(4, 3)]),
    "max_dim": (lambda m, x: x.max(dim=1).values * x.min(0)[0].sum(), [(4, 3)]),
    "amax": (lambda m, x: x.amax(1) * x.sum(1), [(4, 3)]),
    "prod": (lambda m, x: x.prod(1) + x.prod(), [(3, 3)]),
    "cumsum": (lambda m, x: x.cumsum(1) * x, [(4, 3)]),
    "reshape_transpose": (lambda m, x: x.reshape(3, 4).T * x + x.transpose(0, 1).reshape(4, 3), [(4, 3)]),
    "permute_flatten": (lambda m, x: x.permute(2, 0, 1).flatten(1) * 2, [(2, 3, 4)]),
    "getitem": (lambda m, x: x[1:, ::2] * x[[0, 0, 2]][:, :2], [(4, 3)]),
    "getitem_mask": (lambda m, x: x[x > 0] * 2, [(4, 3)]),
    "expand_unsqueeze": (lambda m, x: x.unsqueeze(0).expand(2, 4, 3) * x, [(4, 3)]),
    "cat_stack": (lambda m, x, y: m.cat([x, y * x], 1) + m.stack([x, y], 0).sum(0).repeat(1, 2), [(4, 3), (4, 3)]),
    "split_chunk": (lambda m, x: x.split(2, 1)[0].sum(1) * x.chunk(2, 0)[1].sum(), [(4, 3)]),
    "pad_constant": (lambda m, x: _pad(m, x, (1, 2, 0, 1)) * 2, [(2, 3, 4)]),
    "pad_reflect": (lambda m, x: _pad(m, x, (2, 1), mode="reflect"), [(2, 3, 4)]),
    "pad_replicate": (lambda m, x: _pad(m, x, (1, 2, 2, 1), mode="replicate"), [(1, 2, 3, 4)]),
    "pad_circular": (lambda m, x: _pad(m, x, (1, 1), mode="circular"), [(2, 3, 4)]),
    "gather": (lambda m, x: x.gather(1, m.tensor(np.array([[0, 0], [2, 1], [1, 1], [0, 2]]))), [(4, 3)]),
    "index_select": (lambda m, x: x.index_select(0, m.tensor(np.array([3, 0, 3]))), [(4, 3)]),
    "scatter_add": (lambda m, x, s: x.scatter_add(0, m.tensor(np.array([[0, 1, 0], [0, 3, 3]])), s * s), [(4, 3), (2, 3)]),
    "masked_fill": (lambda m, x: x.masked_fill(x > 0.5, 0.25) * x, [(4, 3)]),
    "einsum": (lambda m, x, y: m.einsum("ij,kj->ik", x, y) + m.einsum("ij->j", x * x).sum(), [(4, 3), (5, 3)]),
    "outer_dot": (lambda m, x, y: m.outer(x, y) * m.dot(x, x), [(3,), (4,)]),
    "tril_triu_flip_roll": (lambda m, x: x.tril() * x.triu(1).flip(0) + x.roll(1, 1), [(3, 3)]),
    "tile": (lambda m, x: x.tile((2, 1)) * x.repeat(2, 1), [(2, 3)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_second_derivatives(name, rng):
    fn, shapes = OPS[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    hvp_check(lambda m, *xs: _loss(m, fn(m, *xs)), *arrays)


def test_prod_with_zero_second_derivative():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, -2.0, 0.5]])
    hvp_check(lambda m, x: _loss(m, x.prod(1)) + _loss(m, x[:1].prod()) + _loss(m, x.prod(0, keepdim=True)), x)


def test_pow_second_derivative_at_special_exponents():
    x = np.array([0.5, 1.0, 2.0, 3.0])
    hvp_check(lambda m, x: (x**2).sum() + (x**1).sum() + (x**0).sum() + (x**-1).sum(), x)


def _mlp(m, x, w1, b1, w2, b2, y):
    h = m.tanh(x @ w1.T + b1)
    h = m.relu(h @ w2.T + b2)
    logits = h
    logp = m.log_softmax(logits, dim=1)
    return -logp.gather(1, y.unsqueeze(1)).mean() + 1e-3 * (w1 * w1).sum()


def test_mlp_hessian_vector_product(rng):
    x = rng.standard_normal((6, 4))
    w1, b1 = rng.standard_normal((5, 4)), rng.standard_normal(5)
    w2, b2 = rng.standard_normal((3, 5)), rng.standard_normal(3)
    y = rng.integers(0, 3, 6)
    hvp_check(_mlp, x, w1, b1, w2, b2, y)


def _cnn(m, img, k, w):
    """A tiny CNN from core ops: pad, shifted slices stacked (im2col), einsum, ReLU, max-pool, linear."""
    n, c, hh, ww = img.shape
    p = _pad(m, img, (1, 1, 1, 1))
    cols = m.stack([p[:, :, i:i + hh, j:j + ww] for i in range(3) for j in range(3)], 2)  # n,c,9,h,w
    conv = m.einsum("nckhw,ock->nohw", cols, k.reshape(2, c, 9))
    a = m.sigmoid(conv) * conv  # SiLU
    pooled = a.reshape(n, 2, hh // 2, 2, ww // 2, 2).amax(dim=(3, 5))
    feat = pooled.flatten(1)
    out = feat @ w
    return m.logsumexp(out, dim=1).mean() + out.var()


def test_cnn_hessian_vector_product(rng):
    img = rng.standard_normal((2, 3, 4, 4))
    k = rng.standard_normal((2, 3, 3, 3)) * 0.5
    w = rng.standard_normal((8, 3)) * 0.5
    hvp_check(_cnn, img, k, w)


def test_grad_of_grad_scalar_chain():
    """d²/dx² of x·sin(x)·exp(x) at several points, and a third derivative."""
    for v in (-1.3, 0.2, 2.0):
        xs = sj.tensor(v, dtype=sj.float64, requires_grad=True)
        xt = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        outs = []
        for lib, x in ((sj, xs), (torch, xt)):
            f = x * lib.sin(x) * lib.exp(x)
            (d1,) = _grad(lib, f, x, create_graph=True)
            (d2,) = _grad(lib, d1, x, create_graph=True)
            (d3,) = _grad(lib, d2, x)
            outs.append((d1, d2, d3))
        for a, b in zip(*outs):
            assert_same(a, b, 1e-10, 1e-10)


def test_double_backward_via_backward_create_graph(rng):
    x = rng.standard_normal(5)
    xs, xt = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for t, lib in ((xs, sj), (xt, torch)):
        (lib.tanh(t) ** 2).sum().backward(create_graph=True)
        g = t.grad
        t.grad = None
        (g * g).sum().backward()
    assert_same(xs.grad, xt.grad)


def test_gradgradcheck_of_some_ops(rng):
    x = sj.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    w = sj.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert sj.autograd.gradgradcheck(lambda x, w: (x @ w).tanh().softmax(1), (x, w))
    assert sj.autograd.gradgradcheck(lambda x: x.log_softmax(0) * x.sigmoid(), (x,))
