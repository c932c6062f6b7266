"""The ``shenjing`` command: ``train``, ``sweep``, ``evaluate``, ``export``, ``playground``, ``info``, ``data fetch`` and ``lab``
(``list``, ``run``, ``report``).

Every option is checked where it enters: a value that cannot be honoured is a usage error, one line
naming the option, exit code 2. Other failures are one line with the exit code of their kind
(:data:`EXIT_CODES`, also in ``shenjing --help``); a traceback appears only with ``--debug`` or for
an internal error. Output piped into ``head`` ends quietly. What a run records (config.json, the
checkpoint's configuration, the history) is what ran: ``--resume`` with a changed hyper-parameter
is refused, naming each differing option (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .i18n import LANGS, lang_in_argv, pick

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")

EXIT_OK, EXIT_CLAIM, EXIT_USAGE, EXIT_INPUT, EXIT_FILESYSTEM, EXIT_RESUME, EXIT_DIVERGED = 0, 1, 2, 3, 4, 5, 6
EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE = 70, 130, 141
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_CLAIM: "`lab run`/`lab report`: the experiments ran, and a claim does not hold",
    EXIT_USAGE: "usage error: an option is invalid, out of range or does not fit the data (the message names it)",
    EXIT_INPUT: "an input file is missing or damaged: dataset, checkpoint, config.json",
    EXIT_FILESYSTEM: "a file could not be written or read: disk full, read-only, permission denied",
    EXIT_RESUME: "the run folder does not fit: --resume with other options, a checkpoint of another model, a folder in use",
    EXIT_DIVERGED: "training diverged: NaN/Inf, or the loss grew past --max-loss-growth (the last good checkpoint is kept)",
    EXIT_INTERNAL: "internal error (a bug in shenjing or in the model, e.g. a shape error): the traceback is shown",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_PIPE: "the output was closed (e.g. piped into head)",
}
EXIT_CODES_ZH = {
    EXIT_OK: "成功",
    EXIT_CLAIM: "`lab run`/`lab report`: 实验已运行, 但有论断不成立",
    EXIT_USAGE: "用法错误: 某个选项无效、超出范围或与数据不符 (消息中指出该选项)",
    EXIT_INPUT: "输入文件缺失或损坏: 数据集、检查点、config.json",
    EXIT_FILESYSTEM: "文件无法写入或读取: 磁盘已满、只读、权限不足",
    EXIT_RESUME: "运行目录不匹配: --resume 的选项不同、检查点属于另一个模型、目录正被使用",
    EXIT_DIVERGED: "训练发散: 出现 NaN/Inf, 或损失增长超过 --max-loss-growth (保留最后一个正常的检查点)",
    EXIT_INTERNAL: "内部错误 (shenjing 或模型中的缺陷, 如形状错误): 显示回溯信息",
    EXIT_INTERRUPTED: "被中断 (Ctrl-C)",
    EXIT_PIPE: "输出被关闭 (如通过管道传给 head)",
}
# argparse's and the option types' words in Chinese (the rest of a message — names, values, paths — stays as it is)
ZH_PHRASES = (
    (r"must be an integer ≥ (\S+), got (.*)$", r"必须是 ≥ \1 的整数, 实际为 \2"),
    (r"must be an integer from (\S+) to (\S+), got (.*)$", r"必须是 \1 到 \2 之间的整数, 实际为 \3"),
    (r"must be a finite number ([≥>]) (\S+) and < (\S+), got (.*)$", r"必须是 \1 \2 且 < \3 的有限数, 实际为 \4"),
    (r"must be a finite number ([≥>]) (\S+), got (.*)$", r"必须是 \1 \2 的有限数, 实际为 \3"),
    (r"must be widths ≥ 1 separated by commas, e\.g\. 512,512, got (.*)$", r"必须是以逗号分隔的 ≥ 1 的宽度, 如 512,512, 实际为 \1"),
    (r"must be KEY=VALUE, got (.*)$", r"必须是 KEY=VALUE 形式, 实际为 \1"),
    (r"^argument ", "参数 "),
    (r"the following arguments are required: ", "缺少必需的参数: "),
    (r"unrecognized arguments: ", "无法识别的参数: "),
    (r"invalid choice: (.*) \(choose from (.*)\)", r"无效的选择: \1 (可选: \2)"),
    (r"expected one argument", "需要一个值"),
    (r"invalid (\w+) value: ", r"无效的 \1 值: "),
)
# options that may change on --resume: they do not change what trains (the rest must match the checkpoint)
RESUMABLE = ("epochs", "quiet", "debug", "resume", "out", "data", "max_loss_growth", "export", "no_download")
OUTPUT_FILES = ("config.json", "metrics.json", "curves.png", "confusion.png", "attention.png", "model.onnx")


class CommandError(Exception):
    """A user-facing failure: one line on stderr and the exit code ``code``."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(message)


# ---------------------------------------------------------------------- option types (checked by argparse)


def _fail(what: str, text: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"must be {what}, got {text!r}")


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in [low, high]."""
    what = f"an integer ≥ {low}" if high is None else f"an integer from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise _fail(what, text) from None
        if value < low or (high is not None and value > high):
            raise _fail(what, text)
        return value

    return parse


def float_in(low: float, high: float | None = None, low_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number ≥ low (> low if ``low_open``) and < high."""
    what = f"a finite number {'>' if low_open else '≥'} {low:g}" + ("" if high is None else f" and < {high:g}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _fail(what, text) from None
        if not math.isfinite(value) or value < low or (low_open and value == low) or (high is not None and value >= high):
            raise _fail(what, text)
        return value

    return parse


def hidden_widths(text: str) -> str:
    """An argparse ``type``: layer widths ≥ 1 separated by commas ('' for none), normalised."""
    try:
        widths = [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise _fail("widths ≥ 1 separated by commas, e.g. 512,512", text) from None
    if any(w < 1 for w in widths):
        raise _fail("widths ≥ 1 separated by commas, e.g. 512,512", text)
    return ",".join(str(w) for w in widths)


def key_value(text: str) -> str:
    """An argparse ``type``: KEY=VALUE with a non-empty KEY."""
    key, sep, _ = text.partition("=")
    if not sep or not key.strip():
        raise _fail("KEY=VALUE", text)
    return text


SEED = int_in(-(2**63), 2**64 - 1)  # PyTorch's range for manual_seed


# ---------------------------------------------------------------------- train


def model_options(cfg: dict) -> dict:
    """Options for the model builder: --hidden, --dropout and every --opt KEY=VALUE."""
    from .train.task import parse_options

    opts = {"hidden": [int(h) for h in str(cfg["hidden"]).split(",") if h], "dropout": cfg["dropout"]}
    return opts | parse_options(cfg.get("opt"))


def build_optimizer(name: str, params, lr: float, momentum: float | None, weight_decay: float):
    """The optimiser ``name`` (one of OPTIMIZERS); ``momentum`` only for sgd and rmsprop."""
    from . import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}[name]
    return cls(params, lr=lr, weight_decay=weight_decay)


def _loss(task):
    from . import nn

    return task.loss if task.loss is not None else nn.CrossEntropyLoss()


def check_folder(option: str, path: str | None, must_exist: bool = False) -> None:
    """``path`` (of ``--option``) must be a folder or not exist yet (with ``must_exist``: exist)."""
    from .train.task import OptionError

    if path is None:
        return
    p = Path(path).expanduser()
    if must_exist and not p.exists():
        raise OptionError(option, f"folder {p} does not exist")
    for q in (p, *p.parents):
        if q.exists():
            if not q.is_dir():
                raise OptionError(option, f"{q} is a file, not a folder")
            return


def train_config(args) -> dict:
    """The run's options, checked (``OptionError`` naming the option) and resolved: what config.json
    and the checkpoint record."""
    from .train.registry import DATASETS, MODELS, known_options
    from .train.task import OptionError, parse_options

    if args.dataset not in DATASETS:
        raise OptionError("dataset", f"unknown dataset {args.dataset!r} (choose from {', '.join(DATASETS)})")
    if args.model not in MODELS:
        raise OptionError("model", f"unknown model {args.model!r} (choose from {', '.join(MODELS)})")
    known = known_options(args.model, args.dataset)
    for key in parse_options(args.opt):
        if key in ("hidden", "dropout"):
            raise OptionError("opt", f"{key} has its own option: use --{key}")
        if known is not None and key not in known:
            names = ", ".join(sorted(known - {"hidden", "dropout"})) or "none"
            raise OptionError("opt", f"{args.model} on {args.dataset} has no option {key!r} (its options: {names})")
    if args.momentum is not None and args.optimizer not in MOMENTUM_OPTIMIZERS:
        raise OptionError("momentum", f"{args.optimizer} has no momentum (only {' and '.join(MOMENTUM_OPTIMIZERS)} use it)")
    if args.patience and args.val_size == 0:
        raise OptionError("patience", "early stopping needs validation samples: --val-size 0 holds out none")
    check_folder("out", args.out)
    check_folder("data", args.data, must_exist=True)
    cfg = {k: v for k, v in vars(args).items() if k not in ("func", "command", "lang", "argv")}
    if cfg["momentum"] is None and args.optimizer in MOMENTUM_OPTIMIZERS:
        cfg["momentum"] = 0.9
    return cfg


def _show(value) -> str:
    return "(default)" if value is None else ",".join(map(str, value)) if isinstance(value, list) else str(value)


def check_resume(saved: dict | None, cfg: dict, done: int, where: Path) -> None:
    """Refuse (``CheckpointMismatchError``) a resume whose options differ from the checkpoint's
    in anything but :data:`RESUMABLE`, naming each (old → new), or asking fewer epochs than done."""
    from .train import CheckpointMismatchError

    if saved is None:
        raise CheckpointMismatchError(f"--resume: {where} holds no run options (written by an older shenjing or by the Python API); "
                                      "resume it with Trainer.fit(resume=True), or start a new run with another --out")
    keys = list(dict.fromkeys([*cfg, *saved]))
    diffs = [f"--{k.replace('_', '-')} {_show(saved.get(k))} → {_show(cfg.get(k))}" for k in keys
             if k not in RESUMABLE and saved.get(k) != cfg.get(k)]
    if cfg.get("schedule") == "cosine" and saved.get("epochs") != cfg["epochs"]:
        diffs.append(f"--epochs {saved.get('epochs')} → {cfg['epochs']} (the length of the cosine schedule)")
    if diffs:
        raise CheckpointMismatchError(f"--resume: the checkpoint in {where.parent} was trained with other options: {'; '.join(diffs)}. "
                                      "Resume with the options of its config.json, or start a new run with another --out")
    if cfg["epochs"] < done:
        raise CheckpointMismatchError(f"--resume: --epochs {cfg['epochs']} is fewer than the {done} epochs the checkpoint in {where.parent} has trained")


def resume_state(out: Path, cfg: dict, quiet: bool = False) -> dict | None:
    """The checkpoint state to continue from (None: no checkpoint yet, a new run), checked against ``cfg``."""
    from .train import load_checkpoint
    from .train.trainer import CHECKPOINT

    ckpt = out / CHECKPOINT
    if not ckpt.exists():
        if not quiet:
            print(f"--resume: no checkpoint in {out} yet: starting from epoch 1", flush=True)
        return None
    state = load_checkpoint(ckpt)
    check_resume(state.get("config"), cfg, state["epoch"], ckpt)
    return state


def build_run(cfg: dict):
    """(task, model) of the run; a ValueError of a builder is a usage error naming --opt (or
    --dataset, --model)."""
    from .files import InvalidFileError
    from .train.registry import build_model, build_task
    from .train.task import OptionError

    try:
        task = build_task(cfg["dataset"], cfg, cfg["data"])
    except (OptionError, InvalidFileError):
        raise
    except ValueError as e:  # a builder's check of its options
        raise OptionError("opt" if cfg.get("opt") else "dataset", f"dataset {cfg['dataset']}: {e}") from e
    n_train, n_val = len(task.train.dataset), 0 if task.val is None else len(task.val.dataset)
    for key, asked, got, what in (("subset", cfg["subset"], n_train, "training"), ("val_size", cfg["val_size"], n_val, "validation")):
        if asked is not None and asked != got:
            raise OptionError(key, f"{cfg['dataset']} provides {got} {what} samples, not the {asked} asked for")
    if n_train == 0:
        raise OptionError("val_size", f"leaves no training samples of {cfg['dataset']}")
    if cfg["patience"] and task.val is None:
        raise OptionError("patience", "early stopping needs validation samples, and this run has none")
    try:
        model = build_model(cfg["model"], task.input_shape, task.num_classes, **model_options(cfg))
    except ValueError as e:  # a builder's check of its options or of the data's shape
        raise OptionError("opt" if cfg.get("opt") else "model", f"model {cfg['model']} on {cfg['dataset']}: {e}") from e
    return task, model


@contextlib.contextmanager
def folder_lock(folder: Path):
    """Hold an exclusive lock on ``folder`` (flock; released when the process ends, even by a kill):
    two runs never write into the same folder at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(EXIT_RESUME, f"{folder} is in use by another shenjing run; wait for it or choose another --out") from None
        yield
    finally:
        os.close(fd)


def join_world(args) -> tuple[int, int]:
    """(rank, world size): under mpiexec, join the MPI world; the global --batch-size must split evenly."""
    from .distributed import group

    if not group.launched_by_mpi():
        return 0, 1
    group.init()
    rank, size = group.get_rank(), group.get_world_size()
    share_cores(max(1, (os.cpu_count() or 1) // group.local_size()))
    if args.batch_size % size:
        raise CommandError(EXIT_USAGE, f"argument --batch-size: the global batch {args.batch_size} does not split evenly over {size} ranks")
    return rank, size


def share_cores(threads: int) -> None:
    """BLAS and shenjing's kernels on ``threads`` threads: the ranks of one machine share its cores
    (oversubscribed, spinning BLAS threads make a 2-rank step ~20× slower on 2 cores)."""
    from threadpoolctl import threadpool_limits

    from .ops.parallel import set_num_threads

    threadpool_limits(threads)
    set_num_threads(threads)


@contextlib.contextmanager
def job_threads(threads: int):
    """BLAS and shenjing's kernels on ``threads`` threads within the block (as before after it)."""
    from threadpoolctl import threadpool_limits

    from .ops.parallel import get_num_threads, set_num_threads

    before = get_num_threads()
    with threadpool_limits(threads):
        set_num_threads(threads)
        try:
            yield
        finally:
            set_num_threads(before)


def data_parallel(model):
    """The model for N ranks: batch norm over the global batch (SyncBatchNorm), gradients averaged (DDP)."""
    from . import nn
    from .distributed import DistributedDataParallel

    return DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model))


def cmd_train(args) -> int:
    import shenjing as sj

    sj.tune_malloc()
    train_run(args, *join_world(args))
    return EXIT_OK


def train_run(args, rank: int = 0, world: int = 1) -> dict | None:
    """One run of ``shenjing train`` (data-parallel on ``world`` ranks); returns the test metrics
    (metrics.json) on rank 0, None on the others."""
    import shenjing as sj

    from .distributed.shard import ShardedLoader
    from .files import atomic_write_bytes, remove_leftovers
    from .train import EarlyStopping, LRSchedulerCallback, Trainer

    lead = rank == 0  # only rank 0 writes files and prints
    cfg = train_config(args)
    out = Path(args.out)
    state = resume_state(out, cfg, quiet=not lead) if args.resume else None
    sj.manual_seed(args.seed)
    task, model = build_run(cfg)
    net = data_parallel(model) if world > 1 else model
    optimizer = build_optimizer(args.optimizer, net.parameters(), args.lr, cfg["momentum"], args.weight_decay)
    callbacks = []
    if args.schedule == "cosine":
        callbacks.append(LRSchedulerCallback(sj.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)))
    if args.patience:
        callbacks.append(EarlyStopping("val_loss", patience=args.patience))
    trainer = Trainer(net, _loss(task), optimizer, metrics=task.metrics, callbacks=callbacks, out_dir=out if lead else None,
                      progress=lead and not args.quiet, generators=task.generators, max_loss_growth=args.max_loss_growth or None, config=cfg)
    if lead:
        out.mkdir(parents=True, exist_ok=True)
    with folder_lock(out) if lead else contextlib.nullcontext():
        if state is not None:
            trainer.restore(state)
        n_params = sum(p.numel() for p in model.parameters())
        if lead:
            remove_leftovers(out, OUTPUT_FILES)
            samples = {"train": len(task.train.dataset), "val": 0 if task.val is None else len(task.val.dataset), "test": len(task.test.dataset)}
            atomic_write_bytes(out / "config.json", json.dumps({**cfg, "classes": task.classes, "samples": samples, "ranks": world}, indent=2).encode())
            ranks = f" on {world} ranks ({args.batch_size // world} per rank)" if world > 1 else ""
            print(f"shenjing train: {args.model} ({n_params:,} parameters) on {args.dataset}, {samples['train']} training "
                  f"samples, {args.optimizer} lr={args.lr}, batch {args.batch_size}{ranks}, {args.epochs} epochs -> {out}", flush=True)
            if state is not None:
                print(f"resuming from the checkpoint of epoch {trainer.epoch}", flush=True)
        t0 = time.perf_counter()
        history = trainer.fit(ShardedLoader(task.train, net) if world > 1 else task.train, task.val, epochs=args.epochs)
        seconds = time.perf_counter() - t0
        if not lead:
            return None
        metrics = report_run(trainer, task, history, seconds, n_params, args, out)
        if args.export:
            export_onnx(model, task, out / "model.onnx")
    return metrics


def report_run(trainer, task, history: list, seconds: float, n_params: int, args, out: Path) -> dict:
    """After training: metrics.json, the curves, the confusion matrix or attention maps, one line; returns the metrics."""
    from .files import atomic_write_bytes
    from .train import confusion_matrix
    from .viz.plots import plot_confusion, plot_curves

    res = trainer.evaluate(task.test, return_outputs=True)
    metric = trainer.metric_names[0]
    metrics = {f"test_{k}": v for k, v in res.items() if k not in ("outputs", "targets")}
    metrics.update({"train_seconds": seconds, "epochs": trainer.epoch, "parameters": n_params})
    if history and f"val_{metric}" in history[-1]:
        metrics[f"val_{metric}"] = history[-1][f"val_{metric}"]
    atomic_write_bytes(out / "metrics.json", json.dumps(metrics, indent=2).encode())
    plot_curves(history, out / "curves.png", title=f"{args.model} on {args.dataset}")
    if res["outputs"].ndim == 2:  # one label per sample: a confusion matrix
        plot_confusion(confusion_matrix(res["outputs"], res["targets"], task.num_classes), task.classes, out / "confusion.png")
    if hasattr(trainer.saved_model, "attention_maps"):  # a Transformer: the attention maps of the first test sequence
        from .viz.attention import sequence_attention_figure
        from .viz.plots import save_figure

        x0, y0 = task.test.dataset[0]
        save_figure(sequence_attention_figure(trainer.saved_model, x0, y0, task.classes, name=args.dataset), out / "attention.png")
    print(f"test {metric} {res[metric]:.4f}  test loss {res['loss']:.4f}  ({seconds:.1f} s of training) -> {out}")
    return metrics


# ---------------------------------------------------------------------- evaluate, info, lab


def read_config(path: Path) -> dict:
    """config.json written by ``shenjing train`` (InvalidFileError if it is not valid JSON)."""
    from .files import InvalidFileError

    if not path.exists():
        raise FileNotFoundError(f"{path} not found next to the checkpoint (it is written by `shenjing train`)")
    try:
        cfg = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidFileError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(cfg, dict) or "dataset" not in cfg or "model" not in cfg:
        raise InvalidFileError(f"{path}: not a config.json of `shenjing train` (no dataset and model)")
    return cfg


def checkpoint_run(checkpoint: str, data: str | None):
    """The checkpoint's state, its task (dataset) and its model with the checkpoint's weights."""
    from .train import CheckpointMismatchError, load_checkpoint
    from .train.registry import build_model, build_task

    check_folder("data", data, must_exist=True)
    ckpt = Path(checkpoint)
    state = load_checkpoint(ckpt)
    cfg = state.get("config") or read_config(ckpt.parent / "config.json")  # the checkpoint's own options first
    task = build_task(cfg["dataset"], cfg, data or cfg.get("data"))
    model = build_model(cfg["model"], task.input_shape, task.num_classes, **model_options(cfg))
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError) as e:
        why = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise CheckpointMismatchError(f"{ckpt} does not fit the model of its options ({why})") from e
    return state, task, model


def cmd_evaluate(args) -> int:
    from .train import Trainer

    state, task, model = checkpoint_run(args.checkpoint, args.data)
    res = Trainer(model, _loss(task), None, metrics=task.metrics, progress=False).evaluate(task.test)
    print(json.dumps({"checkpoint": args.checkpoint, "epoch": state["epoch"], **{f"test_{k}": v for k, v in res.items()}}, indent=2))
    return EXIT_OK


def export_onnx(model, task, path: Path, opset: int | None = None) -> None:
    """``model`` as ONNX at ``path``, its batch axis dynamic, traced on the first test sample."""
    try:
        from . import onnx as sj_onnx
    except ImportError as e:
        raise CommandError(EXIT_USAGE, str(e)) from None
    x0 = task.test.dataset[0][0]
    try:
        sj_onnx.export(model, (x0.unsqueeze(0),), path, input_names=["input"], output_names=["output"],
                       dynamic_axes={"input": [0], "output": [0]}, opset_version=opset or sj_onnx.DEFAULT_OPSET)
    except (ImportError, sj_onnx.UnsupportedOperatorError) as e:
        raise CommandError(EXIT_USAGE, str(e)) from None
    print(f"ONNX model (opset {opset or sj_onnx.DEFAULT_OPSET}, input {(1, *x0.shape)} with a dynamic batch) -> {path}")


def cmd_export(args) -> int:
    _, task, model = checkpoint_run(args.checkpoint, args.data)
    export_onnx(model, task, Path(args.out) if args.out else Path(args.checkpoint).parent / "model.onnx", args.opset)
    return EXIT_OK


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
    from .data.datasets import dataset_dir, dataset_status

    for name, splits in dataset_status().items():
        found = {split: where for split, where in splits.items() if where}
        text = ", ".join(f"{k} in {v}" for k, v in found.items()) if found else "not found"
        if len(found) < len(splits) and dataset_dir(name) is not None:
            text = f"incomplete: {dataset_dir(name)[0]} lacks " + " and ".join(k for k in splits if k not in found) + " files" + (f" ({text})" if found else "")
        print(f"dataset {name}: {text}")
    print(f"MPI: {mpi_line()}")
    return EXIT_OK


def cmd_data(args) -> int:
    """``data fetch NAME``: the dataset's folder if installed, else download it (or always into --dir)."""
    from .data.datasets import DATASETS, dataset_dir, download_dataset, find_files

    if args.name not in DATASETS:
        raise CommandError(EXIT_USAGE, f"argument name: unknown dataset {args.name!r} (choose from {', '.join(DATASETS)})")
    title = DATASETS[args.name]["title"]
    if args.dir is None and all(find_files(args.name, split) for split in ("train", "test")):
        where, why = dataset_dir(args.name)
        print(pick(args.lang, f"{title}: found in {where} ({why}); nothing to download", f"{title}: 已在 {where} ({why}), 无需下载"))
        return EXIT_OK
    dest = download_dataset(args.name, args.dir, verbose=not args.quiet)
    print(pick(args.lang, f"{title}: the 4 files are in {dest} (SHA-256 checked)", f"{title}: 4 个文件已在 {dest} (SHA-256 已校验)"))
    return EXIT_OK


def mpi_line() -> str:
    """The MPI library and this process's world, or how to install it."""
    from .distributed import group

    if not group.is_available():
        return "not installed (pip install 'shenjing[mpi]' for mpiexec -n N shenjing train ...)"
    from mpi4py import MPI

    if group.launched_by_mpi():
        group.init()
    version = " ".join(MPI.Get_library_version().splitlines()[0].split())
    return f"{version}, mpi4py {__import__('mpi4py').__version__}; world size {group.get_world_size()} (rank {group.get_rank()})"


def cmd_playground(args) -> int:
    import socket

    from .playground.server import serve

    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        try:
            probe.bind((args.host, args.port))
        except OSError as e:
            raise CommandError(EXIT_FILESYSTEM, f"cannot listen on {args.host}:{args.port} ({e.strerror}); choose another --port") from None
    serve(args.host, args.port, args.open)
    return EXIT_OK


def spread_jobs(args, job: Callable, items: list) -> list | None:
    """``--workers N``: the command relaunched as it was typed under ``mpiexec -n N`` (its exit code in
    ``args.relaunch_code``); under mpiexec, ``items`` dealt round robin over the ranks, each running
    ``job(item)`` for its share, the results gathered on every rank in the items' order (rank 0 reports
    them); serially, ``job`` on every item here. Each job on ``args.threads`` threads, in both cases: BLAS's
    float32 sums depend on its thread count. None in the relaunching process."""
    from .distributed import group, spread

    if args.workers > 1 and not group.launched_by_mpi():
        try:
            args.relaunch_code = spread.relaunch(args.workers, ["--lang", args.lang, *args.argv])
        except RuntimeError as e:
            raise CommandError(EXIT_USAGE, f"argument --workers: {e}") from None
        return None
    if not group.launched_by_mpi():
        with job_threads(args.threads):
            return [job(item) for item in items]
    group.init()
    rank, size = group.get_rank(), group.get_world_size()
    with group.alone(), job_threads(args.threads):  # each job as in one process: a training run's loss must not be averaged over the ranks
        mine = [job(item) for item in spread.deal(items, rank, size)]
    return spread.gather_in_order(mine, len(items), size)


def lab_list(args) -> int:
    """``lab list``: one line per experiment (the title in the chosen language first), or the Markdown table."""
    from .lab import catalogue_markdown, load_all

    if args.markdown:
        print(catalogue_markdown(), end="")
        return EXIT_OK
    exps = load_all()
    for e in exps.values():
        first, second = (e.title_zh, e.title) if args.lang == "zh" else (e.title, e.title_zh)
        print(f"{e.id:26s} {first}  ({second})  [{e.source}]")
    print(pick(args.lang, f"{len(exps)} experiments", f"{len(exps)} 个实验"))
    return EXIT_OK


def lab_run_lines(res: dict, out: Path, lang: str) -> str:
    """What ``lab run`` prints for one result: the claim, the verdict with its method, the runtime and files."""
    where = out / res["id"]
    if lang == "zh":
        verdict = "论断成立" if res["verdict"] else "论断不成立"
        return (f"{res['id']}: {res.get('claim_zh') or res['claim']}\n  结论: {verdict} ({res['method_zh']})\n  用时 {res['runtime_s']:.1f} 秒; "
                f"图 {', '.join(res['figures'])} 与 result.json 在 {where}")
    verdict = "holds" if res["verdict"] else "does NOT hold"
    return (f"{res['id']}: {res['claim']}\n  verdict: the claim {verdict} ({res['method']})\n  runtime {res['runtime_s']:.1f} s; "
            f"figures {', '.join(res['figures'])} and result.json in {where}")


def cmd_lab(args) -> int:
    from functools import partial

    from .distributed.group import get_rank
    from .lab import load_all, report_result, run_experiment, write_report

    if args.lab_command == "list":
        return lab_list(args)
    import shenjing as sj

    sj.tune_malloc()
    check_folder("out", args.out)
    exps = load_all()
    for exp_id in args.id:
        if exp_id not in exps:
            raise CommandError(EXIT_USAGE, f"argument id: unknown lab experiment {exp_id!r}; `shenjing lab list` shows the {len(exps)} available")
    if args.lab_command == "run":
        results = spread_jobs(args, partial(run_experiment, out_dir=args.out, quick=args.quick, seed=args.seed), args.id)
    else:
        results = spread_jobs(args, partial(report_result, out_dir=args.out, quick=args.quick, seed=args.seed), args.id or list(exps))
    if results is None:  # relaunched under mpiexec: its exit code
        return args.relaunch_code
    if get_rank() == 0 and args.lab_command == "report":
        path = write_report(results, args.out, quick=args.quick, seed=args.seed, lang=args.lang)
        print(pick(args.lang, f"report: {path}", f"报告: {path}"))
    elif get_rank() == 0:
        for res in results:
            print(lab_run_lines(res, Path(args.out), args.lang))
    return EXIT_OK if all(res["verdict"] for res in results) else EXIT_CLAIM  # on every rank


# ---------------------------------------------------------------------- sweep

SWEEP_FIXED = ("out", "data", "opt", "export", "lang", "func", "command")  # train options a grid does not vary


def cmd_sweep(args) -> int:
    """``shenjing sweep``: one ``shenjing train`` run in this process per configuration (dealt over the ranks
    with --workers); rank 0 writes sweep.csv and sweep.png."""
    import shenjing as sj

    from .distributed.group import get_rank, get_world_size

    sj.tune_malloc()
    check_folder("out", args.out)
    grid, trials = sweep_trials(args)
    rows = spread_jobs(args, sweep_trial, trials)
    if rows is None:  # relaunched under mpiexec: its exit code
        return args.relaunch_code
    if get_rank() == 0:
        report_sweep(rows, grid, Path(args.out), get_world_size())
    return EXIT_OK


def sweep_trials(args) -> tuple[dict, list[tuple[str, dict, argparse.Namespace]]]:
    """The grid and the trials (name, configuration, train options) of ``shenjing sweep``; every value and
    every trial's options are checked by ``shenjing train``'s parser and checks before any trial runs."""
    from .train.sweep import configurations, parse_grid, trial_argv
    from .train.task import OptionError

    parser = trial_parser()
    base = parse_train(parser, args.train, "the train options after --")
    check_folder("data", base.data, must_exist=True)
    options = {k for k, v in vars(parser.parse_args(["train"])).items() if not isinstance(v, bool) and k not in SWEEP_FIXED}
    grid = parse_grid(args.grid, options)
    check_sweep_base(args.train, base, grid)
    for name, values in grid.items():
        for value in values:
            parse_train(parser, [*args.train, *trial_argv({name: value})], f"argument --grid: {name}={value}", inner=True)
    trials = []
    for i, config in enumerate(configurations(grid, args.random, args.seed)):
        name = f"trial-{i:03d}"
        trial = parse_train(parser, [*args.train, *trial_argv(config), "--out", str(Path(args.out) / name), "--quiet"], name)
        try:
            train_config(trial)
        except OptionError as e:
            raise CommandError(EXIT_USAGE, f"argument --grid: {name} ({', '.join(f'{k}={v}' for k, v in config.items())}): {e}") from None
        trials.append((name, config, trial))
    return grid, trials


def parse_train(parser: argparse.ArgumentParser, argv: list[str], where: str, inner: bool = False) -> argparse.Namespace:
    """``shenjing train ARGV`` parsed; a usage error says ``where`` (with ``inner``, instead of its own option)."""
    try:
        return parser.parse_args(["train", *argv])
    except CommandError as e:
        message = re.sub(r"^argument --[\w-]+: ", "", str(e)) if inner else str(e)
        raise CommandError(EXIT_USAGE, f"{where}: {message}") from None


def check_sweep_base(argv: list[str], base: argparse.Namespace, grid: dict) -> None:
    """The train options after -- may not set --out or --resume (the sweep's), nor an option of the grid."""
    from .train.task import parse_options

    if base.resume or any(a == "--out" or a.startswith("--out=") for a in argv):
        raise CommandError(EXIT_USAGE, "the train options after --: --out and --resume are not a trial's: "
                                       "each trial trains afresh in the sweep's --out DIR/trial-NNN")
    opts = parse_options(base.opt)
    for name in grid:
        if (name[4:].replace("-", "_") in opts) if name.startswith("opt.") else any(a == f"--{name}" or a.startswith(f"--{name}=") for a in argv):
            raise CommandError(EXIT_USAGE, f"argument --grid: {name} is also set in the train options after --; set it in one place")


def sweep_trial(trial: tuple[str, dict, argparse.Namespace]) -> dict:
    """One trial: ``shenjing train`` in this process; its row of sweep.csv (a run that diverged is a row too)."""
    from .train import DivergenceError

    name, config, args = trial
    try:
        metrics = train_run(args)
    except DivergenceError as e:
        return {"trial": name, **config, "status": "diverged", "note": str(e).strip().splitlines()[0]}
    return {"trial": name, **config, "status": "ok", **metrics}


def report_sweep(rows: list[dict], grid: dict, out: Path, ranks: int) -> None:
    """sweep.csv (atomically), sweep.png and one line naming the best trial."""
    from .train.sweep import write_table
    from .viz.plots import plot_sweep

    ok = [r for r in rows if r["status"] == "ok"]
    measured = list(dict.fromkeys(k for r in ok for k in r if k not in ("trial", "status", *grid)))
    out.mkdir(parents=True, exist_ok=True)
    table = write_table(rows, ["trial", *grid, "status", *measured] + (["note"] if len(ok) < len(rows) else []), out / "sweep.csv")
    metric = next((k[5:] for k in measured if k.startswith("test_") and k != "test_loss"), "accuracy")
    figure = plot_sweep(rows, grid, metric, out / "sweep.png", title=f"shenjing sweep over {' × '.join(grid)}")
    where = f" on {ranks} ranks" if ranks > 1 else ""
    diverged = f", {len(rows) - len(ok)} diverged" if len(ok) < len(rows) else ""
    best = max(ok, key=lambda r: (r[f"test_{metric}"], -r["test_loss"]), default=None)  # ties: the lower loss
    says = "no trial finished" if best is None else (f"best test {metric} {best[f'test_{metric}']:.4f}: {best['trial']} "
                                                      f"({', '.join(f'{k}={best[k]}' for k in grid)})")
    print(f"sweep: {len(rows)} trials{where}{diverged} -> {table}, {figure}; {says}")


# ---------------------------------------------------------------------- parser and main


def in_chinese(message: str) -> str:
    """An option error's words in Chinese (:data:`ZH_PHRASES`); names, values and paths stay as they are."""
    for pattern, zh in ZH_PHRASES:
        message = re.sub(pattern, zh, message)
    return message


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``shenjing train: error: argument --lr: ...`` (exit 2),
    in Chinese with ``lang="zh"`` (``shenjing train: 错误: 参数 --lr: ...``)."""

    def __init__(self, *args, lang: str = "en", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang

    def error(self, message: str):
        if self.lang == "zh":
            self.exit(EXIT_USAGE, f"{self.prog}: 错误: {in_chinese(message)}\n")
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class TrialParser(Parser):
    """``shenjing train``'s parser for a sweep's trials: a usage error is raised (CommandError), not printed."""

    def error(self, message: str):
        raise CommandError(EXIT_USAGE, message)


def trial_parser() -> argparse.ArgumentParser:
    """The options of ``shenjing train`` (spelled out: no abbreviations) for the trials of a sweep."""
    from functools import partial

    p = TrialParser(prog="shenjing train")
    add_train_parser(p.add_subparsers(dest="command", required=True, parser_class=partial(TrialParser, allow_abbrev=False)),
                     [common_parents()[1]])
    return p


def _epilog(lang: str = "en") -> str:
    if lang == "zh":
        rows = "\n".join(f"  {code:>3}  {what}" for code, what in EXIT_CODES_ZH.items())
        return f"退出码:\n{rows}\n\n加上 --debug 时失败还会显示回溯信息. 见 docs/reliability.md. 输出语言: --lang en|zh (默认取自 LANG/LC_ALL)."
    rows = "\n".join(f"  {code:>3}  {what}" for code, what in EXIT_CODES.items())
    return (f"exit codes:\n{rows}\n\nWith --debug a failure also shows its traceback. See docs/reliability.md. "
            "Output language: --lang en|zh (default from LANG/LC_ALL).")


def add_train_parser(sub, parents: list) -> None:
    """The options of ``shenjing train``, each checked by its ``type``."""
    t = sub.add_parser("train", parents=parents, help="train a model on an image dataset (default: an MLP on Fashion-MNIST)",
                       epilog="--resume continues the run in --out: only --epochs (more epochs; not with --schedule cosine), "
                              "--quiet, --debug, --data and --max-loss-growth may differ from the checkpoint's options; any other "
                              "change is refused, naming the option. A kill at any moment loses at most the epoch in progress.")
    t.add_argument("--dataset", default="fashion-mnist", help="dataset from the registry (default: fashion-mnist)")
    t.add_argument("--data", default=None, help="folder with the IDX files (default: search $SHENJING_DATA, ~/.cache/shenjing, Debian's)")
    t.add_argument("--no-download", action="store_true",
                   help="never download: without it absent Fashion-MNIST/MNIST files are fetched (SHA-256 checked) into --data or the cache")
    t.add_argument("--model", default="mlp", help="model name from the registry (default: mlp)")
    t.add_argument("--hidden", type=hidden_widths, default="512,512", help="hidden layer widths of the MLP (default: 512,512)")
    t.add_argument("--dropout", type=float_in(0, 1), default=0.2, help="dropout probability in [0, 1) (default: 0.2)")
    t.add_argument("--opt", action="append", type=key_value, metavar="KEY=VALUE", help="a model or dataset option, e.g. --opt width=32 (repeatable)")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=float_in(0, low_open=True), default=1e-3, help="learning rate > 0 (default: 0.001)")
    t.add_argument("--momentum", type=float_in(0, 1), default=None, help="in [0, 1), for sgd and rmsprop only (default: 0.9)")
    t.add_argument("--weight-decay", type=float_in(0), default=0.0)
    t.add_argument("--batch-size", type=int_in(1), default=128,
                   help="the global batch (default: 128); under mpiexec -n N it is split over the N ranks and must divide by N")
    t.add_argument("--epochs", type=int_in(1), default=20)
    t.add_argument("--schedule", choices=("none", "cosine"), default="none", help="learning-rate schedule per epoch")
    t.add_argument("--patience", type=int_in(0), default=0, help="early-stopping patience in epochs (0: off)")
    t.add_argument("--val-size", type=int_in(0), default=None, help="training samples held out for validation (default: the dataset's, 5000 for images)")
    t.add_argument("--subset", type=int_in(1), default=None, help="train on only this many samples (default: all, or the dataset's size)")
    t.add_argument("--seed", type=SEED, default=0)
    t.add_argument("--max-loss-growth", type=float_in(0), default=1e4, metavar="FACTOR",
                   help="stop as diverged when a step's loss exceeds FACTOR × the first step's (default: 1e4; 0: off)")
    t.add_argument("--out", default="runs/fashion-mlp", help="output folder (default: runs/fashion-mlp)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out (with the same options)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument("--export", choices=("onnx",), default=None, help="also write the trained model as model.onnx in --out")
    t.set_defaults(func=cmd_train)


def common_parents() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The parents of the commands' parsers: --lang, and --lang with --debug."""
    language = argparse.ArgumentParser(add_help=False)
    language.add_argument("--lang", choices=LANGS, default=None, help="language of the output: en or zh (default: from LANG/LC_ALL)")
    debug = argparse.ArgumentParser(add_help=False, parents=[language])
    debug.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    return language, debug


def add_spread_options(parser: argparse.ArgumentParser, job: str) -> None:
    """``--workers N`` and ``--threads T`` (read by ``spread_jobs``): the jobs dealt over N MPI ranks, each
    with T BLAS and kernel threads."""
    parser.add_argument("--workers", type=int_in(1), default=1, metavar="N",
                        help=f"spread the {job}s over N MPI ranks (mpiexec -n N; needs shenjing[mpi]); results equal a serial run "
                             "(default: 1)")
    parser.add_argument("--threads", type=int_in(1), default=1, metavar="T",
                        help=f"BLAS and kernel threads per {job}, serially and on every rank (default: 1); BLAS's float32 sums "
                             f"depend on its thread count, so with the same T a {job} gives the same numbers whatever --workers")


def add_sweep_parser(sub, parents: list) -> None:
    """The options of ``shenjing sweep``; the train options of every trial follow ``--``."""
    w = sub.add_parser("sweep", parents=parents, help="grid or random search over the options of `shenjing train`: sweep.csv and sweep.png",
                       description="Train once per configuration of a grid (or of K configurations drawn from it), each trial a "
                                   "`shenjing train` run in its own folder DIR/trial-NNN; then one table (DIR/sweep.csv) and one "
                                   "figure (DIR/sweep.png) of the test metric and loss of every trial.",
                       epilog="Example: shenjing sweep --grid lr=0.001,0.01,0.1 --grid hidden=64,128x128 --workers 2 --out runs/sweep "
                              "-- --epochs 1 --subset 2048. The options of `shenjing train` for every trial come after --; a trial's "
                              "training seed is its --seed (default 0): with the same --threads a trial gives the same result "
                              "serially and on any number of ranks. "
                              "Every value and every trial's options are checked before the first trial runs. A trial that "
                              "diverges is a row of the table (status diverged); any other failure stops the sweep.")
    w.add_argument("--grid", action="append", required=True, metavar="NAME=V1,V2,...",
                   help="a train option and its values: lr=0.01,0.1; hidden=64,128x128 (x joins the widths of several layers); "
                        "opt.KEY=... for --opt KEY=VALUE. Repeatable: the grid is the product")
    w.add_argument("--random", type=int_in(1), default=None, metavar="K",
                   help="run K configurations drawn at random from the grid, without repetition (default: every configuration)")
    w.add_argument("--seed", type=SEED, default=0, help="the seed of --random's draw (not the trials' training seed: that is train's --seed)")
    add_spread_options(w, "trial")
    w.add_argument("--out", default="runs/sweep", metavar="DIR", help="output folder: sweep.csv, sweep.png, a folder per trial (default: runs/sweep)")
    w.add_argument("train", nargs="*", metavar="-- TRAIN_OPTION", help="the options of `shenjing train` for every trial, after --")
    w.set_defaults(func=cmd_sweep)


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The parser of every command; its usage errors and the epilog in ``lang``."""
    from functools import partial

    language, debug = common_parents()
    p = Parser(prog="shenjing", description=pick(lang, "神经 shenjing: train, evaluate and inspect models.",
                                                  "神经 shenjing: 训练、评估与检查模型."), epilog=_epilog(lang),
               formatter_class=argparse.RawDescriptionHelpFormatter, lang=lang, parents=[language])
    sub = p.add_subparsers(dest="command", required=True, parser_class=partial(Parser, lang=lang))
    add_train_parser(sub, [debug])
    add_sweep_parser(sub, [debug])

    e = sub.add_parser("evaluate", parents=[debug], help="evaluate a checkpoint written by `shenjing train` on the test set")
    e.add_argument("checkpoint")
    e.add_argument("--data", default=None)
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", parents=[debug], help="write a checkpoint of `shenjing train` as an ONNX model")
    x.add_argument("checkpoint")
    x.add_argument("--format", choices=("onnx",), default="onnx")
    x.add_argument("--out", default=None, help="output file (default: model.onnx beside the checkpoint)")
    x.add_argument("--opset", type=int_in(13, 21), default=None, help="ONNX opset version, 13–21 (default: 17)")
    x.add_argument("--data", default=None, help="dataset folder, for the sample the model is traced on")
    x.set_defaults(func=cmd_export)

    g = sub.add_parser("playground", parents=[debug], help="the interactive playground in the browser (a local web server)")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    g.add_argument("--port", type=int_in(1, 65535), default=8000, help="port (default: 8000)")
    g.add_argument("--open", action="store_true", help="open the page in the default browser")
    g.set_defaults(func=cmd_playground)

    i = sub.add_parser("info", parents=[debug], help="version, array backend, BLAS, datasets found")
    i.set_defaults(func=cmd_info)

    d = sub.add_parser("data", help="datasets: fetch one")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=partial(Parser, lang=lang))
    f = dsub.add_parser("fetch", parents=[debug], help="download a dataset's files (SHA-256 checked, written atomically) unless found")
    f.add_argument("name", help="fashion-mnist or mnist")
    f.add_argument("--dir", default=None, help="download into this folder, even if the dataset is installed elsewhere "
                                               "(default: $SHENJING_DATA/NAME or ~/.cache/shenjing/NAME, when not found)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=cmd_data)

    lab = sub.add_parser("lab", help="the notes' demonstrations: list, run one, or build the report")
    lsub = lab.add_subparsers(dest="lab_command", required=True, parser_class=partial(Parser, lang=lang))
    ls = lsub.add_parser("list", parents=[debug], help="list the experiments (id, title, Chinese title, source)")
    ls.add_argument("--markdown", action="store_true", help="as the Markdown table of docs/lab.md (with the claims)")
    r = lsub.add_parser("run", parents=[debug], help="run experiments: figures (PNG) and result.json with the verdict, per experiment")
    r.add_argument("id", nargs="+", help="one or more experiment ids (`shenjing lab list`)")
    rep = lsub.add_parser("report", parents=[debug], help="run every experiment (or those named) and write one HTML page (report.html)")
    rep.add_argument("id", nargs="*", help="experiment ids (`shenjing lab list`; default: all of them)")
    for q in (r, rep):
        add_spread_options(q, "experiment")
        q.add_argument("--quick", action="store_true", help="the small, fast form (under a minute each)")
        q.add_argument("--out", default="lab-out", help="output folder (default: lab-out)")
        q.add_argument("--seed", type=SEED, default=0)
    lab.set_defaults(func=cmd_lab)
    return p


def user_failure(e: BaseException) -> int | None:
    """The exit code of a user-facing failure (None: an internal error, shown with its traceback)."""
    from .data.datasets import DownloadError
    from .files import InvalidFileError
    from .train import CheckpointMismatchError, DivergenceError
    from .train.task import OptionError

    kinds = ((CommandError, None), (DownloadError, EXIT_INPUT),
             (OptionError, EXIT_USAGE), (DivergenceError, EXIT_DIVERGED), (CheckpointMismatchError, EXIT_RESUME),
             (InvalidFileError, EXIT_INPUT), ((FileNotFoundError, NotADirectoryError, IsADirectoryError), EXIT_INPUT), (OSError, EXIT_FILESYSTEM))
    for cls, code in kinds:
        if isinstance(e, cls):
            return e.code if code is None else code
    return None


def failure_line(e: BaseException, code: int) -> str:
    """One line saying what failed (the first line of a longer message)."""
    import errno

    if isinstance(e, OSError) and e.strerror and e.filename:
        hint = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only", errno.EDQUOT: "the disk quota is used up",
                errno.EACCES: "permission denied"}.get(e.errno)
        text = f"{e.filename}: {e.strerror}" + (f" ({hint})" if hint and hint.lower() != e.strerror.lower() else "")
    else:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if code == EXIT_DIVERGED:
        text = f"training diverged: {text}"
    from .distributed.group import get_rank, get_world_size

    return f"(rank {get_rank()}) {text}" if get_world_size() > 1 else text


def _resume_hint(args, lang: str = "en") -> str:
    from .train.trainer import CHECKPOINT

    out = getattr(args, "out", None)
    if getattr(args, "command", None) == "train" and out and (Path(out) / CHECKPOINT).exists():
        return pick(lang, f"; the checkpoint in {out} is kept: continue with --resume", f"; {out} 中的检查点已保留: 用 --resume 继续")
    return ""


def main(argv=None) -> int:
    """Run the command; returns the exit code (EXIT_CODES). Under mpiexec, a rank that fails
    alone aborts the job instead of leaving the other ranks waiting."""
    from .distributed.group import finish

    return finish(run_command(argv))


def parse_command(parser: argparse.ArgumentParser, argv, lang: str = "en") -> argparse.Namespace:
    """``parser.parse_args(argv)``; for ``sweep`` an unknown option says where train's options go."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        hint = pick(lang, " (the options of `shenjing train` go after --, e.g. shenjing sweep --grid lr=0.01,0.1 -- --epochs 1)",
                    " (`shenjing train` 的选项写在 -- 之后, 如 shenjing sweep --grid lr=0.01,0.1 -- --epochs 1)")
        parser.error(f"unrecognized arguments: {' '.join(extra)}{hint if args.command == 'sweep' else ''}")
    return args


def run_command(argv=None) -> int:
    args = None
    lang = lang_in_argv(sys.argv[1:] if argv is None else argv)
    try:
        try:
            args = parse_command(build_parser(lang), argv, lang)
        except SystemExit as e:  # --help, or a usage error already printed
            return e.code if isinstance(e.code, int) else EXIT_USAGE
        args.lang, args.argv = lang, list(sys.argv[1:] if argv is None else map(str, argv))
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # the reader went away (e.g. `| head`): end quietly, as command-line tools do
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE
    except KeyboardInterrupt:
        print(pick(lang, f"shenjing: interrupted{_resume_hint(args)}", f"shenjing: 已中断{_resume_hint(args, lang)}"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        return report_failure(e, args, lang)


def report_failure(e: Exception, args, lang: str = "en") -> int:
    """Print a failure: one line (plus the traceback with --debug), or an internal error's traceback;
    in Chinese the line says the kind of failure (:data:`EXIT_CODES_ZH`) before the message."""
    import traceback

    prog = f"shenjing {args.command}" if args is not None else "shenjing"
    for sub in ("lab_command", "data_command"):
        if args is not None and getattr(args, sub, None):
            prog += f" {getattr(args, sub)}"
    code = user_failure(e)
    if code is None:
        traceback.print_exc()
        print(pick(lang, f"{prog}: internal error: {type(e).__name__}: {e}\nThis is a bug in shenjing or in the model (e.g. a shape error). "
                         "Please report it with the traceback above, the command line and the output of `shenjing info`.",
                   f"{prog}: 内部错误: {type(e).__name__}: {e}\n这是 shenjing 或模型中的缺陷 (如形状错误). "
                   "请附上上面的回溯信息、命令行和 `shenjing info` 的输出报告它."), file=sys.stderr)
        return EXIT_INTERNAL
    if getattr(args, "debug", False):
        traceback.print_exc()
    hint = _resume_hint(args, lang) if code == EXIT_FILESYSTEM else ""
    if lang == "zh":
        kind = EXIT_CODES_ZH.get(code, "").split(":")[0]
        print(f"{prog}: 错误 ({kind}): {in_chinese(failure_line(e, code))}{hint}", file=sys.stderr)
    else:
        print(f"{prog}: error: {failure_line(e, code)}{hint}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
