"""activations: every activation shenjing has with its derivative — the sigmoid family against the
ReLU family (Xu §1.7 Figs 1.5–1.11, Nelson ch. 4 Fig 4-5 and its list of derivatives).

For each activation f the derivative is obtained three ways on a float64 grid: the closed form
(``module.derivative``, the formulas of Nelson), shenjing's autograd (``f(x).sum().backward()``)
and a central finite difference. The derivative formulas the notes print are also evaluated
directly from the activation values — sigmoid σ(1 − σ) (Fang §4.1), ELU f′ = f + α for z < 0
and softplus f′ = σ (Nelson) — and compared with autograd. Softmax with temperature T (Xu
eq. 1.38) is checked as a Jacobian, s_i(δ_ij − s_j)/T.

Nelson's two rows of Fig 4-5 are measured: the sigmoid family saturates (|f′| → 0 for large
|z|), the ReLU family does not for z > 0 (f′ → 1).

Erratum (docs/SOURCES.md): Fang §4.1 prints ReLU(z) = {0, z < 0; 1, z > 0} — that is the step function,
i.e. ReLU's *derivative*. The experiment shows that the printed function is not ReLU and lacks the
non-negative homogeneity ReLU(az) = a·ReLU(z) the same section states, while max(0, z) has it.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

#: Kinks (points where f′ jumps) to keep the finite difference away from.
KINKS = {"step": [0.0], "sign": [0.0], "relu": [0.0], "leaky_relu": [0.0], "prelu": [0.0], "elu": [0.0], "selu": [0.0]}
SATURATING, SATURATION_Z = ("sigmoid", "tanh", "arctan"), 5.0

EXPERIMENT = Experiment(
    id="activations",
    title="Activation functions and their derivatives: sigmoid family vs ReLU family",
    title_zh="激活函数及其导数",
    source="Xu §1.7 Figs 1.5–1.11; Nelson ch. 4 Fig 4-5; Fang §4.1",
    claim="Every activation's closed-form derivative equals the one autograd computes on a grid; the sigmoid "
          "family saturates (f′ → 0 for large |z|) while the ReLU family keeps f′ ≈ 1 for large z > 0.",
    claim_zh="每个激活函数的闭式导数都与自动微分在网格上算出的相等; sigmoid 一族会饱和 (|z| 大时 f′ → 0), 而 ReLU 一族在 z > "
             "0 很大时仍保持 f′ ≈ 1.",
    checks=(
        Check("max_abs_closed_minus_autograd", "<", 1e-12, "over all activations, max |closed-form f′ − autograd f′|",
              what_zh="所有激活函数上 max |闭式 f′ − 自动微分 f′|"),
        Check("max_rel_central_difference_minus_autograd", "<", 1e-6, "max |central difference − autograd f′| / max(1, |f′|) away from kinks",
              what_zh="远离折点处 max |中心差分 − 自动微分 f′| / max(1, |f′|)"),
        Check("notes_derivative_formulas_max_abs_error", "<", 1e-12, "for each derivative formula the notes print, max |formula − autograd f′|",
              what_zh="讲义印出的每个导数公式的 max |公式 − 自动微分 f′|"),
        Check("softmax_temperature_jacobian_max_abs_error", "<", 1e-12,
              "for each T, the max error of the softmax Jacobian s_i(δ_ij − s_j)/T and of F.derivative against autograd",
              what_zh="对每个 T, softmax 雅可比 s_i(δ_ij − s_j)/T 与 F.derivative 相对自动微分的最大误差"),
        Check("sigmoid_family_max_abs_derivative_for_abs_z_ge_5", "<", 0.05, "for sigmoid, tanh and arctan, max |f′| over |z| ≥ 5",
              what_zh="sigmoid、tanh 与 arctan 在 |z| ≥ 5 上的 max |f′|"),
        Check("relu_family_min_derivative_for_z_ge_5", ">", 0.9, "for each of the ReLU family, min f′ over z ≥ 5",
              what_zh="ReLU 一族每个函数在 z ≥ 5 上的 min f′"),
        Check("fang_printed_relu.homogeneity_error_relu(3z)-3relu(z)", "<", 1e-12, "max |ReLU(3z) − 3·ReLU(z)|", what_zh="max |ReLU(3z) − 3·ReLU(z)|"),
        Check("fang_printed_relu.homogeneity_error_printed(3z)-3printed(z)", ">", 1, "max |printed(3z) − 3·printed(z)| of Fang's printed 'ReLU'",
              what_zh="Fang 印出的 'ReLU' 的 max |printed(3z) − 3·printed(z)|"),
    ),
)


def registry() -> dict:
    """name → (family, label, module); all in float64."""
    import shenjing as sj
    from shenjing import nn

    f64 = sj.float64
    return {
        # the sigmoid family (Nelson Fig 4-5, top row) and the perceptron's threshold units
        "step": ("sigmoid", "step 1[z ≥ 0]", nn.Step()),
        "sign": ("sigmoid", "sign(z)", nn.Sign()),
        "sigmoid": ("sigmoid", "sigmoid σ(z)", nn.Sigmoid()),
        "tanh": ("sigmoid", "tanh(z)", nn.Tanh()),
        "arctan": ("sigmoid", "arctan(z)", nn.Arctan()),
        # the ReLU family (bottom row)
        "relu": ("relu", "ReLU max(0, z)", nn.ReLU()),
        "leaky_relu": ("relu", "LeakyReLU (a = 0.1)", nn.LeakyReLU(0.1)),
        "prelu": ("relu", "PReLU (a = 0.25)", nn.PReLU(dtype=f64)),
        "elu": ("relu", "ELU (α = 1)", nn.ELU(1.0)),
        "selu": ("relu", "SELU", nn.SELU()),
        "softplus": ("relu", "softplus ln(1 + e^z)", nn.Softplus()),
        "silu": ("relu", "SiLU z·σ(z)", nn.SiLU()),
        "gelu": ("relu", "GELU zΦ(z) (exact)", nn.GELU()),
        "gelu_tanh": ("relu", "GELU (tanh approx.)", nn.GELU("tanh")),
        # the rest of nn's activations
        "identity": ("other", "identity z", nn.Identity()),
        "sin": ("other", "sin z", nn.Sin()),
        "cos": ("other", "cos z", nn.Cos()),
        "square": ("other", "quadratic z²", nn.Square()),
        "polynomial": ("other", "polynomial z − z³/6", nn.Polynomial((0.0, 1.0, 0.0, -1.0 / 6.0), dtype=f64)),
    }


def derivatives(mod, grid) -> tuple:
    """(f, closed-form f′, autograd f′) on ``grid`` as float64 arrays."""
    import shenjing as sj
    from shenjing import nn

    x = sj.tensor(grid, dtype=sj.float64, requires_grad=True)
    y = mod(x)
    y.sum().backward()
    with sj.no_grad():
        xd = sj.tensor(grid, dtype=sj.float64)
        closed = xp.ones_like(grid) if isinstance(mod, nn.Identity) else mod.derivative(xd).numpy()
    return y.detach().numpy(), xp.asarray(closed, dtype=xp.float64), x.grad.numpy()


def central(mod, grid, eps: float = 1e-6):
    """f′ on ``grid`` by the central difference (f(z + ε) − f(z − ε)) / 2ε."""
    import shenjing as sj
    from shenjing.autograd.numerical import central_difference

    with sj.no_grad():
        return central_difference(lambda v: mod(sj.tensor(v, dtype=sj.float64)).numpy(), grid, eps)


def derivative_table(grid) -> tuple[dict, dict]:
    """Per activation of :func:`registry`: the max |closed form − autograd| and the max relative
    |central difference − autograd| (points within 1e-4 of a kink skipped); and the curves
    name → (label, family, f, closed-form f′, autograd f′)."""
    rows, curves = {}, {}
    for name, (family, label, mod) in registry().items():
        f, closed, auto = derivatives(mod, grid)
        fd = central(mod, grid)
        away = xp.ones_like(grid, dtype=bool)
        for k in KINKS.get(name, []):
            away &= xp.abs(grid - k) > 1e-4
        scale = xp.maximum(1.0, xp.abs(auto))
        rows[name] = {"family": family, "max_abs_closed_minus_autograd": float(xp.abs(closed - auto).max()),
                      "max_rel_central_difference_minus_autograd": float((xp.abs(fd - auto) / scale)[away].max())}
        curves[name] = (label, family, f, closed, auto)
    return rows, curves


def notes_formula_errors(grid, curves: dict) -> dict:
    """The derivative formulas as the notes print them, evaluated from the activation values, against autograd."""
    import shenjing as sj
    import shenjing.nn.functional as F

    x = sj.tensor(grid, dtype=sj.float64)
    s = F.sigmoid(x).numpy()
    neg = grid < 0
    forms = {
        "sigmoid σ(1−σ) (Fang §4.1)": (s * (1 - s), "sigmoid"),
        "tanh 1 − tanh² (Nelson)": (1 - xp.tanh(grid) ** 2, "tanh"),
        "arctan 1/(1 + z²) (Nelson)": (1 / (1 + grid ** 2), "arctan"),
        "ELU f + α for z < 0 (Nelson)": (xp.where(neg, F.elu(x, 1.0).numpy() + 1.0, 1.0), "elu"),
        "softplus σ(z) (Nelson)": (s, "softplus"),
        "SiLU σ(1 + z(1 − σ))": (s * (1 + grid * (1 - s)), "silu"),
    }
    return {k: float(xp.abs(v - curves[name][4]).max()) for k, (v, name) in forms.items()}


def softmax_jacobian_errors(rng) -> dict:
    """Softmax with temperature (Xu eq. 1.38): max |autograd Jacobian − s_i(δ_ij − s_j)/T| and
    max |F.derivative − autograd| for T = 0.5, 1, 4 on 6 random logits."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing.autograd.functional import jacobian

    v = sj.tensor(rng.normal(0, 2, 6), dtype=sj.float64)
    errs = {}
    for T in (0.5, 1.0, 4.0):
        jac_auto = jacobian(lambda t, T=T: F.softmax(t, dim=-1, temperature=T), v).numpy()
        p = F.softmax(v, dim=-1, temperature=T).numpy()
        jac_formula = (xp.diag(p) - xp.outer(p, p)) / T
        jac_closed = F.derivative("softmax", v, dim=-1, temperature=T).numpy()
        errs[f"T={T}"] = float(max(xp.abs(jac_auto - jac_formula).max(), xp.abs(jac_closed - jac_auto).max()))
    return errs


def printed_relu(z):
    """Fang §4.1's 'ReLU' as printed: 0 for z < 0, 1 for z > 0 (the step function)."""
    return xp.where(z > 0, 1.0, 0.0)


def fang_printed_relu(grid, relu_derivative, a: float = 3.0) -> dict:
    """The printed 'ReLU' against max(0, z) and ReLU′, and the homogeneity f(az) = a·f(z) of both."""
    printed, relu = printed_relu(grid), xp.maximum(grid, 0.0)
    return {
        "max_abs_printed_minus_relu": float(xp.abs(printed - relu).max()),
        "max_abs_printed_minus_relu_derivative": float(xp.abs(printed - relu_derivative).max()),
        "homogeneity_error_relu(3z)-3relu(z)": float(xp.abs(xp.maximum(a * grid, 0.0) - a * relu).max()),
        "homogeneity_error_printed(3z)-3printed(z)": float(xp.abs(printed_relu(a * grid) - a * printed).max()),
    }


def measure(ctx) -> Measurement:
    n = 1200 if ctx.quick else 12000  # even: the grid never hits z = 0 exactly (a kink)
    grid = xp.linspace(-6.0, 6.0, n)
    rows, curves = derivative_table(grid)
    notes_err = notes_formula_errors(grid, curves)
    softmax_err = softmax_jacobian_errors(ctx.rng)
    # Nelson Fig 4-5: saturation of the sigmoid family vs the ReLU family
    big, pos = xp.abs(grid) >= SATURATION_Z, grid >= SATURATION_Z
    sat = {name: float(xp.abs(curves[name][3][big]).max()) for name in SATURATING}
    nonsat = {name: float(curves[name][3][pos].min()) for name, (_, fam, *_) in curves.items() if fam == "relu"}
    measured = {
        "grid_points": n,
        "per_activation": rows,
        "max_abs_closed_minus_autograd": max(r["max_abs_closed_minus_autograd"] for r in rows.values()),
        "max_rel_central_difference_minus_autograd": max(r["max_rel_central_difference_minus_autograd"] for r in rows.values()),
        "notes_derivative_formulas_max_abs_error": notes_err,
        "softmax_temperature_jacobian_max_abs_error": softmax_err,
        "sigmoid_family_max_abs_derivative_for_abs_z_ge_5": sat,
        "relu_family_min_derivative_for_z_ge_5": nonsat,
        "fang_printed_relu": fang_printed_relu(grid, curves["relu"][3]),
    }
    method = (f"f′ of each of the {len(rows)} activation modules on a float64 grid of {n} points z ∈ [−6, 6] (none at the kink z = 0) "
              "by module.derivative (closed form), by autograd (f(z).sum().backward()) and by a central difference (ε = 1e-6, "
              "points within 1e-4 of a kink skipped); the notes' printed derivative formulas evaluated from the activation values; "
              "the softmax-with-temperature Jacobian of 6 random logits for T = 0.5, 1, 4 by autograd.functional.jacobian. "
              "Fang's 'ReLU' as printed is compared with max(0, z) and tested for f(3z) = 3·f(z).")
    return Measurement(measured, method, data={"grid": grid, "curves": curves})


def figures(ctx, m: Measurement) -> None:
    grid, curves = m.data["grid"], m.data["curves"]
    panel_grid(ctx, grid, curves, ["step", "sign", "sigmoid", "tanh", "arctan"],
               "Sigmoid family (Nelson Fig 4-5, top row): bounded, saturating", "sigmoid-family.png")
    panel_grid(ctx, grid, curves, ["relu", "leaky_relu", "prelu", "elu", "selu", "softplus", "silu", "gelu", "gelu_tanh"],
               "ReLU family (Nelson Fig 4-5, bottom row): unbounded for z > 0, no saturation", "relu-family.png")
    panel_grid(ctx, grid, curves, ["identity", "sin", "cos", "square", "polynomial"],
               "Other activations (Xu Fig 1.7: sin, cos; Remark 2: polynomials)", "other-activations.png")
    figure_derivative_check(ctx, grid, curves, m.measured["per_activation"])
    figure_relu_erratum(ctx, grid)


def panel_grid(ctx, grid, curves: dict, names: list[str], title: str, fname: str, ncols: int = 3) -> None:
    """One panel per activation: f, its closed-form f′ and autograd's f′ (every 40th point)."""
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False)
    for i, (ax, name) in enumerate(zip(axes.flat, names)):
        label, _, f, d, auto = curves[name]
        ax.plot(grid, f, lw=2, label="f(z)")
        ax.plot(grid, d, "--", lw=1.6, label="f′(z) (closed form)")
        ax.plot(grid[::40], auto[::40], "k.", ms=3, label="f′ by autograd")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("z")
        if i % ncols == 0:
            ax.set_ylabel("f(z) and f′(z)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    ctx.savefig(fig, fname)


def figure_derivative_check(ctx, grid, curves: dict, rows: dict) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6))
    for name in ("sigmoid", "tanh", "arctan", "relu", "elu", "softplus", "gelu"):
        label, fam, _, d, _ = curves[name]
        ax1.semilogy(grid, xp.maximum(xp.abs(d), 1e-12), "-" if fam == "sigmoid" else "--", label=label)
    ax1.axvspan(SATURATION_Z, 6, color="orange", alpha=0.15, label="z ≥ 5 (saturation check)")
    ax1.set(xlabel="z", ylabel="|f′(z)| (log scale)", title="Saturation: sigmoid family (solid) vs ReLU family (dashed)", ylim=(1e-6, 3))
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, loc="lower center", ncol=2)
    names = list(rows)
    pos = xp.arange(len(names))
    ax2.bar(pos - 0.2, [max(rows[k]["max_abs_closed_minus_autograd"], 1e-18) for k in names], 0.4, label="|closed form − autograd| (max)")
    ax2.bar(pos + 0.2, [max(rows[k]["max_rel_central_difference_minus_autograd"], 1e-18) for k in names], 0.4,
            label="|central difference − autograd| (max, rel.)")
    ax2.axhline(1e-12, color="C0", ls=":", label="threshold 1e-12")
    ax2.axhline(1e-6, color="C1", ls=":", label="threshold 1e-6")
    ax2.set_yscale("log")
    ax2.set_ylim(1e-19, 1e-3)
    ax2.set_xticks(pos)
    ax2.set_xticklabels(names, rotation=60, fontsize=8)
    ax2.set(ylabel="max error on the grid (0 drawn as 1e-18)", title="Closed-form derivative vs autograd (float64)")
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    ctx.savefig(fig, "derivative-check.png")


def figure_relu_erratum(ctx, grid, a: float = 3.0) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(grid, xp.maximum(grid, 0.0), lw=2, label="ReLU(z) = max(0, z)")
    ax.plot(grid, printed_relu(grid), "--", lw=2, label="Fang §4.1 as printed: 0 (z<0), 1 (z>0)")
    ax.plot(grid, xp.maximum(a * grid, 0.0) / a, ":", lw=2, label="ReLU(3z)/3 (= ReLU(z): homogeneous)")
    ax.plot(grid, printed_relu(a * grid) / a, "-.", lw=1.5, label="printed(3z)/3 (≠ printed(z))")
    ax.set(xlabel="z", ylabel="value", title="Erratum: the printed 'ReLU' is the step function", ylim=(-0.2, 3))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ctx.savefig(fig, "relu-erratum.png")
