"""ols-vs-gd: closed-form least squares, gradient descent and SGD find the same β (Xu §1.2–1.3, Fang ch. 3).

Xu fits f(x) = ax + b to data by the least-squares estimate β̂ = (XᵀX)⁻¹XᵀY (eq. 1.10) and by
gradient descent on L_S = (1/2n)Σ(yᵢ − hᵢ)² (eq. 1.17–1.19), "which gives the same solution as (1.10)";
Fang §3.1 solves the normal equations and names the QR decomposition as the alternative. Here:
the four closed-form solvers of shenjing.linear on one problem, full-batch GD with shenjing autograd
and optim.SGD until it is within 1e-6 of β̂, and mini-batch SGD, whose constant-rate iterates hover
in a noise ball around β̂ whose size scales with η, and whose decaying-rate iterates close in.

Xu eq. 1.20–1.21 writes the mini-batch loss with 1/n (the full-data count) in front of a sum over
the batch B. That is the standard batch mean (1/|B|) with the learning rate multiplied by |B|/n — the
two trajectories are compared step by step. (The printed L_B also drops the ½ of eq. 1.17 while its
gradient 1.21 keeps the ½-form; the gradient of 1.21 is what is run.)
"""

from __future__ import annotations

from ...backend import xp
from ..core import experiment


def _linear_model(sj, nn, d, a0=-1.5, b0=2.5):
    model = nn.Linear(d, 1, dtype=sj.float64)
    model.weight.data = xp.full((1, d), a0)
    model.bias.data = xp.array([b0])
    return model


def _beta(model):
    return xp.append(model.weight.detach().numpy().ravel(), model.bias.detach().numpy())


def _sgd(sj, nn, optim, X, Y, lr, epochs, batch, generator, decay=0.0, notes_form=False):
    """Mini-batch SGD over shuffled batches; the loss per batch is ½·mean over B (standard) or (1/2n)·sum over B
    (Xu eq. 1.20–1.21). Returns the β after every step."""
    import shenjing.nn.functional as F
    from shenjing.data import DataLoader, TensorDataset

    model = _linear_model(sj, nn, X.shape[1])
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X, Y), batch_size=batch, shuffle=True, generator=generator)
    n = X.shape[0]
    path, t = [_beta(model)], 0
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
            path.append(_beta(model))
            t += 1
    return xp.array(path)


@experiment(
    id="ols-vs-gd",
    title="Least squares in closed form, by gradient descent and by SGD",
    title_zh="最小二乘: 闭式解、梯度下降与随机梯度下降",
    source="Xu §1.2–1.3 (eq. 1.10, 1.17–1.21); Fang ch. 3",
    claim="The normal equations, QR and lstsq give the same least-squares β̂; gradient descent on the mean squared error "
          "converges to it (to 1e-6), and SGD reaches its neighbourhood, closer as the learning rate shrinks.",
)
def run(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import linear as L
    from shenjing import nn, optim
    from shenjing.data import toy
    from shenjing.viz.plots import _plt

    n = 200 if ctx.quick else 1000
    Xt, Yt = toy.linear(n, 1, weights=[2.0], bias=-1.0, noise=0.5, generator=ctx.generator)
    x = Xt.numpy().astype(xp.float64)
    y = Yt.numpy().astype(xp.float64)
    X, Y = sj.tensor(x), sj.tensor(y)

    # 1. closed forms (f = ax + b, design matrix [x 1] of eq. 1.11)
    A = L.design_matrix(x)
    sols = {m: L.ols(A, y[:, 0], m)[0] for m in L.METHODS}
    beta = sols["qr"]
    solver_gap = max(float(xp.abs(s - beta).max()) for s in sols.values())
    # the same on 5 features, well and badly conditioned (normal equations square the condition number)
    Z = ctx.rng.standard_normal((n, 5))
    yz = Z @ ctx.rng.standard_normal(5) + 0.1 * ctx.rng.standard_normal(n)
    gap5 = float(xp.abs(L.ols(Z, yz, "normal", True)[0] - L.ols(Z, yz, "qr", True)[0]).max())
    Zbad = Z.copy()
    Zbad[:, 4] = Zbad[:, 3] + 1e-6 * Zbad[:, 4]
    ybad = Zbad @ xp.ones(5) + 0.1 * ctx.rng.standard_normal(n)
    gap_bad = float(xp.abs(L.ols(Zbad, ybad, "normal", True)[0] - L.ols(Zbad, ybad, "lstsq", True)[0]).max())
    gap_bad_qr = float(xp.abs(L.ols(Zbad, ybad, "qr", True)[0] - L.ols(Zbad, ybad, "lstsq", True)[0]).max())

    # 2. full-batch gradient descent on L_S = (1/2n)Σ(y − h)² with autograd and optim.SGD
    model = _linear_model(sj, nn, 1)
    lr_gd = 0.1
    opt = optim.SGD(model.parameters(), lr=lr_gd)
    gd_path = [_beta(model)]
    steps_to_1e6 = None
    for step in range(1, 5001):
        opt.zero_grad()
        loss = 0.5 * F.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        gd_path.append(_beta(model))
        if steps_to_1e6 is None and xp.abs(gd_path[-1] - beta).max() < 1e-6:
            steps_to_1e6 = step
        if xp.abs(gd_path[-1] - beta).max() < 1e-10:
            break
    gd_path = xp.array(gd_path)
    gd_gap = float(xp.abs(gd_path[-1] - beta).max())
    # the gradient of eq. 1.19 by hand at the start equals autograd's
    a0, b0 = gd_path[0]
    h = a0 * x[:, 0] + b0
    grad_hand = xp.array([((h - y[:, 0]) * x[:, 0]).mean(), (h - y[:, 0]).mean()])
    m0 = _linear_model(sj, nn, 1)
    (0.5 * F.mse_loss(m0(X), Y)).backward()
    grad_auto = xp.array([m0.weight.grad.item(), m0.bias.grad.item()])
    grad_gap = float(xp.abs(grad_hand - grad_auto).max())

    # 3. mini-batch SGD (batch 10): constant rates and a decaying rate; tail-averaged distance to β̂
    epochs = 40 if ctx.quick else 150
    batch = 10
    runs = {}
    for name, lr, decay in (("SGD η = 0.1", 0.1, 0.0), ("SGD η = 0.01", 0.01, 0.0), ("SGD η = 0.1/(1 + t/20)", 0.1, 0.05)):
        g = sj.Generator().manual_seed(ctx.seed)
        runs[name] = _sgd(sj, nn, optim, X, Y, lr, epochs, batch, g, decay)
    steps_per_epoch = n // batch

    def tail(path):
        """RMS distance to β̂ over the last quarter of the steps."""
        d = xp.linalg.norm(path[-len(path) // 4:] - beta, axis=1)
        return float(xp.sqrt((d * d).mean()))

    tails = {k: tail(v) for k, v in runs.items()}
    names = list(runs)
    noise_ratio = tails[names[0]] / tails[names[1]]

    # 4. the notes' 1/n mini-batch normalisation (eq. 1.20–1.21) ≡ standard with η·|B|/n
    g1, g2 = sj.Generator().manual_seed(ctx.seed + 1), sj.Generator().manual_seed(ctx.seed + 1)
    notes = _sgd(sj, nn, optim, X, Y, 0.5, 3, batch, g1, notes_form=True)
    std = _sgd(sj, nn, optim, X, Y, 0.5 * batch / n, 3, batch, g2)
    notes_gap = float(xp.abs(notes - std).max())

    # ---- figures
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5), layout="constrained")
    ax = axes[0]
    aa, bb = xp.meshgrid(xp.linspace(-2.2, 3.2, 200), xp.linspace(-2.0, 3.0, 200))
    res = aa[..., None] * x[:, 0] + bb[..., None] - y[:, 0]
    LS = 0.5 * (res * res).mean(-1)
    cs = ax.contour(aa, bb, LS, levels=xp.geomspace(LS.min() * 1.01, LS.max(), 14), cmap="viridis", linewidths=0.8)
    ax.clabel(cs, fontsize=6, fmt="%.2g")
    ax.plot(gd_path[:, 0], gd_path[:, 1], "o-", ms=2, color="tab:blue", label=f"GD (η = {lr_gd}, {len(gd_path) - 1} steps)")
    sg = runs[names[0]]
    ax.plot(sg[:, 0], sg[:, 1], "-", lw=0.7, color="tab:orange", alpha=0.8, label=f"mini-batch SGD ({names[0]}, |B| = {batch})")
    ax.plot(*beta, "r*", ms=16, label=f"closed form β̂ = ({beta[0]:.3f}, {beta[1]:.3f})")
    ax.plot(*gd_path[0], "ks", label="start (−1.5, 2.5)")
    ax.set(xlabel="slope a", ylabel="intercept b", title="L_S = (1/2n)Σ(y − ax − b)²: paths to the least-squares point")
    ax.legend(fontsize=8, loc="upper right")
    ins = ax.inset_axes([0.03, 0.03, 0.36, 0.36])
    ins.plot(sg[-steps_per_epoch * 10:, 0], sg[-steps_per_epoch * 10:, 1], ".-", ms=2, lw=0.5, color="tab:orange")
    ins.plot(gd_path[:, 0], gd_path[:, 1], "o-", ms=2, color="tab:blue")
    ins.plot(*beta, "r*", ms=12)
    ins.set(xlim=(beta[0] - 0.12, beta[0] + 0.12), ylim=(beta[1] - 0.12, beta[1] + 0.12), xticks=[], yticks=[])
    ins.set_title("zoom ±0.12: SGD's last 10 epochs", fontsize=7)
    ax = axes[1]
    ep = xp.arange(len(gd_path))
    ax.semilogy(ep, xp.linalg.norm(gd_path - beta, axis=1) + 1e-18, label="GD (full batch: one step per epoch)")
    for k, v in runs.items():
        ax.semilogy(xp.arange(len(v)) / steps_per_epoch * 1.0, xp.linalg.norm(v - beta, axis=1), lw=0.8,
                    label=f"{k}: tail RMS {tails[k]:.1e}")
    ax.axhline(1e-6, color="k", ls=":", label="1e-6")
    ax.set(xlabel=f"epoch (pass over the data; GD: 1 step, SGD: {n // batch} steps)", ylabel="‖β − β̂‖", ylim=(1e-11, 10),
           title="Distance to the closed-form solution")
    ax.legend(fontsize=8)
    fig.suptitle("Least squares: closed form vs gradient descent vs SGD (Xu §1.2–1.3)")
    ctx.savefig(fig, "ols-vs-gd.png")

    verdict = (solver_gap < 1e-10 and gap5 < 1e-10 and gd_gap < 1e-6 and grad_gap < 1e-12
               and tails[names[2]] < 0.05 and noise_ratio > 2.0 and notes_gap < 1e-12)
    return {
        "measured": {
            "beta_closed_form": beta.tolist(), "max_gap_between_solvers_1d": solver_gap, "normal_vs_qr_gap_5_features": gap5,
            "ill_conditioned_normal_vs_lstsq_gap": gap_bad, "ill_conditioned_qr_vs_lstsq_gap": gap_bad_qr,
            "gd_final_gap": gd_gap, "gd_steps_to_1e-6": steps_to_1e6, "gd_steps_total": len(gd_path) - 1,
            "eq_1_19_gradient_vs_autograd": grad_gap, "sgd_tail_rms_distance": tails,
            "sgd_noise_ratio_eta_0.1_vs_0.01": noise_ratio, "notes_1_over_n_vs_standard_lr_scaled_gap": notes_gap,
        },
        "verdict": bool(verdict),
        "method": f"toy.linear ({n} points, y = 2x − 1 + N(0, 0.5²)) in float64; β̂ by shenjing.linear.ols with the normal equations, "
                  "QR, lstsq and pinv; GD = optim.SGD on ½·MSE of an nn.Linear(1, 1) from (−1.5, 2.5) with η = 0.1; SGD with "
                  f"|B| = {batch} from a seeded DataLoader for {epochs} epochs. Holds if the solvers agree to 1e-10 (also on 5 features), "
                  "GD ends within 1e-6 of β̂ (max-norm), eq. 1.19's gradient equals autograd's to 1e-12, the decaying-rate SGD's tail "
                  "RMS distance is < 0.05, the η = 0.1 noise ball is > 2× the η = 0.01 one, and the notes' 1/n batch loss equals the "
                  "standard one with η·|B|/n to 1e-12. The ill-conditioned case (cond ~1e6) is reported: the normal equations lose "
                  "digits there, QR does not.",
    }
