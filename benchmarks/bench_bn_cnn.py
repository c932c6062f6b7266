#!/usr/bin/env python
"""Batch-norm CNN benchmark: the `shenjing train --model cnn` training step against PyTorch, one process.

    python benchmarks/bench_bn_cnn.py [--threads 1,2] [--repeats R] [--quick] [--cpu-time] [--json PATH]

The model is the registry's (``shenjing.train.zoo.cnn_model`` with the README's ≥ 0.93 recipe
``--opt convs=1 --opt fc=128 --dropout 0.25``, i.e. ``nn.SmallCNN``):

    conv 1→32 (3×3, pad 1, no bias) - BN2d - ReLU - maxpool 2 - conv 32→64 (3×3, pad 1, no bias) - BN2d - ReLU -
    maxpool 2 - flatten - dropout 0.25 - Linear 3136→128 (no bias) - BN1d - ReLU - dropout 0.25 - Linear 128→10

with CrossEntropyLoss and Adam (lr 1e-3), batch 128, float32, in training mode. PyTorch gets the same
layers (built from the shenjing model, layer by layer), the same initial weights and the same batches,
with torch, NumPy's BLAS and shenjing's kernel threads all set to the same count.

Before timing, both run 5 steps with dropout p = 0 (so that no random mask differs) and the script
checks, after the first step, the gradients (relative difference < 1e-4), the weights and running
statistics relative to how far they moved (‖Δ‖ < 1e-3 ‖w − w₀‖) and the eval-mode outputs
(‖Δ‖ < 1e-4 ‖y‖), and the 5 losses (relative difference < 1e-4); then the rows are timed:

* train step, dropout 0 — the checked computation;
* train step, dropout 0.25 — the real recipe (each framework draws its own masks);
* eval forward — ``model.eval()`` under no_grad (running statistics), as validation does;
* BN layers alone — the three BatchNorm layers' forward + backward at their shapes in the step, on
  the memory layout each framework's convolution gives them (channels-last for shenjing, NCHW for
  torch), and their memory-traffic floor (``bn_counts``: 8 passes at the measured copy bandwidth).

Timing as in the other scripts (``common.measure``: warm-up, interleaved blocks, median and minimum);
``--cpu-time`` measures process CPU time instead of wall time (steadier on a loaded machine, and
equal to the wall time at one thread when nothing else waits).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_cnn import bandwidth_gbs  # noqa: E402
from common import environment, measure, module_step, set_threads  # noqa: E402

import shenjing as sj  # noqa: E402
import shenjing.nn  # noqa: E402,F401
import shenjing.optim  # noqa: E402,F401
from shenjing.train.zoo import cnn_model  # noqa: E402

B = 128
P_DROP = 0.25
LR = 1e-3
#: (name, shape) of the inputs of the three BN layers in the step
BN_SHAPES = (("bn2d 32ch @28x28", (B, 32, 28, 28)), ("bn2d 64ch @14x14", (B, 64, 14, 14)), ("bn1d 128", (B, 128)))


# ------------------------------------------------------------------ the model on both frameworks


def sj_model():
    """The registry's model, as `shenjing train --model cnn --opt convs=1 --opt fc=128 --dropout 0.25` builds it."""
    return cnn_model((1, 28, 28), 10, convs=1, fc=128, dropout=P_DROP)


def torch_mirror(model):
    """The same layers in torch, module for module (so that the state_dict keys agree)."""
    tnn = torch.nn

    def layer(m):
        name = type(m).__name__
        if name == "Conv2d":
            return tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=m.bias is not None)
        if name in ("BatchNorm1d", "BatchNorm2d"):
            return getattr(tnn, name)(m.num_features, eps=m.eps, momentum=m.momentum)
        if name == "Linear":
            return tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        if name == "MaxPool2d":
            return tnn.MaxPool2d(m.kernel_size, m.stride)
        if name == "Dropout":
            return tnn.Dropout(m.p)
        if name in ("ReLU", "Flatten"):
            return getattr(tnn, name)()
        raise TypeError(f"no torch mirror for {name}")

    class Mirror(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(*[layer(m) for m in model.features])
            self.classifier = tnn.Sequential(*[layer(m) for m in model.classifier])

        def forward(self, x):
            return self.classifier(self.features(x))

    return Mirror()


def init_state(seed: int = 0) -> dict:
    """Initial weights and buffers: torch's default initialisation (seeded), as NumPy arrays for both."""
    torch.manual_seed(seed)
    ref = torch_mirror(sj_model())
    return {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}


def make_batches(n: int, seed: int = 1) -> list:
    """``n`` batches of standardised-looking images and labels."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((B, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, B).astype(np.int64)) for _ in range(n)]


def make_step(lib, state: dict, batches: list, p: float):
    """(train step, eval forward, model) for ``lib`` (the module shenjing or torch)."""
    model = sj_model()
    if lib is torch:
        model = torch_mirror(model)
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    else:
        model.load_state_dict({k: v.copy() for k, v in state.items()})
    for m in model.modules():  # the layers stay (same state_dict keys); p = 0 makes dropout the identity
        if type(m).__name__ == "Dropout":
            m.p = p
    model.train()
    opt = lib.optim.Adam(model.parameters(), lr=LR)
    data = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]
    step = module_step(model, lib.nn.CrossEntropyLoss(), opt, data)
    x0 = data[0][0]

    def forward_eval():
        model.eval()
        with lib.no_grad():
            y = model(x0)
        model.train()
        return y

    return step, forward_eval, model


def to_np(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def state_diff(s_model, t_model, state: dict) -> tuple[float, float]:
    """(max |Δ|, max over tensors of ‖w_shenjing − w_torch‖ / ‖w_torch − w_0‖): the state of the two
    models, compared relative to how far it moved from the initial ``state``."""
    sd_s, sd_t = s_model.state_dict(), t_model.state_dict()
    w_abs = w_rel = 0.0
    for k in sd_t:
        a, t = to_np(sd_s[k]).astype(np.float64), to_np(sd_t[k]).astype(np.float64)
        w_abs = max(w_abs, float(np.max(np.abs(a - t))))
        w_rel = max(w_rel, float(np.linalg.norm(a - t)) / (float(np.linalg.norm(t - state[k])) + 1e-9))
    return w_abs, w_rel


def check(state: dict, batches: list, steps: int = 5) -> dict:
    """Dropout 0 on both: after the first step, the gradients, the weights and running statistics
    (relative to how far they moved, 1e-3) and the eval outputs (1e-4 of their norm); the losses of
    ``steps`` steps (relative 1e-4).

    The state is compared after one step only: Adam divides each gradient component by its own
    magnitude, so float32 rounding, and the sign of components whose gradient is ~0, grow from
    step to step (after 5 steps the two runs differ by ~1% of what they moved, as two float32 runs
    of either framework in another summation order would)."""
    s_step, s_eval, s_model = make_step(sj, state, batches, 0.0)
    t_step, t_eval, t_model = make_step(torch, state, batches, 0.0)
    losses = [(s_step().item(), t_step().item())]
    sp, tp = dict(s_model.named_parameters()), dict(t_model.named_parameters())
    g_err = max(float(np.max(np.abs(to_np(sp[k].grad) - to_np(tp[k].grad)))) / float(np.max(np.abs(to_np(tp[k].grad))))
                for k in tp)
    w_abs, w_rel = state_diff(s_model, t_model, state)
    so, to = to_np(s_eval()), to_np(t_eval())
    out_rel = float(np.linalg.norm(so - to) / np.linalg.norm(to))
    losses += [(s_step().item(), t_step().item()) for _ in range(steps - 1)]
    loss_err = max(abs(a - b) / max(abs(b), 1e-12) for a, b in losses)
    ok = g_err < 1e-4 and loss_err < 1e-4 and w_rel < 1e-3 and out_rel < 1e-4
    return {"steps": steps, "losses": losses, "max_rel_grad_diff": g_err, "max_rel_loss_diff": loss_err,
            "max_abs_state_diff": w_abs, "max_state_diff_rel_to_change": w_rel, "eval_output_rel_diff": out_rel, "agree": ok}


# ------------------------------------------------------------------ the BN layers alone and their floor


def bn_cases(lib, seed: int = 3) -> dict:
    """Forward + backward of each BN layer of the step (train mode), on the memory layout each
    framework's convolution produces in the step: channels-last for shenjing, contiguous NCHW for torch."""
    rng = np.random.default_rng(seed)
    cases = {}
    for name, shape in BN_SHAPES:
        a, ga = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
        if lib is torch:
            x, g = torch.from_numpy(a).requires_grad_(), torch.from_numpy(ga)
        else:
            if len(shape) == 4:  # (N, H, W, C) memory seen as (N, C, H, W)
                a, ga = (np.ascontiguousarray(v.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) for v in (a, ga))
            x, g = sj.as_tensor(a).requires_grad_(), sj.as_tensor(ga)
        bn = (lib.nn.BatchNorm2d if len(shape) == 4 else lib.nn.BatchNorm1d)(shape[1])
        bn.train()

        def fb(x=x, g=g, bn=bn):
            bn(x).backward(g)
            x.grad = bn.weight.grad = bn.bias.grad = None

        cases[name] = fb
    return cases


def bn_counts() -> dict:
    """FLOPs and the minimum float32 memory traffic of each BN layer per step (train mode): forward
    reads x twice (the statistics, then y = x·α + β′) and writes y; backward reads ḡ and x twice
    (Σḡ and Σḡ(x − μ), then ∂x) and writes ∂x — 8 passes over the (N, C, H, W) array. FLOPs: forward
    Σx, Σx² and x·α + β′ (5 per element), backward the two sums and ḡu₁ − xu₂ − u₃ (7 per element)."""
    per = {}
    for name, shape in BN_SHAPES:
        n = int(np.prod(shape))
        per[name] = {"elements": n, "bytes_forward": 4 * 3 * n, "bytes_backward": 4 * 5 * n, "flops": 12 * n}
    return per


# ------------------------------------------------------------------ main


HDR = f"{'':<30} {'sj med ms':>10} {'sj min ms':>10} {'pt med ms':>10} {'pt min ms':>10} {'med':>7} {'min':>7}"


def row(name, s, t) -> str:
    return (f"{name:<30} {s['median_ms']:>10.2f} {s['min_ms']:>10.2f} {t['median_ms']:>10.2f} {t['min_ms']:>10.2f}"
            f" {s['median_ms'] / t['median_ms']:>6.2f}x {s['min_ms'] / t['min_ms']:>6.2f}x")


def timed(fns: dict, repeats: int, warmup: int, cpu: bool) -> dict:
    """common.measure, with process CPU time instead of wall time when ``cpu``."""
    return measure(fns, repeats, warmup, clock=time.process_time if cpu else time.perf_counter)


def run_threads(n: int, state, batches, repeats: int, warmup: int, cpu: bool, with_bn: bool) -> dict:
    rows = {}
    s0, s_eval, _ = make_step(sj, state, batches, 0.0)
    t0, t_eval, _ = make_step(torch, state, batches, 0.0)
    s1, _, _ = make_step(sj, state, batches, P_DROP)
    t1, _, _ = make_step(torch, state, batches, P_DROP)
    cases = {"train step, dropout 0": (s0, t0), f"train step, dropout {P_DROP}": (s1, t1), "eval forward (no_grad)": (s_eval, t_eval)}
    if with_bn:
        sb, tb = bn_cases(sj), bn_cases(torch)
        cases.update({f"{k} fwd+bwd": (sb[k], tb[k]) for k in sb})
    print(f"\n=== {n} thread{'s' if n > 1 else ''} ({'CPU' if cpu else 'wall'} time) ===")
    print(HDR)
    for name, (fs, ft) in cases.items():
        gc.collect()
        m = timed({"shenjing": fs, "torch": ft}, repeats if "step" in name else max(repeats, 20), warmup, cpu)
        s, t = m["shenjing"], m["torch"]
        m["ratio_median"], m["ratio_min"] = s["median_ms"] / t["median_ms"], s["min_ms"] / t["min_ms"]
        rows[name] = m
        print(row(name, s, t), flush=True)
    if with_bn:
        counts, bw = bn_counts(), bandwidth_gbs()
        floors = {k: (c["bytes_forward"] + c["bytes_backward"]) / bw / 1e6 for k, c in counts.items()}
        rows["bn_traffic_floor_ms"], rows["copy_bandwidth_gbs"] = floors, bw
        print(f"BN traffic floor (8 passes at the copy bandwidth {bw:.1f} GB/s), ms: "
              + ", ".join(f"{k} {v:.2f}" for k, v in floors.items()))
    r = rows["train step, dropout 0"]
    print(f"BN-CNN step ratio shenjing/torch at {n} thread(s): {r['ratio_median']:.2f}x (median), {r['ratio_min']:.2f}x (min); "
          f"target <= 1.0x")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default: 1 and all cores)")
    ap.add_argument("--repeats", type=int, default=None, help="timed steps per row (default 40; 8 with --quick)")
    ap.add_argument("--quick", action="store_true", help="few repeats (a smoke run, not for reporting)")
    ap.add_argument("--cpu-time", action="store_true", help="time with process CPU time instead of wall time")
    ap.add_argument("--no-bn", action="store_true", help="skip the per-layer BN rows")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    ncpu = os.cpu_count() or 1
    threads = sorted({int(t) for t in args.threads.split(",")}) if args.threads else sorted({1, ncpu})
    repeats = args.repeats or (8 if args.quick else 40)
    warmup = 2 if args.quick else 5
    env = environment(max(threads))
    load0 = os.getloadavg()
    print(f"shenjing {sj.__version__} vs torch {torch.__version__} | numpy {np.__version__} | float32 | {env['cpu']} | "
          f"{ncpu} logical CPUs")
    print(f"{env['date']} | load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    if load0[0] > 0.5:
        print("warning: the machine is busy (load average > 0.5): wall times are noisy; compare minima, or use --cpu-time")
    state, batches = init_state(), make_batches(4)
    counts = bn_counts()
    print("BN-CNN (registry `cnn`, convs=1, fc=128): batch 128, CrossEntropyLoss, Adam lr 1e-3; BN layers move ≥ "
          f"{sum(c['bytes_forward'] + c['bytes_backward'] for c in counts.values()) / 1e6:.0f} MB per step")
    chk = check(state, batches)
    print(f"agreement (dropout 0): after the first step, gradients max rel diff {chk['max_rel_grad_diff']:.2e}, weights "
          f"and running stats ‖Δ‖/‖change‖ {chk['max_state_diff_rel_to_change']:.1e} (max |Δ| {chk['max_abs_state_diff']:.1e}), "
          f"eval outputs ‖Δ‖/‖y‖ {chk['eval_output_rel_diff']:.1e}; losses over {chk['steps']} steps max rel diff "
          f"{chk['max_rel_loss_diff']:.1e}  " + ("OK" if chk["agree"] else "MISMATCH"))
    results = {"environment": env, "check": chk, "bn_counts": counts, "clock": "cpu" if args.cpu_time else "wall", "threads": {}}
    for n in threads:
        with set_threads(n):
            results["threads"][str(n)] = run_threads(n, state, batches, repeats, warmup, args.cpu_time, not args.no_bn)
    load1 = os.getloadavg()
    results["loadavg"] = [load0, load1]
    print(f"load average at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0 if chk["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
