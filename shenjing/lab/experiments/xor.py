"""xor: a trained MLP solves XOR, a single layer cannot (Xu §1.1.2–1.1.3, §1.12; Zhao).

XOR (异或) is the problem that ended the first wave of neural networks (Minsky & Papert 1969): "a
single-layer network (no hidden layer) cannot fit it … one line cannot separate it" (Xu §1.12).
Here both models are trained the same way (Adam on binary cross-entropy) on noisy XOR clouds: a
logistic unit (one Linear layer) and an MLP 2-8-1 with tanh. Beyond the trained logistic unit, the
best accuracy that ANY line reaches on the training set is estimated by a search over random lines
(a lower bound on the optimum that is already ≈ 3/4: one line gets at most three of four corners).
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

LR = 0.05

EXPERIMENT = Experiment(
    id="xor",
    title="XOR: a trained MLP solves it, a single layer cannot",
    title_zh="异或问题: 多层感知机可解, 单层网络不可解",
    source="Xu §1.1.2–1.1.3, §1.12; Zhao",
    claim="On XOR data a single linear layer (logistic unit) cannot exceed about 3/4 accuracy — no line separates the "
          "classes — while an MLP with one hidden layer trained by gradient descent classifies it almost perfectly.",
    claim_zh="在 XOR 数据上, 单个线性层 (逻辑单元) 的准确率不超过约 3/4 —— 没有一条直线能分开两类 —— 而用梯度下降训练的单隐层 "
             "MLP 几乎完全分类正确.",
    checks=(
        Check("mlp_test_accuracy", ">=", 0.95, "the MLP's test accuracy", what_zh="MLP 的测试准确率"),
        Check("linear_test_accuracy", "<=", 0.80, "the single layer's test accuracy", what_zh="单层网络的测试准确率"),
        Check("best_random_line_train_accuracy", "<=", 0.80, "the best random line's training accuracy", what_zh="最佳随机直线的训练准确率"),
        Check("truth_table_mlp_accuracy_5_inits", ">=", 1.0, "on the 4-point truth table, each of 5 MLP initialisations' accuracy",
              what_zh="在 4 点真值表上, 5 个 MLP 初始化各自的准确率"),
        Check("truth_table_linear_accuracy_5_inits", "<=", 0.75, "each of 5 linear units' accuracy", what_zh="5 个线性单元各自的准确率"),
    ),
)


def train(model, X, y, steps: int) -> list[float]:
    """Full-batch Adam (lr 0.05) on binary cross-entropy with logits; the loss per step."""
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.train import full_batch

    return full_batch(lambda: F.binary_cross_entropy_with_logits(model(X).reshape(-1), y),
                      optim.Adam(model.parameters(), lr=LR), steps)


def accuracy(model, X, y) -> float:
    import shenjing as sj

    with sj.no_grad():
        p = (model(X).reshape(-1).numpy() > 0).astype(float)
    return float((p == y.numpy()).mean())


def best_line_accuracy(X, y, m: int, rng) -> float:
    """The best training accuracy of ``m`` random lines through the data's box (a lower bound on
    what any line reaches)."""
    theta = rng.uniform(0, 2 * xp.pi, m)
    W = xp.stack([xp.cos(theta), xp.sin(theta)], 1)
    proj = X.numpy().astype(xp.float64) @ W.T  # (n, m)
    pred = (proj > rng.uniform(proj.min(0), proj.max(0))).astype(float)
    yn = y.numpy()[:, None]
    return float(xp.maximum((pred == yn).mean(0), (pred != yn).mean(0)).max())


def measure(ctx) -> Measurement:
    from shenjing import nn
    from shenjing.data import toy

    n = 200 if ctx.quick else 800
    steps = 300 if ctx.quick else 1000
    Xtr, ytr = toy.xor(n, noise=0.15, generator=ctx.generator)
    Xte, yte = toy.xor(n, noise=0.15, generator=ctx.generator)
    ytr_f, yte_f = ytr.float(), yte.float()

    models = {"linear": nn.Linear(2, 1), "mlp": nn.mlp([2, 8, 1], activation="tanh")}
    losses = {name: train(m, Xtr, ytr_f, steps) for name, m in models.items()}
    m_lines = 20_000 if ctx.quick else 100_000
    best_line = best_line_accuracy(Xtr, ytr, m_lines, ctx.rng)

    Xt, yt = toy.truth_table("xor")
    yt = yt.float()
    tt = {"mlp": [], "linear": []}
    for _ in range(5):  # the exact truth table: 5 initialisations of each model
        for name, make in (("mlp", lambda: nn.mlp([2, 8, 1], activation="tanh")), ("linear", lambda: nn.Linear(2, 1))):
            net = make()
            train(net, Xt, yt, 300)
            tt[name].append(accuracy(net, Xt, yt))

    measured = {f"{name}_{part}_accuracy": accuracy(model, X, y)
                for name, model in models.items() for part, X, y in (("train", Xtr, ytr_f), ("test", Xte, yte_f))}
    measured.update({
        "best_random_line_train_accuracy": best_line, "lines_searched": m_lines,
        "truth_table_mlp_accuracy_5_inits": tt["mlp"], "truth_table_linear_accuracy_5_inits": tt["linear"],
        "final_loss_linear": losses["linear"][-1], "final_loss_mlp": losses["mlp"][-1],
    })
    method = (f"toy.xor clouds (noise 0.15, {n} train / {n} test), Adam lr {LR} for {steps} full-batch steps on BCE with "
              f"logits, for nn.Linear(2, 1) and nn.mlp([2, 8, 1], tanh); best line by {m_lines} random lines; the 4-point "
              "truth table trained 300 steps from 5 initialisations of each model.")
    return Measurement(measured, method, data={"models": models, "losses": losses, "test": (Xte, yte)})


def figures(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing.viz.plots import pyplot

    models, losses, (Xte, yte) = m.data["models"], m.data["losses"], m.data["test"]
    plt = pyplot()
    g = xp.linspace(-0.7, 1.7, 200)
    G1, G2 = xp.meshgrid(g, g)
    grid = sj.tensor(xp.stack([G1.ravel(), G2.ravel()], 1), dtype=sj.float32)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    Xte_n, yte_n = Xte.numpy(), yte.numpy()
    for ax, (name, label) in zip(axes[:2], (("linear", "single layer (logistic unit)"), ("mlp", "MLP 2-8-1, tanh"))):
        with sj.no_grad():
            p = models[name](grid).sigmoid().numpy().reshape(G1.shape)
        cs = ax.contourf(G1, G2, p, levels=xp.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(G1, G2, p, levels=[0.5], colors="k", linewidths=2)
        for cls, col in ((0, "tab:blue"), (1, "tab:red")):
            sel = yte_n == cls
            ax.scatter(Xte_n[sel, 0], Xte_n[sel, 1], s=10, c=col, edgecolors="k", linewidths=0.3, label=f"test, class {cls}")
        ax.set(xlabel="x1", ylabel="x2", aspect="equal",
               title=f"{label}\ntest accuracy {m.measured[name + '_test_accuracy']:.2f} (black: P = 0.5)")
        ax.legend(fontsize=7, loc="center")
    fig.colorbar(cs, ax=axes[:2], label="P(class 1)", shrink=0.8)
    ax = axes[2]
    ax.plot(losses["linear"], label="single layer")
    ax.plot(losses["mlp"], label="MLP 2-8-1")
    ax.axhline(xp.log(2), color="gray", ls=":", label="ln 2 (chance)")
    ax.set(xlabel=f"training step (full batch, Adam lr {LR})", ylabel="binary cross-entropy", title="Training loss")
    ax.legend()
    fig.suptitle("XOR decision boundaries")
    ctx.savefig(fig, "decision-boundaries.png")
