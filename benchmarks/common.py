"""What the benchmark scripts share: block-interleaved timing, thread settings, a module training step."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import shenjing as sj
from shenjing.ops.parallel import set_num_threads as set_sj_threads

sj.tune_malloc()  # glibc keeps freed memory for reuse, as the `shenjing` command does (see shenjing/ops/workspace.py)

try:  # NumPy's BLAS thread pool (OpenBLAS)
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_info = threadpool_limits = None


def measure(fns: dict, repeats: int, warmup: int, rounds: int = 5, inner: int = 1, target_s: float = 0.0,
            clock=time.perf_counter) -> dict:
    """Per-call seconds of each callable: ``warmup`` calls, then ``repeats`` samples of ``inner``
    calls each (with ``target_s`` > 0, ``inner`` is chosen so that a sample takes about that long).

    The samples are taken in ``rounds`` blocks, the callables taking turns block by block, so that
    slow drift of the machine hits every callable alike; within a block one callable runs alone
    (after two untimed calls), because alternating call by call lets the thread pools of NumPy's
    BLAS and of torch, each spinning after its own work, steal the cores from each other.
    ``clock``: ``time.process_time`` measures CPU time (steadier on a loaded machine)."""
    inners = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        inners[name] = inner
        if target_s > 0:
            t0, n = time.perf_counter(), 0
            while time.perf_counter() - t0 < target_s / 4:
                fn()
                n += 1
            inners[name] = max(1, int(target_s / ((time.perf_counter() - t0) / n)))
    samples: dict = {name: [] for name in fns}
    rounds = max(1, min(rounds, repeats))
    for r in range(rounds):
        n = repeats // rounds + (1 if r < repeats % rounds else 0)
        for name, fn in fns.items():
            k = inners[name]
            fn()
            fn()
            for _ in range(n):
                t0 = clock()
                for _ in range(k):
                    fn()
                samples[name].append((clock() - t0) / k)
    return {name: {"median_ms": 1e3 * statistics.median(s), "min_ms": 1e3 * min(s), "repeats": len(s),
                   "calls_per_sample": inners[name]} for name, s in samples.items()}


def environment(threads: int) -> dict:
    """The machine and library versions a benchmark ran with, for its JSON record."""
    info: dict = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    except OSError:
        pass
    cpu = platform.processor() or "?"
    if "model name" in info:
        cpu = f"{info['model name']} (family {info.get('cpu family', '?')}, model {info.get('model', '?')})"
    torch_cfg = torch.__config__.show().replace(",", " ").split()
    torch_blas = next((part.split("=", 1)[1] for part in torch_cfg if part.startswith("BLAS_INFO=")), "?")
    blas = []
    if threadpool_info is not None:
        blas = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer", "architecture")}
                for d in threadpool_info()]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu, "logical_cpus": os.cpu_count(), "threads": threads, "loadavg": os.getloadavg(),
        "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
        "shenjing": sj.__version__, "torch_blas": torch_blas, "blas": blas,
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                           "OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
    }


def set_threads(n: int):
    """torch's intra-op pool, shenjing's kernel threads and NumPy's BLAS pool all to ``n``; returns
    the BLAS limiter as a context manager (a no-op without threadpoolctl)."""
    torch.set_num_threads(n)
    set_sj_threads(n)
    return threadpool_limits(limits=n) if threadpool_limits is not None else contextlib.nullcontext()


def module_step(model, loss_fn, opt, data: list):
    """One training step per call, cycling through ``data`` = [(x, y), ...]: zero_grad, forward, loss,
    backward, step — the same code for shenjing and torch objects. Returns the loss."""
    state = {"i": 0}

    def step():
        x, y = data[state["i"] % len(data)]
        state["i"] += 1
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step
