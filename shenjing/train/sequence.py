"""Sequence tasks and the Transformer model in the ``shenjing train`` registries (序列任务).

Datasets (``--dataset``), from :mod:`shenjing.data.toy`, one target token per position:

* ``sort`` (排序), ``reverse`` (反转), ``copy`` (复制): ``length`` (default 10) tokens in
  [0, ``vocab``) (default 10);
* ``addition`` (多位数加法): "a+b" with ``digits`` (default 3) digits per operand, target the
  ``digits`` + 1 digits of a + b (``reverse_digits=true`` writes numbers least significant first);
  the target is aligned with the last positions of the model's output.

Options by ``--opt key=value``: length and vocab (sort, reverse, copy), digits and reverse_digits
(addition), test_size (default 10000);
``--subset`` sets the number of training sequences (default 50000), ``--val-size`` the validation
sequences (at most 5000). Train, validation and test sets come from independent seeds.

Loss: cross-entropy over every position ((N, L, C) logits reshaped to (N·L, C)). Metrics:
``sequence_accuracy`` (all positions right; the first, reported metric) and ``token_accuracy``.

Model ``transformer`` (``--model transformer``): :class:`shenjing.nn.SequenceTransformer` with
options d_model=64, nhead=4, num_layers=2, dim_feedforward (4·d_model), positional=sinusoidal|learned,
norm_first=true, activation=relu|gelu; dropout from ``--dropout``.
"""

from __future__ import annotations

from typing import Any

from ..backend import xp
from .task import Task, parse_options

__all__ = ["TASKS", "TASK_OPTIONS", "SequenceCrossEntropyLoss", "sequence_accuracy", "token_accuracy", "sequence_task", "transformer_model"]

TASKS = ("sort", "reverse", "copy", "addition")
TASK_OPTIONS = {  # the --opt keys each task reads
    "sort": ("length", "vocab", "test_size", "train_size"),
    "reverse": ("length", "vocab", "test_size", "train_size"),
    "copy": ("length", "vocab", "test_size", "train_size"),
    "addition": ("digits", "reverse_digits", "test_size", "train_size"),
}


def _align(out, y):
    """Logits (N, L_out, C) and targets (N, L): keep the last L positions of the output."""
    if out.ndim == 3 and y.ndim == 2 and out.shape[1] != y.shape[1]:
        if out.shape[1] < y.shape[1]:
            raise ValueError(f"sequence task: the output has {out.shape[1]} positions, fewer than the {y.shape[1]} of the target")
        out = out[:, out.shape[1] - y.shape[1]:]
    return out, y


def _arrays(output, target):
    return _align(xp.asarray(output), xp.asarray(target))


def sequence_accuracy(output, target) -> float:
    """Fraction of sequences with every position predicted right (整序列准确率)."""
    out, y = _arrays(output, target)
    return float((out.argmax(-1) == y).all(-1).mean())


def token_accuracy(output, target) -> float:
    """Fraction of positions predicted right (逐位置准确率)."""
    out, y = _arrays(output, target)
    return float((out.argmax(-1) == y).mean())


class SequenceCrossEntropyLoss:
    """Cross-entropy over every position: (N, L, C) logits and (N, L) targets → mean over N·L."""

    def __call__(self, output, target):
        from ..nn.functional import cross_entropy

        output, target = _align(output, target)
        return cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1))


def sequence_task(name: str, cfg: dict, root=None) -> Task:
    """A registered sequence task (sort, reverse, copy, addition) as train/val/test loaders."""
    from ..data import DataLoader, TensorDataset, toy
    from ..random import Generator

    opts = parse_options(cfg.get("opt"))
    seed = int(cfg.get("seed", 0))
    n_train = int(cfg.get("subset") or opts.get("train_size", 50000))
    n_val = min(5000 if cfg.get("val_size") is None else int(cfg["val_size"]), 5000)
    n_test = int(opts.get("test_size", 10000))
    bs = int(cfg.get("batch_size") or 128)
    if name == "addition":
        digits = int(opts.get("digits", 3))
        rev = bool(opts.get("reverse_digits", False))

        def make(n, s):
            return toy.addition_task(n, n_digits=digits, reverse_digits=rev, seed=s)

        num_classes, classes = 11, [str(d) for d in range(10)] + ["+"]
        length = 2 * digits + 1
    else:
        length, vocab = int(opts.get("length", 10)), int(opts.get("vocab", 10))
        fn = {"sort": toy.sort_task, "reverse": toy.reverse_task, "copy": toy.copy_task}[name]

        def make(n, s):
            return fn(n, length, vocab, seed=s)

        num_classes, classes = vocab, [str(t) for t in range(vocab)]
    gen = Generator().manual_seed(seed)
    x, y = make(n_train, 1000 + seed)
    train = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True, generator=gen)
    val = None
    if n_val:
        xv, yv = make(n_val, 2000 + seed)
        val = DataLoader(TensorDataset(xv, yv), batch_size=1000)
    xt, yt = make(n_test, 3000 + seed)
    test = DataLoader(TensorDataset(xt, yt), batch_size=1000)
    return Task(train, val, test, (length,), num_classes, classes, [gen], loss=SequenceCrossEntropyLoss(),
                metrics=(sequence_accuracy, token_accuracy))


def transformer_model(input_shape: tuple, num_classes: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                      dim_feedforward: int | None = None, dropout: float = 0.0, positional: str = "sinusoidal",
                      norm_first: bool = True, activation: str = "relu", vocab_size: int | None = None,
                      max_len: int | None = None, **_: Any):
    """Embedding + positional encoding → TransformerEncoder → per-position Linear head; the input
    vocabulary defaults to the number of classes (the tasks share one token set)."""
    from ..nn.transformer import SequenceTransformer

    length = int(input_shape[0]) if input_shape else 512
    return SequenceTransformer(int(vocab_size or num_classes), num_classes, d_model=int(d_model), nhead=int(nhead),
                               num_layers=int(num_layers),
                               dim_feedforward=None if dim_feedforward is None else int(dim_feedforward),
                               dropout=float(dropout), max_len=int(max_len or max(length, 64)), positional=str(positional),
                               norm_first=bool(norm_first), activation=str(activation))
