"""Optimiser state_dict: PyTorch's layout, a save/load round trip that resumes identically, loading a
torch.optim state_dict, parameter-group management, zero_grad and argument checks."""


import numpy as np
import pytest
import torch
from optim_helpers import Run, data, lockstep, loss_fn, make_params

import shenjing as sj
from shenjing import optim
from shenjing.train.checkpoint import load_checkpoint, save_checkpoint

CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.9, "momentum_init": "zeros"}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adadelta", {"weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "eps_inside_sqrt": True}),
    ("NormalizedGradient", {"lr": 0.01}),
    ("NesterovLookahead", {"lr": 0.05, "momentum": 0.9}),
]
GROUPS = [{"params": [0, 1], "lr": 0.02}, {"params": [2, 3]}]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0] + ",".join(map(str, c[1].values())))
def test_round_trip_resumes_identically(case, tmp_path, seed):
    name, kw = case
    straight = Run(sj, name, kw, seed, GROUPS, closure=True)
    for _ in range(20):
        straight.step()

    interrupted = Run(sj, name, kw, seed, GROUPS, closure=True)
    for _ in range(10):
        interrupted.step()
    saved = _through_file(interrupted.opt.state_dict(), tmp_path)
    midway = interrupted.arrays()
    interrupted.step()  # later steps do not change the saved snapshot
    resumed = Run(sj, name, kw, seed, GROUPS, closure=True)
    resumed.set_arrays(midway)
    resumed.opt.load_state_dict(saved)
    for _ in range(10):
        resumed.step()
    for a, b in zip(straight.arrays(), resumed.arrays()):
        np.testing.assert_array_equal(a, b)


def test_layout_matches_torch(seed):
    arrays, X, Y = data(seed)
    layouts = []
    for lib, mod in ((torch, torch.optim), (sj, optim)):
        params = make_params(lib, arrays)
        opt = mod.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], amsgrad=True)
        opt.zero_grad()
        loss_fn(lib, params, lib.tensor(X), lib.tensor(Y)).backward()
        opt.step()
        sd = opt.state_dict()
        layouts.append((sorted(sd["state"]), [sorted(sd["state"][i]) for i in sorted(sd["state"])],
                        [g["params"] for g in sd["param_groups"]], [g["lr"] for g in sd["param_groups"]],
                        [tuple(sd["state"][0]["exp_avg"].shape)], float(sd["state"][3]["step"])))
    assert layouts[0] == layouts[1]


@pytest.mark.parametrize("case", [("Adam", {"lr": 0.01, "amsgrad": True}), ("SGD", {"lr": 0.05, "momentum": 0.9}),
                                  ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}), ("Adagrad", {"lr": 0.1}),
                                  ("Adadelta", {})], ids=lambda c: c[0])
def test_load_torch_state_dict(case, seed):
    """A torch.optim state_dict loads into the shenjing optimiser, which then continues as torch does."""
    name, kw = case
    theirs = Run(torch, name, kw, seed)
    for _ in range(10):
        theirs.step()
    ours = Run(sj, name, kw, seed)
    ours.set_arrays(theirs.arrays())
    ours.opt.load_state_dict(theirs.opt.state_dict())
    lockstep(ours, theirs, steps=10)


def test_load_casts_to_param_dtype_and_checks_sizes():
    w = sj.nn.Parameter(sj.randn(3))
    opt = optim.Adam([w])
    w.grad = sj.ones(3)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = sj.tensor(sd["state"][0]["exp_avg"].numpy(), dtype=sj.float64)
    opt2 = optim.Adam([sj.nn.Parameter(sj.randn(3))])
    opt2.load_state_dict(sd)
    st = next(iter(opt2.state.values()))
    assert st["exp_avg"].dtype == sj.float32 and st["step"].dtype == sj.float32
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [w]}, {"params": [sj.nn.Parameter(sj.randn(2))]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="size"):
        optim.Adam([w, sj.nn.Parameter(sj.randn(2))]).load_state_dict(sd)


def test_param_groups_and_defaults():
    a, b, c = (sj.nn.Parameter(sj.randn(2)) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 and g["nesterov"] is False for g in opt.param_groups)
    opt.add_param_group({"params": [c], "weight_decay": 1e-3})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 1e-3
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD({a, b}, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    r = repr(opt)
    assert r.startswith("SGD (") and "Parameter Group 2" in r and "momentum: 0.9" in r


def test_named_parameters_are_accepted():
    model = sj.nn.Linear(3, 2)
    opt = optim.Adam(model.named_parameters(), lr=0.01)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"][0] is model.weight


def test_zero_grad():
    w = sj.nn.Parameter(sj.randn(3))
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and not w.grad.numpy().any()
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # no gradient: nothing to do


def test_closure_runs_with_grad_enabled():
    w = sj.nn.Parameter(sj.randn(3))
    opt = optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with sj.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, sj.Tensor) and w.grad is not None


def _through_file(state, path):
    """Save and reload a state dict through a real checkpoint file (safetensors + JSON, no pickle)."""
    path = path / "state.safetensors" if path.is_dir() else path
    save_checkpoint(path, state)
    return load_checkpoint(path)
