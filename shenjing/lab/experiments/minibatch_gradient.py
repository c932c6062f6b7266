"""minibatch-gradient: the mini-batch gradient is an unbiased estimate of the full gradient (Wang 五; Xu §1.3).

For a linear model with squared loss on N samples, each draw of B samples (without replacement, as a
shuffled epoch does, and with replacement) gives a gradient by autograd. Over many draws its mean
is the full-batch gradient, and its variance E‖ĝ_B − g‖² equals σ²/B with replacement and
σ²/B · (N − B)/(N − 1) without (the finite-population correction), σ² = mean ‖g_i − g‖² over samples.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

EXPERIMENT = Experiment(
    id="minibatch-gradient",
    title="The mini-batch gradient is unbiased; its variance falls as 1/B",
    title_zh="小批量梯度是全梯度的无偏估计, 方差按 1/B 下降",
    source="Wang 五; Xu §1.3",
    claim="Averaged over random mini-batches the mini-batch gradient equals the full gradient; its variance is σ²/B "
          "(with replacement) and σ²/B·(N−B)/(N−1) without replacement.",
    claim_zh="对随机小批量取平均, 小批量梯度等于全梯度; 其方差为 σ²/B (有放回), 无放回时为 σ²/B·(N−B)/(N−1).",
    checks=(
        Check("bias_B8", "<=", 0.05, "‖mean ĝ_B − g‖ / ‖g‖ at B = 8", what_zh="B = 8 时 ‖平均 ĝ_B − g‖ / ‖g‖"),
        Check("variance_ratio_with_replacement", ">=", 0.8, "measured / σ²/B with replacement, for each B", what_zh="对每个 B, 测得值 / 有放回的 σ²/B"),
        Check("variance_ratio_with_replacement", "<=", 1.2, "measured / σ²/B with replacement, for each B", what_zh="对每个 B, 测得值 / 有放回的 σ²/B"),
        Check("variance_ratio_without_replacement", ">=", 0.8, "measured / σ²/B·(N−B)/(N−1) without replacement, for each B",
              what_zh="对每个 B, 测得值 / 无放回的 σ²/B·(N−B)/(N−1)"),
        Check("variance_ratio_without_replacement", "<=", 1.2, "measured / σ²/B·(N−B)/(N−1) without replacement, for each B",
              what_zh="对每个 B, 测得值 / 无放回的 σ²/B·(N−B)/(N−1)"),
    ),
)

N, D = 128, 5


def _grad(model, X, y, idx) -> xp.ndarray:
    import shenjing as sj
    import shenjing.nn.functional as F

    model.zero_grad()
    F.mse_loss(model(X[sj.tensor(idx)]), y[sj.tensor(idx)]).backward()
    return xp.concatenate([p.grad.numpy().astype(xp.float64).ravel() for p in model.parameters()])


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing import nn

    X = sj.tensor(ctx.rng.normal(size=(N, D)), dtype=sj.float32)
    y = sj.tensor(ctx.rng.normal(size=(N, 1)) + X.numpy()[:, :1] * 2, dtype=sj.float32)
    model = nn.Linear(D, 1)
    g = _grad(model, X, y, xp.arange(N))
    per = xp.stack([_grad(model, X, y, xp.array([i])) for i in range(N)])
    sigma2 = float(((per - g) ** 2).sum(1).mean())
    draws = 300 if ctx.quick else 2000
    Bs = [1, 4, 16, 64]
    out: dict[str, list] = {"with": [], "without": []}
    for B in Bs:
        for rep in (True, False):
            est = xp.stack([_grad(model, X, y, ctx.rng.choice(N, B, replace=rep)) for _ in range(draws)])
            var = float(((est - g) ** 2).sum(1).mean())
            theory = sigma2 / B * (1 if rep else (N - B) / (N - 1))
            out["with" if rep else "without"].append(var / theory)
    measured = {"batch_sizes": Bs, "sigma2": sigma2, "variance_ratio_with_replacement": out["with"],
                "variance_ratio_without_replacement": out["without"], "bias_B8": _bias(model, X, y, g, ctx, draws)}
    method = (f"nn.Linear({D}, 1) with MSE on N = {N} Gaussian samples; gradients by autograd; {draws} mini-batches per "
              f"batch size B in {Bs}, drawn with and without replacement; σ² from the N per-sample gradients.")
    return Measurement(measured, method, data={"Bs": Bs, "sigma2": sigma2, "ratios": out})


def _bias(model, X, y, g, ctx, draws: int) -> float:
    """The relative distance ‖mean ĝ_B − g‖ / ‖g‖ at B = 8, without replacement, over 4× the draws."""
    est = xp.stack([_grad(model, X, y, ctx.rng.choice(N, 8, replace=False)) for _ in range(4 * draws)])
    return float(xp.linalg.norm(est.mean(0) - g) / xp.linalg.norm(g))


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    Bs, s2, r = m.data["Bs"], m.data["sigma2"], m.data["ratios"]
    fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
    b = xp.array(Bs, dtype=float)
    fpc = (N - b) / (N - 1)
    ax.loglog(b, s2 / b, "k--", label="σ²/B")
    ax.loglog(b, s2 / b * fpc, "k:", label="σ²/B·(N−B)/(N−1)")
    ax.loglog(b, xp.array(r["with"]) * s2 / b, "o", label="measured, with replacement")
    ax.loglog(b, xp.array(r["without"]) * s2 / b * fpc, "s", label="measured, without replacement")
    ax.set(xlabel="batch size B", ylabel="E‖ĝ_B − g‖²", title=f"Mini-batch gradient variance (N = {N})")
    ax.legend()
    ctx.savefig(fig, "variance")
