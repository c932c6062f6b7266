"""Losses against PyTorch in float64 (values and gradients for every reduction, class
weights, ignore_index, label smoothing, probability targets, (N, C, d…) shapes), second
derivatives, gradcheck, NumPy formulas where PyTorch lacks the loss, and the likelihood
derivations of Xu §1.8 / Fang ch. 5 (lab experiment ``mle-losses``)."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from scipy import stats
from torch_compare import assert_same, check

import shenjing as sj
import shenjing.nn as nn
import shenjing.nn.functional as F
from shenjing.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def lib_f(lib):
    return F if lib is sj else TF


def const(lib, a):
    return None if a is None else (sj.tensor(a) if lib is sj else torch.tensor(a))


# ------------------------------------------------------------------ regression losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4}),
                                     ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
                                     ("smooth_l1_loss", {"beta": 0.0})])
def test_regression_vs_torch(name, kw, reduction, rng):
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    check(lambda lib, a, b: getattr(lib_f(lib), name)(a, b, reduction=reduction, **kw), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_weighted_vs_torch(name, reduction, rng):
    x, y, w = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.uniform(0.1, 2, (5, 2))
    check(lambda lib, a, b: getattr(lib_f(lib), name)(a, b, reduction=reduction, weight=const(lib, w)), x, y)


def test_mse_broadcast_warns_like_torch(rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((3,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, a, b: lib_f(lib).mse_loss(a, b), x, y)
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(sj.tensor(x), sj.tensor(y))


def test_mse_half_conventions(rng):
    """scale='half': 1/(2n) Σ (f − y)² (Xu eq. 1.34) and ½ Σ (eq. 1.24)."""
    x, y = rng.standard_normal(10), rng.standard_normal(10)
    xs, ys = sj.tensor(x), sj.tensor(y)
    np.testing.assert_allclose(float(nn.MSELoss(scale="half")(xs, ys)), ((x - y) ** 2).sum() / (2 * 10), rtol=1e-14)
    np.testing.assert_allclose(float(nn.MSELoss(reduction="sum", scale="half")(xs, ys)), 0.5 * ((x - y) ** 2).sum(), rtol=1e-14)
    np.testing.assert_allclose(float(F.mse_loss(xs, ys, scale=3.0)), 3 * ((x - y) ** 2).mean(), rtol=1e-14)
    xg = sj.tensor(x, requires_grad=True)
    nn.MSELoss(reduction="sum", scale="half")(xg, ys).backward()
    np.testing.assert_allclose(xg.grad.numpy(), x - y, rtol=1e-14)  # the ½ cancels the 2
    with pytest.raises(ValueError, match="scale"):
        F.mse_loss(xs, ys, scale="double")


def test_bad_reduction():
    with pytest.raises(ValueError, match="not a valid value"):
        F.mse_loss(sj.zeros(2), sj.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="not a valid value"):
        F.cross_entropy(sj.zeros(2, 3), sj.tensor([0, 1]), reduction="batchmean")


# ------------------------------------------------------------------ binary cross-entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_vs_torch(reduction, weighted, rng):
    p, y = rng.uniform(0.02, 0.98, (5, 4)), rng.uniform(0, 1, (5, 4))
    w = rng.uniform(0.2, 2, (4,)) if weighted else None
    check(lambda lib, a, b: lib_f(lib).binary_cross_entropy(a, b, weight=const(lib, w), reduction=reduction), p, y)


def test_bce_clamps_log_like_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    check(lambda lib, a, b: lib_f(lib).binary_cross_entropy(a, b, reduction="none"), p, y, grad=False)
    ps, pt = sj.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    F.binary_cross_entropy(ps, sj.tensor(y), reduction="sum").backward()
    TF.binary_cross_entropy(pt, torch.tensor(y), reduction="sum").backward()
    assert_same(ps.grad, pt.grad)  # finite: (x − y)/max(x(1 − x), 1e-12)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(sj.tensor([1.5]), sj.tensor([1.0]))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(sj.tensor([0.5, 0.5]), sj.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted,pos", [(False, False), (True, False), (False, True), (True, True)])
def test_bce_with_logits_vs_torch(reduction, weighted, pos, rng):
    z, y = rng.standard_normal((6, 3)) * 4, rng.uniform(0, 1, (6, 3))
    z[0, 0], z[1, 1] = 500.0, -700.0  # stable: no overflow
    w = rng.uniform(0.2, 2, (6, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, (3,)) if pos else None
    check(lambda lib, a, b: lib_f(lib).binary_cross_entropy_with_logits(
        a, b, weight=const(lib, w), pos_weight=const(lib, pw), reduction=reduction), z, y)


def test_bce_modules_vs_torch(rng):
    z, y, w, pw = rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3)), rng.uniform(0.5, 1, 3), rng.uniform(1, 2, 3)
    for ms, mt in [(nn.BCEWithLogitsLoss(sj.tensor(w), pos_weight=sj.tensor(pw)),
                    torch.nn.BCEWithLogitsLoss(torch.tensor(w), pos_weight=torch.tensor(pw))),
                   (nn.BCELoss(sj.tensor(w), reduction="sum"), torch.nn.BCELoss(torch.tensor(w), reduction="sum"))]:
        assert set(ms.state_dict()) == set(mt.state_dict())
        arg = z if isinstance(ms, nn.BCEWithLogitsLoss) else 1 / (1 + np.exp(-z))
        check(lambda lib, a, b, ms=ms, mt=mt: (ms if lib is sj else mt)(a, b), arg, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_per_class_bce_formula(reduction, rng):
    """Xu eq. 1.26: H = −Σ_i Σ_j y_ij log ŷ_ij + (1 − y_ij) log(1 − ŷ_ij)."""
    n, c = 5, 4
    z = rng.standard_normal((n, c))
    p = 1 / (1 + np.exp(-z))
    y = (rng.uniform(size=(n, c)) < 0.5).astype(float)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(1)
    want = {"sum": per.sum(), "mean": per.mean(), "none": per}[reduction]
    for inp, logits in ((p, False), (z, True)):
        xs = sj.tensor(inp, requires_grad=True)
        out = nn.PerClassBCELoss(reduction=reduction, logits=logits)(xs, sj.tensor(y))
        np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
        out.sum().backward()
        g = (p - y) / (p * (1 - p)) if not logits else p - y  # ∂H/∂ŷ and ∂H/∂z
        scale = 1 / n if reduction == "mean" else 1
        np.testing.assert_allclose(xs.grad.numpy(), g * scale, rtol=1e-10)
    # eq. 1.26 is n·C BCE terms summed: 'mean' is BCE-mean times C
    np.testing.assert_allclose(float(F.per_class_binary_cross_entropy(sj.tensor(p), sj.tensor(y))),
                               c * float(F.binary_cross_entropy(sj.tensor(p), sj.tensor(y))), rtol=1e-13)


# ------------------------------------------------------------------ cross-entropy and NLL

CE_CASES = [
    # (input shape, weighted, ignore_index used, label_smoothing)
    ((7, 5), False, False, 0.0),
    ((7, 5), True, False, 0.0),
    ((7, 5), False, True, 0.0),
    ((7, 5), True, True, 0.0),
    ((7, 5), False, False, 0.2),
    ((7, 5), True, True, 0.15),
    ((3, 4, 2, 3), False, False, 0.0),
    ((3, 4, 2, 3), True, True, 0.1),
    ((4,), False, False, 0.0),
    ((4,), True, False, 0.3),
]


def _ce_inputs(rng, shape, ignore):
    c = shape[1] if len(shape) > 1 else shape[0]
    x = rng.standard_normal(shape) * 2
    tshape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
    t = rng.integers(0, c, tshape)
    if ignore and t.size > 1:
        t.flat[::3] = 1 if ignore == "index1" else -100
    return x, np.asarray(t, dtype=np.int64), c


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,ignore,eps", CE_CASES)
def test_cross_entropy_vs_torch(shape, weighted, ignore, eps, reduction, rng):
    x, t, c = _ce_inputs(rng, shape, ignore)
    w = rng.uniform(0.2, 2, c) if weighted else None
    check(lambda lib, a, b: lib_f(lib).cross_entropy(a, b, weight=const(lib, w), reduction=reduction,
                                                    label_smoothing=eps), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_custom_ignore_index(reduction, rng):
    x, t, c = _ce_inputs(rng, (6, 4), "index1")
    w = rng.uniform(0.2, 2, c)
    check(lambda lib, a, b: lib_f(lib).cross_entropy(a, b, weight=const(lib, w), ignore_index=1, reduction=reduction,
                                                    label_smoothing=0.1), x, t)
    check(lambda lib, a, b: lib_f(lib).nll_loss(a, b, weight=const(lib, w), ignore_index=1, reduction=reduction), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,eps", [((6, 4), False, 0.0), ((6, 4), True, 0.0), ((6, 4), True, 0.25),
                                                ((2, 3, 4), False, 0.1), ((5,), True, 0.0)])
def test_cross_entropy_probability_targets_vs_torch(shape, weighted, eps, reduction, rng):
    """Class-probability targets (soft labels): gradients also w.r.t. the target."""
    x = rng.standard_normal(shape)
    q = rng.uniform(0, 1, shape)
    q /= q.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    c = shape[1] if len(shape) > 1 else shape[0]
    w = rng.uniform(0.2, 2, c) if weighted else None
    check(lambda lib, a, b: lib_f(lib).cross_entropy(a, b, weight=const(lib, w), reduction=reduction,
                                                    label_smoothing=eps), x, q)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,ignore", [((7, 5), False, False), ((7, 5), True, True),
                                                   ((3, 4, 2, 3), True, True), ((4,), True, False)])
def test_nll_loss_vs_torch(shape, weighted, ignore, reduction, rng):
    x, t, c = _ce_inputs(rng, shape, ignore)
    w = rng.uniform(0.2, 2, c) if weighted else None
    check(lambda lib, a, b: lib_f(lib).nll_loss(lib_f(lib).log_softmax(a, dim=1 if a.ndim > 1 else 0), b,
                                               weight=const(lib, w), reduction=reduction), x, t)


def test_cross_entropy_all_ignored_like_torch(rng):
    x = rng.standard_normal((3, 4))
    t = np.full(3, -100)
    for reduction in REDUCTIONS:
        check(lambda lib, a, b, r=reduction: lib_f(lib).cross_entropy(a, b, reduction=r), x, t)


def test_cross_entropy_errors():
    x = sj.randn(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, sj.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="target size"):
        F.cross_entropy(x, sj.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="weight"):
        F.cross_entropy(x, sj.tensor([0, 1, 2]), weight=sj.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, sj.tensor([0, 1, 2]), label_smoothing=1.5)


@pytest.mark.parametrize("kw", [{}, {"weight": True, "label_smoothing": 0.2}, {"ignore": True}, {"probs": True},
                                {"probs": True, "weight": True, "label_smoothing": 0.1}, {"reduction": "sum", "spatial": True}])
def test_cross_entropy_second_derivative_vs_torch(kw, rng):
    """The fused backward is itself differentiable: Hessian-vector products equal torch's."""
    shape = (3, 4, 2) if kw.get("spatial") else (5, 4)
    x = rng.standard_normal(shape)
    if kw.get("probs"):
        t = rng.uniform(0, 1, shape)
        t /= t.sum(1, keepdims=True)
    else:
        t = rng.integers(0, 4, (shape[0],) + shape[2:])
        if kw.get("ignore"):
            t[0] = -100
    w = rng.uniform(0.5, 2, 4) if kw.get("weight") else None
    u = rng.standard_normal(shape)
    res = []
    for lib in (sj, torch):
        xl = lib.tensor(x, requires_grad=True)
        tl = lib.tensor(t, requires_grad=bool(kw.get("probs")))
        loss = lib_f(lib).cross_entropy(xl, tl, weight=const(lib, w), reduction=kw.get("reduction", "mean"),
                                        label_smoothing=kw.get("label_smoothing", 0.0))
        ins = (xl, tl) if kw.get("probs") else (xl,)
        g = lib.autograd.grad(loss, ins, create_graph=True)
        hv = lib.autograd.grad((g[0] * lib.tensor(u)).sum(), ins, allow_unused=True)
        res.append(tuple(g) + tuple(hv))
    for a, b in zip(*res):
        if b is None:
            assert a is None, "torch has no gradient, shenjing has one"
        else:
            assert_same(a, b)


def test_cross_entropy_none_second_derivative(rng):
    """'none' reduction: the upstream gradient itself carries through the double backward."""
    x, t = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    v, u = rng.standard_normal(4), rng.standard_normal((4, 3))
    out = []
    for lib in (sj, torch):
        xl = lib.tensor(x, requires_grad=True)
        loss = (lib_f(lib).cross_entropy(xl, lib.tensor(t), reduction="none") * lib.tensor(v)).sum()
        (g,) = lib.autograd.grad(loss, xl, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(u)).sum(), xl)
        out.append((g, h))
    assert_same(out[0][0], out[1][0])
    assert_same(out[0][1], out[1][1])


def test_cross_entropy_gradient_is_softmax_minus_onehot(rng):
    z, y = rng.standard_normal((4, 5)), np.array([0, 3, 1, 4])
    zs = sj.tensor(z, requires_grad=True)
    F.cross_entropy(zs, sj.tensor(y), reduction="sum").backward()
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(zs.grad.numpy(), p - np.eye(5)[y], rtol=1e-13)


def test_cross_entropy_float32_and_large_logits():
    z = sj.tensor([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(z, sj.tensor([2, 1]))
    assert loss.dtype == sj.float32
    np.testing.assert_allclose(float(loss), (2000 + math.log(3)) / 2, rtol=1e-6)
    loss.backward()
    assert z.grad.dtype == sj.float32 and np.isfinite(z.grad.numpy()).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_module_vs_torch(reduction, rng):
    w = rng.uniform(0.5, 2, 4)
    ms = nn.CrossEntropyLoss(sj.tensor(w), ignore_index=2, reduction=reduction, label_smoothing=0.1)
    mt = torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=2, reduction=reduction, label_smoothing=0.1)
    assert list(ms.state_dict()) == list(mt.state_dict()) == ["weight"]
    assert repr(ms) == repr(mt)
    x, t = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    check(lambda lib, a, b: (ms if lib is sj else mt)(a, b), x, t)
    ns, nt = nn.NLLLoss(sj.tensor(w), reduction=reduction), torch.nn.NLLLoss(torch.tensor(w), reduction=reduction)
    check(lambda lib, a, b: (ns if lib is sj else nt)(a, b), x, t)


# ------------------------------------------------------------------ KL, Gaussian, Poisson


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_vs_torch(reduction, log_target, rng):
    logp = np.log(rng.dirichlet(np.ones(4), 5))
    q = rng.dirichlet(np.ones(4), 5)
    q[0, 1] = 0.0  # 0·log 0 = 0
    tgt = np.log(q + 1e-3) if log_target else q
    # torch's target gradient is nan at q = 0 (log 0); shenjing's is finite: compare it where q > 0
    check(lambda lib, a: lib_f(lib).kl_div(a, lib.tensor(tgt), reduction=reduction, log_target=log_target), logp)
    check(lambda lib, a, b: lib_f(lib).kl_div(a, b, reduction=reduction, log_target=log_target), logp,
          tgt if log_target else q + 1e-3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(6, 3), (6,), (6, 1), "float"])
def test_gaussian_nll_vs_torch(var_shape, full, reduction, rng):
    mu, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    if var_shape == "float":
        check(lambda lib, a, b: lib_f(lib).gaussian_nll_loss(a, b, 0.7, full=full, reduction=reduction), mu, y)
        return
    var = rng.uniform(0.1, 2, var_shape)
    var.flat[0] = 1e-8  # clamped to eps, gradient still passes (torch clamps under no_grad)
    check(lambda lib, a, b, v: lib_f(lib).gaussian_nll_loss(a, b, v, full=full, reduction=reduction), mu, y, var)


def test_gaussian_nll_module_and_errors(rng):
    mu, y, var = rng.standard_normal((4, 2)), rng.standard_normal((4, 2)), rng.uniform(0.5, 1, (4, 2))
    check(lambda lib, a, b, v: (nn if lib is sj else torch.nn).GaussianNLLLoss(full=True, eps=1e-3)(a, b, v), mu, y, var)
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(sj.tensor(mu), sj.tensor(y), sj.tensor(-var))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(sj.tensor(mu), sj.tensor(y), sj.ones(3, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True), (False, True)])
def test_poisson_nll_vs_torch(log_input, full, reduction, rng):
    x = rng.uniform(0.1, 2, (5, 3)) if not log_input else rng.standard_normal((5, 3))
    y = rng.poisson(2.0, (5, 3)).astype(float)
    check(lambda lib, a: lib_f(lib).poisson_nll_loss(a, lib.tensor(y), log_input=log_input, full=full, reduction=reduction),
          x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_heteroscedastic_formula_and_torch(full, reduction, rng):
    """Fang §5.2: two heads, σ² = f₂(x)²; ℓ = ½ log(2π f₂²) + (y − f₁)²/(2 f₂²)."""
    f1, y = rng.standard_normal(8), rng.standard_normal(8)
    f2 = rng.uniform(0.3, 2, 8) * rng.choice([-1, 1], 8)  # σ = |f₂|, away from the eps clamp
    per = 0.5 * np.log(f2**2) + (y - f1) ** 2 / (2 * f2**2) + (0.5 * np.log(2 * np.pi) if full else 0)
    want = {"sum": per.sum(), "mean": per.mean(), "none": per}[reduction]
    got = nn.HeteroscedasticGaussianNLLLoss(full=full, reduction=reduction)(sj.tensor(f1), sj.tensor(y), sj.tensor(f2))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    check(lambda lib, a, b, s: (F.heteroscedastic_gaussian_nll_loss(a, b, s, full=full, reduction=reduction) if lib is sj
                                else TF.gaussian_nll_loss(a, b, s * s, full=full, reduction=reduction)), f1, y, f2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_laplace_nll_formula(full, reduction, rng):
    """p(y) = exp(−|y − μ|/b)/(2b): ℓ = log b + |y − μ|/b (+ log 2)."""
    mu, y, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.2, 2, (4, 3))
    per = np.log(b) + np.abs(y - mu) / b + (np.log(2) if full else 0)
    want = {"sum": per.sum(), "mean": per.mean(), "none": per}[reduction]
    ms, bs = sj.tensor(mu, requires_grad=True), sj.tensor(b, requires_grad=True)
    got = nn.LaplaceNLLLoss(full=full, reduction=reduction)(ms, sj.tensor(y), bs)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)
    got.sum().backward()
    k = 1 / per.size if reduction == "mean" else 1
    np.testing.assert_allclose(ms.grad.numpy(), k * np.sign(mu - y) / b, rtol=1e-12)
    np.testing.assert_allclose(bs.grad.numpy(), k * (1 / b - np.abs(y - mu) / b**2), rtol=1e-12)
    with pytest.raises(ValueError, match="positive"):
        F.laplace_nll_loss(ms, sj.tensor(y), 0.0)


# ------------------------------------------------------------------ margins


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_embedding_vs_torch(margin, reduction, rng):
    x, y = rng.standard_normal((5, 4)) * 2, rng.choice([-1.0, 1.0], (5, 4))
    check(lambda lib, a: lib_f(lib).hinge_embedding_loss(a, lib.tensor(y), margin=margin, reduction=reduction), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.5, False), (1, 1.0, True), (2, 2.0, True)])
def test_multi_margin_vs_torch(p, margin, weighted, reduction, rng):
    x, t = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    w = rng.uniform(0.2, 2, 4) if weighted else None
    check(lambda lib, a, b: lib_f(lib).multi_margin_loss(a, b, p=p, margin=margin, weight=const(lib, w),
                                                        reduction=reduction), x, t)
    check(lambda lib, a: (nn if lib is sj else torch.nn).MultiMarginLoss(p=p, margin=margin, reduction=reduction)(
        a, lib.tensor(t[0])), x[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_cosine_embedding_vs_torch(margin, reduction, rng):
    a, b, y = rng.standard_normal((6, 5)), rng.standard_normal((6, 5)), rng.choice([-1, 1], 6)
    check(lambda lib, u, v: lib_f(lib).cosine_embedding_loss(u, v, lib.tensor(y), margin=margin, reduction=reduction), a, b)
    check(lambda lib, u, v: (nn if lib is sj else torch.nn).CosineEmbeddingLoss(margin=margin)(u, v, lib.tensor(y[0])),
          a[0], b[0])


def test_hinge_loss_formula_and_perceptron(rng):
    """max(0, margin − y·x); with margin 0 its gradient on a linear model is the perceptron rule."""
    x, y = rng.standard_normal(9), rng.choice([-1.0, 1.0], 9)
    xs = sj.tensor(x, requires_grad=True)
    loss = nn.HingeLoss(margin=1.0, reduction="sum")(xs, sj.tensor(y))
    np.testing.assert_allclose(float(loss), np.maximum(0, 1 - y * x).sum(), rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(xs.grad.numpy(), np.where(1 - y * x > 0, -y, 0))
    X, d = rng.standard_normal((9, 3)), rng.choice([-1.0, 1.0], 9)
    w = sj.tensor(rng.standard_normal(3), requires_grad=True)
    F.hinge_loss(sj.tensor(X) @ w, sj.tensor(d), margin=0.0, reduction="sum").backward()
    wrong = d * (X @ w.detach().numpy()) < 0
    np.testing.assert_allclose(-w.grad.numpy(), (d[wrong, None] * X[wrong]).sum(0), atol=1e-14)  # Δw = Σ_wrong y x


# ------------------------------------------------------------------ higher order and gradcheck


@pytest.mark.parametrize("name", ["mse", "bce", "bce_logits", "l1", "huber", "gaussian", "kl"])
def test_second_derivatives_vs_torch(name, rng):
    x, y = rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0.1, 0.9, (4, 3))
    fns = {
        "mse": lambda L, a, b: L.mse_loss(a, b),
        "bce": lambda L, a, b: L.binary_cross_entropy(a, b),
        "bce_logits": lambda L, a, b: L.binary_cross_entropy_with_logits(a * 3, b, pos_weight=None),
        "l1": lambda L, a, b: L.l1_loss(a * a, b),
        "huber": lambda L, a, b: L.huber_loss(a * 2, b, delta=0.3),
        "gaussian": lambda L, a, b: L.gaussian_nll_loss(a, b, a * a + 0.5),
        "kl": lambda L, a, b: L.kl_div(a.log(), b, reduction="batchmean"),
    }
    u = rng.standard_normal((4, 3))
    res = []
    for lib in (sj, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        loss = fns[name](lib_f(lib), a, b)
        g = lib.autograd.grad(loss, (a, b), create_graph=True)
        h = lib.autograd.grad((g[0] * lib.tensor(u)).sum(), (a, b), allow_unused=True)
        res.append((loss, g, h))
    for s, t in zip(res[0][1] + res[0][2], res[1][1] + res[1][2]):
        if t is None:
            assert s is None, "torch has no gradient, shenjing has one"
        else:
            assert_same(s, t, rtol=1e-9, atol=1e-10)


GRADCHECK = {
    "mse_half": lambda x, y, s: F.mse_loss(x, y, scale="half", reduction="sum"),
    "l1": lambda x, y, s: F.l1_loss(x, y),
    "huber": lambda x, y, s: F.huber_loss(x, y, delta=0.7, reduction="none"),
    "smooth_l1": lambda x, y, s: F.smooth_l1_loss(x, y, beta=0.6),
    "bce": lambda x, y, s: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_logits": lambda x, y, s: F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=sj.tensor([1.0, 2.0, 0.5])),
    "per_class_bce": lambda x, y, s: F.per_class_binary_cross_entropy(x, y.sigmoid(), logits=True, reduction="none"),
    "ce_index": lambda x, y, s: F.cross_entropy(x, sj.tensor([0, 2, 1, 2]), weight=sj.tensor([1.0, 2.0, 0.5]),
                                                label_smoothing=0.1),
    "ce_probs": lambda x, y, s: F.cross_entropy(x, y.softmax(1), reduction="none"),
    "nll": lambda x, y, s: F.nll_loss(x, sj.tensor([0, 2, -100, 1])),
    "kl": lambda x, y, s: F.kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
    "kl_log": lambda x, y, s: F.kl_div(x, y, reduction="sum", log_target=True),
    "gaussian": lambda x, y, s: F.gaussian_nll_loss(x, y, s * s + 0.1, full=True),
    "heteroscedastic": lambda x, y, s: F.heteroscedastic_gaussian_nll_loss(x, y, s),
    "laplace": lambda x, y, s: F.laplace_nll_loss(x, y, s.exp()),
    "poisson": lambda x, y, s: F.poisson_nll_loss(x, y.abs()),
    "hinge_embedding": lambda x, y, s: F.hinge_embedding_loss(x, sj.tensor([[1.0, -1.0, 1.0]]).expand(4, 3)),
    "hinge": lambda x, y, s: F.hinge_loss(x, sj.tensor([[1.0, -1.0, 1.0]]).expand(4, 3), margin=0.5),
    "multi_margin": lambda x, y, s: F.multi_margin_loss(x, sj.tensor([0, 2, 1, 2]), p=2),
    "cosine": lambda x, y, s: F.cosine_embedding_loss(x, y, sj.tensor([1, -1, 1, -1]), margin=-0.5),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name, rng):
    r = rng
    x = sj.tensor(r.uniform(0.2, 0.8, (4, 3)) * r.choice([-1, 1], (4, 3)) + r.choice([-1.5, 1.5], (4, 3)),
                  requires_grad=True)
    y = sj.tensor(r.standard_normal((4, 3)), requires_grad=True)
    s = sj.tensor(r.uniform(0.5, 1.5, (4, 3)), requires_grad=True)
    assert gradcheck(GRADCHECK[name], (x, y, s))


def test_gradgradcheck_cross_entropy(rng):
    r = rng
    x = sj.tensor(r.standard_normal((3, 4)), requires_grad=True)
    q = sj.tensor(r.dirichlet(np.ones(4), 3), requires_grad=True)
    assert sj.autograd.gradgradcheck(lambda a: F.cross_entropy(a, sj.tensor([1, 0, 3]), label_smoothing=0.2), (x,))
    assert sj.autograd.gradgradcheck(lambda a, b: F.cross_entropy(a, b, reduction="none"), (x, q))


# ------------------------------------------------------------------ likelihood derivations (mle-losses)


def test_gaussian_nll_fixed_sigma_is_mse(rng):
    """Xu §1.8.1 / Fang §5.2: −Σ log N(y; f, σ²) = Σ(y − f)²/(2σ²) + (n/2) log(2πσ²)."""
    f, y, sigma = rng.standard_normal(50), rng.standard_normal(50), 0.7
    n = f.size
    nll = -stats.norm.logpdf(y, loc=f, scale=sigma).sum()
    fs, ys = sj.tensor(f), sj.tensor(y)
    got = F.gaussian_nll_loss(fs, ys, sigma**2, full=True, reduction="sum")
    np.testing.assert_allclose(float(got), nll, rtol=1e-12)
    mse = float(F.mse_loss(fs, ys, reduction="sum"))
    np.testing.assert_allclose(float(got), mse / (2 * sigma**2) + n / 2 * math.log(2 * math.pi * sigma**2), rtol=1e-12)
    # the same minimiser: the gradients are proportional (factor 1/(2σ²))
    a = sj.tensor(f, requires_grad=True)
    (ga,) = sj.autograd.grad(F.gaussian_nll_loss(a, ys, sigma**2, reduction="sum"), a)
    (gb,) = sj.autograd.grad(F.mse_loss(a, ys, reduction="sum"), a)
    np.testing.assert_allclose(ga.numpy(), gb.numpy() / (2 * sigma**2), rtol=1e-12)


def test_laplace_nll_is_mae(rng):
    """Xu §1.8.2: −Σ log Laplace(y; f, b) = Σ|y − f|/b + n log(2b)."""
    f, y, b = rng.standard_normal(40), rng.standard_normal(40), 1.3
    nll = -stats.laplace.logpdf(y, loc=f, scale=b).sum()
    got = F.laplace_nll_loss(sj.tensor(f), sj.tensor(y), b, full=True, reduction="sum")
    np.testing.assert_allclose(float(got), nll, rtol=1e-12)
    mae = float(F.l1_loss(sj.tensor(f), sj.tensor(y), reduction="sum"))
    np.testing.assert_allclose(float(got), mae / b + f.size * math.log(2 * b), rtol=1e-12)


def test_bernoulli_nll_is_bce(rng):
    """Fang §5.3.1: −Σ log Bernoulli(y; σ(z)) is BCE on σ(z), and BCE-with-logits on z."""
    z, y = rng.standard_normal(30) * 3, rng.integers(0, 2, 30)
    nll = -stats.bernoulli.logpmf(y, 1 / (1 + np.exp(-z))).sum()
    zs, ys = sj.tensor(z), sj.tensor(y.astype(float))
    np.testing.assert_allclose(float(F.binary_cross_entropy(F.sigmoid(zs), ys, reduction="sum")), nll, rtol=1e-12)
    np.testing.assert_allclose(float(F.binary_cross_entropy_with_logits(zs, ys, reduction="sum")), nll, rtol=1e-12)


def test_categorical_nll_is_cross_entropy(rng):
    """Fang §5.3.2: −Σ log softmax(f)_y = −Σ [f_y − log Σ_k exp f_k] is the cross-entropy."""
    z, y = rng.standard_normal((20, 5)) * 2, rng.integers(0, 5, 20)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    nll = -sum(stats.multinomial.logpmf(np.eye(5)[yi], 1, pi) for yi, pi in zip(y, p))
    lse = -(z[np.arange(20), y] - np.log(np.exp(z).sum(1))).sum()
    got = float(F.cross_entropy(sj.tensor(z), sj.tensor(y), reduction="sum"))
    np.testing.assert_allclose(got, nll, rtol=1e-12)
    np.testing.assert_allclose(got, lse, rtol=1e-12)
    np.testing.assert_allclose(got, float(F.nll_loss(F.log_softmax(sj.tensor(z), 1), sj.tensor(y), reduction="sum")),
                               rtol=1e-13)
    # one-hot probability targets give the same loss
    np.testing.assert_allclose(float(F.cross_entropy(sj.tensor(z), sj.tensor(np.eye(5)[y]), reduction="sum")), got,
                               rtol=1e-13)


def test_cross_entropy_is_kl_plus_entropy_and_asymmetric(rng):
    """Fang §5.5: H(q, p) = KL(q‖p) + H(q); Xu §1.8.3: H(p, q) ≠ H(q, p)."""
    q = rng.dirichlet(np.ones(4), 6)
    z = rng.standard_normal((6, 4))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    H = float(F.cross_entropy(sj.tensor(z), sj.tensor(q), reduction="sum"))
    KL = float(F.kl_div(F.log_softmax(sj.tensor(z), 1), sj.tensor(q), reduction="sum"))
    Hq = -(q * np.log(q)).sum()
    np.testing.assert_allclose(H, KL + Hq, rtol=1e-12)
    Hqp = -(q * np.log(p)).sum()
    Hpq = float(F.cross_entropy(sj.tensor(np.log(q)), sj.tensor(p), reduction="sum"))
    np.testing.assert_allclose(H, Hqp, rtol=1e-12)
    assert abs(Hqp - Hpq) > 1e-3


def test_heteroscedastic_nll_minimised_at_residual_variance(rng):
    """For fixed f₁ the NLL in f₂ is minimised where f₂² = (y − f₁)² (per sample): σ(x) is learned."""
    f1, y = rng.standard_normal(6), rng.standard_normal(6)
    f2 = sj.tensor(np.abs(y - f1), requires_grad=True)
    (g,) = sj.autograd.grad(F.heteroscedastic_gaussian_nll_loss(sj.tensor(f1), sj.tensor(y), f2, reduction="sum"), f2)
    np.testing.assert_allclose(g.numpy(), 0, atol=1e-10)
    # and a learned scalar variance converges to the mean squared residual (MLE of σ²)
    logv = sj.tensor(0.0, dtype=sj.float64, requires_grad=True)
    for _ in range(300):
        loss = F.gaussian_nll_loss(sj.tensor(f1), sj.tensor(y), logv.exp().expand(6))
        (gl,) = sj.autograd.grad(loss, logv)
        with sj.no_grad():
            logv -= 0.5 * gl
    np.testing.assert_allclose(float(logv.exp()), ((y - f1) ** 2).mean(), rtol=1e-6)


def test_module_reprs_and_reduction_legacy():
    for name in ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
                 "NLLLoss", "KLDivLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
                 "MultiMarginLoss", "PoissonNLLLoss"]:
        assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)()), name
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.HeteroscedasticGaussianNLLLoss().reduction == "mean"
