"""Attention modules: the notes' query attention against its formula in NumPy (Fang §9.1),
MultiheadAttention against torch with torch's weights loaded (float64, forward and backward; self
and cross attention, key_padding_mask, attn_mask, need_weights with and without averaging,
batch_first True and False, kdim/vdim, bias_k/v, zero attention), positional encodings."""

import math

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F

TOL = {"rtol": 1e-9, "atol": 1e-11}


def load_from_torch(s_mod, t_mod):
    s_mod.load_state_dict({k: v.detach().numpy().copy() for k, v in t_mod.state_dict().items()})
    return s_mod


def close(a, b, what=""):
    a = a.detach().numpy() if isinstance(a, sj.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, equal_nan=True, **TOL)


# ------------------------------------------------------------------ query attention (Fang §9.1)


def numpy_query_attention(q, X, score, W=None, Wq=None, v=None, mask=None):
    """e_i = score(q, x_i), α_i = exp(e_i)/Σ_j exp(e_j), output Σ α_i x_i, one sample at a time."""
    outs, alphas = [], []
    for b in range(X.shape[0]):
        e = []
        for i in range(X.shape[1]):
            x = X[b, i]
            if score == "dot":
                e.append(q[b] @ x)
            elif score == "scaled_dot":
                e.append(q[b] @ x / math.sqrt(len(x)))
            elif score == "linear":
                e.append(q[b] @ W @ x)
            else:
                e.append(v @ np.tanh(Wq @ q[b] + W @ x))
        e = np.array(e)
        if mask is not None:
            e = np.where(mask[b], e, -np.inf)
        a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        alphas.append(a)
        outs.append(sum(a[i] * X[b, i] for i in range(X.shape[1])))
    return np.array(outs), np.array(alphas)


@pytest.mark.parametrize("score", ["dot", "scaled_dot", "linear", "additive"])
def test_query_attention_matches_the_notes_formula(rng, score):
    d, dq = 5, (5 if score in ("dot", "scaled_dot") else 3)
    m = nn.QueryAttention(d, score=score, query_dim=dq, hidden=4).double()
    q, X = rng.standard_normal((2, dq)), rng.standard_normal((2, 6, d))
    mask = rng.random((2, 6)) < 0.7
    mask[:, 0] = True
    p = {k: v.detach().numpy() for k, v in m.named_parameters()}
    for msk in (None, mask):
        out, alpha = m(sj.tensor(q), sj.tensor(X), None if msk is None else sj.tensor(msk))
        ref_out, ref_alpha = numpy_query_attention(q, X, score, p.get("weight"), p.get("query_weight"), p.get("v"), msk)
        np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(alpha.detach().numpy(), ref_alpha, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(alpha.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    assert repr(m).startswith(f"QueryAttention(dim=5, score='{score}'")


def test_query_attention_gradients_against_torch(rng):
    q, X, W = rng.standard_normal((3, 4)), rng.standard_normal((3, 7, 6)), rng.standard_normal((4, 6))
    res = []
    for lib in (sj, torch):
        qt, Xt, Wt = (lib.tensor(a, requires_grad=True) for a in (q, X, W))
        if lib is sj:
            out, alpha = F.query_attention(qt, Xt, "linear", Wt)
        else:
            alpha = torch.softmax(((qt @ Wt).unsqueeze(1) * Xt).sum(-1), -1)
            out = (alpha.unsqueeze(-1) * Xt).sum(1)
        ((out ** 2).sum() + (alpha ** 3).sum()).backward()
        res.append([out.detach().numpy(), alpha.detach().numpy()] + [t.grad.numpy() for t in (qt, Xt, Wt)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_query_attention_unbatched_and_the_softmax_limit():
    X = sj.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out, alpha = F.query_attention(sj.tensor([50.0, 0.0]), X)  # a sharp query picks the most similar x_i
    assert alpha.shape == (3,) and out.shape == (2,)
    assert alpha.argmax().item() in (0, 2) and alpha[1].item() < 1e-20
    out, alpha = F.query_attention(sj.tensor([0.0, 0.0]), X)  # a zero query averages
    np.testing.assert_allclose(alpha.numpy(), np.full(3, 1 / 3))
    np.testing.assert_allclose(out.numpy(), X.numpy().mean(0))


def test_query_attention_errors():
    with pytest.raises(ValueError, match="score"):
        nn.QueryAttention(4, score="cosine")
    with pytest.raises(ValueError, match="query_dim"):
        nn.QueryAttention(4, score="dot", query_dim=3)
    with pytest.raises(ValueError, match="same last dim"):
        F.query_attention(sj.ones(3), sj.ones(2, 5, 4))
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        F.query_attention(sj.ones(3), sj.ones(5, 4), "linear", sj.ones(4, 3))


# ------------------------------------------------------------------ MultiheadAttention against torch


def twin_mha(rng, E=8, H=2, **kw):
    torch.manual_seed(int(rng.integers(1 << 30)))
    t = torch.nn.MultiheadAttention(E, H, **kw).double()
    if t.in_proj_bias is not None:  # torch starts the biases at zero: make them non-trivial
        with torch.no_grad():
            t.in_proj_bias.normal_()
            t.out_proj.bias.normal_()
    s = nn.MultiheadAttention(E, H, **kw).double()
    assert [k for k, _ in s.named_parameters()] == [k for k, _ in t.named_parameters()]
    return load_from_torch(s, t), t


def run_mha(rng, s, t, q, k, v, same="self", **kw):
    """Forward both (kw: masks as NumPy arrays), backward a random cotangent of output and weights,
    compare outputs, weights and the gradients of the inputs and of every parameter."""
    ins_s, ins_t = [], []
    for a in (q, k, v):
        ins_s.append(sj.tensor(a, requires_grad=True))
        ins_t.append(torch.tensor(a, requires_grad=True))
    if same == "self":
        ins_s, ins_t = [ins_s[0]] * 3, [ins_t[0]] * 3
    elif same == "kv":
        ins_s[2], ins_t[2] = ins_s[1], ins_t[1]
    kw_s = {n: (sj.tensor(a) if isinstance(a, np.ndarray) else a) for n, a in kw.items()}
    kw_t = {n: (torch.tensor(a) if isinstance(a, np.ndarray) else a) for n, a in kw.items()}
    os_, ws = s(*ins_s, **kw_s)
    ot, wt = t(*ins_t, **kw_t)
    close(os_, ot, "output")
    assert (ws is None) == (wt is None)
    loss_s, loss_t = 0, 0
    for a, b in ((os_, ot), (ws, wt)):
        if b is None:
            continue
        if a is ws:
            close(a, b, "weights")
        g = rng.standard_normal(tuple(b.shape))
        loss_s = loss_s + (a * sj.tensor(g)).sum()
        loss_t = loss_t + (b * torch.tensor(g)).sum()
    loss_s.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(ins_s, ins_t)):
        close(a.grad, b.grad, f"grad of input {i}")
    tp = dict(t.named_parameters())
    for name, p in s.named_parameters():
        close(p.grad, tp[name].grad, f"grad of {name}")
    return os_, ws


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("same", ["self", "kv", "none"])
def test_mha_masks_layouts_and_weights(rng, batch_first, need_weights, average, same):
    s, t = twin_mha(rng, batch_first=batch_first)
    N, L, S = 3, 4, (4 if same == "self" else 6)
    shape = (lambda n: (N, n, 8)) if batch_first else (lambda n: (n, N, 8))
    q, k, v = rng.standard_normal(shape(L)), rng.standard_normal(shape(S)), rng.standard_normal(shape(S))
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False  # every query keeps a key
    cases = [
        {},
        {"key_padding_mask": kpm},
        {"attn_mask": rng.random((L, S)) < 0.3, "key_padding_mask": kpm},  # bool: True = not allowed
        {"attn_mask": rng.standard_normal((L, S))},  # float: added
        {"attn_mask": rng.standard_normal((N * 2, L, S)), "key_padding_mask": rng.standard_normal((N, S))},
    ]
    cases[2]["attn_mask"][:, 0] = False
    for kw in cases:
        run_mha(rng, s, t, q, k, v, same=same, need_weights=need_weights, average_attn_weights=average, **kw)
        s.zero_grad()
        t.zero_grad()


def test_mha_unbatched_and_causal(rng):
    s, t = twin_mha(rng, E=12, H=3, batch_first=True)
    x = rng.standard_normal((5, 12))
    causal = np.triu(np.ones((5, 5), bool), 1)
    _, w = run_mha(rng, s, t, x, x, x, attn_mask=causal, need_weights=True, average_attn_weights=False)
    assert w.shape == (3, 5, 5)
    iu = np.triu_indices(5, 1)
    assert np.all(w.detach().numpy()[:, iu[0], iu[1]] == 0)
    s.zero_grad()
    t.zero_grad()
    run_mha(rng, s, t, x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    s.zero_grad()
    t.zero_grad()
    x3 = rng.standard_normal((2, 5, 12))
    run_mha(rng, s, t, x3, x3, x3, attn_mask=causal, is_causal=True, need_weights=False)
    with pytest.raises(RuntimeError, match="attn_mask"):
        s(sj.tensor(x), sj.tensor(x), sj.tensor(x), is_causal=True)


def test_mha_kdim_vdim_no_bias_bias_kv_zero_attn(rng):
    s, t = twin_mha(rng, E=8, H=2, kdim=5, vdim=3, batch_first=True)
    assert s.in_proj_weight is None and tuple(s.k_proj_weight.shape) == (8, 5)
    q, k, v = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 6, 5)), rng.standard_normal((2, 6, 3))
    run_mha(rng, s, t, q, k, v, same="none", key_padding_mask=rng.random((2, 6)) < 0.2)
    s, t = twin_mha(rng, E=8, H=4, bias=False)
    x = rng.standard_normal((4, 2, 8))
    run_mha(rng, s, t, x, x, x, attn_mask=rng.standard_normal((4, 4)))
    s, t = twin_mha(rng, E=8, H=2, add_bias_kv=True, add_zero_attn=True)
    kpm = rng.random((2, 4)) < 0.3
    run_mha(rng, s, t, x, x, x, key_padding_mask=kpm, attn_mask=rng.random((4, 4)) < 0.2, average_attn_weights=False)


def test_mha_train_mode_dropout_zero_equals_eval_and_torch_fast_path(rng):
    s, t = twin_mha(rng, E=16, H=4, dropout=0.0, batch_first=True)
    x = rng.standard_normal((3, 7, 16))
    kpm = np.zeros((3, 7), bool)
    kpm[1, 5:] = True
    s.eval()
    t.eval()
    with torch.no_grad():  # torch's inference fast path (fused kernels)
        ot, wt = t(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm))
    with sj.no_grad():
        os_, ws = s(*(sj.tensor(x),) * 3, key_padding_mask=sj.tensor(kpm))
    close(os_, ot, "eval output")
    close(ws, wt, "eval weights")
    s.train()  # dropout 0 in train mode: the same numbers, and the gradients of torch's train mode
    with sj.no_grad():
        os2, ws2 = s(*(sj.tensor(x),) * 3, key_padding_mask=sj.tensor(kpm))
    np.testing.assert_array_equal(os2.numpy(), os_.numpy())
    np.testing.assert_array_equal(ws2.numpy(), ws.numpy())
    t.train()
    run_mha(rng, s, t, x, x, x, key_padding_mask=kpm, need_weights=True, average_attn_weights=False)


def test_mha_dropout(rng):
    s = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True).double()
    x = sj.tensor(rng.standard_normal((2, 6, 8)))
    _, w = s(x, x, x, average_attn_weights=False)
    frac = (w.detach().numpy() == 0).mean()
    assert 0.3 < frac < 0.7
    s.eval()
    _, w = s(x, x, x)
    assert np.all(w.detach().numpy() > 0)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0)


def test_mha_state_dict_keys_and_shapes_match_torch():
    for kw in ({}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True}):
        t = torch.nn.MultiheadAttention(16, 4, **kw)
        s = nn.MultiheadAttention(16, 4, **kw)
        assert {k: tuple(v.shape) for k, v in s.state_dict().items()} == {k: tuple(v.shape) for k, v in t.state_dict().items()}
    s = nn.MultiheadAttention(16, 4)
    assert np.all(s.in_proj_bias.detach().numpy() == 0) and np.all(s.out_proj.bias.detach().numpy() == 0)
    bound = math.sqrt(6 / (16 + 48))  # xavier_uniform_ on (3E, E)
    assert np.abs(s.in_proj_weight.detach().numpy()).max() <= bound


def test_mha_errors(rng):
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    s = nn.MultiheadAttention(8, 2, batch_first=True)
    x = sj.randn(2, 4, 8)
    with pytest.raises(ValueError, match="embedding dimension"):
        s(sj.randn(2, 4, 6), x, x)
    with pytest.raises(ValueError, match="2D attn_mask"):
        s(x, x, x, attn_mask=sj.zeros(3, 4))
    with pytest.raises(ValueError, match="3D attn_mask"):
        s(x, x, x, attn_mask=sj.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="key_padding_mask"):
        s(x, x, x, key_padding_mask=sj.zeros(2, 5, dtype=sj.bool))
    with pytest.raises(TypeError, match="bool and floating"):
        s(x, x, x, key_padding_mask=sj.zeros(2, 4, dtype=sj.int64))


# ------------------------------------------------------------------ positional encodings


def test_sinusoidal_formula():
    """PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(pos/10000^(2i/d)) (Vaswani et al.)."""
    for d in (16, 7):
        pe = F.sinusoidal_positional_encoding(50, d, dtype=sj.float64).numpy()
        for pos in (0, 1, 13, 49):
            for j in range(d):
                i = j // 2
                angle = pos / 10000 ** (2 * i / d)
                assert pe[pos, j] == pytest.approx(math.sin(angle) if j % 2 == 0 else math.cos(angle), abs=1e-12)
    assert F.sinusoidal_positional_encoding(4, 6).dtype == sj.float32


def test_sinusoidal_module(rng):
    m = nn.SinusoidalPositionalEncoding(8, max_len=20)
    assert "pe" not in m.state_dict() and len(list(m.parameters())) == 0
    x = rng.standard_normal((2, 5, 8)).astype(np.float32)
    out = m(sj.tensor(x))
    np.testing.assert_allclose(out.numpy(), x + F.sinusoidal_positional_encoding(5, 8).numpy()[None], rtol=1e-6)
    mt = nn.PositionalEncoding(8, max_len=20, batch_first=False)
    out = mt(sj.tensor(x.transpose(1, 0, 2)))
    np.testing.assert_allclose(out.numpy().transpose(1, 0, 2), x + F.sinusoidal_positional_encoding(5, 8).numpy()[None], rtol=1e-6)
    with pytest.raises(ValueError, match="max_len"):
        m(sj.zeros(1, 21, 8))


def test_learned_positional_embedding(rng):
    m = nn.LearnedPositionalEmbedding(10, 4)
    assert list(m.state_dict()) == ["weight"] and tuple(m.weight.shape) == (10, 4)
    w = nn.LearnedPositionalEmbedding(500, 64).weight.detach().numpy()  # 32 000 draws: std's standard error 8e-5
    assert abs(float(w.std()) - 0.02) < 0.001
    x = sj.tensor(rng.standard_normal((3, 6, 4)).astype(np.float32), requires_grad=True)
    out = m(x)
    np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy() + m.weight.detach().numpy()[:6], rtol=1e-6)
    out.sum().backward()
    g = m.weight.grad.numpy()
    np.testing.assert_allclose(g[:6], 3.0)
    np.testing.assert_allclose(g[6:], 0.0)
