"""SGD/GD against torch.optim.SGD: 50 steps on the same tiny MLP in float64 from identical weights,
parameters and loss equal to 1e-12 after every step."""

import numpy as np
import pytest
import torch
from optim_helpers import Run, lockstep, run

import shenjing as sj
from shenjing import optim

CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.9},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_matches_torch(kw, seed):
    losses = lockstep(Run(sj, "SGD", kw, seed), Run(torch, "SGD", kw, seed), what=str(kw))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("kw", [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}])
def test_sgd_maximize(kw, seed):
    kw = {**kw, "maximize": True}
    lockstep(Run(sj, "SGD", kw, seed, sign=-1.0), Run(torch, "SGD", kw, seed, sign=-1.0))
    # ascending −L is descending L: every gradient is negated exactly, so the runs agree bit for bit
    ascent, _ = run(sj, "SGD", kw, seed, sign=-1.0)
    descent, _ = run(sj, "SGD", {k: v for k, v in kw.items() if k != "maximize"}, seed)
    for a, b in zip(ascent, descent):
        np.testing.assert_array_equal(a, b)


def test_sgd_param_groups(seed):
    groups = [{"params": [0, 1], "lr": 0.2, "momentum": 0.5}, {"params": [2, 3], "weight_decay": 0.1}]
    kw = {"lr": 0.05, "momentum": 0.9}
    lockstep(Run(sj, "SGD", kw, seed, groups), Run(torch, "SGD", kw, seed, groups))


def test_gd_is_full_batch_sgd(seed):
    """GD (梯度下降 on the full batch, Xu eq. 1.40): the steps of torch.optim.SGD with the same settings."""
    kw = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}
    lockstep(Run(sj, "GD", kw, seed), Run(torch, "SGD", kw, seed))
    assert issubclass(optim.GD, optim.SGD) and "全批量" in optim.GD.__doc__


def test_sgd_closure_returns_loss(seed):
    losses = lockstep(Run(sj, "SGD", {"lr": 0.1}, seed, closure=True), Run(torch, "SGD", {"lr": 0.1}, seed, closure=True))
    assert losses[-1] < losses[0]


def test_sgd_float32_in_place_and_version():
    w = sj.nn.Parameter(sj.ones(3))
    data = w.array
    opt = optim.SGD([w], lr=0.5, momentum=0.9)
    w.grad = sj.tensor([1.0, 2.0, 3.0])
    v = w._version
    opt.step()
    assert w.array is data and w.dtype == sj.float32 and w._version > v
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.0, -0.5])
    assert opt.state[w]["momentum_buffer"].dtype == sj.float32
    w.grad = None
    opt.step()  # parameters without a gradient are skipped
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.0, -0.5])


def test_sgd_argument_errors():
    w = sj.zeros(2, requires_grad=True)
    with pytest.raises(ValueError):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)
    with pytest.raises(ValueError):
        optim.SGD([w], momentum_init="ones")
