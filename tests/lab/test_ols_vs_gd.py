"""Spot check of the issue: closed-form OLS, QR and gradient descent agree to 1e-6 (Xu §1.2–1.3)."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import linear as L
from shenjing import nn, optim
from shenjing.data import toy


def test_normal_equations_qr_and_gd_agree_to_1e_6():
    Xt, Yt = toy.linear(300, 3, weights=[1.0, -2.0, 0.5], bias=0.7, noise=0.3, seed=1)
    X = Xt.numpy().astype(np.float64)
    y = Yt.numpy().astype(np.float64)[:, 0]
    normal = np.append(*L.ols(X, y, "normal", fit_intercept=True))
    qr = np.append(*L.ols(X, y, "qr", fit_intercept=True))
    ref = np.linalg.lstsq(np.hstack([X, np.ones((300, 1))]), y, rcond=None)[0]
    assert np.abs(normal - qr).max() < 1e-6 and np.abs(qr - ref).max() < 1e-6

    model = nn.Linear(3, 1, dtype=sj.float64)
    opt = optim.SGD(model.parameters(), lr=0.2)
    Xs, Ys = sj.tensor(X), sj.tensor(y[:, None])
    for _ in range(2000):
        opt.zero_grad()
        (0.5 * F.mse_loss(model(Xs), Ys)).backward()  # L_S = (1/2n)Σ(y − h)², eq. 1.17
        opt.step()
    gd = np.append(model.weight.detach().numpy().ravel(), model.bias.detach().numpy())
    assert np.abs(gd - normal).max() < 1e-6


def test_notes_one_over_n_batch_loss_is_a_rescaled_learning_rate():
    """Xu eq. 1.20–1.21 divide the batch sum by n: the standard batch mean with η·|B|/n."""
    from shenjing.lab.experiments.ols_vs_gd import _sgd

    Xt, Yt = toy.linear(60, 1, weights=[2.0], bias=-1.0, noise=0.5, seed=2)
    X, Y = sj.tensor(Xt.numpy().astype(np.float64)), sj.tensor(Yt.numpy().astype(np.float64))
    a = _sgd(sj, nn, optim, X, Y, 0.3, 2, 6, sj.Generator().manual_seed(5), notes_form=True)
    b = _sgd(sj, nn, optim, X, Y, 0.3 * 6 / 60, 2, 6, sj.Generator().manual_seed(5))
    np.testing.assert_allclose(a, b, atol=1e-13)
