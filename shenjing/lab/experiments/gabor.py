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
from ..core import Check, Experiment, Measurement

WINDOW = ((-10.0, 10.0), (2.5, 22.5))
LR, BATCH = 4.0, 5

EXPERIMENT = Experiment(
    id="gabor",
    title="The Gabor model: local minima, GD from different starts, SGD escapes",
    title_zh="Gabor 模型与局部极小值",
    source="Fang §6.1.2, §6.2",
    claim="The least-squares loss of the Gabor model f(x;φ) = sin(φ₀ + 0.06φ₁x)·exp(−(φ₀ + 0.06φ₁x)²/32) has several "
          "local minima; GD from different starts ends in different minima; SGD escapes local minima that hold GD, "
          "while it stays in the global minimum (its gradient noise grows with the misfit).",
    claim_zh="Gabor 模型 f(x;φ) = sin(φ₀ + 0.06φ₁x)·exp(−(φ₀ + 0.06φ₁x)²/32) 的最小二乘损失有多个局部极小; 从不同起点出发的 "
             "GD 停在不同的极小点; SGD 能逃离困住 GD 的局部极小, 却停留在全局极小 (其梯度噪声随拟合误差增大).",
    checks=(
        Check("number_of_minima", ">=", 3, "the number of minima in the window", what_zh="窗口内极小点的个数"),
        Check("gd_distinct_minima_reached", ">=", 3, "the number of different minima GD reaches from the grid of starts",
              what_zh="从起点网格出发 GD 到达的不同极小点个数"),
        Check("gd_fraction_leaving_local_minimum", "==", 0.0, "the fraction of GD runs started at a local minimum that leave it",
              what_zh="从局部极小出发的 GD 运行中离开它的比例"),
        Check("sgd_fraction_leaving_local_minimum", ">=", 0.25, "the same fraction for SGD", what_zh="SGD 的同一比例"),
        Check("sgd_fraction_staying_at_global", ">=", 0.9, "the fraction of SGD runs started at the global minimum that stay there",
              what_zh="从全局极小出发的 SGD 运行中停留在那里的比例"),
    ),
)


def data(seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
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


def descend(X, Y, starts, lr: float, steps: int, batch: int | None = None, rng=None,
            record: bool = False) -> xp.ndarray | tuple[xp.ndarray, xp.ndarray]:
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




def from_grid_of_starts(X, Y, minima, steps: int, n_side: int, repeats: int, rng) -> dict:
    """GD from an ``n_side`` × ``n_side`` grid of starts in the window, and SGD ``repeats`` times from each
    start; the index of the minimum each run ends in (:func:`classify`) and GD's paths."""
    g0, g1 = xp.meshgrid(xp.linspace(-9, 9, n_side), xp.linspace(3.5, 21.5, n_side), indexing="ij")
    starts = xp.stack([g0.ravel(), g1.ravel()], axis=1)
    gd_end, gd_path = descend(X, Y, starts, LR, steps, record=True)
    sgd_end = descend(X, Y, xp.repeat(starts, repeats, axis=0), LR, steps, batch=BATCH, rng=rng)
    return {"starts": starts, "gd_path": gd_path, "gd_k": classify(X, Y, gd_end, minima), "sgd_k": classify(X, Y, sgd_end, minima)}


def from_minima(X, Y, minima, steps: int, runs: int, rng) -> dict:
    """GD once and SGD ``runs`` times from each local minimum, SGD ``runs`` times from the global one
    (``minima[0]``): where each run ends (``home``: the minimum each SGD run started in) and SGD's paths."""
    local = minima[1:]
    home = xp.repeat(xp.arange(1, len(minima)), runs)
    gd_k = classify(X, Y, descend(X, Y, local, LR, steps), minima)
    esc_end, esc_path = descend(X, Y, xp.repeat(local, runs, axis=0), LR, steps, batch=BATCH, rng=rng, record=True)
    esc_k = classify(X, Y, esc_end, minima)
    glob_end = descend(X, Y, xp.repeat(minima[0][None], runs, axis=0), LR, steps, batch=BATCH, rng=rng)
    return {"home": home, "gd_k": gd_k, "esc_k": esc_k, "esc_path": esc_path, "glob_k": classify(X, Y, glob_end, minima)}


def measure(ctx) -> Measurement:
    X, Y = data(ctx.seed)
    n_grid = 201 if ctx.quick else 401
    minima, min_losses, n_cand = find_minima(X, Y, n_grid)
    n_min = len(minima)
    steps = 800 if ctx.quick else 2000
    n_side, repeats = (6, 3) if ctx.quick else (9, 10)
    grid = from_grid_of_starts(X, Y, minima, steps, n_side, repeats, ctx.rng)
    esc = from_minima(X, Y, minima, steps, 2 * repeats, ctx.rng)
    home, esc_k = esc["home"], esc["esc_k"]
    measured = {
        "minima": [{"phi0": float(m[0]), "phi1": float(m[1]), "loss": float(v)} for m, v in zip(minima, min_losses)],
        "number_of_minima": n_min, "grid_candidates": n_cand,
        "gd_starts": len(grid["starts"]), "gd_distinct_minima_reached": len(set(int(k) for k in grid["gd_k"] if k >= 0)),
        "gd_fraction_global_from_starts": float(xp.mean(grid["gd_k"] == 0)),
        "sgd_runs_from_starts": len(grid["sgd_k"]), "sgd_fraction_global_from_starts": float(xp.mean(grid["sgd_k"] == 0)),
        "gd_fraction_leaving_local_minimum": float(xp.mean(esc["gd_k"] != xp.arange(1, n_min))),
        "sgd_runs_from_local_minima": len(esc_k), "sgd_fraction_leaving_local_minimum": float(xp.mean(esc_k != home)),
        "sgd_fraction_from_local_to_global": float(xp.mean(esc_k == 0)),
        "sgd_fraction_from_local_to_a_lower_minimum": float(xp.mean([(k >= 0 and k < h) for k, h in zip(esc_k, home)])),
        "sgd_fraction_from_local_to_a_plateau": float(xp.mean(esc_k == -1)),
        "sgd_escape_fraction_per_local_minimum": [float(xp.mean(esc_k[home == j] != j)) for j in range(1, n_min)],
        "sgd_fraction_staying_at_global": float(xp.mean(esc["glob_k"] == 0)),
        "learning_rate": LR, "batch_size": BATCH, "steps": steps,
    }
    method = (f"Mean-squared loss of 50 samples on a {n_grid}×{n_grid} grid of Prince's window; grid points below their 8 "
              "neighbours, polished by 3000 GD steps and merged within 0.3, give the minima. GD and SGD (batch "
              f"{BATCH}, without replacement) run {steps} steps with η = {LR:g} (below 2/λ_max at the global minimum): GD from a "
              f"{n_side}×{n_side} grid of starts and SGD {repeats} times from each, GD once and SGD {2 * repeats} times from "
              f"each local minimum, SGD {2 * repeats} times from the global one; every endpoint is polished by 800 GD steps and "
              "assigned to the minimum within 0.5 (else none: a plateau). The fractions of the grid of starts reaching the "
              "global minimum (GD vs SGD) and where the escapes end (a lower minimum, the global one, a plateau) are reported, "
              "not checked: escaping a minimum does not mean finding the best one.")
    return Measurement(measured, method, data={"X": X, "Y": Y, "minima": minima, "min_losses": min_losses, "n_cand": n_cand,
                                               "grid": grid, "escapes": esc})


class _Surface:
    """The loss surface on a 300 × 300 grid of the window, drawn as the background of a panel."""

    def __init__(self, X, Y, minima, min_losses) -> None:
        self.phi0, self.phi1 = xp.linspace(*WINDOW[0], 300), xp.linspace(*WINDOW[1], 300)
        self.L = loss_grid(X, Y, self.phi0, self.phi1)
        self.minima, self.min_losses, self.n = minima, min_losses, len(X)

    def draw(self, ax, title: str):
        glob, local = self.minima[0], self.minima[1:]
        cs = ax.contourf(self.phi0, self.phi1, xp.log10(self.L.T), levels=30, cmap="viridis")
        ax.plot(glob[0], glob[1], "*", color="gold", mec="k", ms=16, label=f"global minimum (loss {self.min_losses[0]:.3f})")
        ax.plot(local[:, 0], local[:, 1], "X", color="w", mec="k", ms=9, label=f"{len(local)} local minima")
        ax.set(xlabel="φ₀ (offset)", ylabel="φ₁ (frequency)", title=title, xlim=WINDOW[0], ylim=WINDOW[1])
        return cs


def _surface_figure(plt, surface: _Surface, X, Y, n_cand: int):
    from shenjing.data import toy

    minima, min_losses = surface.minima, surface.min_losses
    glob, n_min = minima[0], len(minima)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.6))
    cs = surface.draw(axes[0], f"loss of the Gabor model (log₁₀ MSE): {n_min} minima in the window\n"
                               f"({n_cand} grid points lower than their 8 neighbours, merged after a GD polish)")
    for m, lv in zip(minima, min_losses):
        axes[0].annotate(f"{lv:.3f}", m, textcoords="offset points", xytext=(6, 4), fontsize=7, color="w")
    fig.colorbar(cs, ax=axes[0], label="log₁₀ loss")
    axes[0].legend(fontsize=8, loc="upper left")
    ax = axes[1]
    xs = xp.linspace(-15, 15, 400)
    ax.plot(X, Y, "ko", ms=4, label="50 noisy samples of f(x; 0, 16.6)")
    ax.plot(xs, toy.gabor(xs, *glob), "-", color="goldenrod", lw=2, label=f"global minimum φ = ({glob[0]:.2f}, {glob[1]:.2f})")
    for j in (1, 2):
        if j < n_min:
            ax.plot(xs, toy.gabor(xs, *minima[j]), "--", lw=1.3,
                    label=f"local minimum φ = ({minima[j][0]:.2f}, {minima[j][1]:.2f}), loss {min_losses[j]:.3f}")
    ax.set(xlabel="x", ylabel="y = f(x; φ)", title="the data and the model at three minima")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _end_colour(k: int) -> str:
    return "gold" if k == 0 else ("tomato" if k > 0 else "0.8")


def _paths_panels(axes, surface: _Surface, grid: dict, esc: dict, mm: dict) -> None:
    """GD's paths from the grid of starts; SGD's escapes from the local minima."""
    from matplotlib.lines import Line2D

    ends = [Line2D([], [], color="gold", lw=2, label="ends in the global minimum"),
            Line2D([], [], color="tomato", lw=2, label="ends in a local minimum"),
            Line2D([], [], color="0.8", lw=2, label="ends on a plateau (no minimum)")]
    gd_path, gd_k = grid["gd_path"], grid["gd_k"]
    surface.draw(axes[0], f"GD (η = {LR:g}) from {len(gd_k)} starts: {mm['gd_distinct_minima_reached']} different minima reached,\n"
                          f"{100 * mm['gd_fraction_global_from_starts']:.0f}% reach the global one")
    for s in range(len(gd_k)):
        axes[0].plot(gd_path[:, s, 0], gd_path[:, s, 1], "-", color=_end_colour(gd_k[s]), lw=1)
        axes[0].plot(*gd_path[0, s], "o", color=_end_colour(gd_k[s]), ms=3)
    surface.draw(axes[1], f"SGD (batch {BATCH} of {surface.n}, η = {LR:g}) started at the local minima\n"
                 "(every escape to the global minimum, one escape from each local minimum):\n"
                 f"{100 * mm['sgd_fraction_leaving_local_minimum']:.0f}% of runs leave "
                 f"(GD: {100 * mm['gd_fraction_leaving_local_minimum']:.0f}%), "
                 f"{100 * mm['sgd_fraction_from_local_to_global']:.0f}% reach the global minimum")
    esc_path, esc_k, home = esc["esc_path"], esc["esc_k"], esc["home"]
    shown = set()
    for s in range(esc_path.shape[1]):  # every run that reaches the global minimum, one escape per local minimum
        if esc_k[s] == 0 or (esc_k[s] != home[s] and home[s] not in shown):
            shown.add(home[s])
            axes[1].plot(esc_path[::4, s, 0], esc_path[::4, s, 1], "-", lw=0.8, color=_end_colour(esc_k[s]), alpha=0.9)
    for ax in axes:
        ax.legend(handles=ax.get_legend_handles_labels()[0] + ends, fontsize=8, loc="upper left", framealpha=0.9)


def _fractions_panels(axes, mm: dict, min_losses) -> None:
    """GD vs SGD as bars; SGD's escape fraction per minimum against the minimum's loss."""
    ax = axes[0]
    labels = ["reach the global\nminimum from the\ngrid of starts", "leave a local\nminimum they\nstart in",
              "start in a local\nminimum, end in\nthe global one", "start in the global\nminimum, stay"]
    gd_vals = [mm["gd_fraction_global_from_starts"], mm["gd_fraction_leaving_local_minimum"], 0.0, 1.0]
    sgd_vals = [mm["sgd_fraction_global_from_starts"], mm["sgd_fraction_leaving_local_minimum"],
                mm["sgd_fraction_from_local_to_global"], mm["sgd_fraction_staying_at_global"]]
    pos = xp.arange(len(labels))
    ax.bar(pos - 0.2, gd_vals, 0.4, label="GD", color="tab:blue")
    ax.bar(pos + 0.2, sgd_vals, 0.4, label=f"SGD (batch {BATCH})", color="tab:orange")
    for p, a, b in zip(pos, gd_vals, sgd_vals):
        ax.text(p - 0.2, a + 0.01, f"{100 * a:.0f}%", ha="center", fontsize=8)
        ax.text(p + 0.2, b + 0.01, f"{100 * b:.0f}%", ha="center", fontsize=8)
    ax.set_xticks(pos, labels, fontsize=8)
    ax.set(ylabel="fraction of runs", ylim=(0, 1.1), title="GD vs SGD, measured")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax = axes[1]
    ax.plot(min_losses[1:], mm["sgd_escape_fraction_per_local_minimum"], "o", color="tab:orange", ms=7, label="a local minimum")
    ax.plot([min_losses[0]], [1 - mm["sgd_fraction_staying_at_global"]], "*", color="gold", mec="k", ms=16, label="the global minimum")
    ax.set(xlabel="loss at the minimum (MSE)", ylabel=f"fraction of SGD runs that leave it ({mm['steps']} steps)",
           ylim=(-0.05, 1.05), title="SGD leaves the poorly fitting minima:\nbatch-gradient noise grows with the misfit")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt, d = pyplot(), m.data
    surface = _Surface(d["X"], d["Y"], d["minima"], d["min_losses"])
    ctx.savefig(_surface_figure(plt, surface, d["X"], d["Y"], d["n_cand"]), "surface.png")
    fig, axes = plt.subplots(2, 2, figsize=(16, 12.5))
    axes = axes.ravel()
    _paths_panels(axes[:2], surface, d["grid"], d["escapes"], m.measured)
    _fractions_panels(axes[2:], m.measured, d["min_losses"])
    fig.tight_layout()
    ctx.savefig(fig, "gd-vs-sgd.png")
