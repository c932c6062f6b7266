"""batchnorm: batch normalisation allows larger learning rates and trains faster; eval mode uses the
running statistics (Fang §8.2 "批归一化", Nelson ch. 4 "每层的批量归一化").

Fang §8.2: on every batch B each hidden unit is normalised and rescaled,

    m_h = mean_B(h),  s_h² = mean_B((h − m_h)²),  ĥ = (h − m_h)/√(s_h² + ε),  h̃ = γ ĥ + β,

and its advantages are a stable forward pass and "学习率更高" (a smoother loss surface). Nelson
(Ioffe & Szegedy): BN "使训练更快，更安全" and allows higher learning rates; at test time there is no
batch, so the layer uses the mean and variance tracked during training,
m ← (1 − α) m + α m_B, v ← (1 − α) v + α v_B (unbiased), α = 0.1 (torch's momentum).

Part 1 — learning rates. An MLP 784-100-100-100-10 (ReLU, torch's default init) with and without
BatchNorm1d before every hidden ReLU (``nn.mlp(batch_norm=...)``), trained by plain SGD with the same
batches at lr ∈ {0.01, 0.03, 0.1, 0.3, 1, 3} on Fashion-MNIST (full: all 60 000/10 000 images, 2000 steps
of batch 128; quick: a random 6000/2000 subset, 300 steps of batch 64). Measured: training
cross-entropy after training (whole training subset, eval mode; a run whose minibatch loss becomes
non-finite or > 1000 is "diverged"), test accuracy. Claim holds if at every lr the BN net's training
loss is lower than the plain net's, and the largest lr at which a net is usable (not diverged, test
accuracy ≥ 70 %) is at least 3× larger with BN.

Part 2 — eval mode. On the first BN layer of the trained BN net (lr 0.1) and a test batch z = W₁x + b₁:
model.eval() outputs must equal (z − running_mean)/√(running_var + ε)·γ + β computed by hand
(max error < 1e-4) and differ from the batch-statistics formula (> 1e-2); the net's eval output for one
sample is the same in two batches with different other samples (< 1e-5) while in train mode it changes
(> 1e-3).

Part 3 — a fresh BatchNorm1d fed training batches of z (frozen W₁): with momentum α = 0.1 the running
mean starts at 0 and approaches the data mean μ like 1 − 0.9^t, then fluctuates at the noise floor
‖rm − μ‖ ≈ √(α/(2 − α) · Σ_j σ_j²/B); the cumulative average (momentum=None) keeps converging like
1/√(tB). Claim holds if the relative error is < 0.5 after 10 batches, its RMS over the second half is
≤ 1.5 × the predicted floor, and the cumulative mean and variance end within 3 % and 5 %.
"""

from __future__ import annotations

import copy
import math

from ...backend import xp
from ..core import experiment, single_threaded_blas
from .residual_depth import evaluate, fashion_mnist_flat, train_classifier

LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
HIDDEN = (100, 100, 100)


def build(bn: bool):
    """MLP 784-100-100-100-10 with ReLU, optionally BatchNorm1d before every hidden activation."""
    from shenjing import nn

    return nn.mlp([784, *HIDDEN, 10], activation="relu", batch_norm=bn)


def check_eval_mode(net, x_a, x_b) -> dict:
    """Eval-mode checks on the first BatchNorm1d of ``net`` (see the module docstring). ``x_a`` and
    ``x_b`` are two batches that share their first sample only."""
    import shenjing as sj
    from shenjing import nn

    lin = next(m for m in net.modules() if isinstance(m, nn.Linear))
    bn = next(m for m in net.modules() if isinstance(m, nn.BatchNorm1d))
    net.eval()
    with sj.no_grad():
        z = lin(x_a)
        eval_out = bn(z)._data.astype(xp.float64)
        zd = z._data.astype(xp.float64)
        g, b = bn.weight._data.astype(xp.float64), bn.bias._data.astype(xp.float64)
        rm, rv = bn.running_mean._data.astype(xp.float64), bn.running_var._data.astype(xp.float64)
        by_hand = (zd - rm) / xp.sqrt(rv + bn.eps) * g + b
        batch_stats = (zd - zd.mean(0)) / xp.sqrt(zd.var(0) + bn.eps) * g + b
        out_a, out_b = net(x_a)._data[0], net(x_b)._data[0]
        # train mode, but without touching the running statistics: work on a copy
        tnet = copy.deepcopy(net).train()
        tr_a, tr_b = tnet(x_a)._data[0], tnet(x_b)._data[0]
    return {
        "eval_vs_running_stats_formula_max_abs": float(xp.abs(eval_out - by_hand).max()),
        "eval_vs_batch_stats_formula_max_abs": float(xp.abs(eval_out - batch_stats).max()),
        "eval_sample_dependence_on_batch_max_abs": float(xp.abs(out_a - out_b).max()),
        "train_sample_dependence_on_batch_max_abs": float(xp.abs(tr_a - tr_b).max()),
        "running_mean_vs_batch_mean_max_abs": float(xp.abs(rm - zd.mean(0)).max()),
    }


def running_stats_convergence(lin, x, steps: int, batch: int, rng) -> dict:
    """Feed batches of z = lin(x) (frozen) to fresh BatchNorm1d layers (momentum 0.1 and cumulative);
    relative errors of running_mean / running_var against the data's mean / unbiased variance per step."""
    import shenjing as sj
    from shenjing import nn

    with sj.no_grad():
        z = lin(x)
    zd = z._data.astype(xp.float64)
    mu, var = zd.mean(0), zd.var(0, ddof=1)
    out: dict = {}
    for name, mom in (("momentum 0.1", 0.1), ("cumulative (momentum=None)", None)):
        bn = nn.BatchNorm1d(z.shape[1], momentum=mom).train()
        em, ev = [], []
        for _ in range(steps):
            idx = rng.choice(z.shape[0], batch, replace=False)
            with sj.no_grad():
                bn(z[idx])
            rm, rv = bn.running_mean._data.astype(xp.float64), bn.running_var._data.astype(xp.float64)
            em.append(float(xp.linalg.norm(rm - mu) / xp.linalg.norm(mu)))
            ev.append(float(xp.linalg.norm(rv - var) / xp.linalg.norm(var)))
        out[name] = {"mean_rel_error": em, "var_rel_error": ev, "running_mean": rm}
    out["data_mean"] = mu
    # sampling noise: the batch mean has variance var/B per unit; an EMA with factor α keeps α/(2 − α) of it,
    # the cumulative average after t batches 1/t of it
    noise = float(xp.sqrt(var.sum() / batch) / xp.linalg.norm(mu))
    out["ema_noise_floor"] = noise * math.sqrt(0.1 / (2 - 0.1))
    out["cumulative_noise"] = [noise / math.sqrt(k) for k in range(1, steps + 1)]
    return out


def train_all(data: tuple, steps: int, batch: int, eval_every: int, seed: int) -> tuple[dict, dict, dict]:
    """Train the plain and the BN net at every lr of :data:`LRS` (same init and batches); returns
    (histories, final numbers, nets), each keyed by (bn, lr)."""
    import shenjing as sj

    x, y, xte, yte = data
    hist, final, nets = {}, {}, {}
    for bn in (False, True):
        for lr in LRS:
            sj.manual_seed(seed)
            net = build(bn)
            h = train_classifier(net, data, steps, lr, batch, xp.random.default_rng(seed), eval_every=eval_every,
                                 n_eval=xte.shape[0])
            tl, te = float("inf"), 0.9
            if h["diverged"] is None:
                with xp.errstate(all="ignore"):
                    tl, _ = evaluate(net, x, y)
                    _, te = evaluate(net, xte, yte)
                tl = tl if math.isfinite(tl) else float("inf")
            hist[bn, lr], nets[bn, lr] = h, net
            final[bn, lr] = {"train_loss": tl, "test_accuracy": 1 - te, "diverged_at": h["diverged"]}
    return hist, final, nets


def _usable_lr(final: dict, lrs) -> float:
    """The largest lr whose run did not diverge and reached ≥ 70 % test accuracy (0 if none)."""
    ok = [lr for lr in lrs if final[lr]["diverged_at"] is None and final[lr]["test_accuracy"] >= 0.70]
    return max(ok) if ok else 0.0


@experiment(
    id="batchnorm",
    title="Batch normalisation: larger learning rates, faster training, running statistics at eval",
    title_zh="批归一化",
    source="Fang §8.2; Nelson ch. 4",
    claim="With BatchNorm1d an MLP trains faster (lower loss after the same SGD steps) and stays stable at learning "
          "rates where the plain net diverges or stalls; in eval mode BN uses the running mean and variance, so a "
          "sample's output no longer depends on the rest of the batch.",
)
def run(ctx) -> dict:
    import matplotlib.pyplot as plt

    import shenjing as sj

    if ctx.quick:
        n_train, n_test, steps, batch, eval_every, conv_steps = 6000, 2000, 300, 64, 25, 150
    else:
        n_train, n_test, steps, batch, eval_every, conv_steps = None, None, 2000, 128, 100, 300
    data = fashion_mnist_flat(n_train, n_test, ctx.seed)
    x, y, xte, yte = data
    with single_threaded_blas():  # small matrices: a BLAS thread pool on a shared machine only slows them down
        hist, final, nets = train_all(data, steps, batch, eval_every, ctx.seed)

    # eval mode on the BN net trained at lr 0.1
    bn_net = nets[True, 0.1]
    x_a = xte[:64]
    x_b = sj.cat([xte[:1], xte[64:127]], 0)
    evalchk = check_eval_mode(bn_net, x_a, x_b)
    lin = next(m for m in bn_net.modules() if isinstance(m, sj.nn.Linear))
    conv = running_stats_convergence(lin, x, conv_steps, batch, xp.random.default_rng(ctx.seed + 1))

    # Figure 1: loss curves per lr
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), sharey=True)
    for ax, lr in zip(axes.flat, LRS):
        for bn, col in ((False, "tab:red"), (True, "tab:blue")):
            h = hist[bn, lr]
            lab = ("with BN" if bn else "plain") + (f" (diverged at step {h['diverged']})" if h["diverged"] else "")
            ax.plot(h["step"], h["train_loss"], "o-", ms=3, color=col, label=lab)
            if h["diverged"]:
                ax.plot([h["diverged"]], [3.0], "x", ms=12, mew=3, color=col)
        ax.axhline(math.log(10), color="k", ls=":", lw=1)
        ax.set(title=f"SGD lr = {lr:g}", xlabel="step", ylabel="training cross-entropy", ylim=(0, 3.1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"MLP 784-100-100-100-10 with and without BatchNorm1d, Fashion-MNIST ({x.shape[0]} images): mean minibatch loss "
                 f"over the last {eval_every} steps; dotted: ln 10 (chance), ✕: diverged")
    fig.tight_layout()
    ctx.savefig(fig, "loss-curves.png")

    # Figure 2: final accuracy and loss vs lr
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for bn, col, mk in ((False, "tab:red", "o"), (True, "tab:blue", "s")):
        acc = [100 * final[bn, lr]["test_accuracy"] for lr in LRS]
        loss = [min(final[bn, lr]["train_loss"], 10.0) for lr in LRS]
        name = "with BatchNorm1d" if bn else "plain"
        axes[0].semilogx(LRS, acc, mk + "-", color=col, label=name)
        axes[1].semilogx(LRS, loss, mk + "-", color=col, label=name)
    axes[0].axhline(10, color="k", ls=":", lw=1, label="chance (diverged runs drawn here)")
    axes[0].axhline(70, color="gray", ls="--", lw=1, label="'usable' threshold 70 %")
    axes[0].set(xlabel="learning rate", ylabel="test accuracy (%)", title=f"Test accuracy after {steps} SGD steps", ylim=(0, 100))
    axes[1].set(xlabel="learning rate", ylabel="training cross-entropy (eval mode)", yscale="log",
                title="Training loss after training (diverged runs drawn at 10)")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    ctx.savefig(fig, "accuracy-vs-lr.png")

    # Figure 3: running statistics
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    t = xp.arange(1, conv_steps + 1)
    for name, col in (("momentum 0.1", "tab:blue"), ("cumulative (momentum=None)", "tab:green")):
        axes[0].semilogy(t, conv[name]["mean_rel_error"], color=col, label=f"running_mean, {name}")
        axes[0].semilogy(t, conv[name]["var_rel_error"], "--", color=col, lw=1, label=f"running_var, {name}")
    axes[0].semilogy(t, 0.9 ** t, "k:", label="0.9^t (bias of the EMA from 0)")
    axes[0].axhline(conv["ema_noise_floor"], color="tab:blue", ls="-.", lw=1, label="EMA noise floor √(α/(2−α)·Σσ²/B)/‖μ‖")
    axes[0].semilogy(t, conv["cumulative_noise"], color="tab:green", ls="-.", lw=1, label="cumulative: √(Σσ²/(tB))/‖μ‖")
    axes[0].set(xlabel="training batch t", ylabel="‖running − data‖ / ‖data‖", ylim=(1e-3, 2),
                title="Running statistics → data mean / variance of z = W₁x + b₁")
    axes[0].grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    mu, rm = conv["data_mean"], conv["momentum 0.1"]["running_mean"]
    axes[1].plot(mu, rm, ".", color="tab:blue")
    lo, hi = float(min(mu.min(), rm.min())), float(max(mu.max(), rm.max()))
    axes[1].plot([lo, hi], [lo, hi], "k-", lw=0.8, label="y = x")
    axes[1].set(xlabel="data mean of unit (whole training set)", ylabel=f"running_mean after {conv_steps} batches",
                title="Per unit: running_mean vs data mean (momentum 0.1)")
    axes[1].grid(alpha=0.3)
    axes[1].legend()
    fig.tight_layout()
    ctx.savefig(fig, "running-mean.png")

    lower_everywhere = all(final[True, lr]["train_loss"] < final[False, lr]["train_loss"] for lr in LRS)
    usable = {"plain": _usable_lr({lr: final[False, lr] for lr in LRS}, LRS),
              "bn": _usable_lr({lr: final[True, lr] for lr in LRS}, LRS)}
    lr_ok = usable["plain"] > 0 and usable["bn"] >= 3 * usable["plain"]
    eval_ok = (evalchk["eval_vs_running_stats_formula_max_abs"] < 1e-4 and evalchk["eval_vs_batch_stats_formula_max_abs"] > 1e-2
               and evalchk["eval_sample_dependence_on_batch_max_abs"] < 1e-5
               and evalchk["train_sample_dependence_on_batch_max_abs"] > 1e-3)
    ema_tail = float(xp.sqrt(xp.mean(xp.asarray(conv["momentum 0.1"]["mean_rel_error"][conv_steps // 2:]) ** 2)))
    cum = conv["cumulative (momentum=None)"]
    conv_ok = (ema_tail <= 1.5 * conv["ema_noise_floor"] and conv["momentum 0.1"]["mean_rel_error"][9] < 0.5
               and cum["mean_rel_error"][-1] < 0.03 and cum["var_rel_error"][-1] < 0.05)
    return {
        "measured": {
            "n_train": int(x.shape[0]), "n_test": int(xte.shape[0]), "steps": steps, "batch": batch, "lrs": list(LRS),
            "final": {("bn" if bn else "plain"): {f"{lr:g}": final[bn, lr] for lr in LRS} for bn in (False, True)},
            "bn_loss_lower_at_every_lr": bool(lower_everywhere),
            "largest_usable_lr": usable,
            "eval_mode": evalchk,
            "running_stats": {
                "ema_mean_rel_error_at_t10": conv["momentum 0.1"]["mean_rel_error"][9],
                "ema_mean_rel_error_rms_second_half": ema_tail, "ema_noise_floor_predicted": conv["ema_noise_floor"],
                "ema_var_rel_error_final": conv["momentum 0.1"]["var_rel_error"][-1],
                "cumulative_mean_rel_error_final": cum["mean_rel_error"][-1],
                "cumulative_var_rel_error_final": cum["var_rel_error"][-1], "batches": conv_steps},
            "verdicts": {"faster": bool(lower_everywhere), "larger_lr": bool(lr_ok), "eval_mode": bool(eval_ok),
                         "running_stats": bool(conv_ok)},
        },
        "verdict": bool(lower_everywhere and lr_ok and eval_ok and conv_ok),
        "method": "Same init, batches and SGD steps for the plain and the BN MLP at each lr; training loss on the whole "
                  "training subset in eval mode after training. Claim holds if (1) the BN loss is lower at every lr, (2) "
                  "the largest lr with test accuracy >= 70 % and no divergence (loss non-finite or > 1000) is >= 3x larger "
                  "with BN, (3) on the first BN layer eval output = (z − running_mean)/√(running_var + ε)·γ + β within "
                  "1e-4, differs from the batch-statistics formula by > 1e-2, a sample's eval output changes by < 1e-5 "
                  "when the other samples of its batch change (train mode: > 1e-3), and (4) a fresh BN layer's running "
                  "mean (α = 0.1) is within 50 % of the data mean after 10 batches and then within 1.5x the predicted "
                  "noise floor √(α/(2−α)·Σσ²/B)/‖μ‖ (RMS relative error over the second half), and the cumulative "
                  "(momentum=None) mean and variance end within 3 % and 5 %.",
    }
