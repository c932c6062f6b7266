"""feature-importance: input gradients rank the informative features of a trained network (Nelson ch. 4,
"评估输入数据特征的重要性").

Nelson asks: if we change one input variable, how much does the output change? — the partial
derivative ∂f/∂x_j. For a linear model it is the coefficient (sensitivity analysis); for a network it
depends on x, so shenjing.nn.utils.importance averages |∂f(x_n)/∂x_{n,j}| over the data. Nelson
warns that variable-importance tools designed for linear models must not be used on nonlinear ones.

Synthetic task: 8 standard normal features, of which only three matter,

    y = 2·x₀ + x₁² + 0.5·sin(2·x₂) + 0.1·noise,

with the true importances E|∂y/∂x_j| = 2, 2·E|x₁| = 2√(2/π) ≈ 1.60, E|cos 2x₂| ≈ 0.6 and 0 for
x₃…x₇ (computed here by the same input-gradient routine applied to the true function). An MLP is
trained on the data, its input-gradient importances are compared with the true ones, and the
linear-model importance |β_j| of a least-squares fit (on standardised features) is shown beside it:
x₁'s effect is symmetric, so its linear coefficient is ≈ 0 — the linear analysis misses it.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import Check, Experiment, Measurement

N_FEATURES = 8
INFORMATIVE = (0, 1, 2)

EXPERIMENT = Experiment(
    id="feature-importance",
    title="Feature importance from input gradients",
    title_zh="评估输入特征的重要性",
    source="Nelson ch. 4",
    claim="The mean |∂f/∂x_j| of a trained network ranks the three informative features of a synthetic task in their "
          "true order, above all uninformative ones, and close to the true function's values, while a linear model's "
          "coefficient misses the feature with a symmetric (quadratic) effect.",
    claim_zh="训练好的网络的平均 |∂f/∂x_j| 把合成任务中三个有信息的特征按真实顺序排在所有无信息特征之前, 且接近真实函数的值;"
             " 而线性模型的系数漏掉了具有对称 (二次) 效应的特征.",
    checks=(
        Check("importance_ratio_in_true_order", "<", 1, "the network's importance ratios x1/x0 and x2/x1 (true order x0, x1, x2)",
              what_zh="网络的重要性比值 x1/x0 与 x2/x1 (真实顺序 x0, x1, x2)"),
        Check("max_noise_over_min_informative", "<", 0.25, "the largest uninformative importance / the smallest informative one",
              what_zh="无信息特征的最大重要性 / 有信息特征的最小重要性"),
        Check("relative_error_vs_true", "<", 0.25, "each informative importance's relative error against the true function's",
              what_zh="每个有信息特征的重要性相对真实函数的相对误差"),
        Check("linear_over_network_importance_x1", "<", 0.2, "the linear |β1| / the network's importance of x1",
              what_zh="线性模型的 |β1| / 网络对 x1 的重要性"),
    ),
)


def target(x):
    """The true function (works on shenjing tensors, so its input gradients can be taken)."""
    import shenjing as sj

    return 2 * x[:, 0:1] + x[:, 1:2] ** 2 + 0.5 * sj.sin(2 * x[:, 2:3])


def train_mlp(x, y, width: int, epochs: int, lr: float, seed: int):
    """nn.mlp([8, width, width, 1], tanh), float64, full-batch Adam on MSE, initialised from ``seed``."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    sj.manual_seed(seed)
    net = nn.mlp([N_FEATURES, width, width, 1], activation="tanh").double()
    full_batch(lambda: F.mse_loss(net(x), y), optim.Adam(net.parameters(), lr=lr), epochs)
    return net


def linear_coefficients(x, y):
    """Least-squares β of y on the features (with an intercept, which is dropped)."""
    n = x.shape[0]
    xd = xp.concatenate([x.numpy(), xp.ones((n, 1))], axis=1)
    return xp.linalg.lstsq(xd, y.numpy()[:, 0], rcond=None)[0][:N_FEATURES]


def measure(ctx) -> Measurement:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing.nn.utils.importance import feature_importance, rank_features

    n, epochs, width = (1000, 300, 32) if ctx.quick else (4000, 1500, 64)
    lr = 1e-2 if ctx.quick else 3e-3
    x = sj.randn(n, N_FEATURES, generator=ctx.generator, dtype=sj.float64)
    y = target(x) + 0.1 * sj.randn(n, 1, generator=ctx.generator, dtype=sj.float64)
    x_test = sj.randn(n, N_FEATURES, generator=ctx.generator, dtype=sj.float64)

    net = train_mlp(x, y, width, epochs, lr, ctx.seed)
    with sj.no_grad():
        test_mse = F.mse_loss(net(x_test), target(x_test)).item()
    imp_net = feature_importance(net, x_test).numpy()
    imp_true = feature_importance(target, x_test).numpy()
    beta = linear_coefficients(x, y)
    imp_lin = xp.abs(beta)  # features are standardised (unit variance), so |β_j| is comparable

    rank_lin = rank_features(imp_lin)
    noise = [j for j in range(N_FEATURES) if j not in INFORMATIVE]
    measured = {
        "importance_network": imp_net, "importance_true": imp_true, "abs_linear_coefficient": imp_lin,
        "ranking_network": rank_features(imp_net), "ranking_linear": rank_lin, "linear_rank_of_x1": rank_lin.index(1) + 1,
        "importance_ratio_in_true_order": {"x1/x0": float(imp_net[1] / imp_net[0]), "x2/x1": float(imp_net[2] / imp_net[1])},
        "relative_error_vs_true": {j: float(abs(imp_net[j] - imp_true[j]) / imp_true[j]) for j in INFORMATIVE},
        "max_noise_over_min_informative": float(max(imp_net[j] for j in noise) / min(imp_net[j] for j in INFORMATIVE)),
        "linear_over_network_importance_x1": float(imp_lin[1] / imp_net[1]),
        "test_mse": test_mse, "samples": n, "epochs": epochs, "width": width,
        "true_importance_theory": [2.0, 2 * math.sqrt(2 / math.pi)],
    }
    method = (f"MLP 8-{width}-{width}-1 (tanh, float64) trained with full-batch Adam (lr {lr:g}, {epochs} epochs, {n} samples) "
              "on y = 2x0 + x1² + 0.5 sin(2x2) + 0.1·noise; nn.utils.importance.feature_importance (mean |∂f/∂x_j| on "
              f"{n} held-out samples) for the network and for the true function; least-squares |β_j| as the linear-model importance.")
    return Measurement(measured, method, data={"net": net, "beta": beta})


def figures(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing.viz.plots import pyplot

    net, beta = m.data["net"], m.data["beta"]
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [2, 1]})
    ax = axes[0]
    pos = xp.arange(N_FEATURES)
    wbar = 0.27
    ax.bar(pos - wbar, m.measured["importance_true"], wbar, color="0.6", label="true function: mean |∂y/∂x_j|")
    ax.bar(pos, m.measured["importance_network"], wbar, color="tab:blue", label="trained MLP: mean |∂f/∂x_j|")
    ax.bar(pos + wbar, m.measured["abs_linear_coefficient"], wbar, color="tab:orange", label="linear model: |β_j|")
    ax.set_xticks(pos, [f"x{j}" + (" *" if j in INFORMATIVE else "") for j in range(N_FEATURES)])
    ax.set(xlabel="feature (* informative)", ylabel="importance (output units per unit of x_j)",
           title="y = 2·x0 + x1² + 0.5·sin(2·x2) + noise; x3…x7 unused")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    ax = axes[1]
    xs = xp.linspace(-2.5, 2.5, 101)
    probe = xp.zeros((101, N_FEATURES))
    probe[:, 1] = xs
    with sj.no_grad():
        ax.plot(xs, net(sj.tensor(probe, dtype=sj.float64)).numpy()[:, 0], "tab:blue", lw=2, label="MLP f(0, x1, 0, …)")
    ax.plot(xs, xs ** 2, "k--", lw=1, label="true x1²")
    ax.plot(xs, beta[1] * xs, "tab:orange", lw=2, label=f"linear model β1·x1 (β1 = {beta[1]:.3f})")
    ax.set(xlabel="x1", ylabel="output", title="The symmetric effect of x1 that |β1| misses")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Feature importance by input gradients (Nelson): which inputs move the output?")
    fig.tight_layout()
    ctx.savefig(fig, "feature-importance.png")
