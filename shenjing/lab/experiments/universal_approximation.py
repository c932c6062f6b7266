"""universal-approximation: one hidden layer approximates continuous functions as the width grows —
unless the activation is a polynomial (Xu §1.1, §1.7 Remarks 2–3; Wang 六.II.1 eq. 11;
Nelson ch. 4 Fig 4-6).

Two-layer networks f(x) = Σ_j a_j σ(w_j x + b_j) + c (Xu eq. 1.29) of widths m = 1, 2, 4, …
are trained with Adam on two continuous targets on [−π, π]: sin x and the non-smooth |sin 2x|.
With σ = tanh or ReLU (non-polynomial) the error falls as m grows. With the quadratic activation
σ(z) = z² every such network is a polynomial of degree ≤ 2 whatever its width (Xu Remark 2), so
its error stops at the error of the best quadratic — computed here exactly by least squares — and
does not fall any further (the exercise "多项式激活函数合适吗?" of Xu §1.13).

All widths are trained in one computation: a :class:`ParallelTwoLayer` module holds K independent
two-layer nets side by side and the loss is the sum of their losses, so each net gets exactly the
gradient (and, with Adam's per-coordinate steps, exactly the update) it would get alone.

Nelson Fig 4-6: the Taylor polynomials x, x − x³/3!, x − x³/3! + x⁵/5!, … converge to sin x in
the sup norm (Weierstrass: polynomials are dense in C[a, b]); their sup error on [−π, π] is measured
against the Lagrange bound π^(n+2)/(n+2)!. Note the difference: a *fixed* degree cannot approximate
everything, a polynomial of growing degree can — a network with σ = z² is stuck at degree 2.
"""

from __future__ import annotations

import math

from ...backend import xp
from ...nn import Module, Parameter
from ..core import Check, Experiment, Measurement, single_threaded_blas

QUADRATIC = "quadratic z²"
TAYLOR_DEGREES = (1, 3, 5, 7, 9, 11, 13)

EXPERIMENT = Experiment(
    id="universal-approximation",
    title="Universal approximation: width helps a non-polynomial activation, not a quadratic one",
    title_zh="万有逼近定理",
    source="Xu §1.1 and §1.7 Remarks 2–3; Wang 六.II.1 eq. 11; Nelson ch. 4 Fig 4-6",
    claim="A one-hidden-layer network with a non-polynomial activation fits sin x and a continuous non-smooth target "
          "with error falling as the width grows; with a quadratic activation the network stays a polynomial of "
          "degree 2 and its error plateaus at the best quadratic's; Taylor polynomials of growing degree converge "
          "to sin x.",
    claim_zh="以非多项式函数为激活的单隐层网络拟合 sin x 和一个连续但不光滑的目标, 误差随宽度增大而下降; 以二次函数为激活时网络仍是 "
             "2 次多项式, 误差停在最佳二次多项式的水平; 次数递增的 Taylor 多项式收敛到 sin x.",
    checks=(
        Check("loglog_slope", "<", -0.5, "for each target and non-polynomial σ, the log-log slope of RMS error against width",
              what_zh="对每个目标和非多项式 σ, RMS 误差对宽度的双对数斜率"),
        Check("error_ratio_largest_width_to_width_1", "<", 0.125, "the RMS error at the largest width / at width 1",
              what_zh="最大宽度与宽度 1 的 RMS 误差之比"),
        Check("error_ratio_largest_width_to_best_quadratic", "<", 0.125, "the RMS error at the largest width / the best quadratic's",
              what_zh="最大宽度的 RMS 误差 / 最佳二次多项式的"),
        Check("quadratic_min_ratio_to_best_quadratic", ">=", 0.999,
              "for each target, the z²-network's smallest RMS error over the widths / the best quadratic's",
              what_zh="对每个目标, z² 网络在各宽度上最小的 RMS 误差 / 最佳二次多项式的"),
        Check("quadratic_ratio_largest_width_to_width_4", ">=", 0.9, "its RMS error at the largest width / at width 4",
              what_zh="它在最大宽度与宽度 4 的 RMS 误差之比"),
        Check("quadratic_degree2_fit_residual", "<", 1e-8, "the max relative residual of a quadratic fitted to each z²-network",
              what_zh="对每个 z² 网络拟合二次多项式的最大相对残差"),
        Check("taylor_sup_error_ratio_successive", "<", 1, "each Taylor polynomial's sup error / that of the previous degree",
              what_zh="每个 Taylor 多项式的上确界误差 / 前一次数的"),
        Check("taylor_sup_error_over_lagrange_bound_minus_1", "<=", 1e-9, "each Taylor polynomial's sup error / its Lagrange bound − 1",
              what_zh="每个 Taylor 多项式的上确界误差 / 其 Lagrange 余项界 − 1"),
    ),
)


class ParallelTwoLayer(Module):
    """K two-layer nets f_k(x) = Σ_{j∈k} a_j σ(w_j x + b_j) + c_k of widths ``widths`` on 1-D input,
    stored as one hidden layer of Σ m_k units and a 0/1 matrix G assigning units to nets.

    Initialisation adapted to the input interval [lo, hi]: each unit's transition point −b_j/w_j
    is uniform in [lo, hi] and its slope |w_j| uniform in [1, 4] with a random sign (so that no
    unit is constant or linear over the whole data); a_j, c_k ~ U(±1/√m_k) as ``nn.Linear``."""

    def __init__(self, widths, activation, rng, lo: float = -math.pi, hi: float = math.pi) -> None:
        import shenjing as sj

        super().__init__()
        widths = list(widths)
        total = sum(widths)
        self.widths, self.activation = widths, activation
        bound_out = xp.concatenate([xp.full(m, 1 / math.sqrt(m)) for m in widths])
        t = rng.uniform(lo, hi, total)
        w = rng.uniform(1, 4, total) * rng.choice([-1.0, 1.0], total)
        self.w = Parameter(sj.tensor(w, dtype=sj.float64))
        self.b = Parameter(sj.tensor(-w * t, dtype=sj.float64))
        self.a = Parameter(sj.tensor(rng.uniform(-1, 1, total) * bound_out, dtype=sj.float64))
        self.c = Parameter(sj.tensor(rng.uniform(-1, 1, len(widths)) / xp.sqrt(widths), dtype=sj.float64))
        g = xp.zeros((total, len(widths)))
        start = 0
        for k, m in enumerate(widths):
            g[start:start + m, k] = 1.0
            start += m
        self.register_buffer("G", sj.tensor(g, dtype=sj.float64))

    def forward(self, x):  # x (n, 1) -> (n, K)
        h = self.activation(x * self.w + self.b)
        return (h * self.a) @ self.G + self.c


def targets() -> dict:
    """The two continuous targets on [−π, π]: sin x and the non-smooth |sin 2x|."""
    return {"sin x": xp.sin, "|sin 2x|": lambda x: xp.abs(xp.sin(2 * x))}


def activations(quick: bool) -> dict:
    """σ by name: tanh (and ReLU in the full run), and the quadratic z²."""
    import shenjing as sj

    acts = {"tanh": sj.tanh} if quick else {"tanh": sj.tanh, "ReLU": sj.relu}
    return {**acts, QUADRATIC: lambda z: z * z}


def train(model, x, y, steps: int, lr: float) -> list[float]:
    """Full-batch Adam on the summed per-net MSE; the learning rate decays by cosine to lr/100."""
    import shenjing as sj
    from shenjing import optim
    from shenjing.train import full_batch

    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 100)
    xt = sj.tensor(x[:, None], dtype=sj.float64)
    yt = sj.tensor(y[:, None], dtype=sj.float64)
    return full_batch(lambda: ((model(xt) - yt) ** 2).mean(0).sum(), opt, steps, callback=lambda step, loss: sched.step())


def fit_widths(act, widths: list[int], restarts: int, x_train, x_test, f, steps: int, lr: float, rng,
               quadratic: bool = False) -> tuple[dict, object]:
    """``restarts`` nets per width trained together; per width the one with the lowest training loss
    is kept. Returns its RMS and sup errors on ``x_test`` (and, if σ is ``quadratic``, the max relative
    residual of a quadratic fitted to every net) and its predictions (n_test, len(widths))."""
    import shenjing as sj

    y_train, y_test = f(x_train), f(x_test)
    model = ParallelTwoLayer(widths * restarts, act, rng)
    with single_threaded_blas():  # small matrices: a contended BLAS thread pool only slows them down
        train(model, x_train, y_train, steps, lr)
    with sj.no_grad():
        pred_tr = model(sj.tensor(x_train[:, None], dtype=sj.float64)).numpy()
        pred_all = model(sj.tensor(x_test[:, None], dtype=sj.float64)).numpy()
    train_mse = xp.mean((pred_tr - y_train[:, None]) ** 2, axis=0).reshape(restarts, len(widths))
    best = train_mse.argmin(axis=0)
    pred = xp.stack([pred_all[:, r * len(widths) + k] for k, r in enumerate(best)], axis=1)
    err = pred - y_test[:, None]
    entry = {"rms_error": xp.sqrt(xp.mean(err ** 2, axis=0)).tolist(), "sup_error": xp.abs(err).max(axis=0).tolist()}
    if quadratic:  # σ = z²: each net is a polynomial of degree ≤ 2, so a quadratic fits it exactly
        entry["max_rel_residual_of_degree2_fit_to_net"] = max(
            float(xp.abs(xp.polyval(xp.polyfit(x_test, p, 2), x_test) - p).max() / max(1.0, float(xp.abs(p).max()))) for p in pred_all.T)
    return entry, pred


def loglog_slope(ws, es) -> float:
    """The least-squares slope of log error against log width."""
    return float(xp.polyfit(xp.log(xp.asarray(ws, float)), xp.log(xp.asarray(es)), 1)[0])


def taylor_sin(x, degrees) -> tuple[dict, list[float], list[float]]:
    """The Taylor polynomials T_n of sin x on ``x``, their sup errors and the Lagrange bounds π^(n+2)/(n+2)!."""
    polys, sup, bound = {}, [], []
    for n in degrees:
        polys[n] = sum((-1) ** k * x ** (2 * k + 1) / math.factorial(2 * k + 1) for k in range((n + 1) // 2))
        sup.append(float(xp.abs(polys[n] - xp.sin(x)).max()))
        bound.append(math.pi ** (n + 2) / math.factorial(n + 2))
    return polys, sup, bound


def claim_numbers(results: dict, widths: list[int], nonpoly: list[str]) -> dict:
    """The ratios and slopes the checks compare, flat per target (and σ); also stored in ``results``."""
    out = {k: {} for k in ("loglog_slope", "error_ratio_largest_width_to_width_1", "error_ratio_largest_width_to_best_quadratic",
                           "quadratic_min_ratio_to_best_quadratic", "quadratic_ratio_largest_width_to_width_4", "quadratic_degree2_fit_residual")}
    for tname, r in results.items():
        best = r["best_quadratic_rms_error"]
        for aname in nonpoly:
            e = r[aname]["rms_error"]
            r[aname]["loglog_slope"] = out["loglog_slope"][f"{tname}, {aname}"] = loglog_slope(widths, e)
            out["error_ratio_largest_width_to_width_1"][f"{tname}, {aname}"] = e[-1] / e[0]
            out["error_ratio_largest_width_to_best_quadratic"][f"{tname}, {aname}"] = e[-1] / best
        q = r[QUADRATIC]
        q["ratio_to_best_quadratic"] = [v / best for v in q["rms_error"]]
        out["quadratic_min_ratio_to_best_quadratic"][tname] = min(q["rms_error"]) / best
        out["quadratic_ratio_largest_width_to_width_4"][tname] = q["rms_error"][-1] / q["rms_error"][widths.index(4)]
        out["quadratic_degree2_fit_residual"][tname] = q["max_rel_residual_of_degree2_fit_to_net"]
    return out


def measure(ctx) -> Measurement:
    widths = [1, 2, 4, 8, 16, 32] if ctx.quick else [1, 2, 4, 8, 16, 32, 64]
    restarts = 3 if ctx.quick else 4
    steps = 1200 if ctx.quick else 3000
    x_train = xp.linspace(-math.pi, math.pi, 128 if ctx.quick else 256)
    x_test = xp.linspace(-math.pi, math.pi, 2001)
    acts = activations(ctx.quick)
    results, fits = {}, {}
    for tname, f in targets().items():
        coef = xp.polyfit(x_train, f(x_train), 2)  # the best quadratic (least squares)
        results[tname] = {"best_quadratic_rms_error": float(xp.sqrt(xp.mean((xp.polyval(coef, x_test) - f(x_test)) ** 2)))}
        for aname, act in acts.items():
            lr = 0.01 if aname == QUADRATIC else 0.02
            results[tname][aname], fits[(tname, aname)] = fit_widths(act, widths, restarts, x_train, x_test, f, steps, lr, ctx.rng,
                                                                     quadratic=aname == QUADRATIC)
    numbers = claim_numbers(results, widths, [a for a in acts if a != QUADRATIC])
    # Wang eq. 11: the smallest width whose sup error is below ε (tanh, sin x)
    eps_width = {}
    for eps in (0.1, 0.03, 0.01):
        ok = [m for m, s in zip(widths, results["sin x"]["tanh"]["sup_error"]) if s < eps]
        eps_width[f"eps={eps}"] = ok[0] if ok else None
    polys, taylor_sup, bound = taylor_sin(x_test, TAYLOR_DEGREES)
    measured = {
        "widths": widths, "targets": results, **numbers, "wang_eq11_min_width_for_sup_error_below_eps_tanh_sin": eps_width,
        "taylor_degrees": list(TAYLOR_DEGREES), "taylor_sup_error": taylor_sup, "taylor_lagrange_bound": bound,
        "taylor_sup_error_ratio_successive": [b / a for a, b in zip(taylor_sup, taylor_sup[1:])],
        "taylor_sup_error_over_lagrange_bound_minus_1": [s / b - 1 for s, b in zip(taylor_sup, bound)],
    }
    method = (f"Two-layer nets f(x) = Σ a_j σ(w_j x + b_j) + c of widths {', '.join(map(str, widths))} with σ = {', '.join(acts)}, "
              f"trained together (independent nets, summed loss) in float64 by {steps} full-batch Adam steps (lr 0.02, 0.01 for z², "
              f"cosine decay to lr/100) on {len(x_train)} grid points of [−π, π], best of {restarts} restarts per width by training "
              "loss; RMS and sup errors on a 2001-point test grid; the best quadratic by exact least squares; Taylor polynomials of "
              f"sin x of degrees {', '.join(map(str, TAYLOR_DEGREES))} on the test grid.")
    return Measurement(measured, method, data={"fits": fits, "acts": list(acts), "x_test": x_test, "polys": polys})


def figures(ctx, m: Measurement) -> None:
    figure_error_vs_width(ctx, m)
    figure_fits(ctx, m)
    figure_taylor(ctx, m)


def figure_error_vs_width(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    widths, results, acts = m.measured["widths"], m.measured["targets"], m.data["acts"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, tname in zip(axes, results):
        r = results[tname]
        for aname, mk in zip(acts, ("o-", "s-", "^-") if len(acts) == 3 else ("o-", "^-")):
            ax.loglog(widths, r[aname]["rms_error"], mk, label=f"σ = {aname}")
        ax.axhline(r["best_quadratic_rms_error"], color="k", ls=":", label="best quadratic polynomial")
        ax.set(xlabel="hidden width m", ylabel="RMS error on [−π, π]", title=f"target {tname}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("Two-layer nets: error vs width (non-polynomial σ improves, quadratic σ plateaus)")
    fig.tight_layout()
    ctx.savefig(fig, "error-vs-width.png")


def figure_fits(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    widths, acts, x_test, fits = m.measured["widths"], m.data["acts"], m.data["x_test"], m.data["fits"]
    fig, axes = plt.subplots(2, len(acts), figsize=(4.7 * len(acts), 7), sharex=True, squeeze=False)
    for row, (tname, f) in enumerate(targets().items()):
        for col, aname in enumerate(acts):
            ax = axes[row, col]
            ax.plot(x_test, f(x_test), "k-", lw=3, alpha=0.3, label="target")
            for k in (0, 2, len(widths) - 1):
                ax.plot(x_test, fits[(tname, aname)][:, k], lw=1.3, label=f"m = {widths[k]}")
            ax.set_title(f"{tname}, σ = {aname}", fontsize=10)
            ax.grid(alpha=0.3)
            if row == 1:
                ax.set_xlabel("x")
            if col == 0:
                ax.set_ylabel("f(x)")
            ax.legend(fontsize=7)
    fig.suptitle("Fits of trained two-layer networks of increasing width")
    fig.tight_layout()
    ctx.savefig(fig, "fits.png")


def figure_taylor(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    x_test, polys = m.data["x_test"], m.data["polys"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax1.plot(x_test, xp.sin(x_test), "k-", lw=3, alpha=0.35, label="sin x")
    for n in TAYLOR_DEGREES[:5]:
        ax1.plot(x_test, polys[n], lw=1.3, label=f"Taylor degree {n}")
    ax1.set(xlabel="x", ylabel="value", ylim=(-2, 2), title="Taylor polynomials of sin x (Nelson Fig 4-6)")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    ax2.semilogy(TAYLOR_DEGREES, m.measured["taylor_sup_error"], "o-", label="measured sup error on [−π, π]")
    ax2.semilogy(TAYLOR_DEGREES, m.measured["taylor_lagrange_bound"], "k--", label="Lagrange bound π^(n+2)/(n+2)!")
    ax2.set(xlabel="polynomial degree n", ylabel="sup |T_n(x) − sin x|", title="Sup-norm error of the Taylor polynomials")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "taylor-sin.png")
