#!/usr/bin/env python
"""CNN benchmark: shenjing against PyTorch (CPU, float32, same threads) in one process.

    python benchmarks/bench_cnn.py [--threads 1,2] [--repeats R] [--quick] [--json PATH]

(a) per-op timings of conv2d and max_pool2d at the shapes of the CNN (batch 128): forward
    under no_grad, and forward + backward;
(b) one training step of the LeNet-like CNN
        conv(1→32, 3, pad 1) - ReLU - maxpool 2 - conv(32→64, 3, pad 1) - ReLU - maxpool 2 -
        Linear(3136→128) - ReLU - Linear(128→10),  batch 128, CrossEntropyLoss, SGD momentum 0.9,
    written once with ``lib.nn`` modules and run unchanged on both frameworks from identical weights
    and data; the script checks that their losses and weights agree before timing.

Each measurement is warmed up and timed ``repeats`` times in blocks, the callables taking turns
block by block (slow drift of a shared machine hits all alike); the tables show the median and the
minimum per call and the shenjing/torch ratio. Section (b) also counts the step's FLOPs (the GEMMs
of convolutions and linear layers) and bytes (the activations, gradients and parameters each layer
must read and write), and times two floors: the bare NumPy GEMMs of the step as shenjing computes
them (im2col matrices given) and the same for torch.
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
from common import environment, measure, module_step, set_threads  # noqa: E402

import shenjing as sj  # noqa: E402
import shenjing.optim  # noqa: E402,F401

B = 128
LR, MU = 0.01, 0.9
# (name, C_in, C_out, H = W) of the two convolutions; pooling halves H
CONVS = (("conv1", 1, 32, 28), ("conv2", 32, 64, 14))
FC = ((3136, 128), (128, 10))


# ------------------------------------------------------------------ timing


# ------------------------------------------------------------------ the model


def build(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def init_weights(seed: int = 0) -> dict:
    """PyTorch's default initialisation (U(±1/√fan_in)), drawn once in NumPy for both frameworks."""
    rng = np.random.default_rng(seed)
    ref = build(torch)
    out = {}
    for k, v in ref.state_dict().items():
        w = ref.get_parameter(k) if k.endswith("weight") else None
        fan_in = int(np.prod(v.shape[1:])) if w is not None else int(np.prod(ref.get_parameter(k[:-4] + "weight").shape[1:]))
        b = 1.0 / np.sqrt(fan_in)
        out[k] = rng.uniform(-b, b, tuple(v.shape)).astype(np.float32)
    return out


def make_batches(n: int, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((B, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, B).astype(np.int64)) for _ in range(n)]


def make_step(lib, weights: dict, batches: list):
    """The same training step for shenjing and torch (``lib`` is the module)."""
    model = build(lib)
    if lib is torch:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    else:
        model.load_state_dict({k: v.copy() for k, v in weights.items()})
    opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=MU)
    data = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]
    return module_step(model, lib.nn.CrossEntropyLoss(), opt, data), model


def check_losses(weights, batches, steps: int = 5) -> dict:
    s_step, s_model = make_step(sj, weights, batches)
    t_step, t_model = make_step(torch, weights, batches)
    s_losses, t_losses = [], []
    for _ in range(steps):
        s_losses.append(s_step().item())
        t_losses.append(t_step().item())
    loss_err = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(s_losses, t_losses))
    sd_t = t_model.state_dict()
    w_err = max(float(np.max(np.abs(v.numpy(force=True) - sd_t[k].numpy()))) for k, v in s_model.state_dict().items())
    return {"steps": steps, "shenjing": s_losses, "torch": t_losses, "max_rel_loss_diff": loss_err,
            "max_abs_weight_diff": w_err, "agree": loss_err < 1e-4 and w_err < 1e-4}


# ------------------------------------------------------------------ FLOPs, bytes, floors


def step_counts() -> dict:
    """FLOPs (2 per multiply-add) of the step's GEMMs and the bytes its layers must move at least."""
    f = {}
    elems = 0  # float32 elements read or written, per layer: forward (in, out, weights), backward ~2x
    for name, ci, co, hw in CONVS:
        fwd = 2 * B * hw * hw * co * ci * 9
        f[name] = {"forward": fwd, "weight_grad": fwd, "input_grad": 0 if ci == 1 else fwd}
        act_in, act_out, w = B * ci * hw * hw, B * co * hw * hw, co * ci * 9
        elems += (act_in + act_out + w) + 2 * (act_in + act_out + w)  # conv fwd + bwd
        elems += 2 * act_out + 3 * act_out  # ReLU fwd (r/w) + bwd (g, mask, out)
        elems += act_out + act_out // 4 + 2 * (act_out // 4) + act_out  # pool fwd + bwd
    for i, (a, b) in enumerate(FC):
        fwd = 2 * B * a * b
        f[f"fc{i + 1}"] = {"forward": fwd, "weight_grad": fwd, "input_grad": fwd}
        elems += 3 * (B * a + B * b + a * b)
    params = sum(co * ci * 9 + co for _, ci, co, _ in CONVS) + sum(a * b + b for a, b in FC)
    elems += 4 * params  # SGD: read w, g, v; write v, w (≈4 passes)
    total = sum(sum(v.values()) for v in f.values())
    nominal = 3 * sum(v["forward"] for v in f.values())
    return {"per_layer": f, "gemm_flops": total, "nominal_flops": nominal, "bytes": 4 * elems, "params": params}


def gemm_floor(lib_name: str, seed: int = 2):
    """Only the GEMMs of one step, with the shapes shenjing uses (im2col matrices made in advance)."""
    rng = np.random.default_rng(seed)
    shapes = [  # (m, k, n) of A (m×k) @ B (k×n)
        (B * 784, 9, 32), (9, B * 784, 32),  # conv1 forward, weight grad
        (B * 196, 288, 64), (288, B * 196, 64), (B * 196, 576, 32),  # conv2 forward, weight grad, input grad
        (B, 3136, 128), (128, B, 3136), (B, 128, 3136),  # fc1
        (B, 128, 10), (10, B, 128), (B, 10, 128),  # fc2
    ]
    mats = [(rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)) for m, k, n in shapes]
    if lib_name == "torch":
        mats = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in mats]

    def run():
        for a, b in mats:
            a @ b

    if lib_name == "torch":
        def run_t():
            with torch.no_grad():
                run()
        return run_t
    return run


def bandwidth_gbs() -> float:
    """Memory bandwidth of a large NumPy copy (read + write), GB/s."""
    a = np.ones(1 << 25, dtype=np.float32)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best / 1e9


# ------------------------------------------------------------------ per-op cases


def op_cases(lib):
    f = torch.nn.functional if lib is torch else sj.nn.functional
    rng = np.random.default_rng(3)
    cases = {}
    for name, ci, co, hw in CONVS:
        x = lib.tensor(rng.standard_normal((B, ci, hw, hw)).astype(np.float32), requires_grad=ci > 1)
        w = lib.tensor((0.1 * rng.standard_normal((co, ci, 3, 3))).astype(np.float32), requires_grad=True)
        b = lib.tensor(np.zeros(co, np.float32), requires_grad=True)
        g = lib.tensor(rng.standard_normal((B, co, hw, hw)).astype(np.float32))

        def fwd(x=x, w=w, b=b):
            with lib.no_grad():
                return f.conv2d(x, w, b, padding=1)

        def fb(x=x, w=w, b=b, g=g):
            f.conv2d(x, w, b, padding=1).backward(g)
            x.grad = w.grad = b.grad = None

        cases[f"{name} {ci}->{co} @{hw}x{hw} fwd"] = fwd
        cases[f"{name} {ci}->{co} @{hw}x{hw} fwd+bwd"] = fb
    for c, hw in ((32, 28), (64, 14)):
        x = lib.tensor(np.maximum(rng.standard_normal((B, c, hw, hw)), 0).astype(np.float32), requires_grad=True)
        g = lib.tensor(rng.standard_normal((B, c, hw // 2, hw // 2)).astype(np.float32))

        def pfwd(x=x):
            with lib.no_grad():
                return f.max_pool2d(x, 2)

        def pfb(x=x, g=g):
            f.max_pool2d(x, 2).backward(g)
            x.grad = None

        cases[f"max_pool2d {c}ch @{hw}x{hw} fwd"] = pfwd
        cases[f"max_pool2d {c}ch @{hw}x{hw} fwd+bwd"] = pfb
    return cases


# ------------------------------------------------------------------ environment and main


HDR = f"{'':<34} {'sj med ms':>10} {'sj min ms':>10} {'pt med ms':>10} {'pt min ms':>10} {'med':>7} {'min':>7}"


def row(name, s, t):
    return (f"{name:<34} {s['median_ms']:>10.2f} {s['min_ms']:>10.2f} {t['median_ms']:>10.2f} {t['min_ms']:>10.2f}"
            f" {s['median_ms'] / t['median_ms']:>6.2f}x {s['min_ms'] / t['min_ms']:>6.2f}x")


def run_ops(repeats: int, warmup: int) -> dict:
    s_cases, t_cases = op_cases(sj), op_cases(torch)
    out = {}
    print("(a) per-op, float32, batch 128 (ms per call)")
    print(HDR)
    for name in s_cases:
        gc.collect()
        m = measure({"shenjing": s_cases[name], "torch": t_cases[name]}, repeats, warmup)
        m["ratio_median"] = m["shenjing"]["median_ms"] / m["torch"]["median_ms"]
        m["ratio_min"] = m["shenjing"]["min_ms"] / m["torch"]["min_ms"]
        out[name] = m
        print(row(name, m["shenjing"], m["torch"]))
    return out


def run_step(weights, batches, repeats: int, warmup: int, counts: dict) -> dict:
    s_step, _ = make_step(sj, weights, batches)
    t_step, _ = make_step(torch, weights, batches)
    fns = {"shenjing": s_step, "torch": t_step, "numpy_gemm_floor": gemm_floor("numpy"), "torch_gemm_floor": gemm_floor("torch")}
    gc.collect()
    m = measure(fns, repeats, warmup)
    m["ratio_median"] = m["shenjing"]["median_ms"] / m["torch"]["median_ms"]
    m["ratio_min"] = m["shenjing"]["min_ms"] / m["torch"]["min_ms"]
    print(HDR)
    print(row("CNN train step", m["shenjing"], m["torch"]))
    floor = m["numpy_gemm_floor"]["min_ms"]
    print(f"{'':<34} {'med ms':>10} {'min ms':>10} {'GFLOP/s':>10} {'x floor':>8}")
    for k, label in (("shenjing", "shenjing step"), ("torch", "torch step"), ("numpy_gemm_floor", "NumPy GEMM floor (11 GEMMs)"),
                     ("torch_gemm_floor", "torch GEMM floor (11 GEMMs)")):
        r = m[k]
        r["gflops"] = counts["gemm_flops"] / (r["min_ms"] * 1e-3) / 1e9
        print(f"{label:<34} {r['median_ms']:>10.2f} {r['min_ms']:>10.2f} {r['gflops']:>10.1f} {r['min_ms'] / floor:>7.2f}x")
    print(f"CNN step ratio shenjing/torch: {m['ratio_median']:.2f}x (median), {m['ratio_min']:.2f}x (min); target <= 1.5x")
    return m


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default: 1 and all cores)")
    ap.add_argument("--repeats", type=int, default=None, help="timed calls per measurement (default 40; 8 with --quick)")
    ap.add_argument("--quick", action="store_true", help="few repeats (a smoke run, not for reporting)")
    ap.add_argument("--no-ops", action="store_true", help="skip the per-op section")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    ncpu = os.cpu_count() or 1
    threads = sorted({int(t) for t in args.threads.split(",")}) if args.threads else sorted({1, ncpu})
    repeats = args.repeats or (8 if args.quick else 40)
    warmup = 2 if args.quick else 5
    env = environment(threads)
    counts = step_counts()
    results = {"environment": env, "dtype": "float32", "batch": B, "counts": counts, "runs": {}}
    print(f"shenjing vs torch {torch.__version__} | numpy {np.__version__} | float32 | {env['cpu']} | {ncpu} logical CPUs")
    print(f"{env['date']} | load average {env['loadavg'][0]:.2f} {env['loadavg'][1]:.2f} {env['loadavg'][2]:.2f}")
    if env["loadavg"][0] > 0.5:
        print("warning: the machine is busy (load average > 0.5): timings are noisy; compare the minima of the same run")
    weights, batches = init_weights(), make_batches(4)
    check = check_losses(weights, batches)
    results["loss_check"] = check
    print(f"losses over {check['steps']} steps agree: {check['agree']} (max rel. loss diff {check['max_rel_loss_diff']:.2e}, "
          f"max abs weight diff {check['max_abs_weight_diff']:.2e})")
    bw = bandwidth_gbs()
    print(f"step: {counts['gemm_flops'] / 1e9:.2f} GFLOP in GEMMs (nominal 3x forward {counts['nominal_flops'] / 1e9:.2f}), "
          f"≥ {counts['bytes'] / 1e6:.0f} MB moved (copy bandwidth {bw:.1f} GB/s → ≥ {counts['bytes'] / bw / 1e6:.1f} ms), "
          f"{counts['params']} parameters")
    results["bandwidth_gbs"] = bw
    for n in threads:
        with set_threads(n):
            print(f"\n=== {n} thread{'s' if n > 1 else ''} ===")
            run = {}
            if not args.no_ops:
                run["ops"] = run_ops(max(3, repeats // 2), warmup)
            print(f"\n(b) CNN training step, batch {B}, SGD momentum {MU}")
            run["step"] = run_step(weights, batches, repeats, warmup, counts)
            results["runs"][str(n)] = run
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0 if check["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
