"""equivariance: convolution commutes with translation, max-pooling adds local invariance (Wang 七).

Translation equivariance (平移等变): conv(T x) = T conv(x). With circular padding and a circular
shift T it holds exactly everywhere; with zero padding and a shift that fills with zeros it holds
except within k//2 pixels of an edge of the image's content — the frame's border or the edge of the
incoming fill (where the kernel reads zeros in one image and pixels in the other); the experiment
measures where the error lies. Max-pooling (k×k, stride k) of i.i.d. values keeps a window's output
under a one-pixel shift exactly when the maximum of the k + 1 columns seen by the old and the new
window lies in their k − 1 shared columns: probability (k − 1)/(k + 1), measured against that.
Last, a small CNN and an MLP trained briefly on Fashion-MNIST are tested on test images shifted by
0–4 pixels: the CNN's accuracy falls less.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

SHIFTS = (0, 1, 2, 3, 4)
DY, DX = 3, -2
POOLS = (2, 3, 4)

EXPERIMENT = Experiment(
    id="equivariance",
    title="Convolution is translation-equivariant, max-pooling locally invariant",
    title_zh="卷积的平移等变性与最大池化的局部不变性",
    source="Wang 七",
    claim="Convolution commutes with translation — exactly with circular padding, and with zero padding everywhere "
          "except within k//2 pixels of the border (of the frame or of the incoming fill); k×k max-pooling keeps a fraction (k−1)/(k+1) of its outputs under "
          "a one-pixel shift of i.i.d. inputs; on shifted Fashion-MNIST test images a small CNN loses less accuracy "
          "than an MLP.",
    claim_zh="卷积与平移可交换 —— 循环填充时处处精确成立, 零填充时只在距边界 (画面边界或移入的填充边界) k//2 像素以内不成立; "
             "k×k 最大池化在 i.i.d. 输入平移一个像素时有 (k−1)/(k+1) 的输出不变; 在平移后的 Fashion-MNIST 测试图像上, 小卷积网络的准确率比 MLP 下降得少.",
    checks=(
        Check("circular_max_error", "<=", 1e-12, "max |conv(T x) − T conv(x)| with circular padding (float64)",
              what_zh="循环填充时 |conv(T x) − T conv(x)| 的最大值 (float64)"),
        Check("zeros_interior_max_error", "<=", 1e-12, "the same with zero padding, farther than k//2 from an edge of the content",
              what_zh="零填充时距图像内容边缘超过 k//2 处的同一误差"),
        Check("zeros_border_max_error", ">=", 1e-3, "the same within k//2 of an edge", what_zh="零填充时距边缘 k//2 以内的同一误差"),
        Check("pool_unchanged_vs_formula", "<=", 0.02,
              "for k = 2, 3, 4: |fraction of unchanged pooled outputs − (k−1)/(k+1)|", what_zh="k = 2, 3, 4 时 |池化输出不变的比例 − (k−1)/(k+1)|"),
        Check("unpooled_unchanged_fraction", "<=", 0.01, "the fraction of unchanged values without pooling",
              what_zh="不池化时值不变的比例"),
        Check("cnn_minus_mlp_drop", "<", 0.0, "at shifts 2, 3, 4: the CNN's accuracy drop minus the MLP's",
              what_zh="平移 2, 3, 4 像素时 CNN 的准确率下降减去 MLP 的下降"),
    ),
    datasets=("fashion-mnist",),
)


def shift(x, dy: int, dx: int, circular: bool):
    """x (…, H, W) translated by (dy, dx): rolled (``circular``) or filled with zeros."""
    if circular:
        return xp.roll(x, (dy, dx), axis=(-2, -1))
    out = xp.zeros_like(x)
    H, W = x.shape[-2:]
    out[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = x[..., max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
    return out


def conv_errors(rng, k: int = 5, dy: int = DY, dx: int = DX) -> dict:
    """|conv(T x) − T conv(x)| maps for circular and zero padding (one 5×5 conv, 32×32 image, float64)."""
    import shenjing as sj
    from shenjing import nn

    x = rng.normal(size=(1, 1, 32, 32))
    out = {}
    for mode in ("circular", "zeros"):
        sj.manual_seed(0)
        conv = nn.Conv2d(1, 1, k, padding=k // 2, padding_mode=mode, bias=False).double()
        circ = mode == "circular"
        with sj.no_grad():
            a = conv(sj.tensor(shift(x, dy, dx, circ))).numpy()
            b = shift(conv(sj.tensor(x)).numpy(), dy, dx, circ)
        out[mode] = xp.abs(a - b)[0, 0]
    return out


def edge_band(n: int, k: int, dy: int, dx: int):
    """The pixels within k//2 of an edge of the translated image's content (frame edges included): the
    (k×k) window around them holds both content and zeros (padding or fill)."""
    valid = xp.pad(shift(xp.ones((n, n)), dy, dx, circular=False), k // 2)
    win = xp.lib.stride_tricks.sliding_window_view(valid, (k, k))
    return win.max((-2, -1)) != win.min((-2, -1))


def pool_unchanged(rng, k: int, n: int) -> float:
    """The fraction of k×k max-pool outputs (stride k) of i.i.d. values unchanged by a one-pixel shift."""
    import shenjing as sj
    import shenjing.nn.functional as F

    x = rng.normal(size=(1, 1, n, n + 1))
    with sj.no_grad():
        a = F.max_pool2d(sj.tensor(x[..., :n]), k).numpy()
        b = F.max_pool2d(sj.tensor(x[..., 1:]), k).numpy()
    return float((a == b).mean())


def shifted_accuracy(model, x, y, s: int) -> float:
    """Accuracy on images shifted by s pixels (zero fill), averaged over the four directions."""
    import shenjing as sj

    model.eval()
    accs = []
    for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s)):
        xs = shift(x - x.min(), dy, dx, circular=False) + x.min()  # the background value comes in
        with sj.no_grad():
            pred = xp.concatenate([model(sj.as_tensor(xs[i:i + 1000])).numpy().argmax(1) for i in range(0, len(xs), 1000)])
        accs.append(float((pred == y).mean()))
    return sum(accs) / len(accs)


def measure(ctx) -> Measurement:
    from .cnn_vs_mlp import fashion_subsets, loader, train_one

    errs = conv_errors(ctx.rng)
    band = edge_band(32, 5, DY, DX)
    pools = {k_: pool_unchanged(ctx.rng, k_, 240) for k_ in POOLS}
    x = ctx.rng.normal(size=(240, 241))
    measured = {
        "circular_max_error": float(errs["circular"].max()),
        "zeros_interior_max_error": float(errs["zeros"][~band].max()),
        "zeros_border_max_error": float(errs["zeros"][band].max()),
        "zeros_error_fraction_in_band": float(errs["zeros"][band].sum() / errs["zeros"].sum()),
        "band_fraction_of_pixels": float(band.mean()),
        "pool_unchanged_fraction": {str(k_): v for k_, v in pools.items()},
        "pool_unchanged_vs_formula": {str(k_): abs(v - (k_ - 1) / (k_ + 1)) for k_, v in pools.items()},
        "unpooled_unchanged_fraction": float((x[:, :-1] == x[:, 1:]).mean()),
    }
    n_train, n_test, epochs = (3000, 1000, 2) if ctx.quick else (None, None, 3)
    data = fashion_subsets(n_train, n_test, ctx.seed)
    specs = {"mlp": ("mlp", {"hidden": (256,), "dropout": 0.0}), "cnn": ("cnn", {"channels": (16, 32), "convs": 1, "dropout": 0.0})}
    xte, yte = data["test"]
    acc = {}
    for name, (reg, opts) in specs.items():
        model, _ = train_one(reg, opts, data["train"], loader(xte, yte, 1000), epochs, [], ctx.seed)
        acc[name] = [shifted_accuracy(model, xte, yte, s) for s in SHIFTS]
    drops = {name: [a[0] - v for v in a] for name, a in acc.items()}
    measured.update({"accuracy_by_shift": acc,
                     "cnn_minus_mlp_drop": {str(s): drops["cnn"][i] - drops["mlp"][i] for i, s in enumerate(SHIFTS) if s >= 2}})
    method = (f"A 5×5 Conv2d (float64, no bias) on a 32×32 Gaussian image shifted by ({DY}, {DX}): circular padding with a "
              f"circular shift, and zero padding with a zero-filling shift; the error split at k//2 = 2 pixels from an "
              f"edge of the content (frame border or fill). Max-pool k×k stride k on a 240×240 i.i.d. Gaussian array and on it shifted by one column, for k = "
              f"{POOLS}. Fashion-MNIST: an MLP 784-256-10 and the SmallCNN 16-32 (BN, max pool) trained by cnn-vs-mlp's "
              f"loop (Adam, cosine, {epochs} epochs on {len(data['train'][0])} images), tested on {len(xte)} test images shifted by "
              f"{SHIFTS} pixels (background-filled, mean over four directions).")
    return Measurement(measured, method, data={"errs": errs, "acc": acc, "band": band})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    d = m.data
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), layout="constrained")
    for ax, mode in zip(axes[:2], ("circular", "zeros"), strict=True):
        im = ax.imshow(d["errs"][mode] + 1e-18, norm="log", vmin=1e-17, vmax=max(1.0, d["errs"][mode].max()), cmap="magma")
        ax.set(title=f"|conv(Tx) − T conv(x)|, {mode} padding", xticks=[], yticks=[])
        if mode == "zeros":
            ax.contour(d["band"], levels=[0.5], colors="cyan", linewidths=0.8)
            ax.set_xlabel("cyan: k//2 from an edge of the content")
        fig.colorbar(im, ax=ax, shrink=0.8)
    ks = list(m.measured["pool_unchanged_fraction"])
    axes[2].plot([int(k) for k in ks], [m.measured["pool_unchanged_fraction"][k] for k in ks], "o", ms=8, label="measured")
    kk = xp.linspace(1.8, 4.2, 50)
    axes[2].plot(kk, (kk - 1) / (kk + 1), "k-", lw=0.8, label="(k−1)/(k+1)")
    axes[2].set(xticks=list(POOLS), xlabel="pool size k", ylabel="fraction unchanged by a 1-px shift", title="Max-pooling: local invariance")
    axes[2].legend()
    for name, a in d["acc"].items():
        axes[3].plot(SHIFTS, [100 * v for v in a], "o-", label=name.upper())
    axes[3].set(xlabel="shift (pixels)", ylabel="test accuracy (%)", title="Fashion-MNIST, shifted test images")
    axes[3].legend()
    fig.suptitle("Translation equivariance of convolution, invariance of pooling (Wang 七)")
    ctx.savefig(fig, "equivariance")
