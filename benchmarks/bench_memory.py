#!/usr/bin/env python
"""Peak memory: `shenjing train` against PyTorch doing the same work, each run in a fresh process.

    python benchmarks/bench_memory.py [--mlp-epochs 2] [--cnn-epochs 1] [--only mlp|cnn] [--json PATH]

Workloads (Fashion-MNIST, the real files; standardised pixels; batch 128; Adam lr 1e-3; test set
evaluated at the end in batches of 1000, as the `shenjing train` command does):

(a) the default `shenjing train`: MLP 784-512-512-10, ReLU, dropout 0.2, 5 000 training images held
    out for validation (evaluated after every epoch), ``--mlp-epochs`` epochs (default 2);
(b) the README's batch-norm CNN recipe `shenjing train --model cnn --opt convs=1 --opt fc=128
    --dropout 0.25 --schedule cosine --val-size 0`, ``--cnn-epochs`` epochs (default 1).

The shenjing side runs the command itself (``shenjing.cli.main`` with those arguments, output to a
temporary folder); the PyTorch side is a plain training loop over the same arrays (the loop of
``bench_fashion.py``), written here so that its process imports torch and NumPy only. Each of the
four runs is a new Python process (``subprocess``), with 2 threads for torch. Reported per run:

* RSS right after the imports (the interpreter and library baseline);
* the peak RSS of the whole run (VmHWM, and the child's ``ru_maxrss`` from ``os.wait4`` as a cross-check)
  and the peak minus the post-import RSS;
* per phase (data, model, training, evaluation of the test set, and for shenjing the command's plots
  and metrics files): the peak RSS within the phase (VmHWM is reset at each phase start through
  /proc/self/clear_refs) and the RSS at its end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
DATA = Path(os.environ.get("SHENJING_DATA", "/usr/share/datasets/fashion-mnist"))


# ------------------------------------------------------------------ RSS probes (used in the child)


def _status(key: str) -> float:
    """A field of /proc/self/status in MB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Phases:
    """Peak and final RSS per phase: ``mark(name)`` ends the current phase and starts the next."""

    def __init__(self) -> None:
        self.rows: list = []
        self.reset_ok = True
        self.name = "imports"

    def _reset_peak(self) -> None:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.reset_ok = False

    def mark(self, name: str) -> None:
        self.rows.append({"phase": self.name, "peak_mb": _status("VmHWM"), "end_mb": _status("VmRSS")})
        self.name = name
        self._reset_peak()

    def result(self) -> dict:
        self.mark("")
        return {"phases": self.rows, "after_imports_mb": self.rows[0]["end_mb"],
                "peak_mb": max(r["peak_mb"] for r in self.rows), "peak_reset_ok": self.reset_ok}


# ------------------------------------------------------------------ the shenjing runs: the command itself


def child_shenjing(workload: str, epochs: int) -> dict:
    ph = Phases()
    import shenjing as sj
    import shenjing.cli as cli
    import shenjing.train as train
    import shenjing.train.registry as registry

    sj.tune_malloc()  # as the `shenjing` command does
    ph.mark("data")
    build_task, fit, evaluate = registry.build_task, train.Trainer.fit, train.Trainer.evaluate

    def build_task_marked(*a, **k):
        task = build_task(*a, **k)
        ph.mark("model")
        return task

    def fit_marked(self, *a, **k):
        ph.mark("training")
        out = fit(self, *a, **k)
        ph.mark("evaluation")
        return out

    def evaluate_marked(self, *a, **k):
        out = evaluate(self, *a, **k)
        if ph.name == "evaluation":  # the test-set evaluation after fit; then the command's plots
            ph.mark("plots")
        return out

    registry.build_task, train.Trainer.fit, train.Trainer.evaluate = build_task_marked, fit_marked, evaluate_marked
    args = ["train", "--epochs", str(epochs), "--quiet", "--data", str(DATA)]
    if workload == "cnn":
        args += ["--model", "cnn", "--opt", "convs=1", "--opt", "fc=128", "--dropout", "0.25", "--schedule", "cosine",
                 "--val-size", "0"]
    with tempfile.TemporaryDirectory() as out:
        rc = cli.main(args + ["--out", out])
    registry.build_task, train.Trainer.fit, train.Trainer.evaluate = build_task, fit, evaluate
    return {"rc": rc, **ph.result()}


# ------------------------------------------------------------------ the PyTorch runs: the same work in a plain loop


def _read_idx(path: Path):
    import gzip

    import numpy as np

    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def _torch_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(3136, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),
                      nn.Dropout(0.25), nn.Linear(128, 10)))


def _torch_data(workload: str):
    """The arrays of shenjing's image_task (shenjing/train/registry.py), made the same way (float32,
    standardised in place, split): (X, Y, Xv, Yv, Xt, Yt) as torch tensors."""
    import numpy as np
    import torch

    x = _read_idx(DATA / "train-images-idx3-ubyte.gz").astype(np.float32)[:, None]
    y = _read_idx(DATA / "train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = _read_idx(DATA / "t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None]
    yt = _read_idx(DATA / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    for a in (x, xt):
        a /= 255.0
    mean, std = float(x.mean()), float(x.std())
    for a in (x, xt):
        a -= mean
        a /= std
    perm = np.random.default_rng(0).permutation(len(x))
    n_val = 5000 if workload == "mlp" else 0
    va, tr = perm[:n_val], perm[n_val:]
    return tuple(torch.from_numpy(a) for a in (x[tr], y[tr], x[va], y[va], xt, yt))


def child_torch(workload: str, epochs: int) -> dict:
    ph = Phases()
    import numpy as np
    import torch

    torch.set_num_threads(2)
    ph.mark("data")
    X, Y, Xv, Yv, Xt, Yt = _torch_data(workload)
    ph.mark("model")
    torch.manual_seed(0)
    if workload == "mlp":
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                    torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(512, 10))
    else:
        model = _torch_cnn(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if workload == "cnn" else None
    lossf = torch.nn.CrossEntropyLoss()
    ph.mark("training")

    def evaluate(Xe, Ye):
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(Xe), 1000):
                out = model(Xe[i:i + 1000])
                lossf(out, Ye[i:i + 1000]).item()
                correct += int((out.argmax(1) == Ye[i:i + 1000]).sum())
        return correct / len(Xe)

    rng = np.random.default_rng(1)
    for _ in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        for i in range(0, len(X), 128):
            idx = order[i:i + 128]
            loss = lossf(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if sched is not None:
            sched.step()
        if len(Xv):
            evaluate(Xv, Yv)
    ph.mark("evaluation")
    acc = evaluate(Xt, Yt)
    return {"rc": 0, "test_accuracy": acc, **ph.result()}


# ------------------------------------------------------------------ the driver


def run_child(framework: str, workload: str, epochs: int) -> dict:
    """One fresh process; its JSON report plus its own ru_maxrss (os.wait4) and the wall time."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, str(HERE), "--child", framework, workload, str(epochs)], stdout=out, stderr=err,
                                text=True, env={**os.environ, "PYTHONPATH": str(HERE.parents[1])})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = [ln for ln in out.read().splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{framework} {workload} failed (exit {proc.returncode}):\n{err.read()[-3000:]}")
    res = json.loads(lines[-1])
    res["seconds"] = time.perf_counter() - t0
    res["framework"], res["workload"], res["epochs"] = framework, workload, epochs
    res["ru_maxrss_mb"] = usage.ru_maxrss / 1024
    return res


def table(results: list) -> str:
    head = f"{'workload':<8} {'framework':<9} {'after imports':>13} {'peak RSS':>9} {'peak - imports':>14}   per phase: peak / end (MB)"
    rows = [head]
    for r in results:
        ph = "  ".join(f"{p['phase']} {p['peak_mb']:.0f}/{p['end_mb']:.0f}" for p in r["phases"][1:])
        rows.append(f"{r['workload']:<8} {r['framework']:<9} {r['after_imports_mb']:>10.0f} MB {r['peak_mb']:>6.0f} MB "
                    f"{r['peak_mb'] - r['after_imports_mb']:>11.0f} MB   {ph}")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mlp-epochs", type=int, default=2)
    ap.add_argument("--cnn-epochs", type=int, default=1)
    ap.add_argument("--only", choices=("mlp", "cnn"), default=None)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "WORKLOAD", "EPOCHS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        fw, wl, ep = args.child
        res = (child_shenjing if fw == "shenjing" else child_torch)(wl, int(ep))
        print(json.dumps(res))
        return 0
    load = os.getloadavg()
    print(f"peak memory, one fresh process per run | {time.strftime('%Y-%m-%d %H:%M:%S %Z')} | load average {load[0]:.2f}")
    results = []
    for wl, ep in (("mlp", args.mlp_epochs), ("cnn", args.cnn_epochs)):
        if args.only and wl != args.only:
            continue
        for fw in ("shenjing", "torch"):
            r = run_child(fw, wl, ep)
            results.append(r)
            print(f"  {fw} {wl} ({ep} epoch{'s' if ep > 1 else ''}): peak {r['peak_mb']:.0f} MB "
                  f"(ru_maxrss {r['ru_maxrss_mb']:.0f} MB), {r['seconds']:.0f} s", flush=True)
    print(table(results))
    for wl in ("mlp", "cnn"):
        pair = {r["framework"]: r for r in results if r["workload"] == wl}
        if len(pair) == 2:
            s, t = pair["shenjing"], pair["torch"]
            print(f"{wl}: peak shenjing/torch {s['peak_mb'] / t['peak_mb']:.2f}x; above the post-import baseline "
                  f"{(s['peak_mb'] - s['after_imports_mb']) / (t['peak_mb'] - t['after_imports_mb']):.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
