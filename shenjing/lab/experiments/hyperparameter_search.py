"""hyperparameter-search: grid, random and Bayesian search (超参数调优: 网格搜索, 随机搜索, 贝叶斯搜索; Fang §6.10).

The task is cheap so that thousands of trials are affordable: one trial trains a linear model
(nn.Linear, 20 → 1, the same initialisation every time) by full-batch SGD with learning rate η and
weight decay λ for a fixed number of steps on a regression problem and returns its validation MSE
(a diverged run scores as the untrained model). The search space is log η ∈ [10⁻⁴, 10], log λ ∈
[10⁻⁶, 10⁻²]: over it only η matters (the best η lies just below the divergence threshold 2/L),
λ barely changes the loss.

* Grid vs random (Bergstra & Bengio 2012): a 4 × 4 grid tries only 4 values of η; 16 random trials
  try 16, so with one important hyper-parameter random search finds a better loss — measured over
  many repeats of the random search.
* Bayesian (贝叶斯搜索, Optuna's TPE sampler) vs random: trials needed to reach a target loss (within
  2 % of the best loss of a dense scan of η), median over seeds.

Optuna is needed for the Bayesian search: ``pip install 'shenjing[lab]'`` (or ``pip install optuna``).
"""

from __future__ import annotations

from typing import Any

from ...backend import xp
from ..core import Check, Experiment, Measurement

D, N, STEPS = 20, 200, 30
LOG_LR, LOG_WD = (-4.0, 1.0), (-6.0, -2.0)
GRID = 4  # GRID × GRID grid against GRID² random trials
TOL = 0.02  # target loss = (1 + TOL) × the best loss of a dense scan of η

EXPERIMENT = Experiment(
    id="hyperparameter-search",
    title="Hyper-parameter search: random beats grid when one hyper-parameter matters; Bayesian search needs fewer "
          "trials",
    title_zh="超参数调优: 只有一个超参数重要时随机搜索胜过网格搜索; 贝叶斯搜索需要更少的试验",
    source="Fang §6.10",
    claim="Searching learning rate × weight decay of a cheap training run where only the learning rate matters, 16 "
          "random trials find a lower validation loss than a 4 × 4 grid in most repeats; a Bayesian search (TPE) "
          "reaches a target loss in fewer trials than random search (median over seeds).",
    claim_zh="在只有学习率重要的廉价训练任务上搜索学习率 × 权重衰减: 多数重复中 16 次随机试验找到的验证损失低于 4 × 4 网格; "
             "贝叶斯搜索 (TPE) 达到目标损失所需的试验次数少于随机搜索 (各种子的中位数).",
    checks=(
        Check("wd_effect", "<=", 0.05, "the largest change of the loss along λ at a fixed η on the grid ÷ the loss range over the grid",
              what_zh="网格上固定 η 时沿 λ 的最大损失变化 ÷ 整个网格的损失范围"),
        Check("random_beats_grid_fraction", ">=", 0.7, "the fraction of repeats in which random search's best loss is below the grid's",
              what_zh="随机搜索最佳损失低于网格搜索的重复比例"),
        Check("median_random_best_over_grid_best", "<", 1.0, "the median best loss of random search ÷ the grid's best loss",
              what_zh="随机搜索最佳损失的中位数 ÷ 网格搜索的最佳损失"),
        Check("median_trials_tpe_over_random", "<", 1.0, "the median number of trials to the target loss, TPE ÷ random",
              what_zh="达到目标损失所需试验次数的中位数, TPE ÷ 随机搜索"),
    ),
)


def _optuna():
    try:
        import optuna
    except ImportError as e:
        raise ImportError("the lab experiment hyperparameter-search needs Optuna for its Bayesian search: "
                          "pip install 'shenjing[lab]' (or pip install optuna)") from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def make_objective(rng) -> Any:
    """The trial: (η, λ) → validation MSE of nn.Linear(D, 1) after STEPS full-batch SGD steps (same init each
    trial); a run whose loss is not finite or above the untrained model's scores as the untrained model."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim

    X = rng.normal(size=(2 * N, D)) * xp.logspace(0, -1.5, D)
    y = X @ rng.normal(size=(D, 1)) + 0.3 * rng.normal(size=(2 * N, 1))
    Xt, yt, Xv, yv = (sj.tensor(a, dtype=sj.float32) for a in (X[:N], y[:N], X[N:], y[N:]))

    def val_loss(lr: float, wd: float, steps: int = STEPS) -> float:
        sj.manual_seed(0)
        model = nn.Linear(D, 1)
        opt = optim.SGD(model.parameters(), lr=lr, weight_decay=wd)
        with xp.errstate(all="ignore"):
            for _ in range(steps):
                opt.zero_grad()
                F.mse_loss(model(Xt), yt).backward()
                opt.step()
            with sj.no_grad():
                return float(F.mse_loss(model(Xv), yv).item())

    untrained = val_loss(0.0, 0.0, 0)
    return lambda lr, wd: min(v, untrained) if xp.isfinite(v := val_loss(lr, wd)) else untrained


def log_uniform(rng, n: int) -> list[tuple[float, float]]:
    return [(10 ** rng.uniform(*LOG_LR), 10 ** rng.uniform(*LOG_WD)) for _ in range(n)]


def grid_vs_random(f, repeats: int, rng) -> dict:
    """The GRID × GRID log-spaced grid's losses and the best loss of ``repeats`` random searches of GRID² trials."""
    lrs, wds = xp.logspace(*LOG_LR, GRID), xp.logspace(*LOG_WD, GRID)
    grid = xp.array([[f(lr, wd) for wd in wds] for lr in lrs])
    random_best = [min(f(*p) for p in log_uniform(rng, GRID * GRID)) for _ in range(repeats)]
    return {"grid": grid, "lrs": lrs, "wds": wds, "random_best": random_best}


def trials_to_target(values: list[float], target: float) -> int:
    """1-based index of the first trial at or below ``target``; len(values) + 1 when none is."""
    return next((i + 1 for i, v in enumerate(values) if v <= target), len(values) + 1)


def tpe_vs_random(f, seeds: int, budget: int, rng, base_seed: int) -> dict[str, list[list[float]]]:
    """Loss of every trial of ``seeds`` random searches and ``seeds`` TPE searches of ``budget`` trials each."""
    optuna = _optuna()
    out: dict[str, list[list[float]]] = {"random": [], "tpe": []}
    for s in range(seeds):
        out["random"].append([f(*p) for p in log_uniform(rng, budget)])
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=base_seed + s))
        study.optimize(lambda t: f(t.suggest_float("lr", 10 ** LOG_LR[0], 10 ** LOG_LR[1], log=True),
                                   t.suggest_float("wd", 10 ** LOG_WD[0], 10 ** LOG_WD[1], log=True)), n_trials=budget)
        out["tpe"].append([t.value for t in study.trials])
    return out


def measure(ctx) -> Measurement:
    repeats, seeds, budget = (40, 10, 80) if ctx.quick else (200, 40, 120)
    f = make_objective(ctx.rng)
    gr = grid_vs_random(f, repeats, ctx.rng)
    grid = gr["grid"]
    best_ref = min(f(lr, 10 ** LOG_WD[0]) for lr in xp.logspace(-1, 0.5, 200))
    target = (1 + TOL) * best_ref
    runs = tpe_vs_random(f, seeds, budget, ctx.rng, ctx.seed)
    n_to = {k: [trials_to_target(v, target) for v in runs[k]] for k in runs}
    med = {k: float(xp.median(v)) for k, v in n_to.items()}
    grid_best = float(grid.min())
    measured = {
        "grid_best": grid_best, "random_best_median": float(xp.median(gr["random_best"])),
        "wd_effect": float((grid.max(1) - grid.min(1)).max() / (grid.max() - grid.min())),
        "random_beats_grid_fraction": float(xp.mean(xp.array(gr["random_best"]) < grid_best)),
        "median_random_best_over_grid_best": float(xp.median(gr["random_best"])) / grid_best,
        "best_loss_dense_scan": best_ref, "target_loss": target, "trials_to_target": n_to,
        "median_trials_random": med["random"], "median_trials_tpe": med["tpe"],
        "median_trials_tpe_over_random": med["tpe"] / med["random"],
    }
    method = (f"Trial: nn.Linear({D}, 1) (same init) trained by {STEPS} full-batch SGD steps with lr η and weight decay λ on "
              f"{N} samples (features scaled 1 … 10^-1.5), validation MSE on {N} others (diverged = untrained loss). "
              f"log10 η ∈ {list(LOG_LR)}, log10 λ ∈ {list(LOG_WD)}, log-uniform. Grid: {GRID} × {GRID} log-spaced; "
              f"random: {GRID * GRID} trials, {repeats} repeats. Target = (1 + {TOL:g}) × the best loss of 200 η in "
              f"[0.1, 3.2] at λ = 1e-6; trials to reach it (budget {budget}, not reached = {budget + 1}) for random search "
              f"and Optuna's TPESampler (default settings), {seeds} seeds each.")
    method_zh = (f"每次试验: nn.Linear({D}, 1) 以学习率 η 和权重衰减 λ 做 {STEPS} 步全批量 SGD, 取验证集 MSE (发散记为未训练的损失). "
                 f"网格 {GRID} × {GRID} 与 {GRID * GRID} 次随机试验 (重复 {repeats} 次); 目标损失 = (1 + {TOL:g}) × η 密集扫描的最佳损失, "
                 f"比较随机搜索与 Optuna TPE 达到目标所需的试验次数 (预算 {budget}, 各 {seeds} 个种子).")
    return Measurement(measured, method, data={**gr, "runs": runs, "best_ref": best_ref, "f": f}, method_zh=method_zh)


def draw_landscape(ctx, d: dict) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    f = d["f"]
    lrs, wds = xp.logspace(*LOG_LR, 41), xp.logspace(*LOG_WD, 13)
    loss = xp.array([[f(lr, wd) for lr in lrs] for wd in wds])
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    im = ax.pcolormesh(lrs, wds, xp.log10(loss), shading="auto", cmap="viridis")
    fig.colorbar(im, ax=ax, label="log10 validation loss")
    g_lr, g_wd = xp.meshgrid(d["lrs"], d["wds"])
    ax.plot(g_lr.ravel(), g_wd.ravel(), "ws", ms=8, mec="k", label=f"grid {GRID}×{GRID}: {GRID} values of η")
    pts = xp.array(log_uniform(xp.random.default_rng(ctx.seed), GRID * GRID))
    ax.plot(pts[:, 0], pts[:, 1], "r^", ms=7, mec="k", label=f"{GRID * GRID} random trials: {GRID * GRID} values of η")
    ax.set(xscale="log", yscale="log", xlabel="learning rate η (学习率)", ylabel="weight decay λ (权重衰减)",
           title="Only η matters: grid vs random search\n只有 η 重要: 网格搜索与随机搜索")
    ax.legend(loc="lower left", fontsize=8)
    ctx.savefig(fig, "landscape")


def draw_progress(ctx, d: dict) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for name, color, label in (("random", "tab:red", "random search (随机搜索)"), ("tpe", "tab:blue", "Bayesian, TPE (贝叶斯搜索)")):
        best = xp.minimum.accumulate(xp.array(d["runs"][name]), axis=1) / d["best_ref"] - 1
        t = xp.arange(1, best.shape[1] + 1)
        ax.plot(t, xp.median(best, 0), color=color, label=f"{label}: median")
        ax.fill_between(t, xp.quantile(best, 0.25, 0), xp.quantile(best, 0.75, 0), color=color, alpha=0.2)
    ax.axhline(TOL, color="k", ls="--", label=f"target: {100 * TOL:g} % above (目标损失)")
    ax.axhline(float(d["grid"].min()) / d["best_ref"] - 1, color="gray", ls=":", label=f"best of the {GRID}×{GRID} grid")
    ax.set(yscale="log", xlabel="trial (试验次数)", ylabel="best loss so far ÷ dense-scan best − 1",
           title="Best loss so far over seeds (median, quartiles)\n迄今最佳损失 (中位数与四分位数)")
    ax.legend(fontsize=8)
    ctx.savefig(fig, "progress")


def figures(ctx, m: Measurement) -> None:
    draw_landscape(ctx, m.data)
    draw_progress(ctx, m.data)
