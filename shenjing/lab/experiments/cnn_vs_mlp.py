"""cnn-vs-mlp: on Fashion-MNIST a small CNN beats an MLP that has many more parameters (Wang 七
"不变性与网络结构的设计", Fang ch. 7 卷积神经网络).

Wang 七.1: images are translation invariant (平移不变性), so a convolution that slides one small
kernel over every position, h_ij = Σ_m Σ_n x_{i+m, j+n} w_mn (eq. 12), builds that prior into the
network; Wang 六.II (奥卡姆剃刀): a hypothesis space that keeps only the plausible hypotheses
generalises better. Fang ch. 7: a conv layer has C_i·C_o·K² + C_o parameters, independent of the
image size, while a dense layer on a 28×28 image has 784·D + D.

Setup: the registry models of ``shenjing train`` — ``mlp`` (Flatten → 512 → 512 → 10 and Flatten → 64 → 10,
ReLU, dropout 0.2) and ``cnn`` (:class:`~shenjing.nn.SmallCNN`, channels 16, 32: one 3×3 conv → BN → ReLU →
max-pool 2 per stage, then a linear head; in full mode also LeNet-5 with ReLU and max pooling) — trained
on the same images in the same order with the same budget: Adam, lr 2·10⁻³ cosine-annealed to 0 over the
run, batch 64, the same number of epochs. Parameters by ``nn.utils.count_parameters``.
Quick mode: 5 000 random training and 2 000 random test images, 2 epochs; full mode: all 60 000 / 10 000,
5 epochs.

Measured: parameters and test accuracy of every model, test accuracy during training; the first conv
layer's kernels and feature maps. Checked: the CNN has fewer parameters than every MLP and beats the
best MLP's test accuracy by a margin (smaller in quick mode).
"""

from __future__ import annotations

import time
from typing import Any

from ...backend import xp
from ...train import Callback
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement

CLASSES_SHORT = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]
MARGIN_QUICK, MARGIN_FULL = 0.005, 0.01
BATCH, LR = 64, 2e-3
COLORS = {"mlp": "tab:red", "mlp-64": "tab:orange", "cnn": "tab:blue", "lenet5": "tab:green"}
LABELS = {"mlp": "MLP 784-512-512-10", "mlp-64": "MLP 784-64-10", "cnn": "SmallCNN 16-32 (BN)", "lenet5": "LeNet-5 (ReLU, max pool)"}

EXPERIMENT = Experiment(
    id="cnn-vs-mlp",
    title="A small CNN beats a much larger MLP on Fashion-MNIST",
    title_zh="卷积网络与多层感知机",
    source="Wang 七; Fang ch. 7",
    claim="With the same data and training budget, a small convolutional network with far fewer parameters than an "
          "MLP classifies Fashion-MNIST more accurately: weight sharing over positions (translation invariance) is a "
          "better prior for images. The learned first-layer filters and their feature maps are shown.",
    claim_zh="在相同数据和训练预算下, 参数远少于 MLP 的小卷积网络在 Fashion-MNIST 上分类更准: 位置间的权重共享 (平移不变性) "
             "是更适合图像的先验. 图中给出学到的第一层滤波器及其特征图.",
    checks=(
        Check("param_ratio_smallest_mlp_over_cnn", ">", 1.0, "the smallest MLP's parameter count ÷ the CNN's", what_zh="最小 MLP 的参数个数 ÷ CNN 的"),
        Check("accuracy_margin_cnn_minus_best_mlp", ">=", MARGIN_FULL, "the CNN's test accuracy − the best MLP's", quick=MARGIN_QUICK,
              what_zh="CNN 的测试准确率 − 最佳 MLP 的"),
    ),
    datasets=("fashion-mnist",),
)


def fashion_subsets(n_train: int | None, n_test: int | None, seed: int, n_val: int = 0) -> dict[str, tuple[Any, Any]]:
    """Standardised Fashion-MNIST arrays ``{'train', 'val', 'test': (x (N, 1, 28, 28) float32, y int64)}``.

    ``n_train`` and ``n_val`` disjoint random training images (None: all the rest), ``n_test`` random
    test images (None: all 10 000), drawn with ``seed``; pixels scaled by the full training set's
    mean and std (feature scaling, Nelson)."""
    from shenjing.data import FashionMNIST

    tr, te = FashionMNIST(train=True), FashionMNIST(train=False)
    x = xp.asarray(tr.data, dtype=xp.float32)[:, None] / 255.0
    xt = xp.asarray(te.data, dtype=xp.float32)[:, None] / 255.0
    mean, std = float(x.mean()), float(x.std())
    y, yt = xp.asarray(tr.targets, dtype=xp.int64), xp.asarray(te.targets, dtype=xp.int64)
    rng = xp.random.default_rng(seed)
    perm = rng.permutation(len(x))
    va, rest = perm[:n_val], perm[n_val:]
    rest = rest if n_train is None else rest[:n_train]
    test = xp.arange(len(xt)) if n_test is None else rng.permutation(len(xt))[:n_test]
    out = {"train": ((x[rest] - mean) / std, y[rest]), "test": ((xt[test] - mean) / std, yt[test])}
    if n_val:
        out["val"] = ((x[va] - mean) / std, y[va])
    return out


def loader(x, y, batch_size: int, shuffle: bool = False, seed: int = 0):
    """A shenjing DataLoader over arrays (shuffled by its own Generator seeded with ``seed``)."""
    import shenjing as sj
    from shenjing.data import DataLoader, TensorDataset
    from shenjing.random import Generator

    ds = TensorDataset(sj.as_tensor(x), sj.as_tensor(y))
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=Generator().manual_seed(seed) if shuffle else None)


class EvalEvery(Callback):
    """A Trainer callback: test accuracy before training, after the updates listed in ``at`` and at the end."""

    def __init__(self, test_loader, at) -> None:
        self.test_loader, self.at = test_loader, set(at)
        self.steps: list[int] = []
        self.acc: list[float] = []

    def _eval(self, trainer) -> None:
        if self.steps and self.steps[-1] == trainer.global_step:
            return
        self.steps.append(trainer.global_step)
        self.acc.append(trainer.evaluate(self.test_loader)["accuracy"])

    def on_train_begin(self, trainer) -> None:
        self._eval(trainer)

    def on_after_backward(self, trainer) -> None:  # global_step updates have been applied so far
        if trainer.global_step in self.at:
            self._eval(trainer)

    def on_train_end(self, trainer) -> None:
        self._eval(trainer)


def model_specs(quick: bool) -> dict[str, tuple[str, dict]]:
    """The compared models: name → (registry name, options)."""
    specs = {
        "mlp": ("mlp", {"hidden": (512, 512), "dropout": 0.2}),
        "mlp-64": ("mlp", {"hidden": (64,), "dropout": 0.2}),
        "cnn": ("cnn", {"channels": (16, 32), "convs": 1, "dropout": 0.0}),
    }
    if not quick:
        specs["lenet5"] = ("lenet", {"activation": "relu", "pool": "max"})
    return specs


def train_one(reg: str, opts: dict, train: tuple, test_loader, epochs: int, at: list[int], seed: int) -> tuple[Any, dict]:
    """Build registry model ``reg`` with ``sj.manual_seed(seed)`` and train it: Adam (lr :data:`LR`,
    cosine-annealed to 0 per update), batch :data:`BATCH`, ``epochs`` epochs on ``train`` shuffled with
    ``seed``; test accuracy at the updates ``at``. Returns (model, numbers)."""
    import shenjing as sj
    from shenjing import nn, optim
    from shenjing.nn.utils import count_parameters
    from shenjing.optim.lr_scheduler import CosineAnnealingLR
    from shenjing.train import LRSchedulerCallback, Trainer
    from shenjing.train.registry import build_model

    total = epochs * -(-len(train[0]) // BATCH)
    sj.manual_seed(seed)
    model = build_model(reg, (1, 28, 28), 10, **opts)
    opt = optim.Adam(model.parameters(), lr=LR)
    cb = EvalEvery(test_loader, at)
    sched = LRSchedulerCallback(CosineAnnealingLR(opt, T_max=total), interval="step")
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[sched, cb], progress=False)
    t0 = time.perf_counter()
    hist = trainer.fit(loader(*train, BATCH, shuffle=True, seed=seed), epochs=epochs)
    seconds = time.perf_counter() - t0
    return model, {"params": count_parameters(model), "test_accuracy": cb.acc[-1], "train_accuracy_last_epoch": hist[-1]["train_accuracy"],
                   "curve_steps": cb.steps, "curve_test_accuracy": cb.acc, "train_seconds": seconds}


def measure(ctx) -> Measurement:
    n_train, n_test, epochs = (5000, 2000, 2) if ctx.quick else (None, None, 5)
    data = fashion_subsets(n_train, n_test, ctx.seed)
    xtr, xte = data["train"][0], data["test"][0]
    steps_per_epoch = -(-len(xtr) // BATCH)
    total = epochs * steps_per_epoch
    n_points = 2 * epochs if ctx.quick else 4 * epochs  # evaluations per run (every half / quarter epoch)
    at = [round(k * total / n_points) for k in range(1, n_points)]
    test_loader = loader(*data["test"], 1000)
    res: dict[str, dict] = {}
    models = {}
    for name, (reg, opts) in model_specs(ctx.quick).items():
        models[name], res[name] = train_one(reg, opts, data["train"], test_loader, epochs, at, ctx.seed)
    mlps = [k for k in res if k.startswith("mlp")]
    cnn = res["cnn"]
    measured = {
        "n_train": len(xtr), "n_test": len(xte), "epochs": epochs,
        **{f"params_{k}": r["params"] for k, r in res.items()},
        **{f"test_accuracy_{k}": r["test_accuracy"] for k, r in res.items()},
        "accuracy_margin_cnn_minus_mlp": cnn["test_accuracy"] - res["mlp"]["test_accuracy"],
        "accuracy_margin_cnn_minus_best_mlp": cnn["test_accuracy"] - max(res[k]["test_accuracy"] for k in mlps),
        "param_ratio_mlp_over_cnn": res["mlp"]["params"] / cnn["params"],
        "param_ratio_smallest_mlp_over_cnn": min(res[k]["params"] for k in mlps) / cnn["params"],
        "models": {k: {kk: vv for kk, vv in r.items() if kk != "train_seconds"} for k, r in res.items()},
    }
    method = (f"Registry models mlp (hidden 512, 512 and hidden 64; dropout 0.2), cnn (SmallCNN: channels 16, 32, one 3×3 "
              f"conv + BN + ReLU + max-pool per stage, no dropout){'' if ctx.quick else ' and LeNet-5 (ReLU, max pool)'}, "
              f"each initialised with the same seed and trained by the same Trainer on the same shuffled batches: Adam, lr "
              f"{LR:g} annealed to 0 by a per-update cosine schedule, batch {BATCH}, {epochs} epochs on {len(xtr)} "
              f"standardised training images; test accuracy on {len(xte)} test images {n_points} times per run. Parameters "
              f"by nn.utils.count_parameters.")
    return Measurement(measured, method, data={"res": res, "models": models, "test": data["test"], "steps_per_epoch": steps_per_epoch},
                       extra={"timing_s": {k: r["train_seconds"] for k, r in res.items()}})  # wall times vary: not in `measured`


def feature_maps(model, image) -> tuple[Any, Any]:
    """First conv layer's kernels (C, kh, kw) and its feature maps after conv → BN → ReLU on one image."""
    import shenjing as sj

    model.eval()
    with sj.no_grad():
        maps = model.features[:3](sj.as_tensor(image[None]))
    return model.features[0].weight.detach().numpy()[:, 0], maps.numpy()[0]


def draw_accuracy(ctx, res: dict, steps_per_epoch: int, n_train: int, n_test: int, epochs: int) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    for name, r in res.items():
        ep = xp.asarray(r["curve_steps"]) / steps_per_epoch
        ax.plot(ep, 100 * xp.asarray(r["curve_test_accuracy"]), "-o", ms=3, color=COLORS[name],
                label=f"{LABELS[name]}: {r['params']:,} params")
    ax.set(xlabel="epoch", ylabel="test accuracy (%) (10% = chance at epoch 0)",
           title=f"Test accuracy during training ({n_train:,} train / {n_test:,} test images)",
           ylim=(max(0, 100 * min(min(r["curve_test_accuracy"][1:]) for r in res.values()) - 5),
                 min(100, 100 * max(max(r["curve_test_accuracy"]) for r in res.values()) + 3)))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    ax = axes[1]
    for name, r in res.items():
        ax.scatter(r["params"], 100 * r["test_accuracy"], s=90, color=COLORS[name], zorder=3)
        ax.annotate(f"{LABELS[name]}\n{100 * r['test_accuracy']:.1f}%", (r["params"], 100 * r["test_accuracy"]),
                    textcoords="offset points", xytext=(8, -4), fontsize=9)
    ax.set_xscale("log")
    accs = [100 * r["test_accuracy"] for r in res.values()]
    ax.set(xlabel="number of parameters (log scale)", ylabel="final test accuracy (%)", title="Parameters vs accuracy",
           xlim=(5e3, 5e6), ylim=(min(accs) - 3, max(accs) + 2))
    ax.grid(alpha=0.3, which="both")
    fig.suptitle(f"CNN vs MLP on Fashion-MNIST (Wang ch. 7): same data, Adam lr {LR:g}, batch {BATCH}, {epochs} epochs")
    fig.tight_layout()
    ctx.savefig(fig, "accuracy.png")


def draw_filters(ctx, model, xte, yte) -> None:
    plt = pyplot()
    idx = int(xp.nonzero(yte == 9)[0][0]) if (yte == 9).any() else 0
    kernels, maps = feature_maps(model, xte[idx])
    c = kernels.shape[0]
    fig = plt.figure(figsize=(15, 5.6), layout="constrained")
    sub = fig.subfigures(1, 3, width_ratios=[1.0, 2.3, 2.0])
    ax = sub[0].subplots()
    ax.imshow(xte[idx, 0], cmap="gray")
    ax.set_title(f"input: test image {idx}\n({CLASSES_SHORT[int(yte[idx])]})", fontsize=10)
    ax.axis("off")
    lim = float(abs(kernels).max())
    axs = sub[1].subplots(4, c // 4)
    for k, a in enumerate(axs.flat):
        im = a.imshow(kernels[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
        a.set_title(f"#{k}", fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
    sub[1].suptitle("learned 3×3 kernels of conv 1 (red > 0, blue < 0)", fontsize=10)
    sub[1].colorbar(im, ax=axs, shrink=0.7, label="weight")
    axs = sub[2].subplots(4, c // 4)
    for k, a in enumerate(axs.flat):
        a.imshow(maps[k], cmap="magma")
        a.set_title(f"#{k}", fontsize=8)
        a.axis("off")
    sub[2].suptitle("feature maps ReLU(BN(conv 1)) of the input", fontsize=10)
    fig.suptitle("SmallCNN first layer after training: kernels (one per channel) and their feature maps", fontsize=12)
    ctx.savefig(fig, "filters.png")


def figures(ctx, m: Measurement) -> None:
    d = m.data
    draw_accuracy(ctx, d["res"], d["steps_per_epoch"], m.measured["n_train"], m.measured["n_test"], m.measured["epochs"])
    draw_filters(ctx, d["models"]["cnn"], *d["test"])
