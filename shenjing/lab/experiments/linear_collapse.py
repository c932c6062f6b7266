"""linear-collapse: stacked linear layers are one linear map (Zhao eq. 35–39, Nelson ch. 4).

Without an activation, h = W⁽²⁾(W⁽¹⁾x + b⁽¹⁾) + b⁽²⁾ = W̃x + b̃ with W̃ = W⁽²⁾W⁽¹⁾ and b̃ = W⁽²⁾b⁽¹⁾ + b⁽²⁾
(Zhao eq. 39: "no matter how many layers, it is equivalent to one layer"; Nelson: "a linear
combination of linear combinations is a linear combination"). Measured three ways: the outputs of
deep linear nn.Sequential stacks against their collapsed single layer (:func:`collapse`); the best a
trained deep linear network reaches on a nonlinear target against ordinary least squares (it can do
no better than the best line); and the same network with ReLU between the layers.

Nelson writes out the two-layer case and, expanding z₁⁽²⁾ = ω₁₁⁽²⁾z₁⁽¹⁾ + ω₁₂⁽²⁾z₂⁽¹⁾ + ω₀₁⁽²⁾, puts ω₂₁⁽²⁾ in
front of z₂⁽¹⁾ in the next line — an index slip. The printed expansion is evaluated beside the correct
one (:func:`nelson_expansion_errors`): it matches the network only when ω₁₂⁽²⁾ = ω₂₁⁽²⁾.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

DEPTHS = (1, 2, 3, 5, 10)
LR = 0.01
LINEAR, RELU = "deep linear (4 layers, no activation)", "same layers with ReLU"

EXPERIMENT = Experiment(
    id="linear-collapse",
    title="Stacked linear layers collapse to one linear map",
    title_zh="线性层的叠加仍是线性映射 (无激活函数则多层退化为一层)",
    source="Zhao eq. 35–39; Nelson ch. 4 (线性组合的线性组合仍然是线性组合)",
    claim="Without activation functions a network of any depth computes W̃x + b̃ with W̃ = W_L⋯W_1, so it fits a nonlinear "
          "target no better than least squares; with ReLU between the same layers it does.",
    claim_zh="没有激活函数时, 任意深度的网络都只计算 W̃x + b̃, 其中 W̃ = W_L⋯W_1, 因此拟合非线性目标并不比最小二乘好; 在相同的层之间加入 "
             "ReLU 后则可以.",
    checks=(
        Check("max_abs_error_stack_vs_collapsed", "<", 1e-12, "for every depth, max |net(x) − (W̃x + b̃)|", what_zh="对每个深度, max |net(x) − (W̃x + b̃)|"),
        Check("zhao_eq39_error", "<", 1e-12, "max |W⁽²⁾(W⁽¹⁾x) − (W⁽²⁾W⁽¹⁾)x| (Zhao eq. 39)", what_zh="max |W⁽²⁾(W⁽¹⁾x) − (W⁽²⁾W⁽¹⁾)x| (Zhao 式 39)"),
        Check("nelson_expansion_error_correct", "<", 1e-12, "the corrected expansion's max error", what_zh="更正后展开式的最大误差"),
        Check("nelson_expansion_error_as_printed", ">", 1e-3, "the printed expansion's max error", what_zh="印刷的展开式的最大误差"),
        Check("deep_linear_best_mse_relative_excess_over_ols", ">=", -1e-9, "the deep linear net's best MSE / the least-squares MSE − 1",
              what_zh="深层线性网络的最佳 MSE / 最小二乘 MSE − 1"),
        Check("deep_linear_best_mse_relative_excess_over_ols", "<=", 0.01, "the deep linear net's best MSE / the least-squares MSE − 1",
              what_zh="深层线性网络的最佳 MSE / 最小二乘 MSE − 1"),
        Check("relu_final_mse_over_ols", "<", 0.2, "the ReLU net's final MSE / the least-squares MSE", what_zh="ReLU 网络的最终 MSE / 最小二乘 MSE"),
    ),
)


def collapse(model) -> tuple:
    """The single (W, b) equal to a Sequential of Linear layers: W = W_L⋯W_1, b = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L."""
    W, b = None, None
    for layer in model:
        Wl = layer.weight.detach().numpy().astype(xp.float64)
        bl = layer.bias.detach().numpy().astype(xp.float64)
        W, b = (Wl, bl) if W is None else (Wl @ W, Wl @ b + bl)
    return W, b


def stack_errors(rng) -> tuple[dict, float]:
    """Max |net(x) − (W̃x + b̃)| of float64 Linear stacks 3-8-…-8-2 per depth, and the bias-free
    error of Zhao eq. 35–39, h = W₂(W₁x) against (W₂W₁)x."""
    import shenjing as sj
    from shenjing import nn

    x = sj.tensor(rng.standard_normal((256, 3)), dtype=sj.float64)
    errs = {}
    for depth in DEPTHS:
        sizes = [3] + [8] * (depth - 1) + [2]
        net = nn.Sequential(*[nn.Linear(a, b, dtype=sj.float64) for a, b in zip(sizes[:-1], sizes[1:])])
        W, b = collapse(net)
        with sj.no_grad():
            out = net(x).numpy()
        errs[depth] = float(xp.abs(out - (x.numpy() @ W.T + b)).max())
    W1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    h = sj.tensor(W2) @ (sj.tensor(W1) @ x.T)
    return errs, float(xp.abs(h.numpy() - (W2 @ W1) @ x.numpy().T).max())


def nelson_expansion_errors(rng) -> tuple[float, float]:
    """Max error against the network's z₁⁽²⁾ of Nelson's expansion with ω₁₂⁽²⁾ (correct) and with ω₂₁⁽²⁾ (as printed)."""
    w1 = rng.standard_normal((2, 2))  # ω_{ij}^{(1)}: row i = node, column j = input
    b1 = rng.standard_normal(2)
    w2 = rng.standard_normal((2, 2))  # ω_{ij}^{(2)}
    b2 = rng.standard_normal(2)
    X = rng.standard_normal((100, 2))
    net_out = ((X @ w1.T + b1) @ w2.T + b2)[:, 0]  # z_1^{(2)}
    correct = w2[0, 0] * (X @ w1[0] + b1[0]) + w2[0, 1] * (X @ w1[1] + b1[1]) + b2[0]
    printed = w2[0, 0] * (X @ w1[0] + b1[0]) + w2[1, 0] * (X @ w1[1] + b1[1]) + b2[0]  # ω21 for ω12
    return float(xp.abs(correct - net_out).max()), float(xp.abs(printed - net_out).max())


def train_mlps(xs, ys, steps: int) -> tuple[dict, dict]:
    """nn.mlp([1, 32, 32, 32, 1]) without activation and with ReLU, float64, full-batch Adam on MSE;
    the models and their loss curves."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    X, Y = sj.tensor(xs[:, None], dtype=sj.float64), sj.tensor(ys[:, None], dtype=sj.float64)
    models, curves = {}, {}
    for name, act in ((LINEAR, None), (RELU, "relu")):
        model = nn.mlp([1, 32, 32, 32, 1], activation=act).double()
        curves[name] = full_batch(lambda m=model: F.mse_loss(m(X), Y), optim.Adam(model.parameters(), lr=LR), steps)
        models[name] = model
    return models, curves


def measure(ctx) -> Measurement:
    from shenjing import linear as L
    from shenjing import nn

    errs, err_zhao = stack_errors(ctx.rng)
    err_correct, err_printed = nelson_expansion_errors(ctx.rng)

    n = 200
    xs = xp.sort(ctx.rng.uniform(-2, 2, n))
    ys = xp.sin(2 * xs) + 0.5 * xs + 0.1 * ctx.rng.standard_normal(n)
    coef, icpt = L.ols(xs[:, None], ys, fit_intercept=True)
    ols_mse = float(((xs * coef[0] + icpt - ys) ** 2).mean())
    steps = 300 if ctx.quick else 3000
    models, curves = train_mlps(xs, ys, steps)
    lin_mse, relu_mse = min(curves[LINEAR]), curves[RELU][-1]
    W, b = collapse([m for m in models[LINEAR] if isinstance(m, nn.Linear)])

    measured = {
        "max_abs_error_stack_vs_collapsed": errs, "zhao_eq39_error": err_zhao,
        "nelson_expansion_error_correct": err_correct, "nelson_expansion_error_as_printed": err_printed,
        "ols_mse": ols_mse, "deep_linear_best_mse": lin_mse, "relu_final_mse": relu_mse,
        "deep_linear_best_mse_relative_excess_over_ols": lin_mse / ols_mse - 1, "relu_final_mse_over_ols": relu_mse / ols_mse,
        "deep_linear_collapsed_vs_ols_coefficient_gap": float(abs(W[0, 0] - coef[0]) + abs(b[0] - icpt)),
    }
    method = (f"float64 nn.Sequential stacks of nn.Linear (depths {', '.join(map(str, DEPTHS))}) against (W_L⋯W_1, accumulated "
              "bias); Nelson's expansion of z₁⁽²⁾ evaluated with ω₁₂⁽²⁾ (correct) and ω₂₁⁽²⁾ (printed) on 100 random inputs; "
              f"nn.mlp([1, 32, 32, 32, 1]) with no activation and with ReLU trained {steps} full-batch Adam steps (lr {LR}) "
              f"on {n} noisy points of sin 2x + x/2, against the least-squares line.")
    return Measurement(measured, method, data={"xs": xs, "ys": ys, "line": (coef[0], icpt), "models": models, "curves": curves})


def figures(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing.viz.plots import pyplot

    d, ols_mse = m.data, m.measured["ols_mse"]
    (slope, icpt), curves = d["line"], d["curves"]
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), layout="constrained")
    ax = axes[0]
    ax.scatter(d["xs"], d["ys"], s=8, c="gray", alpha=0.6, label="data: sin 2x + x/2 + noise")
    grid = xp.linspace(-2, 2, 200)
    ax.plot(grid, slope * grid + icpt, "k-", lw=4, alpha=0.35, label=f"least-squares line (MSE {ols_mse:.3f})")
    with sj.no_grad():
        for name, style in ((LINEAR, "--"), (RELU, "-")):
            ax.plot(grid, d["models"][name](sj.tensor(grid[:, None])).numpy()[:, 0], style,
                    label=f"{name} (MSE {min(curves[name]):.3f})")
    ax.set(xlabel="x", ylabel="y", title="A deep linear network is a line")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(curves[LINEAR], label=LINEAR)
    ax.semilogy(curves[RELU], label=RELU)
    ax.axhline(ols_mse, color="k", ls=":", label="least-squares MSE (the floor of any linear map)")
    ax.set(xlabel=f"Adam step (lr {LR}, full batch)", ylabel="training MSE", title="Training: the linear net stops at the OLS floor")
    ax.legend(fontsize=7)
    errs = m.measured["max_abs_error_stack_vs_collapsed"]
    ax = axes[2]
    vals = [max(errs[k], 1e-18) for k in DEPTHS]
    ax.bar([str(k) for k in DEPTHS], vals, color="tab:blue")
    for i, k in enumerate(DEPTHS):
        ax.annotate("0 (exact)" if errs[k] == 0 else f"{errs[k]:.1e}", (i, vals[i] * 2), ha="center", fontsize=8)
    ax.axhline(1e-12, color="tab:red", ls="--", label="threshold 1e-12")
    ax.set(yscale="log", ylim=(1e-18, 1e-6), xlabel="number of stacked nn.Linear layers (float64)",
           ylabel="max |net(x) − (W̃x + b̃)|", title="Deep linear stack vs its collapsed single layer")
    ax.legend(fontsize=8)
    fig.suptitle("Linear layers collapse (Zhao eq. 39, Nelson)")
    ctx.savefig(fig, "linear-collapse.png")
