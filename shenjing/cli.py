"""The ``shenjing`` command: train, evaluate, info (and, later, lab)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")


def _build_optimizer(name: str, params, lr: float, momentum: float, weight_decay: float):
    from . import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}[name]
    return cls(params, lr=lr, weight_decay=weight_decay)


def _model_options(cfg: dict) -> dict:
    """Options for the model builder: --hidden, --dropout and every --opt KEY=VALUE."""
    from .train.registry import parse_options

    opts = {"hidden": [int(h) for h in str(cfg["hidden"]).split(",") if h], "dropout": cfg["dropout"]}
    return opts | parse_options(cfg.get("opt"))


def _loss(task):
    from . import nn

    return task.loss if task.loss is not None else nn.CrossEntropyLoss()


def cmd_train(args) -> int:
    import shenjing as sj

    from .train import EarlyStopping, LRSchedulerCallback, Trainer, confusion_matrix
    from .train.registry import build_model, build_task
    from .viz.plots import plot_confusion, plot_curves

    cfg = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
    out = Path(args.out)
    sj.manual_seed(args.seed)
    task = build_task(args.dataset, cfg, args.data)
    model = build_model(args.model, task.input_shape, task.num_classes, **_model_options(cfg))
    optimizer = _build_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    callbacks = []
    if args.schedule == "cosine":
        callbacks.append(LRSchedulerCallback(sj.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)))
    if args.patience and task.val is not None:
        callbacks.append(EarlyStopping("val_loss", patience=args.patience))
    trainer = Trainer(model, _loss(task), optimizer, metrics=task.metrics, callbacks=callbacks, out_dir=out,
                      progress=not args.quiet, generators=task.generators)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({**cfg, "classes": task.classes}, indent=2))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"shenjing train: {args.model} ({n_params:,} parameters) on {args.dataset}, {len(task.train.dataset)} training "
          f"samples, {args.optimizer} lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs -> {out}", flush=True)
    t0 = time.perf_counter()
    history = trainer.fit(task.train, task.val, epochs=args.epochs, resume=args.resume)
    seconds = time.perf_counter() - t0
    res = trainer.evaluate(task.test, return_outputs=True)
    metric = trainer.metric_names[0]
    metrics = {f"test_{k}": v for k, v in res.items() if k not in ("outputs", "targets")}
    metrics.update({"train_seconds": seconds, "epochs": trainer.epoch, "parameters": n_params})
    if history and f"val_{metric}" in history[-1]:
        metrics[f"val_{metric}"] = history[-1][f"val_{metric}"]
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_curves(history, out / "curves.png", title=f"{args.model} on {args.dataset}")
    if res["outputs"].ndim == 2:  # one label per sample: a confusion matrix
        plot_confusion(confusion_matrix(res["outputs"], res["targets"], task.num_classes), task.classes, out / "confusion.png")
    if hasattr(model, "attention_maps"):  # a Transformer: the attention maps of the first test sequence
        from .viz.attention import sequence_attention_figure
        from .viz.plots import save_figure

        x0, y0 = task.test.dataset[0]
        save_figure(sequence_attention_figure(model, x0, y0, task.classes, name=args.dataset), out / "attention.png")
    print(f"test {metric} {res[metric]:.4f}  test loss {res['loss']:.4f}  ({seconds:.1f} s of training) -> {out}")
    return 0


def cmd_evaluate(args) -> int:
    from .train import Trainer, load_checkpoint
    from .train.registry import build_model, build_task

    ckpt = Path(args.checkpoint)
    cfg_path = ckpt.parent / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{cfg_path} not found next to the checkpoint (it is written by `shenjing train`)")
    cfg = json.loads(cfg_path.read_text())
    state = load_checkpoint(ckpt)
    task = build_task(cfg["dataset"], cfg, args.data or cfg.get("data"))
    model = build_model(cfg["model"], task.input_shape, task.num_classes, **_model_options(cfg))
    model.load_state_dict(state["model"])
    res = Trainer(model, _loss(task), None, metrics=task.metrics, progress=False).evaluate(task.test)
    print(json.dumps({"checkpoint": str(ckpt), "epoch": state["epoch"], **{f"test_{k}": v for k, v in res.items()}}, indent=2))
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


def cmd_lab(args) -> int:
    from .lab import build_report, catalogue_markdown, load_all, run_experiment

    if args.lab_command == "list":
        if args.markdown:
            print(catalogue_markdown(), end="")
            return 0
        exps = load_all()
        for e in exps.values():
            print(f"{e.id:26s} {e.title}  ({e.title_zh})  [{e.source}]")
        print(f"{len(exps)} experiments")
        return 0
    if args.lab_command == "run":
        res = run_experiment(args.id, args.out, quick=args.quick, seed=args.seed)
        verdict = "holds" if res["verdict"] else "does NOT hold"
        print(f"{res['id']}: {res['claim']}\n  verdict: the claim {verdict} ({res['method']})\n  runtime {res['runtime_s']:.1f} s; "
              f"figures {', '.join(res['figures'])} and result.json in {Path(args.out) / res['id']}")
        return 0 if res["verdict"] else 1
    path = build_report(args.out, quick=args.quick, seed=args.seed)
    print(f"report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shenjing", description="神经 shenjing: train, evaluate and inspect models.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on an image dataset (default: an MLP on Fashion-MNIST)")
    t.add_argument("--dataset", default="fashion-mnist", help="dataset from the registry (default: fashion-mnist)")
    t.add_argument("--data", default=None, help="folder with the IDX files (default: search $SHENJING_DATA, ~/.cache/shenjing, Debian's)")
    t.add_argument("--model", default="mlp", help="model name from the registry (default: mlp)")
    t.add_argument("--hidden", default="512,512", help="hidden layer widths of the MLP (default: 512,512)")
    t.add_argument("--dropout", type=float, default=0.2)
    t.add_argument("--opt", action="append", metavar="KEY=VALUE", help="a model option, e.g. --opt width=32 (repeatable)")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--momentum", type=float, default=0.9, help="for sgd and rmsprop")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--schedule", choices=("none", "cosine"), default="none", help="learning-rate schedule per epoch")
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

    lab = sub.add_parser("lab", help="the notes' demonstrations: list, run one, or build the report")
    lsub = lab.add_subparsers(dest="lab_command", required=True)
    ls = lsub.add_parser("list", help="list the experiments (id, title, Chinese title, source)")
    ls.add_argument("--markdown", action="store_true", help="as the Markdown table of docs/lab.md (with the claims)")
    r = lsub.add_parser("run", help="run one experiment: figures (PNG) and result.json with the verdict")
    r.add_argument("id")
    for q in (r, lsub.add_parser("report", help="run every experiment and write one HTML page (report.html)")):
        q.add_argument("--quick", action="store_true", help="the small, fast form (under a minute each)")
        q.add_argument("--out", default="lab-out", help="output folder (default: lab-out)")
        q.add_argument("--seed", type=int, default=0)
    lab.set_defaults(func=cmd_lab)
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
