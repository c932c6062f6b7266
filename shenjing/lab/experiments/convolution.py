"""convolution: the worked examples of the notes, padding modes, output sizes and receptive-field growth
(Wang 七.1, Zhao §5, Fang ch. 7).

* Wang 七.1 (卷积, eq. 12, h_ij = Σ_m Σ_n x_{i+m, j+n} w_mn, a cross-correlation without flip):
  [[1,2,3],[4,5,6],[7,8,9]] ⋆ [[0,1],[2,3]] = [[25,31],[43,49]], e.g. 0·1 + 1·2 + 2·4 + 3·5 = 25.
* Zhao §5 (Ng's 边缘检测): the vertical-edge 过滤器 [[1,0,−1]]×3 on Ng's 6×6 image gives
  [[−5,−4,0,8],[−10,−2,2,3],[0,−2,−4,−7],[−3,−2,−3,−16]] (first entry 3+1+2+0+0+0−1−8−2 = −5; the
  image is drawn in the notes' figure 6, as in Ng's course), and on the step image (three columns of 10,
  three of 0) rows [0, 30, 30, 0]: the edge.
* Fang ch. 7 (填充 zero/reflect/replicate/circular, 步距 s, 空洞率 d): output size per axis
  n_out = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1.
* Wang 七.1 / Fang ch. 7 (感受野 grows with depth, "请自行推导"): r_l = r_{l−1} + d_l(k_l − 1)·j_{l−1},
  j_l = j_{l−1}·s_l (nn.utils.receptive_field).

Measured with shenjing.nn.functional (conv2d, pad, max_pool2d): the three worked examples (exact
equality); F.pad in each mode against the index definitions (reflect t ↦ −t / 2(n−1) − t, replicate
clamp, circular t mod n) and conv2d(padding_mode=…) against valid conv of the definition-padded image;
the output shape of conv2d and max_pool2d for a grid of (n, k, s, p, d) against the formula; and, for
three linear conv/pool stacks (plain 3×3, with pooling and a stride-2 conv, dilated 1, 2, 4, …), the
receptive field and centre of the centre unit of every layer from receptive_field against the support
(nonzero rows/columns) of that unit's input gradient ∂y/∂x, and the tool's output sizes against the
measured feature-map shapes. Every comparison must be exact (0 mismatches); on the step image,
reflect and replicate padding must add no border response while zero and circular padding do.
"""

from __future__ import annotations

from itertools import product

from ...backend import xp
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement

WANG_X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
WANG_W = [[0, 1], [2, 3]]
WANG_Y = [[25, 31], [43, 49]]
NG_IMAGE = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
            [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
NG_OUTPUT = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
STEP_IMAGE = [[10, 10, 10, 0, 0, 0]] * 6
STEP_OUTPUT = [[0, 30, 30, 0]] * 4
#: the vertical-edge response of the step image with 'same' padding that adds no edge of its own
STEP_EDGE_ONLY = [[0, 0, 30, 30, 0, 0]] * 6
MODES = ("zeros", "reflect", "replicate", "circular")
#: (sizes, kernels, strides, pads, dilations) of the output-size sweep
SWEEP_QUICK = (range(5, 11), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2, 3))
SWEEP_FULL = (range(3, 17), (1, 2, 3, 4, 5, 7), (1, 2, 3, 4), (0, 1, 2, 3), (1, 2, 3, 4))
RF_CHANNELS, RF_INPUT = 2, 96
RF_SHOWN = "convs + pool + stride 2"

EXPERIMENT = Experiment(
    id="convolution",
    title="Convolution: the worked examples, padding, stride, dilation and receptive fields",
    title_zh="卷积:例题、填充、步距、空洞与感受野",
    source="Wang 七.1; Zhao §5; Fang ch. 7",
    claim="[[1,2,3],[4,5,6],[7,8,9]] ⋆ [[0,1],[2,3]] = [[25,31],[43,49]]; the vertical-edge filter on Ng's 6×6 image "
          "gives [[−5,−4,0,8],[−10,−2,2,3],[0,−2,−4,−7],[−3,−2,−3,−16]] and on the 10|0 step image rows [0,30,30,0]; "
          "zero/reflect/replicate/circular padding follow their definitions; the output size is "
          "⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1; and the receptive field grows as r_l = r_{l−1} + d(k − 1)·j_{l−1}.",
    claim_zh="[[1,2,3],[4,5,6],[7,8,9]] ⋆ [[0,1],[2,3]] = [[25,31],[43,49]]; 竖直边缘滤波器作用于 Ng 的 6×6 图像得 [[−5,−4,0,"
             "8],[−10,−2,2,3],[0,−2,−4,−7],[−3,−2,−3,−16]], 作用于 10|0 阶跃图像每行为 [0,30,30,0]; 零/反射/复制/循环填充符合定义;"
             " 输出尺寸为 ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1; 感受野按 r_l = r_{l−1} + d(k − 1)·j_{l−1} 增长.",
    checks=(
        Check("exact_matches", "true", what="F.conv2d reproduces each of the three worked examples exactly", what_zh="F.conv2d 精确重现三个算例"),
        Check("padding_equals_definition", "true", what="F.pad equals the index definition in every mode", what_zh="F.pad 在每种模式下都等于按下标的定义"),
        Check("conv_padding_mode_equals_pad_then_valid_conv", "true",
              what="in every mode conv2d(padding_mode=m) equals a valid convolution of the definition-padded image",
              what_zh="每种模式下 conv2d(padding_mode=m) 等于对按定义填充的图像做有效卷积"),
        Check("output_size_mismatch_count", "==", 0,
              "the number of configurations whose measured output size differs from the formula or from conv_output_size",
              what_zh="测得的输出尺寸与公式或 conv_output_size 不符的配置个数"),
        Check("receptive_field_mismatch_count.extent", "==", 0,
              "the number of layers whose r_l from receptive_field differs from the extent of the gradient's support",
              what_zh="receptive_field 给出的 r_l 与梯度支撑范围不符的层数"),
        Check("receptive_field_mismatch_count.centre", "==", 0,
              "the number of layers whose field centre c_l + i·j_l differs from the centre of the gradient's support",
              what_zh="感受野中心 c_l + i·j_l 与梯度支撑中心不符的层数"),
        Check("receptive_field_mismatch_count.output_size", "==", 0,
              "the number of layers whose output size from receptive_field differs from the measured feature map",
              what_zh="receptive_field 给出的输出尺寸与测得的特征图不符的层数"),
        Check("receptive_field_mismatch_count.support_touches_border", "==", 0,
              "the number of layers whose gradient support reaches the input's border (a field cut off by the border)",
              what_zh="梯度支撑到达输入边界的层数 (感受野被边界截断)"),
        Check("step_image_deviation_from_edge_only.reflect", "==", 0.0,
              "with reflect padding, max |response − [0, 0, 30, 30, 0, 0]| of the edge filter on the step image",
              what_zh="反射填充时边缘滤波器在阶跃图像上的 max |响应 − [0, 0, 30, 30, 0, 0]|"),
        Check("step_image_deviation_from_edge_only.replicate", "==", 0.0, "with replicate padding, the same deviation", what_zh="复制填充时的同一偏差"),
        Check("step_image_deviation_from_edge_only.zeros", ">", 0.0, "with zero padding, the same deviation", what_zh="零填充时的同一偏差"),
        Check("step_image_deviation_from_edge_only.circular", ">", 0.0, "with circular padding, the same deviation", what_zh="循环填充时的同一偏差"),
    ),
)


def conv(x, w, **kw) -> xp.ndarray:
    """F.conv2d of one 2-D image with one 2-D kernel (float64), as a 2-D array."""
    import shenjing as sj
    import shenjing.nn.functional as F

    y = F.conv2d(sj.tensor([[x]], dtype=sj.float64), sj.tensor([[w]], dtype=sj.float64), **kw)
    return y.numpy()[0, 0]


def pad_by_definition(x, p: int, mode: str) -> xp.ndarray:
    """Fang ch. 7's padding modes from their definitions, index by index (padded index t ∈ [−p, n + p))."""
    x = xp.asarray(x, dtype=xp.float64)

    def src(t: int, n: int) -> int | None:
        if 0 <= t < n:
            return t
        if mode == "zeros":
            return None
        if mode == "reflect":  # mirror about the edge element (the edge itself is not repeated)
            return -t if t < 0 else 2 * (n - 1) - t
        if mode == "replicate":
            return min(max(t, 0), n - 1)
        return t % n  # circular

    H, W = x.shape
    out = xp.zeros((H + 2 * p, W + 2 * p))
    for i, j in product(range(-p, H + p), range(-p, W + p)):
        a, b = src(i, H), src(j, W)
        if a is not None and b is not None:
            out[i + p, j + p] = x[a, b]
    return out


def output_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 (Fang ch. 7), written out here rather than imported."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def shape_sweep(sizes, kernels, strides, pads, dilations) -> list[dict]:
    """Output shapes of F.conv2d and F.max_pool2d on (1, 1, n, n + 3) inputs for every valid (n, k, s, p, d),
    with the formula's and nn.utils.conv_output_size's."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing.nn.utils import conv_output_size

    rows = []
    for n, k, s, p, d in product(sizes, kernels, strides, pads, dilations):
        H, W = n, n + 3
        if n + 2 * p - d * (k - 1) - 1 < 0:
            continue
        x = sj.zeros(1, 1, H, W, dtype=sj.float64)
        outputs = {"conv2d": F.conv2d(x, sj.ones(1, 1, k, k, dtype=sj.float64), stride=s, padding=p, dilation=d)}
        if 2 * p <= k:  # pooling pads at most half the window (as in PyTorch)
            outputs["max_pool2d"] = F.max_pool2d(x, k, stride=s, padding=p, dilation=d)
        for op, y in outputs.items():
            rows.append({"op": op, "n": n, "k": k, "s": s, "p": p, "d": d, "measured": tuple(y.shape[2:]),
                         "formula": (output_size(H, k, s, p, d), output_size(W, k, s, p, d)),
                         "tool": (conv_output_size(H, k, s, p, d), conv_output_size(W, k, s, p, d))})
    return rows


def rf_stacks(channels: int = 2) -> dict:
    """Three linear conv/pool chains (no activation: the receptive field is a property of the wiring)."""
    from shenjing import nn

    def c3(d: int = 1, s: int = 1):
        return nn.Conv2d(channels, channels, 3, stride=s, padding=d, dilation=d, bias=False)

    return {
        "3×3 convs": nn.Sequential(*[c3() for _ in range(8)]),
        "convs + pool + stride 2": nn.Sequential(c3(), c3(), nn.AvgPool2d(2), c3(), c3(), c3(s=2), c3(), c3()),
        "dilated 1, 2, 4, 8, 16": nn.Sequential(*[c3(d=2**i) for i in range(5)]),
    }


def gradient_support(net, size: int, channels: int, generator) -> list[dict]:
    """For every prefix net[:l]: the output shape, and the input-gradient support of its centre unit
    (extent of the nonzero rows/columns of Σ_c |∂y/∂x_c|, and the support's centre)."""
    import shenjing as sj

    out = []
    for L in range(1, len(net) + 1):
        x = sj.randn(1, channels, size, size, generator=generator, dtype=sj.float64, requires_grad=True)
        y = net[:L](x)
        h, w = y.shape[2] // 2, y.shape[3] // 2
        y[0, 0, h, w].backward()
        g = xp.abs(x.grad.numpy()[0]).sum(0)
        rows, cols = xp.nonzero(g.any(1))[0], xp.nonzero(g.any(0))[0]
        out.append({"shape": tuple(y.shape[2:]), "unit": (h, w), "extent": (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)),
                    "centre": ((rows[0] + rows[-1]) / 2, (cols[0] + cols[-1]) / 2), "touches_border": bool(rows[0] == 0 or cols[0] == 0
                    or rows[-1] == size - 1 or cols[-1] == size - 1), "grad": g})
    return out


# ------------------------------------------------------------------------------------------ measurements


def worked_examples(size: int) -> dict:
    """The three worked examples, and the edge filters on a ``size``×``size`` image of a bright rectangle."""
    y_wang, y_ng, y_step = conv(WANG_X, WANG_W), conv(NG_IMAGE, VERTICAL_EDGE), conv(STEP_IMAGE, VERTICAL_EDGE)
    big = xp.zeros((size, size))
    big[size // 4: 3 * size // 4, size // 3: 5 * size // 6] = 10.0
    big_v, big_h = conv(big, VERTICAL_EDGE), conv(big, xp.asarray(VERTICAL_EDGE).T)
    return {"wang": y_wang, "ng": y_ng, "step": y_step, "big": big, "big_v": big_v, "big_h": big_h,
            "exact": {"wang_example": y_wang.tolist() == WANG_Y, "ng_vertical_edge": y_ng.tolist() == NG_OUTPUT,
                      "step_image": y_step.tolist() == STEP_OUTPUT}}


def padding_modes(p: int = 2) -> dict:
    """F.pad of a 4×4 image by ``p`` in each mode, and the edge filter on the step image with padding 1
    in each mode, each against the index definition."""
    import shenjing as sj
    import shenjing.nn.functional as F

    base = xp.arange(1.0, 17.0).reshape(4, 4)
    padded, pad_ok, resp, conv_ok = {}, {}, {}, {}
    for m in MODES:
        padded[m] = F.pad(sj.tensor(base[None, None]), (p, p, p, p), mode="constant" if m == "zeros" else m).numpy()[0, 0]
        pad_ok[m] = bool(xp.array_equal(padded[m], pad_by_definition(base, p, m)))
        resp[m] = conv(STEP_IMAGE, VERTICAL_EDGE, padding=1, padding_mode=m)
        conv_ok[m] = bool(xp.array_equal(resp[m], conv(pad_by_definition(STEP_IMAGE, 1, m), VERTICAL_EDGE)))
    return {"base": base, "p": p, "padded": padded, "pad_ok": pad_ok, "responses": resp, "conv_ok": conv_ok}


def compare_receptive_fields(theory: dict, emp: dict) -> tuple[dict, dict, list]:
    """Per stack, one row per layer of receptive_field()'s numbers next to the gradient's; the number
    of layers where they disagree, per quantity; and the (stack, layer) pairs with any disagreement."""
    rows: dict = {}
    counts = {"extent": 0, "centre": 0, "output_size": 0, "support_touches_border": 0}
    mismatches = []
    for k in theory:
        rows[k] = []
        for t, e in zip(theory[k], emp[k]):
            centre = (t.start[0] + e["unit"][0] * t.jump[0], t.start[1] + e["unit"][1] * t.jump[1])
            row = {"layer": t.name, "rf_formula": t.rf, "rf_measured": e["extent"], "jump": t.jump,
                   "centre_formula": centre, "centre_measured": (float(e["centre"][0]), float(e["centre"][1])),
                   "out_size_formula": t.out_size, "out_size_measured": e["shape"], "inside_input": not e["touches_border"]}
            rows[k].append(row)
            bad = {"extent": tuple(t.rf) != e["extent"], "centre": centre != row["centre_measured"],
                   "output_size": tuple(t.out_size) != e["shape"], "support_touches_border": e["touches_border"]}
            for q, b in bad.items():
                counts[q] += int(b)
            if any(bad.values()):
                mismatches.append((k, t.name))
    return rows, counts, mismatches


def receptive_fields(ctx) -> dict:
    """receptive_field() of the three stacks against the input gradients of their centre units."""
    import shenjing as sj
    from shenjing.nn.utils import receptive_field

    sj.manual_seed(ctx.seed)
    stacks = {k: v.double() for k, v in rf_stacks(RF_CHANNELS).items()}
    theory = {k: receptive_field(net, input_size=RF_INPUT) for k, net in stacks.items()}
    emp = {k: gradient_support(net, RF_INPUT, RF_CHANNELS, ctx.generator) for k, net in stacks.items()}
    rows, counts, mismatches = compare_receptive_fields(theory, emp)
    return {"theory": theory, "emp": emp, "rows": rows, "counts": counts, "mismatches": mismatches}


def measure(ctx) -> Measurement:
    ex = worked_examples(40 if ctx.quick else 64)
    pad = padding_modes()
    sweep = shape_sweep(*(SWEEP_QUICK if ctx.quick else SWEEP_FULL))
    size_mismatch = [r for r in sweep if not (r["measured"] == r["formula"] == r["tool"])]
    rf = receptive_fields(ctx)
    resp = pad["responses"]
    deviation = {m: float(xp.abs(resp[m] - xp.asarray(STEP_EDGE_ONLY)).max()) for m in MODES}
    measured = {
        "wang_output": ex["wang"], "ng_vertical_edge_output": ex["ng"], "step_image_output": ex["step"], "exact_matches": ex["exact"],
        # the edge of the rectangle: columns with a nonzero vertical-edge response, out of the output width
        "large_image_edge_columns": {"nonzero_columns": int((xp.abs(ex["big_v"]).sum(0) > 0).sum()), "output_width": ex["big_v"].shape[1]},
        "padding_equals_definition": pad["pad_ok"], "conv_padding_mode_equals_pad_then_valid_conv": pad["conv_ok"],
        "step_image_border_response": {m: {"left_column": resp[m][:, 0].tolist(), "right_column": resp[m][:, -1].tolist(),
                                           "top_row": resp[m][0].tolist()} for m in MODES},
        "step_image_deviation_from_edge_only": deviation,
        "step_image_no_spurious_border_edge": {m: deviation[m] == 0 for m in MODES},
        "output_size_configs_checked": len(sweep), "output_size_mismatch_count": len(size_mismatch),
        "output_size_mismatches": size_mismatch[:10],
        "receptive_field": rf["rows"], "receptive_field_mismatch_count": rf["counts"], "receptive_field_mismatches": rf["mismatches"],
    }
    method = ("F.conv2d (float64) on the three worked examples, compared with the notes' matrices for exact equality. "
              "F.pad in each mode on a 4×4 image (p = 2) against the index definitions (reflect t ↦ −t or 2(n−1) − t, "
              "replicate clamp, circular t mod n, zeros 0), and F.conv2d(padding=1, padding_mode=m) of the edge filter on "
              "the step image against a valid convolution of the definition-padded image. Output shapes of F.conv2d and "
              f"F.max_pool2d on (1, 1, n, n + 3) inputs for {len(sweep)} (op, n, k, s, p, d) configurations against "
              "⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 and nn.utils.conv_output_size. For three linear conv/pool stacks "
              f"({RF_CHANNELS} channels, random weights, {RF_INPUT}×{RF_INPUT} input, average pooling so that every window pixel gets "
              "gradient) nn.utils.receptive_field's r_l, centre c_l + i·j_l and output size per layer against the extent "
              "and centre of the nonzero rows/columns of ∂y/∂x of the centre unit y of that layer, and the measured "
              "feature-map shape.")
    return Measurement(measured, method, data={"examples": ex, "padding": pad, "sweep": sweep, "rf": rf})


# ------------------------------------------------------------------------------------------ figures


def heat(ax, a, title: str, cmap: str = "Blues", box=None, fmt: str = "{:g}", vmin=None, vmax=None, fontsize: int = 11) -> None:
    """An annotated heatmap: every cell shows its number; ``box`` = (row, col, h, w) outlines a window."""
    import matplotlib
    import matplotlib.patches as mpatches

    a = xp.asarray(a, dtype=float)
    vmin = a.min() if vmin is None else vmin
    vmax = a.max() if vmax is None else vmax
    ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax)
    cm = matplotlib.colormaps[cmap]
    for (i, j), v in xp.ndenumerate(a):
        r, g, b, _ = cm((v - vmin) / (vmax - vmin) if vmax > vmin else 0.5)
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # white text on dark cells
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize, color="white" if dark else "black")
    if box is not None:
        r, c, h, w = box
        ax.add_patch(mpatches.Rectangle((c - 0.5, r - 0.5), w, h, fill=False, ec="tab:red", lw=2.5))
    ax.set_xticks(range(a.shape[1]))
    ax.set_yticks(range(a.shape[0]))
    ax.tick_params(labelsize=8)
    ax.set_title(title, fontsize=11)


def draw_worked_examples(ctx, y001, y_ng) -> None:
    plt = pyplot()

    fig, axes = plt.subplots(2, 3, figsize=(13, 8.6), gridspec_kw={"width_ratios": [1.6, 1, 1.25]})
    heat(axes[0, 0], WANG_X, "input x (Wang, section 7.1)", box=(0, 0, 2, 2))
    heat(axes[0, 1], WANG_W, "kernel w", cmap="Oranges")
    heat(axes[0, 2], y001, "x ⋆ w (F.conv2d)\n0·1 + 1·2 + 2·4 + 3·5 = 25", cmap="Greens", box=(0, 0, 1, 1))
    heat(axes[1, 0], NG_IMAGE, "Ng's 6×6 image (Zhao §5)", box=(0, 0, 3, 3))
    heat(axes[1, 1], VERTICAL_EDGE, "vertical-edge filter", cmap="RdBu_r", vmin=-1.5, vmax=1.5)
    heat(axes[1, 2], y_ng, "image ⋆ filter (F.conv2d)\n3+1+2+0+0+0−1−8−2 = −5", cmap="RdBu_r", vmin=-16, vmax=16, box=(0, 0, 1, 1))
    for ax in axes.ravel():
        ax.set(xlabel="column j", ylabel="row i")
    fig.suptitle("Worked convolution examples (cross-correlation h_ij = Σ_m Σ_n x_{i+m, j+n} w_mn): the red window gives the red output",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    ctx.savefig(fig, "worked-examples.png")


def draw_edge_detection(ctx, y_step, big, big_v, big_h) -> None:
    plt = pyplot()

    fig, axes = plt.subplots(2, 3, figsize=(13, 8.6))
    heat(axes[0, 0], STEP_IMAGE, "step image: 10 | 0 (Zhao §5)", cmap="Greys_r", box=(0, 1, 3, 3))
    heat(axes[0, 1], VERTICAL_EDGE, "vertical-edge filter", cmap="RdBu_r", vmin=-1.5, vmax=1.5)
    heat(axes[0, 2], y_step, "output: rows [0, 30, 30, 0]\nthe bright band is the edge", cmap="Greys_r", box=(0, 1, 1, 1))
    for ax in axes[0]:
        ax.set(xlabel="column j", ylabel="row i")
    ax = axes[1, 0]
    ax.imshow(big, cmap="gray")
    ax.set(title=f"a {big.shape[0]}×{big.shape[1]} image (a bright rectangle)", xlabel="column j", ylabel="row i")
    lim = max(abs(big_v).max(), abs(big_h).max())
    for ax, y, name, sign in ((axes[1, 1], big_v, "vertical-edge filter", "red: brighter on the left, blue: on the right"),
                              (axes[1, 2], big_h, "horizontal-edge filter (its transpose)", "red: brighter above, blue: below")):
        im = ax.imshow(y, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set(title=f"{name}: thin edges\n({sign})", xlabel="output column", ylabel="output row")
        fig.colorbar(im, ax=ax, shrink=0.8, label="response")
    fig.suptitle("Edge detection by convolution (Zhao §5): on a 6×6 image the edge looks thick; on a larger one it is thin",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    ctx.savefig(fig, "edge-detection.png")


def draw_padding(ctx, padded: dict, responses: dict, base, p: int) -> None:
    import matplotlib.patches as mpatches

    plt = pyplot()

    fig, axes = plt.subplots(2, 4, figsize=(18, 10.4))
    names = {"zeros": "zero", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
    how = {"zeros": "0 outside", "reflect": "mirror about the edge", "replicate": "copy the edge", "circular": "wrap around"}
    for ax, m in zip(axes[0], MODES):
        heat(ax, padded[m], f"{names[m]} padding, p = {p}: {how[m]}", cmap="Blues", vmin=0, vmax=base.max() * 1.4, fontsize=9)
        ax.add_patch(mpatches.Rectangle((p - 0.5, p - 0.5), base.shape[1], base.shape[0], fill=False, ec="tab:red", lw=2.5))
    for ax, m in zip(axes[1], MODES):
        heat(ax, responses[m], f"edge filter on the step image,\n{names[m]} padding 1 ('same' size)", cmap="RdBu_r", vmin=-30, vmax=30,
             fontsize=9)
    for ax in axes.ravel():
        ax.set(xlabel="column", ylabel="row")
    fig.suptitle("Padding modes (Fang ch. 7): top, a 4×4 image (red box) padded by 2; bottom, the vertical-edge filter with "
                 "padding 1 —\nzero and circular padding create spurious edges (−30) at the border (zero padding also dims the top and bottom "
                 "rows to ±20); reflect and replicate do not", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97), h_pad=3)
    ctx.savefig(fig, "padding-modes.png")


def draw_stride_dilation(ctx, sweep: list[dict]) -> None:
    import matplotlib.patches as mpatches

    plt = pyplot()

    fig, axes = plt.subplots(1, 4, figsize=(19, 5), gridspec_kw={"width_ratios": [1, 1, 1, 1.25]})
    n = 7
    for ax, (s, d) in zip(axes[:3], ((1, 1), (2, 1), (1, 2))):
        k = 3
        m = output_size(n, k, s, 0, d)
        for i, j in product(range(n), range(n)):
            ax.add_patch(mpatches.Rectangle((j, n - 1 - i), 1, 1, fill=False, ec="0.7"))
        for unit, color, off in ((0, "tab:blue", 0.06), (1, "tab:orange", 0.52)):
            for a, b in product(range(k), range(k)):
                r, c = a * d, unit * s + b * d
                ax.add_patch(mpatches.Rectangle((c + off, n - 1 - r + off), 0.42, 0.42, color=color, alpha=0.85))
        ax.set(xlim=(0, n), ylim=(0, n), aspect="equal", xticks=[], yticks=[],
               title=f"k = 3, stride s = {s}, dilation d = {d}\n{n}×{n} input → {m}×{m} output (⌊({n} − {d}·2 − 1)/{s}⌋ + 1)")
        ax.set_xlabel("input column")
        ax.set_ylabel("input row")
        ax.legend(handles=[mpatches.Patch(color="tab:blue", alpha=0.85, label="taps of output (0, 0)"),
                           mpatches.Patch(color="tab:orange", alpha=0.85, label=f"taps of output (0, 1): {s} column(s) right")],
                  fontsize=8, loc="lower right")
    ax = axes[3]
    for op, marker, color in (("conv2d", "o", "tab:blue"), ("max_pool2d", "x", "tab:red")):
        f = [r["formula"][0] for r in sweep if r["op"] == op] + [r["formula"][1] for r in sweep if r["op"] == op]
        mm = [r["measured"][0] for r in sweep if r["op"] == op] + [r["measured"][1] for r in sweep if r["op"] == op]
        ax.scatter(f, mm, marker=marker, s=30, color=color, alpha=0.5, label=f"F.{op} ({len(f) // 2} configs, H and W)")
    top = max(max(r["formula"]) for r in sweep) + 1
    bad = sum(r["measured"] != r["formula"] for r in sweep)
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="measured = formula")
    ax.set(xlabel="⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1", ylabel="measured output size",
           title=f"Output sizes: formula vs measured\n({bad} mismatches in {len(sweep)} configurations)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Stride s and dilation d (Fang ch. 7): n_out = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    ctx.savefig(fig, "stride-dilation.png")


def draw_receptive_field(ctx, theory: dict, measured: dict, show: str, g, rf_row, unit, size: int) -> None:
    import matplotlib.colors as mcolors
    import matplotlib.patches as mpatches

    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(14, 5.6), gridspec_kw={"width_ratios": [1.2, 1]})
    ax = axes[0]
    colors = ["tab:blue", "tab:orange", "tab:green"]
    for (name, rows), color in zip(theory.items(), colors):
        ls = range(1, len(rows) + 1)
        ax.plot(ls, [r.rf[0] for r in rows], "-", color=color, lw=2, label=f"{name}: receptive_field()")
        ax.plot(ls, [m["extent"][0] for m in measured[name]], "o", color=color, mfc="none", ms=10, mew=2,
                label=f"{name}: support of ∂y/∂x")
    ax.set(xlabel="layer l", ylabel="receptive field r_l (pixels per side)",
           title="r_l = r_{l−1} + d(k − 1)·j_{l−1},  j_l = j_{l−1}·s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = axes[1]
    gpos = xp.where(g > 0, g, xp.nan)
    im = ax.imshow(gpos, cmap="viridis", norm=mcolors.LogNorm(vmin=xp.nanmax(gpos) * 1e-6, vmax=xp.nanmax(gpos)))
    fig.colorbar(im, ax=ax, shrink=0.85, label="Σ_c |∂y/∂x_c| (log scale; white = 0)")
    r, c0 = rf_row.rf, rf_row.start
    cy, cx = c0[0] + unit[0] * rf_row.jump[0], c0[1] + unit[1] * rf_row.jump[1]
    ax.add_patch(mpatches.Rectangle((cx - (r[1] - 1) / 2 - 0.5, cy - (r[0] - 1) / 2 - 0.5), r[1], r[0], fill=False, ec="tab:red", lw=2,
                                    label=f"receptive_field(): {r[0]}×{r[1]}"))
    ax.legend(fontsize=8, loc="lower right")
    ax.set(title=f"{show}: input gradient of one centre unit\nof the last layer ({size}×{size} input)", xlabel="input column",
           ylabel="input row")
    fig.suptitle("Receptive-field growth (Wang §7.1, Fang ch. 7): the calculator vs the gradient's support",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    ctx.savefig(fig, "receptive-field.png")


def figures(ctx, m: Measurement) -> None:
    ex, pad, rf = m.data["examples"], m.data["padding"], m.data["rf"]
    draw_worked_examples(ctx, ex["wang"], ex["ng"])
    draw_edge_detection(ctx, ex["step"], ex["big"], ex["big_v"], ex["big_h"])
    draw_padding(ctx, pad["padded"], pad["responses"], pad["base"], pad["p"])
    draw_stride_dilation(ctx, m.data["sweep"])
    emp, theory = rf["emp"][RF_SHOWN], rf["theory"][RF_SHOWN]
    draw_receptive_field(ctx, rf["theory"], rf["emp"], RF_SHOWN, emp[-1]["grad"], theory[-1], emp[-1]["unit"], RF_INPUT)
