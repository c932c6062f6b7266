"""Activations against PyTorch in float64: values, gradients, second derivatives,
closed-form derivatives against autograd, gradcheck; NumPy formulas where PyTorch lacks one."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_same, check

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

# (shenjing call, torch call) on one tensor; kwargs inside the lambdas
PAIRS = {
    "sigmoid": (lambda x: F.sigmoid(x), lambda x: torch.sigmoid(x)),
    "logistic": (lambda x: F.logistic(x), lambda x: torch.sigmoid(x)),
    "tanh": (lambda x: F.tanh(x), lambda x: torch.tanh(x)),
    "arctan": (lambda x: F.arctan(x), lambda x: torch.atan(x)),
    "relu": (lambda x: F.relu(x), lambda x: TF.relu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x), lambda x: TF.leaky_relu(x)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (lambda x: F.elu(x), lambda x: TF.elu(x)),
    "elu_0.5": (lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    "selu": (lambda x: F.selu(x), lambda x: TF.selu(x)),
    "celu": (lambda x: F.celu(x, alpha=1.5), lambda x: TF.celu(x, alpha=1.5)),
    "softplus": (lambda x: F.softplus(x), lambda x: TF.softplus(x)),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=3.0), lambda x: TF.softplus(x, beta=2.0, threshold=3.0)),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda x: TF.logsigmoid(x)),
    "silu": (lambda x: F.silu(x), lambda x: TF.silu(x)),
    "gelu": (lambda x: F.gelu(x), lambda x: TF.gelu(x)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "sin": (lambda x: F.sin(x), lambda x: torch.sin(x)),
    "cos": (lambda x: F.cos(x), lambda x: torch.cos(x)),
    "sign": (lambda x: F.sign(x), lambda x: torch.sign(x)),
    "identity": (lambda x: F.identity(x), lambda x: x),
    "square": (lambda x: F.square(x), lambda x: torch.square(x)),
    "hardtanh": (lambda x: F.hardtanh(x), lambda x: TF.hardtanh(x)),
    "hardtanh_2": (lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: TF.hardtanh(x, -2.0, 0.5)),
    "relu6": (lambda x: F.relu6(x), lambda x: TF.relu6(x)),
    "hardsigmoid": (lambda x: F.hardsigmoid(x), lambda x: TF.hardsigmoid(x)),
    "hardswish": (lambda x: F.hardswish(x), lambda x: TF.hardswish(x)),
    "mish": (lambda x: F.mish(x), lambda x: TF.mish(x)),
    "softsign": (lambda x: F.softsign(x), lambda x: TF.softsign(x)),
    "tanhshrink": (lambda x: F.tanhshrink(x), lambda x: TF.tanhshrink(x)),
    "softshrink": (lambda x: F.softshrink(x, 1.5), lambda x: TF.softshrink(x, 1.5)),
    "hardshrink": (lambda x: F.hardshrink(x), lambda x: TF.hardshrink(x)),
    "softmax0": (lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0)),
    "softmax-1": (lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    "softmax_T": (lambda x: F.softmax(x, dim=1, temperature=0.3), lambda x: TF.softmax(x / 0.3, dim=1)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1)),
    "log_softmax_T": (lambda x: F.log_softmax(x, dim=-1, temperature=4.0), lambda x: TF.log_softmax(x / 4.0, dim=-1)),
    "softmin": (lambda x: F.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1)),
}

# values away from every kink (0, ±1, ±3, 6, 0.5, −2) and thresholds, for finite differences
SAFE = np.array([-7.3, -3.6, -2.4, -1.7, -0.8, -0.35, -0.05, 0.15, 0.3, 0.7, 1.4, 2.2, 3.3, 5.1, 6.6, 21.3])


def _wide(rng, shape):
    """Random inputs over the interesting range, including large magnitudes (overflow paths)."""
    x = rng.standard_normal(shape) * 3
    x.flat[0], x.flat[-1] = 30.0, -40.0
    return x


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_forward_backward_vs_torch(name, rng):
    fs, ft = PAIRS[name]
    x = _wide(rng, (4, 5, 3))
    # torch's hardsigmoid backward multiplies by the float32 constant 1.0f/6.0f even in float64
    tol = {"rtol": 1e-7} if name == "hardsigmoid" else {}
    check(lambda lib, a: (fs if lib is sj else ft)(a), x, **tol)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "softplus_beta", "gelu", "gelu_tanh", "silu", "elu",
                                  "selu", "logsigmoid", "mish", "arctan", "softmax_T", "log_softmax", "square"])
def test_second_derivative_vs_torch(name, rng):
    """∂/∂x ⟨v, ∂f/∂x·u⟩ (a Hessian-vector product) equals torch's with create_graph=True."""
    fs, ft = PAIRS[name]
    x = rng.standard_normal((3, 4)) * 2
    u, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    xs, xt = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gs,) = sj.autograd.grad((fs(xs) * sj.tensor(u)).sum(), xs, create_graph=True)
    (gt,) = torch.autograd.grad((ft(xt) * torch.tensor(u)).sum(), xt, create_graph=True)
    assert_same(gs, gt, what="first")
    (hs,) = sj.autograd.grad((gs * sj.tensor(v)).sum(), xs)
    (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), xt)
    assert_same(hs, ht, what="second")


@pytest.mark.parametrize("name", sorted(F.ACTIVATIONS))
def test_gradcheck(name):
    f, _ = F.ACTIVATIONS[name]
    x = sj.tensor(SAFE.copy(), requires_grad=True)
    if name == "prelu":
        w = sj.tensor([0.3], dtype=sj.float64, requires_grad=True)
        assert gradcheck(lambda a, b: f(a, b), (x, w))
        xc = sj.tensor(SAFE.reshape(2, 4, 2).copy(), requires_grad=True)
        wc = sj.tensor([0.1, -0.2, 0.3, 0.4], dtype=sj.float64, requires_grad=True)
        assert gradcheck(lambda a, b: f(a, b), (xc, wc))
    elif name in ("softmax", "log_softmax"):
        assert gradcheck(lambda a: f(a.reshape(4, 4), dim=1, temperature=0.7), (x,))
    else:
        assert gradcheck(f, (x,))


@pytest.mark.parametrize("name", sorted(F.ACTIVATIONS))
def test_closed_form_derivative_equals_autograd(name):
    """derivative(name, x) — the f′ the lab plots — is the derivative autograd computes."""
    f, _ = F.ACTIVATIONS[name]
    x = sj.tensor(SAFE.copy(), requires_grad=True)
    if name == "prelu":
        w = sj.tensor([0.3], dtype=sj.float64)
        d = F.derivative(name, x, weight=w)
        (g,) = sj.autograd.grad(f(x, w).sum(), x)
    elif name in ("softmax", "log_softmax"):
        xm = sj.tensor(SAFE.reshape(4, 4).copy(), requires_grad=True)
        jac = F.derivative(name, xm, dim=1, temperature=0.7)
        assert tuple(jac.shape) == (4, 4, 4)
        y = f(xm, dim=1, temperature=0.7)
        for i in range(4):
            (gi,) = sj.autograd.grad(y[:, i].sum(), xm, retain_graph=True)
            np.testing.assert_allclose(jac.detach().numpy()[:, i, :], gi.detach().numpy(), rtol=1e-12, atol=1e-14)
        return
    else:
        d = F.derivative(name, x)
        (g,) = sj.autograd.grad(f(x).sum(), x)
    assert tuple(d.shape) == tuple(x.shape) and d.dtype == sj.float64
    np.testing.assert_allclose(d.detach().numpy(), g.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_derivative_kwargs_and_module_names():
    x = sj.tensor(SAFE.copy())
    np.testing.assert_allclose(F.derivative("LeakyReLU", x, negative_slope=0.3).detach().numpy(), np.where(SAFE > 0, 1, 0.3))
    np.testing.assert_allclose(F.derivative("elu", x, alpha=2.0).detach().numpy(),
                               np.where(SAFE > 0, 1, 2.0 * np.expm1(np.minimum(SAFE, 0)) + 2.0))  # f + α
    np.testing.assert_allclose(F.derivative("softplus", x).detach().numpy(), 1 / (1 + np.exp(-SAFE)))  # σ (Nelson)
    np.testing.assert_allclose(F.derivative("step", x, threshold=1.0).detach().numpy(), 0)
    np.testing.assert_allclose(F.derivative(nn.ELU(alpha=2.0), x).detach().numpy(), F.derivative("elu", x, alpha=2.0).detach().numpy())
    with pytest.raises(ValueError, match="unknown activation"):
        F.derivative("nope", x)


# ------------------------------------------------------------------ NumPy formulas (no torch twin)


@pytest.mark.parametrize("T", [0.0, 1.0, -0.5])
def test_step_threshold_formula(T):
    """Xu eq. 1.1: σ(x) = 1 if x ≥ T else 0, with zero gradient."""
    x = np.array([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    xs = sj.tensor(x, requires_grad=True)
    y = F.step(xs, threshold=T)
    np.testing.assert_array_equal(y.detach().numpy(), (x >= T).astype(float))
    assert y.dtype == sj.float64
    y.sum().backward()
    np.testing.assert_array_equal(xs.grad.detach().numpy(), 0)
    np.testing.assert_array_equal(nn.Step(T)(sj.tensor(x)).detach().numpy(), (x >= T).astype(float))


def test_step_solves_xor_by_hand():
    """Xu Fig 1.4: with threshold-1 steps, h1 + h2 separates XOR."""
    X = sj.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    h1 = F.step(X @ sj.tensor([1.0, -1.0]), threshold=1.0)
    h2 = F.step(X @ sj.tensor([-1.0, 1.0]), threshold=1.0)
    np.testing.assert_array_equal((h1 + h2).detach().numpy(), [0, 1, 1, 0])


def test_arctan_formula(rng):
    x = rng.standard_normal(7) * 4
    xs = sj.tensor(x, requires_grad=True)
    y = nn.Arctan()(xs)
    np.testing.assert_allclose(y.detach().numpy(), np.arctan(x), rtol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(xs.grad.detach().numpy(), 1 / (1 + x * x), rtol=1e-14)


def test_polynomial_formula(rng):
    """p(x) = Σ c_k x^k and p′; a two-layer net with it stays a polynomial (Xu Remark 2)."""
    c = [0.5, -1.0, 2.0, 0.25]
    x = rng.standard_normal(9)
    xs = sj.tensor(x, requires_grad=True)
    y = F.polynomial(xs, c)
    np.testing.assert_allclose(y.detach().numpy(), np.polynomial.polynomial.polyval(x, c), rtol=1e-13)
    y.sum().backward()
    dc = np.polynomial.polynomial.polyder(c)
    np.testing.assert_allclose(xs.grad.detach().numpy(), np.polynomial.polynomial.polyval(x, dc), rtol=1e-13)
    m = nn.Polynomial(c, dtype=sj.float64)
    np.testing.assert_allclose(m(sj.tensor(x)).detach().numpy(), np.polynomial.polynomial.polyval(x, c), rtol=1e-13)
    np.testing.assert_allclose(m.derivative(sj.tensor(x)).detach().numpy(), np.polynomial.polynomial.polyval(x, dc), rtol=1e-13)
    np.testing.assert_allclose(nn.Polynomial()(sj.tensor(x)).detach().numpy(), x * x, rtol=1e-6)
    # Σ_j a_j p(w_j x + b_j) with quadratic p is a quadratic: its third differences vanish
    w, b, a = rng.standard_normal(20), rng.standard_normal(20), rng.standard_normal(20)
    grid = np.linspace(-2, 2, 11)
    net = (F.square(sj.tensor(np.outer(grid, w) + b)) @ sj.tensor(a)).detach().numpy()
    np.testing.assert_allclose(np.diff(net, 3), 0, atol=1e-10)


def test_polynomial_learnable_coefficients(rng):
    m = nn.Polynomial([0.0, 1.0, 0.5], learnable=True, dtype=sj.float64)
    assert [n for n, _ in m.named_parameters()] == ["coeffs"]
    x = rng.standard_normal(6)
    m(sj.tensor(x)).sum().backward()
    np.testing.assert_allclose(m.coeffs.grad.detach().numpy(), [6, x.sum(), (x * x).sum()], rtol=1e-13)
    assert nn.Polynomial().state_dict()["coeffs"].shape == (3,)


@pytest.mark.parametrize("T", [0.1, 1.0, 5.0])
def test_softmax_temperature_formula(T, rng):
    """Xu eq. 1.38: exp(v_k/T)/Σ exp(v_i/T); large T flattens, small T sharpens."""
    v = rng.standard_normal((3, 6))
    s = F.softmax(sj.tensor(v), dim=1, temperature=T).detach().numpy()
    e = np.exp(v / T)
    np.testing.assert_allclose(s, e / e.sum(1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(nn.Softmax(dim=1, temperature=T)(sj.tensor(v)).detach().numpy(), s)
    ls = F.log_softmax(sj.tensor(v), dim=1, temperature=T).detach().numpy()
    np.testing.assert_allclose(ls, np.log(e / e.sum(1, keepdims=True)), rtol=1e-12, atol=1e-14)


def test_softmax_temperature_limits():
    v = sj.tensor([[1.0, 2.0, 3.0]], dtype=sj.float64)
    ent = [float(-(p * p.log()).sum()) for p in (F.softmax(v, dim=1, temperature=T) for T in (0.05, 1.0, 100.0))]
    assert ent[0] < ent[1] < ent[2] < math.log(3)
    np.testing.assert_allclose(F.softmax(v, dim=1, temperature=0.01).detach().numpy(), [[0, 0, 1]], atol=1e-12)
    with pytest.raises(ValueError, match="temperature"):
        F.softmax(v, dim=1, temperature=0.0)


def test_softmax_module_jacobian():
    x = sj.tensor(SAFE[:6].reshape(2, 3).copy())
    J = nn.Softmax(dim=1).derivative(x).detach().numpy()
    s = F.softmax(x, dim=1).detach().numpy()
    for n in range(2):
        np.testing.assert_allclose(J[n], np.diag(s[n]) - np.outer(s[n], s[n]), rtol=1e-13)
    Jm = nn.Softmin(dim=1).derivative(x).detach().numpy()
    xs = sj.tensor(x.detach().numpy(), requires_grad=True)
    (g,) = sj.autograd.grad(F.softmin(xs, dim=1)[:, 0].sum(), xs)
    np.testing.assert_allclose(Jm[:, 0, :], g.detach().numpy(), rtol=1e-12)


# ------------------------------------------------------------------ stability and dtypes


def test_softplus_logsigmoid_stable():
    x = sj.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=sj.float64, requires_grad=True)
    y = F.softplus(x)
    assert np.isfinite(y.detach().numpy()).all()
    np.testing.assert_allclose(y.detach().numpy(), [0, math.exp(-50), math.log(2), 50, 1000], rtol=1e-14)
    ls = F.logsigmoid(x)
    np.testing.assert_allclose(ls.detach().numpy(), [-1000, -50, -math.log(2), -math.exp(-50), 0], rtol=1e-14, atol=1e-300)
    (y.sum() + ls.sum()).backward()
    assert np.isfinite(x.grad.detach().numpy()).all()
    z = sj.tensor([-800.0, 800.0], dtype=sj.float64, requires_grad=True)
    for f in (F.elu, F.selu, F.celu, F.silu, F.mish, F.sigmoid, F.tanh, F.gelu):
        out = f(z)
        out.sum().backward()
        assert np.isfinite(out.detach().numpy()).all() and np.isfinite(z.grad.detach().numpy()).all(), f.__name__
        z.grad = None


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_float32_stays_float32(name):
    fs, ft = PAIRS[name]
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    ys, yt = fs(sj.tensor(x)), ft(torch.tensor(x))
    assert ys.dtype == sj.float32
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=2e-6, atol=2e-6)


def test_integer_input_promotes():
    assert F.sigmoid(sj.tensor([0, 1])).dtype == sj.float32
    assert F.step(sj.tensor([0, 1])).dtype == sj.float32


# ------------------------------------------------------------------ modules

MODULES = [
    ("ReLU", {}), ("ReLU", {"inplace": True}), ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}),
    ("ELU", {"alpha": 0.7}), ("SELU", {}), ("CELU", {"alpha": 2.0}), ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}), ("SiLU", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"}),
    ("Sigmoid", {}), ("Tanh", {}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}), ("Softmin", {"dim": 0}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("ReLU6", {}), ("Hardsigmoid", {}), ("Hardswish", {}),
    ("Mish", {}), ("Softsign", {}), ("LogSigmoid", {}), ("PReLU", {}), ("PReLU", {"num_parameters": 5, "init": 0.1}),
    ("Tanhshrink", {}), ("Softshrink", {}), ("Softshrink", {"lambd": 0.3}), ("Hardshrink", {}), ("Hardshrink", {"lambd": 1.0}),
]


@pytest.mark.parametrize("name,kw", MODULES, ids=[f"{n}{k}" for n, k in MODULES])
def test_module_vs_torch(name, kw, rng):
    ms, mt = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(ms) == repr(mt)
    if name == "PReLU":
        ms.double()
        mt.double()
        mt.weight.data = torch.tensor(rng.standard_normal(mt.weight.shape))
        ms.load_state_dict({"weight": sj.tensor(mt.weight.detach().detach().numpy())})
        assert set(ms.state_dict()) == set(mt.state_dict()) == {"weight"}
    x = _wide(rng, (3, 5, 2))
    check(lambda lib, a: (ms if lib is sj else mt)(a * 1 if kw.get("inplace") else a), x, **({"rtol": 1e-7} if name == "Hardsigmoid" else {}))
    if name == "PReLU":
        xs, xt = sj.tensor(x), torch.tensor(x)
        ms(xs).sum().backward()
        mt(xt).sum().backward()
        assert_same(ms.weight.grad, mt.weight.grad)
    if name not in ("Softmax", "LogSoftmax", "Softmin"):
        xs = sj.tensor(SAFE.copy(), requires_grad=True) if name != "PReLU" else sj.tensor(SAFE.reshape(2, 1, 8).copy(),
                                                                                           requires_grad=True)
        if name == "PReLU" and kw:
            xs = sj.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
        (g,) = sj.autograd.grad(ms(xs * 1).sum(), xs)
        np.testing.assert_allclose(ms.derivative(xs).detach().numpy(), g.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_notes_modules():
    x = sj.tensor(SAFE.copy())
    np.testing.assert_allclose(nn.Sin()(x).detach().numpy(), np.sin(SAFE))
    np.testing.assert_allclose(nn.Cos()(x).detach().numpy(), np.cos(SAFE))
    np.testing.assert_allclose(nn.Cos().derivative(x).detach().numpy(), -np.sin(SAFE))
    np.testing.assert_allclose(nn.Sign()(x).detach().numpy(), np.sign(SAFE))
    np.testing.assert_allclose(nn.Square()(x).detach().numpy(), SAFE**2)
    assert repr(nn.Step(0.5)) == "Step(threshold=0.5)"
    assert repr(nn.Sin()) == "Sin()"
    assert repr(nn.Softmax(dim=1, temperature=2.0)) == "Softmax(dim=1, temperature=2.0)"


def test_softshrink_negative_lambda_error():
    """softshrink refuses λ < 0 (as PyTorch); hardshrink takes it (every x passes, as PyTorch)."""
    with pytest.raises(RuntimeError, match=r"softshrink: lambda must be greater or equal to 0, but found -0.5"):
        F.softshrink(sj.tensor([1.0]), -0.5)
    check(lambda m, x: m.nn.functional.hardshrink(x, -0.5), np.array([0.0, 0.2, -1.0]))


def test_prelu_errors():
    with pytest.raises(RuntimeError, match="channel size"):
        nn.PReLU(3)(sj.randn(2, 4))
