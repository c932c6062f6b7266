"""The ``shenjing`` command: train, evaluate, info (and, later, lab)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DATASETS = ("fashion-mnist", "mnist")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def _load_images(name: str, train: bool, root=None):
    """(images float32 in [0, 1] of shape (N, 1, 28, 28), labels int64, class names)."""
    from .backend import xp
    from .data import MNIST, FashionMNIST

    ds = (FashionMNIST if name == "fashion-mnist" else MNIST)(root=root, train=train)
    x = xp.asarray(ds.data, dtype=xp.float32)[:, None] / 255.0
    return x, xp.asarray(ds.targets, dtype=xp.int64), list(ds.classes)


def _build_optimizer(name: str, params, lr: float, momentum: float, weight_decay: float):
    from . import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)


def _loaders(cfg: dict, x, y, xt, yt):
    """Standardised (feature scaling, seed 004) train/validation/test loaders; seeded shuffling."""
    from . import Generator, from_numpy
    from .data import DataLoader, TensorDataset

    mean, std = float(x.mean()), float(x.std())
    x, xt = (x - mean) / std, (xt - mean) / std
    n_val = cfg["val_size"]
    gen = Generator().manual_seed(cfg["seed"])
    perm = gen.rng.permutation(len(x))
    va, tr = perm[:n_val], perm[n_val:]
    if cfg.get("subset"):
        tr = tr[: cfg["subset"]]
    train = DataLoader(TensorDataset(from_numpy(x[tr]), from_numpy(y[tr])), batch_size=cfg["batch_size"], shuffle=True,
                       generator=gen)
    val = DataLoader(TensorDataset(from_numpy(x[va]), from_numpy(y[va])), batch_size=1000) if n_val else None
    test = DataLoader(TensorDataset(from_numpy(xt), from_numpy(yt)), batch_size=1000)
    return train, val, test, gen, {"mean": mean, "std": std}


def cmd_train(args) -> int:
    import shenjing as sj

    from . import nn
    from .train import EarlyStopping, Trainer, confusion_matrix
    from .train.registry import build_model
    from .viz.plots import plot_confusion, plot_curves

    cfg = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
    cfg["hidden"] = [int(h) for h in str(args.hidden).split(",") if h]
    out = Path(args.out)
    sj.manual_seed(args.seed)
    x, y, classes = _load_images(args.dataset, True, args.data)
    xt, yt, _ = _load_images(args.dataset, False, args.data)
    train, val, test, gen, scaling = _loaders(cfg, x, y, xt, yt)
    model = build_model(args.model, tuple(x.shape[1:]), len(classes), hidden=cfg["hidden"], dropout=args.dropout)
    optimizer = _build_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    callbacks = [EarlyStopping("val_loss", patience=args.patience)] if args.patience and val is not None else []
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, callbacks=callbacks, out_dir=out,
                      progress=not args.quiet, generators=[gen])
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({**cfg, "scaling": scaling, "classes": classes}, indent=2))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"shenjing train: {args.model} ({n_params:,} parameters) on {args.dataset}, {len(train.dataset)} training "
          f"samples, {args.optimizer} lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs -> {out}", flush=True)
    t0 = time.perf_counter()
    history = trainer.fit(train, val, epochs=args.epochs, resume=args.resume)
    seconds = time.perf_counter() - t0
    res = trainer.evaluate(test, return_outputs=True)
    cm = confusion_matrix(res["outputs"], res["targets"], len(classes))
    metrics = {"test_accuracy": res["accuracy"], "test_loss": res["loss"], "train_seconds": seconds,
               "epochs": trainer.epoch, "parameters": n_params}
    if history and "val_accuracy" in history[-1]:
        metrics["val_accuracy"] = history[-1]["val_accuracy"]
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_curves(history, out / "curves.png", title=f"{args.model} on {args.dataset}")
    plot_confusion(cm, classes, out / "confusion.png")
    print(f"test accuracy {res['accuracy']:.4f}  test loss {res['loss']:.4f}  ({seconds:.1f} s of training) -> {out}")
    return 0


def cmd_evaluate(args) -> int:
    from . import nn
    from .train import Trainer, load_checkpoint
    from .train.registry import build_model

    ckpt = Path(args.checkpoint)
    cfg_path = ckpt.parent / "config.json"
    if not cfg_path.exists():
        print(f"error: {cfg_path} not found next to the checkpoint (written by `shenjing train`)", file=sys.stderr)
        return 2
    cfg = json.loads(cfg_path.read_text())
    state = load_checkpoint(ckpt)
    xt, yt, classes = _load_images(cfg["dataset"], False, args.data or cfg.get("data"))
    s = cfg["scaling"]
    xt = (xt - s["mean"]) / s["std"]
    model = build_model(cfg["model"], tuple(xt.shape[1:]), len(classes), hidden=cfg["hidden"], dropout=cfg["dropout"])
    model.load_state_dict(state["model"])
    from . import from_numpy
    from .data import DataLoader, TensorDataset

    test = DataLoader(TensorDataset(from_numpy(xt), from_numpy(yt)), batch_size=1000)
    res = Trainer(model, nn.CrossEntropyLoss(), None, progress=False).evaluate(test)
    print(json.dumps({"checkpoint": str(ckpt), "epoch": state["epoch"], "test_accuracy": res["accuracy"],
                      "test_loss": res["loss"]}, indent=2))
    return 0


def cmd_info(args) -> int:
    import platform

    import shenjing as sj

    from .backend import xp

    print(f"shenjing {sj.__version__}  (Python {platform.python_version()}, {platform.machine()})")
    print(f"backend: {xp.__name__} {xp.__version__}")
    try:
        from threadpoolctl import threadpool_info

        for lib in threadpool_info():
            print(f"BLAS: {lib.get('internal_api')} {lib.get('version')} ({lib.get('num_threads')} threads, {lib.get('architecture')})")
    except ImportError:
        cfg = xp.show_config(mode="dicts") if "mode" in xp.show_config.__code__.co_varnames else {}
        blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
        print(f"BLAS: {blas.get('name', 'unknown')} {blas.get('version', '')}")
    from .data.datasets import dataset_status

    for name, splits in dataset_status().items():
        found = {split: where for split, where in splits.items() if where}
        print(f"dataset {name}: " + (", ".join(f"{k} in {v}" for k, v in found.items()) if found else "not found"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shenjing", description="神经 shenjing: train, evaluate and inspect models.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on an image dataset (default: an MLP on Fashion-MNIST)")
    t.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    t.add_argument("--data", default=None, help="folder with the IDX files (default: search $SHENJING_DATA, ~/.cache/shenjing, Debian's)")
    t.add_argument("--model", default="mlp", help="model name from the registry (default: mlp)")
    t.add_argument("--hidden", default="512,512", help="hidden layer widths of the MLP (default: 512,512)")
    t.add_argument("--dropout", type=float, default=0.2)
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--momentum", type=float, default=0.9, help="for sgd and rmsprop")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--patience", type=int, default=0, help="early-stopping patience in epochs (0: off)")
    t.add_argument("--val-size", type=int, default=5000, help="training images held out for validation")
    t.add_argument("--subset", type=int, default=0, help="use only this many training images (0: all)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default="runs/fashion-mlp", help="output folder (default: runs/fashion-mlp)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate a checkpoint written by `shenjing train` on the test set")
    e.add_argument("checkpoint")
    e.add_argument("--data", default=None)
    e.set_defaults(func=cmd_evaluate)

    i = sub.add_parser("info", help="version, array backend, BLAS, datasets found")
    i.set_defaults(func=cmd_info)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
