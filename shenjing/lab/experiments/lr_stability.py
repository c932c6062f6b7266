"""lr-stability: gradient descent is stable iff η < 2/λ (Xu §1.10.3, eq. 1.60).

On L = ½λθ² one GD step is θ ← (1 − λη)θ, so |θ| shrinks iff |1 − λη| < 1, i.e. η < 2/λ. In many
dimensions λ is an eigenvalue of the loss's Hessian (黑塞矩阵) and the binding one is λ_max.

The experiment (1) sweeps η across 2/λ on the quadratic for several λ with shenjing's SGD (one
parameter group per η) and finds where |θ_k| starts to grow; (2) trains a small tanh network to a
minimum, measures λ_max there by power iteration on Hessian-vector products
(``hessian_lambda_max``), checks it against the eigenvalues of the full Hessian
(``autograd.functional.hessian`` + ``eigvalsh``), and restarts GD from a slightly perturbed minimum
with η = c·2/λ_max for c below and above 1.
"""

from __future__ import annotations

from ...backend import xp
from ..core import experiment


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
            "monotone": monotone}


def tanh_net_hessians(hidden: int, steps: int, seed: int) -> dict:
    """Train a 1-hidden-layer tanh net on noisy sine data to a minimum; return the model, data,
    λ_max by power iteration and the full Hessian's eigenvalues there."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.autograd.functional import hessian, hessian_lambda_max
    from shenjing.data import toy

    sj.manual_seed(seed)
    x, y = toy.sine(64, noise=0.05, random_x=True, seed=seed)
    x, y = x.double(), y.double()
    model = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1)).double()
    opt = optim.Adam(model.parameters(), lr=0.02)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    opt = optim.SGD(model.parameters(), lr=0.05)  # settle into the minimum with plain GD
    for _ in range(steps // 3):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
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


@experiment(
    id="lr-stability",
    title="Learning rate and training instability: η < 2/λ",
    title_zh="学习率与训练不稳定性",
    source="Xu §1.10.3 (eq. 1.60)",
    claim="Gradient descent on L = ½λθ² converges iff η < 2/λ, and on a network the edge is η = 2/λ_max with λ_max "
          "the largest Hessian eigenvalue at the minimum (measured by power iteration).",
)
def run(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.viz.plots import _plt

    plt = _plt()
    resolution = 0.01 if ctx.quick else 0.002
    lams = [0.5, 2.0, 10.0] if ctx.quick else [0.1, 0.5, 2.0, 10.0, 50.0]
    sweeps = [quadratic_threshold(lam, resolution) for lam in lams]
    quad_ok = all(s["monotone"] and abs(s["threshold"] - 2.0 / s["lam"]) <= s["step"] for s in sweeps)

    # a small network: λ_max at a minimum, and GD restarted near it with η = c·2/λ_max
    net = tanh_net_hessians(hidden=8 if ctx.quick else 16, steps=1500 if ctx.quick else 4000, seed=ctx.seed)
    lam_full = float(net["eigvals"][-1])
    lam_pow = net["lambda_power"]
    rel_err = abs(lam_pow - lam_full) / abs(lam_full)
    model, x, y, params = net["model"], net["x"], net["y"], net["params"]
    star = [p.detach().clone() for p in params]
    star_flat = xp.concatenate([p.numpy().ravel() for p in star])
    pert = [sj.tensor(1e-3 * ctx.rng.standard_normal(tuple(p.shape)), dtype=sj.float64) for p in params]
    cs = [0.5, 0.9, 0.98, 1.02, 1.1, 1.5] if ctx.quick else [0.25, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01, 1.02, 1.05, 1.1, 1.25, 1.5, 2.0]
    steps = 300 if ctx.quick else 600
    curves, projections, net_rows = {}, {}, []
    for c in cs:
        with sj.no_grad():
            for p, s, d in zip(params, star, pert):
                p.copy_(s + d)
        opt = optim.SGD(params, lr=c * 2.0 / lam_pow)
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
        losses = xp.asarray(losses)
        projections[c] = xp.asarray(along)
        finite = losses[xp.isfinite(losses)]
        rise = float(finite.max() / losses[0]) if finite.size == losses.size else float("inf")
        curves[c] = losses
        net_rows.append({"c": c, "eta": c * 2.0 / lam_pow, "loss_start": float(losses[0]),
                         "max_loss_over_start": rise, "final_loss": float(losses[-1]), "unstable": rise > 2.0})
    stable_cs = [r["c"] for r in net_rows if not r["unstable"]]
    unstable_cs = [r["c"] for r in net_rows if r["unstable"]]
    c_last, c_first = max(stable_cs, default=float("nan")), min(unstable_cs, default=float("nan"))
    net_edge_ok = bool(stable_cs and unstable_cs and c_last < c_first and 0.9 <= c_last and c_first <= 1.1)
    hessian_ok = rel_err < 1e-6

    # figures
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    ax = axes[0]
    wide = xp.geomspace(0.02, 30.0, 61)
    for s in sweeps:
        lam = s["lam"]
        line, = ax.plot(wide, xp.abs(1.0 - lam * wide), "-", alpha=0.5)
        ax.plot(wide, quadratic_growth(lam, wide, 50), "o", ms=3, color=line.get_color(),
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
    ctx.savefig(fig, "quadratic-edge.png")

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.5), gridspec_kw={"width_ratios": [1.3, 1.3, 1]})
    blues, reds = plt.get_cmap("Blues"), plt.get_cmap("Reds")

    below, above = [c for c in cs if c < 1], [c for c in cs if c >= 1]

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
    ctx.savefig(fig, "network-edge.png")

    verdict = bool(quad_ok and hessian_ok and net_edge_ok)
    return {
        "measured": {
            "quadratic": [{"lambda": s["lam"], "two_over_lambda": 2.0 / s["lam"], "measured_threshold": s["threshold"],
                           "sweep_step": s["step"], "monotone": s["monotone"]} for s in sweeps],
            "network": {"parameters": net["n_params"], "loss_at_minimum": net["loss_at_min"],
                        "lambda_max_power_iteration": lam_pow, "power_iterations": net["power_iterations"],
                        "lambda_max_full_hessian": lam_full, "relative_difference": rel_err,
                        "lambda_min_full_hessian": float(net["eigvals"][0]), "eta_edge": 2.0 / lam_pow,
                        "runs": net_rows, "largest_stable_c": c_last, "smallest_unstable_c": c_first},
        },
        "verdict": verdict,
        "method": f"Quadratic: {len(sweeps[0]['etas'])} learning rates per λ spaced {resolution:g}·(2/λ) apart straddling 2/λ, "
                  "200 GD steps with optim.SGD from θ = 1; an η counts as divergent when |θ_200| > |θ_0|; the measured "
                  "threshold (midpoint of the last convergent and first divergent η) must be within one sweep step of 2/λ, "
                  "with every η below convergent and every η above divergent. Network: a tanh MLP fit to 64 noisy sine "
                  "samples (Adam then GD), λ_max by power iteration on Hessian-vector products, compared with the largest "
                  "eigenvalue of the full Hessian (relative difference < 1e-6); GD restarted from the minimum plus a 1e-3 "
                  f"perturbation for {steps} steps with η = c·2/λ_max; unstable when the loss rises above 2× its start. "
                  "The claim holds if the stability edge lies between the largest stable and smallest unstable c, within 0.9–1.1.",
    }
