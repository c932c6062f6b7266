"""Plots (绘图) with matplotlib: learning curves and confusion matrices, saved as PNG."""

from __future__ import annotations

import functools
from pathlib import Path

from ..backend import xp

#: CJK fonts (中文字体) for the Chinese glyphs, best first: Debian's fonts-noto-cjk, WenQuanYi, Source Han, macOS's and Windows'
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "PingFang SC", "Heiti SC", "Microsoft YaHei", "SimHei", "Noto Serif CJK SC")
_CJK_FILES = ("notosanscjk", "sourcehansans", "wqy-", "wenquanyi", "notoserifcjk")


@functools.cache
def cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` that matplotlib can use, or None. Fonts installed after
    matplotlib built its font cache (e.g. ``apt-get install fonts-noto-cjk``) are added from the
    system's font folders."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FONTS if n in names), None)

    if known() is None:
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name.lower() for k in _CJK_FILES):
                font_manager.fontManager.addfont(path)
    return known()


def pyplot():
    """matplotlib.pyplot on the Agg backend (files, no window): ``plt = pyplot()``. Text is set in
    DejaVu Sans, with the Chinese glyphs from a CJK font (:func:`cjk_font`), so Chinese labels render."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cjk = cjk_font()
    family = ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]
    if plt.rcParams["font.family"] != family:
        plt.rcParams["font.family"] = family
    return plt


def save_figure(fig, path: str | Path) -> Path:
    """Save atomically (temporary file + rename) and close the figure."""
    import io

    from ..files import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def plot_curves(history: list[dict], path: str | Path, title: str = "Learning curves") -> Path:
    """Loss (left) and each logged metric (accuracy, ...; right) per epoch for training and validation."""
    plt = pyplot()
    epochs = [row["epoch"] for row in history]
    # every logged metric (train_X / val_X other than the loss): accuracy, sequence_accuracy, mean_iou, ...
    metric_keys = list(dict.fromkeys(k.split("_", 1)[1] for r in history for k in r
                                     if k.startswith(("train_", "val_")) and k not in ("train_loss", "val_loss")))
    fig, axes = plt.subplots(1, 1 + len(metric_keys), figsize=(5.5 * (1 + len(metric_keys)), 4), squeeze=False)
    ax = axes[0][0]
    for key, label in (("train_loss", "training"), ("val_loss", "validation")):
        if any(key in r for r in history):
            ax.plot(epochs, [r.get(key, float("nan")) for r in history], marker="o", ms=3, label=label)
    ax.set(xlabel="epoch", ylabel="loss", title="loss")
    ax.grid(alpha=0.3)
    ax.legend()
    for i, m in enumerate(metric_keys, start=1):
        ax = axes[0][i]
        for key, label in ((f"train_{m}", "training"), (f"val_{m}", "validation")):
            if any(key in r for r in history):
                ax.plot(epochs, [r.get(key, float("nan")) for r in history], marker="o", ms=3, label=label)
        ax.set(xlabel="epoch", ylabel=m, title=m)
        ax.grid(alpha=0.3)
        ax.legend()
    from matplotlib.ticker import MaxNLocator

    for ax in axes[0]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_confusion(matrix, classes, path: str | Path, title: str = "Confusion matrix") -> Path:
    """Row-normalised confusion matrix with counts; rows are true classes."""
    plt = pyplot()
    m = xp.asarray(matrix)
    frac = m / xp.maximum(m.sum(axis=1, keepdims=True), 1)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * n, 0.8 + 0.6 * n))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    return save_figure(fig, path)
