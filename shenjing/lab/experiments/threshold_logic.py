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
from ..core import experiment

X4 = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

# the 16 Boolean functions of (x1, x2), by their outputs on (0,0), (0,1), (1,0), (1,1)
NAMES = {
    (0, 0, 0, 0): "FALSE", (0, 0, 0, 1): "AND", (0, 0, 1, 0): "x1 AND NOT x2", (0, 0, 1, 1): "x1",
    (0, 1, 0, 0): "NOT x1 AND x2", (0, 1, 0, 1): "x2", (0, 1, 1, 0): "XOR", (0, 1, 1, 1): "OR",
    (1, 0, 0, 0): "NOR", (1, 0, 0, 1): "XNOR", (1, 0, 1, 0): "NOT x2", (1, 0, 1, 1): "x1 OR NOT x2",
    (1, 1, 0, 0): "NOT x1", (1, 1, 0, 1): "NOT x1 OR x2", (1, 1, 1, 0): "NAND", (1, 1, 1, 1): "TRUE",
}


def _patterns(W, T):
    """The truth-table pattern of every unit 1[w·x ≥ T] (W (m, 2), T (m,)), computed with shenjing tensors."""
    import shenjing as sj
    import shenjing.nn.functional as F

    z = sj.tensor(X4, dtype=sj.float64) @ sj.tensor(W, dtype=sj.float64).T - sj.tensor(T, dtype=sj.float64)
    return F.step(z).numpy().T.astype(int)  # (m, 4): step(w·x − T) = 1[w·x ≥ T]


@experiment(
    id="threshold-logic",
    title="McCulloch–Pitts threshold logic: AND, OR, NOT and the two-layer XOR network",
    title_zh="阈值逻辑单元 (M-P 神经元): 与、或、非及两层网络解异或",
    source="Xu §1.1 (eq. 1.1, 1.8, Fig. 1.4), §1.12",
    claim="A threshold unit with T = 2 computes AND, with T = 1 OR, and w = −1, T = 0 NOT; no single threshold unit "
          "computes XOR, but the two-layer threshold-1 network h1 = σ(x1 − x2 + 1), h2 = σ(x2 − x1 + 1), "
          "y = σ(2 − h1 − h2) does.",
)
def run(ctx) -> dict:
    import shenjing as sj
    from shenjing import linear as L
    from shenjing.viz.plots import _plt

    X = sj.tensor(X4, dtype=sj.float64)
    truth = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}

    # the gates as shenjing networks Linear → Step(T)
    got_and = L.and_unit().module()(X).detach().numpy().ravel().astype(int).tolist()
    got_or = L.or_unit().module()(X).detach().numpy().ravel().astype(int).tolist()
    got_not = L.not_unit().module()(sj.tensor([[0.0], [1.0]], dtype=sj.float64)).detach().numpy().ravel().astype(int).tolist()
    strict_and = L.and_unit(strict=True)(xp.asarray(X4)).astype(int).tolist()
    strict_or = L.or_unit(strict=True)(xp.asarray(X4)).astype(int).tolist()

    # the XOR network of Fig. 1.4, as nn.Sequential and unit by unit
    net = L.xor_threshold_network()
    got_xor = net(X).detach().numpy().ravel().astype(int).tolist()
    hidden = net[1](net[0](X)).detach().numpy().astype(int)
    pre = net[0](X).detach().numpy()
    equal = [0, 3]
    differ = [1, 2]
    text_equal = bool(xp.all(pre[equal] == 1.0) and xp.all(hidden[equal] == 1))  # h1 = h2 = σ(1) = 1
    text_differ = bool(all(sorted(pre[i].tolist()) == [0.0, 2.0] for i in differ) and xp.all(hidden[differ].sum(1) == 1))

    # which of the 16 Boolean functions can ONE threshold unit compute? grid search and random search
    g = xp.arange(-2.0, 2.01, 0.25) if not ctx.quick else xp.arange(-2.0, 2.01, 0.5)
    W1, W2, TT = xp.meshgrid(g, g, g, indexing="ij")
    grid = _patterns(xp.stack([W1.ravel(), W2.ravel()], 1), TT.ravel())
    m = 20_000 if ctx.quick else 200_000
    rand = _patterns(ctx.rng.standard_normal((m, 2)) * 2, ctx.rng.standard_normal(m) * 2)
    counts = {}
    for name_key, name in NAMES.items():
        counts[name] = (int((grid == name_key).all(1).sum()), int((rand == name_key).all(1).sum()))
    realised_grid = sorted(n for n, (c, _) in counts.items() if c > 0)
    realised_rand = sorted(n for n, (_, c) in counts.items() if c > 0)
    missing = sorted(set(NAMES.values()) - set(realised_grid))

    # ---- figures
    plt = _plt()
    fig, axes = plt.subplots(1, 4, figsize=(19, 5.2), layout="constrained")
    pts = xp.asarray(X4)
    for ax, (name, T) in zip(axes[:2], (("AND", 2.0), ("OR", 1.0))):
        lab = truth[name]
        for p, t in zip(pts, lab):
            ax.scatter(*p, s=160, c="tab:red" if t else "tab:blue", edgecolors="k", zorder=3)
        xs = xp.linspace(-0.5, 1.5, 2)
        ax.plot(xs, T - xs, "k--", label=f"x1 + x2 = T = {T:g}")
        ax.fill_between(xs, T - xs, 2.5, color="tab:red", alpha=0.12, label="output 1 (x1 + x2 ≥ T)")
        ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x1", ylabel="x2", title=f"{name}: one unit, T = {T:g}", aspect="equal")
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    for p, t in zip(pts, truth["XOR"]):
        ax.scatter(*p, s=160, c="tab:red" if t else "tab:blue", edgecolors="k", zorder=3)
    xs = xp.linspace(-0.5, 1.5, 2)
    ax.plot(xs, xs, "k--", label="x1 = x2: h1 and h2 both fire")
    ax.annotate("h1 = 1 below (x1 ≥ x2)", (0.3, -0.15), fontsize=8)
    ax.annotate("h2 = 1 above (x2 ≥ x1)", (-0.45, 1.35), fontsize=8)
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x1", ylabel="x2", title="XOR: no single line separates", aspect="equal")
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[3]
    jitter = xp.array([[-0.04, -0.04], [0.0, 0.0], [0.0, 0.0], [0.04, 0.04]])
    for i, (h, t) in enumerate(zip(hidden, truth["XOR"])):
        ax.scatter(*(h + jitter[i]), s=160, c="tab:red" if t else "tab:blue", edgecolors="k", zorder=3)
        ax.annotate(f"x = ({int(pts[i][0])},{int(pts[i][1])})", tuple(h + jitter[i] + xp.array([0.06, -0.1 if i == 0 else 0.05])), fontsize=8)
    ax.plot(xs, 1.5 - xs, "k--", label="h1 + h2 = 1.5: output 1 below (2 − h1 − h2 ≥ 1)")
    ax.scatter([], [], c="tab:red", label="XOR = 1")
    ax.scatter([], [], c="tab:blue", label="XOR = 0")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="h1 = σ(x1 − x2 + 1)", ylabel="h2 = σ(x2 − x1 + 1)",
           title="Hidden layer (T = 1): now separable", aspect="equal")
    ax.legend(fontsize=7, loc="lower left")
    fig.suptitle("Threshold units (Xu §1.1): red = output 1, blue = output 0")
    ctx.savefig(fig, "gates.png")

    fig, ax = plt.subplots(figsize=(11, 4.5))
    names = list(NAMES.values())
    frac = [counts[n][1] / m for n in names]
    colors = ["tab:red" if counts[n][0] == 0 else "tab:green" for n in names]
    ax.bar(range(16), frac, color=colors)
    for i, n in enumerate(names):
        if counts[n][0] == 0:
            ax.annotate("none", (i, 0.002), ha="center", fontsize=9, color="tab:red")
    ax.set_xticks(range(16))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="fraction of random units (w1, w2, T) computing it",
           title=f"Which of the 16 Boolean functions of two inputs does one threshold unit compute?\n"
                 f"({m} random units and {len(grid)} grid units (w1, w2, T))")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="tab:green", label="computed by some unit"),
                       Patch(color="tab:red", label="computed by no unit (XOR, XNOR)")])
    ctx.savefig(fig, "sixteen-functions.png")

    verdict = (got_and == truth["AND"] and got_or == truth["OR"] and got_not == [1, 0] and got_xor == truth["XOR"]
               and text_equal and text_differ and missing == ["XNOR", "XOR"] and realised_rand == realised_grid)
    return {
        "measured": {
            "AND_T2": got_and, "OR_T1": got_or, "NOT_T0": got_not, "XOR_two_layer": got_xor,
            "xor_hidden": hidden.tolist(), "text_equal_inputs_h1_h2_sigma1": text_equal,
            "text_different_inputs_h1_plus_h2_sigma0_plus_sigma2": text_differ,
            "strict_reading_AND": strict_and, "strict_reading_OR": strict_or,
            "single_unit_functions_grid": len(realised_grid), "single_unit_functions_random": len(realised_rand),
            "not_computable_by_one_unit": missing, "grid_units": int(len(grid)), "random_units": m,
        },
        "verdict": bool(verdict),
        "method": "Truth tables of Linear→Step(T) shenjing networks in float64 (AND T=2, OR T=1, NOT w=−1 T=0) and of the "
                  "Fig. 1.4 network; hidden pre-activations checked against the text (1 for equal inputs, {0, 2} otherwise). "
                  "Single-unit expressiveness: every unit of a grid over (w1, w2, T) ∈ [−2, 2]³ and random Gaussian units, "
                  "counting which of the 16 functions appear. Holds if all truth tables are exact and exactly XOR and XNOR "
                  "are never computed. The strict '>' reading of §1.12 is reported beside the '≥' of eq. 1.1.",
    }
