"""curse-of-dimensionality: grid quadrature pays n^(−2/d), Monte Carlo n^(−1/2) in every dimension, and
a 1/m-scaled two-layer network is a Monte Carlo average over its neurons (Xu §1.11).

Xu eqs. 1.61–1.64: the trapezoid rule with step h has error ≤ h²‖f''‖/8; a d-dimensional grid
with step h = 1/k has n = k^d cells, so the error is O(n^(−2/d)) — to halve it in d = 10 dimensions
the grid must grow 2^5 = 32-fold. Eqs. 1.65–1.71: the Monte Carlo average of n uniform samples has
E(I − I_n)² = Var(f)/n, an error n^(−1/2) whatever d. The two-layer network
f_θ(x) = (1/m) Σ_j a_j σ(w_j·x + b_j) has the same form: with (a_j, w_j, b_j) drawn independently it is a
Monte Carlo estimate of E[a σ(w·x + b)], so its fluctuation shrinks like m^(−1/2), independent of the
input dimension.

Errata of the notes (not copied): eq. 1.64 prints h^(2/d) where n^(−2/d) = h² is meant (the step
h = n^(−1/d) of a grid of n cells), and eq. 1.66 writes E(1 − (1/n)Σ f(x_i))(…) with 1 in place of I.

Integrand: f(x) = Π_k e^{x_k}/(e − 1) on [0, 1]^d, whose integral is exactly 1 in every dimension
(Var f = ((e + 1)/(2(e − 1)))^d − 1, moderate up to d = 10). The tensor-product trapezoid rule is
evaluated on the full grid of (k + 1)^d points (f computed at every grid point), the Monte Carlo
estimate from uniform samples of ``ctx.rng``; the RMS Monte Carlo error is over repeated draws.
Exponents are least-squares slopes of log error against log n.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import Check, Experiment, Measurement

E1 = math.e - 1.0
DIMS = list(range(1, 11))
NET_DIMS = [1, 10, 100]

EXPERIMENT = Experiment(
    id="curse-of-dimensionality",
    title="Curse of dimensionality: grid quadrature vs Monte Carlo, and the two-layer net as Monte Carlo",
    title_zh="维数灾难与蒙特卡洛",
    source="Xu §1.11",
    claim="The trapezoid rule on a grid of n cells in d dimensions has error ~ n^(−2/d), while Monte Carlo with n samples "
          "has error ~ n^(−1/2) for every d = 1…10; the fluctuation of the 1/m-scaled two-layer net shrinks like "
          "m^(−1/2) whatever the input dimension.",
    claim_zh="d 维中 n 个格子的梯形公式误差约为 n^(−2/d), 而 n 个样本的蒙特卡洛误差对每个 d = 1…10 都约为 n^(−1/2); 以 1/m 缩放的两层网络的涨落像 "
             "m^(−1/2) 一样缩小, 与输入维数无关.",
    checks=(
        Check("trapezoid_exponent_relative_deviation", "<=", 0.2, "for every d = 1…10, |trapezoid exponent + 2/d| / (2/d)",
              what_zh="对每个 d = 1…10, |梯形公式的指数 + 2/d| / (2/d)"),
        Check("monte_carlo_exponent_deviation", "<=", 0.1, "|Monte Carlo exponent + 1/2|", what_zh="|蒙特卡洛的指数 + 1/2|"),
        Check("two_layer_net_exponent_deviation", "<=", 0.1, "for input dims 1, 10, 100, |the two-layer net's exponent + 1/2|",
              what_zh="对输入维数 1、10、100, |两层网络的指数 + 1/2|"),
    ),
)


def f_values_on_grid(k: int, d: int) -> xp.ndarray:
    """f(x) = Π e^{x_k}/(e − 1) at every point of the grid {0, 1/k, …, 1}^d, as a d-dimensional array."""
    t = xp.linspace(0.0, 1.0, k + 1)
    g = xp.exp(t) / E1
    out = g
    for _ in range(d - 1):
        out = out[..., None] * g
    return out


def trapezoid_nd(values) -> float:
    """The tensor-product trapezoid rule on [0, 1]^d (eq. 1.62 along every axis) of grid values."""
    v = values
    while v.ndim:
        k = v.shape[0] - 1
        w = xp.full(k + 1, 1.0 / k)
        w[0] = w[-1] = 0.5 / k
        v = xp.tensordot(w, v, axes=(0, 0))
    return float(v)


def monte_carlo(n: int, d: int, rng) -> float:
    """Eq. 1.65: the mean of f at n uniform samples of [0, 1]^d."""
    x = rng.random((n, d))
    return float((xp.exp(x.sum(1)) / E1 ** d).mean())


def fit_slope(n, err) -> float:
    """The least-squares slope of log err against log n: the exponent p of err ~ n^p."""
    return float(xp.polyfit(xp.log(xp.asarray(n, float)), xp.log(xp.asarray(err, float)), 1)[0])


def two_layer_fluctuation(d: int, widths, repeats: int, generator, n_points: int = 32) -> list[float]:
    """Std over independent draws of f_m(x) = (1/m) Σ a_j tanh(w_j·x + b_j), averaged over test points,
    with a_j ~ N(1, 1), w_j ~ N(0, I/d), b_j ~ N(0, 1)."""
    import shenjing as sj

    x = sj.randn(n_points, d, generator=generator, dtype=sj.float64)
    out = []
    for m in widths:
        vals = []
        for _ in range(repeats):
            w = sj.randn(m, d, generator=generator, dtype=sj.float64) / math.sqrt(d)
            b = sj.randn(m, generator=generator, dtype=sj.float64)
            a = 1.0 + sj.randn(m, generator=generator, dtype=sj.float64)
            vals.append((sj.tanh(x @ w.T + b) @ a / m).numpy())
        vals = xp.stack(vals)  # (repeats, n_points)
        out.append(float(vals.std(axis=0, ddof=1).mean()))
    return out


def quadrature_errors(d: int, budget: float, mc_ns, repeats: int, rng) -> tuple[list, list]:
    """[(n = k^d cells, |trapezoid − 1|)] for every k whose grid of (k + 1)^d points fits the budget, and
    [(n samples, RMS Monte Carlo error over ``repeats`` draws)]."""
    ks = [k for k in (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024) if (k + 1) ** d <= budget]
    trap = [(k ** d, abs(trapezoid_nd(f_values_on_grid(k, d)) - 1.0)) for k in ks]
    mc = [(n, float(xp.sqrt(xp.mean([(monte_carlo(n, d, rng) - 1.0) ** 2 for _ in range(repeats)])))) for n in mc_ns]
    return trap, mc


def measure(ctx) -> Measurement:
    budget = 1.1e6 if ctx.quick else 1.0e7  # grid points (k + 1)^d evaluated
    mc_ns = [10, 30, 100, 300, 1000, 3000, 10000] + ([] if ctx.quick else [30000, 100000])
    repeats = 40 if ctx.quick else 200
    trap, mc = {}, {}
    for d in DIMS:
        trap[d], mc[d] = quadrature_errors(d, budget, mc_ns, repeats, ctx.rng)
    trap_slope = {d: fit_slope(*zip(*trap[d])) for d in DIMS}
    mc_slope = {d: fit_slope(*zip(*mc[d])) for d in DIMS}
    widths = [4, 16, 64, 256, 1024] + ([] if ctx.quick else [4096])
    net_repeats = 30 if ctx.quick else 100
    net = {d: two_layer_fluctuation(d, widths, net_repeats, ctx.generator) for d in NET_DIMS}
    net_slope = {d: fit_slope(widths, net[d]) for d in NET_DIMS}
    measured = {
        "trapezoid_exponent": trap_slope, "trapezoid_theory": {d: -2 / d for d in DIMS},
        "trapezoid_exponent_relative_deviation": {d: abs(trap_slope[d] + 2 / d) / (2 / d) for d in DIMS},
        "monte_carlo_exponent": mc_slope, "monte_carlo_exponent_deviation": {d: abs(mc_slope[d] + 0.5) for d in DIMS},
        "two_layer_net_exponent": net_slope, "two_layer_net_exponent_deviation": {d: abs(net_slope[d] + 0.5) for d in NET_DIMS},
        "trapezoid_points_used": {d: [n for n, _ in trap[d]] for d in DIMS},
        "error_at_largest_grid": {d: trap[d][-1] for d in DIMS},
        "monte_carlo_rms_error_at_n_10000": {d: dict(mc[d])[10000] for d in DIMS},
        "grid_evaluation_budget": budget,
    }
    method = ("Integrand Π e^{x_k}/(e−1) on [0,1]^d (integral 1), d = 1…10. Trapezoid: the tensor-product rule on the full "
              f"grid of (k+1)^d points (at most {budget:,.0f}), n = k^d cells; Monte Carlo: the RMS error over {repeats} draws "
              f"of n = {mc_ns[0]}…{mc_ns[-1]} uniform samples. Two-layer net: the std over {net_repeats} independent draws of "
              "f_m(x) = (1/m) Σ a_j tanh(w_j·x + b_j) (a_j ~ N(1, 1), w_j ~ N(0, I/d), b_j ~ N(0, 1)), averaged over 32 "
              f"test points, for widths m = {widths[0]}…{widths[-1]} and input dims {', '.join(map(str, NET_DIMS))}. Exponents are least-squares "
              "slopes of log error against log n (or log m).")
    return Measurement(measured, method, data={"trap": trap, "mc": mc, "net": net, "widths": widths, "repeats": repeats})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    trap, mc, net, widths, repeats = (m.data[k] for k in ("trap", "mc", "net", "widths", "repeats"))
    trap_slope, mc_slope, net_slope = (m.measured[k] for k in ("trapezoid_exponent", "monte_carlo_exponent", "two_layer_net_exponent"))
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    show = [1, 2, 3, 5, 10]
    cmap = plt.get_cmap("viridis")
    for ax, errs, label in ((axes[0, 0], trap, lambda d: f"slope {trap_slope[d]:.3f} (−2/d = {-2 / d:.3f})"),
                            (axes[0, 1], mc, lambda d: f"slope {mc_slope[d]:.3f}")):
        for i, d in enumerate(show):
            n, e = zip(*errs[d])
            ax.loglog(n, e, "o-", color=cmap(i / (len(show) - 1)), label=f"d = {d}: {label(d)}")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set(xlabel="grid cells n = k^d (h = 1/k)", ylabel="|I − I_n|", title="Trapezoid rule on a grid: error ~ n^(−2/d)")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[0, 1].set(xlabel="samples n", ylabel=f"RMS |I − I_n| over {repeats} draws", title="Monte Carlo: error ~ n^(−1/2) in every d")
    axes[0, 1].legend(fontsize=8)
    ax = axes[1, 0]
    dd = xp.linspace(1, 10, 100)
    ax.plot(dd, -2 / dd, "k-", lw=1, label="theory, trapezoid: −2/d")
    ax.plot(DIMS, [trap_slope[d] for d in DIMS], "o", ms=8, label="fitted, trapezoid")
    ax.axhline(-0.5, color="tab:red", lw=1, label="theory, Monte Carlo: −1/2")
    ax.plot(DIMS, [mc_slope[d] for d in DIMS], "s", color="tab:red", label="fitted, Monte Carlo")
    ax.set(xlabel="dimension d", ylabel="exponent p in error ~ n^p", title="Fitted convergence exponents vs dimension")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    for d in NET_DIMS:
        ax.loglog(widths, net[d], "o-", label=f"input dim {d}: slope {net_slope[d]:.3f}")
    ax.loglog(widths, net[NET_DIMS[0]][0] * (xp.asarray(widths) / widths[0]) ** -0.5, "k--", lw=1, label="m^(−1/2)")
    ax.set(xlabel="width m (neurons)", ylabel="std of f_m(x) over random neurons",
           title="f_m(x) = (1/m) Σ a_j tanh(w_j·x + b_j): a Monte Carlo average")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("Curse of dimensionality (Xu §1.11): grid quadrature vs Monte Carlo sampling")
    fig.tight_layout()
    ctx.savefig(fig, "quadrature-vs-mc.png")
