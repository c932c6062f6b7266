"""lr-stability: gradient descent is stable iff η < 2/λ (Xu §1.10.3, eq. 1.60).

On L = ½λθ² one GD step is θ ← (1 − λη)θ, so |θ| shrinks iff |1 − λη| < 1, i.e. η < 2/λ. In many
dimensions λ is an eigenvalue of the loss's Hessian (黑塞矩阵) and the binding one is λ_max.

The experiment (1) sweeps η across 2/λ on the quadratic for several λ with shenjing's SGD (one
parameter group per η) and finds where |θ_k| starts to grow; (2) trains a small tanh network to a
minimum, measures λ_max there by power iteration on Hessian-vector products
(``hessian_lambda_max``), checks it against the eigenvalues of the full Hessian
(``autograd.functional.hessian`` + ``eigvalsh``), and restarts GD from a slightly perturbed minimum
with η = c·2/λ_max for c below and above 1 (``restart_near_minimum``).
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

#: a restart counts as unstable when its loss rises above this multiple of its start
UNSTABLE_RISE = 2.0

EXPERIMENT = Experiment(
    id="lr-stability",
    title="Learning rate and training instability: η < 2/λ",
    title_zh="学习率与训练不稳定性",
    source="Xu §1.10.3 (eq. 1.60)",
    claim="Gradient descent on L = ½λθ² converges iff η < 2/λ, and on a network the edge is η = 2/λ_max with λ_max "
          "the largest Hessian eigenvalue at the minimum (measured by power iteration).",
    claim_zh="在 L = ½λθ² 上梯度下降收敛当且仅当 η < 2/λ; 在网络上稳定的边界是 η = 2/λ_max, λ_max 为极小点处 Hessian 的最大特征值 "
             "(用幂迭代测得).",
    checks=(
        Check("quadratic_last_convergent_over_first_divergent_eta", "<", 1.0,
              "for each λ, the largest convergent η over the smallest divergent η (every η below converges, every η above diverges)",
              what_zh="对每个 λ, 最大收敛 η 与最小发散 η 之比 (其下的每个 η 都收敛, 其上的每个都发散)"),
        Check("quadratic_threshold_error_in_steps", "<=", 1, "|measured threshold − 2/λ| in sweep steps", what_zh="|测得的阈值 − 2/λ|, 以扫描步数计"),
        Check("network.relative_difference", "<", 1e-6, "the relative difference between λ_max by power iteration and by the full Hessian",
              what_zh="幂迭代与完整 Hessian 求得的 λ_max 的相对差"),
        Check("network.unstable_minus_stable_c", ">", 0, "the smallest unstable c minus the largest stable c", what_zh="最小不稳定 c 减去最大稳定 c"),
        Check("network.largest_stable_c", ">=", 0.9, "the largest stable c", what_zh="最大稳定 c"),
        Check("network.smallest_unstable_c", "<=", 1.1, "the smallest unstable c", what_zh="最小不稳定 c"),
    ),
)


def quadratic_gd(lam: float, etas, steps: int = 200) -> xp.ndarray:
    """θ_k, k = 0…steps, of GD on L = ½λθ² from θ_0 = 1 with optim.SGD, for every η at once (one
    parameter group per η). Returns an array of shape (steps + 1, len(etas))."""
    import shenjing as sj
    from shenjing import optim

    thetas = [sj.tensor([1.0], dtype=sj.float64, requires_grad=True) for _ in etas]
    opt = optim.SGD([{"params": [t], "lr": float(eta)} for t, eta in zip(thetas, etas)], lr=0.0)
    hist = [[1.0] * len(thetas)]
    for _ in range(steps):
        opt.zero_grad()
        sum(0.5 * lam * (t * t).sum() for t in thetas).backward()
        opt.step()
        hist.append([t.item() for t in thetas])
    return xp.asarray(hist)


def quadratic_growth(lam: float, etas, steps: int = 200) -> xp.ndarray:
    """The measured growth of |θ| per GD step on ½λθ², |θ_K / θ_0|^(1/K), for every η."""
    return xp.abs(quadratic_gd(lam, etas, steps)[-1]) ** (1.0 / steps)


def quadratic_threshold(lam: float, resolution: float = 0.01, half_width: int = 10, steps: int = 200) -> dict:
    """Sweep η = (2/λ)(1 + (k + ½)·resolution), k = −half_width … half_width − 1, and locate the
    stability edge: the midpoint between the largest η whose |θ| shrank and the smallest whose |θ|
    grew. Returns the etas, the measured growth factors per step and the threshold."""
    edge = 2.0 / lam
    etas = edge * (1.0 + (xp.arange(-half_width, half_width) + 0.5) * resolution)
    growth = quadratic_growth(lam, etas, steps)
    stable = growth < 1.0
    last_stable = float(etas[stable].max()) if stable.any() else float("nan")
    first_unstable = float(etas[~stable].min()) if (~stable).any() else float("nan")
    monotone = bool(stable.any() and (~stable).any() and last_stable < first_unstable)
    return {"lam": lam, "etas": etas, "growth": growth, "theory": xp.abs(1.0 - lam * etas),
            "threshold": 0.5 * (last_stable + first_unstable), "step": float(etas[1] - etas[0]),
            "last_stable": last_stable, "first_unstable": first_unstable, "monotone": monotone}


def fit_tanh_net(hidden: int, steps: int, seed: int) -> tuple:
    """A 1-``hidden``-1 tanh net (float64) fit to 64 noisy sine samples: ``steps`` of Adam (lr 0.02), then
    ``steps // 3`` of GD (lr 0.05) to settle into the minimum. Returns (model, x, y)."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.data import toy
    from shenjing.train import full_batch

    sj.manual_seed(seed)
    x, y = toy.sine(64, noise=0.05, random_x=True, seed=seed)
    x, y = x.double(), y.double()
    model = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1)).double()
    full_batch(lambda: F.mse_loss(model(x), y), optim.Adam(model.parameters(), lr=0.02), steps)
    full_batch(lambda: F.mse_loss(model(x), y), optim.SGD(model.parameters(), lr=0.05), steps // 3)
    return model, x, y


def tanh_net_hessians(hidden: int, steps: int, seed: int) -> dict:
    """Train a 1-hidden-layer tanh net to a minimum (:func:`fit_tanh_net`); return the model, data,
    λ_max by power iteration and the full Hessian's eigenvalues and top eigenvector there."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing.autograd.functional import hessian, hessian_lambda_max

    model, x, y = fit_tanh_net(hidden, steps, seed)
    params = list(model.parameters())
    top = hessian_lambda_max(lambda: F.mse_loss(model(x), y), params, iters=500,
                             generator=sj.Generator().manual_seed(seed))
    H = hidden

    def loss_of_flat(th):  # the same network as a function of one flat parameter vector
        W1, b1 = th[0:H].reshape(H, 1), th[H:2 * H]
        W2, b2 = th[2 * H:3 * H].reshape(1, H), th[3 * H:3 * H + 1]
        return F.mse_loss(F.linear(F.linear(x, W1, b1).tanh(), W2, b2), y)

    flat = sj.cat([p.detach().reshape(-1) for p in params])
    full = hessian(loss_of_flat, flat).numpy()
    eig, vecs = xp.linalg.eigh(0.5 * (full + full.T))
    return {"model": model, "x": x, "y": y, "params": params, "lambda_power": float(top.eigenvalue),
            "power_iterations": int(top.iterations), "power_converged": bool(top.converged), "eigvals": eig, "v_max": vecs[:, -1],
            "loss_at_min": float(loss_of_flat(flat).item()), "n_params": int(flat.numel()), "hidden": hidden}


def restart_near_minimum(net: dict, cs, steps: int, rng) -> dict:
    """GD from the minimum plus a 1e-3 Gaussian perturbation (the same for every c) with η = c·2/λ_max:
    the loss per step, |v_maxᵀ(θ_k − θ*)| per step, and a row per c (unstable: the loss rises above
    UNSTABLE_RISE × its start, or overflows)."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import optim

    model, x, y, params, lam = net["model"], net["x"], net["y"], net["params"], net["lambda_power"]
    star = [p.detach().clone() for p in params]
    star_flat = xp.concatenate([p.numpy().ravel() for p in star])
    pert = [sj.tensor(1e-3 * rng.standard_normal(tuple(p.shape)), dtype=sj.float64) for p in params]
    curves, projections, rows = {}, {}, []
    for c in cs:
        with sj.no_grad():
            for p, s, d in zip(params, star, pert):
                p.copy_(s + d)
        opt = optim.SGD(params, lr=c * 2.0 / lam)
        losses, along = [], []
        with xp.errstate(over="ignore", invalid="ignore"):  # past the edge the loss overflows: that is the point
            for _ in range(steps):
                opt.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                losses.append(loss.item())
                flat = xp.concatenate([p.detach().numpy().ravel() for p in params])
                along.append(abs(float(net["v_max"] @ (flat - star_flat))))
                opt.step()
        curves[c], projections[c] = xp.asarray(losses), xp.asarray(along)
        finite = curves[c][xp.isfinite(curves[c])]
        rise = float(finite.max() / losses[0]) if finite.size == len(losses) else float("inf")
        rows.append({"c": c, "eta": c * 2.0 / lam, "loss_start": losses[0], "max_loss_over_start": rise,
                     "final_loss": losses[-1], "unstable": rise > UNSTABLE_RISE})
    return {"curves": curves, "projections": projections, "rows": rows}


def measure(ctx) -> Measurement:
    resolution = 0.01 if ctx.quick else 0.002
    lams = [0.5, 2.0, 10.0] if ctx.quick else [0.1, 0.5, 2.0, 10.0, 50.0]
    sweeps = [quadratic_threshold(lam, resolution) for lam in lams]
    net = tanh_net_hessians(hidden=8 if ctx.quick else 16, steps=1500 if ctx.quick else 4000, seed=ctx.seed)
    lam_full, lam_pow = float(net["eigvals"][-1]), net["lambda_power"]
    cs = [0.5, 0.9, 0.98, 1.02, 1.1, 1.5] if ctx.quick else [0.25, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01, 1.02, 1.05, 1.1, 1.25, 1.5, 2.0]
    steps = 300 if ctx.quick else 600
    restarts = restart_near_minimum(net, cs, steps, ctx.rng)
    rows = restarts["rows"]
    c_last = max((r["c"] for r in rows if not r["unstable"]), default=float("nan"))
    c_first = min((r["c"] for r in rows if r["unstable"]), default=float("nan"))
    measured = {
        "quadratic": [{"lambda": s["lam"], "two_over_lambda": 2.0 / s["lam"], "measured_threshold": s["threshold"],
                       "sweep_step": s["step"], "monotone": s["monotone"]} for s in sweeps],
        "quadratic_last_convergent_over_first_divergent_eta": {f"λ={s['lam']:g}": s["last_stable"] / s["first_unstable"] for s in sweeps},
        "quadratic_threshold_error_in_steps": {f"λ={s['lam']:g}": abs(s["threshold"] - 2.0 / s["lam"]) / s["step"] for s in sweeps},
        "network": {"parameters": net["n_params"], "loss_at_minimum": net["loss_at_min"],
                    "lambda_max_power_iteration": lam_pow, "power_iterations": net["power_iterations"],
                    "lambda_max_full_hessian": lam_full, "relative_difference": abs(lam_pow - lam_full) / abs(lam_full),
                    "lambda_min_full_hessian": float(net["eigvals"][0]), "eta_edge": 2.0 / lam_pow,
                    "runs": rows, "largest_stable_c": c_last, "smallest_unstable_c": c_first,
                    "unstable_minus_stable_c": c_first - c_last},
    }
    method = (f"Quadratic: {len(sweeps[0]['etas'])} learning rates per λ ∈ {{{', '.join(f'{lam:g}' for lam in lams)}}} spaced "
              f"{resolution:g}·(2/λ) apart straddling 2/λ, 200 GD steps with optim.SGD from θ = 1; an η counts as divergent "
              "when |θ_200| > |θ_0|, and the measured threshold is the midpoint of the last convergent and the first divergent "
              f"η. Network: a 1-{net['hidden']}-1 tanh MLP fit to 64 noisy sine samples (Adam, then GD), λ_max by power "
              "iteration on Hessian-vector products, compared with the largest eigenvalue of the full Hessian; GD restarted "
              f"from the minimum plus a 1e-3 perturbation for {steps} steps with η = c·2/λ_max, c ∈ {{{', '.join(f'{c:g}' for c in cs)}}}; "
              f"a run is unstable when its loss rises above {UNSTABLE_RISE:g}× its start.")
    return Measurement(measured, method, data={"sweeps": sweeps, "net": net, "cs": cs, "resolution": resolution, **restarts})


def _quadratic_figure(plt, sweeps: list, resolution: float):
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    ax = axes[0]
    wide = xp.geomspace(0.02, 30.0, 61)
    for s in sweeps:
        lam = s["lam"]
        line, = ax.plot(wide, xp.abs(1.0 - lam * wide), "-", alpha=0.5)
        with xp.errstate(over="ignore", invalid="ignore"):  # the largest η of the wide sweep overflow: expected
            growth = quadratic_growth(lam, wide, 50)
        ax.plot(wide, growth, "o", ms=3, color=line.get_color(),
                label=f"λ = {lam:g}: edge 2/λ = {2 / lam:g}")
        ax.axvline(2.0 / lam, color=line.get_color(), ls=":", lw=1.2)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0, 2.5)
    ax.set(xlabel="learning rate η (log scale)", ylabel="growth of |θ| per step, |θ_K/θ_0|^(1/K)",
           title="GD on L = ½λθ²: dots measured (50 steps),\nlines |1 − λη|, dotted η = 2/λ")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    for row, s in enumerate(sweeps):
        r = s["etas"] * s["lam"] / 2.0
        stable = s["growth"] < 1
        ax.plot(r[stable], [row] * int(stable.sum()), "o", color="tab:green", mfc="none", ms=6,
                label="|θ| shrinks (converges)" if row == 0 else None)
        ax.plot(r[~stable], [row] * int((~stable).sum()), "x", color="tab:red", ms=6,
                label="|θ| grows (diverges)" if row == 0 else None)
    ax.axvline(1.0, color="k", ls="--", lw=1, label="η = 2/λ")
    ax.set_yticks(range(len(sweeps)), [f"λ = {s['lam']:g}" for s in sweeps])
    ax.set_ylim(-0.7, len(sweeps) - 0.3)
    ax.set(xlabel="learning rate relative to the edge, η / (2/λ)",
           title=f"the fine sweep behind the verdict (200 steps,\nη spaced {resolution:g}·2/λ): the switch is at η = 2/λ")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax = axes[2]
    lam, cs_traj = 2.0, (0.25, 0.95, 1.0, 1.05)
    traj = quadratic_gd(lam, [c * 2.0 / lam for c in cs_traj], 60)
    for i, c in enumerate(cs_traj):
        ax.plot(xp.arange(61), xp.abs(traj[:, i]), "--" if c == 1.0 else "-",
                label=f"η = {c:g}·2/λ  (1 − λη = {1 - 2 * c:+.2f})")
    ax.set_yscale("log")
    ax.set(xlabel="GD step k", ylabel="|θ_k| (log scale)", title="|θ_k| of GD on ½λθ² with λ = 2 (edge η = 1)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def _network_figure(plt, net: dict, cs: list, curves: dict, projections: dict):
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.5), gridspec_kw={"width_ratios": [1.3, 1.3, 1]})
    blues, reds = plt.get_cmap("Blues"), plt.get_cmap("Reds")
    below, above = [c for c in cs if c < 1], [c for c in cs if c >= 1]
    lam_pow = net["lambda_power"]

    def colour(c):  # blues below the edge (darker = further), reds above it
        if c < 1:
            return blues(0.95 - 0.6 * below.index(c) / max(1, len(below) - 1))
        return reds(0.35 + 0.6 * above.index(c) / max(1, len(above) - 1))

    for ax, data, ylabel, title in (
        (axes[0], curves, "training loss (MSE, log scale)",
         f"loss of a 1-{net['hidden']}-1 tanh net, GD restarted near\nits minimum with η = c·2/λ_max (2/λ_max = {2 / lam_pow:.3f})"),
        (axes[1], projections, "|v_maxᵀ(θ_k − θ*)| (log scale)",
         "distance from the minimum θ* along the top\nHessian eigenvector: shrinks by |1 − ηλ_max| per step"),
    ):
        for c in cs:
            ax.plot(xp.clip(data[c], 1e-12, 1e2), color=colour(c), lw=1.4,
                    label=f"c = {c:g}" + (" (η > 2/λ_max)" if c > 1 else ""))
        ax.set_yscale("log")
        ax.set(xlabel="GD step", ylabel=ylabel, title=title)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylim(None, 1e2)
    axes[0].legend(fontsize=8, ncol=2, title="values above 1e2 clipped", title_fontsize=7)
    ax = axes[2]
    ev = net["eigvals"]
    ax.plot(xp.arange(1, len(ev) + 1), ev[::-1], "o", ms=4, label="full Hessian (hessian + eigvalsh)")
    ax.axhline(lam_pow, color="r", ls="--", lw=1, label=f"power iteration: λ_max = {lam_pow:.4f}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_ylim(-1e-2, 3 * lam_pow)
    ax.set(xlabel="eigenvalue index (descending)", ylabel="Hessian eigenvalue (symlog scale)",
           title=f"Hessian spectrum at the minimum\n({net['n_params']} parameters)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt, d = pyplot(), m.data
    ctx.savefig(_quadratic_figure(plt, d["sweeps"], d["resolution"]), "quadratic-edge.png")
    ctx.savefig(_network_figure(plt, d["net"], d["cs"], d["curves"], d["projections"]), "network-edge.png")
