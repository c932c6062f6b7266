"""gd-vs-sgd: full-batch gradient descent vs mini-batch SGD, per epoch and per second; noise.

Xu §1.3: GD uses every sample for one step (eq. 1.19); SGD estimates the gradient from a batch
of |B| samples (eqs. 1.20–1.21), one epoch passing once over all batches of a shuffled data set — it
was introduced for computation and memory, and "SGD 在泛化性上比普通的梯度下降会有优势". Nelson: the
random batches make the iterates jump around, which helps at saddle points and local minima ("我们可能会
被随机地推出局部最小值或远离鞍点"), and one pass over the training set is an epoch.

Measured: (1) a 1-32-32-1 tanh MLP fit to noisy sin 2x by GD and by SGD (batch 32), loss against
epochs (an epoch is n per-sample gradients for both: the work) and against seconds — the number of
steps each needs times the time of one step, the minimum over repeated steps of CPU time and of wall
time with BLAS on one thread (``step_seconds``), so that other processes on the machine do not enter
the comparison; (2) at the minimum of the notes' linear model f(x) = ax + b, the spread of SGD's
iterates around the least-squares solution for several batch sizes (GD sits still); (3) a loss with a
saddle at the origin, L(θ) = mean_i [½θ₁² + ¼θ₂⁴ − ½θ₂² − x_iθ₂] with mean x = 0: GD started on the
saddle's stable line stays on it, SGD's batch noise pushes it off.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...backend import xp
from ..core import Check, Experiment, Measurement, min_seconds, single_threaded_blas

if TYPE_CHECKING:
    from ... import nn

BATCH, SGD_LR = 32, 0.1
SPREAD_BATCHES = (1, 8, 64)

EXPERIMENT = Experiment(
    id="gd-vs-sgd",
    title="Full-batch GD vs mini-batch SGD: per epoch, per second, and the noise",
    title_zh="梯度下降与随机梯度下降",
    source="Xu §1.3; Wang, Zhao, Nelson",
    claim="Mini-batch SGD reaches a given training loss in fewer epochs and less time than full-batch GD; its "
          "iterates keep fluctuating near a minimum (less with larger batches), and its noise pushes it off a "
          "saddle point on which GD stays.",
    claim_zh="小批量 SGD 比全批量 GD 用更少的轮数和时间达到给定的训练损失; 它的迭代点在极小点附近不断波动 (批量越大波动越小),"
             " 其噪声能把它推离 GD 停留的鞍点.",
    checks=(
        Check("epochs_ratio_gd_over_sgd", ">=", 5, "the epochs GD needs to reach its final loss over the epochs SGD needs",
              what_zh="GD 达到其最终损失所需轮数与 SGD 所需轮数之比"),
        Check("cpu_time_ratio_gd_over_sgd", ">", 1, "the same ratio of CPU seconds", what_zh="CPU 秒数的同一比值"),
        Check("wall_time_ratio_gd_over_sgd", ">", 1, "of wall-clock seconds", what_zh="墙钟秒数的同一比值"),
        Check("sgd_spread_ratio_smaller_over_larger_batch", ">", 1,
              "near the linear model's minimum, the RMS distance of SGD's iterates with batch 1 over batch 8, and 8 over 64",
              what_zh="在线性模型极小点附近, SGD 迭代点的 RMS 距离: 批量 1 与 8 之比, 以及 8 与 64 之比"),
        Check("sgd_spread_near_minimum.64", ">", 0, "that distance with batch 64", what_zh="批量 64 时的该距离"),
        Check("sgd_spread_near_minimum.GD", "<", 1e-8, "GD's", what_zh="GD 的该距离"),
        Check("saddle.gd_final_abs_theta2", "==", 0.0, "on the saddle loss, GD's final |θ₂|", what_zh="鞍点损失上 GD 最终的 |θ₂|"),
        Check("saddle.gd_final_distance_to_saddle", "<", 1e-3, "GD's final distance to the saddle", what_zh="GD 最终到鞍点的距离"),
        Check("saddle.sgd_fraction_escaped", ">=", 0.9, "the fraction of SGD runs that end with |θ₂| > 0.5", what_zh="以 |θ₂| > 0.5 结束的 SGD 运行比例"),
    ),
)


def sine_mlp(seed: int) -> nn.Sequential:
    """The 1-32-32-1 tanh MLP, initialised from ``seed``."""
    import shenjing as sj
    from shenjing import nn

    sj.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))


def train_gd(X, Y, lr: float, epochs: int, seed: int) -> dict:
    """Full-batch GD (optim.SGD), one step per epoch: the loss at epochs 0 … ``epochs``."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.train import full_batch

    model = sine_mlp(seed)
    losses = full_batch(lambda: F.mse_loss(model(X), Y), optim.SGD(model.parameters(), lr=lr), epochs)
    with sj.no_grad():
        losses.append(F.mse_loss(model(X), Y).item())
    return {"epoch": xp.arange(epochs + 1, dtype=float), "loss": xp.array(losses)}


def sgd_step(model, opt, X, Y, idx) -> None:
    """One mini-batch step on the samples ``idx`` (an integer array)."""
    import shenjing as sj
    import shenjing.nn.functional as F

    idx = sj.tensor(idx)
    opt.zero_grad()
    F.mse_loss(model(X[idx]), Y[idx]).backward()
    opt.step()


def train_sgd(X, Y, lr: float, batch: int, epochs: int, seed: int, rng, every: int = 8) -> dict:
    """Mini-batch SGD, batches without replacement from a new permutation each epoch; the full training
    loss every ``every`` steps and at the end of each epoch, with the epoch (a fraction) it was taken at."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import optim

    model = sine_mlp(seed)
    opt = optim.SGD(model.parameters(), lr=lr)
    n = len(X)
    steps_per_epoch = n // batch
    rows: list = []

    def record(ep):
        with sj.no_grad():
            rows.append((ep, F.mse_loss(model(X), Y).item()))

    record(0.0)
    for ep in range(epochs):
        perm = rng.permutation(n)
        for k in range(steps_per_epoch):
            sgd_step(model, opt, X, Y, perm[k * batch:(k + 1) * batch])
            if (k + 1) % every == 0 or k + 1 == steps_per_epoch:
                record(ep + (k + 1) / steps_per_epoch)
    return {"epoch": xp.array([r[0] for r in rows]), "loss": xp.array([r[1] for r in rows])}


def step_seconds(X, Y, batch: int, seed: int, repeat: int = 50) -> dict:
    """The time of one GD step (all n samples) and of one SGD step (``batch`` samples, indexing included),
    each :func:`~shenjing.lab.core.min_seconds` over ``repeat`` steps with BLAS on one thread, on throw-away copies of
    the model (the cost of a step does not depend on the weights)."""
    import shenjing.nn.functional as F
    from shenjing import optim

    gd_model, sgd_model = sine_mlp(seed), sine_mlp(seed)
    gd_opt, sgd_opt = optim.SGD(gd_model.parameters(), lr=1e-3), optim.SGD(sgd_model.parameters(), lr=1e-3)
    idx = xp.random.default_rng(seed).permutation(len(X))[:batch]

    def gd_step():
        gd_opt.zero_grad()
        F.mse_loss(gd_model(X), Y).backward()
        gd_opt.step()

    with single_threaded_blas():
        return {"gd": min_seconds(gd_step, repeat=repeat)[0],
                "sgd": min_seconds(lambda: sgd_step(sgd_model, sgd_opt, X, Y, idx), repeat=repeat)[0]}


def first_reaching(curve: dict, target: float) -> float:
    """The first epoch at which the loss is ≤ target (inf if never)."""
    hit = xp.nonzero(curve["loss"] <= target)[0]
    return float(curve["epoch"][hit[0]]) if hit.size else float("inf")


def sgd_spread(batch_sizes, lr: float, steps: int, burn: int, rng, n: int = 1000) -> dict:
    """The notes' linear model f(x) = ax + b by SGD with each batch size, started at the least-squares
    solution: the RMS distance of the iterates from it over the last steps − burn steps, and the iterates."""
    import shenjing as sj
    from shenjing import optim

    x = rng.standard_normal(n)
    y = 2.0 * x - 1.0 + 0.5 * rng.standard_normal(n)
    Z = xp.stack([x, xp.ones(n)], axis=1)
    beta = xp.linalg.lstsq(Z, y, rcond=None)[0]
    Zt, yt = sj.tensor(Z), sj.tensor(y)
    out = {"ols": beta, "spread": {}, "iterates": {}}
    for B in list(batch_sizes) + [n]:
        theta = sj.tensor(beta.copy(), requires_grad=True)
        opt = optim.SGD([theta], lr=lr)
        its = []
        for t in range(steps):
            idx = sj.tensor(rng.choice(n, B, replace=False)) if B < n else None
            Zb, yb = (Zt[idx], yt[idx]) if B < n else (Zt, yt)
            opt.zero_grad()
            ((Zb @ theta - yb) ** 2).mean().backward()
            opt.step()
            if t >= burn:
                its.append(theta.detach().numpy().copy())
        its = xp.asarray(its)
        key = "GD" if B == n else B
        out["iterates"][key] = its
        out["spread"][key] = float(xp.sqrt(xp.mean(xp.sum((its - beta) ** 2, axis=1))))
    return out


def saddle_runs(starts, lr: float, steps: int, batch: int | None, xs, rng, record: bool = True) -> xp.ndarray:
    """Descend L(θ) = mean_i [½θ₁² + ¼θ₂⁴ − ½θ₂² − x_iθ₂] from every row of ``starts`` (one (R, 2)
    parameter); batch=None is GD, else each run draws its own batch (without replacement) per step."""
    import shenjing as sj
    from shenjing import optim

    theta = sj.tensor(xp.asarray(starts, dtype=xp.float64), requires_grad=True)
    opt = optim.SGD([theta], lr=lr)
    R, n = len(starts), len(xs)
    path = [theta.detach().numpy().copy()]
    for _ in range(steps):
        if batch is None:
            xb = xp.full((R, 1), math.fsum(xs) / n)  # the full-batch mean of x_i, exactly rounded
        else:
            idx = xp.argsort(rng.random((R, n)), axis=1)[:, :batch]
            xb = xs[idx].mean(axis=1, keepdims=True)
        t1, t2 = theta[:, 0], theta[:, 1]
        loss = (0.5 * t1 ** 2 + 0.25 * t2 ** 4 - 0.5 * t2 ** 2 - sj.tensor(xb[:, 0]) * t2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if record:
            path.append(theta.detach().numpy().copy())
    return xp.asarray(path)


def saddle_loss(t1, t2) -> xp.ndarray:
    return 0.5 * t1 ** 2 + 0.25 * t2 ** 4 - 0.5 * t2 ** 2




def mlp_gd_vs_sgd(n: int, gd_lrs: list, gd_epochs: int, sgd_epochs: int, seed: int, rng) -> dict:
    """GD (the best learning rate of ``gd_lrs`` by final loss) and SGD on the sine data: the epochs, steps
    and seconds (steps × :func:`step_seconds`) each needs to reach GD's final loss."""
    from shenjing.data import toy

    X, Y = toy.sine(n, freq=2.0, noise=0.1, random_x=True, seed=seed)
    gd_runs = {lr: train_gd(X, Y, lr, gd_epochs, seed) for lr in gd_lrs}
    gd_lr = min(gd_lrs, key=lambda lr: gd_runs[lr]["loss"][-1] if xp.isfinite(gd_runs[lr]["loss"][-1]) else xp.inf)
    curves = {"gd": gd_runs[gd_lr], "sgd": train_sgd(X, Y, SGD_LR, BATCH, sgd_epochs, seed, rng)}
    target = float(curves["gd"]["loss"][-1])  # GD's loss after all its epochs
    epochs = {k: first_reaching(c, target) for k, c in curves.items()}
    steps_per_epoch = {"gd": 1, "sgd": n // BATCH}
    steps = {k: epochs[k] * steps_per_epoch[k] for k in epochs}
    per_step = step_seconds(X, Y, BATCH, seed)
    seconds = {clock: {k: steps[k] * per_step[k][clock] for k in steps} for clock in ("cpu", "wall")}
    return {"gd_lr": gd_lr, "gd_runs": gd_runs, "curves": curves, "target": target, "epochs": epochs, "steps": steps,
            "steps_per_epoch": steps_per_epoch, "per_step": per_step, "seconds": seconds}


def saddle_escapes(R: int, rng, steps: int = 200) -> dict:
    """GD once and SGD (batch 10) ``R`` times from (1, 0) on the saddle loss with 200 x_i = ±z_i (mean exactly 0,
    so the full-batch gradient at θ₂ = 0 is exactly 0)."""
    z = rng.standard_normal(100)
    xs = xp.concatenate([z, -z])
    gd_path = saddle_runs([[1.0, 0.0]], 0.1, steps, None, xs, rng)
    sgd_path = saddle_runs(xp.tile([1.0, 0.0], (R, 1)), 0.1, steps, 10, xs, rng)
    gd_final, sgd_final = gd_path[-1, 0], sgd_path[-1]
    summary = {"gd_final": gd_final, "gd_final_abs_theta2": abs(float(gd_final[1])),
               "gd_final_distance_to_saddle": float(xp.hypot(*gd_final)), "sgd_runs": R,
               "sgd_fraction_escaped": float(xp.mean(xp.abs(sgd_final[:, 1]) > 0.5)),
               "sgd_mean_final_loss": float(xp.mean(saddle_loss(sgd_final[:, 0], sgd_final[:, 1]))), "minimum_loss": -0.25}
    return {"summary": summary, "gd_path": gd_path, "sgd_path": sgd_path}


def measure(ctx) -> Measurement:
    n = 1024 if ctx.quick else 4096
    gd_epochs, sgd_epochs = (100, 8) if ctx.quick else (300, 10)
    gd_lrs = [0.1] if ctx.quick else [0.05, 0.1]  # 0.2 diverges
    mlp = mlp_gd_vs_sgd(n, gd_lrs, gd_epochs, sgd_epochs, ctx.seed, ctx.rng)
    spread = sgd_spread(SPREAD_BATCHES, lr=0.05, steps=600 if ctx.quick else 3000, burn=100, rng=ctx.rng)
    sp = spread["spread"]
    saddle = saddle_escapes(40 if ctx.quick else 200, ctx.rng)
    ep, sec = mlp["epochs"], mlp["seconds"]
    measured = {
        "samples": n, "batch": BATCH, "gd_learning_rate": mlp["gd_lr"], "sgd_learning_rate": SGD_LR,
        "gd_final_loss_after_epochs": {"epochs": gd_epochs, "loss": mlp["target"],
                                       "by_learning_rate": {str(lr): float(r["loss"][-1]) for lr, r in mlp["gd_runs"].items()}},
        "sgd_final_loss": float(mlp["curves"]["sgd"]["loss"][-1]),
        "epochs_to_gd_final_loss": ep, "steps_to_gd_final_loss": mlp["steps"],
        "seconds_per_step": mlp["per_step"], "cpu_seconds_to_gd_final_loss": sec["cpu"], "wall_seconds_to_gd_final_loss": sec["wall"],
        "epochs_ratio_gd_over_sgd": ep["gd"] / ep["sgd"],
        "cpu_time_ratio_gd_over_sgd": sec["cpu"]["gd"] / sec["cpu"]["sgd"],
        "wall_time_ratio_gd_over_sgd": sec["wall"]["gd"] / sec["wall"]["sgd"],
        "sgd_spread_near_minimum": {str(k): v for k, v in sp.items()},
        "sgd_spread_ratio_smaller_over_larger_batch": {f"{a}/{b}": sp[a] / sp[b] for a, b in zip(SPREAD_BATCHES, SPREAD_BATCHES[1:])},
        "saddle": saddle["summary"],
    }
    gd_rates = f"the best η of {' and '.join(map(str, gd_lrs))} by final loss" if len(gd_lrs) > 1 else f"η = {gd_lrs[0]}"
    method = (f"MLP: 1-32-32-1 tanh on {n} noisy samples of sin 2x; GD with {gd_rates} (0.2 diverges) "
              f"for {gd_epochs} epochs, SGD (batch {BATCH}, η = {SGD_LR}, reshuffled each epoch) for {sgd_epochs} epochs; the "
              "full training loss after every 8 SGD steps gives the epoch at which SGD first reaches GD's final loss. Time to "
              "reach it = the steps needed × the time of one step, the minimum over 50 steps of each (loss "
              "evaluation excluded) of this process's CPU time (time.process_time) and of the wall-clock time "
              "(time.perf_counter), with BLAS on one thread: a per-step minimum leaves out the time other processes hold "
              "the cores. Linear model f(x) = ax + b (1000 samples): SGD from the least-squares solution with batches "
              "1, 8, 64 (η = 0.05), RMS distance of the iterates after 100 steps. Saddle: GD from (1, 0) and SGD (batch 10 "
              f"of 200 x_i = ±z_i, mean exactly 0) {saddle['summary']['sgd_runs']} times, 200 steps of η = 0.1.")
    return Measurement(measured, method, data={"mlp": mlp, "spread": spread, "saddle": saddle, "n": n, "gd_epochs": gd_epochs})


def _mlp_figure(plt, mlp: dict, n: int, gd_epochs: int):
    """Loss against epochs and against CPU seconds (steps × the CPU time of one step)."""
    curves, target, cost = mlp["curves"], mlp["target"], mlp["per_step"]
    cpu_axis = {k: c["epoch"] * mlp["steps_per_epoch"][k] * cost[k]["cpu"] for k, c in curves.items()}
    labels = {"gd": f"GD, full batch of {n} (η = {mlp['gd_lr']:g}): {gd_epochs} steps",
              "sgd": f"SGD, batch {BATCH} (η = {SGD_LR:g}): {n // BATCH} steps/epoch"}
    reach = {"epoch": mlp["epochs"], "cpu": mlp["seconds"]["cpu"]}
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    for ax, key, xlabel in ((axes[0], "epoch", "epoch (passes over the data, log scale)"),
                            (axes[1], "cpu", "training time: steps × CPU time of one step (s)")):
        g = slice(1, None) if key == "epoch" else slice(None)  # epoch axis is logarithmic: from the first step on
        for k, c in curves.items():
            ax.plot((c["epoch"] if key == "epoch" else cpu_axis[k])[g], c["loss"][g], "-", label=labels[k])
        ax.axhline(target, color="k", ls=":", lw=1, label=f"GD's final loss {target:.4f}")
        ax.plot(reach[key]["sgd"], target, "o", color="tab:orange", ms=7)
        ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel="training loss (MSE, log scale)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_xscale("log")
    axes[0].set_title(f"per epoch: SGD reaches GD's {gd_epochs}-epoch loss after {reach['epoch']['sgd']:.2f} epochs")
    axes[1].set_title(f"per CPU second: {reach['cpu']['sgd']:.3g} s (SGD) vs {reach['cpu']['gd']:.3g} s (GD)\n"
                      f"(one step: {1e3 * cost['sgd']['cpu']:.2f} ms vs {1e3 * cost['gd']['cpu']:.2f} ms)")
    fig.suptitle(f"1-32-32-1 tanh MLP on {n} noisy samples of sin 2x", fontsize=11)
    fig.tight_layout()
    return fig


def _spread_panels(axes, spread: dict) -> None:
    from matplotlib.lines import Line2D

    sp, ax = spread["spread"], axes[0]
    handles = []
    for B, c in zip(SPREAD_BATCHES, ("tab:red", "tab:orange", "tab:green")):
        it = spread["iterates"][B]
        ax.plot(it[:, 0], it[:, 1], ".", ms=2, color=c, alpha=0.5)
        handles.append(Line2D([], [], ls="", marker="o", ms=5, color=c, label=f"SGD batch {B}: RMS distance {sp[B]:.4f}"))
    ax.plot(*spread["ols"], "k*", ms=14)
    handles.append(Line2D([], [], ls="", marker="*", ms=10, color="k",
                          label=f"least squares = GD's fixed point (GD moves {sp['GD']:.1e})"))
    ax.set(xlabel="slope a", ylabel="intercept b", title="iterates near the minimum of f(x) = ax + b (η = 0.05)")
    ax.legend(handles=handles, fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    Bs = xp.array(SPREAD_BATCHES)
    ax.loglog(Bs, [sp[b] for b in SPREAD_BATCHES], "o-", label="measured")
    ax.loglog(Bs, sp[1] * Bs ** -0.5, "k--", lw=1, label="∝ B^(−1/2)")
    ax.set(xlabel="batch size B", ylabel="RMS distance of the iterates from the minimum",
           title="SGD noise near a minimum shrinks with the batch")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")


def _saddle_panel(ax, saddle: dict) -> None:
    gd_path, sgd_path, s = saddle["gd_path"], saddle["sgd_path"], saddle["summary"]
    g1, g2 = xp.meshgrid(xp.linspace(-1.3, 1.3, 200), xp.linspace(-1.6, 1.6, 200))
    ax.contour(g1, g2, saddle_loss(g1, g2), levels=20, colors="0.7", linewidths=0.6)
    for r in range(min(s["sgd_runs"], 12)):
        ax.plot(sgd_path[:, r, 0], sgd_path[:, r, 1], "-", color="tab:orange", lw=0.8, alpha=0.8,
                label="SGD (batch 10) from (1, 0)" if r == 0 else None)
    ax.plot(gd_path[:, 0, 0], gd_path[:, 0, 1], "o-", color="tab:blue", ms=2, lw=1.5,
            label=f"GD from (1, 0): ends at the saddle ({s['gd_final'][0]:.1e}, {s['gd_final'][1]:.0f})")
    ax.plot(0, 0, "kX", ms=10, label="saddle (0, 0)")
    ax.plot([0, 0], [-1, 1], "k*", ms=12, label="minima (0, ±1)")
    ax.set(xlabel="θ₁", ylabel="θ₂", title=f"L = ½θ₁² + ¼θ₂⁴ − ½θ₂² − mean(x)θ₂: "
                                          f"{100 * s['sgd_fraction_escaped']:.0f}% of {s['sgd_runs']} SGD runs escape")
    ax.legend(fontsize=7, loc="upper right")


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt, d = pyplot(), m.data
    ctx.savefig(_mlp_figure(plt, d["mlp"], d["n"], d["gd_epochs"]), "epochs-and-seconds.png")
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.2), gridspec_kw={"width_ratios": [1, 0.8, 1]})
    _spread_panels(axes[:2], d["spread"])
    _saddle_panel(axes[2], d["saddle"])
    fig.tight_layout()
    ctx.savefig(fig, "noise.png")
