"""fitting-capacity: under- and over-fitting, and Occam's razor on {(0,0), (1,1), (2,2)} (Wang 六.I–六.II).

Wang 六.I.2: an under-fitting model is too simple and errs on training and test data alike; an
over-fitting model fits the training data (and its noise) very well and the test data badly, "usually
when the model is too complex or the training data too few". 六.II.1 (Occam's razor): among theories
that predict equally well pick the simplest — "given {(0,0), (1,1), (2,2)} we had better fit y = ax
rather than y = Σ_k a_k x^k".

Measured with basis-function regression of growing size (polynomial, RBF, Fourier; shenjing.linear)
on 16 noisy samples of sin 2πx, with MLPs of three sizes trained by Adam on the same kind of data, and
on the three points of the notes: y = ax gives a = 1; every degree-4 polynomial through the points
fits them exactly too, but their predictions at x = 3 scatter — as do those of MLPs that fit the three
points from different initialisations.
"""

from __future__ import annotations

from ...backend import xp
from ..core import experiment


def _truth(x):
    return xp.sin(2 * xp.pi * x)


def _train_mlp(sj, nn, optim, F, hidden, X, Y, XT, steps, track_every=0, lr=0.02):
    """Train nn.mlp([1, *hidden, 1], tanh) by full-batch Adam; X, XT are inputs rescaled to [−1, 1]."""
    model = nn.mlp([1, *hidden, 1], activation="tanh").double()
    opt = optim.Adam(model.parameters(), lr=lr)
    curve = []
    for s in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        if track_every and s % track_every == 0:
            with sj.no_grad():
                curve.append((s, loss.item(), float(((model(XT).numpy()[:, 0] - _truth((XT.numpy()[:, 0] + 1) / 2)) ** 2).mean())))
    with sj.no_grad():
        train = float(F.mse_loss(model(X), Y).item())
        test = float(((model(XT).numpy()[:, 0] - _truth((XT.numpy()[:, 0] + 1) / 2)) ** 2).mean())
    return model, train, test, curve


@experiment(
    id="fitting-capacity",
    title="Under- and over-fitting with basis regression and MLPs; Occam's razor",
    title_zh="欠拟合与过拟合 (基函数回归与多层感知机); 奥卡姆剃刀",
    source="Wang 六.I.2, 六.II.1",
    claim="Too simple a model under-fits (high training and test error); too complex a model fits the training noise and "
          "generalises worse; on {(0,0), (1,1), (2,2)} y = ax fits with a = 1 while the many more complex models that fit "
          "equally well disagree away from the data.",
)
def run(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import linear as L
    from shenjing import nn, optim
    from shenjing.viz.plots import _plt

    rng = ctx.rng
    n, sigma = 16, 0.2
    xt = xp.linspace(0, 1, 400)

    def draw():
        x = xp.sort(rng.uniform(0, 1, n))
        return x, _truth(x) + sigma * rng.standard_normal(n)

    # 1. basis-function regression of growing size on one training set
    x, y = draw()
    sizes = list(range(0, n))
    curves = {}
    for name in ("polynomial", "rbf", "fourier"):
        rows = []
        for k in sizes:
            if name == "polynomial":
                basis = L.PolynomialBasis(k, domain=(0, 1))
            elif name == "rbf":
                if k == 0:
                    continue
                basis = L.RBFBasis(xp.linspace(0, 1, k), width=1.0 / k)
            else:
                if 2 * k + 1 > n:
                    break
                basis = L.FourierBasis(k, period=1.0)
            m = L.BasisRegression(basis, method="lstsq").fit(x, y)
            rows.append((basis.n_functions, float(((m.predict(x) - y) ** 2).mean()), float(((m.predict(xt) - _truth(xt)) ** 2).mean())))
        curves[name] = xp.array(rows)
    poly = curves["polynomial"]
    best_deg = int(xp.argmin(poly[:, 2]))
    train_monotone = bool(xp.all(xp.diff(poly[:, 1]) <= 1e-12))
    underfit_ratio = float(poly[1, 2] / poly[best_deg, 2])  # degree 1 vs best
    overfit_ratio = float(poly[-1, 2] / poly[best_deg, 2])  # degree n − 1 (interpolation) vs best

    # 2. MLPs of three sizes on several training sets
    draws = 2 if ctx.quick else 5
    steps = 1000 if ctx.quick else 4000
    archs = {"1 tanh unit": [1], "4 tanh units": [4], "32-32 tanh": [32, 32]}
    mlp = {k: [] for k in archs}
    shown, big_curve = {}, None
    XT = sj.tensor(2 * xt[:, None] - 1)  # the networks see x rescaled to [−1, 1]
    for di in range(draws):
        xd, yd = (x, y) if di == 0 else draw()
        X, Y = sj.tensor(2 * xd[:, None] - 1), sj.tensor(yd[:, None])
        for name, hidden in archs.items():
            model, tr, te, curve = _train_mlp(sj, nn, optim, F, hidden, X, Y, XT, steps,
                                              track_every=50 if (di == 0 and name == "32-32 tanh") else 0)
            mlp[name].append((tr, te))
            if di == 0:
                with sj.no_grad():
                    shown[name] = model(XT).numpy()[:, 0]
                if curve:
                    big_curve = xp.array(curve)
    mean = {k: xp.array(v).mean(0) for k, v in mlp.items()}  # (train, test) averaged over draws
    small, medium, big = (mean[k] for k in archs)
    gap = {k: float(v[1] - v[0]) for k, v in mean.items()}

    # 3. Occam's razor on {(0,0), (1,1), (2,2)}
    xo = xp.array([0.0, 1.0, 2.0])
    yo = xp.array([0.0, 1.0, 2.0])
    a = float(L.ols(xo[:, None], yo)[0][0])  # y = ax, no intercept
    V = L.PolynomialBasis(4)(xo)  # 3 × 5 Vandermonde: y = Σ_{k≤4} a_k x^k
    c_min = L.ols(V, yo, method="lstsq")[0]  # the minimum-norm interpolant
    null = xp.linalg.svd(V)[2][3:].T  # 5 × 2 basis of {c : Vc = 0}
    members = c_min[None, :] + rng.standard_normal((200, 2)) @ null.T
    resid_max = float(xp.abs(members @ V.T - yo).max())
    v3 = L.PolynomialBasis(4)(xp.array([3.0]))[0]
    pred3 = members @ v3
    min_norm3 = float(c_min @ v3)
    X3, Y3 = sj.tensor(xo[:, None]), sj.tensor(yo[:, None])
    xs_plot = xp.linspace(-1, 3.5, 300)
    mlp_fits, mlp3, mlp_resid = [], [], []
    for _ in range(5):
        model, tr, _, _ = _train_mlp(sj, nn, optim, F, [32], X3, Y3, XT, 400, lr=0.01)
        with sj.no_grad():
            mlp_fits.append(model(sj.tensor(xs_plot[:, None])).numpy()[:, 0])
            mlp3.append(float(model(sj.tensor([[3.0]], dtype=sj.float64)).item()))
        mlp_resid.append(tr ** 0.5)

    # ---- figures
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(18, 5), layout="constrained")
    ax = axes[0]
    for (name, c), col in zip(curves.items(), ("tab:blue", "tab:green", "tab:purple")):
        ax.semilogy(c[:, 0], c[:, 1], "o--", color=col, ms=4, label=f"{name}: training")
        ax.semilogy(c[:, 0], c[:, 2], "s-", color=col, ms=4, label=f"{name}: test")
    ax.axhline(sigma**2, color="gray", ls=":", label=f"noise variance σ² = {sigma**2:.2f}")
    ax.set(xlabel="number of basis functions (incl. the constant)", ylabel="mean squared error",
           title=f"Basis regression on {n} noisy points: capacity sweep", ylim=(1e-6, 1e3))
    ax.annotate("interpolation:\ntraining error ≈ 0", (n, 2e-6), xytext=(n - 4.5, 1e-5), fontsize=7, arrowprops={"arrowstyle": "->"})
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    for deg, col in ((1, "tab:orange"), (best_deg, "tab:green"), (n - 1, "tab:red")):
        m = L.BasisRegression(L.PolynomialBasis(deg, domain=(0, 1)), method="lstsq").fit(x, y)
        kind = "under-fits" if deg == 1 else "over-fits" if deg == n - 1 else "best test error"
        ax.plot(xt, m.predict(xt), color=col, lw=2, label=f"degree {deg}: {kind} (test MSE {poly[deg, 2]:.3g})")
    ax.plot(xt, _truth(xt), "k--", label="truth sin 2πx")
    ax.scatter(x, y, c="k", zorder=3, label="training points")
    ax.set(ylim=(-2.5, 2.5), xlabel="x", ylabel="y", title="Polynomial fits")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    for (name, pred), col in zip(shown.items(), ("tab:orange", "tab:green", "tab:red")):
        ax.plot(xt, pred, color=col, lw=2, label=f"MLP {name}: train {mean[name][0]:.3f}, test {mean[name][1]:.3f}")
    ax.plot(xt, _truth(xt), "k--", label="truth")
    ax.scatter(x, y, c="k", zorder=3)
    ax.set(ylim=(-2.5, 2.5), xlabel="x", ylabel="y", title=f"MLPs, {steps} Adam steps (MSE: mean over {draws} data sets)")
    ax.legend(fontsize=7, loc="lower left")
    if big_curve is not None:
        ins = ax.inset_axes([0.64, 0.7, 0.35, 0.28])
        ins.semilogy(big_curve[:, 0], big_curve[:, 1], label="32-32 train")
        ins.semilogy(big_curve[:, 0], big_curve[:, 2], label="32-32 test")
        ins.tick_params(labelsize=6)
        ins.set_xlabel("step", fontsize=6)
        ins.legend(fontsize=6)
    fig.suptitle("Under- and over-fitting (Wang section 6.I.2)")
    ctx.savefig(fig, "capacity.png")

    fig, axes = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
    ax = axes[0]
    Pp = L.PolynomialBasis(4)(xs_plot)
    for i in range(12):
        ax.plot(xs_plot, Pp @ members[i], color="tab:orange", alpha=0.5, lw=0.8,
                label="degree-4 polynomials through the points" if i == 0 else None)
    ax.plot(xs_plot, Pp @ c_min, color="tab:red", lw=2, label="minimum-norm degree-4 interpolant")
    for i, f in enumerate(mlp_fits):
        ax.plot(xs_plot, f, color="tab:blue", alpha=0.7, lw=1, label="MLP 1-32-1 tanh, 5 initialisations" if i == 0 else None)
    ax.plot(xs_plot, a * xs_plot, "k-", lw=3, label=f"y = ax, a = {a:.12g}")
    ax.scatter(xo, yo, s=80, c="k", zorder=5, label="data {(0,0), (1,1), (2,2)}")
    ax.set(ylim=(-4, 7), xlabel="x", ylabel="y", title="Every model fits the three points exactly")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    ax.hist(pred3, bins=40, color="tab:orange", alpha=0.7, label=f"200 degree-4 interpolants (sd {pred3.std():.2f})")
    for i, v in enumerate(mlp3):
        ax.axvline(v, color="tab:blue", lw=1, label="MLP interpolants" if i == 0 else None)
    ax.axvline(min_norm3, color="tab:red", lw=2, label=f"minimum-norm interpolant: {min_norm3:.2f}")
    ax.axvline(3 * a, color="k", lw=3, label=f"y = ax: {3 * a:g}")
    ax.set(xlabel="prediction at x = 3", ylabel="number of interpolants", title="…but they disagree away from the data")
    ax.legend(fontsize=8)
    fig.suptitle("Occam's razor (Wang section 6.II.1): prefer y = ax")
    ctx.savefig(fig, "occam.png")

    basis_ok = train_monotone and 0 < best_deg < n - 1 and underfit_ratio > 2 and overfit_ratio > 10
    mlp_ok = (small[0] > sigma**2 and small[1] > medium[1] and big[0] < 0.5 * sigma**2 and big[0] < medium[0]
              and gap["32-32 tanh"] > gap["4 tanh units"] and gap["32-32 tanh"] > 0.5 * sigma**2)
    occam_ok = (abs(a - 1) < 1e-12 and resid_max < 1e-9 and pred3.std() > 1.0 and abs(min_norm3 - 3) > 0.1
                and max(mlp_resid) < 1e-2 and min(abs(v - 3) for v in mlp3) > 0.1)
    return {
        "measured": {
            "polynomial_degrees": [int(d) for d in poly[:, 0] - 1], "polynomial_train_mse": poly[:, 1].tolist(),
            "polynomial_test_mse": poly[:, 2].tolist(), "best_degree": best_deg, "train_mse_nonincreasing": train_monotone,
            "test_ratio_degree1_vs_best": underfit_ratio, "test_ratio_interpolant_vs_best": overfit_ratio,
            "rbf_test_mse": curves["rbf"][:, 2].tolist(), "fourier_test_mse": curves["fourier"][:, 2].tolist(),
            "mlp_mean_train_test": {k: v.tolist() for k, v in mean.items()}, "mlp_generalisation_gap": gap,
            "occam_a": a, "occam_interpolant_max_residual": resid_max, "occam_pred_at_3_sd": float(pred3.std()),
            "occam_min_norm_pred_at_3": min_norm3, "occam_mlp_preds_at_3": mlp3, "occam_mlp_max_train_rmse": max(mlp_resid),
        },
        "verdict": bool(basis_ok and mlp_ok and occam_ok),
        "method": f"{n} points of sin 2πx + N(0, {sigma}²), test MSE against the noiseless truth on 400 points. Basis regression by "
                  "least squares (lstsq): holds if training error never rises with degree, the best degree is interior, degree 1's "
                  f"test error is > 2× the best and the interpolating degree-{n - 1} polynomial's > 10×. MLPs on x rescaled to [−1, 1] (Adam lr 0.02, "
                  f"{steps} steps, mean over {draws} data sets): holds if the 1-unit net under-fits — training error above the noise level σ² "
                  "and test error above the 4-unit net's — and the 32-32 net over-fits — training error < σ²/2 (it fits the noise), "
                  "below the 4-unit net's, with a generalisation gap (test − train) above the 4-unit net's and above σ²/2. Occam: "
                  "a = 1 to 1e-12; 200 degree-4 interpolants (minimum-norm + null space) fit to 1e-9 with predictions at x = 3 of "
                  "sd > 1, the minimum-norm one off 3 by > 0.1, and 5 MLPs 1-32-1 fit (RMSE < 1e-2) yet each predicts ≠ 3 by > 0.1.",
    }
