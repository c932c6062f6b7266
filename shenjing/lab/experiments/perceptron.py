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
from ..core import experiment


def _separable(rng, n, margin):
    """n points in [−1, 1]² at distance > margin from the line x1 − 2x2 + 0.3 = 0, labelled by its side (±1)."""
    u, b = xp.array([1.0, -2.0]), 0.3
    out = xp.zeros((0, 2))
    while len(out) < n:
        X = rng.uniform(-1, 1, (4 * n, 2))
        out = xp.vstack([out, X[xp.abs(X @ u + b) / xp.linalg.norm(u) > margin]])
    X = out[:n]
    return X, xp.sign(X @ u + b), u, b


@experiment(
    id="perceptron",
    title="The perceptron rule (correct and as printed) and ADALINE",
    title_zh="感知机学习规则 (正确符号与讲义印刷形式) 与 ADALINE",
    source="Xu §1.12 (eq. 1.72–1.75), Wang 三.I",
    claim="Rosenblatt's rule w ← w + η(d − y)x converges on linearly separable data within Novikoff's (R/γ)² mistakes and "
          "cycles forever on XOR; the sign printed in Xu eq. 1.74 (w ← w − η(d − y)x) does not converge; ADALINE's "
          "LMS weights approach the least-squares solution.",
)
def run(ctx) -> dict:
    from shenjing import linear as L
    from shenjing.viz.plots import _plt

    n = 100 if ctx.quick else 400
    max_epochs = 200 if ctx.quick else 1000
    X, y, u, b = _separable(ctx.rng, n, margin=0.1)
    y01 = (y + 1) / 2

    sign_rule = L.perceptron(X, y, max_epochs=max_epochs)  # Wang: sign output, ±1
    step_rule = L.perceptron(X, y01, output="step", max_epochs=max_epochs)  # Xu: step output, 0/1
    printed = L.perceptron(X, y01, output="step", rule="as_printed", max_epochs=max_epochs)
    bound = L.mistake_bound(X, y, u, b)

    def acc(res, step):
        z = X @ res.weights + res.bias
        return float(((z >= 0) == (y01 == 1)).mean()) if step else float((xp.sign(z) == y).mean())

    acc_sign, acc_step, acc_printed = acc(sign_rule, False), acc(step_rule, True), acc(printed, True)
    norm_printed = [float(xp.linalg.norm(xp.append(w, bb))) for w, bb in printed.history]

    # XOR: the truth table in a fixed order → an exact cycle of the weights
    X4 = xp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    xor_sign = L.perceptron(X4, [-1, 1, 1, -1], max_epochs=max_epochs)
    xor_step = L.perceptron(X4, [0, 1, 1, 0], output="step", max_epochs=max_epochs)

    # ADALINE / LMS against the least-squares solution of the ±1 targets
    epochs = 60 if ctx.quick else 200
    ada = L.adaline(X, y, lr=0.02, epochs=epochs, rng=ctx.rng, decay=0.1)
    w_ls, b_ls = L.ols(X, y, fit_intercept=True)
    ls = xp.append(w_ls, b_ls)
    dist = [float(xp.linalg.norm(xp.append(w, bb) - ls)) for w, bb in ada.history]
    acc_ada = float((xp.sign(X @ ada.weights + ada.bias) == y).mean())
    ada_xor = L.adaline(xp.tile(X4, (25, 1)), xp.tile([-1.0, 1, 1, -1], 25), lr=0.02, epochs=epochs, rng=ctx.rng, decay=0.1)
    acc_ada_xor = float((xp.sign(X4 @ ada_xor.weights + ada_xor.bias) == xp.array([-1.0, 1, 1, -1])).mean())

    # ---- figures
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), layout="constrained")
    ax = axes[0]
    ax.plot(range(1, len(sign_rule.mistakes) + 1), sign_rule.mistakes, "o-", label=f"w ← w + η d x (sign, ±1): stops, epoch {sign_rule.epochs}")
    ax.plot(range(1, len(step_rule.mistakes) + 1), step_rule.mistakes, "s-", label=f"w ← w + η(d − y)x (step, 0/1): stops, epoch {step_rule.epochs}")
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
    line(sign_rule.weights, sign_rule.bias, color="tab:green", label=f"perceptron (acc {acc_sign:.2f})")
    line(ada.weights, ada.bias, color="tab:purple", ls="--", label=f"ADALINE (acc {acc_ada:.2f})")
    frac_pos = float(((X @ printed.weights + printed.bias) >= 0).mean())
    line(printed.weights, printed.bias, color="tab:red", ls=":",
         label=f"as printed (acc {acc_printed:.2f}; class +1 for {frac_pos:.0%} of points)")
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="x1", ylabel="x2", aspect="equal", title="Decision lines after training")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    ax = axes[2]
    ax.semilogy(dist, "o-", ms=3, color="tab:purple", label="ADALINE ‖(w, b) − least squares‖")
    ax.semilogy(range(1, len(dist)), norm_printed[1: len(dist)], color="tab:red", label="as printed: ‖(w, b)‖ grows")
    ax.set(xlabel="epoch", ylabel="norm", title="LMS tends to least squares; the printed rule diverges")
    ax.legend(fontsize=8)
    fig.suptitle("Perceptron (Xu §1.12, Wang section 3.I)")
    ctx.savefig(fig, "perceptron.png")

    # the XOR weights sample by sample over three epochs (each step one call of the rule on one sample)
    yx = [-1.0, 1.0, 1.0, -1.0]
    w, bb, steps = xp.zeros(2), 0.0, [(xp.zeros(2), 0.0)]
    for _ in range(3):
        for i in range(4):
            r = L.perceptron(X4[i:i + 1], [yx[i]], max_epochs=1, w0=w, b0=bb, detect_cycles=False)
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

    verdict = (sign_rule.converged and step_rule.converged and sign_rule.n_updates <= bound and acc_sign == 1.0 and acc_step == 1.0
               and not printed.converged and printed.mistakes[-1] > 0 and norm_printed[-1] > 10 * norm_printed[1]
               and xor_sign.cycle and not xor_sign.converged and xor_step.cycle
               and dist[-1] < 0.05 * float(xp.linalg.norm(ls)) and acc_ada >= 0.95 and acc_ada_xor <= 0.75)
    return {
        "measured": {
            "n_samples": n, "novikoff_bound": bound, "updates_correct_sign_rule": sign_rule.n_updates,
            "epochs_correct_sign_rule": sign_rule.epochs, "updates_correct_step_rule": step_rule.n_updates,
            "epochs_correct_step_rule": step_rule.epochs, "accuracy_correct": acc_sign,
            "as_printed_converged": printed.converged, "as_printed_epochs": printed.epochs,
            "as_printed_mistakes_last_epoch": printed.mistakes[-1], "as_printed_accuracy": acc_printed,
            "as_printed_weight_norm_first_last": [norm_printed[1], norm_printed[-1]],
            "xor_cycle": xor_sign.cycle, "xor_cycle_length_epochs": xor_sign.cycle_length, "xor_mistakes": xor_sign.mistakes,
            "xor_step_form_cycle_length": xor_step.cycle_length,
            "adaline_distance_to_least_squares_first_last": [dist[0], dist[-1]], "least_squares_norm": float(xp.linalg.norm(ls)),
            "adaline_accuracy": acc_ada, "adaline_xor_accuracy": acc_ada_xor,
        },
        "verdict": bool(verdict),
        "method": f"{n} points separated with margin 0.1 by a known line; shenjing.linear.perceptron from w = 0, η = 1, fixed order, "
                  f"≤ {max_epochs} epochs, in Wang's sign form and Xu's step form, and the step form with the sign "
                  "of eq. 1.74. Holds if both correct forms reach an error-free epoch with updates ≤ (R/γ)² (γ of the true line), "
                  "the printed form still errs after the last epoch with its weight norm ×10, the XOR weights repeat exactly, and "
                  f"ADALINE (η = 0.02/(1 + 0.1t), {epochs} epochs) ends within 5% of ‖least squares‖ with accuracy ≥ 0.95 (≤ 0.75 on XOR).",
    }
