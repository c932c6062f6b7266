"""Spot checks for mle-losses: the affine constants, the constant model's minimisers, and Fang's printed
heteroscedastic objective."""

import math

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.lab.experiments.mle_losses import (
    TwoHeads,
    affine_fit,
    affine_summary,
    bernoulli_categorical,
    constant_model,
    correct_objective,
    fit_two_heads,
    printed_objective,
    softmax_temperature,
)


def test_gaussian_nll_is_affine_in_mse():
    rng = np.random.default_rng(0)
    y, f = rng.normal(size=50), rng.normal(size=50)
    s2 = 0.3
    nll = F.gaussian_nll_loss(sj.tensor(f, dtype=sj.float64), sj.tensor(y, dtype=sj.float64), s2, full=True,
                              reduction="sum").item()
    mse = float(np.mean((f - y) ** 2))
    assert abs(nll - (50 / (2 * s2) * mse + 25 * math.log(2 * math.pi * s2))) < 1e-10


def test_laplace_nll_is_affine_in_mae():
    rng = np.random.default_rng(1)
    y, f = rng.normal(size=40), rng.normal(size=40)
    b = 0.7
    nll = F.laplace_nll_loss(sj.tensor(f, dtype=sj.float64), sj.tensor(y, dtype=sj.float64), b, full=True,
                             reduction="sum").item()
    assert abs(nll - (40 / b * float(np.mean(np.abs(f - y))) + 40 * math.log(2 * b))) < 1e-10


def test_affine_fit_and_summary():
    a = np.linspace(1, 5, 20)
    alpha, beta, resid = affine_fit(a, 3 * a - 2)
    assert abs(alpha - 3) < 1e-12 and abs(beta + 2) < 1e-12 and resid < 1e-14
    row = affine_summary(a, 3 * a - 2, 3 * a - 2 + 1e-3, 3.0, -1.0, ("a_theory", "b_theory"))
    assert row["alpha_rel_error"] < 1e-12 and abs(row["beta_error_rel_to_max_nll"] - 1 / 13) < 1e-12
    assert abs(row["max_rel_diff_library_vs_density"] - 1e-3 / 13) < 1e-12
    assert affine_fit(a, a ** 2)[2] > 1e-3  # not affine


def test_constant_model_minimisers_are_mean_and_median():
    skew = np.array([0.1, 0.2, 0.4, 1.0, 2.5])
    row, _ = constant_model(skew)
    assert abs(row["argmin_gaussian_nll"] - 0.84) < 1e-9 and abs(row["argmin_laplace_nll"] - 0.4) < 1e-9
    assert max(row["argmin_distance"].values()) < 1e-9


def test_bernoulli_and_categorical_nll_are_bce_and_ce():
    bern, cat = bernoulli_categorical(np.random.default_rng(2))
    assert max(bern["abs_difference"].values()) < 1e-12 and max(cat["abs_difference"].values()) < 1e-12
    big = cat["logits_[1000,990,0]"]
    assert big["naive_softmax_overflows"] is True and big["cross_entropy_error"] < 1e-12


def test_printed_heteroscedastic_objective_is_unbounded_below():
    y, mu = 1.0, 0.0
    printed = [0.5 * math.log(2 * math.pi * s * s) - (y - mu) ** 2 / (2 * s * s) for s in (1.0, 0.1, 0.01)]
    correct = [F.heteroscedastic_gaussian_nll_loss(sj.tensor([mu], dtype=sj.float64), sj.tensor([y], dtype=sj.float64),
                                                   sj.tensor([s], dtype=sj.float64), full=True).item()
               for s in (1.0, 0.1, 0.01)]
    assert printed[0] > printed[1] > printed[2] < -4000  # → −∞ as f₂ → 0
    assert correct[0] < correct[1] < correct[2]  # the real NLL grows when σ is too small
    t = [sj.tensor([[v]], dtype=sj.float64) for v in (mu, y)]
    for s, p, c in zip((1.0, 0.1, 0.01), printed, correct):
        f2 = sj.tensor([[s]], dtype=sj.float64)
        assert abs(printed_objective(t[0], f2, t[1]).item() - p) < 1e-9 * abs(p)
        assert abs(correct_objective(t[0], f2, t[1]).item() - c) < 1e-12 * abs(c)


def test_two_heads_and_the_early_stop():
    x = np.linspace(-3, 3, 64)
    X, Y = sj.tensor(x[:, None], dtype=sj.float64), sj.tensor(np.sin(x)[:, None], dtype=sj.float64)
    mu, f2 = TwoHeads().to(sj.float64)(X)
    assert mu.shape == f2.shape == (64, 1)
    _, losses = fit_two_heads(correct_objective, X, Y, 20, seed=0)
    assert len(losses) == 20 and losses[-1] < losses[0]
    _, losses = fit_two_heads(lambda m, f, y: correct_objective(m, f, y) - 2e6, X, Y, 20, seed=0)
    assert len(losses) == 1  # below −1e6: stopped before the first update


def test_cross_entropy_not_symmetric():
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])
    assert abs(-(p * np.log(q)).sum() - -(q * np.log(p)).sum()) > 0.1


def test_softmax_entropy_grows_with_temperature():
    row, data = softmax_temperature()
    assert row["entropy_min_step"] > 0 and row["entropy_at_smallest_T"] < 1e-2 and row["entropy_at_largest_T_over_log_K"] > 0.99
    assert row["argmax_unchanged"] is True and np.allclose(data["probs"].sum(1), 1)
