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


def plot_sweep(rows: list[dict], grid: dict[str, list[str]], metric: str, path: str | Path, title: str = "Hyper-parameter sweep") -> Path:
    """The test ``metric`` (left) and test loss (right) of a sweep's trials (rows of sweep.csv): against
    the option when one option varies (a log axis for positive numbers spanning a decade or more), heat
    maps over the grid when two do, bars per trial otherwise (the best :data:`SWEEP_BARS`); diverged trials marked."""
    plt = pyplot()
    varied = [name for name, values in grid.items() if len(values) > 1]
    keys = (f"test_{metric}", "test_loss")
    if len(varied) == 1:
        fig = _sweep_lines(plt, rows, varied[0], grid[varied[0]], keys)
    elif len(varied) == 2:
        fig = _sweep_heatmaps(plt, rows, {k: grid[k] for k in varied}, keys)
    else:
        fig = _sweep_bars(plt, rows, varied, keys)
    fig.suptitle(f"{title}: {len(rows)} trial{'' if len(rows) == 1 else 's'}")
    fig.tight_layout()
    return save_figure(fig, path)


SWEEP_BARS = 40  # the most trials a bar chart shows


def _numbers(values: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _sweep_lines(plt, rows: list[dict], name: str, values: list[str], keys: tuple[str, str]):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    nums = _numbers(values)
    at = dict(zip(values, nums or range(len(values))))
    for ax, key in zip(axes, keys):
        points = sorted((at[r[name]], float(r[key])) for r in rows if r["status"] == "ok")
        if points:
            ax.plot(*zip(*points), marker="o", label="trials")
        diverged = [at[r[name]] for r in rows if r["status"] != "ok"]
        for i, x in enumerate(diverged):  # no value to show: a line at the option's value
            ax.axvline(x, color="C3", ls=":", lw=1.5, label="diverged" if i == 0 else None)
        if diverged:
            ax.legend()
        if nums and min(nums) > 0 and max(nums) >= 10 * min(nums):
            ax.set_xscale("log")
        if nums is None:
            ax.set_xticks(range(len(values)), values)
        ax.set(xlabel=f"--{name}", ylabel=key.replace("_", " "), title=key.replace("_", " "))
        ax.grid(alpha=0.3)
    return fig


def _sweep_heatmaps(plt, rows: list[dict], grid: dict[str, list[str]], keys: tuple[str, str]):
    from matplotlib.colors import LogNorm

    (a, rows_a), (b, cols_b) = grid.items()
    fig, axes = plt.subplots(1, 2, figsize=(2.5 + 2 * (1.2 + 0.9 * len(cols_b)), 1.8 + 0.6 * len(rows_a)))
    for ax, key in zip(axes, keys):
        m = xp.full((len(rows_a), len(cols_b)), xp.nan)
        for r in rows:
            if r["status"] == "ok":
                m[rows_a.index(r[a]), cols_b.index(r[b])] = float(r[key])
        cmap = "viridis_r" if key == "test_loss" else "viridis"  # bright is good in both
        low, high = (float(xp.nanmin(m)), float(xp.nanmax(m))) if not xp.isnan(m).all() else (0.0, 1.0)
        logs = key == "test_loss" and low > 0 and high >= 10 * low  # a diverging corner would wash out the rest
        ax.set_facecolor("#eeeeee")  # a configuration --random did not draw
        im = ax.imshow(m, cmap=cmap, aspect="auto", norm=LogNorm(low, high) if logs else None)
        for r in rows:
            i, j = rows_a.index(r[a]), cols_b.index(r[b])
            if r["status"] != "ok":
                ax.text(j, i, "diverged", ha="center", va="center", fontsize=8, color="C3")
                continue
            bright = im.norm(m[i, j])
            ax.text(j, i, f"{m[i, j]:.3g}" if key == "test_loss" else f"{m[i, j]:.4f}", ha="center", va="center", fontsize=8,
                    color="black" if (bright > 0.5) == (cmap == "viridis") else "white")
        ax.set_xticks(range(len(cols_b)), cols_b)
        ax.set_yticks(range(len(rows_a)), rows_a)
        ax.set(xlabel=f"--{b}", ylabel=f"--{a}", title=key.replace("_", " "))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=key.replace("_", " "))
    return fig


def _sweep_bars(plt, rows: list[dict], varied: list[str], keys: tuple[str, str]):
    ok = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: -float(r[keys[0]]))
    shown = (ok + [r for r in rows if r["status"] != "ok"])[:SWEEP_BARS]
    labels = [f"{r['trial']}  " + " ".join(f"{k}={r[k]}" for k in varied) for r in shown]
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.5 + 0.3 * len(shown)), sharey=True)
    for ax, key in zip(axes, keys):
        y = list(range(len(shown)))
        ax.barh(y, [float(r[key]) if r["status"] == "ok" else 0.0 for r in shown], color="C0")
        for i, r in enumerate(shown):
            if r["status"] != "ok":
                ax.text(0, i, " diverged", va="center", color="C3", fontsize=8)
        ax.set_yticks(y, labels, fontsize=8)
        ax.set(xlabel=key.replace("_", " "), title=key.replace("_", " ") + (f" (the best {len(shown)})" if len(shown) < len(rows) else ""))
        ax.grid(alpha=0.3, axis="x")
    axes[0].invert_yaxis()  # the best on top (the axes share y: once)
    return fig
