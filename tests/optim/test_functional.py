"""shenjing.optim.functional against torch.optim's functional optimisers (``torch.optim.adam.adam`` …)
on fresh seeded random parameters, gradients and hyper-parameters, and the notes' options against
their formulas written out in NumPy (Fang Algorithms 1–3, Xu eqs 1.44 and 1.58)."""

import numpy as np
import pytest
import torch
from torch.optim.adadelta import adadelta as torch_adadelta
from torch.optim.adagrad import adagrad as torch_adagrad
from torch.optim.adam import adam as torch_adam
from torch.optim.rmsprop import rmsprop as torch_rmsprop
from torch.optim.sgd import sgd as torch_sgd

import shenjing as sj
from shenjing.optim import functional as F

STEPS = 12
SHAPES = [(5, 4), (4,), (3, 2, 2)]


def inputs(seed, dtype=np.float64):
    """Parameters and ``STEPS`` gradients per parameter, with some exact zeros in the gradients."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = []
    for _ in range(STEPS):
        gs = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        for g in gs:
            g[rng.random(g.shape) < 0.1] = 0.0
        grads.append(gs)
    return params, grads


def ours(arrays):
    return [sj.tensor(a) for a in arrays]


def theirs(arrays):
    return [torch.tensor(a) for a in arrays]


def close(a_list, b_list, rtol=1e-12, atol=1e-14):
    for a, b in zip(a_list, b_list):
        a = a.array if isinstance(a, sj.Tensor) else a
        b = b.numpy() if isinstance(b, torch.Tensor) else b
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- against torch.optim's functional forms
SGD_CASES = [
    {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "maximize": False},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.01, "nesterov": False, "maximize": False},
    {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.0, "nesterov": False, "maximize": True},
    {"lr": 0.05, "momentum": 0.7, "dampening": 0.0, "weight_decay": 0.05, "nesterov": True, "maximize": False},
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items() if v))
def test_sgd_matches_torch(kw, seed):
    params, grads = inputs(seed)
    p1, p2 = ours(params), theirs(params)
    b1, b2 = [None] * len(p1), [None] * len(p2)
    for gs in grads:
        F.sgd(p1, ours(gs), b1, **kw)
        torch_sgd(p2, theirs(gs), b2, foreach=False, **kw)
    close(p1, p2)
    if kw["momentum"]:
        close(b1, b2)  # the new buffers are stored into the list, as torch does
    else:
        assert b1 == [None] * len(p1)


ADAM_CASES = [
    {"amsgrad": False, "beta1": 0.9, "beta2": 0.999, "lr": 0.01, "weight_decay": 0.0, "eps": 1e-8, "maximize": False},
    {"amsgrad": True, "beta1": 0.8, "beta2": 0.99, "lr": 0.02, "weight_decay": 0.05, "eps": 1e-6, "maximize": False},
    {"amsgrad": False, "beta1": 0.3, "beta2": 0.9, "lr": 0.01, "weight_decay": 0.1, "eps": 1e-3, "maximize": True,
     "decoupled_weight_decay": True},
    {"amsgrad": True, "beta1": 0.5, "beta2": 0.6, "lr": 0.03, "weight_decay": 0.01, "eps": 1e-8, "maximize": False,
     "decoupled_weight_decay": True},
]


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items() if v))
def test_adam_matches_torch(kw, seed):
    params, grads = inputs(seed)
    p1, p2 = ours(params), theirs(params)
    s1 = [[F.zero_buffer(p) for p in p1] for _ in range(3)] + [[F.new_step() for _ in p1]]
    s2 = [[torch.zeros_like(p) for p in p2] for _ in range(3)] + [[torch.tensor(0.0) for _ in p2]]
    for gs in grads:
        F.adam(p1, ours(gs), *s1, **kw)
        torch_adam(p2, theirs(gs), *s2, foreach=False, **kw)
    close(p1, p2)
    for a, b in zip(s1, s2):
        close(a, b)
    assert float(s1[3][0].item()) == STEPS


def test_adam_float32_matches_torch():
    params, grads = inputs(4, np.float32)
    kw = {"amsgrad": True, "beta1": 0.9, "beta2": 0.99, "lr": 0.01, "weight_decay": 0.01, "eps": 1e-8, "maximize": False}
    p1, p2 = ours(params), theirs(params)
    s1 = [[F.zero_buffer(p) for p in p1] for _ in range(3)] + [[F.new_step() for _ in p1]]
    s2 = [[torch.zeros_like(p) for p in p2] for _ in range(3)] + [[torch.tensor(0.0) for _ in p2]]
    for gs in grads:
        F.adam(p1, ours(gs), *s1, **kw)
        torch_adam(p2, theirs(gs), *s2, foreach=False, **kw)
    assert all(p.dtype == sj.float32 for p in p1) and all(b.dtype == sj.float32 for b in s1[0])
    close(p1, p2, rtol=1e-5, atol=1e-6)


RMSPROP_CASES = [
    {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False, "maximize": False},
    {"lr": 0.01, "alpha": 0.5, "eps": 1e-4, "weight_decay": 0.02, "momentum": 0.0, "centered": True, "maximize": True},
    {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.0, "momentum": 0.8, "centered": False, "maximize": False},
    {"lr": 0.005, "alpha": 0.8, "eps": 1e-3, "weight_decay": 0.01, "momentum": 0.5, "centered": True, "maximize": False},
]


@pytest.mark.parametrize("seed", [5, 6])
@pytest.mark.parametrize("kw", RMSPROP_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items() if v))
def test_rmsprop_matches_torch(kw, seed):
    params, grads = inputs(seed)
    p1, p2 = ours(params), theirs(params)
    s1 = [[F.zero_buffer(p) for p in p1] for _ in range(3)] + [[F.new_step() for _ in p1]]
    s2 = [[torch.zeros_like(p) for p in p2] for _ in range(3)] + [[torch.tensor(0.0) for _ in p2]]
    for gs in grads:
        F.rmsprop(p1, ours(gs), *s1, **kw)
        torch_rmsprop(p2, theirs(gs), *s2, foreach=False, **kw)
    close(p1, p2)
    for a, b in zip(s1, s2):
        close(a, b)


@pytest.mark.parametrize("seed", [7, 8])
@pytest.mark.parametrize("kw", [{"lr": 0.1, "weight_decay": 0.0, "lr_decay": 0.0, "eps": 1e-10, "maximize": False},
                                {"lr": 0.2, "weight_decay": 0.03, "lr_decay": 0.05, "eps": 1e-4, "maximize": True}],
                         ids=["default", "decay"])
def test_adagrad_matches_torch(kw, seed):
    params, grads = inputs(seed)
    p1, p2 = ours(params), theirs(params)
    sums1 = [sj.full(tuple(p.shape), 0.1, dtype=sj.float64) for p in p1]
    sums2 = [torch.full_like(p, 0.1) for p in p2]
    steps1, steps2 = [F.new_step() for _ in p1], [torch.tensor(0.0) for _ in p2]
    for gs in grads:
        F.adagrad(p1, ours(gs), sums1, steps1, **kw)
        torch_adagrad(p2, theirs(gs), sums2, steps2, foreach=False, **kw)
    close(p1, p2)
    close(sums1, sums2)


@pytest.mark.parametrize("seed", [9, 10])
@pytest.mark.parametrize("kw", [{"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0, "maximize": False},
                                {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01, "maximize": True}],
                         ids=["default", "decay"])
def test_adadelta_matches_torch(kw, seed):
    params, grads = inputs(seed)
    p1, p2 = ours(params), theirs(params)
    s1 = [[F.zero_buffer(p) for p in p1] for _ in range(2)] + [[F.new_step() for _ in p1]]
    s2 = [[torch.zeros_like(p) for p in p2] for _ in range(2)] + [[torch.tensor(0.0) for _ in p2]]
    for gs in grads:
        F.adadelta(p1, ours(gs), *s1, **kw)
        torch_adadelta(p2, theirs(gs), *s2, foreach=False, **kw)
    close(p1, p2)
    for a, b in zip(s1, s2):
        close(a, b)


@pytest.mark.parametrize("w", [0.1, 0.5, 0.9, 0.999])
def test_lerp_matches_torch(w):
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal(1000), rng.standard_normal(1000)
    expected = torch.tensor(a).lerp_(torch.tensor(b), w).numpy()
    F.lerp_(a, b, w)
    np.testing.assert_allclose(a, expected, rtol=4e-16, atol=4e-16)


# ---------------------------------------------------------------------- the notes' options against their formulas
def test_ema_momentum_from_zero_fang_alg1():
    """m_t = ρ m_{t−1} + (1 − ρ) g_t from m₀ = 0, φ_{t+1} = φ_t − α m_t (Fang Algorithm 1)."""
    alpha, rho = 0.3, 0.8
    params, grads = inputs(12)
    p, bufs = ours(params), [None] * len(params)
    ref, m = [a.copy() for a in params], [np.zeros_like(a) for a in params]
    for gs in grads:
        F.sgd(p, ours(gs), bufs, lr=alpha, momentum=rho, dampening=rho, momentum_init="zeros")
        for i, g in enumerate(gs):
            m[i] = rho * m[i] + (1 - rho) * g
            ref[i] -= alpha * m[i]
    close(p, ref)
    close(bufs, m)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_eps_inside_sqrt_xu_158(amsgrad):
    """m̂ = m/(1−β₁ᵗ), n̂ = n/(1−β₂ᵗ), θ_t = θ_{t−1} − η m̂_t/√(ε + n̂_t) (Xu eq. 1.58, Fang Algorithm 7)."""
    eta, b1, b2, eps = 0.01, 0.9, 0.99, 1e-3
    params, grads = inputs(13)
    p = ours(params)
    state = [[F.zero_buffer(q) for q in p] for _ in range(3)] + [[F.new_step() for _ in p]]
    ref = [a.copy() for a in params]
    m, n, nmax = ([np.zeros_like(a) for a in params] for _ in range(3))
    for t, gs in enumerate(grads, 1):
        F.adam(p, ours(gs), *state, amsgrad=amsgrad, beta1=b1, beta2=b2, lr=eta, weight_decay=0.0, eps=eps, eps_inside_sqrt=True)
        for i, g in enumerate(gs):
            m[i] = b1 * m[i] + (1 - b1) * g
            n[i] = b2 * n[i] + (1 - b2) * g * g
            nmax[i] = np.maximum(nmax[i], n[i])
            ref[i] -= eta * (m[i] / (1 - b1**t)) / np.sqrt(eps + (nmax[i] if amsgrad else n[i]) / (1 - b2**t))
    close(p, ref)


def test_normalized_gradient_fang_alg3():
    """θ_{t+1} = θ_t − α g_t/√(g_t ⊙ g_t + ε) (Fang Algorithm 3)."""
    alpha, eps = 0.05, 1e-4
    params, grads = inputs(14)
    p, ref = ours(params), [a.copy() for a in params]
    for gs in grads:
        F.normalized_gradient(p, ours(gs), lr=alpha, eps=eps)
        for r, g in zip(ref, gs):
            r -= alpha * g / np.sqrt(g * g + eps)
    close(p, ref)


@pytest.mark.parametrize("ema", [False, True])
def test_nesterov_lookahead_xu_144_fang_alg2(ema):
    """On R(θ) = ½ Σ a ⊙ θ², ∇R = a ⊙ θ: g_t = ∇R(θ_{t−1} − s m_{t−1}) with s = ημ (Xu eq. 1.44) or s = α
    (Fang Algorithm 2), m_t = μ m + g_t (or ρ m + (1 − ρ) g_t), θ_t = θ_{t−1} − η m_t."""
    eta, mu = (0.3, 0.8) if ema else (0.05, 0.9)
    shift = eta if ema else eta * mu
    params, _ = inputs(15)
    curv = [np.abs(a) + 0.5 for a in inputs(16)[0]]
    p, bufs = ours(params), [None] * len(params)
    ref, m = [a.copy() for a in params], [np.zeros_like(a) for a in params]
    for _ in range(STEPS):
        saved = F.lookahead(p, bufs, lr=eta, momentum=mu, ema=ema)
        gs = [a * q.array for a, q in zip(curv, p)]  # the gradient where the parameters now are
        F.restore(saved)
        F.nesterov_lookahead(p, ours(gs), bufs, lr=eta, momentum=mu, ema=ema)
        for i in range(len(ref)):
            g = curv[i] * (ref[i] - shift * m[i])
            m[i] = mu * m[i] + ((1 - mu) * g if ema else g)
            ref[i] -= eta * m[i]
    close(p, ref)
    close(bufs, m)


# ---------------------------------------------------------------------- in place, through the public surface
def test_updates_in_place_and_move_the_version():
    """The parameter's array is written in place, and a backward that saved it refuses to run."""
    w = sj.tensor([1.0, -2.0, 3.0], requires_grad=True)
    before = w.array
    loss = (w * w).sum()  # saves w for backward
    F.sgd([w], [sj.tensor([1.0, 1.0, 1.0])], [None], lr=0.5)
    assert w.array is before
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, -2.5, 2.5])
    with pytest.raises(RuntimeError):
        loss.backward()


def test_denominator_forms():
    v = np.array([0.0, 0.25, 4.0])
    np.testing.assert_allclose(F.denominator(v, 1e-2), np.sqrt(v) + 1e-2, rtol=1e-15)
    np.testing.assert_allclose(F.denominator(v, 1e-2, eps_inside_sqrt=True), np.sqrt(v + 1e-2), rtol=1e-15)
    np.testing.assert_allclose(F.denominator(v, 1e-2, bias_correction2=0.19), np.sqrt(v / 0.19) + 1e-2, rtol=1e-15)
    np.testing.assert_allclose(F.denominator(v, 1e-2, eps_inside_sqrt=True, bias_correction2=0.19), np.sqrt(v / 0.19 + 1e-2), rtol=1e-15)
    assert F.denominator(v, 0.0) is not v


def test_sgd_rejects_unknown_momentum_init():
    w = sj.zeros(2)
    with pytest.raises(ValueError, match="momentum_init"):
        F.sgd([w], [sj.ones(2)], [None], lr=0.1, momentum=0.9, momentum_init="ones")
