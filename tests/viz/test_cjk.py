"""Chinese text in figures renders with a CJK font: no missing glyphs (no tofu boxes)."""

import warnings

import numpy as np
import pytest
from matplotlib import font_manager

from shenjing.viz.plots import cjk_font, pyplot, save_figure


def test_chinese_labels_render_with_a_cjk_font(tmp_path):
    if not any("cjk" in p.lower() or "wqy" in p.lower() for p in font_manager.findSystemFonts()):
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk; .ci/run installs it)")
    plt = pyplot()
    assert cjk_font() is not None and plt.rcParams["font.family"][-1] == cjk_font()
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.set_title("随机失活: 蒙特卡洛平均")
    ax.set_xlabel("掩码个数 K")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for a tofu box
        save_figure(fig, tmp_path / "zh.png")
    img = plt.imread(tmp_path / "zh.png")
    assert img.shape[0] > 100 and np.ptp(img) > 0.5
