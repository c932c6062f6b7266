"""numerical-vs-backprop: finite differences against backpropagation — accuracy, the notes' factor-2
erratum, and the cost O(N)·O(forward) ≈ O(N²) against O(N) (Wang 五.III eq. 9; Zhao §3).

Wang eq. (9) updates each parameter with (L(θ + ε) − L(θ − ε))/ε. The difference spans 2ε, so
this quotient tends to **2·∂L/∂θ** (an erratum, docs/SOURCES.md): the central difference divides by 2ε. The
experiment measures the ratio notes/backprop (2.0) and central/backprop (1.0) on every parameter
of an MLP, sweeps ε to show truncation against round-off error (central O(ε²), forward O(ε), the
notes' form stuck at 100 % relative error), and shows that the notes' update with step η is plain
gradient descent with step 2η.

Cost (Wang): one or two forward passes per parameter — O(N) passes of O(N) each, O(N²) — while
backprop (Zhao §3, the CS229 theorem) computes all N derivatives in time of the same order as
one forward pass. ``numerical_grad`` counts its forward calls (the work, exactly 2N for the central
difference); the seconds are measured for MLPs with N growing as the CPU time of this process
(``time.process_time``, BLAS on one thread, the minimum over repeats), which other processes
competing for the cores do not enter. On a small net each forward pass costs a nearly constant
Python overhead, so the measured exponent of the numerical cost approaches 2 only as N grows; the
ratio numerical/backprop grows ∝ N throughout, and that is the robust measurement.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement, min_seconds, single_threaded_blas

FORMS = ("central", "forward", "notes")
ACC, SWEEP, UPDATE, COST = "accuracy", "eps_sweep", "notes_update_vs_gd", "cost"

EXPERIMENT = Experiment(
    id="numerical-vs-backprop",
    title="Numerical differentiation vs backpropagation: accuracy, the factor-2 erratum, cost",
    title_zh="数值微分法与反向传播",
    source="Wang 五.III eq. (9); Zhao §3",
    claim="Central finite differences agree with backpropagation; the notes' (L(θ+ε) − L(θ−ε))/ε is off by exactly 2×; "
          "numerical differentiation costs 2N forward passes (O(N²)) while backprop costs O(N), one forward and one "
          "backward pass.",
    claim_zh="中心差分与反向传播一致; 讲义中的 (L(θ+ε) − L(θ−ε))/ε 恰好偏大 2 倍; 数值微分需要 2N 次前向传播 (O(N²)), 而反向传播只需一次前向加一次反向 "
             "(O(N)).",
    checks=(
        Check(f"{ACC}.relative_error_vs_backprop.central", "<", 1e-7, "the central difference's relative error to backprop",
              what_zh="中心差分相对反向传播的相对误差"),
        Check(f"{ACC}.notes_over_backprop_ratio.max_abs_deviation_from_2", "<", 0.01,
              "max |notes' form / backprop − 2| over the components", what_zh="各分量上 max |讲义形式 / 反向传播 − 2|"),
        Check(f"{SWEEP}.central_truncation_ratio", ">", 50, "the central error at ε = 0.1 / at ε = 0.01 (ε²: 100)",
              what_zh="ε = 0.1 与 ε = 0.01 时中心差分误差之比 (ε²: 100)"),
        Check(f"{SWEEP}.forward_truncation_ratio", ">", 5, "the same ratio for the forward difference (ε: 10)", what_zh="前向差分的同一比值 (ε: 10)"),
        Check(f"{SWEEP}.forward_truncation_ratio", "<", 20, "that ratio", what_zh="该比值"),
        Check(f"{SWEEP}.notes_error_minus_1_for_eps_1e-8_to_1e-3", "<", 0.01,
              "for ε = 1e-8…1e-3, |the notes' form's relative error − 1|", what_zh="对 ε = 1e-8…1e-3, |讲义形式的相对误差 − 1|"),
        Check(f"{UPDATE}.max_param_diff_to_GD_2eta", "<", 1e-6, "max |θ| difference between the notes' update with η and GD with 2η",
              what_zh="讲义中学习率 η 的更新与学习率 2η 的 GD 之间 θ 的最大差"),
        Check(f"{UPDATE}.max_param_diff_to_GD_eta", ">", 1e-3, "and GD with η", what_zh="以及与学习率 η 的 GD 之间"),
        Check(f"{COST}.forward_calls_minus_2N", "==", 0, "at every N, numerical_grad's forward calls − 2N",
              what_zh="对每个 N, numerical_grad 的前向调用次数 − 2N"),
        Check(f"{COST}.loglog_slope_ratio_numerical_over_backprop", ">=", 0.8,
              "the log-log slope in N of the time ratio numerical / backprop", what_zh="数值微分 / 反向传播用时之比对 N 的双对数斜率"),
        Check(f"{COST}.backprop_over_forward", "<=", 10, "at every N, backprop's time / one forward pass's time",
              what_zh="对每个 N, 反向传播用时 / 一次前向传播用时"),
        Check(f"{COST}.loglog_slope_numerical_minus_backprop", ">=", 0.8,
              "the log-log slope in N of the numerical time minus that of the backprop time", what_zh="数值微分用时与反向传播用时对 N 的双对数斜率之差"),
    ),
)


def grads_vector(net) -> xp.ndarray:
    """All parameter gradients of ``net`` (after backward) as one flat vector."""
    return xp.concatenate([p.grad.numpy().ravel() for p in net.parameters()])


def flat(gs) -> xp.ndarray:
    """A list of gradient tensors (numerical_grad's result) as one flat vector."""
    return xp.concatenate([g.numpy().ravel() for g in gs])


def backprop_and_numerical(loss, net, eps: float, forms=FORMS) -> tuple:
    """∇L by backward() and by numerical_grad in each form, as flat vectors."""
    from shenjing.autograd.numerical import numerical_grad

    net.zero_grad()
    loss().backward()
    return grads_vector(net), {f: flat(numerical_grad(loss, net, eps=eps, form=f)) for f in forms}


def accuracy_on_mlp(X, Y) -> tuple[dict, object, dict]:
    """The three forms at ε = 1e-6 against backprop on every parameter of a 4-8-8-1 tanh MLP."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn

    net = nn.mlp([4, 8, 8, 1], activation="tanh").to(sj.float64)
    g_bp, g = backprop_and_numerical(lambda: F.mse_loss(net(X), Y), net, 1e-6)
    big = xp.abs(g_bp) > 1e-3 * xp.abs(g_bp).max()
    ratio_notes = g["notes"][big] / g_bp[big]
    ratio_central = g["central"][big] / g_bp[big]
    out = {
        "parameters": sum(p.numel() for p in net.parameters()), "eps": 1e-6,
        "relative_error_vs_backprop": {f: float(xp.linalg.norm(v - g_bp) / xp.linalg.norm(g_bp)) for f, v in g.items()},
        "notes_over_backprop_ratio": {"median": float(xp.median(ratio_notes)), "min": float(ratio_notes.min()),
                                      "max": float(ratio_notes.max()), "components": int(big.sum()),
                                      "max_abs_deviation_from_2": float(xp.abs(ratio_notes - 2).max())},
        "central_over_backprop_ratio": {"min": float(ratio_central.min()), "max": float(ratio_central.max())},
    }
    return out, g_bp, g


def eps_sweep(X, Y) -> dict:
    """Relative error of each form for ε = 1e-1 … 1e-10 on a 4-4-1 tanh MLP: truncation against round-off."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn
    from shenjing.autograd.numerical import numerical_grad

    eps_list = [10.0 ** -k for k in range(1, 11)]
    small = nn.mlp([4, 4, 1], activation="tanh").to(sj.float64)

    def loss():
        return F.mse_loss(small(X), Y)

    g_small, _ = backprop_and_numerical(loss, small, 1e-6, forms=())
    sweep = {f: [] for f in FORMS}
    for eps in eps_list:
        for f in sweep:
            v = flat(numerical_grad(loss, small, eps=eps, form=f))
            sweep[f].append(float(xp.linalg.norm(v - g_small) / xp.linalg.norm(g_small)))
    return {"eps": eps_list, **{f"relative_error_{f}": v for f, v in sweep.items()},
            "central_truncation_ratio": sweep["central"][0] / sweep["central"][1],
            "forward_truncation_ratio": sweep["forward"][0] / sweep["forward"][1],
            "notes_error_minus_1_for_eps_1e-8_to_1e-3": [abs(e - 1) for e, eps in zip(sweep["notes"], eps_list)
                                                         if 1e-8 <= eps <= 1e-3]}


def notes_update_vs_gd(X, Y, seed: int, eta: float, steps: int) -> dict:
    """``steps`` updates θ ← θ − η·(notes' quotient) against GD with 2η and with η by backprop (optim.SGD),
    the three nets from the same initial weights; the loss after every step."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.autograd.numerical import numerical_grad
    from shenjing.train import full_batch

    nets = {}
    for name in ("notes form, η", "backprop GD, 2η", "backprop GD, η"):
        sj.manual_seed(seed)
        nets[name] = nn.mlp([4, 4, 1], activation="tanh").to(sj.float64)

    def loss_of(m):
        return F.mse_loss(m(X), Y)

    def after(m):
        with sj.no_grad():
            return loss_of(m).item()

    traj = {k: [] for k in nets}
    m = nets["notes form, η"]
    for _ in range(steps):
        gn = numerical_grad(lambda: loss_of(m), m, eps=1e-6, form="notes")
        with sj.no_grad():
            for p, gp in zip(m.parameters(), gn):
                p -= eta * gp.to(p.dtype)
        traj["notes form, η"].append(after(m))
    for name, lr in (("backprop GD, 2η", 2 * eta), ("backprop GD, η", eta)):
        m2 = nets[name]
        full_batch(lambda m2=m2: loss_of(m2), optim.SGD(m2.parameters(), lr=lr), steps,
                   callback=lambda step, loss, m2=m2, name=name: traj[name].append(after(m2)))
    theta = {k: xp.concatenate([p.detach().numpy().ravel() for p in v.parameters()]) for k, v in nets.items()}
    return {"eta": eta, "steps": steps,
            "max_param_diff_to_GD_2eta": float(xp.abs(theta["notes form, η"] - theta["backprop GD, 2η"]).max()),
            "max_param_diff_to_GD_eta": float(xp.abs(theta["notes form, η"] - theta["backprop GD, η"]).max()),
            "loss_curves": traj}


def cost_row(width: int, Xc, Yc) -> dict:
    """One 8-w-w-1 tanh MLP: N, numerical_grad's forward calls, and the CPU times of one forward pass, one
    backprop (forward + backward) and one numerical gradient (central difference)."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn
    from shenjing.autograd.numerical import numerical_grad

    mdl = nn.mlp([8, width, width, 1], activation="tanh").to(sj.float64)
    N = sum(p.numel() for p in mdl.parameters())

    def loss():
        return F.mse_loss(mdl(Xc), Yc)

    def backprop():
        mdl.zero_grad()
        loss().backward()

    with single_threaded_blas():
        with sj.no_grad():
            t_fwd = min_seconds(loss, repeat=5)[0]["cpu"]
        t_bp = min_seconds(backprop, repeat=5)[0]["cpu"]
        t, gn = min_seconds(numerical_grad, loss, mdl, 1e-6, repeat=3, budget=1.0)
        t_num = t["cpu"]
    return {"N": N, "forward_calls": gn.forward_calls, "t_forward_s": t_fwd, "t_backprop_s": t_bp,
            "t_numerical_s": t_num, "numerical_over_backprop": t_num / t_bp,
            "numerical_over_calls_x_forward": t_num / (gn.forward_calls * t_fwd), "backprop_over_forward": t_bp / t_fwd}


def cost_summary(rows: list[dict], batch: int) -> dict:
    """The rows and the log-log slopes in N of the times (least squares)."""
    Ns = xp.log(xp.array([r["N"] for r in rows], float))

    def slope(key, sub=slice(None)):
        return float(xp.polyfit(Ns[sub], xp.log([r[key] for r in rows][sub]), 1)[0])

    out = {"batch": batch, "rows": rows, "loglog_slope_numerical": slope("t_numerical_s"),
           "loglog_slope_numerical_largest3": slope("t_numerical_s", slice(-3, None)),
           "loglog_slope_backprop": slope("t_backprop_s"), "loglog_slope_forward": slope("t_forward_s"),
           "loglog_slope_ratio_numerical_over_backprop": slope("numerical_over_backprop"),
           "forward_calls_minus_2N": [r["forward_calls"] - 2 * r["N"] for r in rows],
           "backprop_over_forward": [r["backprop_over_forward"] for r in rows]}
    out["loglog_slope_numerical_minus_backprop"] = out["loglog_slope_numerical"] - out["loglog_slope_backprop"]
    return out


def measure(ctx) -> Measurement:
    import shenjing as sj

    X = sj.tensor(ctx.rng.normal(size=(64, 4)), dtype=sj.float64)
    Y = sj.tensor(ctx.rng.normal(size=(64, 1)), dtype=sj.float64)
    acc, g_bp, g = accuracy_on_mlp(X, Y)
    sweep = eps_sweep(X, Y)
    update = notes_update_vs_gd(X, Y, ctx.seed + 1, eta=0.05, steps=15)
    B = 256 if ctx.quick else 512
    widths = [2, 4, 8, 16, 32] if ctx.quick else [2, 4, 8, 16, 32, 64, 96]
    Xc = sj.tensor(ctx.rng.normal(size=(B, 8)), dtype=sj.float64)
    Yc = sj.tensor(ctx.rng.normal(size=(B, 1)), dtype=sj.float64)
    cost = cost_summary([cost_row(w, Xc, Yc) for w in widths], B)
    measured = {ACC: acc, SWEEP: sweep, UPDATE: update, COST: cost}
    method = ("numerical_grad (central, forward and the notes' /ε form) against backward() on float64 tanh MLPs with "
              "64 random samples: all parameters of a 4-8-8-1 net at ε = 1e-6 (the notes/backprop ratio over the "
              "components with |g| > 1e-3·max |g|); ε = 1e-1…1e-10 on a 4-4-1 net; 15 updates with η = 0.05 of the "
              "notes' form against GD (optim.SGD) with 2η and with η from the same weights. Cost: 8-w-w-1 nets, "
              f"w = {', '.join(map(str, widths))}, on a batch of {B}; the work is numerical_grad's count of forward "
              "calls, the seconds are CPU times of this process (time.process_time, BLAS on one thread) — the minimum "
              "of 5 runs for one forward pass and for backprop, of up to 3 runs (1 s of CPU at most) for "
              "numerical_grad — so that other processes competing for the cores do not enter them; slopes are "
              "least-squares fits of log time against log N. The numerical time / (forward calls × one forward pass's "
              "time) is reported: near 1, the numerical gradient costs its forward passes.")
    return Measurement(measured, method, data={"g_bp": g_bp, "g": g})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    accuracy_figure(ctx, plt, m.data["g_bp"], m.data["g"], m.measured[ACC]["parameters"], m.measured[SWEEP])
    cost_figure(ctx, plt, m.measured[COST])
    fig, ax = plt.subplots(figsize=(6, 4))
    traj = m.measured[UPDATE]["loss_curves"]
    for name, mk in zip(traj, ("o-", "x--", "s-")):
        ax.plot(range(1, len(traj[name]) + 1), traj[name], mk, ms=4, label=name)
    ax.set(xlabel="step", ylabel="training loss (MSE)", title="The notes' update with η is GD with 2η")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ctx.savefig(fig, "notes-update.png")


def accuracy_figure(ctx, plt, g_bp, g, n_params: int, sweep: dict) -> None:
    """Every parameter's finite-difference estimate against backprop, and the relative error against ε."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    lim = float(xp.abs(g_bp).max()) * 1.1
    ax1.plot([-lim, lim], [-lim, lim], "k-", lw=0.8, alpha=0.5, label="y = x")
    ax1.plot([-lim, lim], [-2 * lim, 2 * lim], "k--", lw=0.8, alpha=0.5, label="y = 2x")
    ax1.plot(g_bp, g["central"], "o", ms=4, label="central (L(θ+ε) − L(θ−ε))/2ε")
    ax1.plot(g_bp, g["notes"], "x", ms=5, label="Wang eq. 9: (L(θ+ε) − L(θ−ε))/ε")
    ax1.set(xlabel="∂L/∂θ by backprop", ylabel="finite-difference estimate",
            title=f"All {n_params} parameters of a 4-8-8-1 MLP (ε = 1e-6)")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    eps_list = sweep["eps"]
    labels = {"central": "central /2ε", "forward": "forward /ε", "notes": "notes' form /ε (eq. 9)"}
    for f, mk in (("central", "o-"), ("forward", "s-"), ("notes", "x-")):
        ax2.loglog(eps_list, sweep[f"relative_error_{f}"], mk, label=labels[f])
    e = xp.array(eps_list)
    ax2.loglog(e, 0.3 * e ** 2, "k:", lw=1, label="∝ ε² (truncation)")
    ax2.loglog(e, 1e-16 / e, "k-.", lw=1, label="∝ 1/ε (round-off)")
    ax2.set(xlabel="step ε", ylabel="‖g_num − g_backprop‖ / ‖g_backprop‖", ylim=(1e-12, 10),
            title="Relative error vs ε (float64)")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    ctx.savefig(fig, "accuracy.png")


def cost_figure(ctx, plt, cost: dict) -> None:
    """CPU time per gradient against N, and the ratio numerical/backprop beside the count 2N."""
    rows = cost["rows"]
    Ns = xp.array([r["N"] for r in rows], float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    ax1.loglog(Ns, [r["t_numerical_s"] for r in rows], "o-", label="numerical (central), 2N forward passes")
    ax1.loglog(Ns, [r["t_backprop_s"] for r in rows], "s-", label="backprop (1 forward + 1 backward)")
    ax1.loglog(Ns, [r["t_forward_s"] for r in rows], "^-", label="one forward pass")
    ref = rows[-1]["t_numerical_s"]
    ax1.loglog(Ns, ref * (Ns / Ns[-1]) ** 2, "k:", label="∝ N²")
    ax1.loglog(Ns, ref * (Ns / Ns[-1]), "k--", label="∝ N")
    ax1.set(xlabel="number of parameters N", ylabel="CPU time per gradient (s)",
            title=f"Cost of one gradient (batch {cost['batch']}, float64)")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=7)
    ax2.loglog(Ns, [r["numerical_over_backprop"] for r in rows], "o-", label="t_numerical / t_backprop (measured)")
    ax2.loglog(Ns, [r["forward_calls"] for r in rows], "s--", label="forward calls of numerical_grad = 2N")
    ax2.set(xlabel="number of parameters N", ylabel="ratio / count", title="Numerical differentiation is N times dearer")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "cost.png")
