"""Spot checks for mle-losses: the affine constants, and Fang's printed heteroscedastic objective."""

import math

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F


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


def test_printed_heteroscedastic_objective_is_unbounded_below():
    y, mu = 1.0, 0.0
    printed = [0.5 * math.log(2 * math.pi * s * s) - (y - mu) ** 2 / (2 * s * s) for s in (1.0, 0.1, 0.01)]
    correct = [F.heteroscedastic_gaussian_nll_loss(sj.tensor([mu], dtype=sj.float64), sj.tensor([y], dtype=sj.float64),
                                                   sj.tensor([s], dtype=sj.float64), full=True).item()
               for s in (1.0, 0.1, 0.01)]
    assert printed[0] > printed[1] > printed[2] < -4000  # → −∞ as f₂ → 0
    assert correct[0] < correct[1] < correct[2]  # the real NLL grows when σ is too small


def test_cross_entropy_not_symmetric():
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])
    assert abs(-(p * np.log(q)).sum() - -(q * np.log(p)).sum()) > 0.1
