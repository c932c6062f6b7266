"""architectures: ResNet, DenseNet and U-Net — shapes, parameter counts, and a U-Net trained on a
segmentation toy (Fang §8.3 常见残差架构; Fang ch. 7 参数量).

Fang §8.3: ResNet (残差块 BN → ReLU → conv, twice, then + input), DenseNet ("再将输出附加至输入上,
从而增加输入通道数": a block of L layers with growth k turns k₀ channels into k₀ + L·k) and U-Net
(编码器-解码器: the encoder downsamples, the decoder upsamples, 跳跃连接 concatenate). Fang ch. 7:
a convolution C_i → C_o with a K×K kernel has C_i·C_o·K² + C_o parameters (C_i·C_o·K² without bias),
independent of the image size; BatchNorm has 2C (γ, β); Linear D_i·D_o + D_o.

The models of shenjing/nn/architectures.py (LeNet5 on 1×28×28; ResNet-14 width 16, DenseNet growth 12
blocks (4, 4, 4), U-Net depth 3 width 16, all on 1×32×32) are run on one batch with forward hooks on
every stage. Measured: each stage's output shape vs the shape the design predicts (ResNet stage s:
16·2^s channels at 32/2^s; DenseNet layer l of a block entering with k₀ channels: k₀ + l·k; U-Net level
l: 16·2^l channels at 32/2^l, decoder mirrored, head (3, 32, 32)); the parameter count
(nn.utils.count_parameters) vs the formula summed per layer (nn.utils.check_parameter_counts) vs a
closed form written out here from the hyper-parameters. Then the U-Net is trained on the segmentation
toy (toy.segmentation via the ``segmentation`` task of shenjing/train/zoo.py: circles, rectangles,
background) and its test mean IoU (交并比) is compared with the trivial predict-the-majority-class
baseline. Shapes and the three counts must agree exactly, and the test mIoU must be high (full mode;
quick mode trains a U-Net of depth 2, width 8 on 384 images, batch 16, 10 epochs, with a lower
threshold) and well above the baseline.
"""

from __future__ import annotations

import contextlib
import time

from ...backend import xp
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement, single_threaded_blas

EXPERIMENT = Experiment(
    id="architectures",
    title="ResNet, DenseNet and U-Net: shapes, parameter counts, and a U-Net on a segmentation toy",
    title_zh="常见残差架构:ResNet、DenseNet、U-Net",
    source="Fang §8.3; Fang ch. 7",
    claim="Each stage of ResNet, DenseNet and U-Net has the shape its design predicts (DenseNet grows k₀ + l·k channels), "
          "the parameter count equals Σ C_i·C_o·K² + C_o over the layers, and a U-Net learns to segment the toy images "
          "far above the majority-class baseline.",
    claim_zh="ResNet、DenseNet 与 U-Net 的每个阶段都具有其设计所预言的形状 (DenseNet 的通道数按 k₀ + l·k 增长), 参数个数等于各层 "
             "Σ C_i·C_o·K² + C_o, 而 U-Net 学会分割玩具图像, 远高于多数类基线.",
    checks=(
        Check("shape_mismatch_count", "==", 0, "the number of stages whose output shape differs from the design's", what_zh="输出形状与设计不符的阶段个数"),
        Check("count_minus_per_layer_formula", "==", 0, "for each model, count_parameters − the per-layer formula summed",
              what_zh="对每个模型, count_parameters − 逐层公式之和"),
        Check("count_minus_closed_form", "==", 0, "for each model, count_parameters − the closed form", what_zh="对每个模型, count_parameters − 闭式公式"),
        Check("unet.test_mean_iou", ">=", 0.9, "the U-Net's test mean IoU", quick=0.75, what_zh="U-Net 的测试平均 IoU"),
        Check("unet.test_mean_iou_above_baseline", ">=", 0.3, "the U-Net's test mean IoU − the majority-class baseline's",
              what_zh="U-Net 的测试平均 IoU − 多数类基线的"),
    ),
)

# --------------------------------------------------------------------------- closed-form parameter counts


def conv_params(ci: int, co: int, k: int, bias: bool = True) -> int:
    """C_i·C_o·K² + C_o (Fang ch. 7)."""
    return ci * co * k * k + (co if bias else 0)


def lenet5_params(c_in: int = 1, classes: int = 10) -> int:
    """conv 5×5 C→6, conv 5×5 6→16, Linear 400→120→84→classes."""
    return conv_params(c_in, 6, 5) + conv_params(6, 16, 5) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * classes + classes)


def resnet_params(c_in: int, width: int, blocks: tuple, classes: int) -> int:
    """Stem conv 3×3 (no bias); per pre-activation block BN(c_i) + conv3×3 c_i→c_o + BN(c_o) + conv3×3 c_o→c_o
    (no biases) + the 1×1 projection c_i·c_o when the shape changes; final BN and Linear."""
    total, c = conv_params(c_in, width, 3, bias=False), width
    for s, n in enumerate(blocks):
        out = width * 2**s
        for i in range(n):
            total += 2 * c + conv_params(c, out, 3, False) + 2 * out + conv_params(out, out, 3, False)
            total += conv_params(c, out, 1, False) if c != out or (s and i == 0) else 0
            c = out
    return total + 2 * c + c * classes + classes


def densenet_params(c_in: int, growth: int, blocks: tuple, classes: int, compression: float = 0.5) -> int:
    """Stem conv 3×3 C→2k; per dense layer BN(c) + conv3×3 c→k (c grows by k); per transition BN(c) +
    conv1×1 c→⌊c/2⌋; final BN and Linear."""
    c = 2 * growth
    total = conv_params(c_in, c, 3, False)
    for b, n in enumerate(blocks):
        for _ in range(n):
            total += 2 * c + conv_params(c, growth, 3, False)
            c += growth
        if b < len(blocks) - 1:
            out = int(compression * c)
            total += 2 * c + conv_params(c, out, 1, False)
            c = out
    return total + 2 * c + c * classes + classes


def unet_params(c_in: int, classes: int, depth: int, width: int) -> int:
    """DoubleConv(c_i, c_o) = conv3×3 c_i→c_o + BN + conv3×3 c_o→c_o + BN (no conv biases); per decoder
    level a ConvTranspose 2×2 2c→c (with bias) and DoubleConv(2c, c); head conv1×1 w→classes."""
    def dc(ci, co):
        return conv_params(ci, co, 3, False) + 2 * co + conv_params(co, co, 3, False) + 2 * co

    ch = [width * 2**level for level in range(depth + 1)]
    total = dc(c_in, ch[0]) + sum(dc(ch[level], ch[level + 1]) for level in range(depth))
    total += sum(conv_params(2 * ch[level], ch[level], 2) + dc(2 * ch[level], ch[level]) for level in range(depth))
    return total + conv_params(ch[0], classes, 1)


# --------------------------------------------------------------------------- shapes by forward hooks


def hooked_shapes(model, names: list[str], x) -> dict[str, tuple]:
    """Forward ``x`` once (eval mode, no grad) and return the output shape of each named sub-module."""
    import shenjing as sj

    mods = dict(model.named_modules())
    shapes, handles = {}, []
    for name in names:
        handles.append(mods[name].register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape))))
    model.eval()
    with sj.no_grad():
        shapes["output"] = tuple(model(x).shape)
    for h in handles:
        h.remove()
    return shapes


def build_models():
    """The four architectures, and the stage names and the shapes their design predicts (batch N = 2)."""
    from shenjing.nn.architectures import DenseNet, LeNet5, ResNet, UNet

    N = 2
    models = {}
    lenet = LeNet5(10, 1, 28)
    exp = {"features.0": (N, 6, 28, 28), "features.2": (N, 6, 14, 14), "features.3": (N, 16, 10, 10), "features.5": (N, 16, 5, 5),
           "classifier.1": (N, 120), "classifier.3": (N, 84), "output": (N, 10)}
    models["LeNet-5"] = (lenet, (1, 28, 28), exp, lenet5_params(1, 10))

    resnet = ResNet(10, 1, width=16, depth=14)
    exp = {"conv1": (N, 16, 32, 32)}
    exp.update({f"layer{s + 1}": (N, 16 * 2**s, 32 >> s, 32 >> s) for s in range(3)})
    exp.update({"pool": (N, 64, 1, 1), "output": (N, 10)})
    models["ResNet-14"] = (resnet, (1, 32, 32), exp, resnet_params(1, 16, (2, 2, 2), 10))

    k, blocks = 12, (4, 4, 4)
    densenet = DenseNet(10, 1, growth=k, blocks=blocks)
    exp, c, hw = {"conv0": (N, 2 * k, 32, 32)}, 2 * k, 32
    for b, n in enumerate(blocks):
        for i in range(n):
            exp[f"features.block{b + 1}.{i}"] = (N, c + (i + 1) * k, hw, hw)  # k0 + l·k
        c += n * k
        if b < len(blocks) - 1:
            c, hw = c // 2, hw // 2
            exp[f"features.trans{b + 1}"] = (N, c, hw, hw)
    exp.update({"pool": (N, c, 1, 1), "output": (N, 10)})
    models["DenseNet"] = (densenet, (1, 32, 32), exp, densenet_params(1, k, blocks, 10))

    depth, w = 3, 16
    unet = UNet(1, 3, depth=depth, width=w)
    exp = {"inc": (N, w, 32, 32)}
    exp.update({f"downs.{i}": (N, w * 2 ** (i + 1), 32 >> (i + 1), 32 >> (i + 1)) for i in range(depth)})
    for j in range(depth):  # ups/decs from the bottom: level depth − 1 − j
        level = depth - 1 - j
        exp[f"ups.{j}"] = exp[f"decs.{j}"] = (N, w * 2**level, 32 >> level, 32 >> level)
    exp["head"] = exp["output"] = (N, 3, 32, 32)
    models["U-Net"] = (unet, (1, 32, 32), exp, unet_params(1, 3, depth, w))
    return models


# --------------------------------------------------------------------------- segmentation training


def train_unet(ctx) -> dict:
    """Train the U-Net on the ``segmentation`` task of shenjing/train/zoo.py (as `shenjing train` does)."""
    import shenjing as sj
    from shenjing import nn, optim
    from shenjing.train import LRSchedulerCallback, Trainer
    from shenjing.train.registry import build_model, build_task

    if ctx.quick:
        cfg = {"seed": ctx.seed, "subset": 384, "val_size": 128, "batch_size": 16}
        opts, epochs, lr = {"depth": 2, "width": 8}, 10, 5e-3
    else:
        cfg = {"seed": ctx.seed, "subset": 2048, "val_size": 256, "batch_size": 32}
        opts, epochs, lr = {"depth": 3, "width": 16}, 10, 3e-3
    sj.manual_seed(ctx.seed)
    task = build_task("segmentation", cfg)
    model = build_model("unet", task.input_shape, task.num_classes, **opts)
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = LRSchedulerCallback(optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs))
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=task.metrics, callbacks=[sched], progress=False,
                      generators=task.generators)
    # the quick U-Net is too small to gain from BLAS threads, and on a busy machine their spin-waiting
    # made its epochs up to 10× slower (measured): quick mode runs BLAS on one thread
    with single_threaded_blas() if ctx.quick else contextlib.nullcontext():
        t0 = time.perf_counter()
        history = trainer.fit(task.train, task.val, epochs=epochs)
        seconds = time.perf_counter() - t0
        res = trainer.evaluate(task.test, return_outputs=True)
    return {"cfg": cfg, "opts": opts, "epochs": epochs, "lr": lr, "history": history, "seconds": seconds, "test": res,
            "task": task, "model": model}


def baseline_iou(targets) -> tuple[float, int]:
    """Mean IoU of predicting the most frequent class of the targets everywhere (and that class)."""
    from shenjing.train.zoo import mean_iou

    counts = xp.bincount(targets.reshape(-1), minlength=3)
    major = int(counts.argmax())
    logits = xp.zeros((len(targets), 3) + targets.shape[1:])
    logits[:, major] = 1.0
    return mean_iou(logits, targets), major


# --------------------------------------------------------------------------- figures


def draw_architectures(ctx, shapes: dict, expected: dict, counts: dict) -> None:
    plt = pyplot()

    fig, axes = plt.subplots(2, 2, figsize=(16, 10.5))
    for ax, name in zip([axes[0, 0], axes[0, 1], axes[1, 0]], ("ResNet-14", "U-Net", "DenseNet")):
        keys = [k for k in expected[name] if len(expected[name][k]) == 4 and k != "pool"]
        if name == "DenseNet":
            keys = ["conv0"] + [k for k in keys if k.startswith("features.trans")]
            keys = sorted(keys, key=lambda k: list(expected[name]).index(k))
            last = [k for k in expected[name] if k.startswith("features.block")]
            ends = [k for i, k in enumerate(last) if i + 1 == len(last) or last[i + 1].split(".")[1] != k.split(".")[1]]
            keys = sorted(keys + ends, key=lambda k: list(expected[name]).index(k))
        ch = [shapes[name][k][1] for k in keys]
        hw = [shapes[name][k][2] for k in keys]
        pos = range(len(keys))
        ax.bar(pos, ch, color="tab:blue", alpha=0.7, label="channels (measured)")
        ax.scatter(pos, [expected[name][k][1] for k in keys], marker="_", s=400, color="k", zorder=3, label="channels (design)")
        many = len(keys) > 6
        for p, c, h in zip(pos, ch, hw):
            ax.text(p, c + max(ch) * 0.01, f"{c}×{h}×{h}", ha="center", va="bottom", fontsize=8, rotation=90 if many else 0)
        ax.set_xticks(list(pos), keys, rotation=35, ha="right", fontsize=8)
        ax.set(ylabel="channels", title=f"{name}: stage outputs (C×H×W) by forward hooks, {counts[name]['count']:,} parameters")
        ax.set_ylim(0, max(ch) * 1.5)
        ax2 = ax.twinx()
        ax2.plot(pos, hw, "o-", color="tab:red", label="spatial size H = W")
        ax2.set_ylabel("H = W", color="tab:red")
        ax2.set_ylim(0, 48)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    ax = axes[1, 1]
    ax.axis("off")
    rows = [[n, f"{c['count']:,}", f"{c['per_layer_formula']:,}", f"{c['closed_form']:,}", "×".join(str(s) for s in shapes[n]["output"][1:])]
            for n, c in counts.items()]
    tab = ax.table(cellText=rows, colLabels=["model", "count_parameters\n(Σ numel)", "Σ per-layer\nformula", "closed form\n(from design)",
                                             "output\nper image"], loc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(10)
    tab.scale(1, 2.6)
    ax.set_title("Parameter counts: C_i·C_o·K² + C_o per conv, 2C per BN, D_i·D_o + D_o per Linear", fontsize=11)
    fig.suptitle("Architectures of Fang §8.3 (ResNet, DenseNet, U-Net) on 1×32×32 inputs", fontsize=13)
    fig.tight_layout()
    ctx.savefig(fig, "architectures.png")


def draw_dense_growth(ctx, shapes: dict, expected: dict, k: int) -> None:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(8, 4.6))
    for b in (1, 2, 3):
        keys = [key for key in expected if key.startswith(f"features.block{b}.")]
        k0 = expected[keys[0]][1] - k
        ls = list(range(len(keys) + 1))
        ax.plot(ls, [k0 + l * k for l in ls], "-", lw=2, label=f"block {b}: k₀ + l·k, k₀ = {k0}, k = {k}")
        ax.plot(ls[1:], [shapes[key][1] for key in keys], "o", color="k", ms=6)
    ax.plot([], [], "o", color="k", label="measured (forward hooks)")
    ax.set(xlabel="dense layer l within the block", ylabel="channels after layer l",
           title="DenseNet channel growth: each layer appends k channels (concatenation [x, f(x)])", xticks=range(5))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "densenet-growth.png")


def draw_segmentation_examples(ctx, run: dict, baseline: float) -> None:
    import matplotlib.patches as mpatches
    from matplotlib.colors import ListedColormap

    from shenjing.train.zoo import SEGMENTATION_CLASSES, mean_iou

    plt = pyplot()
    res = run["test"]
    x = run["task"].test.dataset.tensors[0].numpy()
    out, y = res["outputs"], res["targets"]
    pred = out.argmax(1)
    cmap = ListedColormap(["#202020", "tab:orange", "tab:cyan"])
    n = 5
    fig, axes = plt.subplots(3, n, figsize=(2.6 * n, 8.2))
    for j in range(n):
        axes[0, j].imshow(x[j, 0], cmap="gray")
        axes[1, j].imshow(y[j], cmap=cmap, vmin=0, vmax=2)
        axes[2, j].imshow(pred[j], cmap=cmap, vmin=0, vmax=2)
        axes[2, j].set_xlabel(f"mIoU {mean_iou(out[j:j + 1], y[j:j + 1]):.3f}", fontsize=9)
        for i in range(3):
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    for i, lab in enumerate(("input image", "target mask", "U-Net prediction")):
        axes[i, 0].set_ylabel(lab, fontsize=10)
    fig.legend(handles=[mpatches.Patch(color=c, label=s) for c, s in zip(["#202020", "tab:orange", "tab:cyan"], SEGMENTATION_CLASSES)],
               loc="lower center", ncol=3, fontsize=9)
    fig.suptitle(f"U-Net on the segmentation toy: test images (test mIoU {res['mean_iou']:.3f}; majority-class baseline {baseline:.3f})",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    ctx.savefig(fig, "segmentation-examples.png")


def draw_iou_curve(ctx, run: dict, baseline: float) -> None:
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    res = run["test"]
    h = run["history"]
    ep = [r["epoch"] for r in h]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    ax = axes[0]
    ax.plot(ep, [r["val_mean_iou"] for r in h], "o-", label="validation mean IoU")
    ax.plot(ep, [r["val_pixel_accuracy"] for r in h], "s-", label="validation pixel accuracy")
    ax.axhline(res["mean_iou"], color="tab:green", ls=":", label=f"test mean IoU {res['mean_iou']:.3f}")
    ax.axhline(baseline, color="tab:red", ls="--", label=f"majority-class baseline mIoU {baseline:.3f}")
    ax.set(xlabel="epoch", ylabel="score", ylim=(0, 1.02), title="Mean IoU per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[1]
    ax.plot(ep, [r["train_loss"] for r in h], "o-", label="training loss")
    ax.plot(ep, [r["val_loss"] for r in h], "s-", label="validation loss")
    ax.set(xlabel="epoch", ylabel="per-pixel cross-entropy", yscale="log", title="Loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    for a in axes:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    o = run["opts"]
    fig.suptitle(f"U-Net (depth {o['depth']}, width {o['width']}) on {run['cfg']['subset']} toy images, Adam lr {run['lr']:g}, cosine, "
                 f"{run['epochs']} epochs", fontsize=11)
    fig.tight_layout()
    ctx.savefig(fig, "iou-curve.png")


def stage_shapes_and_counts(generator) -> tuple[dict, dict, dict]:
    """The four models of :func:`build_models` on a batch of 2 from ``generator``: each stage's output
    shape (forward hooks), the shape the design predicts, and the three parameter counts."""
    import shenjing as sj
    from shenjing.nn.utils import check_parameter_counts, count_parameters

    shapes, expected, counts = {}, {}, {}
    for name, (model, in_shape, exp, closed) in build_models().items():
        x = sj.randn(2, *in_shape, generator=generator)
        shapes[name] = hooked_shapes(model, [k for k in exp if k != "output"], x)
        expected[name] = exp
        per_layer = check_parameter_counts(model)[-1]  # raises if a layer's formula and count differ
        counts[name] = {"count": count_parameters(model), "per_layer_formula": per_layer["formula"], "closed_form": closed}
    return shapes, expected, counts


def unet_numbers(seg: dict, base: float, major: int) -> dict:
    """What the trained U-Net of :func:`train_unet` measured, next to the majority-class baseline."""
    from shenjing.nn.utils import count_parameters
    from shenjing.train.zoo import iou_per_class

    test = seg["test"]
    miou = float(test["mean_iou"])
    return {"options": seg["opts"], "training_images": seg["cfg"]["subset"], "epochs": seg["epochs"], "lr": seg["lr"],
            "parameters": count_parameters(seg["model"]), "val_mean_iou_per_epoch": [r["val_mean_iou"] for r in seg["history"]],
            "test_mean_iou": miou, "test_pixel_accuracy": float(test["pixel_accuracy"]),
            "test_iou_per_class": iou_per_class(test["outputs"], test["targets"]),
            "baseline_majority_class": major, "baseline_mean_iou": base, "test_mean_iou_above_baseline": miou - base}


def measure(ctx) -> Measurement:
    import shenjing as sj

    sj.manual_seed(ctx.seed)
    shapes, expected, counts = stage_shapes_and_counts(ctx.generator)
    shape_mismatch = [(n, k) for n in shapes for k in expected[n] if tuple(shapes[n][k]) != tuple(expected[n][k])]
    seg = train_unet(ctx)
    base, major = baseline_iou(seg["test"]["targets"])
    measured = {
        "stage_shapes": {n: {k: list(v[1:]) for k, v in s.items()} for n, s in shapes.items()},
        "shape_mismatches": shape_mismatch, "shape_mismatch_count": len(shape_mismatch), "parameter_counts": counts,
        "count_minus_per_layer_formula": {n: c["count"] - c["per_layer_formula"] for n, c in counts.items()},
        "count_minus_closed_form": {n: c["count"] - c["closed_form"] for n, c in counts.items()},
        "densenet_channels_per_layer": [shapes["DenseNet"][k][1] for k in expected["DenseNet"] if k.startswith("features.block")],
        "unet": unet_numbers(seg, base, major),
    }
    o, cfg = seg["opts"], seg["cfg"]
    method = ("Forward hooks on every stage of LeNet-5 (1×28×28), ResNet-14 (width 16), DenseNet (growth 12, blocks 4,4,4) "
              "and U-Net (depth 3, width 16) on a batch of 2 (1×32×32); shapes compared with the design's prediction; "
              "parameter counts from nn.utils.count_parameters, nn.utils.check_parameter_counts (the per-layer formula "
              "C_i·C_o·K² + C_o, 2C per BN, D_i·D_o + D_o per Linear, summed) and a closed form from the hyper-parameters. "
              f"U-Net (depth {o['depth']}, width {o['width']}) trained with Trainer, Adam lr {seg['lr']:g}, cosine schedule, "
              f"batch {cfg['batch_size']}, {seg['epochs']} epochs on {cfg['subset']} toy.segmentation images (zoo "
              "'segmentation' task, 3 classes, 32×32), evaluated on its 512 test images from an independent seed; the "
              "baseline predicts the test set's most frequent class everywhere.")
    return Measurement(measured, method, data={"shapes": shapes, "expected": expected, "counts": counts, "seg": seg, "baseline": base},
                       extra={"timing": {"unet_train_seconds": seg["seconds"]}})  # wall time varies between runs: not in `measured`


def figures(ctx, m: Measurement) -> None:
    d = m.data
    draw_architectures(ctx, d["shapes"], d["expected"], d["counts"])
    draw_dense_growth(ctx, d["shapes"]["DenseNet"], d["expected"]["DenseNet"], 12)
    draw_segmentation_examples(ctx, d["seg"], d["baseline"])
    draw_iou_curve(ctx, d["seg"], d["baseline"])
