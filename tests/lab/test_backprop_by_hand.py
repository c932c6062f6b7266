"""Spot checks for backprop-by-hand: Zhao Algorithm 4 and Xu §1.5 equal autograd."""

import numpy as np

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.backprop_by_hand import algorithm3, algorithm4, kink_convention, train_by_hand, two_layer_grads_xu


def test_algorithm4_equals_autograd(rng):
    net = nn.Sequential(nn.Linear(3, 7), nn.ReLU(), nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 1)).to(sj.float64)
    X, Y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    lin = [m for m in net.modules() if isinstance(m, nn.Linear)]
    dW, db, J = algorithm4(X.T, Y.T, [m.weight.detach().numpy() for m in lin], [m.bias.detach().numpy() for m in lin])
    loss = 0.5 * ((net(sj.tensor(X, dtype=sj.float64)) - sj.tensor(Y, dtype=sj.float64)) ** 2).mean()
    loss.backward()
    assert abs(J - loss.item()) < 1e-12
    for m, gw, gb in zip(lin, dW, db):
        assert np.abs(m.weight.grad.numpy() - gw).max() < 1e-10
        assert np.abs(m.bias.grad.numpy() - gb).max() < 1e-10


def test_algorithm3_one_sample(rng):
    W1, b1, W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), rng.normal(size=(1, 4)), rng.normal(size=(1, 1))
    x, y = rng.normal(size=(2, 1)), rng.normal(size=(1, 1))
    g = algorithm3(x, y, W1, b1, W2, b2)
    t = [sj.tensor(v, dtype=sj.float64, requires_grad=True) for v in (W1, b1, W2, b2)]
    o = t[2] @ (t[0] @ sj.tensor(x, dtype=sj.float64) + t[1]).relu() + t[3]
    (0.5 * ((o - sj.tensor(y, dtype=sj.float64)) ** 2).sum()).backward()
    assert np.abs(g["W1"] - t[0].grad.numpy()).max() < 1e-12
    assert np.abs(g["W2"] - t[2].grad.numpy()).max() < 1e-12


def test_xu_two_layer_formulas(rng):
    x, y = rng.uniform(-1, 1, 30), rng.normal(size=30)
    a, w, b = rng.normal(size=5), rng.normal(size=5), rng.normal(size=5)
    da, dw, db, _ = two_layer_grads_xu(x, y, a, w, b, np.tanh, lambda z: 1 - np.tanh(z) ** 2)
    ts = [sj.tensor(v, dtype=sj.float64, requires_grad=True) for v in (a, w, b)]
    h = ((sj.tensor(x, dtype=sj.float64).unsqueeze(1) * ts[1] + ts[2]).tanh() * ts[0]).sum(1)
    (((h - sj.tensor(y, dtype=sj.float64)) ** 2).sum() / 60).backward()
    for mine, t in zip((da, dw, db), ts):
        assert np.abs(mine - t.grad.numpy()).max() < 1e-12


def test_kink_convention_and_training_by_hand():
    sj.manual_seed(3)
    k = kink_convention(np.random.default_rng(3))
    assert k["max_abs_diff_autograd_vs_indicator_z>0"] < 1e-10
    assert k["rows_of_W1_that_differ"] == [2] and k["only_the_kink_unit_differs"] is True
    hand, auto, pdiff = train_by_hand(5, 0.05)
    assert len(hand) == len(auto) == len(pdiff) == 5 and max(pdiff) < 1e-10
    assert abs(hand[0] - auto[0]) < 1e-12 and hand[-1] < hand[0]
