"""transfer-features: a network's penultimate layer is a learned feature map that transfers (Zhao §2, eq. 40).

Zhao eq. (40): h_θ(x) = W^[r] φ_β(x) + b^[r] — the last layer is a linear model on the feature map
φ_β(x) = a^[r−1] that the earlier layers learn; "从一个数据集学到的神经网络, 换一个类似的数据集, 往往得到的特征
图谱还是管用的" (the core of transfer learning, 迁移学习).

Setup: the ``cnn`` registry model (SmallCNN 16-32, the input of its linear head is φ_β(x), 1568 numbers)
is trained on Fashion-MNIST classes 0–4 only (T-shirt … Coat). Then, for classes 5–9 (Sandal … Boot)
which it never saw, a linear classifier — ridge regression onto one-hot targets, argmax — is fitted
from k labelled images per class on (a) the raw standardised pixels, (b) the trained φ_β(x) and (c) φ
of the same network at its random initialisation, and scored on the test images of classes 5–9; mean
over several random draws of the k labels. Checked: the trained features beat the pixels for k ≥ 5.
"""

from __future__ import annotations

from typing import Any

from ...backend import xp
from ..core import Check, Experiment, Measurement

KS = (1, 2, 5, 10, 20)
ALPHA = 10.0  # ridge penalty α of ‖Y − XW − b‖² + α‖W‖², the same for every representation
MARGIN = 0.02
COLORS = {"pixels": "tab:gray", "trained": "tab:blue", "random": "tab:orange"}
LABELS = {"pixels": "raw pixels (784)", "trained": "trained CNN features φ_β(x) (1568)",
          "random": "untrained CNN features (1568)"}

EXPERIMENT = Experiment(
    id="transfer-features",
    title="Penultimate-layer features learned on five Fashion-MNIST classes let a linear classifier learn the "
          "other five from few labels",
    title_zh="迁移特征: 在五类上学到的倒数第二层特征让线性分类器用少量标签学会另外五类",
    source="Zhao §2, eq. (40)",
    claim="The penultimate layer φ_β(x) of a CNN trained on Fashion-MNIST classes 0–4 is a feature map on which a "
          "linear classifier fitted from k ≥ 5 labels per class of the unseen classes 5–9 is more accurate than the "
          "same classifier on raw pixels.",
    claim_zh="在 Fashion-MNIST 第 0–4 类上训练的卷积网络, 其倒数第二层 φ_β(x) 是一个特征图谱: 对未见过的第 5–9 类, "
             "每类 k ≥ 5 个标签拟合的线性分类器在它上面比在原始像素上更准确.",
    checks=(
        Check("margin_trained_minus_pixels_k_ge_5", ">=", MARGIN,
              "the test accuracy on trained features − on pixels, mean over draws, for each k ≥ 5",
              what_zh="对每个 k ≥ 5, 训练后特征上的测试准确率 − 像素上的 (多次抽样平均)"),
        Check("source_test_accuracy", ">=", 0.8, "the CNN's test accuracy on its own classes 0–4",
              what_zh="卷积网络在自身类别 0–4 上的测试准确率"),
    ),
    datasets=("fashion-mnist",),
)


def ridge_classifier(X: Any, labels: Any, n_classes: int, alpha: float = ALPHA):
    """Ridge regression onto one-hot targets in its dual (kernel) form, W = X̃ᵀ(X̃X̃ᵀ + αI)⁻¹Ỹ on centred
    X̃, Ỹ (cheap when there are fewer samples than features); returns predict(X) → class indices."""
    mu = X.mean(0)
    Y = xp.eye(n_classes)[labels]
    Xc, Yc = X - mu, Y - Y.mean(0)
    W = Xc.T @ xp.linalg.solve(Xc @ Xc.T + alpha * xp.eye(len(X)), Yc)
    b = Y.mean(0) - mu @ W
    return lambda Z: (Z @ W + b).argmax(1)


def features(model, images: Any) -> Any:
    """φ_β(x): the flattened output of the CNN's convolutional part, the input of its linear head (float64)."""
    import shenjing as sj

    model.eval()
    with sj.no_grad():
        f = model.features(sj.as_tensor(images)).numpy()
    return f.reshape(len(f), -1).astype(xp.float64)


def few_shot_accuracy(reps: dict, ytr: Any, yte: Any, k: int, draws: int, rng) -> dict[str, float]:
    """Mean test accuracy over ``draws`` random choices of k training images per class, per representation
    (``reps``: name → (train features, test features)); every representation sees the same images."""
    acc: dict[str, list[float]] = {n: [] for n in reps}
    classes = int(ytr.max()) + 1
    for _ in range(draws):
        sel = xp.concatenate([rng.choice(xp.nonzero(ytr == c)[0], k, replace=False) for c in range(classes)])
        for name, (Xtr, Xte) in reps.items():
            acc[name].append(float((ridge_classifier(Xtr[sel], ytr[sel], classes)(Xte) == yte).mean()))
    return {n: float(xp.mean(a)) for n, a in acc.items()}


def split(data: dict, n_source: int | None, pool: int | None, n_test: int | None, rng) -> dict[str, tuple]:
    """Source images (classes 0–4, ``n_source`` random ones) and ``n_test`` of their test images; target
    pool (classes 5–9, ``pool`` random training images per class) and ``n_test`` target test images, labels 0–4."""
    (x, y), (xt, yt) = data["train"], data["test"]
    src = rng.permutation(xp.nonzero(y < 5)[0])[:n_source]
    tgt = xp.concatenate([rng.permutation(xp.nonzero(y == c)[0])[:pool] for c in range(5, 10)])
    src_test, tgt_test = (rng.permutation(xp.nonzero(m)[0])[:n_test] for m in (yt < 5, yt >= 5))
    return {"source": (x[src], y[src]), "source_test": (xt[src_test], yt[src_test]),
            "target": (x[tgt], y[tgt] - 5), "target_test": (xt[tgt_test], yt[tgt_test] - 5)}


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing.train.registry import build_model

    from .cnn_vs_mlp import fashion_subsets, loader, train_one

    n_source, pool, n_test, epochs, draws = (4000, 100, 2000, 2, 10) if ctx.quick else (None, None, None, 4, 50)
    d = split(fashion_subsets(None, None, ctx.seed), n_source, pool, n_test, ctx.rng)
    opts = {"channels": (16, 32), "convs": 1, "dropout": 0.0}
    sj.manual_seed(ctx.seed)
    untrained = build_model("cnn", (1, 28, 28), 5, **opts)
    model, res = train_one("cnn", opts, d["source"], loader(*d["source_test"], 1000), epochs, [], ctx.seed)
    (xtr, ytr), (xte, yte) = d["target"], d["target_test"]
    reps = {"pixels": (xtr.reshape(len(xtr), -1).astype(xp.float64), xte.reshape(len(xte), -1).astype(xp.float64)),
            "trained": (features(model, xtr), features(model, xte)),
            "random": (features(untrained, xtr), features(untrained, xte))}
    acc = {k: few_shot_accuracy(reps, ytr, yte, k, draws, ctx.rng) for k in KS}
    measured = {
        "n_source": len(d["source"][0]), "epochs": epochs, "n_target_test": len(yte), "draws": draws,
        "source_test_accuracy": res["test_accuracy"],
        "accuracy": {f"k{k}": a for k, a in acc.items()},
        "margin_trained_minus_pixels_k_ge_5": {f"k{k}": acc[k]["trained"] - acc[k]["pixels"] for k in KS if k >= 5},
        "margin_trained_minus_pixels_k1": acc[1]["trained"] - acc[1]["pixels"],
    }
    method = (f"SmallCNN 16-32 (registry model cnn, one 3×3 conv + BN + ReLU + max-pool per stage) trained on "
              f"{measured['n_source']} Fashion-MNIST training images of classes 0–4 (Adam, lr 2e-3 cosine-annealed, batch 64, "
              f"{epochs} epochs); for classes 5–9, ridge regression onto one-hot targets (α = {ALPHA:g}, intercept not "
              f"penalised, argmax) from k ∈ {list(KS)} random training images per class on raw standardised pixels, on the "
              f"trained φ_β(x) (input of the linear head) and on φ of the untrained network; accuracy on {len(yte)} test "
              f"images of classes 5–9, mean over {draws} draws of the labelled images.")
    method_zh = (f"SmallCNN 16-32 在 Fashion-MNIST 第 0–4 类的 {measured['n_source']} 张训练图像上训练 {epochs} 轮; 对第 5–9 类, "
                 f"每类取 k ∈ {list(KS)} 张带标签图像, 用岭回归 (α = {ALPHA:g}) 拟合独热目标并取 argmax, 分别作用于原始像素、"
                 f"训练后的 φ_β(x) 和未训练网络的 φ; 在 {len(yte)} 张第 5–9 类测试图像上计算准确率, {draws} 次抽样平均.")
    return Measurement(measured, method, data={"acc": acc}, method_zh=method_zh)


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    acc = m.data["acc"]
    fig, ax = plt.subplots(figsize=(7, 4.6), layout="constrained")
    for name in ("pixels", "trained", "random"):
        ax.plot(KS, [100 * acc[k][name] for k in KS], "o-", color=COLORS[name], label=LABELS[name])
    ax.set_xscale("log")
    ax.set_xticks(KS, [str(k) for k in KS])
    ax.set(xlabel="labelled images per class k (每类标签数)", ylabel="test accuracy on classes 5–9 (%)",
           title="Transfer: a linear classifier on φ_β(x) learned from classes 0–4\n迁移: 第 0–4 类学到的特征图谱用于第 5–9 类")
    ax.grid(alpha=0.3)
    ax.legend()
    ctx.savefig(fig, "few_shot")
