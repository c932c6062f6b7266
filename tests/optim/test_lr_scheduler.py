"""Learning-rate schedules against torch.optim.lr_scheduler: the sequence of rates (and cycled
momenta) over 100 steps, for two parameter groups with different base rates."""

import warnings

import numpy as np
import pytest
import torch

import shenjing as sj
from shenjing import optim
from shenjing.optim import lr_scheduler as S
from shenjing.train.checkpoint import load_checkpoint, save_checkpoint

STEPS = 100


def _opt(lib, name="SGD"):
    mod = torch.optim if lib is torch else optim
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    kw = {"momentum": 0.9} if name == "SGD" else {}
    return getattr(mod, name)([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.03}], **kw)


def _sched(lib, opt, spec):
    mod = torch.optim.lr_scheduler if lib is torch else S
    kind, kw = spec
    if kind == "Sequential":
        warm = mod.LinearLR(opt, start_factor=0.1, total_iters=5)
        main = mod.CosineAnnealingLR(opt, T_max=95, eta_min=1e-4)
        return mod.SequentialLR(opt, [warm, main], milestones=[5])
    if kind == "Sequential3":
        s1 = mod.ConstantLR(opt, factor=0.5, total_iters=10)
        s2 = mod.ExponentialLR(opt, gamma=0.95)
        s3 = mod.StepLR(opt, step_size=7, gamma=0.5)
        return mod.SequentialLR(opt, [s1, s2, s3], milestones=[10, 40])
    if kind == "Chained":
        return mod.ChainedScheduler([mod.ConstantLR(opt, factor=0.2, total_iters=10), mod.ExponentialLR(opt, gamma=0.97)])
    return getattr(mod, kind)(opt, **kw)


SPECS = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [10, 30, 30, 75], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.97}),
    ("CosineAnnealingLR", {"T_max": 30}),
    ("CosineAnnealingLR", {"T_max": 100, "eta_min": 1e-3}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 20}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 60}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 12}),
    ("PolynomialLR", {"total_iters": 80, "power": 2.0}),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + 0.1 * e)}),
    ("LambdaLR", {"lr_lambda": [lambda e: 0.9**e, lambda e: min(1.0, (e + 1) / 10)]}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.98}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS + 1}),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "total_steps": STEPS, "anneal_strategy": "linear", "three_phase": True,
                    "pct_start": 0.25}),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 1e-3}),
    ("Sequential", {}),
    ("Sequential3", {}),
    ("Chained", {}),
]


def _sequence(lib, spec, opt_name="SGD"):
    opt = _opt(lib, opt_name)
    sched = _sched(lib, opt, spec)
    rows = []
    for _ in range(STEPS):
        rows.append([g["lr"] for g in opt.param_groups] + list(sched.get_last_lr()) + [
            g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups])
        opt.step()
        if spec[0] == "OneCycleLR" and len(rows) == spec[1]["total_steps"]:
            break
        sched.step()
    return np.array(rows, dtype=float)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s[0] + str(sorted(k for k in s[1])))
def test_sequence_matches_torch(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _sequence(torch, spec)
    ours = _sequence(sj, spec)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_one_cycle_cycles_adam_beta1():
    spec = ("OneCycleLR", {"max_lr": 0.01, "total_steps": STEPS, "base_momentum": 0.8, "max_momentum": 0.95})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _sequence(torch, spec, "Adam")
    ours = _sequence(sj, spec, "Adam")
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    assert ours[:, -1].min() == pytest.approx(0.8, abs=1e-3)


PLATEAU = [
    ({}, [1.0 - 0.01 * i for i in range(20)] + [0.8] * 30 + [0.7 + 0.001 * (i % 3) for i in range(50)]),
    ({"mode": "max", "factor": 0.5, "patience": 3, "cooldown": 2, "min_lr": [0.01, 0.0]},
     [0.1 * np.sin(i / 5) + 0.001 * i for i in range(100)]),
    ({"threshold_mode": "abs", "threshold": 0.05, "patience": 2, "factor": 0.3, "eps": 1e-3},
     [1.0 / (1 + i) for i in range(100)]),
]


@pytest.mark.parametrize("case", PLATEAU, ids=["min", "max-cooldown-minlr", "abs-eps"])
def test_reduce_on_plateau_matches_torch(case):
    kw, metrics = case
    seqs = []
    for lib, mod in ((torch, torch.optim.lr_scheduler), (sj, S)):
        opt = _opt(lib)
        sched = mod.ReduceLROnPlateau(opt, **kw)
        rows = []
        for m in metrics:
            opt.step()
            sched.step(m)
            rows.append([g["lr"] for g in opt.param_groups] + list(sched.get_last_lr()) + [sched.num_bad_epochs])
        seqs.append(np.array(rows))
    np.testing.assert_allclose(seqs[1], seqs[0], rtol=1e-12, atol=0)
    assert seqs[1][-1, 0] < 0.1  # the rate was reduced at least once


def test_linear_warmup_helper():
    opt = _opt(sj)
    after = S.CosineAnnealingLR(opt, T_max=90)
    sched = S.linear_warmup(opt, 10, after=after)
    lrs = []
    for _ in range(STEPS):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs[:11], [0.1 * (0.1 + 0.9 * t / 10) for t in range(11)], rtol=1e-12)
    np.testing.assert_allclose(lrs[10:], [0.1 * (1 + np.cos(np.pi * e / 90)) / 2 for e in range(90)], rtol=1e-9, atol=1e-15)
    # the same as PyTorch's hand-written SequentialLR
    topt = _opt(torch)
    tsched = torch.optim.lr_scheduler.SequentialLR(
        topt, [torch.optim.lr_scheduler.LinearLR(topt, 0.1, 1.0, 10), torch.optim.lr_scheduler.CosineAnnealingLR(topt, 90)], [10])
    ref = []
    for _ in range(STEPS):
        ref.append(tsched.get_last_lr()[0])
        topt.step()
        tsched.step()
    np.testing.assert_allclose(lrs, ref, rtol=1e-12)
    alone = S.linear_warmup(_opt(sj), 4)
    assert isinstance(alone, S.LinearLR) and alone.get_last_lr()[0] == pytest.approx(0.025)


@pytest.mark.parametrize("spec", [SPECS[3], SPECS[12], ("Sequential", {}), ("LambdaLR", {"lr_lambda": lambda e: 0.95**e})],
                         ids=["cosine", "onecycle", "sequential", "lambda"])
def test_scheduler_state_dict_resumes(spec, tmp_path):
    def build():
        opt = _opt(sj)
        return opt, _sched(sj, opt, spec)

    opt, sched = build()
    full = []
    for _ in range(60):
        opt.step()
        sched.step()
        full.append(sched.get_last_lr())
    opt, sched = build()
    for _ in range(30):
        opt.step()
        sched.step()
    saved_opt = _through_file(opt.state_dict(), tmp_path / "opt.safetensors")
    saved = sched.state_dict()
    if spec[0] == "LambdaLR":  # functions are not saved, as in PyTorch
        assert saved["lr_lambdas"] == [None, None]
    saved = _through_file(saved, tmp_path / "sched.safetensors")
    opt2, sched2 = build()
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    resumed = []
    for _ in range(30):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    np.testing.assert_array_equal(np.array(full[30:]), np.array(resumed))


def test_scheduler_errors():
    opt = _opt(sj)
    with pytest.raises(TypeError):
        S.StepLR(object(), 3)
    with pytest.raises(KeyError):
        S.StepLR(opt, 3, last_epoch=5)
    with pytest.raises(ValueError):
        S.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError):
        S.SequentialLR(opt, [S.StepLR(opt, 3)], milestones=[2])
    with pytest.raises(ValueError):
        S.OneCycleLR(opt, max_lr=0.1)


def _through_file(state, path):
    """Save and reload a state dict through a real checkpoint file (safetensors + JSON, no pickle)."""
    path = path / "state.safetensors" if path.is_dir() else path
    save_checkpoint(path, state)
    return load_checkpoint(path)
