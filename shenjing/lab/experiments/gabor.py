"""gabor: the Gabor model's loss surface has many local minima; GD ends where it starts; SGD escapes.

Fang §6.1.2 (after Prince, *Understanding Deep Learning* §6.1.2):
f(x; φ) = sin(φ₀ + 0.06·φ₁x)·exp(−(φ₀ + 0.06·φ₁x)²/32) — φ₀ shifts the function, φ₁ > 0 narrows it.
Its least-squares loss over (φ₀, φ₁) is non-convex (非凸). Fang §6.1 lists GD's weakness
("容易陷入局部极小值点") and §6.2 SGD's strength ("容易逃脱局部极小": a batch's gradient can raise the
full loss and so carry the iterate out of a local minimum).

Measured on 50 noisy samples of f(x; 0, 16.6) (``data.toy.gabor_data``), in Prince's window
φ₀ ∈ [−10, 10], φ₁ ∈ [2.5, 22.5]: the local minima of the loss on a grid (merged after a GD polish);
the minimum GD reaches from a grid of starts; and SGD (mini-batches drawn without replacement, the
same learning rate) from the same starts and from each local minimum. Every endpoint is classified by
polishing it with GD and matching it to the list of minima. The loss is the mean over the batch
(the notes write the sum; a sum over B samples is the mean with the learning rate scaled by B).
"""

from __future__ import annotations

from itertools import product

from ...backend import xp
from ..core import experiment

WINDOW = ((-10.0, 10.0), (2.5, 22.5))


def data(seed: int = 0):
    from shenjing.data import toy

    x, y = toy.gabor_data(50, seed=seed)
    return x.numpy().ravel().astype(xp.float64), y.numpy().ravel().astype(xp.float64)


def loss_grid(X, Y, phi0, phi1) -> xp.ndarray:
    """Mean squared error of the Gabor model for every (φ₀, φ₁) of the grid."""
    from shenjing.data import toy

    P0, P1 = xp.meshgrid(phi0, phi1, indexing="ij")
    return ((toy.gabor(X[None, None, :], P0[..., None], P1[..., None]) - Y) ** 2).mean(-1)


def loss_at(X, Y, P) -> xp.ndarray:
    from shenjing.data import toy

    return ((toy.gabor(X[None, :], P[:, 0:1], P[:, 1:2]) - Y) ** 2).mean(1)


def descend(X, Y, starts, lr: float, steps: int, batch: int | None = None, rng=None, record: bool = False):
    """GD (batch=None) or SGD with mini-batches of ``batch`` samples drawn without replacement, run
    from every row of ``starts`` at once (one (S, 2) parameter, optim.SGD). Each run draws its own batches."""
    import shenjing as sj
    from shenjing import optim
    from shenjing.data import toy

    phi = sj.tensor(xp.asarray(starts, dtype=xp.float64), requires_grad=True)
    opt = optim.SGD([phi], lr=lr)
    S, N = len(starts), len(X)
    path = [phi.detach().numpy().copy()] if record else None
    for _ in range(steps):
        opt.zero_grad()
        if batch is None:
            xb, yb = xp.broadcast_to(X, (S, N)), xp.broadcast_to(Y, (S, N))
        else:
            idx = xp.argsort(rng.random((S, N)), axis=1)[:, :batch]
            xb, yb = X[idx], Y[idx]
        f = toy.gabor(sj.tensor(xb), phi[:, 0:1], phi[:, 1:2])
        ((f - sj.tensor(yb)) ** 2).mean(dim=1).sum().backward()
        opt.step()
        if record:
            path.append(phi.detach().numpy().copy())
    out = phi.detach().numpy()
    return (out, xp.asarray(path)) if record else out


def find_minima(X, Y, n_grid: int = 201, merge: float = 0.3) -> tuple[xp.ndarray, xp.ndarray, int]:
    """Grid points lower than their 8 neighbours, polished by GD and merged when closer than ``merge``.
    Returns the minima sorted by loss, their losses, and the number of grid candidates."""
    phi0, phi1 = xp.linspace(*WINDOW[0], n_grid), xp.linspace(*WINDOW[1], n_grid)
    L = loss_grid(X, Y, phi0, phi1)
    inner = L[1:-1, 1:-1]
    is_min = xp.ones_like(inner, dtype=bool)
    for dx, dy in product((-1, 0, 1), repeat=2):
        if dx or dy:
            is_min &= inner < L[1 + dx:L.shape[0] - 1 + dx, 1 + dy:L.shape[1] - 1 + dy]
    cand = xp.array([[phi0[i + 1], phi1[j + 1]] for i, j in xp.argwhere(is_min)])
    polished = descend(X, Y, cand, lr=1.0, steps=3000)
    mins: list = []
    for p in polished:
        if not any(xp.linalg.norm(p - q) < merge for q in mins):
            mins.append(p)
    mins = xp.asarray(mins)
    losses = loss_at(X, Y, mins)
    order = xp.argsort(losses)
    return mins[order], losses[order], len(cand)


def classify(X, Y, P, minima, tol: float = 0.5, polish: int = 800) -> xp.ndarray:
    """Index of the minimum each point's basin leads to (GD polish, nearest within ``tol``), −1 if none."""
    Q = descend(X, Y, P, lr=1.0, steps=polish)
    d = xp.linalg.norm(Q[:, None, :] - minima[None], axis=2)
    k = d.argmin(axis=1)
    k[d.min(axis=1) > tol] = -1
    return k


@experiment(
    id="gabor",
    title="The Gabor model: local minima, GD from different starts, SGD escapes",
    title_zh="Gabor 模型与局部极小值",
    source="Fang §6.1.2, §6.2",
    claim="The least-squares loss of the Gabor model f(x;φ) = sin(φ₀ + 0.06φ₁x)·exp(−(φ₀ + 0.06φ₁x)²/32) has several "
          "local minima; GD from different starts ends in different minima; SGD escapes local minima that hold GD, "
          "while it stays in the global minimum (its gradient noise grows with the misfit).",
)
def run(ctx) -> dict:
    from shenjing.data import toy
    from shenjing.viz.plots import _plt

    plt = _plt()
    X, Y = data(ctx.seed)
    minima, min_losses, n_cand = find_minima(X, Y, 201 if ctx.quick else 401)
    n_min = len(minima)
    glob = minima[0]
    lr, batch = 4.0, 5
    steps = 800 if ctx.quick else 2000
    n_side, repeats = (6, 3) if ctx.quick else (9, 10)

    # GD and SGD from a grid of starts
    g0, g1 = xp.meshgrid(xp.linspace(-9, 9, n_side), xp.linspace(3.5, 21.5, n_side), indexing="ij")
    starts = xp.stack([g0.ravel(), g1.ravel()], axis=1)
    gd_end, gd_path = descend(X, Y, starts, lr, steps, record=True)
    gd_k = classify(X, Y, gd_end, minima)
    sgd_starts = xp.repeat(starts, repeats, axis=0)
    sgd_end = descend(X, Y, sgd_starts, lr, steps, batch=batch, rng=ctx.rng)
    sgd_k = classify(X, Y, sgd_end, minima)
    gd_global, sgd_global = float(xp.mean(gd_k == 0)), float(xp.mean(sgd_k == 0))
    gd_distinct = len(set(int(k) for k in gd_k if k >= 0))

    # from each local minimum: GD stays, SGD leaves
    local = minima[1:]
    home = xp.repeat(xp.arange(1, n_min), repeats * 2)
    from_local = xp.repeat(local, repeats * 2, axis=0)
    gd_stay_k = classify(X, Y, descend(X, Y, local, lr, steps), minima)
    gd_escape = float(xp.mean(gd_stay_k != xp.arange(1, n_min)))
    esc_end, esc_path = descend(X, Y, from_local, lr, steps, batch=batch, rng=ctx.rng, record=True)
    esc_k = classify(X, Y, esc_end, minima)
    sgd_escape = float(xp.mean(esc_k != home))
    escape_to_global = float(xp.mean(esc_k == 0))
    escape_to_lower = float(xp.mean([(k >= 0 and k < h) for k, h in zip(esc_k, home)]))
    # and SGD at the global minimum: stays
    glob_k = classify(X, Y, descend(X, Y, xp.repeat(glob[None], repeats * 2, axis=0), lr, steps, batch=batch,
                                     rng=ctx.rng), minima)
    sgd_stays_global = float(xp.mean(glob_k == 0))

    per_min_escape = [float(xp.mean(esc_k[home == j] != j)) for j in range(1, n_min)]
    escape_to_plateau = float(xp.mean(esc_k == -1))
    verdict = bool(n_min >= 3 and gd_distinct >= 3 and gd_escape == 0.0 and sgd_escape >= 0.25
                   and sgd_stays_global >= 0.9)

    # figures
    phi0, phi1 = xp.linspace(*WINDOW[0], 300), xp.linspace(*WINDOW[1], 300)
    L = loss_grid(X, Y, phi0, phi1)

    def surface(ax, title):
        cs = ax.contourf(phi0, phi1, xp.log10(L.T), levels=30, cmap="viridis")
        ax.plot(glob[0], glob[1], "*", color="gold", mec="k", ms=16, label=f"global minimum (loss {min_losses[0]:.3f})")
        ax.plot(local[:, 0], local[:, 1], "X", color="w", mec="k", ms=9, label=f"{n_min - 1} local minima")
        ax.set(xlabel="φ₀ (offset)", ylabel="φ₁ (frequency)", title=title, xlim=WINDOW[0], ylim=WINDOW[1])
        return cs

    fig, axes = plt.subplots(1, 2, figsize=(14, 5.6))
    cs = surface(axes[0], f"loss of the Gabor model (log₁₀ MSE): {n_min} minima in the window\n"
                          f"({n_cand} grid points lower than their 8 neighbours, merged after a GD polish)")
    for m, lv in zip(minima, min_losses):
        axes[0].annotate(f"{lv:.3f}", m, textcoords="offset points", xytext=(6, 4), fontsize=7, color="w")
    fig.colorbar(cs, ax=axes[0], label="log₁₀ loss")
    axes[0].legend(fontsize=8, loc="upper left")
    ax = axes[1]
    xs = xp.linspace(-15, 15, 400)
    ax.plot(X, Y, "ko", ms=4, label="50 noisy samples of f(x; 0, 16.6)")
    ax.plot(xs, toy.gabor(xs, *glob), "-", color="goldenrod", lw=2,
            label=f"global minimum φ = ({glob[0]:.2f}, {glob[1]:.2f})")
    for j in (1, 2):
        if j < n_min:
            ax.plot(xs, toy.gabor(xs, *minima[j]), "--", lw=1.3,
                    label=f"local minimum φ = ({minima[j][0]:.2f}, {minima[j][1]:.2f}), loss {min_losses[j]:.3f}")
    ax.set(xlabel="x", ylabel="y = f(x; φ)", title="the data and the model at three minima")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    ctx.savefig(fig, "surface.png")

    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(2, 2, figsize=(16, 12.5))
    axes = axes.ravel()
    ends = [Line2D([], [], color="gold", lw=2, label="ends in the global minimum"),
            Line2D([], [], color="tomato", lw=2, label="ends in a local minimum"),
            Line2D([], [], color="0.8", lw=2, label="ends on a plateau (no minimum)")]
    surface(axes[0], f"GD (η = {lr:g}) from {len(starts)} starts: {gd_distinct} different minima reached,\n"
                     f"{100 * gd_global:.0f}% reach the global one")
    for s in range(len(starts)):
        c = "gold" if gd_k[s] == 0 else ("tomato" if gd_k[s] > 0 else "0.8")
        axes[0].plot(gd_path[:, s, 0], gd_path[:, s, 1], "-", color=c, lw=1)
        axes[0].plot(*gd_path[0, s], "o", color=c, ms=3)
    handles = axes[0].get_legend_handles_labels()[0]
    axes[0].legend(handles=handles + ends, fontsize=8, loc="upper left", framealpha=0.9)
    surface(axes[1], f"SGD (batch {batch} of {len(X)}, η = {lr:g}) started at the local minima\n"
                     "(every escape to the global minimum, one escape from each local minimum):\n"
                     f"{100 * sgd_escape:.0f}% of runs leave (GD: {100 * gd_escape:.0f}%), "
                     f"{100 * escape_to_global:.0f}% reach the global minimum")
    shown = set()
    for s in range(esc_path.shape[1]):  # every run that reaches the global minimum, one escape per local minimum
        if esc_k[s] == 0 or (esc_k[s] != home[s] and home[s] not in shown):
            shown.add(home[s])
            axes[1].plot(esc_path[::4, s, 0], esc_path[::4, s, 1], "-", lw=0.8,
                         color="gold" if esc_k[s] == 0 else ("tomato" if esc_k[s] > 0 else "0.8"), alpha=0.9)
    handles = axes[1].get_legend_handles_labels()[0]
    axes[1].legend(handles=handles + ends, fontsize=8, loc="upper left", framealpha=0.9)
    ax = axes[2]
    labels = ["reach the global\nminimum from the\ngrid of starts", "leave a local\nminimum they\nstart in",
              "start in a local\nminimum, end in\nthe global one", "start in the global\nminimum, stay"]
    gd_vals = [gd_global, gd_escape, 0.0, 1.0]
    sgd_vals = [sgd_global, sgd_escape, escape_to_global, sgd_stays_global]
    pos = xp.arange(len(labels))
    ax.bar(pos - 0.2, gd_vals, 0.4, label="GD", color="tab:blue")
    ax.bar(pos + 0.2, sgd_vals, 0.4, label=f"SGD (batch {batch})", color="tab:orange")
    for p, a, b in zip(pos, gd_vals, sgd_vals):
        ax.text(p - 0.2, a + 0.01, f"{100 * a:.0f}%", ha="center", fontsize=8)
        ax.text(p + 0.2, b + 0.01, f"{100 * b:.0f}%", ha="center", fontsize=8)
    ax.set_xticks(pos, labels, fontsize=8)
    ax.set(ylabel="fraction of runs", ylim=(0, 1.1), title="GD vs SGD, measured")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax = axes[3]
    ax.plot(min_losses[1:], per_min_escape, "o", color="tab:orange", ms=7, label="a local minimum")
    ax.plot([min_losses[0]], [1 - sgd_stays_global], "*", color="gold", mec="k", ms=16, label="the global minimum")
    ax.set(xlabel="loss at the minimum (MSE)", ylabel=f"fraction of SGD runs that leave it ({steps} steps)",
           ylim=(-0.05, 1.05), title="SGD leaves the poorly fitting minima:\nbatch-gradient noise grows with the misfit")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    ctx.savefig(fig, "gd-vs-sgd.png")

    return {
        "measured": {
            "minima": [{"phi0": float(m[0]), "phi1": float(m[1]), "loss": float(v)} for m, v in zip(minima, min_losses)],
            "number_of_minima": n_min, "grid_candidates": n_cand,
            "gd_starts": len(starts), "gd_distinct_minima_reached": gd_distinct,
            "gd_fraction_global_from_starts": gd_global,
            "sgd_runs_from_starts": len(sgd_starts), "sgd_fraction_global_from_starts": sgd_global,
            "gd_fraction_leaving_local_minimum": gd_escape,
            "sgd_runs_from_local_minima": len(from_local), "sgd_fraction_leaving_local_minimum": sgd_escape,
            "sgd_fraction_from_local_to_global": escape_to_global,
            "sgd_fraction_from_local_to_a_lower_minimum": escape_to_lower,
            "sgd_fraction_from_local_to_a_plateau": escape_to_plateau,
            "sgd_escape_fraction_per_local_minimum": per_min_escape,
            "sgd_fraction_staying_at_global": sgd_stays_global,
            "learning_rate": lr, "batch_size": batch, "steps": steps,
        },
        "verdict": verdict,
        "method": f"Mean-squared loss of 50 samples on a 201×201 (full mode 401×401) grid of Prince's window; grid points "
                  f"below their 8 neighbours polished by GD and merged within 0.3 give the minima. GD and SGD (batch {batch}, "
                  f"without replacement) run {steps} steps with η = {lr:g} (below 2/λ_max at the global minimum); every "
                  "endpoint is polished by 800 GD steps and assigned to the minimum within 0.5 (else none: a plateau). "
                  "Holds if there are ≥ 3 minima, GD from the grid of starts ends in ≥ 3 different ones, GD started at a "
                  "local minimum never leaves it while SGD leaves in ≥ 25% of runs, "
                  "and ≥ 90% of SGD runs started at the global minimum stay there. The fractions of the "
                  "grid of starts reaching the global minimum (GD vs SGD) and where the escapes end (a lower minimum, the "
                  "global one, a plateau) are reported, not thresholded: escaping a minimum does not mean finding the best one.",
    }
