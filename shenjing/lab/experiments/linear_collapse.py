"""linear-collapse: stacked linear layers are one linear map (Zhao eq. 35–39, Nelson ch. 4).

Without an activation, h = W⁽²⁾(W⁽¹⁾x + b⁽¹⁾) + b⁽²⁾ = W̃x + b̃ with W̃ = W⁽²⁾W⁽¹⁾ and b̃ = W⁽²⁾b⁽¹⁾ + b⁽²⁾
(Zhao eq. 39: "no matter how many layers, it is equivalent to one layer"; Nelson: "a linear
combination of linear combinations is a linear combination"). Measured three ways: the outputs of
deep linear nn.Sequential stacks against their collapsed single layer; the best a trained deep
linear network reaches on a nonlinear target against ordinary least squares (it can do no better
than the best line); and the same network with ReLU between the layers.

Nelson writes out the two-layer case and, expanding z₁⁽²⁾ = ω₁₁⁽²⁾z₁⁽¹⁾ + ω₁₂⁽²⁾z₂⁽¹⁾ + ω₀₁⁽²⁾, puts ω₂₁⁽²⁾ in
front of z₂⁽¹⁾ in the next line — an index slip. The printed expansion is evaluated beside the correct
one: it matches the network only when ω₁₂⁽²⁾ = ω₂₁⁽²⁾.
"""

from __future__ import annotations

from ...backend import xp
from ..core import experiment


def collapse(model):
    """The single (W, b) equal to a Sequential of Linear layers: W = W_L⋯W_1, b = W_L(⋯(W_2 b_1 + b_2)⋯) + b_L."""
    W, b = None, None
    for layer in model:
        Wl = layer.weight.detach().numpy().astype(xp.float64)
        bl = layer.bias.detach().numpy().astype(xp.float64)
        W, b = (Wl, bl) if W is None else (Wl @ W, Wl @ b + bl)
    return W, b


@experiment(
    id="linear-collapse",
    title="Stacked linear layers collapse to one linear map",
    title_zh="线性层的叠加仍是线性映射 (无激活函数则多层退化为一层)",
    source="Zhao eq. 35–39; Nelson ch. 4 (线性组合的线性组合仍然是线性组合)",
    claim="Without activation functions a network of any depth computes W̃x + b̃ with W̃ = W_L⋯W_1, so it fits a nonlinear "
          "target no better than least squares; with ReLU between the same layers it does.",
)
def run(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import linear as L
    from shenjing import nn, optim
    from shenjing.viz.plots import _plt

    # 1. deep linear stacks equal their collapsed layer
    x = sj.tensor(ctx.rng.standard_normal((256, 3)), dtype=sj.float64)
    depths = [1, 2, 3, 5, 10]
    errs = {}
    for depth in depths:
        sizes = [3] + [8] * (depth - 1) + [2]
        net = nn.Sequential(*[nn.Linear(a, b, dtype=sj.float64) for a, b in zip(sizes[:-1], sizes[1:])])
        W, b = collapse(net)
        with sj.no_grad():
            out = net(x).numpy()
        errs[depth] = float(xp.abs(out - (x.numpy() @ W.T + b)).max())
    # Zhao eq. 35–39, no biases: h = W2 W1 x
    W1, W2 = ctx.rng.standard_normal((4, 3)), ctx.rng.standard_normal((2, 4))
    h = sj.tensor(W2) @ (sj.tensor(W1) @ x.T)
    err_002 = float(xp.abs(h.numpy() - (W2 @ W1) @ x.numpy().T).max())

    # 2. Nelson's written-out two-layer expansion, as printed and corrected
    w1 = ctx.rng.standard_normal((2, 2))  # ω_{ij}^{(1)}: row i = node, column j = input
    b1 = ctx.rng.standard_normal(2)
    w2 = ctx.rng.standard_normal((2, 2))  # ω_{ij}^{(2)}
    b2 = ctx.rng.standard_normal(2)
    X2 = ctx.rng.standard_normal((100, 2))
    z1 = X2 @ w1.T + b1
    net_out = (z1 @ w2.T + b2)[:, 0]  # z_1^{(2)}
    correct = w2[0, 0] * (X2 @ w1[0] + b1[0]) + w2[0, 1] * (X2 @ w1[1] + b1[1]) + b2[0]
    printed = w2[0, 0] * (X2 @ w1[0] + b1[0]) + w2[1, 0] * (X2 @ w1[1] + b1[1]) + b2[0]  # ω21 for ω12
    err_correct = float(xp.abs(correct - net_out).max())
    err_printed = float(xp.abs(printed - net_out).max())

    # 3. training: a deep linear net cannot beat least squares on a nonlinear target
    n = 200
    xs = xp.sort(ctx.rng.uniform(-2, 2, n))
    ys = xp.sin(2 * xs) + 0.5 * xs + 0.1 * ctx.rng.standard_normal(n)
    coef, icpt = L.ols(xs[:, None], ys, fit_intercept=True)
    ols_mse = float(((xs * coef[0] + icpt - ys) ** 2).mean())
    X, Y = sj.tensor(xs[:, None], dtype=sj.float64), sj.tensor(ys[:, None], dtype=sj.float64)
    steps = 300 if ctx.quick else 3000
    curves, models = {}, {}
    for name, act in (("deep linear (4 layers, no activation)", None), ("same layers with ReLU", "relu")):
        model = nn.mlp([1, 32, 32, 32, 1], activation=act).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        hist = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(model(X), Y)
            loss.backward()
            opt.step()
            hist.append(loss.item())
        curves[name], models[name] = hist, model
    lin_name, relu_name = list(curves)
    lin_mse = min(curves[lin_name])
    relu_mse = curves[relu_name][-1]
    W, b = collapse([m for m in models[lin_name] if isinstance(m, nn.Linear)])
    slope_gap = float(abs(W[0, 0] - coef[0]) + abs(b[0] - icpt))

    # ---- figures
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), layout="constrained")
    ax = axes[0]
    ax.scatter(xs, ys, s=8, c="gray", alpha=0.6, label="data: sin 2x + x/2 + noise")
    grid = xp.linspace(-2, 2, 200)
    ax.plot(grid, coef[0] * grid + icpt, "k-", lw=4, alpha=0.35, label=f"least-squares line (MSE {ols_mse:.3f})")
    with sj.no_grad():
        for name, style in ((lin_name, "--"), (relu_name, "-")):
            ax.plot(grid, models[name](sj.tensor(grid[:, None])).numpy()[:, 0], style,
                    label=f"{name} (MSE {min(curves[name]):.3f})")
    ax.set(xlabel="x", ylabel="y", title="A deep linear network is a line")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(curves[lin_name], label=lin_name)
    ax.semilogy(curves[relu_name], label=relu_name)
    ax.axhline(ols_mse, color="k", ls=":", label="least-squares MSE (the floor of any linear map)")
    ax.set(xlabel="Adam step (lr 0.01, full batch)", ylabel="training MSE", title="Training: the linear net stops at the OLS floor")
    ax.legend(fontsize=7)
    ax = axes[2]
    vals = [max(errs[d], 1e-18) for d in depths]
    ax.bar([str(d) for d in depths], vals, color="tab:blue")
    for i, d in enumerate(depths):
        ax.annotate("0 (exact)" if errs[d] == 0 else f"{errs[d]:.1e}", (i, vals[i] * 2), ha="center", fontsize=8)
    ax.axhline(1e-12, color="tab:red", ls="--", label="threshold 1e-12")
    ax.set(yscale="log", ylim=(1e-18, 1e-6), xlabel="number of stacked nn.Linear layers (float64)",
           ylabel="max |net(x) − (W̃x + b̃)|", title="Deep linear stack vs its collapsed single layer")
    ax.legend(fontsize=8)
    fig.suptitle("Linear layers collapse (Zhao eq. 39, Nelson)")
    ctx.savefig(fig, "linear-collapse.png")

    verdict = (max(errs.values()) < 1e-12 and err_002 < 1e-12 and err_correct < 1e-12 and err_printed > 1e-3
               and lin_mse >= ols_mse * (1 - 1e-9) and lin_mse <= ols_mse * 1.01 and relu_mse < 0.2 * ols_mse)
    return {
        "measured": {
            "max_abs_error_stack_vs_collapsed": errs, "zhao_eq39_error": err_002,
            "nelson_expansion_error_correct": err_correct, "nelson_expansion_error_as_printed": err_printed,
            "ols_mse": ols_mse, "deep_linear_best_mse": lin_mse, "relu_final_mse": relu_mse,
            "deep_linear_collapsed_vs_ols_coefficient_gap": slope_gap,
        },
        "verdict": bool(verdict),
        "method": "float64 nn.Sequential stacks of nn.Linear (depths 1–10) against (W_L⋯W_1, accumulated bias); Nelson's "
                  "expansion of z₁⁽²⁾ evaluated with ω₁₂⁽²⁾ (correct) and ω₂₁⁽²⁾ (printed); nn.mlp([1, 32, 32, 32, 1]) with no "
                  f"activation and with ReLU trained {steps} Adam steps on 200 noisy points of sin 2x + x/2. Holds if the stacks "
                  "and the corrected expansion agree to 1e-12, the deep linear net's best MSE lies in [OLS, 1.01·OLS] and the "
                  "ReLU net's is below 0.2·OLS.",
    }
