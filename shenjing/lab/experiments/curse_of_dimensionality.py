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
from ..core import experiment

E1 = math.e - 1.0


def f_values_on_grid(k: int, d: int):
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
            vals.append((sj.tanh(x @ w.T + b) @ a / m)._data)
        vals = xp.stack(vals)  # (repeats, n_points)
        out.append(float(vals.std(axis=0, ddof=1).mean()))
    return out


@experiment(
    id="curse-of-dimensionality",
    title="Curse of dimensionality: grid quadrature vs Monte Carlo, and the two-layer net as Monte Carlo",
    title_zh="维数灾难与蒙特卡洛",
    source="Xu §1.11",
    claim="The trapezoid rule on a grid of n cells in d dimensions has error ~ n^(−2/d), while Monte Carlo with n samples "
          "has error ~ n^(−1/2) for every d = 1…10; the fluctuation of the 1/m-scaled two-layer net shrinks like "
          "m^(−1/2) whatever the input dimension.",
)
def run(ctx) -> dict:
    import matplotlib.pyplot as plt

    dims = list(range(1, 11))
    budget = 1.1e6 if ctx.quick else 1.0e7  # grid points (k + 1)^d evaluated
    mc_ns = [10, 30, 100, 300, 1000, 3000, 10000] + ([] if ctx.quick else [30000, 100000])
    repeats = 40 if ctx.quick else 200
    trap, mc = {}, {}
    for d in dims:
        ks = [k for k in (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024) if (k + 1) ** d <= budget]
        trap[d] = [(k ** d, abs(trapezoid_nd(f_values_on_grid(k, d)) - 1.0)) for k in ks]
        mc[d] = [(n, float(xp.sqrt(xp.mean([(monte_carlo(n, d, ctx.rng) - 1.0) ** 2 for _ in range(repeats)]))))
                 for n in mc_ns]
    trap_slope = {d: fit_slope(*zip(*trap[d])) for d in dims}
    mc_slope = {d: fit_slope(*zip(*mc[d])) for d in dims}
    trap_ok = {d: abs(trap_slope[d] + 2 / d) <= 0.2 * (2 / d) for d in dims}
    mc_ok = {d: abs(mc_slope[d] + 0.5) <= 0.1 for d in dims}

    widths = [4, 16, 64, 256, 1024] + ([] if ctx.quick else [4096])
    net_dims = [1, 10, 100]
    net = {d: two_layer_fluctuation(d, widths, 30 if ctx.quick else 100, ctx.generator) for d in net_dims}
    net_slope = {d: fit_slope(widths, net[d]) for d in net_dims}
    net_ok = {d: abs(net_slope[d] + 0.5) <= 0.1 for d in net_dims}

    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    show = [1, 2, 3, 5, 10]
    cmap = plt.get_cmap("viridis")
    ax = axes[0, 0]
    for i, d in enumerate(show):
        n, e = zip(*trap[d])
        ax.loglog(n, e, "o-", color=cmap(i / (len(show) - 1)), label=f"d = {d}: slope {trap_slope[d]:.3f} (−2/d = {-2 / d:.3f})")
    ax.set(xlabel="grid cells n = k^d (h = 1/k)", ylabel="|I − I_n|", title="Trapezoid rule on a grid: error ~ n^(−2/d)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[0, 1]
    for i, d in enumerate(show):
        n, e = zip(*mc[d])
        ax.loglog(n, e, "o-", color=cmap(i / (len(show) - 1)), label=f"d = {d}: slope {mc_slope[d]:.3f}")
    ax.set(xlabel="samples n", ylabel=f"RMS |I − I_n| over {repeats} draws", title="Monte Carlo: error ~ n^(−1/2) in every d")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    dd = xp.linspace(1, 10, 100)
    ax.plot(dd, -2 / dd, "k-", lw=1, label="theory, trapezoid: −2/d")
    ax.plot(dims, [trap_slope[d] for d in dims], "o", ms=8, label="fitted, trapezoid")
    ax.axhline(-0.5, color="tab:red", lw=1, label="theory, Monte Carlo: −1/2")
    ax.plot(dims, [mc_slope[d] for d in dims], "s", color="tab:red", label="fitted, Monte Carlo")
    ax.set(xlabel="dimension d", ylabel="exponent p in error ~ n^p", title="Fitted convergence exponents vs dimension")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    for d in net_dims:
        ax.loglog(widths, net[d], "o-", label=f"input dim {d}: slope {net_slope[d]:.3f}")
    ax.loglog(widths, net[net_dims[0]][0] * (xp.asarray(widths) / widths[0]) ** -0.5, "k--", lw=1, label="m^(−1/2)")
    ax.set(xlabel="width m (neurons)", ylabel="std of f_m(x) over random neurons",
           title="f_m(x) = (1/m) Σ a_j tanh(w_j·x + b_j): a Monte Carlo average")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("Curse of dimensionality (Xu §1.11): grid quadrature vs Monte Carlo sampling")
    fig.tight_layout()
    ctx.savefig(fig, "quadrature-vs-mc.png")

    verdict = all(trap_ok.values()) and all(mc_ok.values()) and all(net_ok.values())
    return {
        "measured": {
            "trapezoid_exponent": trap_slope, "trapezoid_theory": {d: -2 / d for d in dims},
            "monte_carlo_exponent": mc_slope, "two_layer_net_exponent": net_slope,
            "trapezoid_points_used": {d: [n for n, _ in trap[d]] for d in dims},
            "error_at_largest_grid": {d: trap[d][-1] for d in dims},
            "monte_carlo_rms_error_at_n_10000": {d: dict(mc[d])[10000] for d in dims},
            "grid_evaluation_budget": budget,
        },
        "verdict": bool(verdict),
        "method": "Integrand Π e^{x_k}/(e−1) on [0,1]^d (integral 1). Trapezoid: tensor-product rule on the full grid of "
                  "(k+1)^d points, n = k^d cells, k up to the point budget; Monte Carlo: RMS error over repeated draws. "
                  "Exponents are least-squares slopes on log-log axes. Claim holds if every trapezoid exponent is within "
                  "20% of −2/d, every Monte Carlo exponent within ±0.1 of −1/2 (d = 1…10), and the std of the 1/m "
                  "two-layer net (random a, w, b; input dims 1, 10, 100) has exponent within ±0.1 of −1/2.",
    }
