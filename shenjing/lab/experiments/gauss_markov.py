"""gauss-markov: OLS is unbiased and has the least variance among linear unbiased estimators (Xu Thm 1).

Theorem 1 (Gauss–Markov): for Y = Xβ + ε with E ε = 0, Var ε = σ²I and XᵀX invertible, (i) the least-
squares β̂ = (XᵀX)⁻¹XᵀY has E β̂ = β and (ii) Var β̂ ≤ Var β̃ for every linear unbiased β̃ = CY (CX = I),
in the matrix sense: Var β̃ − Var β̂ = σ²DDᵀ ⪰ 0 with D = C − (XᵀX)⁻¹Xᵀ.

Monte Carlo on a fixed design: many noise draws, β̂ by shenjing.linear.ols with all draws as columns of
Y, and three other linear unbiased estimators — weighted least squares with arbitrary weights, OLS
on half of the rows, and OLS plus a random D with DX = 0 — under Gaussian noise and under uniform
noise (the theorem needs no normality). Ridge regression is added as a biased linear estimator:
it can have less variance, which is why "unbiased" is part of the theorem.
"""

from __future__ import annotations

from ...backend import xp
from ..core import experiment


def _ellipse(ax, mean, cov, **kw):
    vals, vecs = xp.linalg.eigh(cov)
    t = xp.linspace(0, 2 * xp.pi, 100)
    pts = (vecs @ (2 * xp.sqrt(vals)[:, None] * xp.stack([xp.cos(t), xp.sin(t)]))).T + mean
    ax.plot(pts[:, 0], pts[:, 1], **kw)


@experiment(
    id="gauss-markov",
    title="Gauss–Markov: least squares is the best linear unbiased estimator",
    title_zh="高斯-马尔可夫定理: 最小二乘是最佳线性无偏估计 (BLUE)",
    source="Xu §1.2.1, Theorem 1 (eq. 1.13–1.15)",
    claim="Under Y = Xβ + ε with zero-mean, equal-variance, uncorrelated errors, the least-squares estimate is unbiased and "
          "every other linear unbiased estimator CY has at least its variance.",
)
def run(ctx) -> dict:
    import shenjing as sj
    from shenjing import linear as L
    from shenjing.viz.plots import _plt

    n, R, sigma = 30, (4000 if ctx.quick else 40000), 1.0
    x = ctx.rng.uniform(-2, 2, (n, 2))
    X = xp.hstack([xp.ones((n, 1)), x])  # intercept column + 2 features
    beta = xp.array([1.0, 2.0, -0.5])
    XtX_inv = xp.linalg.inv(X.T @ X)
    P = XtX_inv @ X.T  # OLS as a linear map Y ↦ β̂

    # other linear unbiased estimators C with CX = I
    w = ctx.rng.uniform(0.1, 5.0, n)
    C_wls = xp.linalg.solve(X.T @ (w[:, None] * X), (w[:, None] * X).T)
    half = n // 2
    C_half = xp.zeros((3, n))
    C_half[:, :half] = xp.linalg.pinv(X[:half])
    H = X @ P
    C_pert = P + 0.03 * ctx.rng.standard_normal((3, n)) @ (xp.eye(n) - H)
    alpha = 5.0
    C_ridge = xp.linalg.solve(X.T @ X + alpha * xp.diag([0.0, 1.0, 1.0]), X.T)  # ridge, intercept unpenalised
    estimators = {"OLS (XᵀX)⁻¹Xᵀ": P, "weighted LS, arbitrary weights": C_wls, "OLS on half the rows": C_half,
                  "OLS + D, DX = 0": C_pert, "ridge α = 5 (biased)": C_ridge}
    unbiased_names = list(estimators)[:4]

    # exact linear algebra: CX = I and C Cᵀ − (XᵀX)⁻¹ = DDᵀ ⪰ 0
    cx_err = {k: float(xp.abs(C @ X - xp.eye(3)).max()) for k, C in estimators.items()}
    min_eig = {k: float(xp.linalg.eigvalsh(C @ C.T - XtX_inv).min()) for k, C in estimators.items()}

    results = {}
    samples = {}
    for noise in ("gaussian", "uniform"):
        if noise == "gaussian":
            E = sigma * ctx.rng.standard_normal((n, R))
        else:
            E = sigma * xp.sqrt(3.0) * ctx.rng.uniform(-1, 1, (n, R))  # variance σ²
        Y = X @ beta[:, None] + E
        # OLS for all R draws at once, through shenjing (Y's columns are R targets)
        B_ols = L.ols(sj.tensor(X), sj.tensor(Y), method="qr")[0].numpy().T  # (R, 3)
        res = {}
        for k, C in estimators.items():
            B = B_ols if k == unbiased_names[0] else (C @ Y).T
            mean, cov = B.mean(0), xp.cov(B.T)
            se = xp.sqrt(xp.diag(cov) / R)
            res[k] = {"mean": mean, "cov": cov, "z_bias": xp.abs(mean - beta) / se, "var": xp.diag(cov)}
            if noise == "gaussian":
                samples[k] = B
        results[noise] = res
    ols_cov_theory = sigma**2 * XtX_inv

    # ---- verdicts
    checks = {}
    for noise, res in results.items():
        ols = res[unbiased_names[0]]
        checks[f"{noise}_ols_max_bias_z"] = float(ols["z_bias"].max())
        checks[f"{noise}_ols_cov_rel_error"] = float(xp.abs(ols["cov"] - ols_cov_theory).max() / xp.abs(ols_cov_theory).max())
        checks[f"{noise}_alternatives_max_bias_z"] = float(max(res[k]["z_bias"].max() for k in unbiased_names[1:]))
        checks[f"{noise}_min_variance_ratio_alt_over_ols"] = float(min((res[k]["var"] / ols["var"]).min() for k in unbiased_names[1:]))
        checks[f"{noise}_ridge_max_bias_z"] = float(res["ridge α = 5 (biased)"]["z_bias"].max())
        checks[f"{noise}_ridge_variance_ratio_slopes"] = (res["ridge α = 5 (biased)"]["var"] / ols["var"])[1:].tolist()
        # empirical Loewner order: Cov(alt) − Cov(OLS) has no eigenvalue below −(4 MC standard errors)
        tol = 4 * float(xp.abs(ols["cov"]).max()) * (2.0 / R) ** 0.5
        checks[f"{noise}_min_eig_cov_alt_minus_ols"] = float(min(xp.linalg.eigvalsh(res[k]["cov"] - ols["cov"]).min() for k in unbiased_names[1:]))
        checks[f"{noise}_eig_tolerance"] = tol

    # ---- figures
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.2), layout="constrained")
    ax = axes[0]
    colors = dict(zip(estimators, ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red"]))
    m = min(R, 1500)
    for k in ["OLS on half the rows", "weighted LS, arbitrary weights", unbiased_names[0], "ridge α = 5 (biased)"]:
        B = samples[k]
        ax.scatter(B[:m, 1], B[:m, 2], s=2, alpha=0.25, color=colors[k])
        _ellipse(ax, B[:, 1:].mean(0), xp.cov(B[:, 1:].T), color=colors[k], lw=2, label=f"{k}: 2σ ellipse")
    ax.plot(beta[1], beta[2], "k*", ms=14, label="true (β₁, β₂)")
    ax.set(xlabel="estimate of β₁ (true 2)", ylabel="estimate of β₂ (true −0.5)",
           title=f"{R} noise draws, Gaussian ε: estimates of (β₁, β₂)")
    ax.legend(fontsize=7, loc="upper right")
    ax = axes[1]
    width = 0.2
    for i, noise in enumerate(("gaussian", "uniform")):
        res = results[noise]
        for j, k in enumerate(estimators):
            ratio = res[k]["var"] / res[unbiased_names[0]]["var"]
            ax.bar(xp.arange(3) + (j - 2) * width * 0.9 + i * 4, ratio, width * 0.85, color=colors[k],
                   label=k if i == 0 else None, hatch="//" if k.startswith("ridge") else None)
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.set_xticks([0, 1, 2, 4, 5, 6])
    ax.set_xticklabels(["β₀", "β₁", "β₂", "β₀", "β₁", "β₂"])
    top = ax.get_ylim()[1] * 1.35
    ax.set_ylim(0, top)
    ax.text(1, top * 0.96, "Gaussian ε", ha="center", va="top", fontsize=9)
    ax.text(5, top * 0.96, "uniform ε", ha="center", va="top", fontsize=9)
    ax.set(ylabel="Var(estimate) / Var(OLS)", title="Variance relative to OLS (dashed: 1)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.93))
    ax = axes[2]
    bins = xp.linspace(1.2, 2.8, 60)
    for k in [unbiased_names[0], "OLS on half the rows", "ridge α = 5 (biased)"]:
        ax.hist(samples[k][:, 1], bins=bins, histtype="step", lw=1.5, color=colors[k], density=True,
                label=f"{k}: mean {samples[k][:, 1].mean():.3f}, sd {samples[k][:, 1].std():.3f}")
    ax.axvline(beta[1], color="k", ls="--", label="true β₁ = 2")
    ax.set(xlabel="estimate of β₁", ylabel="density", title="Unbiased vs biased: ridge trades bias for variance")
    ax.legend(fontsize=7)
    fig.suptitle("Gauss–Markov theorem by Monte Carlo (Xu Theorem 1)")
    ctx.savefig(fig, "gauss-markov.png")

    exact_ok = all(cx_err[k] < 1e-10 and min_eig[k] > -1e-12 for k in unbiased_names)
    mc_ok = all(checks[f"{s}_ols_max_bias_z"] < 4 and checks[f"{s}_alternatives_max_bias_z"] < 4
                and checks[f"{s}_min_variance_ratio_alt_over_ols"] > 1.0
                and checks[f"{s}_min_eig_cov_alt_minus_ols"] > -checks[f"{s}_eig_tolerance"]
                and checks[f"{s}_ols_cov_rel_error"] < 0.1 for s in ("gaussian", "uniform"))
    ridge_ok = checks["gaussian_ridge_max_bias_z"] > 4 and max(checks["gaussian_ridge_variance_ratio_slopes"]) < 1.0
    return {
        "measured": {
            "draws": R, "n": n, "CX_minus_I_max": cx_err, "min_eig_CCt_minus_XtX_inv": min_eig, **checks,
            "ols_variance_theory": xp.diag(ols_cov_theory).tolist(),
            "ols_variance_measured_gaussian": results["gaussian"][unbiased_names[0]]["var"].tolist(),
        },
        "verdict": bool(exact_ok and mc_ok and ridge_ok),
        "method": f"Fixed design (n = {n}, intercept + 2 uniform features), β = (1, 2, −0.5), σ = 1, {R} draws of Gaussian and of "
                  "uniform noise; β̂ = shenjing.linear.ols(X, Y) with the draws as columns. Holds if: (exact) each alternative C has "
                  "CX = I to 1e-10 and CCᵀ − (XᵀX)⁻¹ ⪰ 0 (eigenvalues > −1e-12); (Monte Carlo) OLS and the alternatives have "
                  "|mean − β| < 4 standard errors, OLS's covariance is within 10% of σ²(XᵀX)⁻¹, every alternative's variance per "
                  "coefficient exceeds OLS's and Cov(alt) − Cov(OLS) has no eigenvalue below −4 MC errors; ridge is biased (> 4 "
                  "standard errors) with smaller slope variance.",
    }
