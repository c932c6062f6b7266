"""dropout: what dropout (随机失活) does to gradients, expectations and the test-time output (Nelson "Dropout").

Four measured facts: a unit dropped in a training step gets exactly zero gradient in that step;
inverted dropout (scale kept units by 1/(1−p)) keeps the expected activation; in evaluation mode a
network whose dropout feeds a linear layer outputs exactly the Monte-Carlo mean over masks in the
limit (the error falls as 1/√K with K masks); the non-inverted form (mask only) needs its test-time
scaling by 1−p, without which the test output is off by the factor 1/(1−p).
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

P = 0.5

EXPERIMENT = Experiment(
    id="dropout",
    title="Dropout: zero gradient for dropped units, kept expectation, Monte-Carlo mean at test time",
    title_zh="随机失活: 被丢弃单元梯度为零, 期望不变, 测试输出等于掩码的蒙特卡洛平均",
    source='Nelson "Dropout"',
    claim="Units dropped in a step get exactly zero gradient; inverted dropout keeps the expected activation; the "
          "evaluation output equals the mean over random masks in the limit; the non-inverted form needs test-time "
          "scaling by 1−p.",
    claim_zh="一步中被丢弃的单元梯度恰好为零; 反向 (inverted) 随机失活保持激活的期望不变; 评估时的输出在极限下等于随机掩码的平均;"
             " 非反向形式在测试时需要乘以 1−p.",
    checks=(
        Check("max_grad_of_dropped_units", "==", 0.0, "the largest |gradient| of a dropped unit", what_zh="被丢弃单元的最大 |梯度|"),
        Check("kept_grad_error", "<=", 1e-6, "the largest error of a kept unit's gradient against w/(1−p)", what_zh="保留单元的梯度相对 w/(1−p) 的最大误差"),
        Check("inverted_mean_rel_error", "<=", 0.02, "the relative error of the mean activation over masks", what_zh="激活在各掩码上平均值的相对误差"),
        Check("mc_error_largest_K", "<=", 0.03, "the relative error of the Monte-Carlo mean at the most masks", what_zh="掩码最多时蒙特卡洛平均的相对误差"),
        Check("mc_error_falls", "true", what="the Monte-Carlo error falls as masks are added (first vs last)",
              what_zh="随着掩码增加, 蒙特卡洛误差下降 (首尾比较)"),
        Check("noninverted_unscaled_rel_error", ">=", 0.5, "the non-inverted form's test error without scaling", what_zh="非反向形式在测试时不缩放的误差"),
        Check("noninverted_scaled_rel_error", "<=", 0.02, "the non-inverted form's test error scaled by 1−p", what_zh="非反向形式在测试时乘以 1−p 后的误差"),
    ),
)


def _gradients(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F

    x = sj.tensor(ctx.rng.uniform(0.5, 1.5, (64, 32)), dtype=sj.float32, requires_grad=True)
    w = sj.tensor(ctx.rng.normal(size=(64, 32)), dtype=sj.float32)
    h = F.dropout(x, P, training=True)
    (h * w).sum().backward()
    dropped = h.detach().numpy() == 0
    g = x.grad.numpy()
    kept_err = float(xp.abs(g[~dropped] - w.numpy()[~dropped] / (1 - P)).max())
    return {"max_grad_of_dropped_units": float(xp.abs(g[dropped]).max()), "kept_grad_error": kept_err,
            "dropped_fraction": float(dropped.mean())}


def measure(ctx) -> Measurement:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn

    measured = _gradients(ctx)
    masks = 2000 if ctx.quick else 20000
    x = sj.tensor(ctx.rng.uniform(0.5, 1.5, (1, 256)), dtype=sj.float32)
    with sj.no_grad():
        mean_act = sum(F.dropout(x, P, training=True).numpy() for _ in range(masks)) / masks
    measured["inverted_mean_rel_error"] = float(xp.abs(mean_act - x.numpy()).mean() / xp.abs(x.numpy()).mean())

    net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(P), nn.Linear(64, 4))
    xin = sj.tensor(ctx.rng.normal(size=(16, 8)), dtype=sj.float32)
    Ks = [10, 100, 1000, 10000] + ([] if ctx.quick else [40000])
    with sj.no_grad():
        net.eval()
        ref = net(xin).numpy().astype(xp.float64)
        net.train()
        outs = [net(xin).numpy().astype(xp.float64) for _ in range(Ks[-1])]
    errs = [float(xp.abs(sum(outs[:k]) / k - ref).mean() / xp.abs(ref).mean()) for k in Ks]
    measured.update({"mc_masks": Ks, "mc_rel_errors": errs, "mc_error_largest_K": errs[-1], "mc_error_falls": errs[-1] < errs[0]})

    h = ctx.rng.uniform(0.5, 1.5, 256)
    mc = sum(h * (ctx.rng.random(256) >= P) for _ in range(masks)) / masks  # non-inverted: mask only
    measured["noninverted_unscaled_rel_error"] = float(xp.abs(h - mc).mean() / xp.abs(mc).mean())
    measured["noninverted_scaled_rel_error"] = float(xp.abs(h * (1 - P) - mc).mean() / xp.abs(mc).mean())
    method = (f"p = {P}; gradients of sum(w·dropout(x)) for a 64×32 input; {masks} masks for the expectation of inverted "
              f"dropout and of the non-inverted form (mask only); a Linear-ReLU-Dropout-Linear network's eval output "
              f"against the mean of K = {Ks} training-mode outputs.")
    return Measurement(measured, method, data={"Ks": Ks, "errs": errs})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
    Ks, errs = m.data["Ks"], m.data["errs"]
    ax.loglog(Ks, errs, "o-", label="|MC mean − eval output| / |eval output|")
    ax.loglog(Ks, [errs[0] * (Ks[0] / k) ** 0.5 for k in Ks], "k--", label="∝ 1/√K")
    ax.set(xlabel="number of masks K", ylabel="relative error", title="Dropout: eval output = Monte-Carlo mean over masks")
    ax.legend()
    ctx.savefig(fig, "mc_mean")
