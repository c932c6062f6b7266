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
from ..core import Check, Experiment, Measurement

OLS, RIDGE = "OLS (XᵀX)⁻¹Xᵀ", "ridge α = 5 (biased)"
#: the linear unbiased estimators (CX = I), OLS first
UNBIASED = (OLS, "weighted LS, arbitrary weights", "OLS on half the rows", "OLS + D, DX = 0")
NOISES = ("gaussian", "uniform")
BETA = (1.0, 2.0, -0.5)

EXPERIMENT = Experiment(
    id="gauss-markov",
    title="Gauss–Markov: least squares is the best linear unbiased estimator",
    title_zh="高斯-马尔可夫定理: 最小二乘是最佳线性无偏估计 (BLUE)",
    source="Xu §1.2.1, Theorem 1 (eq. 1.13–1.15)",
    claim="Under Y = Xβ + ε with zero-mean, equal-variance, uncorrelated errors, the least-squares estimate is unbiased and "
          "every other linear unbiased estimator CY has at least its variance.",
    claim_zh="在 Y = Xβ + ε 且误差零均值、同方差、不相关时, 最小二乘估计是无偏的, 而任何其他线性无偏估计 CY 的方差都不小于它 "
             "(Gauss–Markov 定理).",
    checks=(
        Check("CX_minus_I_max", "<", 1e-10, "(exact) for OLS and each alternative C, max |CX − I|", what_zh="(精确) 对 OLS 和每个备选 C, max |CX − I|"),
        Check("min_eig_CCt_minus_XtX_inv", ">", -1e-12, "the smallest eigenvalue of CCᵀ − (XᵀX)⁻¹", what_zh="CCᵀ − (XᵀX)⁻¹ 的最小特征值"),
        Check("ols_max_bias_z", "<", 4, "(Monte Carlo, Gaussian and uniform noise) OLS's largest |mean − β| in standard errors",
              what_zh="(蒙特卡洛, 高斯与均匀噪声) OLS 最大的 |均值 − β|, 以标准误计"),
        Check("alternatives_max_bias_z", "<", 4, "the alternatives' largest |mean − β| in standard errors", what_zh="各备选估计最大的 |均值 − β|, 以标准误计"),
        Check("ols_cov_rel_error", "<", 0.1, "max |Cov(OLS) − σ²(XᵀX)⁻¹| relative to the largest entry of σ²(XᵀX)⁻¹",
              what_zh="max |Cov(OLS) − σ²(XᵀX)⁻¹| 相对 σ²(XᵀX)⁻¹ 最大元素的比值"),
        Check("min_variance_ratio_alt_over_ols", ">", 1.0, "the smallest ratio Var(alternative)/Var(OLS) of a coefficient",
              what_zh="某个系数的 Var(备选)/Var(OLS) 的最小值"),
        Check("min_eig_cov_alt_minus_ols_in_mc_errors", ">", -4,
              "the smallest eigenvalue of Cov(alternative) − Cov(OLS) divided by the Monte Carlo error max|Cov(OLS)|·√(2/R)",
              what_zh="Cov(备选) − Cov(OLS) 的最小特征值除以蒙特卡洛误差 max|Cov(OLS)|·√(2/R)"),
        Check("ridge_max_bias_z.gaussian", ">", 4, "ridge's largest |mean − β| in standard errors (Gaussian noise)",
              what_zh="岭估计最大的 |均值 − β|, 以标准误计 (高斯噪声)"),
        Check("ridge_variance_ratio_slopes.gaussian", "<", 1.0, "ridge's variance of each slope relative to OLS's",
              what_zh="岭估计每个斜率的方差相对 OLS 的比值"),
    ),
)


def linear_estimators(X, rng) -> dict:
    """The estimators as matrices C (β̃ = CY): OLS, the three other linear unbiased ones and ridge."""
    n = len(X)
    P = xp.linalg.inv(X.T @ X) @ X.T  # OLS as a linear map Y ↦ β̂
    w = rng.uniform(0.1, 5.0, n)
    C_wls = xp.linalg.solve(X.T @ (w[:, None] * X), (w[:, None] * X).T)
    C_half = xp.zeros((3, n))
    C_half[:, :n // 2] = xp.linalg.pinv(X[:n // 2])
    C_pert = P + 0.03 * rng.standard_normal((3, n)) @ (xp.eye(n) - X @ P)
    C_ridge = xp.linalg.solve(X.T @ X + 5.0 * xp.diag([0.0, 1.0, 1.0]), X.T)  # ridge, intercept unpenalised
    return dict(zip(UNBIASED + (RIDGE,), (P, C_wls, C_half, C_pert, C_ridge)))


def draw_estimates(X, beta, estimators: dict, R: int, noise: str, rng, sigma: float = 1.0) -> dict:
    """R draws of Y = Xβ + ε (ε Gaussian or uniform with variance σ²) as the columns of one matrix;
    every estimator's R estimates, shape (R, 3). OLS goes through shenjing.linear.ols (QR)."""
    import shenjing as sj
    from shenjing import linear as L

    n = len(X)
    if noise == "gaussian":
        E = sigma * rng.standard_normal((n, R))
    else:
        E = sigma * xp.sqrt(3.0) * rng.uniform(-1, 1, (n, R))  # variance σ²
    Y = X @ beta[:, None] + E
    B_ols = L.ols(sj.tensor(X), sj.tensor(Y), method="qr")[0].numpy().T
    return {k: B_ols if k == OLS else (C @ Y).T for k, C in estimators.items()}


def moments(B, beta) -> dict:
    """Mean, covariance, per-coefficient variance and |mean − β| in standard errors of R estimates."""
    R = len(B)
    mean, cov = B.mean(0), xp.cov(B.T)
    return {"mean": mean, "cov": cov, "var": xp.diag(cov), "z_bias": xp.abs(mean - beta) / xp.sqrt(xp.diag(cov) / R)}


def summary(res: dict, cov_theory, R: int) -> dict:
    """The numbers the theorem is checked on, for one noise distribution (``res``: estimator → moments)."""
    ols, alts = res[OLS], [res[k] for k in UNBIASED[1:]]
    mc_error = float(xp.abs(ols["cov"]).max()) * (2.0 / R) ** 0.5  # Monte Carlo standard error of a covariance entry
    min_eig = float(min(xp.linalg.eigvalsh(a["cov"] - ols["cov"]).min() for a in alts))
    return {
        "ols_max_bias_z": float(ols["z_bias"].max()),
        "ols_cov_rel_error": float(xp.abs(ols["cov"] - cov_theory).max() / xp.abs(cov_theory).max()),
        "alternatives_max_bias_z": float(max(a["z_bias"].max() for a in alts)),
        "min_variance_ratio_alt_over_ols": float(min((a["var"] / ols["var"]).min() for a in alts)),
        "ridge_max_bias_z": float(res[RIDGE]["z_bias"].max()),
        "ridge_variance_ratio_slopes": (res[RIDGE]["var"] / ols["var"])[1:].tolist(),
        "min_eig_cov_alt_minus_ols": min_eig, "mc_error_of_covariance": mc_error,
        "min_eig_cov_alt_minus_ols_in_mc_errors": min_eig / mc_error,
    }


def measure(ctx) -> Measurement:
    n, R, sigma = 30, (4000 if ctx.quick else 40000), 1.0
    X = xp.hstack([xp.ones((n, 1)), ctx.rng.uniform(-2, 2, (n, 2))])  # intercept column + 2 features
    beta = xp.array(BETA)
    XtX_inv = xp.linalg.inv(X.T @ X)
    estimators = linear_estimators(X, ctx.rng)
    exact = {k: estimators[k] for k in UNBIASED}
    samples = {noise: draw_estimates(X, beta, estimators, R, noise, ctx.rng, sigma) for noise in NOISES}
    results = {noise: {k: moments(B, beta) for k, B in s.items()} for noise, s in samples.items()}
    per_noise = {noise: summary(results[noise], sigma ** 2 * XtX_inv, R) for noise in NOISES}
    measured = {
        "draws": R, "n": n,
        "CX_minus_I_max": {k: float(xp.abs(C @ X - xp.eye(3)).max()) for k, C in exact.items()},
        "min_eig_CCt_minus_XtX_inv": {k: float(xp.linalg.eigvalsh(C @ C.T - XtX_inv).min()) for k, C in exact.items()},
        "ridge_CX_minus_I_max": float(xp.abs(estimators[RIDGE] @ X - xp.eye(3)).max()),
        **{key: {noise: per_noise[noise][key] for noise in NOISES} for key in per_noise["gaussian"]},
        "ols_variance_theory": xp.diag(sigma ** 2 * XtX_inv).tolist(),
        "ols_variance_measured_gaussian": results["gaussian"][OLS]["var"].tolist(),
    }
    method = (f"Fixed design (n = {n}, intercept + 2 uniform features), β = (1, 2, −0.5), σ = 1, {R} draws of Gaussian and of "
              "uniform noise; β̂ = shenjing.linear.ols(X, Y) with the draws as columns; the alternatives are weighted LS with "
              "weights U(0.1, 5), OLS on the first half of the rows and OLS + D with DX = 0; ridge (α = 5, intercept "
              "unpenalised) is the biased comparison. Standard errors are the Monte Carlo ones, √(Var/R).")
    return Measurement(measured, method, data={"samples": samples["gaussian"], "results": results, "beta": beta, "R": R})


def _ellipse(ax, mean, cov, **kw) -> None:
    vals, vecs = xp.linalg.eigh(cov)
    t = xp.linspace(0, 2 * xp.pi, 100)
    pts = (vecs @ (2 * xp.sqrt(vals)[:, None] * xp.stack([xp.cos(t), xp.sin(t)]))).T + mean
    ax.plot(pts[:, 0], pts[:, 1], **kw)


COLOURS = dict(zip(UNBIASED + (RIDGE,), ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red"]))


def _scatter_panel(ax, samples: dict, beta, R: int) -> None:
    m = min(R, 1500)
    for k in ["OLS on half the rows", "weighted LS, arbitrary weights", OLS, RIDGE]:
        B = samples[k]
        ax.scatter(B[:m, 1], B[:m, 2], s=2, alpha=0.25, color=COLOURS[k])
        _ellipse(ax, B[:, 1:].mean(0), xp.cov(B[:, 1:].T), color=COLOURS[k], lw=2, label=f"{k}: 2σ ellipse")
    ax.plot(beta[1], beta[2], "k*", ms=14, label="true (β₁, β₂)")
    ax.set(xlabel="estimate of β₁ (true 2)", ylabel="estimate of β₂ (true −0.5)",
           title=f"{R} noise draws, Gaussian ε: estimates of (β₁, β₂)")
    ax.legend(fontsize=7, loc="upper right")


def _variance_panel(ax, results: dict) -> None:
    width = 0.2
    for i, noise in enumerate(NOISES):
        res = results[noise]
        for j, k in enumerate(COLOURS):
            ratio = res[k]["var"] / res[OLS]["var"]
            ax.bar(xp.arange(3) + (j - 2) * width * 0.9 + i * 4, ratio, width * 0.85, color=COLOURS[k],
                   label=k if i == 0 else None, hatch="//" if k == RIDGE else None)
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.set_xticks([0, 1, 2, 4, 5, 6])
    ax.set_xticklabels(["β₀", "β₁", "β₂", "β₀", "β₁", "β₂"])
    top = ax.get_ylim()[1] * 1.35
    ax.set_ylim(0, top)
    ax.text(1, top * 0.96, "Gaussian ε", ha="center", va="top", fontsize=9)
    ax.text(5, top * 0.96, "uniform ε", ha="center", va="top", fontsize=9)
    ax.set(ylabel="Var(estimate) / Var(OLS)", title="Variance relative to OLS (dashed: 1)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.93))


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    samples, beta = m.data["samples"], m.data["beta"]
    fig, axes = pyplot().subplots(1, 3, figsize=(18, 5.2), layout="constrained")
    _scatter_panel(axes[0], samples, beta, m.data["R"])
    _variance_panel(axes[1], m.data["results"])
    ax = axes[2]
    bins = xp.linspace(1.2, 2.8, 60)
    for k in [OLS, "OLS on half the rows", RIDGE]:
        ax.hist(samples[k][:, 1], bins=bins, histtype="step", lw=1.5, color=COLOURS[k], density=True,
                label=f"{k}: mean {samples[k][:, 1].mean():.3f}, sd {samples[k][:, 1].std():.3f}")
    ax.axvline(beta[1], color="k", ls="--", label="true β₁ = 2")
    ax.set(xlabel="estimate of β₁", ylabel="density", title="Unbiased vs biased: ridge trades bias for variance")
    ax.legend(fontsize=7)
    fig.suptitle("Gauss–Markov theorem by Monte Carlo (Xu Theorem 1)")
    ctx.savefig(fig, "gauss-markov.png")
