"""scaled_dot_product_attention against torch (float64, forward and backward): no mask, boolean
and additive masks, causal, broadcast shapes, custom scale, grouped-query; dropout statistics,
second derivatives, attention weights and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import Const, check, rand

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.ops.attention import causal_mask


def sdpa(lib, q, k, v, *args, **kw):
    f = TF.scaled_dot_product_attention if lib is torch else F.scaled_dot_product_attention
    return f(q, k, v, *args, **kw)


SHAPES = [
    ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)),  # (N, H, L, E), S != L, Ev != E
    ((4, 8), (5, 8), (5, 6)),  # unbatched
    ((2, 3, 4, 8), (1, 3, 5, 8), (1, 3, 5, 8)),  # key/value broadcast over the batch
    ((2, 1, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)),  # query broadcast over heads
    ((2, 5, 8), (2, 5, 8), (2, 5, 8)),  # 3-D, L == S
]


@pytest.mark.parametrize("shapes", SHAPES)
def test_no_mask(rng, shapes):
    check(lambda lib, q, k, v: sdpa(lib, q, k, v), *[rand(rng, *s) for s in shapes])


@pytest.mark.parametrize("shapes", SHAPES)
def test_scale(rng, shapes):
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, scale=0.37), *[rand(rng, *s) for s in shapes])


@pytest.mark.parametrize("mshape", [(4, 5), (2, 1, 4, 5), (3, 4, 5), (2, 3, 4, 5), (1, 5)])
def test_bool_mask(rng, mshape):
    mask = rng.random(mshape) < 0.7
    mask[..., 0] = True  # every query sees a key
    check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), rand(rng, 2, 3, 4, 8), rand(rng, 2, 3, 5, 8),
          rand(rng, 2, 3, 5, 6), mask)


def test_bool_mask_row_without_keys_gives_zeros(rng):
    mask = rng.random((4, 5)) < 0.7
    mask[1] = False
    out, _ = check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), rand(rng, 2, 3, 4, 8),
                   rand(rng, 2, 3, 5, 8), rand(rng, 2, 3, 5, 6), mask)
    assert np.all(out.detach().numpy()[:, :, 1] == 0)


@pytest.mark.parametrize("mshape", [(4, 5), (2, 1, 4, 5), (3, 1, 5), (2, 3, 4, 5)])
def test_float_mask_with_gradient(rng, mshape):
    """An additive mask is added to the scores; its gradient is ∂S summed to its shape."""
    check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), rand(rng, 2, 3, 4, 8), rand(rng, 2, 3, 5, 8),
          rand(rng, 2, 3, 5, 6), rand(rng, *mshape))


def test_float_mask_with_minus_inf(rng):
    m = rand(rng, 4, 5)
    m[0, 1:] = -np.inf
    m[2] = -np.inf  # a row without keys: zeros, as torch
    check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), rand(rng, 2, 3, 4, 8), rand(rng, 2, 3, 5, 8),
          rand(rng, 2, 3, 5, 6), Const(m))


@pytest.mark.parametrize("L,S", [(5, 5), (4, 6), (6, 4)])
def test_causal(rng, L, S):
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), rand(rng, 2, 3, L, 8), rand(rng, 2, 3, S, 8),
          rand(rng, 2, 3, S, 6))


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.5}])
def test_dropout_p_zero(rng, kw):
    """dropout_p=0 (what eval mode passes) is the plain attention, also with a mask or a custom scale."""
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, dropout_p=0.0, **kw), rand(rng, 2, 3, 4, 8), rand(rng, 2, 3, 4, 8),
          rand(rng, 2, 3, 4, 6))
    mask = rng.random((4, 4)) < 0.7
    mask[:, 0] = True
    if not kw.get("is_causal"):
        check(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m, dropout_p=0.0, **kw), rand(rng, 2, 4, 8),
              rand(rng, 2, 4, 8), rand(rng, 2, 4, 6), mask)


@pytest.mark.parametrize("L,S", [(5, 5), (4, 6)])
def test_causal_mask_is_torch_is_causal(rng, L, S):
    """attn_mask=causal_mask(L, S) gives PyTorch's is_causal=True (values and gradients)."""
    np.testing.assert_array_equal(causal_mask(L, S).numpy(), np.tril(np.ones((L, S), bool)))
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, attn_mask=causal_mask(L, S)) if lib is sj else sdpa(lib, q, k, v, is_causal=True),
          rand(rng, 2, L, 4), rand(rng, 2, S, 4), rand(rng, 2, S, 4))


def test_gqa(rng):
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, enable_gqa=True), rand(rng, 2, 4, 3, 8), rand(rng, 2, 2, 5, 8),
          rand(rng, 2, 2, 5, 8))


def test_return_weights(rng):
    q, k, v = (sj.tensor(rand(rng, 2, 3, 4, 8)) for _ in range(3))
    m = sj.tensor(rng.random((4, 4)) < 0.8)
    out, w = F.scaled_dot_product_attention(q, k, v, attn_mask=m, return_weights=True)
    s = q.numpy() @ np.swapaxes(k.numpy(), -1, -2) / np.sqrt(8) + np.where(m.numpy(), 0, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p = np.nan_to_num(p / p.sum(-1, keepdims=True))
    np.testing.assert_allclose(w.numpy(), p, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.numpy(), p @ v.numpy(), rtol=1e-12, atol=1e-14)
    assert not w.requires_grad


def test_float32(rng):
    q, k, v = (rand(rng, 2, 3, 6, 8).astype(np.float32) for _ in range(3))
    check(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), q, k, v, rtol=1e-5, atol=1e-6)


def test_second_derivative(rng):
    """The backward is made of Tensor ops: gradcheck of the gradient (double backward)."""
    q, k, v = (sj.tensor(rand(rng, 2, 3, 4), requires_grad=True) for _ in range(3))
    m = sj.tensor(rand(rng, 3, 3), requires_grad=True)
    kp = sj.tensor(rng.random((3, 3)) < 0.7)

    def f(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m) ** 2

    def fb(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=kp) ** 2

    assert sj.autograd.gradcheck(f, (q, k, v, m))
    assert sj.autograd.gradgradcheck(f, (q, k, v, m))
    assert sj.autograd.gradgradcheck(fb, (q, k, v))
    kp = sj.tensor(np.array([[True, False, True], [False, False, False], [True, True, False]]))  # a row with no key
    assert sj.autograd.gradgradcheck(fb, (q, k, v))
    # double backward against torch: ∂/∂x of Σ (∂L/∂q)²
    arrs = [rand(rng, 2, 3, 4) for _ in range(3)]
    res = []
    for lib in (sj, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrs]
        out = sdpa(lib, *ts, is_causal=True)
        (gq,) = (torch.autograd.grad if lib is torch else sj.autograd.grad)((out ** 3).sum(), ts[0], create_graph=True)
        (gq ** 2).sum().backward()
        res.append([t.grad.numpy() for t in ts])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_dropout_statistics_and_seed(rng):
    q, k, v = (sj.tensor(rand(rng, 4, 16, 8)) for _ in range(3))
    ref = F.scaled_dot_product_attention(q, k, v).numpy()
    sj.manual_seed(3)
    a, wa = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, return_weights=True)
    sj.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # seeded: repeatable
    w = wa.numpy()
    kept = w > 0
    assert 0.6 < kept.mean() < 0.8
    _, p = F.scaled_dot_product_attention(q, k, v, return_weights=True)
    np.testing.assert_allclose(w[kept], p.numpy()[kept] / 0.7, rtol=1e-12)  # inverted scaling
    np.testing.assert_allclose(a.numpy(), w @ v.numpy(), rtol=1e-12, atol=1e-14)
    # the mean over many draws approaches the expectation
    outs = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).numpy() for _ in range(400)], 0)
    assert np.abs(outs - ref).mean() < 0.05
    z = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert np.all(z.numpy() == 0)


def test_dropout_gradient(rng):
    """With dropout the backward uses the same mask as the forward: compare with the explicit formula."""
    arrs = [rand(rng, 2, 4, 8) for _ in range(3)]
    q, k, v = (sj.tensor(a, requires_grad=True) for a in arrs)
    out, w = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, return_weights=True)
    out.sum().backward()
    _, p = F.scaled_dot_product_attention(q, k, v, return_weights=True)
    d = np.where(w.numpy() > 0, 2.0, 0.0)
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in arrs)
    pt = torch.softmax(qt @ kt.mT / np.sqrt(8), -1)
    (pt * torch.tensor(d) @ vt).sum().backward()
    for s, t in ((q, qt), (k, kt), (v, vt)):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_errors(rng):
    q = sj.tensor(rand(rng, 2, 4, 8))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=sj.ones(4, 4, dtype=sj.bool), is_causal=True)
    with pytest.raises(ValueError, match=r"\(2, 4, 8\).*\(2, 4, 7\)"):
        F.scaled_dot_product_attention(q, sj.tensor(rand(rng, 2, 4, 7)), q)
    with pytest.raises(ValueError, match="attn_mask"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=sj.ones(3, 4, dtype=sj.bool))
    with pytest.raises(RuntimeError, match="dtype"):
        F.scaled_dot_product_attention(q, q.float(), q)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=sj.ones(4, 4, dtype=sj.int64))
    with pytest.raises(ValueError, match="dropout"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    assert sj.nn.functional.scaled_dot_product_attention is sj.ops.attention.scaled_dot_product_attention


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal", "dropout"])
def test_packed_attention_equals_separate(rng, kind):
    """packed_attention(qkv) (the self-attention path of MultiheadAttention) gives the values and
    gradients of scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]), also to second order."""
    from shenjing.ops.attention import packed_attention

    arr = rand(rng, 3, 2, 3, 5, 4)
    m = rand(rng, 5, 5)
    kw = {"none": {}, "bool": {"attn_mask": rng.random((2, 1, 5, 5)) < 0.7}, "float": {"attn_mask": m},
          "causal": {"is_causal": True}, "dropout": {"dropout_p": 0.4}}[kind]
    res = []
    for packed in (True, False):
        x = sj.tensor(arr, requires_grad=True)
        mt = sj.tensor(m, requires_grad=True)
        kws = {k: (mt if k == "attn_mask" and kind == "float" else sj.tensor(v) if isinstance(v, np.ndarray) else v)
               for k, v in kw.items()}
        sj.manual_seed(7)
        out = packed_attention(x, **kws) if packed else F.scaled_dot_product_attention(x[0], x[1], x[2], **kws)
        (g,) = sj.autograd.grad((out ** 3).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        res.append((out.detach().numpy(), g.detach().numpy(), x.grad.numpy(), None if mt.grad is None else mt.grad.numpy()))
    assert res[0][0].transpose(0, 2, 1, 3).flags.c_contiguous  # merging the heads is a view
    for a, b in zip(*res):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
