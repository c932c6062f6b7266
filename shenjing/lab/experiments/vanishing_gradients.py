"""vanishing-gradients: per-layer gradient norms of deep sigmoid and ReLU networks, and how
residual connections restore them (Xu §1.10.2, Nelson ch. 4 "梯度消失问题").

Xu §1.10.2: by the chain rule the derivative of the loss with respect to an early layer is a
long product; for a deep network the product can become tiny (the gradient vanishes) or huge.
Nelson: saturating activations (sigmoid, tanh) cause the vanishing gradient; ReLU-type ones
correct it. With sigmoid every factor carries σ'(z) ≤ 1/4, so even with Xavier's variance-preserving
weights the gradient norm falls by a roughly constant factor per layer; with ReLU and Kaiming init
the factor is ≈ 1. Xu's residual connection F_{l+1} = σ(W_l F_l + b_l) + F_l adds an identity
path, ∂F_{l+1}/∂F_l = I + (…), so the product never has to shrink.

Networks: a stem Linear(16 → width), L hidden layers width → width, a Linear head, trained on one
batch of a regression task (MSE). Plain sigmoid (Xavier normal), plain ReLU (Kaiming normal) and
residual sigmoid (nn.ResidualBlock with branch_layers=1, the one-layer form of Xu, Xavier
normal) are compared; all biases are zero. Measured: ‖∂L/∂W_l‖_F of every hidden layer l (parameter
gradients after one backward), the per-layer decay factor (geometric mean of ‖∂L/∂W_l‖/‖∂L/∂W_{l+1}‖,
from the output towards the input), and the ratio ‖∂L/∂W_1‖/‖∂L/∂W_L‖ as the depth grows, whose
log-linear slope in L is the decay factor per added layer.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import Check, Experiment, Measurement

NETS = ("plain sigmoid", "plain relu", "residual sigmoid")
FACTOR = "per_layer_decay_factor_at_max_depth"
FIT = "per_added_layer_factor_fit_over_depths"
RATIO = "first_over_last_at_max_depth"

EXPERIMENT = Experiment(
    id="vanishing-gradients",
    title="Vanishing gradients: sigmoid vs ReLU with depth, and residual connections",
    title_zh="梯度消失及残差连接",
    source="Xu §1.10.2; Nelson ch. 4",
    claim="In a deep sigmoid network the gradient norm falls geometrically from the output layer to the input layer "
          "(a constant factor per layer, so exponentially in depth); ReLU with Kaiming init keeps it roughly constant, "
          "and the residual connection F_{l+1} = σ(W F_l + b) + F_l restores it in the sigmoid network.",
    claim_zh="在深层 sigmoid 网络中, 梯度范数从输出层到输入层几何下降 (每层一个常数因子, 即随深度指数下降); ReLU 配合 Kaiming "
             "初始化使其大致不变, 残差连接 F_{l+1} = σ(W F_l + b) + F_l 在 sigmoid 网络中也使其恢复.",
    checks=(
        Check(f"{FACTOR}.plain sigmoid", "<", 0.6, "the plain sigmoid net's per-layer factor ‖g_l‖/‖g_l+1‖",
              what_zh="普通 sigmoid 网络每层的因子 ‖g_l‖/‖g_l+1‖"),
        Check(f"{FIT}.plain sigmoid", "<", 0.6, "its factor per added layer", what_zh="它每增加一层的因子"),
        Check(f"{RATIO}.plain sigmoid", "<", 1e-6, "its ‖g_1‖/‖g_L‖ at the largest depth", what_zh="它在最大深度时的 ‖g_1‖/‖g_L‖"),
        Check(f"{FACTOR}.plain relu", ">=", 0.7, "the plain ReLU net's per-layer factor", what_zh="普通 ReLU 网络每层的因子"),
        Check(f"{FACTOR}.plain relu", "<=", 1.4, "the same factor", what_zh="同一因子"),
        Check(f"{FACTOR}.residual sigmoid", ">=", 0.7, "the residual sigmoid net's per-layer factor", what_zh="残差 sigmoid 网络每层的因子"),
        Check(f"{FIT}.residual sigmoid", ">=", 0.7, "its factor per added layer", what_zh="它每增加一层的因子"),
        Check(f"{RATIO}.residual sigmoid", ">", 1e-3, "its ‖g_1‖/‖g_L‖ at the largest depth", what_zh="它在最大深度时的 ‖g_1‖/‖g_L‖"),
    ),
)


def build(kind: str, depth: int, width: int, d_in: int = 16) -> tuple:
    """The network and the list of its hidden Linear layers (whose gradients are measured)."""
    import shenjing as sj
    from shenjing import nn
    from shenjing.nn import init

    act = "relu" if "relu" in kind else "sigmoid"
    if kind.startswith("residual"):
        blocks = [nn.ResidualBlock(width, activation=act, branch_layers=1) for _ in range(depth)]
        hidden = [b.branch[0] for b in blocks]
        body = nn.Sequential(*blocks)
    else:
        layers, hidden = [], []
        for _ in range(depth):
            lin = nn.Linear(width, width)
            hidden.append(lin)
            layers += [lin, nn.ReLU() if act == "relu" else nn.Sigmoid()]
        body = nn.Sequential(*layers)
    net = nn.Sequential(nn.Linear(d_in, width), body, nn.Linear(width, 1)).to(sj.float64)
    for m in net.modules():
        if isinstance(m, nn.Linear):
            if act == "relu":
                init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                init.xavier_normal_(m.weight)
            init.zeros_(m.bias)
    return net, hidden


def layer_gradient_norms(kind: str, depth: int, width: int, x, y) -> list[float]:
    """‖∂L/∂W_l‖_F for the hidden layers l = 1..depth after one backward of the MSE loss."""
    import shenjing.nn.functional as F

    net, hidden = build(kind, depth, width)
    loss = F.mse_loss(net(x), y)
    loss.backward()
    return [float(xp.sqrt((h.weight.grad.numpy() ** 2).sum())) for h in hidden]


def depth_factor(depths, ratios) -> float:
    """The factor per added layer: exp of the slope of log(‖g_1‖/‖g_L‖) against L − 1 (least squares)."""
    return float(math.exp(xp.polyfit(xp.asarray(depths, float) - 1, xp.log(xp.asarray(ratios)), 1)[0]))


def decay_factor(norms: list[float]) -> float:
    """Geometric mean of ‖g_l‖/‖g_{l+1}‖ over the hidden layers (< 1: the gradient vanishes towards the input)."""
    return (norms[0] / norms[-1]) ** (1 / (len(norms) - 1))


def measure(ctx) -> Measurement:
    import shenjing as sj

    width = 32 if ctx.quick else 64
    depths = [2, 4, 8, 12, 16] if ctx.quick else [2, 4, 8, 12, 16, 24, 32, 48]
    batch = 128 if ctx.quick else 512
    x = sj.randn(batch, 16, generator=ctx.generator, dtype=sj.float64)
    v = sj.randn(16, 1, generator=ctx.generator, dtype=sj.float64) / 4.0
    y = sj.tanh(x @ v)
    sj.manual_seed(ctx.seed)
    norms = {k: {L: layer_gradient_norms(k, L, width, x, y) for L in depths} for k in NETS}
    deepest = depths[-1]
    ratio = {k: [norms[k][L][0] / norms[k][L][-1] for L in depths] for k in NETS}
    measured = {
        "width": width, "depths": depths,
        FACTOR: {k: decay_factor(norms[k][deepest]) for k in NETS},
        FIT: {k: depth_factor(depths, ratio[k]) for k in NETS},
        RATIO: {k: ratio[k][-1] for k in NETS},
        "first_over_last_gradient_ratio": {k: dict(zip(depths, ratio[k])) for k in NETS},
        "gradient_norms_at_max_depth": {k: norms[k][deepest] for k in NETS},
    }
    method = (f"One backward of an MSE loss (a batch of {batch} N(0, I) inputs in R^16, target tanh(x·v), v ~ N(0, I/16)) "
              f"through stem Linear(16 → {width}) → L hidden layers of width {width} → Linear head, for L = "
              f"{', '.join(map(str, depths))}; float64, zero biases, Xavier normal for sigmoid and Kaiming normal for "
              "ReLU; the residual net uses nn.ResidualBlock(branch_layers=1). Measured ‖∂L/∂W_l‖_F per hidden layer; "
              "the per-layer factor is the geometric mean of ‖g_l‖/‖g_l+1‖ at the largest depth, the factor per added "
              "layer the exponential fit of ‖g_1‖/‖g_L‖ over the depths. The residual net's remaining decay comes from "
              "its sigmoid branch adding ≈ 0.5 per block (the mean of F_l grows, later units saturate).")
    return Measurement(measured, method, data={"norms": norms, "ratio": ratio})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    norms, ratio = m.data["norms"], m.data["ratio"]
    depths, width, factors, depth_fit = (m.measured[k] for k in ("depths", "width", FACTOR, FIT))
    deepest = depths[-1]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = {"plain sigmoid": "tab:red", "plain relu": "tab:blue", "residual sigmoid": "tab:green"}
    ax = axes[0]
    for k in NETS:
        ax.semilogy(range(1, deepest + 1), norms[k][deepest], "o-", ms=3, color=colors[k],
                    label=f"{k} (‖g_l‖/‖g_l+1‖ ≈ {factors[k]:.3g})")
    ax.set(xlabel="hidden layer l (1 = nearest the input)", ylabel="‖∂L/∂W_l‖ (Frobenius)",
           title=f"Per-layer gradient norm at init, depth {deepest}, width {width}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax = axes[1]
    for k in NETS:
        ax.semilogy(depths, ratio[k], "o-", color=colors[k], label=f"{k} (fit: ×{depth_fit[k]:.3g} per layer)")
    ax.axhline(1.0, color="k", lw=0.6)
    ax.set(xlabel="number of hidden layers L", ylabel="‖∂L/∂W_1‖ / ‖∂L/∂W_L‖",
           title="First-layer vs last-layer gradient as depth grows")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("Vanishing gradients (Xu §1.10.2): sigmoid vs ReLU, and the residual connection")
    fig.tight_layout()
    ctx.savefig(fig, "gradient-norms.png")
