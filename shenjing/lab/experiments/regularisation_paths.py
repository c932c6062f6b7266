"""regularisation-paths: ridge, lasso and elastic net along α (Fang §3.2, Nelson 正则化技术).

Four measurements:

1. Ridge in closed form, w = (XᵀX + αI)⁻¹Xᵀy with the intercept unpenalised (centred data), against
   gradient descent with shenjing autograd on MSE + optim.regularizers.ridge (which skips biases).
   Nelson prints the data term as a mean, (1/m)Σ(y − ŷ)² + α‖w‖², beside that closed form; the closed
   form minimises the sum form, and the mean form needs α·m in its place — the gradient of the printed
   objective at both candidates is reported.
2. Paths of lasso, elastic net (Nelson's γ = 0.5) and ridge coefficients as α falls from the lasso's
   α_max: the L1 penalties set coefficients exactly to zero, ridge only shrinks them; with two strongly
   correlated features the elastic net shares the weight where the lasso favours one (Nelson: "elastic
   net is usually better than lasso when features are strongly correlated").
3. The geometry of Fig. 4-13: gradient descent on the penalty alone from (2, 1) — on the l¹ diamonds ω₂
   reaches exactly 0 first and ω₁ then travels along the axis; on the l² circles both shrink together and
   neither reaches 0 — and the constrained picture with the loss's elliptical contours touching the
   diamond at a corner and the circle at a smooth point.
4. The α sweep as a bias–variance trade-off (Nelson: large α → high bias, low variance): ridge on a
   degree-12 polynomial basis over many resampled training sets.
"""

from __future__ import annotations

from ...backend import xp
from ..core import experiment


def _spearman(a, b):
    ra, rb = xp.argsort(xp.argsort(a)), xp.argsort(xp.argsort(b))
    return float(xp.corrcoef(ra, rb)[0, 1])


@experiment(
    id="regularisation-paths",
    title="Ridge, lasso and elastic net: closed form, paths, geometry and the bias–variance trade-off",
    title_zh="正则化路径: 岭回归、套索回归与弹性网络 (l¹ 菱形与 l² 圆, 偏差-方差权衡)",
    source="Fang §3.2; Nelson (权重衰减正则化, Fig. 4-13, 正则化超参数 α 的作用)",
    claim="The ridge closed form equals gradient descent on the penalised loss; lasso and elastic net set coefficients "
          "exactly to zero as α grows while ridge only shrinks them; descent on the l¹ diamond hits an axis, on the l² circle "
          "it does not; increasing α raises bias and lowers variance.",
)
def run(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import linear as L
    from shenjing import nn, optim
    from shenjing.optim import regularizers
    from shenjing.viz.plots import _plt

    rng = ctx.rng
    # ---------------------------------------------------------------- data with a sparse truth
    n, d = 50, 10
    X = rng.standard_normal((n, d))
    X[:, 1] = X[:, 0] + 0.3 * rng.standard_normal(n)  # a strongly correlated pair (r ≈ 0.96)
    beta = xp.zeros(d)
    beta[[0, 1, 4, 7]] = [1.5, 1.5, -2.0, 1.0]
    y = X @ beta + 3.0 + 0.5 * rng.standard_normal(n)

    # 1. ridge closed form vs gradient descent with autograd (bias unpenalised by regularizers.ridge)
    alpha = 10.0
    w_cf, b_cf = L.ridge(X, y, alpha)
    model = nn.Linear(d, 1, dtype=sj.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = sj.tensor(X), sj.tensor(y[:, None])
    gd_gap = []
    steps = 3000
    for _ in range(steps):
        opt.zero_grad()
        # (1/n)(‖y − Xw − b‖² + α‖w‖²): the same minimiser as the closed form
        loss = F.mse_loss(model(Xt), yt) + regularizers.ridge(model, alpha / n)
        loss.backward()
        opt.step()
        wg = xp.append(model.weight.detach().numpy().ravel(), model.bias.detach().numpy())
        gd_gap.append(float(xp.abs(wg - xp.append(w_cf, b_cf)).max()))
        if gd_gap[-1] < 1e-10:
            break
    # Nelson's printed pairing: (1/m)‖Xw − y‖² + α‖w‖² next to w = (XᵀX + αB)⁻¹Xᵀy
    Xc, yc = X - X.mean(0), y - y.mean()

    def grad_mean_form(w):
        return float(xp.linalg.norm(2 / n * Xc.T @ (Xc @ w - yc) + 2 * alpha * w))

    grad_printed = grad_mean_form(L.ridge(X, y, alpha)[0])
    grad_scaled = grad_mean_form(L.ridge(X, y, alpha * n)[0])

    # 2. paths
    amax = L.alpha_max(X, y, gamma=0.5) * (1 + 1e-6)  # the elastic net's α_max (2× the lasso's at γ = 0.5)
    n_alpha = 25 if ctx.quick else 80
    alphas = amax * xp.logspace(0, -4.3, n_alpha)
    tol = 1e-9
    P_lasso = L.regularization_path(X, y, alphas, "lasso", tol=tol)
    P_enet = L.regularization_path(X, y, alphas, "elastic_net", gamma=0.5, tol=tol)
    P_ridge = L.regularization_path(X, y, alphas, "ridge")
    nnz_lasso, nnz_enet, nnz_ridge = ((P != 0).sum(1) for P in (P_lasso, P_enet, P_ridge))
    idx = xp.linspace(0, n_alpha - 1, 5).astype(int)
    fista_gap = max(float(xp.abs(L.lasso(X, y, alphas[i], solver="fista", tol=1e-11, max_iter=100_000)[0] - P_lasso[i]).max())
                    for i in idx[1:-1])
    mid = n_alpha // 2
    pair_lasso = float(abs(P_lasso[mid, 0] - P_lasso[mid, 1]))
    pair_enet = float(abs(P_enet[mid, 0] - P_enet[mid, 1]))
    entry_order = [int(j) for j in xp.argsort([xp.argmax(P_lasso[:, j] != 0) if xp.any(P_lasso[:, j] != 0) else n_alpha
                                               for j in range(d)])]
    # Fang's ρ form gives the same path as Nelson's γ form with λ = α/2, ρ = 1 − γ
    rho_gap = max(float(xp.abs(L.elastic_net_rho(X, y, alphas[i] / 2, 0.5, tol=tol)[0]
                            - L.elastic_net(X, y, alphas[i], 0.5, tol=tol)[0]).max()) for i in idx[1:-1])

    # 3a. Fig. 4-13: descent on the penalty alone (autograd; dyadic step so that zeros are exact)
    eta = 1 / 16
    paths = {}
    for name, pen in (("l1", regularizers.lasso), ("l2", regularizers.ridge)):
        w = sj.tensor([2.0, 1.0], dtype=sj.float64, requires_grad=True)
        hist = [w.detach().numpy().copy()]
        for _ in range(48):
            g = sj.autograd.grad(pen([w], 1.0), [w])[0]
            with sj.no_grad():
                w -= eta * g
            hist.append(w.detach().numpy().copy())
        paths[name] = xp.array(hist)
    p1, p2 = paths["l1"], paths["l2"]
    step_w2_zero = int(xp.argmax(p1[:, 1] == 0.0))
    w1_when_w2_zero = float(p1[step_w2_zero, 0])
    l2_ratio_dev = float(xp.abs(p2[:-1, 1] / p2[:-1, 0] - 0.5).max())
    l2_min_abs = float(xp.abs(p2).min())

    # 3b. two correlated features: loss contours, the l¹ and l² balls, and the solution paths over α
    X2 = rng.standard_normal((40, 2)) @ xp.array([[1.0, 0.0], [0.6, 0.8]])  # correlated features: tilted ellipses
    y2 = X2 @ xp.array([1.6, 0.7]) + 0.2 * rng.standard_normal(40)
    ols2 = L.ols(X2, y2, fit_intercept=True)[0]
    a2 = L.alpha_max(X2, y2) * xp.logspace(0, -3, 120)
    path_l1 = L.regularization_path(X2, y2, a2, "lasso")
    path_l2 = L.regularization_path(X2, y2, a2 * 5, "ridge")
    on_axis = xp.nonzero((path_l1[:, 1] == 0) & (path_l1[:, 0] != 0))[0]
    zero_hit = bool(len(on_axis) > 0)
    ridge_axis = bool(xp.any(path_l2 == 0))
    k1 = int(on_axis[len(on_axis) // 2]) if zero_hit else len(a2) // 2
    k2 = int(xp.argmin(xp.abs(xp.linalg.norm(path_l2, axis=1) - xp.linalg.norm(path_l1[k1]))))

    # 4. bias–variance over α: ridge on a degree-12 polynomial basis, fixed design, many noise draws
    R = 200 if ctx.quick else 1000
    ntr, sigma = 25, 0.3

    def truth(x):
        return xp.sin(2.5 * x)

    xs = xp.linspace(-1, 1, ntr)
    xgrid = xp.linspace(-1, 1, 101)
    basis = L.PolynomialBasis(12, domain=(-1, 1))
    Phi, Phi_grid = basis(xs)[:, 1:], basis(xgrid)[:, 1:]
    ridge_alphas = xp.logspace(-5, 2, 15 if ctx.quick else 29)
    preds = xp.zeros((len(ridge_alphas), R, len(xgrid)))
    for r in range(R):
        ys = truth(xs) + sigma * rng.standard_normal(ntr)
        coefs = L.regularization_path(Phi, ys, ridge_alphas, "ridge")  # (n_alpha, 12), intercept unpenalised
        icpt = ys.mean() - coefs @ Phi.mean(0)
        preds[:, r] = coefs @ Phi_grid.T + icpt[:, None]
    check = L.BasisRegression(basis, alpha=ridge_alphas[3]).fit(xs, ys).predict(xgrid)
    basis_gap = float(xp.abs(check - preds[3, -1]).max())
    mean_pred = preds.mean(1)
    var = preds.var(1).mean(1)
    bias2 = ((mean_pred - truth(xgrid)) ** 2).mean(1) - var / R  # minus the Monte Carlo share of the variance
    test = bias2 + var + sigma**2
    best = int(xp.argmin(test))
    rho_bias, rho_var = _spearman(ridge_alphas, bias2), _spearman(ridge_alphas, var)

    # ---------------------------------------------------------------- figures
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5), layout="constrained")
    axes = axes.ravel()
    la = xp.log10(alphas)
    for ax, P, nnz, name in ((axes[0], P_lasso, nnz_lasso, "Lasso α‖w‖₁"),
                             (axes[1], P_enet, nnz_enet, "Elastic net (γ = 0.5): γα‖w‖² + (1 − γ)α‖w‖₁"),
                             (axes[2], P_ridge, nnz_ridge, "Ridge α‖w‖²")):
        for j in range(d):
            style = "-" if beta[j] != 0 else ":"
            ax.plot(la, P[:, j], style, lw=1.6 if j < 2 else 1.0, label=f"w{j} (true {beta[j]:g})" if ax is axes[0] else None)
        ax.set(xlabel="log₁₀ α (from the elastic net's α_max)", ylabel="coefficient", title=name)
        ax.invert_xaxis()
        tw = ax.twinx()
        tw.step(la, nnz, "k--", where="mid", alpha=0.5)
        tw.set_ylabel("number of non-zero coefficients (dashed)")
        tw.set_ylim(-0.5, d + 0.5)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=10, fontsize=8)
    ax = axes[3]
    ax.semilogy(gd_gap, label=f"GD (η = 0.1) on MSE + ridge(α/n), α = {alpha:g}")
    ax.axhline(1e-6, color="k", ls=":", label="1e-6")
    ax.set(xlabel="gradient-descent step", ylabel="max |(w, b) − closed form|", title="Ridge: closed form vs gradient descent")
    ax.legend(fontsize=8)
    fig.suptitle("Regularisation paths (solid: informative features, dotted: noise features; w0 and w1 are correlated)")
    ctx.savefig(fig, "paths.png")

    fig, axes = plt.subplots(1, 2, figsize=(14, 6.2), layout="constrained")
    ax = axes[0]
    g = xp.linspace(-2.5, 2.5, 301)
    G1, G2 = xp.meshgrid(g, g)
    ax.contour(G1, G2, xp.abs(G1) + xp.abs(G2), levels=[0.5, 1, 1.5, 2, 2.5, 3], colors="tab:red", linewidths=0.7, alpha=0.6)
    ax.contour(G1, G2, G1**2 + G2**2, levels=[0.25, 1, 2.25, 4, 6.25], colors="tab:blue", linewidths=0.7, alpha=0.6)
    ax.plot(p1[:, 0], p1[:, 1], "o-", color="tab:red", ms=3, label=f"GD on ‖w‖₁: ω₂ = 0 exactly at step {step_w2_zero} (ω₁ = {w1_when_w2_zero:g})")
    ax.plot(p2[:, 0], p2[:, 1], "s-", color="tab:blue", ms=3, label="GD on ‖w‖²: straight to 0, ω₂/ω₁ = ½ throughout")
    ax.plot(2, 1, "k*", ms=12, label="start (2, 1)")
    ax.plot([], [], color="tab:red", lw=0.7, label="l¹ level sets (diamonds)")
    ax.plot([], [], color="tab:blue", lw=0.7, label="l² level sets (circles)")
    ax.set(xlim=(-0.5, 2.5), ylim=(-0.5, 1.5), aspect="equal", xlabel="ω₁", ylabel="ω₂",
           title=f"Fig. 4-13: descent on the penalty alone (step {eta})")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    g = xp.linspace(-1.2, 2.4, 241)
    G1, G2 = xp.meshgrid(g, g)
    Xc2, yc2 = X2 - X2.mean(0), y2 - y2.mean()
    res = G1[..., None] * Xc2[:, 0] + G2[..., None] * Xc2[:, 1] - yc2
    loss = (res**2).sum(-1)

    def loss_at(w):
        r = Xc2 @ w - yc2
        return float(r @ r)

    ax.contour(G1, G2, loss, levels=loss.min() + xp.geomspace(1, 300, 8), colors="gray", linewidths=0.6)
    ax.contour(G1, G2, loss, levels=[loss_at(path_l1[k1])], colors="tab:red", linewidths=1.2, linestyles="--")
    ax.contour(G1, G2, loss, levels=[loss_at(path_l2[k2])], colors="tab:blue", linewidths=1.2, linestyles="--")
    t1 = float(xp.abs(path_l1[k1]).sum())
    t2 = float(xp.linalg.norm(path_l2[k2]))
    ax.fill(xp.array([t1, 0, -t1, 0]), xp.array([0, t1, 0, -t1]), color="tab:red", alpha=0.15, label=f"l¹ ball |w₁| + |w₂| ≤ {t1:.2f}")
    th = xp.linspace(0, 2 * xp.pi, 200)
    ax.fill(t2 * xp.cos(th), t2 * xp.sin(th), color="tab:blue", alpha=0.15, label=f"l² ball ‖w‖ ≤ {t2:.2f}")
    ax.plot(path_l1[:, 0], path_l1[:, 1], "-", color="tab:red", lw=2, label="lasso solutions as α grows")
    ax.plot(path_l2[:, 0], path_l2[:, 1], "-", color="tab:blue", lw=2, label="ridge solutions as α grows")
    ax.plot(*path_l1[k1], "o", color="tab:red", ms=9, label=f"lasso: w = ({path_l1[k1][0]:.2f}, {path_l1[k1][1]:g}) at a corner")
    ax.plot(*path_l2[k2], "o", color="tab:blue", ms=9, label=f"ridge: w = ({path_l2[k2][0]:.2f}, {path_l2[k2][1]:.2f})")
    ax.plot(*ols2, "k*", ms=12, label="least squares (α = 0); grey: loss contours")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(aspect="equal", xlabel="w₁", ylabel="w₂", xlim=(-1.2, 2.4), ylim=(-1.2, 2.4),
           title="Loss contour (dashed) meets the diamond at a corner, the circle off the axes")
    ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle("l¹ diamond vs l² circle (Nelson Fig. 4-13)")
    ctx.savefig(fig, "geometry.png")

    fig, axes = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
    ax = axes[0]
    ax.loglog(ridge_alphas, xp.maximum(bias2, 1e-5), "o-", label="bias² (values below 1e-5 drawn at 1e-5)")
    ax.loglog(ridge_alphas, var, "s-", label="variance")
    ax.loglog(ridge_alphas, test - sigma**2, "k-", lw=2, label="expected test MSE − σ² (= bias² + variance)")
    ax.axvline(ridge_alphas[best], color="gray", ls=":", label=f"best α = {ridge_alphas[best]:.1e}")
    ax.set(xlabel="ridge α", ylabel="squared error (averaged over x)",
           title=f"α sweep: degree-12 polynomial ridge, {ntr} fixed x, {R} noise draws")
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, col in ((0, "tab:orange"), (best, "tab:green"), (len(ridge_alphas) - 1, "tab:purple")):
        for r in range(min(R, 20)):
            ax.plot(xgrid, preds[i, r], color=col, alpha=0.25, lw=0.7)
        ax.plot(xgrid, mean_pred[i], color=col, lw=2.5, label=f"α = {ridge_alphas[i]:.0e}: 20 fits (thin), mean (thick)")
    ax.plot(xgrid, truth(xgrid), "k--", lw=2, label="truth sin 2.5x")
    ax.set(ylim=(-2, 2), xlabel="x", ylabel="y", title="Small α: high variance; large α: high bias")
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Regularisation strength as a bias–variance trade-off (Nelson)")
    ctx.savefig(fig, "bias-variance.png")

    verdict = (gd_gap[-1] < 1e-6 and grad_scaled < 1e-8 and grad_printed > 1e-3
               and nnz_lasso[0] == 0 and nnz_enet[0] == 0 and nnz_lasso[-1] == d and xp.all(nnz_ridge == d)
               and fista_gap < 1e-6 and rho_gap < 1e-10 and pair_enet < pair_lasso
               and step_w2_zero == 16 and w1_when_w2_zero == 1.0 and l2_ratio_dev < 1e-12 and l2_min_abs > 0
               and zero_hit and not ridge_axis
               and basis_gap < 1e-8 and rho_bias > 0.9 and rho_var < -0.9 and 0 < best < len(ridge_alphas) - 1)
    return {
        "measured": {
            "ridge_gd_vs_closed_form_max_gap": gd_gap[-1], "ridge_gd_steps": len(gd_gap),
            "nelson_mean_form_gradient_at_printed_closed_form": grad_printed,
            "nelson_mean_form_gradient_at_closed_form_with_alpha_times_m": grad_scaled,
            "alpha_max": amax, "nonzeros_lasso_along_path": nnz_lasso.tolist(), "nonzeros_enet_along_path": nnz_enet.tolist(),
            "nonzeros_ridge_min": int(nnz_ridge.min()), "lasso_cd_vs_fista_max_gap": fista_gap,
            "enet_gamma_form_vs_rho_form_gap": rho_gap, "lasso_entry_order": entry_order,
            "correlated_pair_imbalance_lasso": pair_lasso, "correlated_pair_imbalance_enet": pair_enet,
            "l1_descent_step_w2_exactly_zero": step_w2_zero, "l1_descent_w1_at_that_step": w1_when_w2_zero,
            "l2_descent_ratio_deviation": l2_ratio_dev, "l2_descent_min_abs_coordinate": l2_min_abs,
            "lasso_path_hits_axis": zero_hit, "ridge_path_hits_axis": ridge_axis,
            "basis_regression_vs_path_gap": basis_gap, "ridge_alphas": ridge_alphas.tolist(), "bias2": bias2.tolist(), "variance": var.tolist(),
            "best_alpha": float(ridge_alphas[best]), "spearman_alpha_bias2": rho_bias, "spearman_alpha_variance": rho_var,
        },
        "verdict": bool(verdict),
        "method": f"Sparse truth (4 of {d} features, w0 ≈ w1 correlated, n = {n}). Ridge α = {alpha:g}: shenjing.linear.ridge vs "
                  "optim.SGD on MSE + regularizers.ridge(α/n) (biases unpenalised), gap < 1e-6. Paths by coordinate descent "
                  "with warm starts from α_max (checked against FISTA to 1e-6, Fang's ρ form against Nelson's γ form to 1e-10); "
                  "holds if the L1 paths start with 0 non-zeros and end with all, ridge never has a zero, and the elastic net splits "
                  "the correlated pair more evenly than the lasso at the middle α. Fig. 4-13: autograd descent with step 1/16 from "
                  "(2, 1): ω₂ must be exactly 0 at step 16 with ω₁ = 1 on the l¹ penalty, ω₂/ω₁ = ½ (1e-12) and no zero on l². "
                  f"Bias–variance: {ntr} fixed x in [−1, 1], {R} draws of sin 2.5x + N(0, {sigma}²), degree-12 polynomial ridge "
                  "(bias² corrected by −variance/R); holds if "
                  "Spearman(α, bias²) > 0.9, Spearman(α, variance) < −0.9 and the best α is interior.",
    }
