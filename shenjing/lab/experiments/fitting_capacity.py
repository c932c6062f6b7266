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
from ..core import Check, Experiment, Measurement

N, SIGMA = 16, 0.2  # training points and noise level
ARCHS = {"1 tanh unit": [1], "4 tanh units": [4], "32-32 tanh": [32, 32]}
SMALL, MEDIUM, BIG = ARCHS
LR = 0.02

EXPERIMENT = Experiment(
    id="fitting-capacity",
    title="Under- and over-fitting with basis regression and MLPs; Occam's razor",
    title_zh="欠拟合与过拟合 (基函数回归与多层感知机); 奥卡姆剃刀",
    source="Wang 六.I.2, 六.II.1",
    claim="Too simple a model under-fits (high training and test error); too complex a model fits the training noise and "
          "generalises worse; on {(0,0), (1,1), (2,2)} y = ax fits with a = 1 while the many more complex models that fit "
          "equally well disagree away from the data.",
    claim_zh="过于简单的模型欠拟合 (训练误差与测试误差都高); 过于复杂的模型拟合了训练噪声, 泛化更差; 在 {(0,0), (1,1), (2,2)} "
             "上 y = ax 以 a = 1 拟合, 而同样拟合得很好的许多更复杂模型在数据之外彼此不一致.",
    checks=(
        Check("polynomial_train_mse_max_rise", "<=", 1e-12, "the largest rise of the polynomials' training MSE from one degree to the next",
              what_zh="多项式训练 MSE 从一个次数到下一个次数的最大上升"),
        Check("best_degree", ">", 0, "the degree with the lowest test MSE", what_zh="测试 MSE 最低的次数"),
        Check("best_degree", "<", N - 1, "the degree with the lowest test MSE", what_zh="测试 MSE 最低的次数"),
        Check("test_ratio_degree1_vs_best", ">", 2, "degree 1's test MSE / the best degree's", what_zh="1 次的测试 MSE / 最佳次数的"),
        Check("test_ratio_interpolant_vs_best", ">", 10, f"the interpolating degree-{N - 1} polynomial's test MSE / the best degree's",
              what_zh="插值的 15 次多项式的测试 MSE / 最佳次数的"),
        Check(f"mlp_train_mse.{SMALL}", ">", SIGMA ** 2, "the 1-unit MLP's training MSE (mean over the data sets)",
              what_zh="1 个单元的 MLP 的训练 MSE (各数据集上的平均)"),
        Check("mlp_test_mse_1_unit_minus_4_units", ">", 0, "its test MSE − the 4-unit MLP's", what_zh="它的测试 MSE − 4 个单元的 MLP 的"),
        Check(f"mlp_train_mse.{BIG}", "<", 0.5 * SIGMA ** 2, "the 32-32 MLP's training MSE", what_zh="32-32 MLP 的训练 MSE"),
        Check("mlp_train_mse_32x32_minus_4_units", "<", 0, "its training MSE − the 4-unit MLP's", what_zh="它的训练 MSE − 4 个单元的 MLP 的"),
        Check("mlp_generalisation_gap_32x32_minus_4_units", ">", 0, "its generalisation gap (test − train MSE) − the 4-unit MLP's",
              what_zh="它的泛化间隙 (测试 − 训练 MSE) − 4 个单元的 MLP 的"),
        Check(f"mlp_generalisation_gap.{BIG}", ">", 0.5 * SIGMA ** 2, "its generalisation gap", what_zh="它的泛化间隙"),
        Check("occam_a_error", "<", 1e-12, "|a − 1| of the least-squares y = ax", what_zh="最小二乘 y = ax 的 |a − 1|"),
        Check("occam_interpolant_max_residual", "<", 1e-9, "the degree-4 interpolants' max residual on the three points",
              what_zh="4 次插值多项式在三个点上的最大残差"),
        Check("occam_pred_at_3_sd", ">", 1, "the sd of their predictions at x = 3", what_zh="它们在 x = 3 处预测的标准差"),
        Check("occam_min_norm_pred_at_3_distance_from_3", ">", 0.1, "|the minimum-norm interpolant at x = 3 − 3|", what_zh="|最小范数插值在 x = 3 处 − 3|"),
        Check("occam_mlp_max_train_rmse", "<", 1e-2, "the MLPs 1-32-1's largest training RMSE on the three points",
              what_zh="1-32-1 MLP 在三个点上最大的训练 RMSE"),
        Check("occam_mlp_pred_at_3_distance_from_3", ">", 0.1, "each MLP's |prediction at x = 3 − 3|", what_zh="每个 MLP 的 |x = 3 处的预测 − 3|"),
    ),
)


def truth(x):
    """The noiseless target sin 2πx."""
    return xp.sin(2 * xp.pi * x)


def draw(rng) -> tuple:
    """N sorted uniform points of [0, 1] and their noisy targets sin 2πx + N(0, σ²)."""
    x = xp.sort(rng.uniform(0, 1, N))
    return x, truth(x) + SIGMA * rng.standard_normal(N)


def basis_sweep(x, y, xt) -> dict:
    """Least-squares basis regression (polynomial, RBF, Fourier) of every size up to interpolation:
    per basis an array of rows (number of functions, training MSE, test MSE against the truth on ``xt``)."""
    from shenjing import linear as L

    curves = {}
    for name in ("polynomial", "rbf", "fourier"):
        rows = []
        for k in range(N):
            if name == "polynomial":
                basis = L.PolynomialBasis(k, domain=(0, 1))
            elif name == "rbf":
                if k == 0:
                    continue
                basis = L.RBFBasis(xp.linspace(0, 1, k), width=1.0 / k)
            else:
                if 2 * k + 1 > N:
                    break
                basis = L.FourierBasis(k, period=1.0)
            m = L.BasisRegression(basis, method="lstsq").fit(x, y)
            rows.append((basis.n_functions, float(((m.predict(x) - y) ** 2).mean()), float(((m.predict(xt) - truth(xt)) ** 2).mean())))
        curves[name] = xp.array(rows)
    return curves


def truth_error(model, XT) -> float:
    """MSE against the truth on the test inputs ``XT`` (x rescaled to [−1, 1])."""
    import shenjing as sj

    with sj.no_grad():
        return float(((model(XT).numpy()[:, 0] - truth((XT.numpy()[:, 0] + 1) / 2)) ** 2).mean())


def train_mlp(hidden: list[int], X, Y, XT, steps: int, track_every: int = 0, lr: float = LR) -> tuple:
    """nn.mlp([1, *hidden, 1], tanh), float64, by full-batch Adam on MSE; X, XT are inputs rescaled to
    [−1, 1]. Returns the model, its training and test MSE and, every ``track_every`` steps, (step,
    training loss, test MSE)."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    model = nn.mlp([1, *hidden, 1], activation="tanh").double()
    curve = []

    def track(step: int, loss: float) -> None:
        if track_every and step % track_every == 0:
            curve.append((step, loss, truth_error(model, XT)))

    full_batch(lambda: F.mse_loss(model(X), Y), optim.Adam(model.parameters(), lr=lr), steps, callback=track)
    with sj.no_grad():
        train = float(F.mse_loss(model(X), Y).item())
    return model, train, truth_error(model, XT), curve


def mlp_sweep(rng, first: tuple, XT, draws: int, steps: int) -> tuple[dict, dict, object]:
    """The MLPs of ARCHS on ``draws`` training sets (the first is ``first``): their (train, test) MSE
    averaged over the sets, their fits on the first set, and the 32-32 net's curve on it."""
    import shenjing as sj

    scores = {k: [] for k in ARCHS}
    shown, big_curve = {}, None
    for di in range(draws):
        xd, yd = first if di == 0 else draw(rng)
        X, Y = sj.tensor(2 * xd[:, None] - 1), sj.tensor(yd[:, None])
        for name, hidden in ARCHS.items():
            model, tr, te, curve = train_mlp(hidden, X, Y, XT, steps, track_every=50 if (di == 0 and name == BIG) else 0)
            scores[name].append((tr, te))
            if di == 0:
                with sj.no_grad():
                    shown[name] = model(XT).numpy()[:, 0]
                if curve:
                    big_curve = xp.array(curve)
    return {k: xp.array(v).mean(0) for k, v in scores.items()}, shown, big_curve


def occam(rng, XT) -> tuple[dict, dict]:
    """{(0,0), (1,1), (2,2)}: y = ax by least squares; 200 degree-4 interpolants (minimum-norm + the
    null space of the 3 × 5 Vandermonde matrix) and 5 MLPs 1-32-1 (400 Adam steps, lr 0.01), and
    their predictions at x = 3."""
    import shenjing as sj
    from shenjing import linear as L

    xo = yo = xp.array([0.0, 1.0, 2.0])
    a = float(L.ols(xo[:, None], yo)[0][0])  # y = ax, no intercept
    V = L.PolynomialBasis(4)(xo)  # 3 × 5 Vandermonde: y = Σ_{k≤4} a_k x^k
    c_min = L.ols(V, yo, method="lstsq")[0]  # the minimum-norm interpolant
    null = xp.linalg.svd(V)[2][3:].T  # 5 × 2 basis of {c : Vc = 0}
    members = c_min[None, :] + rng.standard_normal((200, 2)) @ null.T
    v3 = L.PolynomialBasis(4)(xp.array([3.0]))[0]
    pred3, min_norm3 = members @ v3, float(c_min @ v3)
    xs_plot = xp.linspace(-1, 3.5, 300)
    mlp_fits, mlp3, mlp_resid = [], [], []
    for _ in range(5):
        model, tr, _, _ = train_mlp([32], sj.tensor(xo[:, None]), sj.tensor(yo[:, None]), XT, 400, lr=0.01)
        with sj.no_grad():
            mlp_fits.append(model(sj.tensor(xs_plot[:, None])).numpy()[:, 0])
            mlp3.append(float(model(sj.tensor([[3.0]], dtype=sj.float64)).item()))
        mlp_resid.append(tr ** 0.5)
    row = {"occam_a": a, "occam_a_error": abs(a - 1), "occam_interpolant_max_residual": float(xp.abs(members @ V.T - yo).max()),
           "occam_pred_at_3_sd": float(pred3.std()), "occam_min_norm_pred_at_3": min_norm3,
           "occam_min_norm_pred_at_3_distance_from_3": abs(min_norm3 - 3), "occam_mlp_preds_at_3": mlp3,
           "occam_mlp_pred_at_3_distance_from_3": [abs(v - 3) for v in mlp3], "occam_mlp_max_train_rmse": max(mlp_resid)}
    return row, {"xo": xo, "members": members, "c_min": c_min, "pred3": pred3, "xs_plot": xs_plot, "mlp_fits": mlp_fits}


def measure(ctx) -> Measurement:
    import shenjing as sj

    xt = xp.linspace(0, 1, 400)
    x, y = draw(ctx.rng)
    curves = basis_sweep(x, y, xt)
    poly = curves["polynomial"]
    best_deg = int(xp.argmin(poly[:, 2]))

    draws, steps = (2, 1000) if ctx.quick else (5, 4000)
    XT = sj.tensor(2 * xt[:, None] - 1)  # the networks see x rescaled to [−1, 1]
    mean, shown, big_curve = mlp_sweep(ctx.rng, (x, y), XT, draws, steps)
    gap = {k: float(v[1] - v[0]) for k, v in mean.items()}
    occam_row, occam_data = occam(ctx.rng, XT)

    measured = {
        "polynomial_degrees": [int(d) for d in poly[:, 0] - 1], "polynomial_train_mse": poly[:, 1].tolist(),
        "polynomial_test_mse": poly[:, 2].tolist(), "best_degree": best_deg, "train_mse_nonincreasing": bool(xp.all(xp.diff(poly[:, 1]) <= 1e-12)),
        "polynomial_train_mse_max_rise": float(xp.diff(poly[:, 1]).max()),
        "test_ratio_degree1_vs_best": float(poly[1, 2] / poly[best_deg, 2]),  # degree 1 vs best
        "test_ratio_interpolant_vs_best": float(poly[-1, 2] / poly[best_deg, 2]),  # degree N − 1 (interpolation) vs best
        "rbf_test_mse": curves["rbf"][:, 2].tolist(), "fourier_test_mse": curves["fourier"][:, 2].tolist(),
        "mlp_mean_train_test": {k: v.tolist() for k, v in mean.items()},
        "mlp_train_mse": {k: float(v[0]) for k, v in mean.items()}, "mlp_test_mse": {k: float(v[1]) for k, v in mean.items()},
        "mlp_generalisation_gap": gap,
        "mlp_test_mse_1_unit_minus_4_units": float(mean[SMALL][1] - mean[MEDIUM][1]),
        "mlp_train_mse_32x32_minus_4_units": float(mean[BIG][0] - mean[MEDIUM][0]),
        "mlp_generalisation_gap_32x32_minus_4_units": gap[BIG] - gap[MEDIUM],
        **occam_row,
    }
    method = (f"{N} points of sin 2πx + N(0, {SIGMA}²) (noise variance {SIGMA ** 2:g}); test MSE against the noiseless truth on 400 "
              "points. Polynomial, RBF and Fourier basis regression by least squares (lstsq) of every size up to interpolation. MLPs 1-1-1, 1-4-1 and "
              f"1-32-32-1 (tanh, float64) on x rescaled to [−1, 1], {steps} full-batch Adam steps (lr {LR}), MSE averaged over "
              f"{draws} data sets. Occam: y = ax by least squares on {{(0,0), (1,1), (2,2)}}; 200 degree-4 interpolants "
              "(minimum-norm + random null-space components) and 5 MLPs 1-32-1 (400 Adam steps, lr 0.01) fitted to the "
              "three points, predicting at x = 3.")
    data = {"x": x, "y": y, "xt": xt, "curves": curves, "mean": mean, "shown": shown, "big_curve": big_curve, "steps": steps,
            "draws": draws, "occam": occam_data}
    return Measurement(measured, method, data=data)


def figures(ctx, m: Measurement) -> None:
    figure_capacity(ctx, m)
    figure_occam(ctx, m)


def figure_capacity(ctx, m: Measurement) -> None:
    from shenjing import linear as L
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    d = m.data
    x, y, xt, poly = d["x"], d["y"], d["xt"], d["curves"]["polynomial"]
    fig, axes = plt.subplots(1, 3, figsize=(18, 5), layout="constrained")
    ax = axes[0]
    for (name, c), col in zip(d["curves"].items(), ("tab:blue", "tab:green", "tab:purple")):
        ax.semilogy(c[:, 0], c[:, 1], "o--", color=col, ms=4, label=f"{name}: training")
        ax.semilogy(c[:, 0], c[:, 2], "s-", color=col, ms=4, label=f"{name}: test")
    ax.axhline(SIGMA**2, color="gray", ls=":", label=f"noise variance σ² = {SIGMA**2:.2f}")
    ax.set(xlabel="number of basis functions (incl. the constant)", ylabel="mean squared error",
           title=f"Basis regression on {N} noisy points: capacity sweep", ylim=(1e-6, 1e3))
    ax.annotate("interpolation:\ntraining error ≈ 0", (N, 2e-6), xytext=(N - 4.5, 1e-5), fontsize=7, arrowprops={"arrowstyle": "->"})
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    best_deg = m.measured["best_degree"]
    for deg, col in ((1, "tab:orange"), (best_deg, "tab:green"), (N - 1, "tab:red")):
        fit = L.BasisRegression(L.PolynomialBasis(deg, domain=(0, 1)), method="lstsq").fit(x, y)
        kind = "under-fits" if deg == 1 else "over-fits" if deg == N - 1 else "best test error"
        ax.plot(xt, fit.predict(xt), color=col, lw=2, label=f"degree {deg}: {kind} (test MSE {poly[deg, 2]:.3g})")
    ax.plot(xt, truth(xt), "k--", label="truth sin 2πx")
    ax.scatter(x, y, c="k", zorder=3, label="training points")
    ax.set(ylim=(-2.5, 2.5), xlabel="x", ylabel="y", title="Polynomial fits")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    for (name, pred), col in zip(d["shown"].items(), ("tab:orange", "tab:green", "tab:red")):
        ax.plot(xt, pred, color=col, lw=2, label=f"MLP {name}: train {d['mean'][name][0]:.3f}, test {d['mean'][name][1]:.3f}")
    ax.plot(xt, truth(xt), "k--", label="truth")
    ax.scatter(x, y, c="k", zorder=3)
    ax.set(ylim=(-2.5, 2.5), xlabel="x", ylabel="y", title=f"MLPs, {d['steps']} Adam steps (MSE: mean over {d['draws']} data sets)")
    ax.legend(fontsize=7, loc="lower left")
    if d["big_curve"] is not None:
        ins = ax.inset_axes([0.64, 0.7, 0.35, 0.28])
        ins.semilogy(d["big_curve"][:, 0], d["big_curve"][:, 1], label="32-32 train")
        ins.semilogy(d["big_curve"][:, 0], d["big_curve"][:, 2], label="32-32 test")
        ins.tick_params(labelsize=6)
        ins.set_xlabel("step", fontsize=6)
        ins.legend(fontsize=6)
    fig.suptitle("Under- and over-fitting (Wang section 6.I.2)")
    ctx.savefig(fig, "capacity.png")


def figure_occam(ctx, m: Measurement) -> None:
    from shenjing import linear as L
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    o, a = m.data["occam"], m.measured["occam_a"]
    xs_plot, members, pred3 = o["xs_plot"], o["members"], o["pred3"]
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
    ax = axes[0]
    Pp = L.PolynomialBasis(4)(xs_plot)
    for i in range(12):
        ax.plot(xs_plot, Pp @ members[i], color="tab:orange", alpha=0.5, lw=0.8, label="degree-4 polynomials through the points" if i == 0 else None)
    ax.plot(xs_plot, Pp @ o["c_min"], color="tab:red", lw=2, label="minimum-norm degree-4 interpolant")
    for i, f in enumerate(o["mlp_fits"]):
        ax.plot(xs_plot, f, color="tab:blue", alpha=0.7, lw=1, label="MLP 1-32-1 tanh, 5 initialisations" if i == 0 else None)
    ax.plot(xs_plot, a * xs_plot, "k-", lw=3, label=f"y = ax, a = {a:.12g}")
    ax.scatter(o["xo"], o["xo"], s=80, c="k", zorder=5, label="data {(0,0), (1,1), (2,2)}")
    ax.set(ylim=(-4, 7), xlabel="x", ylabel="y", title="Every model fits the three points exactly")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    ax.hist(pred3, bins=40, color="tab:orange", alpha=0.7, label=f"200 degree-4 interpolants (sd {pred3.std():.2f})")
    for i, v in enumerate(m.measured["occam_mlp_preds_at_3"]):
        ax.axvline(v, color="tab:blue", lw=1, label="MLP interpolants" if i == 0 else None)
    min_norm3 = m.measured["occam_min_norm_pred_at_3"]
    ax.axvline(min_norm3, color="tab:red", lw=2, label=f"minimum-norm interpolant: {min_norm3:.2f}")
    ax.axvline(3 * a, color="k", lw=3, label=f"y = ax: {3 * a:g}")
    ax.set(xlabel="prediction at x = 3", ylabel="number of interpolants", title="…but they disagree away from the data")
    ax.legend(fontsize=8)
    fig.suptitle("Occam's razor (Wang section 6.II.1): prefer y = ax")
    ctx.savefig(fig, "occam.png")
