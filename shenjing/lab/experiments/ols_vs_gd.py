"""ols-vs-gd: closed-form least squares, gradient descent and SGD find the same β (Xu §1.2–1.3, Fang ch. 3).

Xu fits f(x) = ax + b to data by the least-squares estimate β̂ = (XᵀX)⁻¹XᵀY (eq. 1.10) and by
gradient descent on L_S = (1/2n)Σ(yᵢ − hᵢ)² (eq. 1.17–1.19), "which gives the same solution as (1.10)";
Fang §3.1 solves the normal equations and names the QR decomposition as the alternative. Here:
the four closed-form solvers of shenjing.linear on one problem, full-batch GD with shenjing autograd
and optim.SGD until it is within 1e-6 of β̂, and mini-batch SGD, whose constant-rate iterates hover
in a noise ball around β̂ whose size scales with η, and whose decaying-rate iterates close in.

Xu eq. 1.20–1.21 writes the mini-batch loss with 1/n (the full-data count) in front of a sum over
the batch B. That is the standard batch mean (1/|B|) with the learning rate multiplied by |B|/n — the
two trajectories are compared step by step (``sgd_path(notes_form=True)``). (The printed L_B also drops
the ½ of eq. 1.17 while its gradient 1.21 keeps the ½-form; the gradient of 1.21 is what is run.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...backend import xp
from ..core import Check, Experiment, Measurement

if TYPE_CHECKING:
    from ... import nn

START = (-1.5, 2.5)
LR_GD, GD_MAX_STEPS, BATCH = 0.1, 5000, 10
#: label -> (η₀, decay): η_t = η₀/(1 + decay·t)
SGD_RUNS = {"SGD η = 0.1": (0.1, 0.0), "SGD η = 0.01": (0.01, 0.0), "SGD η = 0.1/(1 + t/20)": (0.1, 0.05)}

EXPERIMENT = Experiment(
    id="ols-vs-gd",
    title="Least squares in closed form, by gradient descent and by SGD",
    title_zh="最小二乘: 闭式解、梯度下降与随机梯度下降",
    source="Xu §1.2–1.3 (eq. 1.10, 1.17–1.21); Fang ch. 3",
    claim="The normal equations, QR and lstsq give the same least-squares β̂; gradient descent on the mean squared error "
          "converges to it (to 1e-6), and SGD reaches its neighbourhood, closer as the learning rate shrinks.",
    claim_zh="正规方程、QR 分解与 lstsq 给出相同的最小二乘估计 β̂; 均方误差上的梯度下降收敛到它 (误差 1e-6 以内), SGD 到达它的邻域,"
             " 学习率越小越近.",
    checks=(
        Check("max_gap_between_solvers_1d", "<", 1e-10, "the largest difference between the four solvers' β̂", what_zh="四种解法所得 β̂ 之间的最大差"),
        Check("normal_vs_qr_gap_5_features", "<", 1e-10, "the difference between the normal equations' and QR's β̂ on 5 features",
              what_zh="5 个特征时正规方程与 QR 所得 β̂ 之差"),
        Check("gd_final_gap", "<", 1e-6, "GD's final max-norm distance to β̂", what_zh="GD 最终到 β̂ 的最大范数距离"),
        Check("eq_1_19_gradient_vs_autograd", "<", 1e-12, "the largest difference between eq. 1.19's gradient and autograd's",
              what_zh="式 1.19 的梯度与自动微分梯度的最大差"),
        Check("sgd_decaying_rate_tail_rms_distance", "<", 0.05, "the decaying-rate SGD's tail RMS distance to β̂",
              what_zh="学习率递减的 SGD 末段到 β̂ 的 RMS 距离"),
        Check("sgd_noise_ratio_high_vs_low_eta", ">", 2.0, "the tail RMS distance at η = 0.1 over that at η = 0.01",
              what_zh="η = 0.1 与 η = 0.01 时末段 RMS 距离之比"),
        Check("notes_1_over_n_vs_standard_lr_scaled_gap", "<", 1e-12,
              "the largest difference between the notes' 1/n batch-loss trajectory and the standard one with η·|B|/n",
              what_zh="讲义 1/n 批量损失的轨迹与以 η·|B|/n 为学习率的标准轨迹之间的最大差"),
    ),
)


def linear_model(d: int, a0: float = START[0], b0: float = START[1]) -> nn.Linear:
    """nn.Linear(d, 1) in float64 with every weight a0 and bias b0."""
    import shenjing as sj
    from shenjing import nn

    model = nn.Linear(d, 1, dtype=sj.float64)
    with sj.no_grad():
        model.weight.fill_(a0)
        model.bias.fill_(b0)
    return model


def beta_of(model) -> xp.ndarray:
    """(weights…, bias) of a linear model as one array."""
    return xp.append(model.weight.detach().numpy().ravel(), model.bias.detach().numpy())


def sgd_path(X, Y, lr: float, epochs: int, batch: int, generator, decay: float = 0.0, notes_form: bool = False) -> xp.ndarray:
    """Mini-batch SGD over shuffled batches with η_t = lr/(1 + decay·t); the loss per batch is ½·mean over B
    (standard) or (1/2n)·sum over B (Xu eq. 1.20–1.21). Returns the β after every step, (steps + 1, d + 1)."""
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.data import DataLoader, TensorDataset

    model = linear_model(X.shape[1])
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X, Y), batch_size=batch, shuffle=True, generator=generator)
    n = X.shape[0]
    path, t = [beta_of(model)], 0
    for _ in range(epochs):
        for xb, yb in loader:
            for g in opt.param_groups:
                g["lr"] = lr / (1.0 + decay * t)
            opt.zero_grad()
            if notes_form:
                loss = 0.5 * F.mse_loss(model(xb), yb, reduction="sum") / n
            else:
                loss = 0.5 * F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            path.append(beta_of(model))
            t += 1
    return xp.array(path)


def gd_path(X, Y, beta, lr: float = LR_GD, max_steps: int = GD_MAX_STEPS) -> tuple[xp.ndarray, int | None]:
    """Full-batch GD (optim.SGD) on L_S = ½·MSE from START until within 1e-10 of ``beta`` (max-norm) or
    ``max_steps``; the β after every step and the first step within 1e-6."""
    import shenjing.nn.functional as F
    from shenjing import optim

    model = linear_model(1)
    opt = optim.SGD(model.parameters(), lr=lr)
    path, steps_to_1e6 = [beta_of(model)], None
    for step in range(1, max_steps + 1):
        opt.zero_grad()
        (0.5 * F.mse_loss(model(X), Y)).backward()
        opt.step()
        path.append(beta_of(model))
        if steps_to_1e6 is None and xp.abs(path[-1] - beta).max() < 1e-6:
            steps_to_1e6 = step
        if xp.abs(path[-1] - beta).max() < 1e-10:
            break
    return xp.array(path), steps_to_1e6


def closed_form_gaps(x, y, rng) -> dict:
    """β̂ of f = ax + b by every solver of shenjing.linear (design matrix [x 1], eq. 1.11) and their largest
    difference; the normal equations vs QR on 5 random features, and on 5 nearly collinear ones vs lstsq."""
    from shenjing import linear as L

    A = L.design_matrix(x)
    sols = {m: L.ols(A, y, m)[0] for m in L.METHODS}
    beta = sols["qr"]
    n = len(x)
    Z = rng.standard_normal((n, 5))
    yz = Z @ rng.standard_normal(5) + 0.1 * rng.standard_normal(n)
    Zbad = Z.copy()
    Zbad[:, 4] = Zbad[:, 3] + 1e-6 * Zbad[:, 4]
    ybad = Zbad @ xp.ones(5) + 0.1 * rng.standard_normal(n)

    def gap(P, t, a, b):
        return float(xp.abs(L.ols(P, t, a, True)[0] - L.ols(P, t, b, True)[0]).max())

    return {"beta_closed_form": beta, "max_gap_between_solvers_1d": max(float(xp.abs(s - beta).max()) for s in sols.values()),
            "normal_vs_qr_gap_5_features": gap(Z, yz, "normal", "qr"),
            "ill_conditioned_normal_vs_lstsq_gap": gap(Zbad, ybad, "normal", "lstsq"),
            "ill_conditioned_qr_vs_lstsq_gap": gap(Zbad, ybad, "qr", "lstsq")}


def gradient_gap(x, y, X, Y) -> float:
    """Eq. 1.19's gradient of L_S at START, written out, against autograd's."""
    import shenjing.nn.functional as F

    a0, b0 = START
    h = a0 * x + b0
    by_hand = xp.array([((h - y) * x).mean(), (h - y).mean()])
    model = linear_model(1)
    (0.5 * F.mse_loss(model(X), Y)).backward()
    return float(xp.abs(by_hand - xp.array([model.weight.grad.item(), model.bias.grad.item()])).max())


def tail_rms(path, beta) -> float:
    """RMS distance to β̂ over the last quarter of the steps."""
    d = xp.linalg.norm(path[-len(path) // 4:] - beta, axis=1)
    return float(xp.sqrt((d * d).mean()))


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing.data import toy

    n = 200 if ctx.quick else 1000
    epochs = 40 if ctx.quick else 150
    Xt, Yt = toy.linear(n, 1, weights=[2.0], bias=-1.0, noise=0.5, generator=ctx.generator)
    x, y = Xt.numpy().astype(xp.float64), Yt.numpy().astype(xp.float64)
    X, Y = sj.tensor(x), sj.tensor(y)
    closed = closed_form_gaps(x, y[:, 0], ctx.rng)
    beta = closed["beta_closed_form"]
    gd, steps_to_1e6 = gd_path(X, Y, beta)
    runs = {name: sgd_path(X, Y, lr, epochs, BATCH, sj.Generator().manual_seed(ctx.seed), decay)
            for name, (lr, decay) in SGD_RUNS.items()}
    tails = {k: tail_rms(v, beta) for k, v in runs.items()}
    names = list(runs)
    # the notes' 1/n mini-batch normalisation (eq. 1.20–1.21) ≡ standard with η·|B|/n
    notes = sgd_path(X, Y, 0.5, 3, BATCH, sj.Generator().manual_seed(ctx.seed + 1), notes_form=True)
    std = sgd_path(X, Y, 0.5 * BATCH / n, 3, BATCH, sj.Generator().manual_seed(ctx.seed + 1))
    measured = {
        **closed, "gd_final_gap": float(xp.abs(gd[-1] - beta).max()), "gd_steps_to_1e-6": steps_to_1e6,
        "gd_steps_total": len(gd) - 1, "eq_1_19_gradient_vs_autograd": gradient_gap(x[:, 0], y[:, 0], X, Y),
        "sgd_tail_rms_distance": tails, "sgd_decaying_rate_tail_rms_distance": tails[names[2]],
        "sgd_noise_ratio_high_vs_low_eta": tails[names[0]] / tails[names[1]],
        "notes_1_over_n_vs_standard_lr_scaled_gap": float(xp.abs(notes - std).max()),
    }
    method = (f"toy.linear ({n} points, y = 2x − 1 + N(0, 0.5²)) in float64; β̂ by shenjing.linear.ols with the normal equations, "
              f"QR, lstsq and pinv; GD = optim.SGD on ½·MSE of an nn.Linear(1, 1) from (−1.5, 2.5) with η = {LR_GD} until "
              f"within 1e-10 of β̂ (at most {GD_MAX_STEPS} steps); SGD with |B| = {BATCH} from a seeded DataLoader for {epochs} "
              "epochs at η = 0.1, 0.01 and 0.1/(1 + t/20), its distance to β̂ the RMS over the last quarter of the steps; the "
              "notes' batch loss (1/2n)·Σ_B against ½·mean_B with η·|B|/n over 3 epochs of the same batches. The ill-conditioned "
              "case (5 features, two of them nearly collinear, cond ~1e6) is reported: the normal equations lose digits there, "
              "QR does not.")
    return Measurement(measured, method, data={"x": x[:, 0], "y": y[:, 0], "beta": beta, "gd": gd, "runs": runs, "tails": tails,
                                               "steps_per_epoch": n // BATCH})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    x, y, beta, gd, runs, tails = (m.data[k] for k in ("x", "y", "beta", "gd", "runs", "tails"))
    spe = m.data["steps_per_epoch"]
    fig, axes = pyplot().subplots(1, 2, figsize=(15, 5.5), layout="constrained")
    ax = axes[0]
    aa, bb = xp.meshgrid(xp.linspace(-2.2, 3.2, 200), xp.linspace(-2.0, 3.0, 200))
    res = aa[..., None] * x + bb[..., None] - y
    LS = 0.5 * (res * res).mean(-1)
    cs = ax.contour(aa, bb, LS, levels=xp.geomspace(LS.min() * 1.01, LS.max(), 14), cmap="viridis", linewidths=0.8)
    ax.clabel(cs, fontsize=6, fmt="%.2g")
    ax.plot(gd[:, 0], gd[:, 1], "o-", ms=2, color="tab:blue", label=f"GD (η = {LR_GD}, {len(gd) - 1} steps)")
    first = next(iter(runs))
    sg = runs[first]
    ax.plot(sg[:, 0], sg[:, 1], "-", lw=0.7, color="tab:orange", alpha=0.8, label=f"mini-batch SGD ({first}, |B| = {BATCH})")
    ax.plot(*beta, "r*", ms=16, label=f"closed form β̂ = ({beta[0]:.3f}, {beta[1]:.3f})")
    ax.plot(*gd[0], "ks", label="start (−1.5, 2.5)")
    ax.set(xlabel="slope a", ylabel="intercept b", title="L_S = (1/2n)Σ(y − ax − b)²: paths to the least-squares point")
    ax.legend(fontsize=8, loc="upper right")
    ins = ax.inset_axes([0.03, 0.03, 0.36, 0.36])
    ins.plot(sg[-spe * 10:, 0], sg[-spe * 10:, 1], ".-", ms=2, lw=0.5, color="tab:orange")
    ins.plot(gd[:, 0], gd[:, 1], "o-", ms=2, color="tab:blue")
    ins.plot(*beta, "r*", ms=12)
    ins.set(xlim=(beta[0] - 0.12, beta[0] + 0.12), ylim=(beta[1] - 0.12, beta[1] + 0.12), xticks=[], yticks=[])
    ins.set_title("zoom ±0.12: SGD's last 10 epochs", fontsize=7)
    ax = axes[1]
    ax.semilogy(xp.arange(len(gd)), xp.linalg.norm(gd - beta, axis=1) + 1e-18, label="GD (full batch: one step per epoch)")
    for k, v in runs.items():
        ax.semilogy(xp.arange(len(v)) / spe * 1.0, xp.linalg.norm(v - beta, axis=1), lw=0.8, label=f"{k}: tail RMS {tails[k]:.1e}")
    ax.axhline(1e-6, color="k", ls=":", label="1e-6")
    ax.set(xlabel=f"epoch (pass over the data; GD: 1 step, SGD: {spe} steps)", ylabel="‖β − β̂‖", ylim=(1e-11, 10),
           title="Distance to the closed-form solution")
    ax.legend(fontsize=8)
    fig.suptitle("Least squares: closed form vs gradient descent vs SGD (Xu §1.2–1.3)")
    ctx.savefig(fig, "ols-vs-gd.png")
