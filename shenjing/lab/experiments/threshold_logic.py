"""threshold-logic: McCulloch–Pitts threshold units for AND, OR, NOT; XOR needs two layers (Xu §1.1).

A threshold unit outputs σ(wᵀx) = 1[wᵀx ≥ T] (eq. 1.1). With w = (1, 1), T = 2 it computes AND and with
T = 1 OR (eq. 1.8); NOT is w = −1, T = 0. Over all 16 Boolean functions of two inputs, exactly 14 are
computed by one unit — XOR and XNOR are not (their four inequalities contradict: 0 < T, w₁ ≥ T, w₂ ≥ T
and w₁ + w₂ < T give 2T < T). The two-layer threshold-1 network of §1.1.3 (Fig. 1.4) computes XOR:
h₁ = σ(x₁ − x₂ + 1), h₂ = σ(x₂ − x₁ + 1), y = σ(2 − h₁ − h₂), with h₁ = h₂ = σ(1) for equal inputs and
h₁ + h₂ = σ(0) + σ(2) for different ones, exactly as the text describes.

The notes' history section (§1.12) words the unit as "output 1 if wx + b > T" (strict). With the
thresholds of eq. 1.8 that reading turns AND into the constant 0 and OR into AND; the ≥ of eq. 1.1 is
the one that makes the text's gates work. Both are measured here.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

X4 = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

# the 16 Boolean functions of (x1, x2), by their outputs on (0,0), (0,1), (1,0), (1,1)
NAMES = {
    (0, 0, 0, 0): "FALSE", (0, 0, 0, 1): "AND", (0, 0, 1, 0): "x1 AND NOT x2", (0, 0, 1, 1): "x1",
    (0, 1, 0, 0): "NOT x1 AND x2", (0, 1, 0, 1): "x2", (0, 1, 1, 0): "XOR", (0, 1, 1, 1): "OR",
    (1, 0, 0, 0): "NOR", (1, 0, 0, 1): "XNOR", (1, 0, 1, 0): "NOT x2", (1, 0, 1, 1): "x1 OR NOT x2",
    (1, 1, 0, 0): "NOT x1", (1, 1, 0, 1): "NOT x1 OR x2", (1, 1, 1, 0): "NAND", (1, 1, 1, 1): "TRUE",
}

#: the truth tables the gates must reproduce, on the inputs of :data:`X4` (NOT on x = 0, 1)
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NOT": [1, 0], "XOR": [0, 1, 1, 0]}

EXPERIMENT = Experiment(
    id="threshold-logic",
    title="McCulloch–Pitts threshold logic: AND, OR, NOT and the two-layer XOR network",
    title_zh="阈值逻辑单元 (M-P 神经元): 与、或、非及两层网络解异或",
    source="Xu §1.1 (eq. 1.1, 1.8, Fig. 1.4), §1.12",
    claim="A threshold unit with T = 2 computes AND, with T = 1 OR, and w = −1, T = 0 NOT; no single threshold unit "
          "computes XOR, but the two-layer threshold-1 network h1 = σ(x1 − x2 + 1), h2 = σ(x2 − x1 + 1), "
          "y = σ(2 − h1 − h2) does.",
    claim_zh="阈值单元取 T = 2 时计算 AND, 取 T = 1 时计算 OR, 取 w = −1、T = 0 时计算 NOT; 单个阈值单元算不出 XOR, 而阈值为 "
             "1 的两层网络 h1 = σ(x1 − x2 + 1), h2 = σ(x2 − x1 + 1), y = σ(2 − h1 − h2) 可以.",
    checks=(
        Check("truth_table_mismatches", "==", 0,
              "the number of wrong truth-table entries of each gate (AND T = 2, OR T = 1, NOT w = −1 T = 0, the two-layer XOR)",
              what_zh="每个门 (AND T = 2, OR T = 1, NOT w = −1 T = 0, 两层 XOR) 真值表中错误的项数"),
        Check("text_equal_inputs_h1_h2_sigma1", "true",
              what="for equal inputs both hidden pre-activations are 1 and h1 = h2 = σ(1) = 1",
              what_zh="输入相同时两个隐藏单元的预激活都是 1, 且 h1 = h2 = σ(1) = 1"),
        Check("text_different_inputs_h1_plus_h2_sigma0_plus_sigma2", "true",
              what="for different inputs the hidden pre-activations are {0, 2} and h1 + h2 = σ(0) + σ(2) = 1",
              what_zh="输入不同时隐藏单元的预激活为 {0, 2}, 且 h1 + h2 = σ(0) + σ(2) = 1"),
        Check("exactly_xor_and_xnor_not_computable", "true",
              what="the Boolean functions that no grid unit computes are exactly XOR and XNOR", what_zh="网格上没有任何单元能计算的布尔函数恰好是 XOR 与 XNOR"),
        Check("random_units_compute_the_same_functions", "true",
              what="the random units compute exactly the functions the grid units do", what_zh="随机单元计算的函数恰好就是网格单元所计算的那些"),
    ),
)


def unit_patterns(W, T) -> xp.ndarray:
    """The truth-table pattern of every unit 1[w·x ≥ T] (W (m, 2), T (m,)), computed with shenjing tensors."""
    import shenjing as sj
    import shenjing.nn.functional as F

    z = sj.tensor(X4, dtype=sj.float64) @ sj.tensor(W, dtype=sj.float64).T - sj.tensor(T, dtype=sj.float64)
    return F.step(z).numpy().T.astype(int)  # (m, 4): step(w·x − T) = 1[w·x ≥ T]


def gate_tables() -> dict[str, list[int]]:
    """The truth tables computed by the notes' gates as shenjing networks Linear → Step(T) (float64),
    and by the strict '>' reading of §1.12 for AND and OR."""
    import shenjing as sj
    from shenjing import linear as L

    def table(net, x) -> list[int]:
        return net(x).detach().numpy().ravel().astype(int).tolist()

    X = sj.tensor(X4, dtype=sj.float64)
    return {"AND": table(L.and_unit().module(), X), "OR": table(L.or_unit().module(), X),
            "NOT": table(L.not_unit().module(), sj.tensor([[0.0], [1.0]], dtype=sj.float64)),
            "XOR": table(L.xor_threshold_network(), X),
            "strict AND": L.and_unit(strict=True)(xp.asarray(X4)).astype(int).tolist(),
            "strict OR": L.or_unit(strict=True)(xp.asarray(X4)).astype(int).tolist()}


def xor_hidden_layer() -> tuple:
    """The hidden layer of the Fig. 1.4 network on X4: (pre-activations, h = Step(pre), equal-inputs fact,
    different-inputs fact) — the facts as the text states them (h1 = h2 = σ(1); h1 + h2 = σ(0) + σ(2))."""
    import shenjing as sj
    from shenjing import linear as L

    net = L.xor_threshold_network()
    X = sj.tensor(X4, dtype=sj.float64)
    pre = net[0](X).detach().numpy()
    hidden = net[1](net[0](X)).detach().numpy().astype(int)
    equal, differ = [0, 3], [1, 2]
    text_equal = bool(xp.all(pre[equal] == 1.0) and xp.all(hidden[equal] == 1))
    text_differ = bool(all(sorted(pre[i].tolist()) == [0.0, 2.0] for i in differ) and xp.all(hidden[differ].sum(1) == 1))
    return pre, hidden, text_equal, text_differ


def single_unit_census(step: float, m: int, rng) -> tuple[dict[str, tuple[int, int]], int]:
    """For each of the 16 functions, how many units compute it: (grid units, random units). The grid
    covers (w1, w2, T) ∈ [−2, 2]³ with ``step``; the ``m`` random units are N(0, 2²) in each entry.
    Returns the counts and the grid size."""
    g = xp.arange(-2.0, 2.01, step)
    W1, W2, TT = xp.meshgrid(g, g, g, indexing="ij")
    grid = unit_patterns(xp.stack([W1.ravel(), W2.ravel()], 1), TT.ravel())
    rand = unit_patterns(rng.standard_normal((m, 2)) * 2, rng.standard_normal(m) * 2)
    counts = {name: (int((grid == key).all(1).sum()), int((rand == key).all(1).sum())) for key, name in NAMES.items()}
    return counts, len(grid)


def measure(ctx) -> Measurement:
    tables = gate_tables()
    _, hidden, text_equal, text_differ = xor_hidden_layer()
    step = 0.5 if ctx.quick else 0.25
    m = 20_000 if ctx.quick else 200_000
    counts, n_grid = single_unit_census(step, m, ctx.rng)
    realised_grid = sorted(n for n, (c, _) in counts.items() if c > 0)
    realised_rand = sorted(n for n, (_, c) in counts.items() if c > 0)
    missing = sorted(set(NAMES.values()) - set(realised_grid))
    measured = {
        "AND_T2": tables["AND"], "OR_T1": tables["OR"], "NOT_T0": tables["NOT"], "XOR_two_layer": tables["XOR"],
        "truth_table_mismatches": {g: sum(a != b for a, b in zip(tables[g], TRUTH[g])) + abs(len(tables[g]) - len(TRUTH[g]))
                                   for g in TRUTH},
        "xor_hidden": hidden.tolist(), "text_equal_inputs_h1_h2_sigma1": text_equal,
        "text_different_inputs_h1_plus_h2_sigma0_plus_sigma2": text_differ,
        "strict_reading_AND": tables["strict AND"], "strict_reading_OR": tables["strict OR"],
        "single_unit_functions_grid": len(realised_grid), "single_unit_functions_random": len(realised_rand),
        "not_computable_by_one_unit": missing, "exactly_xor_and_xnor_not_computable": missing == ["XNOR", "XOR"],
        "random_units_compute_the_same_functions": realised_rand == realised_grid,
        "grid_units": n_grid, "random_units": m,
    }
    method = ("Truth tables of Linear→Step(T) shenjing networks in float64 (AND T=2, OR T=1, NOT w=−1 T=0) and of the "
              "Fig. 1.4 network, whose hidden pre-activations are compared with the text. Single-unit expressiveness: "
              f"every unit 1[w·x ≥ T] of a grid over (w1, w2, T) ∈ [−2, 2]³ with step {step:g} ({n_grid} units) and {m} "
              "random units with N(0, 2²) entries, counting which of the 16 Boolean functions of two inputs appear. "
              "The strict '>' reading of §1.12 is reported beside the '≥' of eq. 1.1.")
    return Measurement(measured, method, data={"hidden": hidden, "counts": counts})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    gates_figure(ctx, plt, m.data["hidden"])
    census_figure(ctx, plt, m.data["counts"], m.measured["random_units"], m.measured["grid_units"])


def _points(ax, labels) -> None:
    for p, t in zip(X4, labels):
        ax.scatter(*p, s=160, c="tab:red" if t else "tab:blue", edgecolors="k", zorder=3)


def gates_figure(ctx, plt, hidden) -> None:
    """AND and OR as one line each, XOR in the input plane, and XOR in the hidden plane (h1, h2)."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 5.2), layout="constrained")
    xs = xp.linspace(-0.5, 1.5, 2)
    box = dict(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x1", ylabel="x2", aspect="equal")
    for ax, (name, T) in zip(axes[:2], (("AND", 2.0), ("OR", 1.0))):
        _points(ax, TRUTH[name])
        ax.plot(xs, T - xs, "k--", label=f"x1 + x2 = T = {T:g}")
        ax.fill_between(xs, T - xs, 2.5, color="tab:red", alpha=0.12, label="output 1 (x1 + x2 ≥ T)")
        ax.set(title=f"{name}: one unit, T = {T:g}", **box)
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    _points(ax, TRUTH["XOR"])
    ax.plot(xs, xs, "k--", label="x1 = x2: h1 and h2 both fire")
    ax.annotate("h1 = 1 below (x1 ≥ x2)", (0.3, -0.15), fontsize=8)
    ax.annotate("h2 = 1 above (x2 ≥ x1)", (-0.45, 1.35), fontsize=8)
    ax.set(title="XOR: no single line separates", **box)
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[3]
    jitter = xp.array([[-0.04, -0.04], [0.0, 0.0], [0.0, 0.0], [0.04, 0.04]])
    for i, (h, t) in enumerate(zip(hidden, TRUTH["XOR"])):
        ax.scatter(*(h + jitter[i]), s=160, c="tab:red" if t else "tab:blue", edgecolors="k", zorder=3)
        ax.annotate(f"x = ({int(X4[i][0])},{int(X4[i][1])})", tuple(h + jitter[i] + xp.array([0.06, -0.1 if i == 0 else 0.05])),
                    fontsize=8)
    ax.plot(xs, 1.5 - xs, "k--", label="h1 + h2 = 1.5: output 1 below (2 − h1 − h2 ≥ 1)")
    ax.scatter([], [], c="tab:red", label="XOR = 1")
    ax.scatter([], [], c="tab:blue", label="XOR = 0")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="h1 = σ(x1 − x2 + 1)", ylabel="h2 = σ(x2 − x1 + 1)",
           title="Hidden layer (T = 1): now separable", aspect="equal")
    ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("Threshold units (Xu §1.1): red = output 1, blue = output 0")
    ctx.savefig(fig, "gates.png")


def census_figure(ctx, plt, counts, m: int, n_grid: int) -> None:
    """The fraction of random units computing each of the 16 functions; the ones no unit computes in red."""
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(11, 4.5))
    names = list(NAMES.values())
    ax.bar(range(16), [counts[n][1] / m for n in names], color=["tab:red" if counts[n][0] == 0 else "tab:green" for n in names])
    for i, n in enumerate(names):
        if counts[n][0] == 0:
            ax.annotate("none", (i, 0.002), ha="center", fontsize=9, color="tab:red")
    ax.set_xticks(range(16))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="fraction of random units (w1, w2, T) computing it",
           title=f"Which of the 16 Boolean functions of two inputs does one threshold unit compute?\n"
                 f"({m} random units and {n_grid} grid units (w1, w2, T))")
    ax.legend(handles=[Patch(color="tab:green", label="computed by some unit"),
                       Patch(color="tab:red", label="computed by no unit (XOR, XNOR)")])
    ctx.savefig(fig, "sixteen-functions.png")
