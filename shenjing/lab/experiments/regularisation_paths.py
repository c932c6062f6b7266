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
from ..core import Check, Experiment, Measurement

N, D = 50, 10  # samples and features of the sparse problem
ALPHA = 10.0  # the ridge α of the closed form vs gradient descent
ETA = 1 / 16  # the step of the descent on the penalty alone (dyadic, so zeros are exact)
N_TR, SIGMA = 25, 0.3  # the bias–variance sweep: training points and noise

EXPERIMENT = Experiment(
    id="regularisation-paths",
    title="Ridge, lasso and elastic net: closed form, paths, geometry and the bias–variance trade-off",
    title_zh="正则化路径: 岭回归、套索回归与弹性网络 (l¹ 菱形与 l² 圆, 偏差-方差权衡)",
    source="Fang §3.2; Nelson (权重衰减正则化, Fig. 4-13, 正则化超参数 α 的作用)",
    claim="The ridge closed form equals gradient descent on the penalised loss; lasso and elastic net set coefficients "
          "exactly to zero as α grows while ridge only shrinks them; descent on the l¹ diamond hits an axis, on the l² circle "
          "it does not; increasing α raises bias and lowers variance.",
    claim_zh="岭回归的闭式解等于在带罚损失上做梯度下降的结果; 随着 α 增大, lasso 和弹性网把系数恰好压成 0, 而岭回归只是收缩;"
             " 在 l¹ 菱形上下降会碰到坐标轴, 在 l² 圆上不会; 增大 α 使偏差上升、方差下降.",
    checks=(
        Check("ridge_gd_vs_closed_form_max_gap", "<", 1e-6, "max |(w, b) of gradient descent − the ridge closed form|",
              what_zh="max |梯度下降的 (w, b) − 岭回归闭式解|"),
        Check("nelson_mean_form_gradient_at_closed_form_with_alpha_times_m", "<", 1e-8,
              "the gradient norm of Nelson's mean-form objective at the closed form with α·m",
              what_zh="Nelson 的均值形式目标在以 α·m 为参数的闭式解处的梯度范数"),
        Check("nelson_mean_form_gradient_at_printed_closed_form", ">", 1e-3, "at the printed closed form with α", what_zh="在以 α 为参数的印刷闭式解处"),
        Check("nonzeros_lasso_at_alpha_max", "==", 0, "the number of non-zero lasso coefficients at α_max", what_zh="α_max 处 lasso 非零系数的个数"),
        Check("nonzeros_enet_at_alpha_max", "==", 0, "of elastic-net coefficients", what_zh="弹性网非零系数的个数"),
        Check("nonzeros_lasso_at_smallest_alpha", "==", D, "of lasso coefficients at the smallest α", what_zh="最小 α 处 lasso 非零系数的个数"),
        Check("nonzeros_ridge_min", "==", D, "the fewest non-zero ridge coefficients along the path", what_zh="沿路径岭回归非零系数的最少个数"),
        Check("lasso_cd_vs_fista_max_gap", "<", 1e-6, "max |coordinate descent − FISTA| on the lasso path", what_zh="lasso 路径上 max |坐标下降 − FISTA|"),
        Check("enet_gamma_form_vs_rho_form_gap", "<", 1e-10, "max |Nelson's γ form − Fang's ρ form| of the elastic net",
              what_zh="弹性网 max |Nelson 的 γ 形式 − Fang 的 ρ 形式|"),
        Check("correlated_pair_imbalance_enet_over_lasso", "<", 1,
              "the mean over the path of |w0 − w1| (the correlated pair) for the elastic net / for the lasso",
              what_zh="沿路径 |w0 − w1| (相关的一对) 的平均: 弹性网 / lasso"),
        Check("l1_descent_step_w2_exactly_zero", "==", 16, "descending ‖w‖₁ from (2, 1) by steps of 1/16, the first step with ω₂ = 0 exactly",
              what_zh="从 (2, 1) 以 1/16 的步长下降 ‖w‖₁ 时, 第一次恰好 ω₂ = 0 的步"),
        Check("l1_descent_w1_at_that_step", "==", 1.0, "ω₁ at that step", what_zh="该步的 ω₁"),
        Check("l2_descent_ratio_deviation", "<", 1e-12, "descending ‖w‖², max |ω₂/ω₁ − ½|", what_zh="下降 ‖w‖² 时 max |ω₂/ω₁ − ½|"),
        Check("l2_descent_min_abs_coordinate", ">", 0, "the smallest |ω_i| on that path", what_zh="该路径上最小的 |ω_i|"),
        Check("lasso_path_points_on_axis", ">", 0, "the number of two-feature lasso solutions on the ω₁ axis", what_zh="两特征 lasso 解落在 ω₁ 轴上的个数"),
        Check("ridge_path_zero_coordinates", "==", 0, "the number of zero coordinates on the ridge path", what_zh="岭路径上为零的坐标个数"),
        Check("basis_regression_vs_path_gap", "<", 1e-8, "max |BasisRegression − the ridge path's prediction|", what_zh="max |BasisRegression − 岭路径的预测|"),
        Check("spearman_alpha_bias2", ">", 0.9, "Spearman's ρ between α and bias²", what_zh="α 与偏差² 之间的 Spearman ρ"),
        Check("spearman_alpha_variance", "<", -0.9, "between α and variance", what_zh="α 与方差之间的"),
        Check("best_alpha_index", ">", 0, "the index of the α of lowest expected test MSE", what_zh="期望测试 MSE 最低的 α 的序号"),
        Check("best_alpha_index_from_largest", ">", 0, "that index counted from the largest α", what_zh="从最大的 α 数起的该序号"),
    ),
)


def spearman(a, b) -> float:
    """Spearman's rank correlation (no ties)."""
    ra, rb = xp.argsort(xp.argsort(a)), xp.argsort(xp.argsort(b))
    return float(xp.corrcoef(ra, rb)[0, 1])


def sparse_data(rng) -> tuple:
    """N × D standard normal features, w0 and w1 strongly correlated (r ≈ 0.96); y = Xβ + 3 + N(0, 0.5²) with 4 non-zero β_j."""
    X = rng.standard_normal((N, D))
    X[:, 1] = X[:, 0] + 0.3 * rng.standard_normal(N)
    beta = xp.zeros(D)
    beta[[0, 1, 4, 7]] = [1.5, 1.5, -2.0, 1.0]
    return X, X @ beta + 3.0 + 0.5 * rng.standard_normal(N), beta


def ridge_gd_gaps(X, y, steps: int = 3000) -> list[float]:
    """optim.SGD (lr 0.1) on MSE + regularizers.ridge(α/n), which skips biases: after each step,
    max |(w, b) − the closed form|; stops once below 1e-10."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import linear as L
    from shenjing import nn, optim
    from shenjing.optim import regularizers

    target = xp.append(*L.ridge(X, y, ALPHA))
    model = nn.Linear(D, 1, dtype=sj.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = sj.tensor(X), sj.tensor(y[:, None])
    gaps = []
    for _ in range(steps):
        opt.zero_grad()
        # (1/n)(‖y − Xw − b‖² + α‖w‖²): the same minimiser as the closed form
        (F.mse_loss(model(Xt), yt) + regularizers.ridge(model, ALPHA / N)).backward()
        opt.step()
        gaps.append(float(xp.abs(xp.append(model.weight.detach().numpy().ravel(), model.bias.detach().numpy()) - target).max()))
        if gaps[-1] < 1e-10:
            break
    return gaps


def nelson_mean_form_gradients(X, y) -> tuple[float, float]:
    """‖∇‖ of Nelson's printed (1/m)‖Xw − y‖² + α‖w‖² (centred data) at the closed form with α and with α·m."""
    from shenjing import linear as L

    Xc, yc = X - X.mean(0), y - y.mean()

    def grad_norm(w) -> float:
        return float(xp.linalg.norm(2 / N * Xc.T @ (Xc @ w - yc) + 2 * ALPHA * w))

    return grad_norm(L.ridge(X, y, ALPHA)[0]), grad_norm(L.ridge(X, y, ALPHA * N)[0])


def coefficient_paths(X, y, n_alpha: int) -> dict:
    """Lasso, elastic-net (γ = 0.5) and ridge paths by coordinate descent with warm starts from the
    elastic net's α_max, with FISTA and Fang's ρ form at three interior α as cross-checks."""
    from shenjing import linear as L

    amax = L.alpha_max(X, y, gamma=0.5) * (1 + 1e-6)  # the elastic net's α_max (2× the lasso's at γ = 0.5)
    alphas = amax * xp.logspace(0, -4.3, n_alpha)
    tol = 1e-9
    P = {"lasso": L.regularization_path(X, y, alphas, "lasso", tol=tol), "enet": L.regularization_path(X, y, alphas, "elastic_net", gamma=0.5, tol=tol),
         "ridge": L.regularization_path(X, y, alphas, "ridge")}
    idx = xp.linspace(0, n_alpha - 1, 5).astype(int)[1:-1]
    fista_gap = max(float(xp.abs(L.lasso(X, y, alphas[i], solver="fista", tol=1e-11, max_iter=100_000)[0] - P["lasso"][i]).max()) for i in idx)
    # Fang's ρ form gives the same path as Nelson's γ form with λ = α/2, ρ = 1 − γ
    rho_gap = max(float(xp.abs(L.elastic_net_rho(X, y, alphas[i] / 2, 0.5, tol=tol)[0] - L.elastic_net(X, y, alphas[i], 0.5, tol=tol)[0]).max())
                  for i in idx)
    return {"alpha_max": amax, "alphas": alphas, "paths": P, "nnz": {k: (v != 0).sum(1) for k, v in P.items()},
            "fista_gap": fista_gap, "rho_gap": rho_gap}


def penalty_descent(steps: int = 48) -> dict:
    """Fig. 4-13: gradient descent (autograd, step ETA) on ‖w‖₁ and on ‖w‖² alone from (2, 1)."""
    import shenjing as sj
    from shenjing.optim import regularizers

    paths = {}
    for name, pen in (("l1", regularizers.lasso), ("l2", regularizers.ridge)):
        w = sj.tensor([2.0, 1.0], dtype=sj.float64, requires_grad=True)
        hist = [w.detach().numpy().copy()]
        for _ in range(steps):
            g = sj.autograd.grad(pen([w], 1.0), [w])[0]
            with sj.no_grad():
                w -= ETA * g
            hist.append(w.detach().numpy().copy())
        paths[name] = xp.array(hist)
    return paths


def two_feature_paths(rng) -> dict:
    """Two correlated features: least squares, and the lasso and ridge (α × 5) solution paths over 120 α."""
    from shenjing import linear as L

    X2 = rng.standard_normal((40, 2)) @ xp.array([[1.0, 0.0], [0.6, 0.8]])  # correlated features: tilted ellipses
    y2 = X2 @ xp.array([1.6, 0.7]) + 0.2 * rng.standard_normal(40)
    a2 = L.alpha_max(X2, y2) * xp.logspace(0, -3, 120)
    path_l1, path_l2 = L.regularization_path(X2, y2, a2, "lasso"), L.regularization_path(X2, y2, a2 * 5, "ridge")
    on_axis = xp.nonzero((path_l1[:, 1] == 0) & (path_l1[:, 0] != 0))[0]
    k1 = int(on_axis[len(on_axis) // 2]) if len(on_axis) else len(a2) // 2
    k2 = int(xp.argmin(xp.abs(xp.linalg.norm(path_l2, axis=1) - xp.linalg.norm(path_l1[k1]))))  # the ridge point of equal norm
    return {"X": X2, "y": y2, "ols": L.ols(X2, y2, fit_intercept=True)[0], "l1": path_l1, "l2": path_l2, "on_axis": len(on_axis),
            "ridge_zeros": int((path_l2 == 0).sum()), "k1": k1, "k2": k2}


def truth(x):
    """The bias–variance target sin 2.5x."""
    return xp.sin(2.5 * x)


def bias_variance(rng, R: int, n_alphas: int) -> dict:
    """Ridge on a degree-12 polynomial basis (intercept unpenalised), N_TR fixed x in [−1, 1], ``R``
    noise draws: bias² (corrected by −variance/R, the Monte Carlo share) and variance per α."""
    from shenjing import linear as L

    xs, xgrid = xp.linspace(-1, 1, N_TR), xp.linspace(-1, 1, 101)
    basis = L.PolynomialBasis(12, domain=(-1, 1))
    Phi, Phi_grid = basis(xs)[:, 1:], basis(xgrid)[:, 1:]
    alphas = xp.logspace(-5, 2, n_alphas)
    preds = xp.zeros((n_alphas, R, len(xgrid)))
    for r in range(R):
        ys = truth(xs) + SIGMA * rng.standard_normal(N_TR)
        coefs = L.regularization_path(Phi, ys, alphas, "ridge")  # (n_alpha, 12)
        preds[:, r] = coefs @ Phi_grid.T + (ys.mean() - coefs @ Phi.mean(0))[:, None]
    check = L.BasisRegression(basis, alpha=alphas[3]).fit(xs, ys).predict(xgrid)
    var = preds.var(1).mean(1)
    bias2 = ((preds.mean(1) - truth(xgrid)) ** 2).mean(1) - var / R
    return {"alphas": alphas, "xgrid": xgrid, "preds": preds, "var": var, "bias2": bias2, "test": bias2 + var + SIGMA ** 2,
            "basis_gap": float(xp.abs(check - preds[3, -1]).max())}


def measure(ctx) -> Measurement:
    rng = ctx.rng
    X, y, beta = sparse_data(rng)
    gd_gap = ridge_gd_gaps(X, y)
    grad_printed, grad_scaled = nelson_mean_form_gradients(X, y)
    cp = coefficient_paths(X, y, 25 if ctx.quick else 80)
    P, nnz, mid = cp["paths"], cp["nnz"], len(cp["alphas"]) // 2
    entry = [xp.argmax(P["lasso"][:, j] != 0) if xp.any(P["lasso"][:, j] != 0) else len(cp["alphas"]) for j in range(D)]
    pair = {k: xp.abs(P[k][:, 0] - P[k][:, 1]) for k in ("lasso", "enet")}  # how unevenly each splits the correlated pair
    pair_lasso, pair_enet = float(pair["lasso"].mean()), float(pair["enet"].mean())
    desc = penalty_descent()
    p1, p2 = desc["l1"], desc["l2"]
    step_w2_zero = int(xp.argmax(p1[:, 1] == 0.0))
    geo = two_feature_paths(rng)
    R = 200 if ctx.quick else 1000
    bv = bias_variance(rng, R, 15 if ctx.quick else 29)
    best = int(xp.argmin(bv["test"]))
    measured = {
        "ridge_gd_vs_closed_form_max_gap": gd_gap[-1], "ridge_gd_steps": len(gd_gap),
        "nelson_mean_form_gradient_at_printed_closed_form": grad_printed, "nelson_mean_form_gradient_at_closed_form_with_alpha_times_m": grad_scaled,
        "alpha_max": cp["alpha_max"], "nonzeros_lasso_along_path": nnz["lasso"].tolist(), "nonzeros_enet_along_path": nnz["enet"].tolist(),
        "nonzeros_lasso_at_alpha_max": int(nnz["lasso"][0]), "nonzeros_enet_at_alpha_max": int(nnz["enet"][0]),
        "nonzeros_lasso_at_smallest_alpha": int(nnz["lasso"][-1]), "nonzeros_ridge_min": int(nnz["ridge"].min()),
        "lasso_cd_vs_fista_max_gap": cp["fista_gap"], "enet_gamma_form_vs_rho_form_gap": cp["rho_gap"],
        "lasso_entry_order": [int(j) for j in xp.argsort(entry)],
        "correlated_pair_imbalance_lasso": pair_lasso, "correlated_pair_imbalance_enet": pair_enet,
        "correlated_pair_imbalance_at_middle_alpha": {k: float(v[mid]) for k, v in pair.items()},
        "correlated_pair_imbalance_enet_over_lasso": pair_enet / pair_lasso if pair_lasso else float("nan"),
        "l1_descent_step_w2_exactly_zero": step_w2_zero, "l1_descent_w1_at_that_step": float(p1[step_w2_zero, 0]),
        "l2_descent_ratio_deviation": float(xp.abs(p2[:-1, 1] / p2[:-1, 0] - 0.5).max()), "l2_descent_min_abs_coordinate": float(xp.abs(p2).min()),
        "lasso_path_hits_axis": geo["on_axis"] > 0, "ridge_path_hits_axis": geo["ridge_zeros"] > 0,
        "lasso_path_points_on_axis": geo["on_axis"], "ridge_path_zero_coordinates": geo["ridge_zeros"],
        "basis_regression_vs_path_gap": bv["basis_gap"], "ridge_alphas": bv["alphas"].tolist(), "bias2": bv["bias2"].tolist(),
        "variance": bv["var"].tolist(), "best_alpha": float(bv["alphas"][best]), "best_alpha_index": best,
        "best_alpha_index_from_largest": len(bv["alphas"]) - 1 - best,
        "spearman_alpha_bias2": spearman(bv["alphas"], bv["bias2"]), "spearman_alpha_variance": spearman(bv["alphas"], bv["var"]),
    }
    method = (f"Sparse truth (4 of {D} features non-zero, w0 and w1 correlated, n = {N}). Ridge α = {ALPHA:g}: shenjing.linear.ridge against "
              "optim.SGD (lr 0.1) on MSE + regularizers.ridge(α/n) (biases unpenalised); Nelson's mean-form objective differentiated "
              f"at the closed form with α and with α·m. Lasso, elastic-net (γ = 0.5) and ridge paths over {len(cp['alphas'])} α from "
              "α_max by coordinate descent with warm starts (FISTA and Fang's ρ form at three interior α as cross-checks). Fig. 4-13: "
              f"{len(p1) - 1} autograd descent steps on each penalty alone from (2, 1); two correlated features: lasso and ridge "
              f"solution paths over 120 α. Bias–variance: {N_TR} fixed x in [−1, 1], {R} draws of sin 2.5x + N(0, {SIGMA}²), "
              f"degree-12 polynomial ridge over {len(bv['alphas'])} α from 1e-5 to 100 (bias² corrected by −variance/R).")
    data = {"beta": beta, "gd_gap": gd_gap, "cp": cp, "desc": desc, "geo": geo, "bv": bv, "best": best, "R": R}
    return Measurement(measured, method, data=data)


def figures(ctx, m: Measurement) -> None:
    figure_paths(ctx, m)
    figure_geometry(ctx, m)
    figure_bias_variance(ctx, m)


def figure_paths(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    cp, beta = m.data["cp"], m.data["beta"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5), layout="constrained")
    axes = axes.ravel()
    la = xp.log10(cp["alphas"])
    for ax, key, name in ((axes[0], "lasso", "Lasso α‖w‖₁"), (axes[1], "enet", "Elastic net (γ = 0.5): γα‖w‖² + (1 − γ)α‖w‖₁"),
                          (axes[2], "ridge", "Ridge α‖w‖²")):
        for j in range(D):
            ax.plot(la, cp["paths"][key][:, j], "-" if beta[j] != 0 else ":", lw=1.6 if j < 2 else 1.0,
                    label=f"w{j} (true {beta[j]:g})" if ax is axes[0] else None)
        ax.set(xlabel="log₁₀ α (from the elastic net's α_max)", ylabel="coefficient", title=name)
        ax.invert_xaxis()
        tw = ax.twinx()
        tw.step(la, cp["nnz"][key], "k--", where="mid", alpha=0.5)
        tw.set_ylabel("number of non-zero coefficients (dashed)")
        tw.set_ylim(-0.5, D + 0.5)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=10, fontsize=8)
    ax = axes[3]
    ax.semilogy(m.data["gd_gap"], label=f"GD (η = 0.1) on MSE + ridge(α/n), α = {ALPHA:g}")
    ax.axhline(1e-6, color="k", ls=":", label="1e-6")
    ax.set(xlabel="gradient-descent step", ylabel="max |(w, b) − closed form|", title="Ridge: closed form vs gradient descent")
    ax.legend(fontsize=8)
    fig.suptitle("Regularisation paths (solid: informative features, dotted: noise features; w0 and w1 are correlated)")
    ctx.savefig(fig, "paths.png")


def figure_geometry(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(14, 6.2), layout="constrained")
    plot_penalty_descent(axes[0], m)
    plot_balls_and_contours(axes[1], m.data["geo"])
    fig.suptitle("l¹ diamond vs l² circle (Nelson Fig. 4-13)")
    ctx.savefig(fig, "geometry.png")


def plot_penalty_descent(ax, m: Measurement) -> None:
    """The l¹ and l² level sets and the descent paths on each penalty alone."""
    p1, p2 = m.data["desc"]["l1"], m.data["desc"]["l2"]
    g = xp.linspace(-2.5, 2.5, 301)
    G1, G2 = xp.meshgrid(g, g)
    ax.contour(G1, G2, xp.abs(G1) + xp.abs(G2), levels=[0.5, 1, 1.5, 2, 2.5, 3], colors="tab:red", linewidths=0.7, alpha=0.6)
    ax.contour(G1, G2, G1**2 + G2**2, levels=[0.25, 1, 2.25, 4, 6.25], colors="tab:blue", linewidths=0.7, alpha=0.6)
    ax.plot(p1[:, 0], p1[:, 1], "o-", color="tab:red", ms=3, label=f"GD on ‖w‖₁: ω₂ = 0 exactly at step "
            f"{m.measured['l1_descent_step_w2_exactly_zero']} (ω₁ = {m.measured['l1_descent_w1_at_that_step']:g})")
    ax.plot(p2[:, 0], p2[:, 1], "s-", color="tab:blue", ms=3, label="GD on ‖w‖²: straight to 0, ω₂/ω₁ = ½ throughout")
    ax.plot(2, 1, "k*", ms=12, label="start (2, 1)")
    ax.plot([], [], color="tab:red", lw=0.7, label="l¹ level sets (diamonds)")
    ax.plot([], [], color="tab:blue", lw=0.7, label="l² level sets (circles)")
    ax.set(xlim=(-0.5, 2.5), ylim=(-0.5, 1.5), aspect="equal", xlabel="ω₁", ylabel="ω₂", title=f"Fig. 4-13: descent on the penalty alone (step {ETA})")
    ax.legend(fontsize=8, loc="upper left")


def plot_balls_and_contours(ax, geo: dict) -> None:
    """Two correlated features: loss contours meeting the l¹ ball at a corner and the l² ball off the axes."""
    path_l1, path_l2, k1, k2 = geo["l1"], geo["l2"], geo["k1"], geo["k2"]
    g = xp.linspace(-1.2, 2.4, 241)
    G1, G2 = xp.meshgrid(g, g)
    Xc, yc = geo["X"] - geo["X"].mean(0), geo["y"] - geo["y"].mean()
    loss = ((G1[..., None] * Xc[:, 0] + G2[..., None] * Xc[:, 1] - yc) ** 2).sum(-1)

    def loss_at(w) -> float:
        r = Xc @ w - yc
        return float(r @ r)

    ax.contour(G1, G2, loss, levels=loss.min() + xp.geomspace(1, 300, 8), colors="gray", linewidths=0.6)
    ax.contour(G1, G2, loss, levels=[loss_at(path_l1[k1])], colors="tab:red", linewidths=1.2, linestyles="--")
    ax.contour(G1, G2, loss, levels=[loss_at(path_l2[k2])], colors="tab:blue", linewidths=1.2, linestyles="--")
    t1, t2 = float(xp.abs(path_l1[k1]).sum()), float(xp.linalg.norm(path_l2[k2]))
    ax.fill(xp.array([t1, 0, -t1, 0]), xp.array([0, t1, 0, -t1]), color="tab:red", alpha=0.15, label=f"l¹ ball |w₁| + |w₂| ≤ {t1:.2f}")
    th = xp.linspace(0, 2 * xp.pi, 200)
    ax.fill(t2 * xp.cos(th), t2 * xp.sin(th), color="tab:blue", alpha=0.15, label=f"l² ball ‖w‖ ≤ {t2:.2f}")
    ax.plot(path_l1[:, 0], path_l1[:, 1], "-", color="tab:red", lw=2, label="lasso solutions as α grows")
    ax.plot(path_l2[:, 0], path_l2[:, 1], "-", color="tab:blue", lw=2, label="ridge solutions as α grows")
    ax.plot(*path_l1[k1], "o", color="tab:red", ms=9, label=f"lasso: w = ({path_l1[k1][0]:.2f}, {path_l1[k1][1]:g}) at a corner")
    ax.plot(*path_l2[k2], "o", color="tab:blue", ms=9, label=f"ridge: w = ({path_l2[k2][0]:.2f}, {path_l2[k2][1]:.2f})")
    ax.plot(*geo["ols"], "k*", ms=12, label="least squares (α = 0); grey: loss contours")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(aspect="equal", xlabel="w₁", ylabel="w₂", xlim=(-1.2, 2.4), ylim=(-1.2, 2.4),
           title="Loss contour (dashed) meets the diamond at a corner, the circle off the axes")
    ax.legend(fontsize=7.5, loc="upper left")


def figure_bias_variance(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    bv, best, R = m.data["bv"], m.data["best"], m.data["R"]
    alphas, xgrid, preds = bv["alphas"], bv["xgrid"], bv["preds"]
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
    ax = axes[0]
    ax.loglog(alphas, xp.maximum(bv["bias2"], 1e-5), "o-", label="bias² (values below 1e-5 drawn at 1e-5)")
    ax.loglog(alphas, bv["var"], "s-", label="variance")
    ax.loglog(alphas, bv["test"] - SIGMA**2, "k-", lw=2, label="expected test MSE − σ² (= bias² + variance)")
    ax.axvline(alphas[best], color="gray", ls=":", label=f"best α = {alphas[best]:.1e}")
    ax.set(xlabel="ridge α", ylabel="squared error (averaged over x)", title=f"α sweep: degree-12 polynomial ridge, {N_TR} fixed x, {R} noise draws")
    ax.legend(fontsize=8)
    ax = axes[1]
    mean_pred = preds.mean(1)
    for i, col in ((0, "tab:orange"), (best, "tab:green"), (len(alphas) - 1, "tab:purple")):
        for r in range(min(R, 20)):
            ax.plot(xgrid, preds[i, r], color=col, alpha=0.25, lw=0.7)
        ax.plot(xgrid, mean_pred[i], color=col, lw=2.5, label=f"α = {alphas[i]:.0e}: 20 fits (thin), mean (thick)")
    ax.plot(xgrid, truth(xgrid), "k--", lw=2, label="truth sin 2.5x")
    ax.set(ylim=(-2, 2), xlabel="x", ylabel="y", title="Small α: high variance; large α: high bias")
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Regularisation strength as a bias–variance trade-off (Nelson)")
    ctx.savefig(fig, "bias-variance.png")
