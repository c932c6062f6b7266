#!/usr/bin/env python
"""Core benchmark: shenjing against PyTorch (CPU, float32, same threads) in one process.

    python benchmarks/bench_core.py [--threads 1,2] [--repeats R] [--quick] [--json PATH]

(a) per-op overhead on 16x16 tensors: forward + backward of ``(a + b).sum()`` and ``(a @ b).sum()``
    with ``a, b`` requiring grad, and the same forwards under ``no_grad``;
(b) one training step of the MLP 784-512-512-10 (batch 128) , written with raw
    tensor ops (x @ W.T + b, relu, logsumexp - gather cross-entropy, backward, hand-written
    SGD-momentum update under no_grad). The step is one function run unchanged on both frameworks
    (same weights, same data), and the script checks that their losses agree before timing;
(c) the same step built from modules: ``nn.Sequential(nn.Linear, nn.ReLU, ...)``,
    ``nn.CrossEntropyLoss`` and ``optim.SGD(momentum=0.9)`` (issue 3's workload), also checked.

Each measurement is warmed up, then timed ``repeats`` times (the frameworks interleaved, so drift
hits both); the table shows the median and the minimum per call and the shenjing/torch ratio.
The MLP section also reports its matmul FLOPs, the achieved GFLOP/s and two floors: the bare NumPy
matmuls of the step (the BLAS floor) and the whole step hand-written in NumPy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import environment, measure, module_step, set_threads  # noqa: E402

import shenjing as sj  # noqa: E402

B, SIZES = 128, (784, 512, 512, 10)
LR, MU = 0.01, 0.9


# ------------------------------------------------------------------ (a) per-op overhead


def per_op_cases(lib, rng_arrays):
    a_np, b_np = rng_arrays
    a = lib.tensor(a_np.copy(), requires_grad=True)
    b = lib.tensor(b_np.copy(), requires_grad=True)

    def add_fb():
        (a + b).sum().backward()
        a.grad = b.grad = None

    def matmul_fb():
        (a @ b).sum().backward()
        a.grad = b.grad = None

    def add_f():
        with lib.no_grad():
            return (a + b).sum()

    def matmul_f():
        with lib.no_grad():
            return (a @ b).sum()

    def add_f1():
        with lib.no_grad():
            return a + b

    return {
        "add fwd+bwd": add_fb,
        "matmul fwd+bwd": matmul_fb,
        "add+sum fwd (no_grad)": add_f,
        "matmul+sum fwd (no_grad)": matmul_f,
        "add fwd only, bare (no_grad)": add_f1,
    }


def numpy_per_op(rng_arrays):
    a, b = rng_arrays
    return {
        "add fwd+bwd": lambda: ((a + b).sum(), np.ones_like(a), np.ones_like(b)),
        "matmul fwd+bwd": lambda: ((a @ b).sum(), np.ones_like(a) @ b.T, a.T @ np.ones_like(b)),
        "add+sum fwd (no_grad)": lambda: (a + b).sum(),
        "matmul+sum fwd (no_grad)": lambda: (a @ b).sum(),
        "add fwd only, bare (no_grad)": lambda: a + b,
    }


# ------------------------------------------------------------------ (b) the MLP step


def init_weights(seed: int = 0) -> list:
    """PyTorch's nn.Linear initialisation U(±1/√fan_in) for weight (out, in) and bias, as NumPy."""
    rng = np.random.default_rng(seed)
    ws = []
    for fin, fout in zip(SIZES[:-1], SIZES[1:]):
        k = 1.0 / np.sqrt(fin)
        ws.append(rng.uniform(-k, k, (fout, fin)).astype(np.float32))
        ws.append(rng.uniform(-k, k, (fout,)).astype(np.float32))
    return ws


def make_batches(n: int, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((B, SIZES[0])).astype(np.float32), rng.integers(0, SIZES[-1], B).astype(np.int64))
            for _ in range(n)]


def make_mlp(lib, weights, batches):
    """The same raw-tensor-op training step for shenjing and torch (``lib`` is the module)."""
    params = [lib.tensor(w.copy(), requires_grad=True) for w in weights]
    vels = [lib.zeros(tuple(w.shape), dtype=lib.float32) for w in weights]
    data = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]
    W1, b1, W2, b2, W3, b3 = params
    state = {"i": 0}

    def step():
        x, y = data[state["i"] % len(data)]
        state["i"] += 1
        h = (x @ W1.T + b1).relu()
        h = (h @ W2.T + b2).relu()
        logits = h @ W3.T + b3
        loss = (logits.logsumexp(1) - logits.gather(1, y[:, None]).squeeze(1)).mean()
        loss.backward()
        with lib.no_grad():
            for p, v in zip(params, vels):
                v.mul_(MU).add_(p.grad)  # v = μv + g
                p.add_(v, alpha=-LR)  # p -= lr·v
                p.grad = None
        return loss

    return step, params


def make_nn_mlp(lib, weights, batches):
    """The step from modules: nn.Linear/nn.ReLU, nn.CrossEntropyLoss, optim.SGD(momentum=0.9)."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w))
    opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=MU)
    data = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]
    return module_step(model, nn.CrossEntropyLoss(), opt, data), list(model.parameters())


def numpy_mlp_step(weights, batches):
    """The whole step hand-written in NumPy (the practical floor for a NumPy-backed engine)."""
    W1, b1, W2, b2, W3, b3 = (w.copy() for w in weights)
    params = [W1, b1, W2, b2, W3, b3]
    vels = [np.zeros_like(w) for w in params]
    state = {"i": 0}

    def step():
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        z1 = x @ W1.T + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T + b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3.T + b3
        m = z3.max(1, keepdims=True)
        e = np.exp(z3 - m)
        s = e.sum(1, keepdims=True)
        loss = (np.log(s[:, 0]) + m[:, 0] - z3[np.arange(B), y]).mean()
        g3 = e / s
        g3[np.arange(B), y] -= 1
        g3 /= B
        dW3, db3 = g3.T @ h2, g3.sum(0)
        g2 = (g3 @ W3) * (z2 > 0)
        dW2, db2 = g2.T @ h1, g2.sum(0)
        g1 = (g2 @ W2) * (z1 > 0)
        dW1, db1 = g1.T @ x, g1.sum(0)
        for p, v, g in zip(params, vels, (dW1, db1, dW2, db2, dW3, db3)):
            v *= MU
            v += g
            p -= LR * v
        return loss

    return step


def blas_floor(lib_name: str, seed: int = 2):
    """Only the matmuls of one step (3 forward, 5 backward: no input gradient for layer 1)."""
    rng = np.random.default_rng(seed)
    arrs = {
        "x": (B, 784), "W1": (512, 784), "W2": (512, 512), "W3": (10, 512),
        "h1": (B, 512), "h2": (B, 512), "g1": (B, 512), "g2": (B, 512), "g3": (B, 10),
    }
    a = {k: rng.standard_normal(s).astype(np.float32) for k, s in arrs.items()}
    if lib_name == "torch":
        a = {k: torch.from_numpy(v) for k, v in a.items()}

    def step():
        a["x"] @ a["W1"].T
        a["h1"] @ a["W2"].T
        a["h2"] @ a["W3"].T
        a["g3"].T @ a["h2"]
        a["g3"] @ a["W3"]
        a["g2"].T @ a["h1"]
        a["g2"] @ a["W2"]
        a["g1"].T @ a["x"]

    if lib_name == "torch":
        def run():
            with torch.no_grad():
                step()
        return run
    return step


def mlp_flops() -> dict:
    fwd = 2 * B * sum(i * o for i, o in zip(SIZES[:-1], SIZES[1:]))
    bwd_executed = fwd + 2 * B * sum(i * o for i, o in zip(SIZES[1:-1], SIZES[2:]))  # dW all, dX not for layer 1
    return {"forward": fwd, "nominal_step": 3 * fwd, "executed_step": fwd + bwd_executed}


def check_losses(weights, batches, steps: int = 5, make=make_mlp) -> dict:
    """Run the step on both frameworks from the same weights and data; losses and weights must agree."""
    s_step, s_params = make(sj, weights, batches)
    t_step, t_params = make(torch, weights, batches)
    s_losses, t_losses = [], []
    for _ in range(steps):
        s_losses.append(s_step().item())
        t_losses.append(t_step().item())
    loss_err = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(s_losses, t_losses))
    w_err = max(float(np.max(np.abs(sp.detach().numpy() - tp.detach().numpy()))) for sp, tp in zip(s_params, t_params))
    ok = loss_err < 1e-4 and w_err < 1e-4
    return {"steps": steps, "shenjing": s_losses, "torch": t_losses, "max_rel_loss_diff": loss_err,
            "max_abs_weight_diff": w_err, "agree": ok}


# ------------------------------------------------------------------ main


def fmt_row(name, s, t, extra=""):
    r = s["median_ms"] / t["median_ms"]
    rmin = s["min_ms"] / t["min_ms"]
    return (f"{name:<30} {s['median_ms']:>10.4f} {s['min_ms']:>10.4f} {t['median_ms']:>10.4f} {t['min_ms']:>10.4f}"
            f" {r:>7.2f}x {rmin:>7.2f}x{extra}")


HDR = f"{'':<30} {'sj med ms':>10} {'sj min ms':>10} {'pt med ms':>10} {'pt min ms':>10} {'med':>8} {'min':>8}"


def run_per_op(args, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    arrays = (rng.standard_normal((16, 16)).astype(np.float32), rng.standard_normal((16, 16)).astype(np.float32))
    sj_cases, t_cases, np_cases = per_op_cases(sj, arrays), per_op_cases(torch, arrays), numpy_per_op(arrays)
    per_op = {}
    print("(a) per-op overhead, 16x16 float32 (ms per call)")
    print(HDR + f" {'numpy ms':>9}")
    gc.collect()
    for name in sj_cases:
        m = measure({"shenjing": sj_cases[name], "torch": t_cases[name], "numpy": np_cases[name]},
                    repeats=repeats, warmup=200, target_s=0.01 if args.quick else 0.02)
        m["ratio_median"] = m["shenjing"]["median_ms"] / m["torch"]["median_ms"]
        m["ratio_min"] = m["shenjing"]["min_ms"] / m["torch"]["min_ms"]
        per_op[name] = m
        print(fmt_row(name, m["shenjing"], m["torch"], f" {m['numpy']['median_ms']:>9.4f}"))
    return per_op


def run_mlp(args, weights, batches, repeats: int) -> dict:
    s_step, _ = make_mlp(sj, weights, batches)
    t_step, _ = make_mlp(torch, weights, batches)
    s_nn, _ = make_nn_mlp(sj, weights, batches)
    t_nn, _ = make_nn_mlp(torch, weights, batches)
    fns = {"shenjing": s_step, "torch": t_step, "shenjing_nn": s_nn, "torch_nn": t_nn, "numpy_step": numpy_mlp_step(weights, batches),
           "numpy_blas_floor": blas_floor("numpy"), "torch_blas_floor": blas_floor("torch")}
    gc.collect()
    m = measure(fns, repeats=repeats, warmup=10 if args.quick else 30, target_s=0, inner=1, rounds=20)
    flops = mlp_flops()
    m["ratio_median"] = m["shenjing"]["median_ms"] / m["torch"]["median_ms"]
    m["ratio_min"] = m["shenjing"]["min_ms"] / m["torch"]["min_ms"]
    m["nn_ratio_median"] = m["shenjing_nn"]["median_ms"] / m["torch_nn"]["median_ms"]
    m["nn_ratio_min"] = m["shenjing_nn"]["min_ms"] / m["torch_nn"]["min_ms"]
    m["flops"] = flops
    for k in fns:
        m[k]["gflops_nominal"] = flops["nominal_step"] / (m[k]["median_ms"] * 1e-3) / 1e9
        m[k]["gflops_executed"] = flops["executed_step"] / (m[k]["median_ms"] * 1e-3) / 1e9
    print(HDR)
    print(fmt_row("MLP train step", m["shenjing"], m["torch"]))
    print(fmt_row("MLP step, nn modules + optim", m["shenjing_nn"], m["torch_nn"]))
    print(f"{'':<30} {'med ms':>10} {'min ms':>10} {'GFLOP/s':>10} {'(exec.)':>8} {'x floor':>8}")
    floor = m["numpy_blas_floor"]["median_ms"]
    for k, label in (("shenjing", "shenjing step"), ("torch", "torch step"), ("numpy_step", "hand-written NumPy step"),
                     ("numpy_blas_floor", "NumPy BLAS floor (8 matmuls)"), ("torch_blas_floor", "torch BLAS floor (8 matmuls)")):
        r = m[k]
        print(f"{label:<30} {r['median_ms']:>10.3f} {r['min_ms']:>10.3f} {r['gflops_nominal']:>10.1f} "
              f"{r['gflops_executed']:>8.1f} {r['median_ms'] / floor:>7.2f}x")
    print(f"MLP step ratio shenjing/torch: {m['ratio_median']:.3f}x (median), {m['ratio_min']:.3f}x (min); target <= 1.15x")
    print(f"nn-module step ratio: {m['nn_ratio_median']:.3f}x (median), {m['nn_ratio_min']:.3f}x (min); target <= 1.15x")
    return m


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default=None,
                    help="comma-separated thread counts for torch and NumPy's BLAS; the MLP runs at each, the per-op "
                         "section at the largest (default: 1 and all cores)")
    ap.add_argument("--repeats", type=int, default=None, help="timed samples per measurement (default 60 for ops, 200 for the MLP)")
    ap.add_argument("--quick", action="store_true", help="few repeats (a smoke run, not for reporting)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)

    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if k in os.environ:
            print(f"warning: {k}={os.environ[k]} is set and can slow NumPy's OpenBLAS; run with "
                  f"`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_core.py`", file=sys.stderr)
    ncpu = os.cpu_count() or 1
    threads = sorted({int(t) for t in args.threads.split(",")}) if args.threads else sorted({1, ncpu})
    op_rep = args.repeats or (7 if args.quick else 60)
    mlp_rep = args.repeats or (10 if args.quick else 200)
    load0 = os.getloadavg()
    env = environment(max(threads))
    results = {"environment": env, "dtype": "float32", "threads": threads, "loadavg_start": load0}

    np_blas = next((f"{d['internal_api']} {d['version']} ({d.get('architecture')})" for d in env["blas"] if d.get("internal_api") == "openblas"), "?")
    print(f"shenjing vs torch {torch.__version__} (BLAS {env['torch_blas']}) | numpy {np.__version__} (BLAS {np_blas}) | float32")
    print(f"{env['cpu']} | {ncpu} logical CPUs | Python {env['python']}")
    print(f"{env['date']} | load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    if load0[0] > 0.5:
        print("warning: the machine is busy (load average > 0.5): timings will be noisy; compare medians of the same run")
    print()

    with set_threads(max(threads)):
        results["per_op"] = run_per_op(args, op_rep)

    weights = init_weights()
    batches = make_batches(8)
    check = check_losses(weights, batches)
    results["loss_check"] = check
    nn_check = check_losses(weights, batches, make=make_nn_mlp)
    results["nn_loss_check"] = nn_check
    print(f"\n(b) MLP {'-'.join(map(str, SIZES))}, batch {B}, SGD momentum {MU}, lr {LR}")
    print("loss check (5 steps, same weights and data): "
          + ", ".join(f"{a:.6f}/{b:.6f}" for a, b in zip(check["shenjing"], check["torch"]))
          + f"  max rel diff {check['max_rel_loss_diff']:.2e}, weights max |diff| {check['max_abs_weight_diff']:.2e}"
          + ("  OK" if check["agree"] else "  MISMATCH"))
    print(f"nn-module step check: max rel loss diff {nn_check['max_rel_loss_diff']:.2e}, weights max |diff| "
          f"{nn_check['max_abs_weight_diff']:.2e}" + ("  OK" if nn_check["agree"] else "  MISMATCH"))
    flops = mlp_flops()
    print(f"matmul FLOPs per step: forward {flops['forward'] / 1e6:.1f} M; GFLOP/s below count the nominal step "
          f"(3x forward = {flops['nominal_step'] / 1e6:.1f} M), '(exec.)' the {flops['executed_step'] / 1e6:.1f} M "
          "actually executed (layer 1 needs no input gradient)")
    results["mlp"] = {}
    for n in threads:
        print(f"\n-- {n} thread(s)")
        with set_threads(n):
            results["mlp"][str(n)] = run_mlp(args, weights, batches, mlp_rep)
    set_threads(max(threads))

    load1 = os.getloadavg()
    results["loadavg_end"] = load1
    print(f"\nload average at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"results written to {args.json}")
    return 0 if check["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
