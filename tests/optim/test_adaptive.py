"""Adagrad, RMSprop, Adadelta, Adam and AdamW against torch.optim: 50 steps on the same tiny MLP in
float64 from identical weights, parameters and loss equal to 1e-12 after every step."""

import pytest
import torch
from optim_helpers import Run, lockstep

import shenjing as sj

CASES = [
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.8, "weight_decay": 0.01, "eps": 1e-4}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
]


def _id(case):
    name, kw = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_torch(case, seed):
    name, kw = case
    losses = lockstep(Run(sj, name, kw, seed), Run(torch, name, kw, seed), what=_id(case))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"])
def test_maximize(name, seed):
    kw = {"maximize": True} if name == "Adadelta" else {"lr": 0.01, "maximize": True}
    lockstep(Run(sj, name, kw, seed, sign=-1.0), Run(torch, name, kw, seed, sign=-1.0))


GROUPS = [
    ("Adam", {"lr": 0.01}, [{"params": [0, 1], "lr": 0.03, "betas": (0.5, 0.9)}, {"params": [2, 3], "amsgrad": True}]),
    ("RMSprop", {"lr": 0.01}, [{"params": [0, 2], "centered": True}, {"params": [1, 3], "lr": 0.002, "momentum": 0.5}]),
    ("Adagrad", {"lr": 0.1}, [{"params": [0, 1, 2]}, {"params": [3], "lr": 0.5, "lr_decay": 0.1}]),
    ("Adadelta", {}, [{"params": [0, 1], "lr": 0.5}, {"params": [2, 3], "rho": 0.8}]),
    ("AdamW", {"lr": 0.01}, [{"params": [0, 1], "weight_decay": 0.0}, {"params": [2, 3], "lr": 0.001}]),
]


@pytest.mark.parametrize("case", GROUPS, ids=lambda c: c[0])
def test_param_groups(case, seed):
    name, kw, groups = case
    lockstep(Run(sj, name, kw, seed, groups), Run(torch, name, kw, seed, groups))


def test_float32_state_and_dtype():
    w = sj.nn.Parameter(sj.randn(4, 3))
    opt = sj.optim.Adam([w], lr=0.1, amsgrad=True)
    w.grad = sj.randn(4, 3)
    opt.step()
    st = opt.state[w]
    assert w.dtype == sj.float32
    assert all(st[k].dtype == sj.float32 for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
    assert float(st["step"]) == 1.0
