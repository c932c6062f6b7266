"""residual-depth: deeper plain nets train worse, deeper residual nets train better — a small analogue
of He et al.'s 18/34 layers — and the variance doubling per residual block with its 1/√2 fix
(Xu §1.10.2 Fig. 1.12 "残差连接提升深层网络的训练"; Fang §8.1–8.2 "残差连接", "梯度爆炸").

Xu §1.10.2 (He et al. 2016, ImageNet): the plain 34-layer net has a higher error than the
plain 18-layer one (28.54 % vs 27.94 %), while with residual connections F_{l+1} = σ(W_l F_l + b_l) + F_l
the 34-layer net beats the 18-layer one (25.03 % vs 27.88 %). Fang §8.2: the residual block
h = x + f(x) adds f(x) to x, so if f keeps the variance (He init) and is uncorrelated with x,

    Var(h) = Var(x) + Var(f(x)) = 2 Var(x)   ⇒   Var(h_k) = 2^k Var(h_0)   (指数级增长),

and multiplying every block by 1/√2, h = (x + f(x))/√2, keeps Var(h_k) = Var(h_0).

Part 1 — training (Fashion-MNIST, 784 → 10; full: all images, width 64, 3000 steps of batch 128, lr
0.005; quick: a random 6000/2000 subset, width 48, 400 steps of batch 64, lr 0.01). "L layers" counts
the Linear layers, as He et al.: plain-L = L Linear layers with ReLU between (``nn.mlp``); residual-L =
stem Linear(784, w), (L − 2)/2 blocks h = x + W₂ ReLU(W₁ x + b₁) + b₂ (``nn.residual_mlp``), head
Linear(w, 10). He init (Fang): N(0, 2/fan_in) for layers fed by a ReLU, N(0, 1/fan_in) for the
others, zero biases; the residual nets' W₂ start at 0, so every block is the identity at init (the
zero-init residual of Goyal et al. 2017; He et al. tame the branches with BN). residual-sqrt2-L uses the
notes' fix instead, h = (x + f(x))/√2 with W₂ He-initialised; it is trained and reported but not judged:
it keeps the forward variance (part 2) but damps the identity path by 2^(−K/2), and in our runs its
34-layer net trains no better than its 18-layer one (quick mode: 10–20 % higher loss). All nets get the
same SGD (momentum 0.9, lr ÷ 10 after 75 % of the steps), init seed and batches. Measured: cross-entropy
and error on the whole training subset after training (the degradation problem is about training error;
a diverged net counts as loss ∞), test error, curves. The checks: plain-34 has a clearly higher loss
than plain-18, residual-34 is at least as good as residual-18 (a 2 % tolerance for SGD noise), and
residual-34 beats plain-34 (the ratios of the losses).

Part 2 — variance per block at init: a stream of N(0, 1) inputs through K blocks h = s·(x + f(x)),
f = W₂ ReLU(W₁ x) with W₁ ~ N(0, 1/w) and W₂ ~ N(0, 2/w) (so Var f(x) = Var x), s = 1 or 1/√2,
float64; Var(h_k) per block k, averaged (in log) over several random inits. The slope of log₂ Var(h_k)
against k is ≈ 1 without scaling and ≈ 0 with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from ...backend import xp
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement, single_threaded_blas

NETS = ("plain-18", "plain-34", "residual-18", "residual-34", "residual-sqrt2-18", "residual-sqrt2-34")
MOMENTUM, LR_DROP = 0.9, 0.75
#: training (n_train/n_test None: all images) and the variance measurement, per mode; in full mode
#: lr 0.005, as at lr 0.01 the plain 34-layer net diverges within the 3000 steps
QUICK = {"n_train": 6000, "n_test": 2000, "width": 48, "steps": 400, "batch": 64, "lr": 0.01, "eval_every": 40,
         "var_width": 128, "var_batch": 256, "var_blocks": 16, "var_inits": 4}
FULL = {"n_train": None, "n_test": None, "width": 64, "steps": 3000, "batch": 128, "lr": 0.005, "eval_every": 150,
        "var_width": 512, "var_batch": 1024, "var_blocks": 24, "var_inits": 8}
PLAIN, SCALED = "x + f(x)", "(x + f(x))/sqrt2"

EXPERIMENT = Experiment(
    id="residual-depth",
    title="Residual depth: plain 18 vs 34 layers, residual 18 vs 34, and the 1/√2 variance fix",
    title_zh="残差连接与网络深度",
    source="Xu Fig. 1.12 (§1.10.2); Fang §8.2",
    claim="Like He et al.'s 18/34-layer nets (Fig. 1.12), the deeper plain net trains worse than the shallower one while "
          "the deeper residual net trains at least as well; at init each residual block h = x + f(x) doubles the "
          "variance, and h = (x + f(x))/√2 keeps it constant.",
    claim_zh="与 He 等人的 18/34 层网络 (图 1.12) 一样, 更深的普通网络比浅的训练得更差, 而更深的残差网络训练得至少一样好; 初始化时每个残差块 "
             "h = x + f(x) 使方差加倍, 而 h = (x + f(x))/√2 使其保持不变.",
    checks=(
        Check("train_loss_ratio_plain_34_over_18", ">", 1.1, "the training loss of plain-34 ÷ that of plain-18",
              what_zh="普通 34 层网络的训练损失 ÷ 普通 18 层的"),
        Check("train_loss_ratio_residual_34_over_18", "<=", 1.02, "the training loss of residual-34 ÷ that of residual-18",
              what_zh="残差 34 层网络的训练损失 ÷ 残差 18 层的"),
        Check("train_loss_ratio_residual_34_over_plain_34", "<", 1.0, "the training loss of residual-34 ÷ that of plain-34",
              what_zh="残差 34 层网络的训练损失 ÷ 普通 34 层的"),
        Check(f"log2_variance_slope_per_block.{PLAIN}", ">=", 0.85, "the slope of log₂ Var(h_k) per block for h = x + f(x)",
              what_zh="h = x + f(x) 时 log₂ Var(h_k) 每块的斜率"),
        Check(f"log2_variance_slope_per_block.{PLAIN}", "<=", 1.15, "that slope", what_zh="该斜率"),
        Check(f"log2_variance_slope_per_block.{SCALED}", ">", -0.15, "the slope for h = (x + f(x))/√2", what_zh="h = (x + f(x))/√2 时的斜率"),
        Check(f"log2_variance_slope_per_block.{SCALED}", "<", 0.15, "that slope", what_zh="该斜率"),
    ),
    datasets=("fashion-mnist",),
)


def fashion_mnist_flat(n_train: int | None, n_test: int | None, seed: int) -> tuple:
    """The images of ``cnn_vs_mlp.fashion_subsets`` flattened to float32 (N, 784) tensors, with int64
    labels: (x_train, y_train, x_test, y_test)."""
    import shenjing as sj

    from .cnn_vs_mlp import fashion_subsets

    d = fashion_subsets(n_train, n_test, seed)
    (x, y), (xt, yt) = d["train"], d["test"]
    return sj.tensor(x.reshape(len(x), 784)), sj.tensor(y), sj.tensor(xt.reshape(len(xt), 784)), sj.tensor(yt)


def error_rate(out, y) -> float:
    """The fraction of rows of the logits ``out`` whose argmax is not the label ``y``."""
    return float((out.array.argmax(axis=1) != y.array).mean())


def evaluate(net, x, y, batch: int = 2000) -> tuple[float, float]:
    """(mean cross-entropy, error rate) of ``net`` on (x, y), without gradients, in the net's current mode."""
    import shenjing as sj
    import shenjing.nn.functional as F

    total, wrong = 0.0, 0
    with sj.no_grad():
        for i in range(0, x.shape[0], batch):
            out = net(x[i:i + batch])
            yb = y[i:i + batch]
            total += float(F.cross_entropy(out, yb, reduction="sum").item())
            wrong += int((out.numpy().argmax(axis=1) != yb.numpy()).sum())
    return total / x.shape[0], wrong / x.shape[0]


def batch_indices(n: int, batch: int, rng) -> Iterator[xp.ndarray]:
    """Endless mini-batches of indices into ``n`` samples: a fresh permutation per epoch, the last
    incomplete batch of each epoch dropped."""
    perm, pos = rng.permutation(n), 0
    while True:
        if pos + batch > n:
            perm, pos = rng.permutation(n), 0
        yield perm[pos:pos + batch]
        pos += batch


def record(hist: dict, step: int, running: list[tuple[float, float]], net, x, y) -> None:
    """Append to ``hist`` the mean minibatch (loss, error) of ``running`` and the loss/error on (x, y) in eval mode."""
    net.eval()
    with xp.errstate(all="ignore"):
        tl, te = evaluate(net, x, y)
    net.train()
    hist["step"].append(step)
    hist["train_loss"].append(sum(r[0] for r in running) / len(running))
    hist["train_err"].append(sum(r[1] for r in running) / len(running))
    hist["test_loss"].append(tl)
    hist["test_err"].append(te)


def train_classifier(net, data: tuple, steps: int, lr: float, batch: int, rng, momentum: float = 0.0,
                     eval_every: int = 50, n_eval: int = 2000, diverge_at: float = 1e3, lr_drop: float | None = None) -> dict:
    """Mini-batch SGD on the cross-entropy, batches from :func:`batch_indices`.

    Every ``eval_every`` steps records the mean minibatch loss/error since the last record
    (``train_loss``, ``train_err``) and the loss/error on the first ``n_eval`` test samples in eval mode
    (``test_loss``, ``test_err``). Stops when the loss is non-finite or above ``diverge_at``
    (``diverged`` = the step, else None). ``loss`` is every minibatch loss. ``lr_drop``: after this
    fraction of the steps the learning rate is divided by 10 (He et al.'s schedule, shortened)."""
    import shenjing.nn.functional as F
    from shenjing import optim

    x, y, xte, yte = data
    opt = optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    hist: dict = {"step": [], "train_loss": [], "train_err": [], "test_loss": [], "test_err": [], "loss": [], "diverged": None}
    batches, running = batch_indices(x.shape[0], batch, rng), []
    net.train()
    for step in range(1, steps + 1):
        if lr_drop is not None and step == int(lr_drop * steps) + 1:
            for g in opt.param_groups:
                g["lr"] = lr / 10
        idx = next(batches)
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        with xp.errstate(all="ignore"):
            out = net(xb)
            loss = F.cross_entropy(out, yb)
            lv = float(loss.item())
            if not math.isfinite(lv) or lv > diverge_at:
                hist["diverged"] = step
                break
            loss.backward()
            opt.step()
        hist["loss"].append(lv)
        running.append((lv, error_rate(out, yb)))
        if step % eval_every == 0 or step == steps:
            record(hist, step, running, net, xte[:n_eval], yte[:n_eval])
            running = []
    net.eval()
    return hist


def train_and_score(make_net, data: tuple, steps: int, lr: float, batch: int, seed: int, **kw) -> tuple[dict, dict, object]:
    """``sj.manual_seed(seed)``, ``net = make_net()``, :func:`train_classifier` on batches drawn with
    ``seed`` (``kw`` passed on; every test sample evaluated), then the loss and error on the whole
    training and test sets. A diverged net (or a non-finite training loss) gets the losses ∞.
    Returns (history, final numbers, net)."""
    import shenjing as sj

    x, y, xte, yte = data
    sj.manual_seed(seed)
    net = make_net()
    hist = train_classifier(net, data, steps, lr, batch, xp.random.default_rng(seed), n_eval=xte.shape[0], **kw)
    with xp.errstate(all="ignore"):
        tr_loss, tr_err = evaluate(net, x, y)
        te_loss, te_err = evaluate(net, xte, yte)
    if hist["diverged"] is not None or not math.isfinite(tr_loss):
        tr_loss = te_loss = float("inf")
    final = {"train_loss": tr_loss, "train_error": tr_err, "test_loss": te_loss, "test_error": te_err,
             "diverged_at": hist["diverged"], "parameters": sum(p.numel() for p in net.parameters())}
    return hist, final, net


def he_init_(net) -> None:
    """He init of Fang §8.2 for the nets here: N(0, 2/fan_in) for a Linear fed by a ReLU,
    N(0, 1/fan_in) for one fed by the un-rectified input or residual stream, zero biases."""
    from shenjing import nn
    from shenjing.nn import init

    prev = None
    for m in net.modules():
        if isinstance(m, nn.ResidualBlock):
            prev = None  # the branch's first layer reads the stream x, not a ReLU output
        if isinstance(m, nn.ReLU):
            prev = m
        if isinstance(m, nn.Linear):
            if isinstance(prev, nn.ReLU):
                init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                init.kaiming_normal_(m.weight, nonlinearity="linear")
            init.zeros_(m.bias)
            prev = m


def build(kind: str, width: int, d_in: int = 784, d_out: int = 10):
    """plain-L: ``nn.mlp`` with L Linear layers. residual-L: stem Linear + (L − 2)/2 blocks h = x + f(x)
    (``nn.residual_mlp``) + head, the last Linear of every branch zero-initialised. residual-sqrt2-L: the
    same blocks scaled by 1/√2 (Fang §8.2), He init throughout. L counts the Linear layers."""
    from shenjing import nn
    from shenjing.nn import init

    layers = int(kind.rsplit("-", 1)[1])
    if kind.startswith("plain"):
        net = nn.mlp([d_in] + [width] * (layers - 1) + [d_out], activation="relu")
        he_init_(net)
    else:
        body = nn.residual_mlp(width, width, (layers - 2) // 2, d_out, scale="sqrt2" in kind)
        net = nn.Sequential(nn.Linear(d_in, width), body)
        he_init_(net)
        if "sqrt2" not in kind:
            for blk in body.blocks:
                init.zeros_(blk.branch[2].weight)
    n_lin = sum(isinstance(m, nn.Linear) for m in net.modules())
    assert n_lin == layers, (kind, n_lin)
    return net


def block_variances(blocks: int, width: int, batch: int, scale: bool, generator) -> list[float]:
    """Var(h_k), k = 0..blocks, of the stream h_k = s·(h_{k−1} + W₂ ReLU(W₁ h_{k−1})) at init (float64)."""
    import shenjing as sj
    from shenjing import nn
    from shenjing.nn import init

    h = sj.randn(batch, width, generator=generator, dtype=sj.float64)
    out = [float(h.numpy().var())]
    with sj.no_grad():
        for _ in range(blocks):
            blk = nn.ResidualBlock(width, activation="relu", scale=scale, bias=False).double()
            init.kaiming_normal_(blk.branch[0].weight, nonlinearity="linear", generator=generator)  # Var = 1/w
            init.kaiming_normal_(blk.branch[2].weight, nonlinearity="relu", generator=generator)  # Var = 2/w
            h = blk(h)
            out.append(float(h.numpy().var()))
    return out


def variance_per_block(cfg: dict, generator) -> dict:
    """Var(h_k) per block, geometric mean over ``var_inits`` inits, for s = 1 and s = 1/√2."""
    var = {}
    for name, scaled in ((PLAIN, False), (SCALED, True)):
        runs = xp.array([block_variances(cfg["var_blocks"], cfg["var_width"], cfg["var_batch"], scaled, generator)
                         for _ in range(cfg["var_inits"])])
        var[name] = xp.exp(xp.log(runs).mean(axis=0))  # geometric mean over inits
    return var


def measure(ctx) -> Measurement:
    cfg = QUICK if ctx.quick else FULL
    data = fashion_mnist_flat(cfg["n_train"], cfg["n_test"], ctx.seed)
    hist, final = {}, {}
    with single_threaded_blas():  # small matrices: a BLAS thread pool on a shared machine only slows them down
        for k in NETS:
            hist[k], final[k], _ = train_and_score(lambda k=k: build(k, cfg["width"]), data, cfg["steps"], cfg["lr"], cfg["batch"],
                                                   ctx.seed, momentum=MOMENTUM, eval_every=cfg["eval_every"], lr_drop=LR_DROP)
        var = variance_per_block(cfg, ctx.generator)
    ks = xp.arange(cfg["var_blocks"] + 1)
    slope = {s: float(xp.polyfit(ks, xp.log2(v), 1)[0]) for s, v in var.items()}
    tl = {k: final[k]["train_loss"] for k in NETS}
    measured = {
        **{k: cfg[k] for k in ("width", "steps", "batch", "lr")}, "momentum": MOMENTUM, "lr_drop_at": int(LR_DROP * cfg["steps"]),
        "n_train": int(data[0].shape[0]), "n_test": int(data[2].shape[0]), "final": final,
        "train_loss_ratio_plain_34_over_18": tl["plain-34"] / tl["plain-18"],
        "train_loss_ratio_residual_34_over_18": tl["residual-34"] / tl["residual-18"],
        "train_loss_ratio_residual_34_over_plain_34": tl["residual-34"] / tl["plain-34"],
        "train_loss_ratio_residual_sqrt2_34_over_18": tl["residual-sqrt2-34"] / tl["residual-sqrt2-18"],
        "log2_variance_slope_per_block": slope, "variance_per_block": var,
    }
    method = (f"Plain, residual (branch's last Linear zero-initialised) and 1/√2-scaled residual nets of 18 and 34 Linear layers "
              f"(width {cfg['width']}), He init, trained on {measured['n_train']} Fashion-MNIST images with the same SGD (batch "
              f"{cfg['batch']}, lr {cfg['lr']:g}, momentum {MOMENTUM}, lr ÷ 10 after {LR_DROP:.0%} of {cfg['steps']} steps), the same "
              "init seed and the same batches; the training loss is the cross-entropy on the whole training subset after "
              "training (∞ if the net diverged). The 1/√2 nets are reported, not judged. Variance: "
              f"{cfg['var_blocks']} blocks h = s(x + W₂ReLU(W₁x)) of width {cfg['var_width']} with Var f(x) = Var x at init, "
              f"Var(h_k) over a batch of {cfg['var_batch']} N(0, 1) inputs, geometric mean over {cfg['var_inits']} inits; the "
              "slope is the least-squares slope of log₂ Var(h_k) against k.")
    return Measurement(measured, method, data={"hist": hist, "var": var, "slope": slope, "cfg": cfg})


def draw_training_curves(ctx, hist: dict, final: dict, cfg: dict, n_train: int) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), sharey=True)
    colors = {"18": "tab:blue", "34": "tab:red"}
    titles = {"plain": "plain nets", "residual": "residual h = x + f(x) (branch starts at 0)",
              "residual-sqrt2": "residual h = (x + f(x))/√2 (Fang §8.2)"}
    for ax, fam in zip(axes, titles):
        for L in ("18", "34"):
            h = hist[f"{fam}-{L}"]
            ax.plot(h["step"], 100 * xp.asarray(h["train_err"]), lw=1, color=colors[L], alpha=0.8,
                    label=f"{L} layers, training (running)")
            end = (f"diverged at step {h['diverged']}" if h["diverged"] is not None
                   else f"final train loss {final[f'{fam}-{L}']['train_loss']:.3f}")
            ax.plot(h["step"], 100 * xp.asarray(h["test_err"]), lw=2.5, color=colors[L], label=f"{L} layers, test ({end})")
        ax.axvline(int(LR_DROP * cfg["steps"]), color="gray", ls=":", lw=1)
        ax.set(xlabel="SGD step (dotted: lr ÷ 10)", ylabel="error (%)", title=titles[fam])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    top = max(max(hist[k]["train_err"] + hist[k]["test_err"]) for k in NETS if hist[k]["step"])
    axes[0].set_ylim(0, min(100, 100 * top + 5))
    fig.suptitle(f"Fashion-MNIST ({n_train} training images), width {cfg['width']}, SGD momentum {MOMENTUM}, lr {cfg['lr']}: "
                 "thin = training error, bold = test error (cf. Xu Fig. 1.12)")
    fig.tight_layout()
    ctx.savefig(fig, "training-curves.png")


def draw_variance(ctx, var: dict, slope: dict, cfg: dict) -> None:
    plt = pyplot()
    ks = xp.arange(cfg["var_blocks"] + 1)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.semilogy(ks, var[PLAIN], "o-", color="tab:red", label=f"h = x + f(x): slope {slope[PLAIN]:.2f} (log₂ Var per block)")
    ax.semilogy(ks, var[SCALED], "s-", color="tab:green", label=f"h = (x + f(x))/√2: slope {slope[SCALED]:.2f}")
    ax.semilogy(ks, 2.0 ** ks, "k:", lw=1, label="theory: 2^k")
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="theory: 1")
    ax.set(xlabel="residual block k", ylabel="Var(h_k) at init (log scale)",
           title=f"Variance after each residual block at init\n(width {cfg['var_width']}, He init, geometric mean of {cfg['var_inits']} inits)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    fig.tight_layout()
    ctx.savefig(fig, "variance-per-block.png")


def figures(ctx, m: Measurement) -> None:
    d = m.data
    draw_training_curves(ctx, d["hist"], m.measured["final"], d["cfg"], m.measured["n_train"])
    draw_variance(ctx, d["var"], d["slope"], d["cfg"])
