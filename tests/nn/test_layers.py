"""Layers against PyTorch with identical weights copied in: forward and backward in float64,
BatchNorm running statistics, second derivatives, Dropout statistics, reprs and errors."""

import math

import numpy as np
import pytest
import torch
from torch_compare import assert_same

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F

TOL = {"rtol": 1e-10, "atol": 1e-11}


def to_torch_state(m):
    return {k: torch.tensor(np.array(v.numpy())) for k, v in m.state_dict().items()}


def twin(sj_mod, t_mod):
    """Both modules in float64 with shenjing's weights copied into torch's."""
    sj_mod.double()
    t_mod.double()
    t_mod.load_state_dict(to_torch_state(sj_mod))
    return sj_mod, t_mod


def run_both(sj_mod, t_mod, *arrays, rng=None, params=True):
    """Forward both on the same inputs, backward a random cotangent, compare outputs, input grads
    and parameter grads."""
    rng = np.random if rng is None else rng  # NumPy's global generator is seeded per test (conftest)
    xs = [sj.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    xt = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ys, yt = sj_mod(*xs), t_mod(*xt)
    assert_same(ys, yt, **TOL, what="forward")
    v = rng.standard_normal(tuple(yt.shape))
    (ys * sj.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    for i, (a, b) in enumerate(zip(xs, xt)):
        if b.requires_grad:
            assert_same(a.grad, b.grad, **TOL, what=f"grad of input {i}")
    if params:
        ps, pt = dict(sj_mod.named_parameters()), dict(t_mod.named_parameters())
        assert list(ps) == list(pt)
        for k in ps:
            assert_same(ps[k].grad, pt[k].grad, **TOL, what=f"grad of {k}")
    return ys, yt


# ------------------------------------------------------------------ Linear, Bilinear


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (2, 1, 2, 3), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias, rng):
    s, t = twin(nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias))
    run_both(s, t, rng.standard_normal(shape))


def test_linear_functional_and_errors(rng):
    x, w, b = rng.standard_normal((6, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    assert_same(F.linear(sj.tensor(x), sj.tensor(w), sj.tensor(b)),
                torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b)), **TOL)
    with pytest.raises(ValueError, match=r"6x3 and 4x2"):
        F.linear(sj.tensor(x), sj.tensor(rng.standard_normal((2, 4))))
    with pytest.raises(RuntimeError, match="dtype"):
        nn.Linear(3, 2)(sj.tensor(x))  # float64 input into a float32 layer, like torch


def test_bilinear_matches_torch(rng):
    s, t = twin(nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5))
    run_both(s, t, rng.standard_normal((6, 3)), rng.standard_normal((6, 4)))
    s, t = twin(nn.Bilinear(2, 2, 3, bias=False), torch.nn.Bilinear(2, 2, 3, bias=False))
    run_both(s, t, rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 5, 2)))


# ------------------------------------------------------------------ BatchNorm


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm1d_train_eval_and_running_stats(shape, affine, rng):
    s, t = twin(nn.BatchNorm1d(3, affine=affine, momentum=0.3), torch.nn.BatchNorm1d(3, affine=affine, momentum=0.3))
    if affine:  # non-trivial γ, β
        with torch.no_grad():
            t.weight.normal_()
            t.bias.normal_()
        s.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    for _ in range(4):
        x = rng.standard_normal(shape) * 2 + 1
        s.zero_grad()
        t.zero_grad()
        run_both(s, t, x, rng=rng, params=affine)
        for name in ("running_mean", "running_var"):
            assert_same(getattr(s, name), getattr(t, name), **TOL, what=name)
    assert int(s.num_batches_tracked.item()) == int(t.num_batches_tracked) == 4
    assert s.num_batches_tracked.dtype == sj.int64
    s.eval()
    t.eval()
    run_both(s, t, rng.standard_normal(shape), params=affine)


def test_batchnorm_uses_biased_variance_in_training(rng):
    """Fang §8.2: s_h² = (1/|B|) Σ (h_i − m_h)²; the normalised batch has variance s²/(s²+ε)."""
    x = rng.standard_normal((16, 2))
    bn = nn.BatchNorm1d(2, eps=1e-5).double()
    y = bn(sj.tensor(x)).numpy(force=True)
    expect = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)  # np.var is the biased variance
    np.testing.assert_allclose(y, expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)  # unbiased


def test_batchnorm_momentum_none_and_no_tracking(rng):
    s, t = twin(nn.BatchNorm1d(4, momentum=None), torch.nn.BatchNorm1d(4, momentum=None))
    for _ in range(3):
        run_both(s, t, rng.standard_normal((5, 4)))
    assert_same(s.running_mean, t.running_mean, **TOL)
    assert_same(s.running_var, t.running_var, **TOL)
    s, t = twin(nn.BatchNorm1d(4, track_running_stats=False), torch.nn.BatchNorm1d(4, track_running_stats=False))
    assert list(s.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    s.eval()
    t.eval()
    run_both(s, t, rng.standard_normal((5, 4)))  # batch statistics even in eval


def test_batchnorm2d_matches_torch(rng):
    s, t = twin(nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3))
    run_both(s, t, rng.standard_normal((4, 3, 5, 2)))
    s2, t2 = twin(nn.BatchNorm2d(3, bias=False), torch.nn.BatchNorm2d(3, bias=False))
    run_both(s2, t2, rng.standard_normal((4, 3, 5, 2)))
    assert repr(s2) == repr(t2)
    assert_same(s.running_var, t.running_var, **TOL)
    s.eval()
    t.eval()
    run_both(s, t, rng.standard_normal((2, 3, 5, 2)))


def test_batchnorm_init_and_errors():
    bn = nn.BatchNorm1d(3)
    np.testing.assert_array_equal(bn.weight.numpy(force=True), np.ones(3))
    np.testing.assert_array_equal(bn.bias.numpy(force=True), np.zeros(3))
    assert list(bn.state_dict()) == list(torch.nn.BatchNorm1d(3).state_dict())
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(sj.randn(1, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(sj.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="4 elements not 3"):
        bn(sj.randn(2, 4))


# ------------------------------------------------------------------ LayerNorm, GroupNorm


@pytest.mark.parametrize("shape,norm", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((3, 6), [6])])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(shape, norm, affine, rng):
    s, t = twin(nn.LayerNorm(norm, elementwise_affine=affine), torch.nn.LayerNorm(norm, elementwise_affine=affine))
    if affine:
        with torch.no_grad():
            t.weight.normal_()
            t.bias.normal_()
        s.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    run_both(s, t, rng.standard_normal(shape) * 3 + 2, params=affine)


def test_layernorm_without_bias_and_errors(rng):
    s, t = twin(nn.LayerNorm(4, bias=False), torch.nn.LayerNorm(4, bias=False))
    run_both(s, t, rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match=r"normalized_shape=\[4\]"):
        nn.LayerNorm(4)(sj.randn(2, 3))


@pytest.mark.parametrize("shape,groups", [((4, 6, 5), 3), ((2, 4), 2), ((2, 6, 2, 3), 1), ((3, 4, 2), 4)])
def test_groupnorm_matches_torch(shape, groups, rng):
    C = shape[1]
    s, t = twin(nn.GroupNorm(groups, C), torch.nn.GroupNorm(groups, C))
    with torch.no_grad():
        t.weight.normal_()
        t.bias.normal_()
    s.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    run_both(s, t, rng.standard_normal(shape))
    with pytest.raises(ValueError):
        nn.GroupNorm(4, 6)


# ------------------------------------------------------------------ second derivatives


def _second(lib, fn, x, params, seed):
    """∂/∂(x, params) of Σ v ⊙ ∂(Σ u ⊙ fn)/∂x (a Hessian-vector-style double backward); u, v from ``seed``;
    None for an input the result does not depend on."""
    rng = np.random.default_rng(seed)
    out = fn(x, *params)
    u = lib.tensor(rng.standard_normal(tuple(out.shape)))
    (gx,) = (sj.autograd if lib is sj else torch.autograd).grad((out * u).sum(), x, create_graph=True)
    v = lib.tensor(rng.standard_normal(tuple(gx.shape)))
    ins = [x, *params]
    res = (sj.autograd if lib is sj else torch.autograd).grad((gx * v).sum() + (gx * gx).sum(), ins, allow_unused=True)
    return list(res)


@pytest.mark.parametrize("case", ["linear", "batch_norm", "batch_norm_3d", "layer_norm", "group_norm"])
def test_second_derivatives_match_torch(case, rng):
    shapes = {"linear": ((5, 3), [(4, 3), (4,)]), "batch_norm": ((6, 3), [(3,), (3,)]),
              "batch_norm_3d": ((4, 3, 2), [(3,), (3,)]), "layer_norm": ((4, 5), [(5,), (5,)]),
              "group_norm": ((3, 4, 2), [(4,), (4,)])}
    xs, ps = shapes[case]
    arrays = [rng.standard_normal(xs)] + [rng.standard_normal(p) for p in ps]

    def fn(lib):
        Fl = F if lib is sj else torch.nn.functional
        if case == "linear":
            return Fl.linear
        if case.startswith("batch_norm"):
            return lambda x, w, b: Fl.batch_norm(x, None, None, w, b, training=True)
        if case == "layer_norm":
            return lambda x, w, b: Fl.layer_norm(x, (5,), w, b)
        return lambda x, w, b: Fl.group_norm(x, 2, w, b)

    res = []
    seed = int(rng.integers(2**63))  # the same u, v on both sides
    for lib in (sj, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        res.append(_second(lib, fn(lib), ts[0], ts[1:], seed))
    for i, (a, b) in enumerate(zip(*res)):
        assert (a is None) == (b is None), f"second derivative {i}: None on one side only (shenjing {a is None}, torch {b is None})"
        if b is not None:
            assert_same(a, b, rtol=1e-9, atol=1e-10, what=f"second derivative {i}")


def test_normalisation_gradcheck_and_gradgradcheck():
    x = sj.randn(5, 3, dtype=sj.float64, requires_grad=True)
    w = sj.randn(3, dtype=sj.float64, requires_grad=True)
    b = sj.randn(3, dtype=sj.float64, requires_grad=True)
    for f in (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
              lambda x, w, b: F.layer_norm(x, (3,), w, b),
              lambda x, w, b: F.group_norm(x.reshape(5, 3, 1), 3, w, b)):
        assert sj.autograd.gradcheck(f, (x, w, b))
        assert sj.autograd.gradgradcheck(f, (x, w, b))


# ------------------------------------------------------------------ Embedding, one_hot


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_matches_torch(padding_idx, rng):
    s, t = twin(nn.Embedding(7, 4, padding_idx=padding_idx), torch.nn.Embedding(7, 4, padding_idx=padding_idx))
    idx = np.array([[0, 2, 2, 6], [1, 0, 6, 3]])
    run_both(s, t, idx)
    if padding_idx is not None:
        row = padding_idx % 7
        assert not np.any(s.weight.grad.numpy()[row])
        assert not np.any(nn.Embedding(7, 4, padding_idx=padding_idx).weight.numpy(force=True)[row])
    assert repr(s) == repr(t)


def test_embedding_options_match_torch(rng):
    s, t = twin(nn.Embedding(5, 3, scale_grad_by_freq=True), torch.nn.Embedding(5, 3, scale_grad_by_freq=True))
    run_both(s, t, np.array([1, 1, 1, 4, 2]))
    s, t = twin(nn.Embedding(5, 3, max_norm=1.0), torch.nn.Embedding(5, 3, max_norm=1.0))
    run_both(s, t, np.array([[0, 3], [3, 4]]))
    assert_same(s.weight, t.weight, **TOL)  # renormalised in place
    w = rng.standard_normal((4, 2))
    e = nn.Embedding.from_pretrained(sj.tensor(w))
    assert not e.weight.requires_grad and e(sj.tensor([3])).tolist() == [w[3].tolist()]
    with pytest.raises(IndexError, match="out of range"):
        nn.Embedding(3, 2)(sj.tensor([3]))


def test_one_hot_matches_torch():
    x = np.array([[0, 2], [1, 3]])
    assert_same(F.one_hot(sj.tensor(x)), torch.nn.functional.one_hot(torch.tensor(x)))
    assert_same(F.one_hot(sj.tensor(x), 6), torch.nn.functional.one_hot(torch.tensor(x), 6))
    with pytest.raises(RuntimeError):
        F.one_hot(sj.tensor([4]), 3)


# ------------------------------------------------------------------ Dropout


def test_dropout_statistics_and_eval():
    x = sj.ones(200_000, dtype=sj.float64)
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p).numpy()
        zero = np.mean(y == 0)
        assert abs(zero - p) < 6 * math.sqrt(p * (1 - p) / y.size), (p, zero)  # 6 standard errors
        np.testing.assert_allclose(y[y != 0], 1 / (1 - p))  # inverted scaling
        assert abs(y.mean() - 1) < 6 * math.sqrt(p / (1 - p) / y.size)  # mean preserved: Var y = p/(1 − p)
    d = nn.Dropout(0.5)
    xs = sj.randn(4, 5)
    d.eval()
    assert d(xs) is xs
    assert F.dropout(xs, 0.5, training=False) is xs
    assert not np.any(F.dropout(xs, 1.0).numpy())
    assert repr(d) == repr(torch.nn.Dropout(0.5)) == "Dropout(p=0.5, inplace=False)"
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_is_seeded_and_backward_uses_mask():
    sj.manual_seed(7)
    a = F.dropout(sj.ones(50), 0.5).numpy()
    sj.manual_seed(7)
    b = F.dropout(sj.ones(50), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    g = sj.Generator().manual_seed(1)
    c = F.dropout(sj.ones(50), 0.5, generator=g).numpy()
    g.manual_seed(1)
    np.testing.assert_array_equal(c, F.dropout(sj.ones(50), 0.5, generator=g).numpy())
    x = sj.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert y.dtype == sj.float32


# ------------------------------------------------------------------ shape layers, init, repr


def test_flatten_unflatten_identity(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    for s, t in [(nn.Flatten(), torch.nn.Flatten()), (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
                 (nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1))), (nn.Identity(3, k=1), torch.nn.Identity(3, k=1))]:
        run_both(s, t, x, params=False)
        assert repr(s) == repr(t)


def test_reprs_equal_torch():
    pairs = [
        (nn.Linear(3, 2), torch.nn.Linear(3, 2)), (nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)),
        (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)), (nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)),
        (nn.BatchNorm2d(4, momentum=None, affine=False), torch.nn.BatchNorm2d(4, momentum=None, affine=False)),
        (nn.LayerNorm((3, 4), eps=1e-6), torch.nn.LayerNorm((3, 4), eps=1e-6)), (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
        (nn.GroupNorm(2, 4, bias=False), torch.nn.GroupNorm(2, 4, bias=False)), (nn.LayerNorm(3, bias=False), torch.nn.LayerNorm(3, bias=False)),
        (nn.LayerNorm(3, elementwise_affine=False), torch.nn.LayerNorm(3, elementwise_affine=False)),
        (nn.Embedding(10, 3, padding_idx=2, max_norm=1.0), torch.nn.Embedding(10, 3, padding_idx=2, max_norm=1.0)),
        (nn.Sequential(nn.Linear(3, 2), nn.Flatten(), nn.Linear(2, 1)),
         torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Flatten(), torch.nn.Linear(2, 1))),
    ]
    for s, t in pairs:
        assert repr(s) == repr(t)


def test_linear_default_init_like_torch():
    """kaiming_uniform_(a=√5) ⇒ W, b ~ U(±1/√fan_in): bounds, mean and std of a wide layer."""
    sj.manual_seed(0)
    lin = nn.Linear(400, 500)
    w, b = lin.weight.numpy(force=True), lin.bias.numpy(force=True)
    bound = 1 / math.sqrt(400)
    assert w.dtype == np.float32 and w.shape == (500, 400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound and abs(w.mean()) < 0.01 * bound
    sj.manual_seed(0)
    assert np.array_equal(nn.Linear(400, 500).weight.numpy(force=True), w)  # seeded
    assert nn.Linear(2, 3, dtype=sj.float64).weight.dtype == sj.float64


def test_inplace_edit_of_a_normalised_output_keeps_gradients_exact(rng):
    x = rng.standard_normal((3, 4))
    res = []
    for lib in (sj, torch):
        Fl = F if lib is sj else torch.nn.functional
        xt = lib.tensor(x, requires_grad=True)
        y = Fl.layer_norm(xt, (4,))
        y.mul_(y.detach() + 2)  # overwrite the output that the backward of layer_norm reads
        (y * lib.tensor(x)).sum().backward()
        res.append(xt.grad)
    assert_same(res[0], res[1], **TOL)


def test_mixed_dtypes_are_refused():
    with pytest.raises(RuntimeError, match="dtype"):
        F.layer_norm(sj.randn(2, 3), (3,), sj.ones(3, dtype=sj.float64))
    with pytest.raises(RuntimeError, match="dtype"):
        nn.BatchNorm1d(3)(sj.randn(4, 3, dtype=sj.float64))
