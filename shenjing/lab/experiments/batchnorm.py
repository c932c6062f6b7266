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
non-finite or > 1000 is "diverged"), test accuracy. Checked: at every lr the BN net's training loss
is lower than the plain net's, and the largest lr at which a net is usable (not diverged, test
accuracy ≥ 70 %) is several times larger with BN.

Part 2 — eval mode. On the first BN layer of the trained BN net (lr 0.1) and a test batch z = W₁x + b₁:
model.eval() outputs must equal (z − running_mean)/√(running_var + ε)·γ + β computed by hand and
differ from the batch-statistics formula; the net's eval output for one sample is the same in two
batches with different other samples while in train mode it changes.

Part 3 — a fresh BatchNorm1d fed training batches of z (frozen W₁): with momentum α = 0.1 the running
mean starts at 0 and approaches the data mean μ like 1 − 0.9^t, then fluctuates at the noise floor
‖rm − μ‖ ≈ √(α/(2 − α) · Σ_j σ_j²/B); the cumulative average (momentum=None) keeps converging like
1/√(tB). Checked: the relative error after 10 batches, its RMS over the second half against the
predicted floor, and the cumulative mean's and variance's final relative errors.
"""

from __future__ import annotations

import copy
import math

from ...backend import xp
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement, single_threaded_blas
from .residual_depth import fashion_mnist_flat, train_and_score

LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
HIDDEN = (100, 100, 100)
USABLE_ACCURACY = 0.70  # a run is "usable" if it did not diverge and reached this test accuracy
#: n_train/n_test None: all images; conv_steps: batches fed to the fresh BN layers of part 3
QUICK = {"n_train": 6000, "n_test": 2000, "steps": 300, "batch": 64, "eval_every": 25, "conv_steps": 150}
FULL = {"n_train": None, "n_test": None, "steps": 2000, "batch": 128, "eval_every": 100, "conv_steps": 300}
EMA, CUMULATIVE = "momentum 0.1", "cumulative (momentum=None)"

EXPERIMENT = Experiment(
    id="batchnorm",
    title="Batch normalisation: larger learning rates, faster training, running statistics at eval",
    title_zh="批归一化",
    source="Fang §8.2; Nelson ch. 4",
    claim="With BatchNorm1d an MLP trains faster (lower loss after the same SGD steps) and stays stable at learning "
          "rates where the plain net diverges or stalls; in eval mode BN uses the running mean and variance, so a "
          "sample's output no longer depends on the rest of the batch.",
    claim_zh="加入 BatchNorm1d 的 MLP 训练更快 (相同 SGD 步数后损失更低), 并在普通网络发散或停滞的学习率下保持稳定; 评估模式下 "
             "BN 使用滑动均值与方差, 因此一个样本的输出不再依赖批中的其他样本.",
    checks=(
        Check("train_loss_ratio_bn_over_plain", "<", 1.0, "at every lr, the BN net's training loss ÷ the plain net's",
              what_zh="每个学习率下, BN 网络的训练损失 ÷ 普通网络的"),
        Check("largest_usable_lr.plain", ">", 0, "the plain net's largest usable lr", what_zh="普通网络最大的可用学习率"),
        Check("usable_lr_ratio_bn_over_plain", ">=", 3, "the BN net's largest usable lr ÷ the plain net's", what_zh="BN 网络最大的可用学习率 ÷ 普通网络的"),
        Check("eval_mode.eval_vs_running_stats_formula_max_abs", "<", 1e-4,
              "max |eval output − (z − running_mean)/√(running_var + ε)·γ + β|", what_zh="max |评估输出 − (z − running_mean)/√(running_var + ε)·γ + β|"),
        Check("eval_mode.eval_vs_batch_stats_formula_max_abs", ">", 1e-2, "max |eval output − the batch-statistics formula|",
              what_zh="max |评估输出 − 批统计量公式|"),
        Check("eval_mode.eval_sample_dependence_on_batch_max_abs", "<", 1e-5,
              "the largest change of a sample's eval output when the rest of its batch changes", what_zh="批中其余样本改变时一个样本评估输出的最大变化"),
        Check("eval_mode.train_sample_dependence_on_batch_max_abs", ">", 1e-3, "the same change in train mode", what_zh="训练模式下的同一变化"),
        Check("running_stats.ema_mean_rel_error_at_t10", "<", 0.5, "the relative error of running_mean (α = 0.1) after 10 batches",
              what_zh="10 个批次后 running_mean (α = 0.1) 的相对误差"),
        Check("running_stats.ema_mean_rel_error_rms_over_noise_floor", "<=", 1.5,
              "its RMS over the second half of the batches ÷ the predicted noise floor", what_zh="它在后一半批次上的 RMS ÷ 预测的噪声下限"),
        Check("running_stats.cumulative_mean_rel_error_final", "<", 0.03, "the cumulative running_mean's final relative error",
              what_zh="累积 running_mean 最终的相对误差"),
        Check("running_stats.cumulative_var_rel_error_final", "<", 0.05, "the cumulative running_var's final relative error",
              what_zh="累积 running_var 最终的相对误差"),
    ),
    datasets=("fashion-mnist",),
)


def build(bn: bool):
    """MLP 784-100-100-100-10 with ReLU, optionally BatchNorm1d before every hidden activation."""
    from shenjing import nn

    return nn.mlp([784, *HIDDEN, 10], activation="relu", batch_norm=bn)


def as64(t) -> xp.ndarray:
    """The values of a tensor (parameter, buffer or output) as a float64 array."""
    return t.array.astype(xp.float64)


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
        eval_out, zd = as64(bn(z)), as64(z)
        g, b, rm, rv = as64(bn.weight), as64(bn.bias), as64(bn.running_mean), as64(bn.running_var)
        by_hand = (zd - rm) / xp.sqrt(rv + bn.eps) * g + b
        batch_stats = (zd - zd.mean(0)) / xp.sqrt(zd.var(0) + bn.eps) * g + b
        out_a, out_b = net(x_a).numpy()[0], net(x_b).numpy()[0]
        # train mode, but without touching the running statistics: work on a copy
        tnet = copy.deepcopy(net).train()
        tr_a, tr_b = tnet(x_a).numpy()[0], tnet(x_b).numpy()[0]
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
    zd = as64(z)
    mu, var = zd.mean(0), zd.var(0, ddof=1)
    out: dict = {}
    for name, mom in ((EMA, 0.1), (CUMULATIVE, None)):
        bn = nn.BatchNorm1d(z.shape[1], momentum=mom).train()
        em, ev = [], []
        for _ in range(steps):
            idx = rng.choice(z.shape[0], batch, replace=False)
            with sj.no_grad():
                bn(z[idx])
            rm, rv = as64(bn.running_mean), as64(bn.running_var)
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
    (histories, final numbers, nets), each keyed by (bn, lr). A diverged run counts as chance (test
    accuracy 0.1) and training loss ∞."""
    hist, final, nets = {}, {}, {}
    for bn in (False, True):
        for lr in LRS:
            h, f, net = train_and_score(lambda bn=bn: build(bn), data, steps, lr, batch, seed, eval_every=eval_every)
            hist[bn, lr], nets[bn, lr] = h, net
            test_error = 0.9 if h["diverged"] is not None else f["test_error"]
            final[bn, lr] = {"train_loss": f["train_loss"], "test_accuracy": 1 - test_error, "diverged_at": h["diverged"]}
    return hist, final, nets


def usable_lr(final: dict, lrs) -> float:
    """The largest lr whose run did not diverge and reached ≥ :data:`USABLE_ACCURACY` test accuracy (0 if none)."""
    ok = [lr for lr in lrs if final[lr]["diverged_at"] is None and final[lr]["test_accuracy"] >= USABLE_ACCURACY]
    return max(ok) if ok else 0.0


def running_stats_numbers(conv: dict, steps: int) -> dict:
    """The numbers of part 3 from :func:`running_stats_convergence`."""
    ema, cum = conv[EMA], conv[CUMULATIVE]
    ema_tail = float(xp.sqrt(xp.mean(xp.asarray(ema["mean_rel_error"][steps // 2:]) ** 2)))
    return {"ema_mean_rel_error_at_t10": ema["mean_rel_error"][9], "ema_mean_rel_error_rms_second_half": ema_tail,
            "ema_noise_floor_predicted": conv["ema_noise_floor"], "ema_mean_rel_error_rms_over_noise_floor": ema_tail / conv["ema_noise_floor"],
            "ema_var_rel_error_final": ema["var_rel_error"][-1], "cumulative_mean_rel_error_final": cum["mean_rel_error"][-1],
            "cumulative_var_rel_error_final": cum["var_rel_error"][-1], "batches": steps}


def measure(ctx) -> Measurement:
    import shenjing as sj

    cfg = QUICK if ctx.quick else FULL
    data = fashion_mnist_flat(cfg["n_train"], cfg["n_test"], ctx.seed)
    x, _, xte, _ = data
    with single_threaded_blas():  # small matrices: a BLAS thread pool on a shared machine only slows them down
        hist, final, nets = train_all(data, cfg["steps"], cfg["batch"], cfg["eval_every"], ctx.seed)
    bn_net = nets[True, 0.1]  # eval mode on the BN net trained at lr 0.1
    evalchk = check_eval_mode(bn_net, xte[:64], sj.cat([xte[:1], xte[64:127]], 0))
    lin = next(m for m in bn_net.modules() if isinstance(m, sj.nn.Linear))
    conv = running_stats_convergence(lin, x, cfg["conv_steps"], cfg["batch"], xp.random.default_rng(ctx.seed + 1))
    usable = {name: usable_lr({lr: final[bn, lr] for lr in LRS}, LRS) for name, bn in (("plain", False), ("bn", True))}
    measured = {
        "n_train": int(x.shape[0]), "n_test": int(xte.shape[0]), "steps": cfg["steps"], "batch": cfg["batch"], "lrs": list(LRS),
        "final": {("bn" if bn else "plain"): {f"{lr:g}": final[bn, lr] for lr in LRS} for bn in (False, True)},
        "train_loss_ratio_bn_over_plain": {f"{lr:g}": final[True, lr]["train_loss"] / final[False, lr]["train_loss"] for lr in LRS},
        "largest_usable_lr": usable,
        "usable_lr_ratio_bn_over_plain": usable["bn"] / usable["plain"] if usable["plain"] > 0 else float("nan"),
        "eval_mode": evalchk, "running_stats": running_stats_numbers(conv, cfg["conv_steps"]),
    }
    method = (f"MLP 784-100-100-100-10 (ReLU) with and without BatchNorm1d, the same init, batches and {cfg['steps']} plain SGD "
              f"steps (batch {cfg['batch']}) at each lr of {', '.join(f'{lr:g}' for lr in LRS)}, on {x.shape[0]} Fashion-MNIST "
              f"training images; training loss on the whole training subset in eval mode after training (∞ if the run "
              f"diverged: minibatch loss non-finite or > 1000); test accuracy on {xte.shape[0]} images. An lr is usable if the "
              f"run did not diverge and reached ≥ {USABLE_ACCURACY:.0%} test accuracy. Eval mode on the first BN layer of the "
              "net trained at lr 0.1, with a test batch of 64 and a second batch sharing only its first sample. Running "
              f"statistics: {cfg['conv_steps']} training batches of z = W₁x + b₁ fed to fresh BN layers (α = 0.1, and "
              "cumulative); relative error ‖running − data‖/‖data‖, the EMA's predicted noise floor √(α/(2−α)·Σσ²/B)/‖μ‖.")
    return Measurement(measured, method, data={"hist": hist, "final": final, "conv": conv, "cfg": cfg})


def draw_loss_curves(ctx, hist: dict, n_train: int, eval_every: int) -> None:
    plt = pyplot()
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
    fig.suptitle(f"MLP 784-100-100-100-10 with and without BatchNorm1d, Fashion-MNIST ({n_train} images): mean minibatch loss "
                 f"over the last {eval_every} steps; dotted: ln 10 (chance), ✕: diverged")
    fig.tight_layout()
    ctx.savefig(fig, "loss-curves.png")


def draw_accuracy_vs_lr(ctx, final: dict, steps: int) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for bn, col, mk in ((False, "tab:red", "o"), (True, "tab:blue", "s")):
        acc = [100 * final[bn, lr]["test_accuracy"] for lr in LRS]
        loss = [min(final[bn, lr]["train_loss"], 10.0) for lr in LRS]
        name = "with BatchNorm1d" if bn else "plain"
        axes[0].semilogx(LRS, acc, mk + "-", color=col, label=name)
        axes[1].semilogx(LRS, loss, mk + "-", color=col, label=name)
    axes[0].axhline(10, color="k", ls=":", lw=1, label="chance (diverged runs drawn here)")
    axes[0].axhline(100 * USABLE_ACCURACY, color="gray", ls="--", lw=1, label=f"'usable' threshold {USABLE_ACCURACY:.0%}")
    axes[0].set(xlabel="learning rate", ylabel="test accuracy (%)", title=f"Test accuracy after {steps} SGD steps", ylim=(0, 100))
    axes[1].set(xlabel="learning rate", ylabel="training cross-entropy (eval mode)", yscale="log",
                title="Training loss after training (diverged runs drawn at 10)")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    ctx.savefig(fig, "accuracy-vs-lr.png")


def draw_running_mean(ctx, conv: dict, steps: int) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    t = xp.arange(1, steps + 1)
    for name, col in ((EMA, "tab:blue"), (CUMULATIVE, "tab:green")):
        axes[0].semilogy(t, conv[name]["mean_rel_error"], color=col, label=f"running_mean, {name}")
        axes[0].semilogy(t, conv[name]["var_rel_error"], "--", color=col, lw=1, label=f"running_var, {name}")
    axes[0].semilogy(t, 0.9 ** t, "k:", label="0.9^t (bias of the EMA from 0)")
    axes[0].axhline(conv["ema_noise_floor"], color="tab:blue", ls="-.", lw=1, label="EMA noise floor √(α/(2−α)·Σσ²/B)/‖μ‖")
    axes[0].semilogy(t, conv["cumulative_noise"], color="tab:green", ls="-.", lw=1, label="cumulative: √(Σσ²/(tB))/‖μ‖")
    axes[0].set(xlabel="training batch t", ylabel="‖running − data‖ / ‖data‖", ylim=(1e-3, 2),
                title="Running statistics → data mean / variance of z = W₁x + b₁")
    axes[0].grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    mu, rm = conv["data_mean"], conv[EMA]["running_mean"]
    axes[1].plot(mu, rm, ".", color="tab:blue")
    lo, hi = float(min(mu.min(), rm.min())), float(max(mu.max(), rm.max()))
    axes[1].plot([lo, hi], [lo, hi], "k-", lw=0.8, label="y = x")
    axes[1].set(xlabel="data mean of unit (whole training set)", ylabel=f"running_mean after {steps} batches",
                title="Per unit: running_mean vs data mean (momentum 0.1)")
    axes[1].grid(alpha=0.3)
    axes[1].legend()
    fig.tight_layout()
    ctx.savefig(fig, "running-mean.png")


def figures(ctx, m: Measurement) -> None:
    d, cfg = m.data, m.data["cfg"]
    draw_loss_curves(ctx, d["hist"], m.measured["n_train"], cfg["eval_every"])
    draw_accuracy_vs_lr(ctx, d["final"], cfg["steps"])
    draw_running_mean(ctx, d["conv"], cfg["conv_steps"])
