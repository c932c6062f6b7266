"""batchnorm-forms: the notes' batch normalisations (批归一化) next to PyTorch's (Fang §8.2; Nelson "每层的批量归一化").

PyTorch divides by √(s² + ε); Fang §8.2 writes ĥ = (h − m)/(s + ε); Nelson uses one variance for the
whole layer, s² = (1/b) Σᵢ ‖xᵢ − μ‖² = Σ_c s_c² (steps 3–4), and its introduction says "除以方差"
(divide by the variance) where step 4 divides by its square root. All are options of
``F.batch_norm`` / ``nn.BatchNorm1d/2d`` (``eps_form``, ``stats``). Measured: the two ε forms agree
as ε → 0 (difference ∝ ε/s) but differ for a nearly constant feature (s² ≲ ε): the output scale is
s/√(s² + ε) against s/(s + ε); the scalar variance leaves the features' relative scales (output
variance s_c²/Σ s², not 1); dividing by the variance is not scale-invariant; and the training curves
of a small network with each form: the two ε forms agree over the first steps, then part through full-batch
SGD's loss spikes.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

EPS = 1e-5
EARLY = 50  # steps over which the two ε forms' training losses are compared (later the runs part, see measure)
FORMS = {"sqrt": ("sqrt", "per_feature"), "s+ε (Fang)": ("std_plus_eps", "per_feature"),
         "scalar s² (Nelson)": ("sqrt", "scalar")}

EXPERIMENT = Experiment(
    id="batchnorm-forms",
    title="Batch-norm forms: √(s² + ε), s + ε and one scalar variance",
    title_zh="批归一化的几种写法: √(s² + ε), s + ε 与整层一个标量方差",
    source='Fang §8.2; Nelson "每层的批量归一化"',
    claim="Dividing by s + ε (Fang) and by √(s² + ε) (PyTorch) agree as ε → 0 and differ only for nearly constant "
          "features (s² ≲ ε); one scalar variance for the layer (Nelson) keeps the features' relative scales and "
          "dividing by the variance itself is not scale-invariant; all three forms train a small network.",
    claim_zh="除以 s + ε (Fang) 与除以 √(s² + ε) (PyTorch) 在 ε → 0 时一致, 只对几乎不变的特征 (s² ≲ ε) 不同; 整层用一个标量方差 "
             "(Nelson) 会保留各特征的相对尺度, 而直接除以方差不具有尺度不变性; 三种写法都能训练一个小网络.",
    checks=(
        Check("diff_at_smallest_eps", "<=", 1e-7, "the largest output difference of the two ε forms at ε = 1e-9",
              what_zh="ε = 1e-9 时两种 ε 写法输出的最大差"),
        Check("diff_falls_with_eps", "true", what="the difference falls with every decade of ε", what_zh="差随 ε 每降一个数量级而减小"),
        Check("output_std_ratio_small_s", ">=", 2.0, "at s = 1e-3, the s + ε form's output std over the √(s² + ε) form's",
              what_zh="s = 1e-3 时 s + ε 写法与 √(s² + ε) 写法输出标准差之比"),
        Check("output_std_formula_error", "<=", 1e-6, "the largest error of the measured output std against s/√(s²+ε) and s/(s+ε)",
              what_zh="测得输出标准差相对 s/√(s²+ε) 与 s/(s+ε) 的最大误差"),
        Check("scalar_var_formula_error", "<=", 1e-6, "the largest error of the scalar form's output variances against s_c²/Σs²",
              what_zh="标量方差写法的输出方差相对 s_c²/Σs² 的最大误差"),
        Check("per_feature_var_error", "<=", 1e-3, "the largest |output variance − 1| of the per-feature form",
              what_zh="按特征写法的 |输出方差 − 1| 的最大值"),
        Check("divide_by_variance_scale_ratio", "<=", 0.2, "ĥ(10h)/ĥ(h) when dividing by the variance (1 when scale-invariant)",
              what_zh="除以方差时 ĥ(10h)/ĥ(h) (尺度不变时为 1)"),
        Check("final_loss_over_initial", "<=", 0.3, "each form's final training loss over its initial loss",
              what_zh="每种写法的最终训练损失与初始损失之比"),
        Check("sqrt_vs_fang_early_loss_diff", "<=", 0.01, f"the largest difference of the two ε forms' training losses over the first {EARLY} steps",
              what_zh=f"两种 ε 写法训练损失在前 {EARLY} 步上的最大差"),
    ),
)


def _bn(x, eps: float, eps_form: str = "sqrt", stats: str = "per_feature"):
    import shenjing as sj
    import shenjing.nn.functional as F

    with sj.no_grad():
        return F.batch_norm(sj.tensor(x), None, None, training=True, eps=eps, eps_form=eps_form, stats=stats).numpy()


def _forms(ctx) -> dict:
    x = ctx.rng.normal(size=(256, 8)) * ctx.rng.uniform(0.5, 3, 8) + ctx.rng.normal(size=8)
    eps_grid = [10.0 ** -k for k in range(1, 10)]
    diffs = [float(xp.abs(_bn(x, e) - _bn(x, e, "std_plus_eps")).max()) for e in eps_grid]
    s_grid = xp.logspace(-5, 1, 25)
    z = ctx.rng.normal(size=(512, 1))
    z = (z - z.mean()) / z.std()
    std_sqrt = xp.array([_bn(z * s, EPS).std() for s in s_grid])
    std_fang = xp.array([_bn(z * s, EPS, "std_plus_eps").std() for s in s_grid])
    formula_err = max(xp.abs(std_sqrt - s_grid / xp.sqrt(s_grid ** 2 + EPS)).max(), xp.abs(std_fang - s_grid / (s_grid + EPS)).max())
    k = int(xp.argmin(xp.abs(s_grid - 1e-3)))
    s2 = x.var(0)
    scalar_var = _bn(x, 1e-12, stats="scalar").var(0)
    d = x - x.mean(0)
    by_var = lambda h: (h - h.mean(0)) / (h.var(0) + EPS)  # noqa: E731 — Nelson's "除以方差", written out
    return {"eps_grid": eps_grid, "eps_diffs": diffs, "diff_at_smallest_eps": diffs[-1],
            "diff_falls_with_eps": all(b < a for a, b in zip(diffs, diffs[1:])),
            "s_at_ratio": float(s_grid[k]), "output_std_ratio_small_s": float(std_fang[k] / std_sqrt[k]),
            "output_std_formula_error": float(formula_err),
            "scalar_var_formula_error": float(xp.abs(scalar_var - s2 / s2.sum()).max()),
            "per_feature_var_error": float(xp.abs(_bn(x, EPS).var(0) - 1).max()),
            "divide_by_variance_scale_ratio": float(xp.abs(by_var(10 * d)).mean() / xp.abs(by_var(d)).mean()),
            "_curves": (s_grid, std_sqrt, std_fang, s2 / s2.sum(), scalar_var)}


def _train(ctx, eps_form: str, stats: str, X, y, steps: int) -> list[float]:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    sj.manual_seed(ctx.seed)
    layers = [nn.Linear(2, 64)]
    for _ in range(3):
        layers += [nn.BatchNorm1d(64, eps_form=eps_form, stats=stats), nn.ReLU(), nn.Linear(64, 64)]
    net = nn.Sequential(*layers[:-1], nn.Linear(64, 3)).double()
    return full_batch(lambda: F.cross_entropy(net(X), y), optim.SGD(net.parameters(), lr=0.1, momentum=0.9), steps)


def measure(ctx) -> Measurement:
    from shenjing.data import toy

    measured = _forms(ctx)
    curves = measured.pop("_curves")
    steps = 150 if ctx.quick else 600
    X, y = toy.spirals(300, n_classes=3, turns=0.75, noise=0.05, generator=ctx.generator)
    losses = {name: _train(ctx, *form, X.double(), y, steps) for name, form in FORMS.items()}
    measured["final_loss"] = {name: ls[-1] for name, ls in losses.items()}
    measured["final_loss_over_initial"] = {name: ls[-1] / ls[0] for name, ls in losses.items()}
    a, b = xp.array(losses["sqrt"]), xp.array(losses["s+ε (Fang)"])
    # the O(ε/s) difference grows through full-batch SGD's loss spikes: the runs part later (0.07–0.8 by step 600)
    measured["sqrt_vs_fang_early_loss_diff"] = float(xp.abs(a - b)[:EARLY].max())
    measured["sqrt_vs_fang_max_loss_diff"] = float(xp.abs(a - b).max())
    method = (f"F.batch_norm in float64 (training mode, no affine) on 256×8 Gaussian features of scales 0.5–3: the "
              f"largest output difference of eps_form 'sqrt' and 'std_plus_eps' for ε = 1e-1 … 1e-9; the output std of "
              f"one feature of std s (1e-5 … 10, ε = {EPS:g}) against s/√(s²+ε) and s/(s+ε); stats='scalar' output "
              f"variances against s_c²/Σs²; (h − m)/(s² + ε) applied to h and 10h. Training: MLP 2-64-64-64-3 with "
              f"BatchNorm1d before each ReLU in each form, 3-class spirals (300 points), full-batch SGD lr 0.1 "
              f"momentum 0.9, {steps} steps, same initialisation.")
    return Measurement(measured, method, data={"curves": curves, "losses": losses})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    s_grid, std_sqrt, std_fang, want_scalar, got_scalar = m.data["curves"]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), layout="constrained")
    axes[0].loglog(m.measured["eps_grid"], m.measured["eps_diffs"], "o-")
    axes[0].set(xlabel="ε", ylabel="max |ĥ_sqrt − ĥ_s+ε|", title="The ε forms agree as ε → 0")
    axes[1].semilogx(s_grid, std_sqrt, "o", label="√(s² + ε) measured")
    axes[1].semilogx(s_grid, std_fang, "s", mfc="none", label="s + ε measured")
    axes[1].semilogx(s_grid, s_grid / xp.sqrt(s_grid ** 2 + EPS), "k-", lw=0.8, label="s/√(s²+ε), s/(s+ε)")
    axes[1].semilogx(s_grid, s_grid / (s_grid + EPS), "k-", lw=0.8)
    axes[1].axvline(EPS ** 0.5, color="gray", ls=":")
    axes[1].set(xlabel="input std s", ylabel="output std", title=f"Small s: the forms differ (ε = {EPS:g})")
    axes[1].legend(fontsize=8)
    idx = xp.arange(len(want_scalar))
    axes[2].bar(idx - 0.2, got_scalar, 0.4, label="measured (scalar s²)")
    axes[2].bar(idx + 0.2, want_scalar, 0.4, label="s_c² / Σ s²")
    axes[2].axhline(1, color="k", ls="--", lw=0.8, label="per-feature form: 1")
    axes[2].set(xlabel="feature c", ylabel="output variance", yscale="log", title="Nelson's scalar variance")
    axes[2].legend(fontsize=8)
    for name, ls in m.data["losses"].items():
        axes[3].plot(ls, label=name, ls="--" if "Fang" in name else "-")
    axes[3].set(xlabel="step", ylabel="training cross-entropy", yscale="log", title="Training, same initialisation")
    axes[3].legend(fontsize=8)
    fig.suptitle("Batch-norm forms (批归一化, Fang §8.2; Nelson)")
    ctx.savefig(fig, "batchnorm_forms")
