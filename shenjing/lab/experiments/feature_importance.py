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
from ..core import experiment

N_FEATURES = 8
INFORMATIVE = (0, 1, 2)


def target(x):
    """The true function (works on shenjing tensors, so its input gradients can be taken)."""
    import shenjing as sj

    return 2 * x[:, 0:1] + x[:, 1:2] ** 2 + 0.5 * sj.sin(2 * x[:, 2:3])


@experiment(
    id="feature-importance",
    title="Feature importance from input gradients",
    title_zh="评估输入特征的重要性",
    source="Nelson ch. 4",
    claim="The mean |∂f/∂x_j| of a trained network ranks the three informative features of a synthetic task in their "
          "true order, above all uninformative ones, and close to the true function's values, while a linear model's "
          "coefficient misses the feature with a symmetric (quadratic) effect.",
)
def run(ctx) -> dict:
    import matplotlib.pyplot as plt

    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.nn.utils.importance import feature_importance, rank_features

    n, epochs, width = (1000, 300, 32) if ctx.quick else (4000, 1500, 64)
    x = sj.randn(n, N_FEATURES, generator=ctx.generator, dtype=sj.float64)
    y = target(x) + 0.1 * sj.randn(n, 1, generator=ctx.generator, dtype=sj.float64)
    x_test = sj.randn(n, N_FEATURES, generator=ctx.generator, dtype=sj.float64)

    sj.manual_seed(ctx.seed)
    net = nn.mlp([N_FEATURES, width, width, 1], activation="tanh").double()
    opt = optim.Adam(net.parameters(), lr=1e-2 if ctx.quick else 3e-3)
    for _ in range(epochs):
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
    with sj.no_grad():
        test_mse = F.mse_loss(net(x_test), target(x_test)).item()
    imp_net = feature_importance(net, x_test).numpy()
    imp_true = feature_importance(target, x_test).numpy()
    xd = xp.concatenate([x._data, xp.ones((n, 1))], axis=1)
    beta = xp.linalg.lstsq(xd, y._data[:, 0], rcond=None)[0][:N_FEATURES]
    imp_lin = xp.abs(beta)  # features are standardised (unit variance), so |β_j| is comparable

    rank_net = rank_features(imp_net)
    rank_lin = rank_features(imp_lin)
    noise = [j for j in range(N_FEATURES) if j not in INFORMATIVE]
    rel_err = {j: abs(imp_net[j] - imp_true[j]) / imp_true[j] for j in INFORMATIVE}
    noise_ratio = float(max(imp_net[j] for j in noise) / min(imp_net[j] for j in INFORMATIVE))
    lin_x1_position = rank_lin.index(1) + 1

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [2, 1]})
    ax = axes[0]
    pos = xp.arange(N_FEATURES)
    wbar = 0.27
    ax.bar(pos - wbar, imp_true, wbar, color="0.6", label="true function: mean |∂y/∂x_j|")
    ax.bar(pos, imp_net, wbar, color="tab:blue", label="trained MLP: mean |∂f/∂x_j|")
    ax.bar(pos + wbar, imp_lin, wbar, color="tab:orange", label="linear model: |β_j|")
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
        ax.plot(xs, net(sj.tensor(probe, dtype=sj.float64))._data[:, 0], "tab:blue", lw=2, label="MLP f(0, x1, 0, …)")
    ax.plot(xs, xs ** 2, "k--", lw=1, label="true x1²")
    ax.plot(xs, beta[1] * xs, "tab:orange", lw=2, label=f"linear model β1·x1 (β1 = {beta[1]:.3f})")
    ax.set(xlabel="x1", ylabel="output", title="The symmetric effect of x1 that |β1| misses")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Feature importance by input gradients (Nelson): which inputs move the output?")
    fig.tight_layout()
    ctx.savefig(fig, "feature-importance.png")

    verdict = (rank_net[:3] == list(INFORMATIVE) and noise_ratio < 0.25 and max(rel_err.values()) < 0.25
               and imp_lin[1] < 0.2 * imp_net[1])
    return {
        "measured": {
            "importance_network": imp_net, "importance_true": imp_true, "abs_linear_coefficient": imp_lin,
            "ranking_network": rank_net, "ranking_linear": rank_lin, "linear_rank_of_x1": lin_x1_position,
            "relative_error_vs_true": rel_err, "max_noise_over_min_informative": noise_ratio,
            "test_mse": test_mse, "samples": n, "epochs": epochs, "width": width, "true_importance_theory": [2.0, 2 * math.sqrt(2 / math.pi)],
        },
        "verdict": bool(verdict),
        "method": f"MLP 8-{width}-{width}-1 (tanh, float64) trained with full-batch Adam ({epochs} epochs, {n} samples) "
                  "on y = 2x0 + x1² + 0.5 sin(2x2) + 0.1·noise; "
                  "nn.utils.importance.feature_importance (mean |∂f/∂x_j| on held-out data) for the network and for "
                  "the true function; least-squares |β_j| as the linear-model importance. Claim holds if the network "
                  "ranks x0, x1, x2 first in that order, the largest uninformative importance is < 25% of the smallest "
                  "informative one, each informative importance is within 25% of the true value, and the linear "
                  "|β1| is < 20% of the network's importance of x1.",
    }
