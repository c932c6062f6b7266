"""ols-vs-gd: closed-form OLS, QR and gradient descent agree to 1e-6, the GD path and eq. 1.19's gradient of the
experiment, and the notes' 1/n batch loss as a rescaled learning rate (Xu §1.2–1.3)."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import linear as L
from shenjing import nn, optim
from shenjing.data import toy
from shenjing.lab.experiments.ols_vs_gd import closed_form_gaps, gd_path, gradient_gap, sgd_path


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
    Xt, Yt = toy.linear(60, 1, weights=[2.0], bias=-1.0, noise=0.5, seed=2)
    X, Y = sj.tensor(Xt.numpy().astype(np.float64)), sj.tensor(Yt.numpy().astype(np.float64))
    a = sgd_path(X, Y, 0.3, 2, 6, sj.Generator().manual_seed(5), notes_form=True)
    b = sgd_path(X, Y, 0.3 * 6 / 60, 2, 6, sj.Generator().manual_seed(5))
    np.testing.assert_allclose(a, b, atol=1e-13)
    c = sgd_path(X, Y, 0.3 * 6 / 60, 2, 6, sj.Generator().manual_seed(6))  # other batches: another path
    assert np.abs(a - c).max() > 1e-6


def test_gd_path_reaches_the_closed_form_and_eq_1_19_is_autograds_gradient():
    rng = np.random.default_rng(3)
    Xt, Yt = toy.linear(80, 1, weights=[2.0], bias=-1.0, noise=0.5, seed=3)
    x, y = Xt.numpy().astype(np.float64), Yt.numpy().astype(np.float64)
    gaps = closed_form_gaps(x, y[:, 0], rng)
    assert gaps["max_gap_between_solvers_1d"] < 1e-10 and gaps["normal_vs_qr_gap_5_features"] < 1e-10
    assert gaps["ill_conditioned_normal_vs_lstsq_gap"] > gaps["ill_conditioned_qr_vs_lstsq_gap"]
    beta = gaps["beta_closed_form"]
    path, steps = gd_path(sj.tensor(x), sj.tensor(y), beta)
    assert np.abs(path[-1] - beta).max() < 1e-10 and 0 < steps < len(path) - 1
    assert np.array_equal(path[0], [-1.5, 2.5])
    assert gradient_gap(x[:, 0], y[:, 0], sj.tensor(x), sj.tensor(y)) < 1e-12
    assert gradient_gap(x[:, 0], 2 * y[:, 0], sj.tensor(x), sj.tensor(y)) > 1e-3  # the check can fail
