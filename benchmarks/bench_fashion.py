"""End to end: the default `shenjing train` MLP on Fashion-MNIST, and the same model in PyTorch.

Both frameworks get the same standardised arrays, the same validation split, the same
hyper-parameters (784-512-512-10, ReLU, dropout 0.2, Adam lr 1e-3, batch 128) and the same number
of epochs, in one process and with the same thread count. Reports wall time and test accuracy.

    python benchmarks/bench_fashion.py [--epochs 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import shenjing as sj
from shenjing.train import Trainer
from shenjing.train.registry import build_model, build_task

sj.tune_malloc()  # as the `shenjing` command does


def run_shenjing(cfg):
    sj.manual_seed(cfg["seed"])
    task = build_task("fashion-mnist", cfg)
    model = build_model("mlp", (1, 28, 28), 10, hidden=(512, 512), dropout=0.2)
    opt = sj.optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, sj.nn.CrossEntropyLoss(), opt, progress=False, generators=task.generators)
    t0 = time.perf_counter()
    trainer.fit(task.train, task.val, epochs=cfg["epochs"])
    seconds = time.perf_counter() - t0
    return seconds, trainer.evaluate(task.test)["accuracy"]


def _arrays(train: bool):
    from shenjing.data import FashionMNIST

    ds = FashionMNIST(train=train)
    return ds.data.astype(np.float32)[:, None] / 255.0, ds.targets.astype(np.int64)


def run_torch(cfg, x, y, xt, yt):
    torch.manual_seed(cfg["seed"])
    mean, std = float(x.mean()), float(x.std())
    x, xt = (x - mean) / std, (xt - mean) / std
    perm = np.random.default_rng(cfg["seed"]).permutation(len(x))
    va, tr = perm[: cfg["val_size"]], perm[cfg["val_size"]:]
    X, Y = torch.from_numpy(x[tr]), torch.from_numpy(y[tr])
    Xv, Yv = torch.from_numpy(x[va]), torch.from_numpy(y[va])
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(cfg["seed"] + 1)
    t0 = time.perf_counter()
    for _ in range(cfg["epochs"]):
        model.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        for i in range(0, len(X), cfg["batch_size"]):
            idx = order[i:i + cfg["batch_size"]]
            loss = lossf(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():  # validation, as the shenjing Trainer does every epoch
            lossf(model(Xv), Yv).item()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    return seconds, float(acc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(2)
    cfg = {"epochs": args.epochs, "seed": args.seed, "val_size": 5000, "batch_size": 128, "subset": 0}
    x, y = _arrays(True)
    xt, yt = _arrays(False)
    s_sec, s_acc = run_shenjing(cfg)
    t_sec, t_acc = run_torch(cfg, x, y, xt, yt)
    res = {"epochs": args.epochs, "shenjing_seconds": s_sec, "shenjing_test_accuracy": s_acc, "torch_seconds": t_sec,
           "torch_test_accuracy": t_acc, "time_ratio": s_sec / t_sec, "accuracy_gap_points": 100 * (s_acc - t_acc)}
    print(f"{'':10s} {'seconds':>9s} {'test acc':>9s}")
    print(f"{'shenjing':10s} {s_sec:9.1f} {s_acc:9.4f}")
    print(f"{'pytorch':10s} {t_sec:9.1f} {t_acc:9.4f}")
    print(f"time ratio shenjing/pytorch {res['time_ratio']:.2f}, accuracy gap {res['accuracy_gap_points']:+.2f} points")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
