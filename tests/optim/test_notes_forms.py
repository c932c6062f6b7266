"""The lecture notes' optimiser forms (Xu §1.9, Fang ch. 6) against their formulas written
out in NumPy, where PyTorch has no equivalent, step by step from identical weights: EMA momentum
(Fang Alg. 1), look-ahead Nesterov (Xu eq. 1.44, Fang Alg. 2), normalised gradient (Fang Alg. 3),
the √(v + ε) forms of AdaGrad, RMSprop and Adam (Xu eqs 1.49, 1.52, 1.58; Fang Algs 4, 5, 7) and
Zeiler's AdaDelta (Fang Alg. 6). The gradients of the reference come from ``numpy_loss_grads``
(backprop by hand)."""

import numpy as np
import pytest
from optim_helpers import Reference, Run, lockstep, run

import shenjing as sj
from shenjing import optim


def test_momentum_xu(seed):
    """m_t = μ m_{t−1} + g_t, θ_t = θ_{t−1} − η m_t (eqs 1.41–1.43) is SGD(momentum=μ)."""
    eta, mu = 0.05, 0.9

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            st[i] = mu * st.get(i, 0) + g
            p -= eta * st[i]

    lockstep(Run(sj, "SGD", {"lr": eta, "momentum": mu}, seed), Reference(update, seed))


@pytest.mark.parametrize("init", ["zeros", "grad"])
def test_ema_momentum_fang_alg1(init, seed):
    """m_t = ρ m_{t−1} + (1 − ρ) g_t, φ_{t+1} = φ_t − α m_t, from m_0 = 0 (the notes) or, PyTorch's
    buffer start, m_1 = g_1."""
    alpha, rho = 0.3, 0.8

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            if t == 1 and init == "grad":
                st[i] = g.copy()
            else:
                st[i] = rho * st.get(i, 0) + (1 - rho) * g
            p -= alpha * st[i]

    lockstep(Run(sj, "SGD", {"lr": alpha, "momentum": rho, "dampening": rho, "momentum_init": init}, seed), Reference(update, seed))


@pytest.mark.parametrize("ema", [False, True])
def test_nesterov_lookahead(ema, seed):
    """Xu eq. 1.44: g_t = ∇R(θ_{t−1} − ημ m_{t−1}), m_t = μ m_{t−1} + g_t, θ_t = θ_{t−1} − η m_t;
    Fang Alg. 2: g_t = ∇L(φ_t − α m_{t−1}), m_t = ρ m_{t−1} + (1 − ρ) g_t, φ_{t+1} = φ_t − α m_t."""
    eta, mu = (0.3, 0.8) if ema else (0.05, 0.9)
    shift = eta if ema else eta * mu

    def lookahead(ps, st):
        return [p - shift * st.get(i, 0) for i, p in enumerate(ps)]

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            st[i] = mu * st.get(i, 0) + ((1 - mu) * g if ema else g)
            p -= eta * st[i]

    losses = lockstep(Run(sj, "NesterovLookahead", {"lr": eta, "momentum": mu, "ema": ema}, seed, closure=True), Reference(update, seed, lookahead=lookahead))
    assert losses[-1] < losses[0]


def test_nesterov_lookahead_needs_closure_and_restores_params():
    w = sj.tensor([1.0, -2.0], dtype=sj.float64, requires_grad=True)
    opt = optim.NesterovLookahead([w], lr=0.1, momentum=0.9)
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()
    seen = []

    def closure():
        opt.zero_grad()
        seen.append(w.detach().numpy().copy())
        loss = (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)  # m = 0: gradient at w itself; w ← w − 0.1·2w
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6])
    opt.step(closure)  # gradient at w − ημ m with m = 2·(1, −2)
    np.testing.assert_allclose(seen[1], [0.8 - 0.09 * 2, -1.6 + 0.09 * 4])
    m = 0.9 * np.array([2.0, -4.0]) + 2 * seen[1]
    np.testing.assert_allclose(w.detach().numpy(), np.array([0.8, -1.6]) - 0.1 * m)


def test_normalized_gradient_alg3(seed):
    """v_t = g ⊙ g, φ_{t+1} = φ_t − α g/√(v_t + ε)."""
    alpha, eps = 0.01, 1e-6

    def update(t, ps, gs, st):
        for p, g in zip(ps, gs):
            p -= alpha * g / np.sqrt(g * g + eps)

    losses = lockstep(Run(sj, "NormalizedGradient", {"lr": alpha, "eps": eps}, seed), Reference(update, seed))
    assert losses[-1] < losses[0]


def test_adagrad_eps_inside_sqrt(seed):
    """n_t = n_{t−1} + g², θ_t = θ_{t−1} − η g/√(ε + n_t) (Xu eq. 1.49, Fang Alg. 4)."""
    eta, eps = 0.1, 1e-3

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            st[i] = st.get(i, 0) + g * g
            p -= eta * g / np.sqrt(eps + st[i])

    lockstep(Run(sj, "Adagrad", {"lr": eta, "eps": eps, "eps_inside_sqrt": True}, seed), Reference(update, seed))


@pytest.mark.parametrize("nu", [0.9, 0.5])
def test_rmsprop_eps_inside_sqrt(nu, seed):
    """n_t = ν n_{t−1} + (1 − ν) g², θ_t = θ_{t−1} − η g/√(ε + n_t): Fang Alg. 5 and Xu's
    "Adadelta" (eqs 1.50–1.52); ν = 0.5 is Xu's "RMSProp"."""
    eta, eps = 0.01, 1e-4

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            st[i] = nu * st.get(i, 0) + (1 - nu) * g * g
            p -= eta * g / np.sqrt(eps + st[i])

    lockstep(Run(sj, "RMSprop", {"lr": eta, "alpha": nu, "eps": eps, "eps_inside_sqrt": True}, seed), Reference(update, seed))


def test_rmsprop_centered_momentum_eps_inside_sqrt(seed):
    eta, a, eps, mu = 0.005, 0.9, 1e-3, 0.5

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            v, gbar, b = st.get(i, (0, 0, 0))
            v = a * v + (1 - a) * g * g
            gbar = a * gbar + (1 - a) * g
            b = mu * b + g / np.sqrt(v - gbar**2 + eps)
            st[i] = (v, gbar, b)
            p -= eta * b

    kw = {"lr": eta, "alpha": a, "eps": eps, "centered": True, "momentum": mu, "eps_inside_sqrt": True}
    lockstep(Run(sj, "RMSprop", kw, seed), Reference(update, seed))


def test_adadelta_alg6(seed):
    """v_t = ρv + (1−ρ)g², Δφ = −√(s_{t−1}+ε)/√(v_t+ε) g, s_t = ρs + (1−ρ)Δφ², φ ← φ + Δφ."""
    rho, eps = 0.9, 1e-6

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            v, s = st.get(i, (0, 0))
            v = rho * v + (1 - rho) * g * g
            d = -np.sqrt(s + eps) / np.sqrt(v + eps) * g
            s = rho * s + (1 - rho) * d * d
            st[i] = (v, s)
            p += d

    lockstep(Run(sj, "Adadelta", {"rho": rho, "eps": eps}, seed), Reference(update, seed))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_eps_inside_sqrt(amsgrad, seed):
    """m_t = μm + (1−μ)g, n_t = νn + (1−ν)g², m̂ = m/(1−β₁ᵗ), n̂ = n/(1−β₂ᵗ), θ ← θ − η m̂/√(ε + n̂)
    (Xu eqs 1.53–1.58, Fang Alg. 7)."""
    eta, b1, b2, eps = 0.01, 0.9, 0.99, 1e-4

    def update(t, ps, gs, st):
        for i, (p, g) in enumerate(zip(ps, gs)):
            m, n, nmax = st.get(i, (0, 0, 0))
            m = b1 * m + (1 - b1) * g
            n = b2 * n + (1 - b2) * g * g
            nmax = np.maximum(nmax, n)
            st[i] = (m, n, nmax)
            p -= eta * (m / (1 - b1**t)) / np.sqrt(eps + (nmax if amsgrad else n) / (1 - b2**t))

    lockstep(Run(sj, "Adam", {"lr": eta, "betas": (b1, b2), "eps": eps, "amsgrad": amsgrad, "eps_inside_sqrt": True}, seed), Reference(update, seed))


def test_eps_inside_sqrt_differs_from_default(seed):
    kw = {"lr": 0.01, "eps": 1e-2}
    a, _ = run(sj, "Adam", kw, seed, steps=5)
    b, _ = run(sj, "Adam", {**kw, "eps_inside_sqrt": True}, seed, steps=5)
    assert max(np.abs(x - y).max() for x, y in zip(a, b)) > 1e-6


def test_docstrings_name_the_notes():
    assert "动量" in optim.SGD.__doc__ and "Algorithm 1" in optim.SGD.__doc__
    assert "Adadelta" in optim.RMSprop.__doc__ and "alpha=0.5" in optim.RMSprop.__doc__
    assert "RMSprop" in optim.Adadelta.__doc__
    assert "自适应学习率" in optim.Adam.__doc__ and "1.58" in optim.Adam.__doc__
    assert "1.44" in optim.NesterovLookahead.__doc__ and "Algorithm 2" in optim.NesterovLookahead.__doc__
    assert "Algorithm 3" in optim.NormalizedGradient.__doc__
