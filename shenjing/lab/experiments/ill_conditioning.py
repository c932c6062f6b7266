"""ill-conditioning: GD zig-zags in a long narrow valley (Nelson, Fig. 4-9).

Nelson draws the contours of L(ω₁, ω₂) = ω₁² + aω₂² for a = 1, 20, 40: features of very different
scales stretch the bowl into a narrow valley, gradient descent bounces from one wall to the other
(蜿蜒曲折, zig-zag) and converges slowly; standardising the features (特征缩放: subtract the mean,
divide by the standard deviation) makes the bowl round again. Adaptive methods (Adagrad, RMSprop,
Adam) rescale each coordinate by its own gradient history, which undoes the scale difference.

Measured here, each method with its best learning rate from a grid (so no method is handicapped by a
poor choice): the iterations GD needs as a grows; the fraction of GD steps on which ω₂ changes sign
(the zig-zag); the same for a least-squares regression whose second feature has variance a (raw
vs standardised features); and the iterations of Adam, RMSprop and Adagrad.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

START = (-4.0, 1.5)
A_VALUES = (1.0, 20.0, 40.0)
REL_TOL = 1e-8
GD_STEPS, ADA_STEPS = 300, 200
#: name -> (optimiser class name in shenjing.optim, keyword arguments)
ADAPTIVE = {"Adam": ("Adam", {}), "Adam β₁=0.5": ("Adam", {"betas": (0.5, 0.999)}), "RMSprop": ("RMSprop", {}),
            "Adagrad": ("Adagrad", {})}

EXPERIMENT = Experiment(
    id="ill-conditioning",
    title="Ill-conditioning: GD zig-zags in a narrow valley; feature scaling and adaptive methods fix it",
    title_zh="病态条件与特征缩放",
    source="Nelson Fig. 4-9 (特征的比例影响梯度下降的性能)",
    claim="On L = ω₁² + aω₂² gradient descent zig-zags and needs more iterations as a grows (a = 1, 20, 40); "
          "standardising the features and adaptive methods (Adagrad, RMSprop, Adam) remove the dependence on a.",
    claim_zh="在 L = ω₁² + aω₂² 上梯度下降呈锯齿形, a 越大 (a = 1, 20, 40) 所需迭代越多; 特征标准化与自适应方法 (Adagrad、RMSprop、Adam) "
             "消除了对 a 的依赖.",
    checks=(
        Check("gd_iterations_growth", ">", 1.0, "GD's iteration count at a = 20 over a = 1, and at a = 40 over a = 20",
              what_zh="GD 在 a = 20 与 a = 1 时迭代次数之比, 以及 a = 40 与 a = 20 时之比"),
        Check("gd_iterations_ratio_a40_over_a1", ">=", 10, "GD's count at a = 40 over a = 1", what_zh="GD 在 a = 40 与 a = 1 时迭代次数之比"),
        Check("gd_quadratic.a=20.zigzag_fraction", ">=", 0.9,
              "the fraction of GD steps on which ω₂ changes sign while ω₁ does not (zig-zag), at a = 20",
              what_zh="a = 20 时 ω₂ 变号而 ω₁ 不变号的 GD 步所占比例 (锯齿)"),
        Check("gd_quadratic.a=40.zigzag_fraction", ">=", 0.9, "the same at a = 40", what_zh="a = 40 时的同一比例"),
        Check("least_squares_raw_ratio_a40_over_a1", ">=", 10, "on least squares with raw features, GD's count at a = 40 over a = 1",
              what_zh="原始特征的最小二乘上, GD 在 a = 40 与 a = 1 时迭代次数之比"),
        Check("least_squares_raw_a40_over_worst_standardised", ">=", 5,
              "the raw count at a = 40 over the largest count with standardised features", what_zh="a = 40 时原始特征的次数与标准化特征的最大次数之比"),
        Check("adaptive_ratio_a40_over_a1", "<=", 1.25, "for Adam (β₁ = 0.9 and 0.5), RMSprop and Adagrad, the count at a = 40 over a = 1",
              what_zh="Adam (β₁ = 0.9 与 0.5)、RMSprop 与 Adagrad 在 a = 40 与 a = 1 时迭代次数之比"),
        Check("gd_over_best_adaptive_iterations_a40", ">=", 3, "GD's count at a = 40 over the best adaptive method's",
              what_zh="a = 40 时 GD 的次数与最佳自适应方法的次数之比"),
    ),
)


def run_grid(opt_cls, a: float, etas, steps: int, start=START, **kw) -> xp.ndarray:
    """Run ``opt_cls`` on ω₁² + aω₂² from ``start`` with every learning rate in ``etas`` at once
    (one parameter group per η). Returns the trajectories, shape (steps + 1, len(etas), 2)."""
    import shenjing as sj

    ws = [sj.tensor(list(start), dtype=sj.float64, requires_grad=True) for _ in etas]
    opt = opt_cls([{"params": [w], "lr": float(e)} for w, e in zip(ws, etas)], lr=0.0, **kw)
    hist = xp.empty((steps + 1, len(ws), 2))
    hist[0] = start
    with xp.errstate(all="ignore"):  # learning rates past the stability edge overflow, on purpose
        for k in range(steps):
            opt.zero_grad()
            W = sj.stack(ws)
            (W[:, 0] ** 2 + a * W[:, 1] ** 2).sum().backward()
            opt.step()
            hist[k + 1] = [w.array for w in ws]
    return hist


def iterations_to_converge(losses: xp.ndarray, rel_tol: float) -> xp.ndarray:
    """Per column (losses already minus L*), the first step k from which L_j − L* ≤ rel_tol·(L_0 − L*)
    holds for every j ≥ k to the end of the run; a large sentinel where that never happens."""
    with xp.errstate(all="ignore"):
        ok = losses <= rel_tol * losses[:1]
    stays = xp.flip(xp.logical_and.accumulate(xp.flip(ok, axis=0), axis=0), axis=0)
    return xp.where(stays[-1], stays.argmax(axis=0), 10 ** 9)


def best(hist_losses: xp.ndarray, etas, rel_tol: float) -> dict:
    it = iterations_to_converge(hist_losses, rel_tol)
    j = int(it.argmin())
    return {"iterations": int(it[j]), "eta": float(etas[j]), "index": j}


def regression_grid(X, y, etas, steps: int) -> xp.ndarray:
    """Full-batch GD (optim.SGD) on mean((Xw − y)²), one parameter group per η; returns the excess
    loss L(w_k) − L(w*) with w* from least squares, shape (steps + 1, len(etas))."""
    import shenjing as sj
    from shenjing import optim

    Xt, yt = sj.tensor(X), sj.tensor(y)
    ws = [sj.zeros(X.shape[1], dtype=sj.float64, requires_grad=True) for _ in etas]
    opt = optim.SGD([{"params": [w], "lr": float(e)} for w, e in zip(ws, etas)], lr=0.0)
    w_star = xp.linalg.lstsq(X, y, rcond=None)[0]
    l_star = float(xp.mean((X @ w_star - y) ** 2))
    out = xp.empty((steps + 1, len(ws)))
    with xp.errstate(all="ignore"):
        for k in range(steps + 1):
            opt.zero_grad()
            W = sj.stack(ws, dim=1)  # (d, K)
            per_eta = ((Xt @ W - yt[:, None]) ** 2).mean(dim=0)
            out[k] = per_eta.detach().numpy() - l_star
            if k < steps:
                per_eta.sum().backward()
                opt.step()
    return xp.maximum(out, 0.0)


def valley_loss(hist, a: float) -> xp.ndarray:
    """L = ω₁² + aω₂² at every point of ``hist`` (..., 2)."""
    with xp.errstate(all="ignore"):
        return hist[..., 0] ** 2 + a * hist[..., 1] ** 2


def zigzag_fraction(traj) -> float:
    """The fraction of steps on which ω₂ crosses the valley floor while ω₁ keeps its side."""
    if len(traj) < 2:
        return 0.0
    s1, s2 = xp.sign(traj[:, 0]), xp.sign(traj[:, 1])
    return float(xp.mean((s2[1:] != s2[:-1]) & (s1[1:] == s1[:-1])))


def best_on_valley(opt_cls, a: float, etas, steps: int, **kw) -> dict:
    """``opt_cls`` on ω₁² + aω₂² with every η of ``etas``: the best run's iterations and η (:func:`best`),
    its trajectory up to convergence and its loss curve."""
    hist = run_grid(opt_cls, a, etas, steps, **kw)
    b = best(valley_loss(hist, a), etas, REL_TOL)
    return {**b, "trajectory": hist[: min(b["iterations"], steps) + 1, b["index"]], "curve": valley_loss(hist[:, b["index"]], a)}


def least_squares_valley(a: float, etas, steps: int, rng, n: int = 256) -> dict:
    """GD on least squares whose second feature has variance a (y = 2x₁ − x₂ + 0.1·noise), with raw and
    with standardised features: each one's best run and the condition number of the Hessian 2XᵀX/n."""
    X = rng.standard_normal((n, 2)) * xp.array([1.0, xp.sqrt(a)])
    y = X @ xp.array([2.0, -1.0]) + 0.1 * rng.standard_normal(n)
    Xs = (X - X.mean(0)) / X.std(0)
    out = {}
    for name, Z in (("raw", X), ("standardised", Xs)):
        excess = regression_grid(Z, y, etas, steps)
        b = best(excess, etas, REL_TOL)
        out[name] = {**b, "curve": excess[:, b["index"]]}
    ev = xp.linalg.eigvalsh(2 * X.T @ X / n)
    out["raw"]["condition_number"] = float(ev[-1] / ev[0])
    out["standardised"]["condition_number"] = float(xp.linalg.cond(2 * Xs.T @ Xs / n))
    return out


def derived_ratios(gd: dict, reg: dict, ada: dict) -> dict:
    """The iteration counts the claim compares, as ratios."""
    it = [gd[a]["iterations"] for a in A_VALUES]
    raw = [reg[a]["raw"]["iterations"] for a in A_VALUES]
    ada_best = min(ada[m][40.0]["iterations"] for m in ada)
    return {
        "gd_iterations_growth": {"a=20 over a=1": it[1] / it[0], "a=40 over a=20": it[2] / it[1]},
        "gd_iterations_ratio_a40_over_a1": it[2] / it[0],
        "least_squares_raw_ratio_a40_over_a1": raw[2] / raw[0],
        "least_squares_raw_a40_over_worst_standardised": raw[2] / max(reg[a]["standardised"]["iterations"] for a in A_VALUES),
        "adaptive_ratio_a40_over_a1": {m: ada[m][40.0]["iterations"] / ada[m][1.0]["iterations"] for m in ada},
        "best_adaptive_iterations_at_a40": ada_best,
        "gd_over_best_adaptive_iterations_a40": it[2] / ada_best,
    }


def measure(ctx) -> Measurement:
    from shenjing import optim

    n_eta = 24 if ctx.quick else 80
    etas = xp.geomspace(1e-3, 3.0, n_eta)  # GD's grid
    ada_etas = xp.geomspace(1e-2, 1.0, n_eta)  # adaptive steps are in parameter units
    gd = {a: best_on_valley(optim.SGD, a, etas, GD_STEPS) for a in A_VALUES}
    for a in A_VALUES:
        gd[a]["zigzag_fraction"] = zigzag_fraction(gd[a]["trajectory"])
    ada = {name: {a: best_on_valley(getattr(optim, cls), a, ada_etas, ADA_STEPS, **kw) for a in A_VALUES}
           for name, (cls, kw) in ADAPTIVE.items()}
    reg = {a: least_squares_valley(a, etas, GD_STEPS, ctx.rng) for a in A_VALUES}
    measured = {
        "gd_quadratic": {f"a={a:g}": {"iterations": gd[a]["iterations"], "best_eta": gd[a]["eta"],
                                      "zigzag_fraction": gd[a]["zigzag_fraction"],
                                      "best_eta_theory_2_over_lmin_plus_lmax": 1.0 / (1.0 + a)} for a in A_VALUES},
        "least_squares": {f"a={a:g}": {"iterations_raw": reg[a]["raw"]["iterations"],
                                       "iterations_standardised": reg[a]["standardised"]["iterations"],
                                       "best_eta_raw": reg[a]["raw"]["eta"], "best_eta_standardised": reg[a]["standardised"]["eta"],
                                       "condition_number_raw": reg[a]["raw"]["condition_number"],
                                       "condition_number_standardised": reg[a]["standardised"]["condition_number"]}
                          for a in A_VALUES},
        "adaptive": {m: {f"a={a:g}": {"iterations": ada[m][a]["iterations"], "best_eta": ada[m][a]["eta"]} for a in A_VALUES}
                     for m in ada},
        **derived_ratios(gd, reg, ada),
    }
    method = (f"GD (optim.SGD), Adam (β₁ = 0.9 and 0.5), RMSprop and Adagrad on L = ω₁² + aω₂², a ∈ {{1, 20, 40}}, from ω = "
              f"{START}, each with every one of {n_eta} learning rates log-spaced in [1e-3, 3] for GD and [1e-2, 1] for the "
              f"adaptive methods (one optimiser parameter group per η; {GD_STEPS} and {ADA_STEPS} steps); a count is the first "
              "iteration from which L − L* stays ≤ 1e-8·(L₀ − L*) to the end of the run, taken at the best η. The same GD on "
              "least squares with 256 samples whose second feature has variance a, with raw and with standardised features. "
              "(Adam's default β₁ = 0.9 spirals around the minimum and is barely faster than GD at a = 40; its count does not "
              "grow with a, so it wins for larger a.)")
    return Measurement(measured, method, data={"gd": gd, "ada": ada, "reg": reg})


COLOURS = {"Adam": "tab:orange", "Adam β₁=0.5": "tab:red", "RMSprop": "tab:green", "Adagrad": "tab:purple"}


def _valleys_figure(plt, gd: dict, ada: dict):
    """Nelson Fig. 4-9 with the trajectories: GD (top row) and the adaptive methods (bottom row)."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 6.6), sharex=True, sharey=True)
    g1, g2 = xp.meshgrid(xp.linspace(-5, 5, 300), xp.linspace(-2.5, 2.5, 200))
    for col, a in enumerate(A_VALUES):
        for row in range(2):
            ax = axes[row, col]
            ax.contour(g1, g2, g1 ** 2 + a * g2 ** 2, levels=xp.geomspace(0.05, 200, 14), colors="0.6", linewidths=0.7)
            ax.plot(0, 0, "k*", ms=12)
            ax.set_aspect("equal")
            ax.set_xlim(-5, 5)
            ax.set_ylim(-2.5, 2.5)
        t = gd[a]["trajectory"]
        axes[0, col].plot(t[:, 0], t[:, 1], "o-", color="tab:blue", ms=2.5, lw=1,
                          label=f"GD, best η = {gd[a]['eta']:.3g}: {gd[a]['iterations']} iterations")
        axes[0, col].set_title(f"L = ω₁² + {a:g}·ω₂²: GD, zig-zag on {100 * gd[a]['zigzag_fraction']:.0f}% of steps")
        for name in ada:
            t = ada[name][a]["trajectory"]
            axes[1, col].plot(t[:, 0], t[:, 1], "-", color=COLOURS[name], lw=1.2,
                              label=f"{name}, η = {ada[name][a]['eta']:.3g}: {ada[name][a]['iterations']} it.")
        axes[1, col].set_title(f"L = ω₁² + {a:g}·ω₂²: adaptive methods")
        for row in range(2):
            axes[row, col].legend(fontsize=8, loc="upper right")
            axes[1, col].set_xlabel("ω₁")
        axes[0, 0].set_ylabel("ω₂")
        axes[1, 0].set_ylabel("ω₂")
    fig.suptitle(f"Nelson Fig. 4-9 with trajectories from ω = {START} (★ = minimum): GD (top) and adaptive methods "
                 "(bottom), each with its best η of a grid; iterations until L stays ≤ 1e-8·L₀",
                 fontsize=12)
    fig.tight_layout()
    return fig


def _iterations_figure(plt, gd: dict, ada: dict, reg: dict):
    """Iterations against a for every method, and the loss curves at a = 40."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    ax = axes[0]
    ax.plot(A_VALUES, [gd[a]["iterations"] for a in A_VALUES], "o-", color="tab:blue", label="GD on ω₁² + aω₂²")
    ax.plot(A_VALUES, [reg[a]["raw"]["iterations"] for a in A_VALUES], "s--", color="tab:brown",
            label="GD, least squares, raw features (var 1 and a)")
    ax.plot(A_VALUES, [reg[a]["standardised"]["iterations"] for a in A_VALUES], "s-", color="k",
            label="GD, least squares, standardised features")
    for name in ada:
        ax.plot(A_VALUES, [ada[name][a]["iterations"] for a in A_VALUES], "^-", color=COLOURS[name],
                label=f"{name} on ω₁² + aω₂²")
    ax.set_yscale("log")
    ax.set_ylim(2, 5000)
    ax.set_xticks(A_VALUES)
    ax.set(xlabel="a (ratio of curvatures)", ylabel="iterations until L − L* stays ≤ 1e-8·(L₀ − L*) (log)",
           title="iterations with each method's best learning rate")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    ax = axes[1]
    a = 40.0
    ax.plot(gd[a]["curve"], color="tab:blue", label=f"GD (η = {gd[a]['eta']:.3g})")
    ax.plot(reg[a]["raw"]["curve"], "--", color="tab:brown", label="GD, least squares, raw features")
    ax.plot(reg[a]["standardised"]["curve"], color="k", label="GD, least squares, standardised")
    for name in ada:
        ax.plot(ada[name][a]["curve"], color=COLOURS[name], label=f"{name} (η = {ada[name][a]['eta']:.3g})")
    ax.set_yscale("log")
    ax.set_ylim(1e-14, 1e3)
    ax.set_xlim(0, GD_STEPS)
    ax.set(xlabel="iteration", ylabel="L − L* (log scale)", title="loss curves for a = 40")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt, d = pyplot(), m.data
    ctx.savefig(_valleys_figure(plt, d["gd"], d["ada"]), "valleys.png")
    ctx.savefig(_iterations_figure(plt, d["gd"], d["ada"], d["reg"]), "iterations.png")
