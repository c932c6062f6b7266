#!/usr/bin/env python
"""Transformer benchmark : one TransformerEncoderLayer training step, shenjing vs PyTorch.

    python benchmarks/bench_transformer.py [--threads 1,2] [--repeats R] [--quick] [--json PATH]

The layer is d_model 128, 4 heads, sequence 64, batch 32, batch_first, torch's defaults otherwise
(dim_feedforward 2048, ReLU, post-norm), float32, CPU, torch and NumPy's BLAS on the same number of
threads (each count of ``--threads`` in turn; default: 1 and all cores). One step = forward, MSE
loss against a fixed target, backward, ``optim.SGD`` (momentum 0.9) step —
the same code for both frameworks, from identical weights and data. Before timing, the script runs
three steps on both and checks that outputs, losses and updated weights agree.

Rows: the step with dropout 0 (the checked one; the target is ≤ 1.5× torch), the step with
torch's default dropout 0.1 (different random masks, so not compared), and the forward pass alone
under no_grad in train mode. Each is warmed up, then timed in interleaved blocks (so slow drift of a
shared machine hits both); the table shows median and minimum per step and their ratios.
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
import shenjing.nn  # noqa: E402,F401
import shenjing.optim  # noqa: E402,F401

D, H, L, N, FF = 128, 4, 64, 32, 2048
LR, MU = 0.01, 0.9


def make_layer(lib, state, dropout: float):
    layer = lib.nn.TransformerEncoderLayer(D, H, FF, dropout=dropout, batch_first=True)
    layer.load_state_dict({k: (torch.from_numpy(v.copy()) if lib is torch else v.copy()) for k, v in state.items()})
    layer.train()
    return layer


def make_step(lib, state, data, dropout: float = 0.0):
    layer = make_layer(lib, state, dropout)
    opt = lib.optim.SGD(layer.parameters(), lr=LR, momentum=MU)
    x, y = (lib.tensor(a) for a in data)
    step = module_step(layer, lib.nn.MSELoss(), opt, [(x, y)])

    def forward():
        with lib.no_grad():
            return layer(x)

    return step, forward, layer


def check(state, data, steps: int = 3) -> dict:
    s_step, s_fwd, s_layer = make_step(sj, state, data)
    t_step, t_fwd, t_layer = make_step(torch, state, data)
    out_diff, losses = 0.0, []
    for _ in range(steps):
        so, to = s_fwd(), t_fwd()
        sl, tl = s_step(), t_step()
        out_diff = max(out_diff, float(np.abs(so.detach().numpy() - to.detach().numpy()).max()))
        losses.append((sl.item(), tl.item()))
    sp, tp = dict(s_layer.named_parameters()), dict(t_layer.named_parameters())
    w_diff = max(float(np.abs(sp[k].detach().numpy() - tp[k].detach().numpy()).max()) for k in tp)
    loss_diff = max(abs(a - b) / max(abs(b), 1e-12) for a, b in losses)
    ok = out_diff < 1e-4 and w_diff < 1e-4 and loss_diff < 1e-4
    return {"steps": steps, "losses": losses, "max_abs_output_diff": out_diff, "max_rel_loss_diff": loss_diff,
            "max_abs_weight_diff": w_diff, "agree": ok}


def run_rows(state, data, repeats: int, quick: bool, n: int) -> dict:
    rows = {}
    s0, sf, _ = make_step(sj, state, data, 0.0)
    t0, tf, _ = make_step(torch, state, data, 0.0)
    s1, _, _ = make_step(sj, state, data, 0.1)
    t1, _, _ = make_step(torch, state, data, 0.1)
    cases = {
        "train step, dropout 0": (s0, t0),
        "train step, dropout 0.1": (s1, t1),
        "forward only (no_grad)": (sf, tf),
    }
    print(f"\n-- {n} thread(s)")
    print(f"{'':<26} {'sj med ms':>10} {'sj min ms':>10} {'pt med ms':>10} {'pt min ms':>10} {'med':>7} {'min':>7}")
    for name, (fs, ft) in cases.items():
        gc.collect()
        m = measure({"shenjing": fs, "torch": ft}, repeats=repeats, warmup=3 if quick else 5)
        s, t = m["shenjing"], m["torch"]
        m["ratio_median"], m["ratio_min"] = s["median_ms"] / t["median_ms"], s["min_ms"] / t["min_ms"]
        rows[name] = m
        print(f"{name:<26} {s['median_ms']:>10.2f} {s['min_ms']:>10.2f} {t['median_ms']:>10.2f} {t['min_ms']:>10.2f} "
              f"{m['ratio_median']:>6.2f}x {m['ratio_min']:>6.2f}x", flush=True)
    r = rows["train step, dropout 0"]
    print(f"training-step ratio shenjing/torch at {n} thread(s): {r['ratio_median']:.2f}x (median), "
          f"{r['ratio_min']:.2f}x (min); target <= 1.5x")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default=None,
                    help="comma-separated thread counts for torch and NumPy's BLAS (default: 1 and all cores)")
    ap.add_argument("--repeats", type=int, default=None, help="timed steps per row (default 40; --quick 10)")
    ap.add_argument("--quick", action="store_true", help="few repeats (a smoke run, not for reporting)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    ncpu = os.cpu_count() or 1
    threads = sorted({int(t) for t in args.threads.split(",")}) if args.threads else sorted({1, ncpu})
    repeats = args.repeats or (10 if args.quick else 40)

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True)
    state = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    data = (rng.standard_normal((N, L, D)).astype(np.float32), rng.standard_normal((N, L, D)).astype(np.float32))

    env = environment(max(threads))
    load0 = os.getloadavg()
    blas = ", ".join(f"{d['internal_api']} {d['version']}" for d in env["blas"]) or "?"
    print(f"shenjing {sj.__version__} vs torch {torch.__version__} | numpy {np.__version__} ({blas})")
    print(f"{env['cpu']} | {env['logical_cpus']} logical CPUs | threads {', '.join(map(str, threads))} | Python {env['python']}")
    print(f"{env['date']} | load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    print(f"TransformerEncoderLayer d_model {D}, {H} heads, dim_feedforward {FF}, sequence {L}, batch {N}, float32; "
          f"step = forward + MSE + backward + SGD(lr {LR}, momentum {MU})\n")

    chk = check(state, data)
    print(f"agreement over {chk['steps']} steps from identical weights: outputs max |diff| {chk['max_abs_output_diff']:.2e}, "
          f"losses max rel diff {chk['max_rel_loss_diff']:.2e}, weights max |diff| {chk['max_abs_weight_diff']:.2e}  "
          + ("OK" if chk["agree"] else "MISMATCH"))

    results = {}
    for n in threads:
        with set_threads(n):
            results[str(n)] = run_rows(state, data, repeats, args.quick, n)
    load1 = os.getloadavg()
    print(f"load average at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"environment": env, "check": chk, "threads": results,
                                               "loadavg": [load0, load1]}, indent=2))
        print(f"results written to {args.json}")
    return 0 if chk["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
