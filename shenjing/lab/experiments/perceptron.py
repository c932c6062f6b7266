"""perceptron: Rosenblatt's rule converges on separable data and cycles on XOR; ADALINE (Xu §1.12, Wang 三.I).

Xu eq. 1.74 prints Rosenblatt's rule as w ← w − η(d − y)x. The sign is wrong: on a missed positive
(d = 1, y = 0) it subtracts x and makes wᵀx smaller still. Rosenblatt's rule is w ← w + η(d − y)x
(for ±1 labels and the sign output of Wang, w ← w + η d x on a mistake). Both are run here on the
same linearly separable data: the correct rule stops after fewer mistakes than Novikoff's bound (R/γ)²;
the printed one never stops and its weights grow without bound. On XOR the correct rule cannot stop
either — with a fixed sample order its weights come back to an earlier state exactly (a cycle).
ADALINE (Widrow–Hoff LMS) drops the threshold from the learning rule; its weights tend to the
least-squares solution of the ±1 targets, which separates these data too but not XOR.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

X4 = xp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_PM = [-1.0, 1.0, 1.0, -1.0]  # XOR as ±1 labels on X4

EXPERIMENT = Experiment(
    id="perceptron",
    title="The perceptron rule (correct and as printed) and ADALINE",
    title_zh="感知机学习规则 (正确符号与讲义印刷形式) 与 ADALINE",
    source="Xu §1.12 (eq. 1.72–1.75), Wang 三.I",
    claim="Rosenblatt's rule w ← w + η(d − y)x converges on linearly separable data within Novikoff's (R/γ)² mistakes and "
          "cycles forever on XOR; the sign printed in Xu eq. 1.74 (w ← w − η(d − y)x) does not converge; ADALINE's "
          "LMS weights approach the least-squares solution.",
    claim_zh="Rosenblatt 规则 w ← w + η(d − y)x 在线性可分数据上至多犯 Novikoff 界 (R/γ)² 次错误即收敛, 在 XOR 上永远循环; Xu "
             "式 1.74 印出的符号 (w ← w − η(d − y)x) 不收敛; ADALINE 的 LMS 权重趋于最小二乘解.",
    checks=(
        Check("mistakes_last_epoch_correct_rules", "==", 0, "the mistakes in the last epoch of each correct form (sign, step)",
              what_zh="每种正确形式 (符号函数、阶跃函数) 最后一轮的错误次数"),
        Check("updates_over_novikoff_bound", "<=", 1.0, "the sign form's updates / Novikoff's (R/γ)²", what_zh="符号形式的更新次数 / Novikoff 界 (R/γ)²"),
        Check("accuracy_correct", "==", 1.0, "the sign form's training accuracy", what_zh="符号形式的训练准确率"),
        Check("accuracy_correct_step_rule", "==", 1.0, "the step form's training accuracy", what_zh="阶跃形式的训练准确率"),
        Check("as_printed_mistakes_last_epoch", ">", 0, "the printed form's mistakes in its last epoch", what_zh="印刷形式最后一轮的错误次数"),
        Check("as_printed_weight_norm_growth", ">", 10, "the printed form's ‖(w, b)‖ after the last epoch / after the first",
              what_zh="印刷形式最后一轮与第一轮之后 ‖(w, b)‖ 之比"),
        Check("xor_cycle", "true", what="on XOR the sign form's weights return exactly to an earlier epoch's",
              what_zh="在 XOR 上符号形式的权重恰好回到之前某一轮的值"),
        Check("xor_step_form_cycle", "true", what="so do the step form's", what_zh="阶跃形式也是如此"),
        Check("xor_mistakes_last_epoch", ">", 0, "the sign form's mistakes in its last XOR epoch", what_zh="符号形式在 XOR 上最后一轮的错误次数"),
        Check("adaline_distance_to_least_squares_relative", "<", 0.05, "ADALINE's final ‖(w, b) − least squares‖ / ‖least squares‖",
              what_zh="ADALINE 最终的 ‖(w, b) − 最小二乘解‖ / ‖最小二乘解‖"),
        Check("adaline_accuracy", ">=", 0.95, "ADALINE's training accuracy", what_zh="ADALINE 的训练准确率"),
        Check("adaline_xor_accuracy", "<=", 0.75, "its accuracy on XOR", what_zh="它在 XOR 上的准确率"),
    ),
)


def separable(rng, n: int, margin: float) -> tuple:
    """n points in [−1, 1]² at distance > margin from the line x1 − 2x2 + 0.3 = 0, labelled by its side (±1);
    returns X, y and the line (u, b)."""
    u, b = xp.array([1.0, -2.0]), 0.3
    out = xp.zeros((0, 2))
    while len(out) < n:
        X = rng.uniform(-1, 1, (4 * n, 2))
        out = xp.vstack([out, X[xp.abs(X @ u + b) / xp.linalg.norm(u) > margin]])
    X = out[:n]
    return X, xp.sign(X @ u + b), u, b


def accuracy(res, X, y, step: bool) -> float:
    """Training accuracy of a perceptron result: 1[z ≥ 0] against 0/1 labels (``step``) or sign(z) against ±1."""
    z = X @ res.weights + res.bias
    return float(((z >= 0) == (y == 1)).mean()) if step else float((xp.sign(z) == y).mean())


def weight_norms(history) -> list[float]:
    """‖(w, b)‖ of every (w, b) in a perceptron or ADALINE history."""
    return [float(xp.linalg.norm(xp.append(w, bb))) for w, bb in history]


def adaline_vs_least_squares(X, y, epochs: int, rng) -> tuple:
    """ADALINE (η = 0.02/(1 + 0.1t)) on (X, ±1 labels): the result, ‖(w, b) − least squares‖ per epoch, the
    least-squares (w, b), and the accuracy."""
    from shenjing import linear as L

    ada = L.adaline(X, y, lr=0.02, epochs=epochs, rng=rng, decay=0.1)
    w_ls, b_ls = L.ols(X, y, fit_intercept=True)
    ls = xp.append(w_ls, b_ls)
    dist = [float(xp.linalg.norm(xp.append(w, bb) - ls)) for w, bb in ada.history]
    return ada, dist, ls, float((xp.sign(X @ ada.weights + ada.bias) == y).mean())


def measure(ctx) -> Measurement:
    from shenjing import linear as L

    n = 100 if ctx.quick else 400
    max_epochs = 200 if ctx.quick else 1000
    X, y, u, b = separable(ctx.rng, n, margin=0.1)
    y01 = (y + 1) / 2
    runs = {"sign": L.perceptron(X, y, max_epochs=max_epochs),  # Wang: sign output, ±1
            "step": L.perceptron(X, y01, output="step", max_epochs=max_epochs),  # Xu: step output, 0/1
            "printed": L.perceptron(X, y01, output="step", rule="as_printed", max_epochs=max_epochs)}
    bound = L.mistake_bound(X, y, u, b)
    acc = {"sign": accuracy(runs["sign"], X, y, False), "step": accuracy(runs["step"], X, y01, True),
           "printed": accuracy(runs["printed"], X, y01, True)}
    norm_printed = weight_norms(runs["printed"].history)
    # XOR: the truth table in a fixed order → an exact cycle of the weights
    xor_sign = L.perceptron(X4, XOR_PM, max_epochs=max_epochs)
    xor_step = L.perceptron(X4, [0, 1, 1, 0], output="step", max_epochs=max_epochs)
    epochs = 60 if ctx.quick else 200
    ada, dist, ls, acc_ada = adaline_vs_least_squares(X, y, epochs, ctx.rng)
    ada_xor, _, _, _ = adaline_vs_least_squares(xp.tile(X4, (25, 1)), xp.tile(XOR_PM, 25), epochs, ctx.rng)
    acc_ada_xor = float((xp.sign(X4 @ ada_xor.weights + ada_xor.bias) == xp.array(XOR_PM)).mean())

    sign, step, printed = runs["sign"], runs["step"], runs["printed"]
    measured = {
        "n_samples": n, "novikoff_bound": bound, "updates_correct_sign_rule": sign.n_updates,
        "updates_over_novikoff_bound": sign.n_updates / bound,
        "epochs_correct_sign_rule": sign.epochs, "updates_correct_step_rule": step.n_updates,
        "epochs_correct_step_rule": step.epochs,
        "mistakes_last_epoch_correct_rules": {"sign": sign.mistakes[-1], "step": step.mistakes[-1]},
        "accuracy_correct": acc["sign"], "accuracy_correct_step_rule": acc["step"],
        "as_printed_converged": printed.converged, "as_printed_epochs": printed.epochs,
        "as_printed_mistakes_last_epoch": printed.mistakes[-1], "as_printed_accuracy": acc["printed"],
        "as_printed_weight_norm_first_last": [norm_printed[1], norm_printed[-1]],
        "as_printed_weight_norm_growth": norm_printed[-1] / norm_printed[1],
        "xor_cycle": xor_sign.cycle, "xor_cycle_length_epochs": xor_sign.cycle_length, "xor_mistakes": xor_sign.mistakes,
        "xor_mistakes_last_epoch": xor_sign.mistakes[-1],
        "xor_step_form_cycle": xor_step.cycle, "xor_step_form_cycle_length": xor_step.cycle_length,
        "adaline_distance_to_least_squares_first_last": [dist[0], dist[-1]], "least_squares_norm": float(xp.linalg.norm(ls)),
        "adaline_distance_to_least_squares_relative": dist[-1] / float(xp.linalg.norm(ls)),
        "adaline_accuracy": acc_ada, "adaline_xor_accuracy": acc_ada_xor,
    }
    method = (f"{n} points of [−1, 1]² separated with margin 0.1 by a known line; shenjing.linear.perceptron from w = 0, "
              f"η = 1, samples in a fixed order, at most {max_epochs} epochs, in Wang's sign form (±1 labels) and Xu's step "
              "form (0/1), and the step form with the sign of eq. 1.74; Novikoff's bound with γ of the true line. XOR: the "
              "four points in a fixed order, same rule. ADALINE (LMS, η = 0.02/(1 + 0.1t), shuffled, "
              f"{epochs} epochs) against the least-squares fit of the ±1 targets, and on the XOR table repeated 25 times.")
    data = {"X": X, "y": y, "line": (u, b), "runs": runs, "acc": {**acc, "adaline": acc_ada}, "norm_printed": norm_printed,
            "ada": ada, "dist": dist, "xor": (xor_sign, xor_step)}
    return Measurement(measured, method, data=data)


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    training_figure(ctx, plt, m.data, m.measured["n_samples"])
    xor_cycle_figure(ctx, plt, *m.data["xor"])


def training_figure(ctx, plt, d: dict, n: int) -> None:
    """Mistakes per epoch of the three rules, the final decision lines, and ADALINE's distance to least squares."""
    X, y, (u, b), runs, acc, dist = d["X"], d["y"], d["line"], d["runs"], d["acc"], d["dist"]
    sign, step, printed, ada = runs["sign"], runs["step"], runs["printed"], d["ada"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), layout="constrained")
    ax = axes[0]
    ax.plot(range(1, len(sign.mistakes) + 1), sign.mistakes, "o-", label=f"w ← w + η d x (sign, ±1): stops, epoch {sign.epochs}")
    ax.plot(range(1, len(step.mistakes) + 1), step.mistakes, "s-", label=f"w ← w + η(d − y)x (step, 0/1): stops, epoch {step.epochs}")
    ax.plot(range(1, len(printed.mistakes) + 1), printed.mistakes, "-", color="tab:red", label="w ← w − η(d − y)x (Xu eq. 1.74): never stops")
    ax.set(xscale="log", xlabel="epoch", ylabel="mistakes in the epoch", title=f"Separable data (n = {n}): mistakes per epoch")
    ax.legend(fontsize=7)
    ax = axes[1]
    for cls, col in ((-1, "tab:blue"), (1, "tab:red")):
        ax.scatter(X[y == cls, 0], X[y == cls, 1], s=12, c=col, label=f"class {cls:+d}")
    xs = xp.linspace(-1, 1, 2)

    def line(w, bb, **kw):
        ax.plot(xs, -(w[0] * xs + bb) / w[1], **kw)

    line(u, b, color="k", lw=3, alpha=0.3, label="true separator")
    line(sign.weights, sign.bias, color="tab:green", label=f"perceptron (acc {acc['sign']:.2f})")
    line(ada.weights, ada.bias, color="tab:purple", ls="--", label=f"ADALINE (acc {acc['adaline']:.2f})")
    frac_pos = float(((X @ printed.weights + printed.bias) >= 0).mean())
    line(printed.weights, printed.bias, color="tab:red", ls=":",
         label=f"as printed (acc {acc['printed']:.2f}; class +1 for {frac_pos:.0%} of points)")
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="x1", ylabel="x2", aspect="equal", title="Decision lines after training")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    ax = axes[2]
    ax.semilogy(dist, "o-", ms=3, color="tab:purple", label="ADALINE ‖(w, b) − least squares‖")
    ax.semilogy(range(1, len(dist)), d["norm_printed"][1: len(dist)], color="tab:red", label="as printed: ‖(w, b)‖ grows")
    ax.set(xlabel="epoch", ylabel="norm", title="LMS tends to least squares; the printed rule diverges")
    ax.legend(fontsize=8)
    fig.suptitle("Perceptron (Xu §1.12, Wang section 3.I)")
    ctx.savefig(fig, "perceptron.png")


def xor_cycle_figure(ctx, plt, xor_sign, xor_step) -> None:
    """The XOR weights sample by sample over three epochs (each step one call of the rule on one sample)."""
    from shenjing import linear as L

    w, bb, steps = xp.zeros(2), 0.0, [(xp.zeros(2), 0.0)]
    for _ in range(3):
        for i in range(4):
            r = L.perceptron(X4[i:i + 1], [XOR_PM[i]], max_epochs=1, w0=w, b0=bb, detect_cycles=False)
            w, bb = r.history[-1]
            steps.append((w, bb))
    W = xp.array([xp.append(w, bb) for w, bb in steps])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k, name in enumerate(("w1", "w2", "b")):
        ax.plot(range(len(W)), W[:, k] + 0.03 * (k - 1), "o-", label=f"{name} (shifted {0.03 * (k - 1):+.2f} to stay visible)")
    for e in range(1, 3):
        ax.axvline(4 * e, color="gray", ls=":")
    ax.set(xlabel="update step (samples (0,0), (0,1), (1,0), (1,1) in turn; dotted: epoch ends)", ylabel="weight value",
           title=f"XOR: every epoch ends where it began (cycle of {xor_sign.cycle_length} epoch, "
                 f"{xor_sign.mistakes[0]} mistakes each)\nthe perceptron never converges (step form: cycle of {xor_step.cycle_length})")
    ax.legend()
    ctx.savefig(fig, "xor-cycle.png")
