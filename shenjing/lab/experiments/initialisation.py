"""initialisation: how the initial weights set the signal's strength across depth, and why all-equal
weights never break the symmetry between neurons (Xu §1.10.1, Nelson "初始化权重").

Part 1 — the forward signal. Xu eq. 1.59 writes the signal flow x^[l] = W^[l] σ(x^[l−1]) + b^[l]
and asks Var(x^[l]) = Var(x^[l−1]). A deep square MLP (width n in every layer, so m_in = m_out = n and
LeCun = Xavier for these layers) is fed standard normal inputs, and the variance of every
pre-activation x^[l] is measured under

* zero init (all weights 0): x^[l] ≡ 0 beyond the first layer;
* constant init (all weights 0.1/√n): every unit of a layer computes the same number;
* uniform U(−0.3, 0.3): Nelson's pre-2010 practice, a scale that ignores the width, so
  Var(x^[l]) = n·0.03·E[σ²] grows with n (ReLU explodes geometrically, tanh saturates);
* LeCun N(0, 1/m_in), Xavier N(0, 2/(m_in + m_out)), Kaiming N(0, 2/m_in) (the table of §1.10.1).

Theory: for ReLU, E[relu(z)²] = Var(z)/2, so the per-layer variance factor is n·Var(w)/2: 1 for
Kaiming, 1/2 for LeCun/Xavier. For tanh (tanh'(0) = 1), Xavier/LeCun give a factor 1 near zero and
the variance decays only slowly (≈ 1/(2l), so the ratio of consecutive layers tends to 1), whereas
Kaiming's 2/n pushes tanh to a non-zero fixed point.

Part 2 — symmetry (Nelson: "不要用全零或全相等的数字初始化 … 不同节点将输出完全相同的数字"). A
1-16-16-1 tanh net is trained with SGD on a sine; with zero or constant init the weight rows (and
biases) of the hidden units of each layer stay exactly equal at every step — the layer behaves like
a single neuron — while a Kaiming-initialised net's rows differ.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...backend import xp
from ..core import Check, Experiment, Measurement

if TYPE_CHECKING:
    from ...autograd.tensor import Tensor

SCHEMES = ("zero", "constant", "uniform", "lecun", "xavier", "kaiming")
RELU = "relu_per_layer_variance_factor"
SPREAD = "max_row_spread_during_training"

EXPERIMENT = Experiment(
    id="initialisation",
    title="Initialisation: signal variance across depth and the symmetry of equal weights",
    title_zh="参数初始化",
    source="Xu §1.10.1; Nelson ch. 4",
    claim="Kaiming init keeps the variance of ReLU pre-activations constant across depth (LeCun/Xavier halve it per "
          "layer, a width-blind uniform scale explodes it), Xavier keeps tanh's variance from decaying geometrically, "
          "and zero or constant init keeps the hidden units of a layer identical during training.",
    claim_zh="Kaiming 初始化使 ReLU 网络各层预激活的方差保持不变 (LeCun/Xavier 每层减半, 不看宽度的均匀尺度使其爆炸), Xavier "
             "使 tanh 的方差不再几何衰减, 而零初始化或常数初始化使一层的隐藏单元在训练中始终相同.",
    checks=(
        Check(f"{RELU}.kaiming", ">=", 0.8, "ReLU + Kaiming's per-layer variance factor", what_zh="ReLU + Kaiming 每层的方差因子"),
        Check(f"{RELU}.kaiming", "<=", 1.25, "the same factor", what_zh="同一因子"),
        Check(f"{RELU}.xavier", ">=", 0.4, "ReLU + Xavier's", what_zh="ReLU + Xavier 的"),
        Check(f"{RELU}.xavier", "<=", 0.6, "ReLU + Xavier's", what_zh="ReLU + Xavier 的"),
        Check(f"{RELU}.lecun", ">=", 0.4, "ReLU + LeCun's", what_zh="ReLU + LeCun 的"),
        Check(f"{RELU}.lecun", "<=", 0.6, "ReLU + LeCun's", what_zh="ReLU + LeCun 的"),
        Check(f"{RELU}.uniform", ">", 1.5, "ReLU + U(−0.3, 0.3)'s", what_zh="ReLU + U(−0.3, 0.3) 的"),
        Check("tanh_xavier_factor_second_half", ">=", 0.85, "tanh + Xavier's factor over the second half of the layers",
              what_zh="tanh + Xavier 在后一半层上的因子"),
        Check("tanh_xavier_factor_second_minus_first_half", ">", 0, "that factor minus the one over the first half", what_zh="该因子减去前一半层上的因子"),
        Check("zero_init_max_variance_after_layer1", "==", 0.0, "zero init's largest Var(x^[l]) beyond layer 1",
              what_zh="零初始化时第 1 层之后最大的 Var(x^[l])"),
        Check(f"{SPREAD}.zero", "==", 0.0, "during training, the largest spread between the hidden units' (w, b) rows with zero init",
              what_zh="训练中零初始化的隐藏单元 (w, b) 行之间的最大差异"),
        Check(f"{SPREAD}.constant", "<", 1e-12, "with constant init", what_zh="常数初始化时"),
        Check(f"{SPREAD}.kaiming_final", ">", 0.1, "with Kaiming init, after training", what_zh="Kaiming 初始化时, 训练之后"),
    ),
)


def init_weight(weight, scheme: str, generator=None, nonlinearity: str = "relu") -> Tensor:
    """Fill a weight (m_out, m_in) by ``scheme`` (one of :data:`SCHEMES`), in place."""
    from shenjing.nn import init

    n_in = weight.shape[1]
    if scheme == "zero":
        return init.zeros_(weight)
    if scheme == "constant":
        return init.constant_(weight, 0.1 / math.sqrt(n_in))
    if scheme == "uniform":
        return init.uniform_(weight, -0.3, 0.3, generator=generator)
    if scheme == "lecun":
        return init.lecun_normal_(weight, generator=generator)
    if scheme == "xavier":
        return init.xavier_normal_(weight, generator=generator)
    if scheme == "kaiming":
        return init.kaiming_normal_(weight, nonlinearity=nonlinearity, generator=generator)
    raise ValueError(f"unknown scheme {scheme!r}")


def preactivation_variances(scheme: str, activation: str, width: int, depth: int, batch: int, generator) -> list[float]:
    """Var(x^[l]) for l = 1..depth of a square MLP (eq. 1.59, zero biases) on N(0, I) inputs."""
    import shenjing as sj
    from shenjing import nn

    x = sj.randn(batch, width, generator=generator, dtype=sj.float64)
    act = sj.tanh if activation == "tanh" else sj.relu
    out = []
    with sj.no_grad():
        h = x
        for layer in range(depth):
            lin = nn.Linear(width, width, bias=False, dtype=sj.float64)
            init_weight(lin.weight, scheme, generator)
            z = lin(h if layer == 0 else act(h))
            out.append(float(z.numpy().var()))
            h = z
    return out


def row_spread(net) -> float:
    """max over hidden layers of max_{i,j} ‖(W_i, b_i) − (W_j, b_j)‖_∞: 0 iff the units are copies."""
    from shenjing import nn

    lins = [m for m in net.modules() if isinstance(m, nn.Linear)][:-1]
    spread = 0.0
    for lin in lins:
        rows = xp.concatenate([lin.weight.array, lin.bias.array[:, None]], axis=1)
        spread = max(spread, float((rows.max(axis=0) - rows.min(axis=0)).max()))
    return spread


def train_symmetry(scheme: str, steps: int, generator, hidden: int = 16) -> tuple[list[float], float, float]:
    """Train 1-h-h-1 tanh on sin x with full-batch SGD (lr 0.1); return the row spread before training and
    after every step, the first and the last loss."""
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.data import toy
    from shenjing.nn import init
    from shenjing.train import full_batch

    x, y = toy.sine(64, generator=generator)
    x, y = x.double(), y.double()
    net = nn.mlp([1, hidden, hidden, 1], activation="tanh").double()
    for m in net.modules():
        if isinstance(m, nn.Linear):
            init_weight(m.weight, scheme, generator)
            if scheme == "constant":
                init.constant_(m.bias, 0.1)
            else:
                init.zeros_(m.bias)
    spreads = [row_spread(net)]
    losses = full_batch(lambda: F.mse_loss(net(x), y), optim.SGD(net.parameters(), lr=0.1), steps,
                        callback=lambda step, loss: spreads.append(row_spread(net)))
    return spreads, losses[0], losses[-1]


def variance_factor(v: list[float], a: int, b: int) -> float:
    """Geometric-mean per-layer variance factor (Var(x^[b])/Var(x^[a]))^(1/(b − a)) between layers a and b
    (1-based); 0 if either variance is 0."""
    if v[a - 1] <= 0 or v[b - 1] <= 0:
        return 0.0
    return (v[b - 1] / v[a - 1]) ** (1 / (b - a))


def variance_measurements(var: dict, width: int, depth: int) -> dict:
    """The per-layer factors and variance ratios of the signal-flow part, from Var(x^[l]) per activation and scheme."""
    L = depth
    relu = {s: variance_factor(var["relu"][s], 2, L) for s in ("kaiming", "xavier", "lecun", "uniform")}
    tail, head = variance_factor(var["tanh"]["xavier"], L // 2, L), variance_factor(var["tanh"]["xavier"], 2, L // 2)
    return {
        RELU: relu, "relu_per_layer_factor_theory": {"kaiming": 1.0, "xavier": 0.5, "lecun": 0.5, "uniform": width * 0.03 / 2},
        "tanh_xavier_factor_second_half": tail, "tanh_xavier_factor_first_half": head,
        "tanh_xavier_factor_second_minus_first_half": tail - head,
        "tanh_xavier_var_last_over_first": var["tanh"]["xavier"][-1] / var["tanh"]["xavier"][0],
        "tanh_kaiming_var_last_over_first": var["tanh"]["kaiming"][-1] / var["tanh"]["kaiming"][0],
        "variance_at_last_layer": {a: {s: var[a][s][-1] for s in SCHEMES} for a in var},
        "zero_init_max_variance_after_layer1": max(max(var[a]["zero"][1:]) for a in var),
    }


def measure(ctx) -> Measurement:
    width, depth, batch = (128, 16, 256) if ctx.quick else (512, 30, 1024)
    steps = 100 if ctx.quick else 500
    var = {act: {s: preactivation_variances(s, act, width, depth, batch, ctx.generator) for s in SCHEMES}
           for act in ("relu", "tanh")}
    sym = {s: train_symmetry(s, steps, ctx.generator) for s in ("zero", "constant", "kaiming")}
    measured = {"width": width, "depth": depth, **variance_measurements(var, width, depth), "training_steps": steps,
                SPREAD: {"zero": max(sym["zero"][0]), "constant": max(sym["constant"][0]), "kaiming_final": sym["kaiming"][0][-1]},
                "final_loss": {s: sym[s][2] for s in sym}}
    method = (f"Pre-activation variance per layer of a square MLP (width {width}, {depth} layers, zero biases, float64) on "
              f"{batch} N(0, I) inputs, with ReLU and with tanh, for each init: zero, constant 0.1/√n, U(−0.3, 0.3), LeCun, "
              "Xavier and Kaiming normal. The per-layer factor is the geometric mean of Var(x^[l+1])/Var(x^[l]) over "
              "layers 2..L (for tanh + Xavier also over the first and the second half); theory for ReLU: n·Var(w)/2, i.e. "
              "1 for Kaiming, 1/2 for LeCun and Xavier, n·0.03/2 for the uniform. Symmetry: a 1-16-16-1 tanh net trained "
              f"with full-batch SGD (lr 0.1, {steps} steps) on 64 points of toy.sine from zero init (biases 0), constant "
              "init (biases 0.1) and Kaiming init (biases 0); the spread of a layer is max_{i,j} ‖(W_i, b_i) − (W_j, b_j)‖_∞ "
              "over its hidden units.")
    return Measurement(measured, method, data={"var": var, "sym": sym})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    var, sym, width, L = m.data["var"], m.data["sym"], m.measured["width"], m.measured["depth"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    styles = {"constant": ":", "uniform": "--", "lecun": "-", "xavier": "-.", "kaiming": "-"}
    for ax, act in zip(axes[:2], ("relu", "tanh")):
        layers = range(1, L + 1)
        for s in SCHEMES[1:]:
            v = xp.maximum(xp.asarray(var[act][s]), 1e-300)
            ax.semilogy(layers, v, styles[s], marker="o", ms=3, lw=2 if s == "kaiming" else 1.4, label=s)
        ax.axhline(1.0, color="k", lw=0.6, alpha=0.5)
        ax.set(xlabel="layer l", ylabel="Var(x^[l]) (pre-activation)",
               title=f"{act} MLP, width {width} (zero init: Var ≡ 0, not shown)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    ax = axes[2]
    sym_style = {"zero": dict(lw=6, alpha=0.4), "constant": dict(lw=2, ls="--"), "kaiming": dict(lw=2)}
    for s, (sp, _, _) in sym.items():
        ax.semilogy(range(len(sp)), xp.maximum(xp.asarray(sp), 1e-17), label=f"{s} init", **sym_style[s])
    ax.set(xlabel="SGD step", ylabel="max spread between hidden units' (w, b) rows",
           title="Training a 1-16-16-1 tanh net on sin x")
    ax.text(0.3, 0.15, "zero / constant: rows identical\n(spread exactly 0, drawn at 1e-17)", transform=ax.transAxes,
            fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("Initialisation (Xu §1.10.1): signal variance across depth, and symmetry breaking")
    fig.tight_layout()
    ctx.savefig(fig, "variance-depth.png")
