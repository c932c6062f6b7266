"""residual-forms: the clean identity shortcut against the forms that rescale, gate or rectify it
(Fang §8.1 "合理的连接方式"; He et al. 2016, "Identity mappings in deep residual networks").

Fang §8.1 names one 合理的连接方式 (reasonable connection): "输入 1: x, 输入 2: x → Linear → ReLU →
Linear", the two summed, h = x + F(x). The chapter's 重点 promises the 构造形式(合理和不合理的), but the
note writes no 不合理 (unreasonable) form down; the ones here are those He et al. tried against the
clean identity: relu(x + F(x)) (a ReLU after the sum, the original ResNet), λx + F(x) (a scaled
shortcut) and g⊙x + (1 − g)⊙F(x) with g = σ(W_g x + b) (a gated shortcut, as Highway networks).

Backward through a block h = λx + F(x), ∂h/∂x = λI + J_F. With W₁ ~ N(0, 1/w) and W₂ ~ N(0, 2s²/w)
in F (zero biases), E‖(λI + J_F)ᵀr‖² = (λ² + s²)‖r‖², so through L blocks

    ‖∂⟨r, h_L⟩/∂x‖ / ‖r‖ ≈ (λ² + s²)^{L/2}.

With s² = 1/L (the branch's last Linear scaled by 1/√L at init, as Fixup or GPT-2 do) the identity gives
(1 + 1/L)^{L/2} → √e for every depth, while λ ≠ 1 gives ≈ λ^L. With a full-size F (s² = 1, Var F(x) =
Var x) the identity gives 2^{L/2}: Fang §8.2's doubled variance (方差翻倍, 梯度爆炸). A gate with
g ≈ σ(b) carries about σ(b)^L; the ReLU after the sum zeroes the gradient of every coordinate it cuts.

Measured: (1) the input-gradient ratio above at init (float64, geometric mean over inits) for every
form against the depth L; (2) a regression net, stem Linear → L blocks → Linear head (zero-initialised,
so every form starts at the loss Var y = 1), trained full-batch by Adam on targets of a random tanh
teacher; the final loss of each form (∞ if not finite). What stops training is a shortcut gain ≠ 1
compounded over the blocks: 0.5x + F(x) and the gate at b = 0 never leave the loss 1, 1.5x + F(x) and
the full-size F blow it up. The gate biased to carry (b = 2, g ≈ 0.88) trains, more slowly than the
identity. The ReLU after the sum trains as well as the identity, though its gradient is halved: at 32 blocks
(quick, seeds 0–2) the identity ends 2–3× lower, at 64 blocks (full) the ReLU form 5–650× lower; He et
al. see it fall behind only near 1000 layers.
So the checks claim that the identity and relu(x + F(x)) train, not which of the two ends lower.
"""

from __future__ import annotations

import math

from ...backend import xp
from ...nn import Module
from ..core import Check, Experiment, Measurement, single_threaded_blas

IDENTITY, RELU, FULL = "x + F(x)", "relu(x + F(x))", "x + F(x), full-size F"
GATE0, GATE2 = "g⊙x + (1−g)⊙F(x), b = 0", "g⊙x + (1−g)⊙F(x), b = 2"
#: form → (shortcut scale λ, ReLU after the sum, gate bias b or None, branch variance s² as a function of L)
FORMS = {
    IDENTITY: (1.0, False, None, lambda L: 1 / L),
    RELU: (1.0, True, None, lambda L: 1 / L),
    "0.5x + F(x)": (0.5, False, None, lambda L: 1 / L),
    "1.5x + F(x)": (1.5, False, None, lambda L: 1 / L),
    GATE0: (None, False, 0.0, lambda L: 1 / L),
    GATE2: (None, False, 2.0, lambda L: 1 / L),
    FULL: (1.0, False, None, lambda L: 1.0),
}
VANISH, EXPLODE = ("0.5x + F(x)", GATE0, GATE2), ("1.5x + F(x)", FULL)
STUCK = ("0.5x + F(x)", "1.5x + F(x)", GATE0, FULL)  # a shortcut gain ≠ 1 compounded over the blocks
FORMULA = (IDENTITY, "0.5x + F(x)", "1.5x + F(x)")  # s² = 1/L and no gate or ReLU: the formula is exact in expectation
QUICK = {"depths": [4, 8, 16, 32, 64], "width": 32, "batch": 64, "inits": 2, "train_depth": 32, "steps": 150}
FULL_RUN = {"depths": [4, 8, 16, 32, 64, 128], "width": 64, "batch": 128, "inits": 4, "train_depth": 64, "steps": 400}
D_IN, N_TRAIN, TEACHER, LR = 8, 256, 16, 1e-3
LR_DROP = 0.8  # lr ÷ 10 after this fraction of the steps: ends Adam's late spikes

EXPERIMENT = Experiment(
    id="residual-forms",
    title="Residual forms: the clean identity x + F(x) against ReLU after the sum, scaled and gated shortcuts",
    title_zh="残差块的构造形式: 合理的 x + F(x) 与求和后加 ReLU、缩放或门控捷径等形式",
    source="Fang §8.1–8.2",
    claim="At init the gradient reaching the input of L blocks h = x + F(x) (branch scaled by 1/√L) stays O(1) at every "
          "depth and follows (λ² + 1/L)^{L/2} for a shortcut λx: it vanishes for λ = 0.5 and explodes for λ = 1.5, as "
          "for the unscaled branch (2^{L/2}, Fang §8.2), and vanishes through sigmoid-gated shortcuts; a ReLU after the "
          "sum costs a constant factor, not an exponential one. Trained deep, x + F(x) and relu(x + F(x)) fit a "
          "regression task, the forms whose shortcut gain ≠ 1 compounds stay ≥ 10× worse, and a carry-biased gate "
          "trains more slowly.",
    claim_zh="初始化时, L 个残差块 h = x + F(x) (分支按 1/√L 缩放) 传到输入的梯度在各深度都保持 O(1), 捷径为 λx 时服从 "
             "(λ² + 1/L)^{L/2}: λ = 0.5 时消失, λ = 1.5 时爆炸, 不缩放的分支也爆炸 (2^{L/2}, Fang §8.2), sigmoid 门控捷径时"
             "梯度消失; 求和后加 ReLU 只损失一个常数因子, 而非指数因子. 深层训练时 x + F(x) 与 relu(x + F(x)) 能拟合回归任务, "
             "捷径增益 ≠ 1 逐块累积的形式至少差 10 倍, 偏向直通的门控训练得更慢.",
    checks=(
        Check("grad_ratio_identity", ">=", 0.5, "‖∂⟨r, h_L⟩/∂x‖/‖r‖ of x + F(x) at every depth", what_zh="x + F(x) 在各深度的 ‖∂⟨r, h_L⟩/∂x‖/‖r‖"),
        Check("grad_ratio_identity", "<=", 2.0, "that ratio", what_zh="该比值"),
        Check("formula_log10_error", "<=", 0.15, "the largest |log₁₀(ratio/(λ² + 1/L)^{L/2})| over depths for λ = 1, 0.5, 1.5",
              what_zh="λ = 1, 0.5, 1.5 时各深度 |log₁₀(比值/(λ² + 1/L)^{L/2})| 的最大值"),
        Check("vanishing", "<=", 1e-2, "the deepest ÷ shallowest ratio for 0.5x + F(x) and both gates",
              what_zh="0.5x + F(x) 与两种门控在最深与最浅处比值之比"),
        Check("exploding", ">=", 1e2, "the deepest ÷ shallowest ratio for 1.5x + F(x) and x + F(x) with full-size F",
              what_zh="1.5x + F(x) 与分支不缩放的 x + F(x) 在最深与最浅处比值之比"),
        Check("relu_over_identity", "<=", 0.75, "the ratio of relu(x + F(x)) ÷ that of x + F(x) at every depth",
              what_zh="各深度 relu(x + F(x)) 的比值 ÷ x + F(x) 的比值"),
        Check("relu_deepest_over_shallowest", ">=", 0.5, "the deepest ÷ shallowest ratio for relu(x + F(x))",
              what_zh="relu(x + F(x)) 在最深与最浅处比值之比"),
        Check("final_loss_trains", "<=", 0.01, "the final training loss (initial: 1) of x + F(x) and relu(x + F(x))",
              what_zh="x + F(x) 与 relu(x + F(x)) 的最终训练损失 (初始为 1)"),
        Check("final_loss_over_identity", ">=", 10.0, "the final training loss of 0.5x + F(x), 1.5x + F(x), the gate at b = 0 and "
              "full-size F ÷ that of x + F(x)", what_zh="0.5x + F(x)、1.5x + F(x)、b = 0 的门控及不缩放分支的最终训练损失 ÷ x + F(x) 的"),
        Check("gate_carry_over_identity", ">=", 2.0, "the final training loss of the gate at b = 2 ÷ that of x + F(x)",
              what_zh="b = 2 的门控的最终训练损失 ÷ x + F(x) 的"),
    ),
)


class FormBlock(Module):
    """One block of ``FORMS[form]`` on the width w: F = Linear → ReLU → Linear, W₁ ~ N(0, 1/w),
    W₂ ~ N(0, 2s²/w), zero biases; a gate Linear with W_g ~ N(0, 1/w) and bias b when gated."""

    def __init__(self, form: str, width: int, depth: int, generator=None) -> None:
        from shenjing import nn
        from shenjing.nn import init

        super().__init__()
        self.lam, self.relu_after, gate, s2 = FORMS[form]
        self.branch = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
        init.normal_(self.branch[0].weight, 0.0, math.sqrt(1 / width), generator=generator)
        init.normal_(self.branch[2].weight, 0.0, math.sqrt(2 * s2(depth) / width), generator=generator)
        for lin in (self.branch[0], self.branch[2]):
            init.zeros_(lin.bias)
        self.gate = None
        if gate is not None:
            self.gate = nn.Linear(width, width)
            init.normal_(self.gate.weight, 0.0, math.sqrt(1 / width), generator=generator)
            init.constant_(self.gate.bias, gate)

    def forward(self, x):
        f = self.branch(x)
        if self.gate is not None:
            g = self.gate(x).sigmoid()
            return g * x + (1 - g) * f
        h = x + f if self.lam == 1.0 else self.lam * x + f
        return h.relu() if self.relu_after else h


def stack(form: str, width: int, depth: int, generator=None):
    """``depth`` blocks of ``form`` in float64."""
    from shenjing import nn

    return nn.Sequential(*[FormBlock(form, width, depth, generator) for _ in range(depth)]).double()


def grad_ratio(form: str, depth: int, width: int, batch: int, generator) -> float:
    """‖∂⟨r, h_L⟩/∂x‖ / ‖r‖ for x, r ~ N(0, I) of shape (batch, width) at a fresh init."""
    import shenjing as sj

    net = stack(form, width, depth, generator)
    x = sj.randn(batch, width, generator=generator, dtype=sj.float64, requires_grad=True)
    r = sj.randn(batch, width, generator=generator, dtype=sj.float64)
    (net(x) * r).sum().backward()
    return float(x.grad.norm().item() / r.norm().item())


def formula(form: str, depth: int) -> float:
    """(λ² + s²)^{L/2} for a form without gate or ReLU."""
    lam, _, _, s2 = FORMS[form]
    return (lam ** 2 + s2(depth)) ** (depth / 2)


def teacher_data(rng) -> tuple:
    """(X, y): N_TRAIN Gaussian inputs in ℝ^D_IN, y = Σ a_k tanh(2 v_k·x/√D_IN) standardised (mean 0, Var 1)."""
    import shenjing as sj

    X = rng.normal(size=(N_TRAIN, D_IN))
    y = xp.tanh(2 * X @ rng.normal(size=(D_IN, TEACHER)) / math.sqrt(D_IN)) @ rng.normal(size=TEACHER)
    return sj.tensor(X), sj.tensor(((y - y.mean()) / y.std())[:, None])


def train(form: str, data: tuple, width: int, depth: int, steps: int, generator) -> list[float]:
    """Full-batch Adam (lr LR, ÷ 10 after LR_DROP of the steps) on the MSE of stem Linear → ``depth`` blocks → Linear
    head (zero-initialised); the loss before every step and after the last."""
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.nn import init
    from shenjing.train import full_batch

    X, y = data
    stem, head = nn.Linear(D_IN, width), nn.Linear(width, 1)
    init.normal_(stem.weight, 0.0, math.sqrt(1 / D_IN), generator=generator)
    for p in (stem.bias, head.weight, head.bias):
        init.zeros_(p)
    net = nn.Sequential(stem, stack(form, width, depth, generator), head).double()
    loss = lambda: F.mse_loss(net(X), y)  # noqa: E731
    opt = optim.Adam(net.parameters(), lr=LR)
    sched = optim.lr_scheduler.MultiStepLR(opt, [int(LR_DROP * steps)], 0.1)
    with xp.errstate(all="ignore"):
        losses = full_batch(loss, opt, steps, callback=lambda step, value: sched.step())
        return losses + [float(loss().item())]


def measure(ctx) -> Measurement:
    cfg = QUICK if ctx.quick else FULL_RUN
    depths, gen = cfg["depths"], ctx.generator
    with single_threaded_blas():  # small matrices: a BLAS thread pool on a shared machine only slows them down
        ratio = {f: [float(xp.exp(xp.mean([xp.log(grad_ratio(f, L, cfg["width"], cfg["batch"], gen)) for _ in range(cfg["inits"])])))
                     for L in depths] for f in FORMS}
        data = teacher_data(ctx.rng)
        curves = {f: train(f, data, cfg["width"], cfg["train_depth"], cfg["steps"], gen) for f in FORMS}
    final = {f: c[-1] if math.isfinite(c[-1]) else math.inf for f, c in curves.items()}
    change = {f: r[-1] / r[0] for f, r in ratio.items()}
    measured = {
        **cfg, "grad_ratio": ratio, "grad_ratio_identity": ratio[IDENTITY],
        "formula": {f: [formula(f, L) for L in depths] for f in (*FORMULA, FULL)},
        "formula_log10_error": {f: max(abs(math.log10(r / formula(f, L))) for r, L in zip(ratio[f], depths)) for f in FORMULA},
        "deepest_over_shallowest": change, "vanishing": {f: change[f] for f in VANISH}, "exploding": {f: change[f] for f in EXPLODE},
        "relu_over_identity": [a / b for a, b in zip(ratio[RELU], ratio[IDENTITY])], "relu_deepest_over_shallowest": change[RELU],
        "final_loss": final, "final_loss_trains": {f: final[f] for f in (IDENTITY, RELU)},
        "final_loss_over_identity": {f: final[f] / final[IDENTITY] for f in STUCK},
        "gate_carry_over_identity": final[GATE2] / final[IDENTITY],
        "relu_final_loss_over_identity": final[RELU] / final[IDENTITY],
    }
    method = (f"Blocks of width {cfg['width']}, F = Linear → ReLU → Linear with W₁ ~ N(0, 1/w), W₂ ~ N(0, 2s²/w), s² = 1/L "
              f"(s² = 1 for full-size F), zero biases; gates σ(W_g x + b), W_g ~ N(0, 1/w). Gradient: ‖∂⟨r, h_L⟩/∂x‖/‖r‖ for "
              f"x, r ~ N(0, I) of shape ({cfg['batch']}, {cfg['width']}), float64, geometric mean over {cfg['inits']} inits, "
              f"L = {depths}. Training: {N_TRAIN} points in ℝ^{D_IN}, targets of a random {TEACHER}-unit tanh teacher "
              f"standardised; stem Linear({D_IN}, {cfg['width']}) → {cfg['train_depth']} blocks → Linear({cfg['width']}, 1) "
              f"(zero-initialised), full-batch Adam lr {LR:g}, ÷ 10 after {LR_DROP:.0%} of {cfg['steps']} steps, MSE after the last step (∞ if not finite).")
    method_zh = (f"宽度 {cfg['width']} 的残差块, F = Linear → ReLU → Linear, W₁ ~ N(0, 1/w), W₂ ~ N(0, 2s²/w), s² = 1/L (不缩放分支时 "
                 f"s² = 1), 偏置为零; 门控 σ(W_g x + b), W_g ~ N(0, 1/w). 梯度: x, r ~ N(0, I) (形状 ({cfg['batch']}, {cfg['width']})) "
                 f"时的 ‖∂⟨r, h_L⟩/∂x‖/‖r‖, float64, {cfg['inits']} 次初始化的几何平均, L = {depths}. 训练: ℝ^{D_IN} 中 {N_TRAIN} 个点, "
                 f"目标由随机 {TEACHER} 单元 tanh 教师网络给出并标准化; 输入 Linear → {cfg['train_depth']} 个残差块 → 零初始化的输出 "
                 f"Linear, 全批量 Adam, 学习率 {LR:g}, 共 {cfg['steps']} 步, {LR_DROP:.0%} 后除以 10, 取最后一步后的 MSE (非有限则记为 ∞).")
    return Measurement(measured, method, data={"curves": curves}, method_zh=method_zh)


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    mm = m.measured
    depths = mm["depths"]
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), layout="constrained")
    ax = axes[0]
    for i, f in enumerate(FORMS):
        line, = ax.semilogy(depths, mm["grad_ratio"][f], "o-", color=f"C{i}", label=f)
        if f in mm["formula"]:
            ax.semilogy(depths, mm["formula"][f], ":", color=line.get_color(), lw=2)
    ax.plot([], [], "k:", lw=2, label="formula (λ² + s²)^{L/2}")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="number of blocks L", ylabel="‖∂⟨r, h_L⟩/∂x‖ / ‖r‖ at init",
           title=f"Gradient at the input of L blocks (width {mm['width']}, branch s² = 1/L)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, (f, c) in enumerate(m.data["curves"].items()):
        ax.semilogy(c, color=f"C{i}", label=f"{f}: {mm['final_loss'][f]:.3g}")
    ax.axvline(int(LR_DROP * mm["steps"]), color="gray", ls=":", lw=1)
    ax.set(xlabel="Adam step (dotted: lr ÷ 10)", ylabel="training MSE (initial = Var y = 1)",
           title=f"Training at depth {mm['train_depth']} (final loss in the legend)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("Residual forms (Fang §8.1 合理的连接方式 x + F(x), and the forms He et al. 2016 tried)")
    ctx.savefig(fig, "residual_forms")
