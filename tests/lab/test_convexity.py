"""convexity: the measured facts checked independently of the experiment's code path (PyTorch as the oracle)."""

import numpy as np
import torch

import shenjing as sj
from shenjing.lab.core import run_experiment
from shenjing.lab.experiments.convexity import HIDDEN, chord_cosines, gradients, jensen_gaps, level_curves, net_loss, permute_units, rosenbrock


def test_convexity_quick_numbers(tmp_path):
    r = run_experiment("convexity", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"]
    assert min(m["nonconvex_violation_fraction"].values()) > 0.2 and max(m["convex_max_violation"].values()) <= 1e-12
    assert min(m["midpoint_losses"]) > m["train_loss"] and m["level_set_max_abs_cos"]["ω₁² + 20ω₂²"] < 1e-9


def test_jensen_gap_of_a_square_is_the_variance_term():
    rng = np.random.default_rng(0)
    x, y, lam = rng.normal(size=50), rng.normal(size=50), rng.uniform(size=50)
    np.testing.assert_allclose(jensen_gaps(lambda t: t ** 2, x, y, lam), -lam * (1 - lam) * (x - y) ** 2, atol=1e-12)


def test_net_loss_and_unit_permutation_against_torch():
    rng = np.random.default_rng(1)
    w, x, y = rng.normal(size=4 * HIDDEN + 1), rng.normal(size=(30, 2)), rng.normal(size=30)
    perm = rng.permutation(HIDDEN)

    def torch_loss(v):
        v = torch.tensor(v, dtype=torch.float64)
        net = torch.nn.Sequential(torch.nn.Linear(2, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1)).double()
        with torch.no_grad():
            net[0].weight.copy_(v[:2 * HIDDEN].reshape(HIDDEN, 2))
            net[0].bias.copy_(v[2 * HIDDEN:3 * HIDDEN])
            net[2].weight.copy_(v[3 * HIDDEN:4 * HIDDEN].reshape(1, HIDDEN))
            net[2].bias.copy_(v[4 * HIDDEN:])
            return torch.nn.functional.mse_loss(net(torch.tensor(x))[:, 0], torch.tensor(y)).item()

    pw = permute_units(w, perm)
    t = lambda a: sj.tensor(a, dtype=sj.float64)  # noqa: E731
    ours = net_loss(t(np.stack([w, pw])), t(x), t(y)).numpy()
    np.testing.assert_allclose(ours, [torch_loss(w), torch_loss(pw)], rtol=1e-13)
    assert abs(torch_loss(pw) - torch_loss(w)) < 1e-13 and not np.allclose(pw, w)


def test_rosenbrock_gradient_against_torch():
    pts = np.random.default_rng(2).uniform(-2, 2, (20, 2))
    t = torch.tensor(pts, requires_grad=True)
    ((1 - t[:, 0]) ** 2 + 100 * (t[:, 1] - t[:, 0] ** 2) ** 2).sum().backward()
    np.testing.assert_allclose(gradients(rosenbrock, pts), t.grad.numpy(), rtol=1e-13)


def test_traced_circle_lies_on_the_circle_and_its_chords_are_tangent():
    def circle(W):
        return (W[..., 0] - 0.3) ** 2 + W[..., 1] ** 2

    grid = np.linspace(-2, 2, 101)
    (c,) = level_curves(circle, grid, grid, 1.0)
    np.testing.assert_allclose(np.hypot(c[:, 0] - 0.3, c[:, 1]), 1.0, atol=1e-12)
    assert chord_cosines(circle, [c]).max() < 1e-9  # a circle's chord is ⟂ to the radius through its midpoint
    assert chord_cosines(circle, [c], centre=np.zeros(2)).max() > 0.2  # but not to the direction from the origin
