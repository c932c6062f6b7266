"""regularisers: dropout, weight decay and early stopping on an over-fitting task (Nelson ch. 4 "正则化").

Nelson lists the regularisers that keep a network "following the signal, not the noise":

* Dropout (随机失活): in training drop ~20 % of the input nodes and about half of every hidden layer's
  nodes (each output multiplied by r ∈ {0, 1}); here inverted dropout, p = 0.2 on the input and 0.5 on
  the hidden layers, the identity at evaluation;
* 权重衰减 (weight decay, ridge): minimise L(ω) + α‖ω‖², never penalising the biases ω₀ — added to the loss
  with ``optim.regularizers.ridge``, α = 10⁻² (gradient 2αω on the weights only);
* 提前停止 (early stopping): evaluate the validation error after every epoch; once it rises, stop and
  "go back to the set of weights with the lowest error" — ``train.EarlyStopping(restore_best_weights=True)``.

Task: a wide MLP 784-256-256-10 (ReLU, 269 322 parameters) on a small Fashion-MNIST training set whose
labels are noisy (each replaced by a different random class with probability 0.3), so the unregularised net memorises the noise: its
training loss falls towards 0 while its (clean) validation loss rises. All four runs start from the same
initial weights and see the same mini-batches (Adam, lr 10⁻³, batch 50). Quick mode: 1 000 training,
1 000 validation and 2 000 test images, 25 epochs; full mode: 3 000 training, 2 000 validation and all
10 000 test images, 40 epochs.

Measured: train (noisy labels, eval mode) / validation / test loss and accuracy per method, the
generalisation gap train acc − test acc, the weight norms. Checked: the baseline over-fits (its final
val loss well above its minimum while the train loss keeps falling), every regulariser raises the test
accuracy by a margin and lowers the test loss and the gap, and early stopping restores the best epoch's
weights bit for bit (equal to that epoch's checkpoint; its re-evaluated validation loss equals the best
recorded).
"""

from __future__ import annotations

from typing import Any

from ...backend import xp
from ...train import Callback
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement
from .cnn_vs_mlp import fashion_subsets, loader

METHODS = ("none", "dropout", "weight decay", "early stopping")
NOISE = 0.3
ACC_MARGIN = 0.02
WIDTH = 256
ALPHA, PATIENCE, BATCH, LR = 1e-2, 5, 50, 1e-3
COLORS = {"none": "tab:red", "dropout": "tab:blue", "weight decay": "tab:green", "early stopping": "tab:purple"}

EXPERIMENT = Experiment(
    id="regularisers",
    title="Dropout, weight decay and early stopping on an over-fitting task",
    title_zh="正则化: Dropout、权重衰减与提前停止",
    source="Nelson ch. 4",
    claim="A wide MLP trained on few, noisily labelled images over-fits (training loss falls while validation loss "
          "rises); dropout, weight decay (ridge, biases not penalised) and early stopping with the best weights "
          "restored each shrink the generalisation gap and improve test accuracy, and early stopping returns exactly "
          "the weights of the best validation epoch.",
    claim_zh="在少量带噪标签图像上训练的宽 MLP 过拟合 (训练损失下降而验证损失上升); 随机失活、权重衰减 (岭, 不惩罚偏置)"
             " 和恢复最佳权重的早停都缩小了泛化间隙并提高测试准确率,"
             " 且早停恰好返回验证最佳一轮的权重.",
    checks=(
        Check("baseline_val_loss_final_over_min", ">=", 1.5, "the baseline's final validation loss ÷ its minimum", what_zh="基线最终的验证损失 ÷ 其最小值"),
        Check("baseline_train_loss_final_over_at_val_min", "<", 1.0,
              "the baseline's final training loss ÷ its training loss at the epoch of that minimum",
              what_zh="基线最终的训练损失 ÷ 验证损失最小那一轮的训练损失"),
        Check("test_acc_gain", ">=", ACC_MARGIN, "for each regulariser, its test accuracy − the baseline's", what_zh="对每个正则化方法, 其测试准确率 − 基线的"),
        Check("test_loss_change", "<", 0.0, "its test loss − the baseline's", what_zh="其测试损失 − 基线的"),
        Check("gap_change", "<", 0.0, "its train − test accuracy gap − the baseline's", what_zh="其训练 − 测试准确率间隙 − 基线的"),
        Check("early_stopping_trajectory_equals_baseline", "true",
              what="early stopping's per-epoch training and validation losses equal the baseline's up to its stop",
              what_zh="早停每一轮的训练与验证损失在其停止之前与基线相同"),
        Check("early_stopping.stopped_epoch", ">=", 1, "the epoch at which early stopping stopped", what_zh="早停停止的轮次"),
        Check("early_stopping.restored_equals_checkpoint", "true", what="the restored weights equal the best epoch's checkpoint bit for bit",
              what_zh="恢复的权重与最佳一轮的检查点逐位相同"),
        Check("early_stopping.val_loss_restored_minus_best", "==", 0.0, "the restored model's re-evaluated validation loss − the best recorded",
              what_zh="恢复后的模型重新评估的验证损失 − 记录的最佳值"),
    ),
    datasets=("fashion-mnist",),
)


def wide_mlp(width: int = WIDTH, p_in: float = 0.0, p_hidden: float = 0.0):
    """Flatten → Dropout(p_in) → [Linear → ReLU → Dropout(p_hidden)] × 2 → Linear(10); p = 0 is the identity,
    so every variant has the same parameters (and state_dict keys)."""
    from shenjing import nn

    return nn.Sequential(nn.Flatten(), nn.Dropout(p_in), nn.Linear(784, width), nn.ReLU(), nn.Dropout(p_hidden),
                         nn.Linear(width, width), nn.ReLU(), nn.Dropout(p_hidden), nn.Linear(width, 10))


def noisy_labels(y, fraction: float, rng):
    """Replace ``fraction`` of the labels by a uniformly drawn *different* class; returns (labels, mask)."""
    y = y.copy()
    flip = rng.random(len(y)) < fraction
    y[flip] = (y[flip] + rng.integers(1, 10, int(flip.sum()))) % 10
    return y, flip


def evaluate(model, data_loader) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` in eval mode (no penalty term)."""
    import shenjing as sj
    import shenjing.nn.functional as F

    was = model.training
    model.eval()
    total = correct = n = 0
    with sj.no_grad():
        for x, y in data_loader:
            out = model(x)
            total += F.cross_entropy(out, y).item() * len(y)
            correct += int((out.numpy().argmax(1) == y.numpy()).sum())
            n += len(y)
    model.train(was)
    return total / n, correct / n


def weights(model) -> dict[str, Any]:
    """A copy of the values of ``model.state_dict()`` as arrays (an in-memory checkpoint)."""
    return {k: v.array.copy() for k, v in model.state_dict().items()}


class Curves(Callback):
    """Trainer callback: clean cross-entropy and accuracy on several loaders after every epoch; with
    ``snapshots`` also a copy of every epoch's weights (an in-memory checkpoint per epoch)."""

    def __init__(self, loaders: dict[str, Any], snapshots: bool = False) -> None:
        self.loaders, self.snapshots = loaders, snapshots
        self.rows: list[dict[str, float]] = []
        self.states: list[dict[str, Any]] = []

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        row: dict[str, float] = {"epoch": epoch}
        for name, ld in self.loaders.items():
            row[f"{name}_loss"], row[f"{name}_acc"] = evaluate(trainer.model, ld)
        self.rows.append(row)
        if self.snapshots:
            self.states.append(weights(trainer.model))


def weight_norms(model) -> list[float]:
    """‖W_l‖_F of every Linear layer's weight matrix."""
    from shenjing import nn

    return [float(xp.linalg.norm(m.weight.array)) for m in model.modules() if isinstance(m, nn.Linear)]


def train_method(method: str, init: dict, loaders: dict, test_loader, train: tuple, epochs: int, seed: int) -> dict:
    """Train the wide MLP from the weights ``init`` with one regulariser of :data:`METHODS` (Adam, the
    mini-batches of ``train`` shuffled with ``seed``); its curves, final scores and weight norms, and for
    early stopping what it restored."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.optim import regularizers
    from shenjing.train import EarlyStopping, Trainer

    model = wide_mlp(p_in=0.2, p_hidden=0.5) if method == "dropout" else wide_mlp()
    model.load_state_dict({k: sj.as_tensor(v.copy()) for k, v in init.items()})
    sj.manual_seed(seed + 1)  # the same dropout-free random stream for every run

    if method == "weight decay":
        def loss_fn(out, y):
            return F.cross_entropy(out, y) + regularizers.ridge(model, ALPHA)
    else:
        loss_fn = F.cross_entropy

    curves = Curves(loaders, snapshots=method == "early stopping")
    es = EarlyStopping(monitor="val_loss", patience=PATIENCE, mode="min", restore_best_weights=True) if method == "early stopping" else None
    trainer = Trainer(model, loss_fn, optim.Adam(model.parameters(), lr=LR), callbacks=[curves] + ([es] if es else []), progress=False)
    hist = trainer.fit(loader(*train, BATCH, shuffle=True, seed=seed), loaders["val"], epochs=epochs)
    r = {"curves": curves.rows, "history": hist, "norms": weight_norms(model)}
    for name, ld in (("train", loaders["train"]), ("val", loaders["val"]), ("test", test_loader)):
        r[f"{name}_loss"], r[f"{name}_acc"] = evaluate(model, ld)
    r["gap"] = r["train_acc"] - r["test_acc"]
    if es is not None:
        best, now = curves.states[es.best_epoch - 1], weights(model)
        r.update({"best_epoch": es.best_epoch, "stopped_epoch": es.stopped_epoch, "epochs_run": len(hist),
                  "restored_equals_checkpoint": all(xp.array_equal(now[k], best[k]) for k in best),
                  "restored_differs_from_last": any(not xp.array_equal(now[k], curves.states[-1][k]) for k in best),
                  "best_val_loss_recorded": es.best, "val_loss_restored": trainer.evaluate(loaders["val"])["loss"]})
    return r


def comparison(runs: dict) -> dict:
    """The numbers the checks compare: the baseline's over-fitting, each regulariser against the
    baseline, and early stopping's restored weights."""
    base, es = runs["none"], runs["early stopping"]
    val, train = [c["val_loss"] for c in base["curves"]], [c["train_loss"] for c in base["curves"]]
    k_min = int(xp.argmin(val))
    return {
        "baseline_val_loss_min": val[k_min], "baseline_val_loss_min_epoch": k_min + 1, "baseline_val_loss_final": val[-1],
        "baseline_val_loss_final_over_min": val[-1] / val[k_min], "baseline_train_loss_final_over_at_val_min": train[-1] / train[k_min],
        "test_acc_gain": {m: runs[m]["test_acc"] - base["test_acc"] for m in METHODS[1:]},
        "test_loss_change": {m: runs[m]["test_loss"] - base["test_loss"] for m in METHODS[1:]},
        "gap_change": {m: runs[m]["gap"] - base["gap"] for m in METHODS[1:]},
        "early_stopping": {**{k: es[k] for k in ("best_epoch", "stopped_epoch", "epochs_run", "restored_equals_checkpoint",
                                                 "restored_differs_from_last", "best_val_loss_recorded", "val_loss_restored")},
                           "val_loss_restored_minus_best": es["val_loss_restored"] - es["best_val_loss_recorded"]},
        "early_stopping_trajectory_equals_baseline": all(a["train_loss"] == b["train_loss"] and a["val_loss"] == b["val_loss"]
                                                         for a, b in zip(es["history"], base["history"])),
    }


def measure(ctx) -> Measurement:
    import shenjing as sj

    n_train, n_val, n_test, epochs = (1000, 1000, 2000, 25) if ctx.quick else (3000, 2000, None, 40)
    data = fashion_subsets(n_train, n_test, ctx.seed, n_val=n_val)
    xtr, ytr_clean = data["train"]
    ytr, flipped = noisy_labels(ytr_clean, NOISE, ctx.rng)
    loaders = {"train": loader(xtr, ytr, 1000), "val": loader(*data["val"], 1000)}
    test_loader = loader(*data["test"], 1000)
    sj.manual_seed(ctx.seed)
    init = weights(wide_mlp())
    runs = {m: train_method(m, init, loaders, test_loader, (xtr, ytr), epochs, ctx.seed) for m in METHODS}
    keys = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "gap", "norms")
    measured = {
        "n_train": n_train, "n_val": n_val, "n_test": len(data["test"][1]), "label_noise": float(flipped.mean()),
        "epochs": epochs, "ridge_alpha": ALPHA,
        **{m: {k: runs[m][k] for k in keys} for m in METHODS},
        **comparison(runs),
    }
    method = (f"A 784-{WIDTH}-{WIDTH}-10 ReLU MLP on {n_train} Fashion-MNIST training images, {NOISE:.0%} of their labels "
              f"replaced by another class; clean validation ({n_val}) and test ({measured['n_test']}) images. Same initial "
              f"weights and mini-batch order for all runs (Adam lr {LR:g}, batch {BATCH}, {epochs} epochs). Dropout p = 0.2 "
              f"(input) / 0.5 (hidden); weight decay = loss + {ALPHA:g}·‖w‖² (optim.regularizers.ridge, biases excluded); "
              f"early stopping on the validation loss with patience {PATIENCE}, best weights restored. Losses and "
              "accuracies in eval mode without the penalty; the gap is train − test accuracy.")
    return Measurement(measured, method, data={"runs": runs, "n_test": measured["n_test"]})


def draw_curves(ctx, runs: dict, n_train: int) -> None:
    plt = pyplot()
    es = runs["early stopping"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    for m in METHODS:
        ep = [c["epoch"] for c in runs[m]["curves"]]
        kw = dict(color=COLORS[m], lw=3.5 if m == "early stopping" else 1.6, alpha=0.6 if m == "early stopping" else 1.0)
        axes[0].plot(ep, [c["train_loss"] for c in runs[m]["curves"]], label=m, **kw)
        axes[1].plot(ep, [c["val_loss"] for c in runs[m]["curves"]], label=m, **kw)
        axes[2].plot(ep, [100 * c["val_acc"] for c in runs[m]["curves"]], label=m, **kw)
    be = es["best_epoch"]
    for ax in axes[1:]:
        ax.axvline(be, color=COLORS["early stopping"], ls="--", lw=1)
    axes[1].annotate(f"early stopping: best epoch {be},\nstopped at {es['stopped_epoch']} (patience {PATIENCE}),\nweights of epoch {be} restored",
                     (be, es["best_val_loss_recorded"]), xytext=(0.3, 0.8), textcoords="axes fraction", fontsize=8,
                     arrowprops=dict(arrowstyle="->", color=COLORS["early stopping"]))
    axes[0].set(yscale="log", xlabel="epoch", ylabel="cross-entropy (eval mode)", title=f"training loss (labels {NOISE:.0%} noisy)")
    axes[1].set(xlabel="epoch", ylabel="cross-entropy", title="validation loss (clean labels)")
    axes[2].set(xlabel="epoch", ylabel="accuracy (%)", title="validation accuracy")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=len(METHODS), fontsize=9)
    fig.suptitle(f"Over-fitting a 784-{WIDTH}-{WIDTH}-10 MLP on {n_train} noisy Fashion-MNIST images, and three regularisers (Nelson)")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    ctx.savefig(fig, "curves.png")


def draw_comparison(ctx, runs: dict, n_test: int) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
    ax = axes[0]
    pos = xp.arange(len(METHODS))
    tr = [100 * runs[m]["train_acc"] for m in METHODS]
    te = [100 * runs[m]["test_acc"] for m in METHODS]
    ax.bar(pos - 0.2, tr, 0.4, color="0.7", label="train accuracy (noisy labels)")
    bars = ax.bar(pos + 0.2, te, 0.4, color=[COLORS[m] for m in METHODS], label="test accuracy")
    for b, m in zip(bars, METHODS):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height() + 0.8, f"{b.get_height():.1f}%\ngap {100 * runs[m]['gap']:.1f}",
                ha="center", fontsize=8)
    ax.set_xticks(pos, METHODS)
    ax.set(ylabel="accuracy (%)", ylim=(0, 112), title="train vs test accuracy (gap = train − test)")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3, axis="y")
    ax = axes[1]
    n_layers = len(runs["none"]["norms"])
    w = 0.8 / len(METHODS)
    for i, m in enumerate(METHODS):
        ax.bar(xp.arange(n_layers) + (i - 1.5) * w, runs[m]["norms"], w, color=COLORS[m], label=m)
    ax.set_xticks(xp.arange(n_layers), [f"W{i + 1} ({s})" for i, s in enumerate((f"784→{WIDTH}", f"{WIDTH}→{WIDTH}", f"{WIDTH}→10"))])
    ax.set(ylabel="‖W‖_F", title="weight norms of the final (or restored) model")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Regularisers vs the unregularised baseline: {n_test:,} test images")
    fig.tight_layout()
    ctx.savefig(fig, "comparison.png")


def figures(ctx, m: Measurement) -> None:
    draw_curves(ctx, m.data["runs"], m.measured["n_train"])
    draw_comparison(ctx, m.data["runs"], m.data["n_test"])
