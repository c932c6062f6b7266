#!/usr/bin/env python
"""Data-parallel training throughput on MPI: samples/s of one training step at 1 and 2 ranks.

    python benchmarks/bench_mpi.py [--steps 60] [--json PATH]

Workloads: (a) the default MLP 784-512-512-10 (dropout 0.2) and (b) the batch-norm CNN recipe
(SmallCNN convs=1 fc=128, dropout 0.25, SyncBatchNorm under MPI); Adam, cross-entropy, global batch
128 of random float32 images, train mode — the step `shenjing train` runs. Rows:

* 1 process, 2 BLAS threads (what `shenjing train` does without mpiexec);
* 1 rank with 1 thread, and `mpiexec -n 2` with 1 thread per rank (global batch split 64 + 64,
  gradients averaged by DistributedDataParallel);
* the all-reduce of the model's gradients alone (its bytes, the time, the bandwidth it reached).

Each rank's time is the median over ``--steps`` steps after 10 warm-up steps; a step ends when every
rank has finished it (the all-reduce of its gradients synchronises them)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def build(name: str):
    from shenjing.train.registry import build_model

    if name == "mlp":
        return build_model("mlp", (1, 28, 28), 10, hidden=(512, 512), dropout=0.2)
    return build_model("cnn", (1, 28, 28), 10, convs=1, fc=128, dropout=0.25)


def worker(name: str, steps: int, threads: int) -> dict:
    """Time the training step in this process (a rank of the MPI world, or alone)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import shenjing as sj
    from shenjing import distributed as dist
    from shenjing import nn
    from shenjing.distributed.group import all_reduce_array, barrier
    from shenjing.ops.parallel import set_num_threads

    threadpool_limits(threads)
    set_num_threads(threads)
    sj.tune_malloc()
    dist.init()
    rank, world = dist.get_rank(), dist.get_world_size()
    sj.manual_seed(0)
    model = build(name)
    net = dist.DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model)) if world > 1 else model
    opt = sj.optim.Adam(net.parameters(), lr=1e-3)
    g = sj.Generator().manual_seed(1 + rank)
    b = 128 // world
    x, y = sj.randn(b, 1, 28, 28, generator=g), sj.randint(0, 10, (b,), generator=g)
    times = []
    for i in range(steps + 10):
        barrier()
        t0 = time.perf_counter()
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 10:
            times.append(time.perf_counter() - t0)
    grads = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    comm = []
    for _ in range(20):
        barrier()
        t0 = time.perf_counter()
        all_reduce_array(grads)
        comm.append(time.perf_counter() - t0)
    step = float(np.median(times))
    return {"rank": rank, "world": world, "threads": threads, "step_ms": step * 1e3, "samples_per_s": 128 / step,
            "grad_bytes": int(grads.nbytes), "allreduce_ms": float(np.median(comm)) * 1e3}


def run(n: int, name: str, steps: int, threads: int) -> dict:
    """``n`` ranks (mpiexec) or one plain process; rank 0's numbers."""
    cmd = [sys.executable, str(HERE), "--worker", name, "--steps", str(steps), "--threads", str(threads)]
    if n > 1:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        cmd = [str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(n), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(HERE.parents[1])})
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][0])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--json", default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        res = worker(args.worker, args.steps, args.threads)
        if res["rank"] == 0:
            print(json.dumps(res), flush=True)
        return 0
    print(f"MPI data parallelism | {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} | load average {os.getloadavg()[0]:.2f}")
    rows = {}
    for name in ("mlp", "cnn"):
        rows[name] = {"1 process, 2 threads": run(1, name, args.steps, 2), "1 rank, 1 thread": run(1, name, args.steps, 1),
                      "2 ranks, 1 thread each": run(2, name, args.steps, 1)}
        for label, r in rows[name].items():
            print(f"{name:4s} {label:24s} step {r['step_ms']:7.2f} ms  {r['samples_per_s']:7.0f} samples/s"
                  + (f"  all-reduce of {r['grad_bytes'] / 1e6:.2f} MB: {r['allreduce_ms']:.2f} ms" if r["world"] > 1 else ""))
        two, one = rows[name]["2 ranks, 1 thread each"], rows[name]["1 rank, 1 thread"]
        print(f"{name:4s} speed-up 1 → 2 ranks: {two['samples_per_s'] / one['samples_per_s']:.2f}×  "
              f"(against 1 process with 2 threads: {two['samples_per_s'] / rows[name]['1 process, 2 threads']['samples_per_s']:.2f}×)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
