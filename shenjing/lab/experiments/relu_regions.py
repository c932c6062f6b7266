"""relu-regions: the functions ReLU networks compute — linear regions, parameter counts, Zaslavsky's
bound and 1-homogeneity (Fang §4.1, §4.4–4.5; Xu §1.13 exercise "没有偏置项两层 ReLU 的神经网络的输出长什么样?").

Fang §4.4: a shallow net with 1 input, 1 output and D hidden ReLU units is piecewise linear with
at most D + 1 linear regions and has 3D + 1 parameters; a deep one with K hidden layers of D > 2
units can make up to (D + 1)^K regions with 3D + 1 + (K − 1)D(D + 1) parameters. §4.5: with D_i
inputs, (D_i + 1)D + (D + 1)D_o parameters, and at most Σ_{j≤D_i} C(D, j) regions (Zaslavsky).

Measured here, with ``shenjing.nn.utils.counting``:

* random shallow nets on a 1-D input: the activation-region count equals 1 + (number of kinks
  −b_d/w_d inside the interval) and never exceeds D + 1;
* deep nets built by hand reach far more: the sawtooth (width 2, each layer the hat map
  2ReLU(u) − 4ReLU(u − ½)) has 2^K pieces after K layers, and a zig-zag of D ≥ 3 units per layer —
  D + 1 pieces each mapping [0, 1] onto [0, 1] — reaches the (D + 1)^K of the notes exactly. (A
  zig-zag of D + 1 pieces from D units needs the first slope to come from a unit facing left;
  that is possible only for D ≥ 3, which is why the notes say "D > 2".) A shallow net with the same
  number of parameters has at most (P − 1)/3 + 1 regions;
* 2-D input: the region count of a shallow net equals the count of its line arrangement
  (1 + lines crossing the box + intersections inside) and stays under Zaslavsky's bound, which
  lines in general position (tangents of a circle) attain;
* the parameter counts of ``nn.mlp`` models equal the notes' formulas;
* a ReLU net without biases is positively 1-homogeneous, f(αx) = αf(x) for α > 0 (ReLU(az) =
  aReLU(z), Fang §4.1); on a 1-D input a bias-free two-layer net is two rays from the origin
  (the answer to Xu's exercise), f(x) = x·Σ_{w_j>0} a_j w_j for x > 0 and x·Σ_{w_j<0} a_j w_j
  for x < 0.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import Check, Experiment, Measurement

LO, HI = -3.0, 3.0  # the interval of the random shallow 1-D nets
BOX = 5.0  # the 2-D nets are counted on [−BOX, BOX]²
D_GP = 6  # units of the net in general position

EXPERIMENT = Experiment(
    id="relu-regions",
    title="Linear regions of shallow and deep ReLU networks, parameter counts and homogeneity",
    title_zh="ReLU 网络的线性区域与参数量",
    source="Fang §4.1, §4.4–4.5 (Zaslavsky); Xu §1.13 exercise on bias-free ReLU nets",
    claim="A shallow ReLU net on a 1-D input is piecewise linear with at most D + 1 regions while deep nets reach "
          "far more ((D + 1)^K, e.g. the sawtooth); parameter counts follow 3D + 1 and 3D + 1 + (K − 1)D(D + 1); "
          "2-D region counts obey Zaslavsky's bound; bias-free ReLU nets satisfy f(αx) = αf(x) for α > 0.",
    claim_zh="一维输入的浅层 ReLU 网络是分段线性的, 至多 D + 1 个线性区域, 而深层网络可达多得多 ((D + 1)^K, 如锯齿函数); 参数个数为 "
             "3D + 1 与 3D + 1 + (K − 1)D(D + 1); 二维输入的区域数满足 Zaslavsky 界; 无偏置的 ReLU 网络对 α > 0 满足 f(αx) = "
             "αf(x).",
    checks=(
        Check("parameter_count_mismatches", "==", 0, "the number of nn.mlp models whose count_parameters differs from the notes' formulas",
              what_zh="count_parameters 与讲义公式不符的 nn.mlp 模型个数"),
        Check("random_shallow_1d_formula_mismatches", "==", 0,
              "the number of random shallow 1-D nets whose region count differs from 1 + (kinks inside)",
              what_zh="区域数不等于 1 + (内部折点数) 的随机浅层一维网络个数"),
        Check("random_shallow_1d_max_regions_minus_bound", "<=", 0, "for each D, the most regions of a random shallow 1-D net − (D + 1)",
              what_zh="对每个 D, 随机浅层一维网络的最多区域数 − (D + 1)"),
        Check("sawtooth_depths_off_2^K", "==", 0, "the number of sawtooth depths K whose pieces or regions differ from 2^K",
              what_zh="段数或区域数不等于 2^K 的锯齿深度 K 的个数"),
        Check("zigzag_depths_off_(D+1)^K", "==", 0, "the number of zig-zag depths (D = 3, 4) whose pieces or regions differ from (D + 1)^K",
              what_zh="段数或区域数不等于 (D + 1)^K 的之字形深度 (D = 3, 4) 的个数"),
        Check("deep_regions_minus_shallow_bound_same_parameters_K>=3", ">", 0,
              "for each deep construction with K ≥ 3, its regions − the most a shallow net with as many parameters has",
              what_zh="对每个 K ≥ 3 的深层构造, 其区域数 − 参数一样多的浅层网络的最多区域数"),
        Check("random_shallow_2d_grid_vs_arrangement.fraction_equal", ">=", 0.75,
              "the fraction of random 2-D nets whose grid count equals that of their line arrangement in the box",
              what_zh="网格计数等于其直线排列在框内区域数的随机二维网络所占比例"),
        Check("random_shallow_2d_grid_vs_arrangement.grid_above", "==", 0,
              "the number of them whose grid count exceeds it (a region thinner than a grid cell can be missed, none added)",
              what_zh="网格计数超过它的网络个数 (比网格单元还细的区域可能漏数, 但不会多数)"),
        Check("random_shallow_2d_max_regions_minus_zaslavsky", "<=", 0, "for each D, the most regions of a random 2-D net − Zaslavsky's bound",
              what_zh="对每个 D, 随机二维网络的最多区域数 − Zaslavsky 界"),
        Check("general_position_D=6.regions_minus_zaslavsky_bound", "==", 0, "the general-position net's regions − Zaslavsky's bound",
              what_zh="一般位置网络的区域数 − Zaslavsky 界"),
        Check("homogeneity_rel_error.bias-free", "<", 1e-12, "for each bias-free net, max |f(αx) − αf(x)| / max |αf(x)|",
              what_zh="对每个无偏置网络, max |f(αx) − αf(x)| / max |αf(x)|"),
        Check("homogeneity_rel_error.with bias", ">", 1e-3, "the same with biases", what_zh="有偏置时的同一量"),
        Check("bias_free_1d.linear_pieces", "<=", 2, "the bias-free 1-16-1 net's linear pieces on [−3, 3]",
              what_zh="无偏置 1-16-1 网络在 [−3, 3] 上的线性段数"),
        Check("bias_free_1d.slope_errors", "<", 1e-12, "its |slope − Σ a_j w_j| on each side of 0", what_zh="它在 0 两侧每一侧的 |斜率 − Σ a_j w_j|"),
    ),
)


def linear_layer(w, b):
    """A float64 ``nn.Linear`` with weight ``w`` (out × in) and bias ``b``."""
    import shenjing as sj
    from shenjing import nn

    lin = nn.Linear(w.shape[1], w.shape[0]).to(sj.float64)
    with lin.weight.inplace() as a:
        a[...] = w
    with lin.bias.inplace() as a:
        a[...] = b
    return lin


def folding_net(d: int, depth: int):
    """A deep ReLU net on [0, 1] whose every layer applies a zig-zag map of [0, 1] onto itself.

    ``d = 2``: the sawtooth/hat map 2ReLU(u) − 4ReLU(u − ½) (2 pieces per layer, 2^K in all);
    ``d ≥ 3``: D + 1 pieces per layer from D units, (D + 1)^K in all. Piece lengths ℓ_0 = ℓ_1 =
    ℓ_4 = … = 1/(D + 3), ℓ_2 = ℓ_3 = 2/(D + 3), slopes σ_k = (−1)^k/ℓ_k; unit j (kink t_j between
    pieces j − 1 and j) computes ReLU(s_j(u − t_j)) with s_3 = −1 (it faces left and gives the first
    slope, −a_3 = σ_0 because 1/ℓ_2 + 1/ℓ_3 = 1/ℓ_0) and s_j = +1 otherwise, with output weight
    a_j = σ_j − σ_{j−1}, plus a constant c making the map 0 at u = 0."""
    from shenjing import nn

    if d == 2:
        # 2ReLU(u + ¼) − 4ReLU(u − ½) − ½: the hat map on [0, 1]; the first unit's kink is moved to
        # −¼ (outside the data) so that no pre-activation is ever exactly 0 at a valley
        s, t, a, c = xp.array([1.0, 1.0]), xp.array([-0.25, 0.5]), xp.array([2.0, -4.0]), -0.5
    elif d >= 3:
        ell = xp.full(d + 1, 1.0 / (d + 3))
        ell[2] = ell[3] = 2.0 / (d + 3)
        sigma = xp.array([(-1) ** k / ell[k] for k in range(d + 1)])
        t = xp.cumsum(ell)[:-1]
        a = sigma[1:] - sigma[:-1]
        s = xp.ones(d)
        s[2] = -1.0  # unit 3 (index 2) faces left
        c = -float(sum(a[j] * max(s[j] * (0.0 - t[j]), 0.0) for j in range(d)))
    else:
        raise ValueError("folding_net: d must be ≥ 2")
    layers = [linear_layer(s[:, None], -s * t), nn.ReLU()]
    for _ in range(depth - 1):  # pre-activation s_i(Σ_j a_j h_j + c − t_i)
        layers += [linear_layer(s[:, None] * a[None, :], s * (c - t)), nn.ReLU()]
    layers.append(linear_layer(a[None, :], xp.array([c])))
    return nn.Sequential(*layers)


def notes_parameter_count(d_in: int, d: int, d_out: int, k: int) -> int:
    """Parameters of K hidden layers of D units (Fang §4.5): (D_i + 1)D + (K − 1)D(D + 1) + (D + 1)D_o
    (for K = 1 the shallow (D_i + 1)D + (D + 1)D_o)."""
    return (d_in + 1) * d + (d + 1) * (k - 1) * d + (d + 1) * d_out


def parameter_counts() -> list[dict]:
    """count_parameters of nn.mlp models beside the notes' formulas (and 3D + 1 + (K − 1)D(D + 1) for 1-D in and out)."""
    from shenjing import nn
    from shenjing.nn.utils import counting as C

    rows = []
    for d_in, d, d_out, k in [(1, 3, 1, 1), (1, 10, 1, 1), (1, 3, 1, 4), (1, 10, 1, 3), (2, 5, 3, 1), (5, 4, 2, 3), (784, 100, 10, 2)]:
        row = {"D_i": d_in, "D": d, "D_o": d_out, "K": k, "count_parameters": C.count_parameters(nn.mlp([d_in] + [d] * k + [d_out])),
               "notes_formula": notes_parameter_count(d_in, d, d_out, k)}
        if d_in == d_out == 1:
            row["notes_1d_formula"] = 3 * d + 1 + (k - 1) * d * (d + 1)
        rows.append(row)
    return rows


def random_shallow_1d(trials: int, n_grid: int) -> tuple[dict, int, tuple | None]:
    """Region counts on [LO, HI] of ``trials`` random 1-D-D-1 ReLU nets per D: per D the max and mean,
    the number of nets whose count ≠ 1 + kinks −b/w inside, and a D = 6 net with all kinks inside."""
    import shenjing as sj
    from shenjing import nn
    from shenjing.nn.utils import counting as C

    shallow, mismatches, example = {}, 0, None
    for d in (3, 6, 12, 24):
        counts = []
        for _ in range(trials):
            net = nn.Sequential(nn.Linear(1, d), nn.ReLU(), nn.Linear(d, 1)).to(sj.float64)
            kinks = -net[0].bias.detach().numpy() / net[0].weight.detach().numpy().ravel()
            inside = int(((kinks > LO) & (kinks < HI)).sum())
            n_reg = C.count_linear_regions_1d(net, LO, HI, n=n_grid)
            mismatches += n_reg != inside + 1
            counts.append(n_reg)
            if d == 6 and example is None and inside == d:
                example = (net, kinks)
        shallow[d] = {"max": max(counts), "mean": float(xp.mean(counts)), "bound_D+1": d + 1}
    return shallow, int(mismatches), example


def deep_constructions(quick: bool) -> dict:
    """Regions and pieces on [0, 1] of :func:`folding_net` for D = 2, 3, 4 and growing K, with the
    notes' bound and the most regions a shallow net with as many parameters (or units) can have."""
    from shenjing.nn.utils import counting as C

    deep = {}
    n_grid = 20_001 if quick else 200_001  # ≫ 1/(shortest piece) for these depths
    for d, depths in ((2, range(1, 7 if quick else 9)), (3, range(1, 5 if quick else 6)), (4, range(1, 4 if quick else 5))):
        rows = []
        for k in depths:
            net = folding_net(d, k)
            params = C.count_parameters(net)
            rows.append({"K": k, "regions": C.count_linear_regions_1d(net, 0.0, 1.0, n=n_grid),
                         "linear_pieces": C.count_linear_pieces_1d(net, 0.0, 1.0, n=n_grid),
                         "expected": 2 ** k if d == 2 else (d + 1) ** k, "notes_bound_(D+1)^K": (d + 1) ** k, "parameters": params,
                         "shallow_bound_same_parameters": (params - 1) // 3 + 1,  # D' = (P − 1)/3 units → ≤ D' + 1 regions
                         "shallow_bound_same_units_(DK+1)": d * k + 1})
        deep[f"D={d}"] = rows
    return deep


def arrangement_count(w, b, box: float) -> int:
    """Regions of the lines w_j·x + b_j = 0 inside [−box, box]²: 1 + lines crossing the box + intersections inside."""
    corners = xp.array([[-box, -box], [-box, box], [box, -box], [box, box]])
    side = corners @ w.T + b
    crossing = int(((side.min(0) < 0) & (side.max(0) > 0)).sum())
    inter = sum(int(xp.abs(xp.linalg.solve(w[[i, j]], -b[[i, j]])).max() < box) for i in range(len(w)) for j in range(i + 1, len(w)))
    return 1 + crossing + inter


def random_shallow_2d(nets_per_d: int, n_grid: int) -> tuple[dict, dict]:
    """Grid region counts in the box of random 2-D-D-1 ReLU nets against Zaslavsky's bound (per D) and
    against the count of their line arrangement (over all nets)."""
    import shenjing as sj
    from shenjing import nn
    from shenjing.nn.utils import counting as C

    zas, n_nets, n_equal, n_above = {}, 0, 0, 0
    for d in (2, 3, 4, 6):
        counts = []
        for _ in range(nets_per_d):
            net = nn.Sequential(nn.Linear(2, d), nn.ReLU(), nn.Linear(d, 1)).to(sj.float64)
            n_reg = C.count_linear_regions_2d(net, (-BOX, BOX), (-BOX, BOX), n=n_grid)
            expected = arrangement_count(net[0].weight.detach().numpy(), net[0].bias.detach().numpy(), BOX)
            n_nets, n_equal, n_above = n_nets + 1, n_equal + (n_reg == expected), n_above + (n_reg > expected)
            counts.append(n_reg)
        zas[d] = {"max": max(counts), "zaslavsky_bound": C.zaslavsky_bound(d, 2)}
    return zas, {"nets": n_nets, "grid_count_equal": int(n_equal), "fraction_equal": n_equal / n_nets,
                 "grid_above": int(n_above), "grid_cells": n_grid}


def general_position_net():
    """2-D-6-1 ReLU net whose kink lines are tangents of the unit circle at angles spread over [0, π) (general position)."""
    from shenjing import nn

    th = (xp.arange(D_GP) + 0.5) * math.pi / D_GP
    wt = xp.stack([xp.cos(th), xp.sin(th)], 1)
    return nn.Sequential(linear_layer(wt, -xp.ones(D_GP)), nn.ReLU(), linear_layer(xp.ones((1, D_GP)), xp.zeros(1)))


def homogeneity(rng) -> tuple[dict, dict]:
    """Relative errors of f(αx) = αf(x) (α ∈ [0.1, 10]) and of f(−x) = −f(x) for nn.mlp nets with and without biases."""
    import shenjing as sj
    from shenjing import nn

    scale_err = {"bias-free": {}, "with bias": {}}
    odd_err = {"bias-free": {}, "with bias": {}}
    for name, sizes in (("shallow 1-16-1", [1, 16, 1]), ("deep 3-32-32-32-2", [3, 32, 32, 32, 2])):
        x = sj.tensor(rng.normal(size=(200, sizes[0])), dtype=sj.float64)
        alpha = sj.tensor(rng.uniform(0.1, 10, size=(200, 1)), dtype=sj.float64)
        for bias, kind in ((False, "bias-free"), (True, "with bias")):
            net = nn.mlp(sizes, bias=bias).to(sj.float64)
            with sj.no_grad():
                fa, f1, fneg = net(alpha * x), net(x), net(-x)
            scale_err[kind][name] = float(xp.abs((fa - alpha * f1).numpy()).max()) / float(xp.abs((alpha * f1).numpy()).max())
            odd_err[kind][name] = float(xp.abs((fneg + f1).numpy()).max()) / float(xp.abs(f1.numpy()).max())
    return scale_err, odd_err


def bias_free_rays() -> tuple[dict, object]:
    """A bias-free 1-16-1 ReLU net (Xu's exercise): its pieces on [−3, 3] and its slopes f(1), −f(−1)
    against Σ_{w_j>0} a_j w_j and Σ_{w_j<0} a_j w_j."""
    import shenjing as sj
    from shenjing import nn
    from shenjing.nn.utils import counting as C

    net = nn.mlp([1, 16, 1], bias=False).to(sj.float64)
    w, a = net[0].weight.detach().numpy().ravel(), net[2].weight.detach().numpy().ravel()
    slope_pos, slope_neg = float((a * w)[w > 0].sum()), float((a * w)[w < 0].sum())
    with sj.no_grad():
        f_plus = net(sj.tensor([[1.0]], dtype=sj.float64)).item()
        f_minus = net(sj.tensor([[-1.0]], dtype=sj.float64)).item()
    row = {"linear_pieces": C.count_linear_pieces_1d(net, -3, 3, n=60001), "slope_x>0": f_plus, "formula_sum_a_w_(w>0)": slope_pos,
           "slope_x<0": -f_minus, "formula_sum_a_w_(w<0)": slope_neg, "slope_errors": [abs(f_plus - slope_pos), abs(-f_minus - slope_neg)]}
    return row, net


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing.nn.utils import counting as C

    sj.manual_seed(ctx.seed)
    trials, nets_2d = (12, 6) if ctx.quick else (40, 12)
    pc_rows = parameter_counts()
    shallow, shallow_mismatches, example = random_shallow_1d(trials, 20001 if ctx.quick else 50_001)
    deep = deep_constructions(ctx.quick)
    zas, grid_vs_arrangement = random_shallow_2d(nets_2d, 300 if ctx.quick else 500)
    gp = general_position_net()
    gp_count, gp_map = C.count_linear_regions_2d(gp, (-BOX, BOX), (-BOX, BOX), n=500 if ctx.quick else 800, return_map=True)
    scale_err, odd_err = homogeneity(ctx.rng)
    rays, bf_net = bias_free_rays()

    measured = {
        "parameter_counts": pc_rows,
        "parameter_count_mismatches": sum(not r["count_parameters"] == r["notes_formula"] == r.get("notes_1d_formula", r["notes_formula"])
                                          for r in pc_rows),
        "random_shallow_1d": shallow, "random_shallow_1d_formula_mismatches": shallow_mismatches,
        "random_shallow_1d_max_regions_minus_bound": {d: v["max"] - (d + 1) for d, v in shallow.items()},
        "deep_constructions_on_[0,1]": deep,
        "sawtooth_depths_off_2^K": sum(not r["linear_pieces"] == r["regions"] == r["expected"] for r in deep["D=2"]),
        "zigzag_depths_off_(D+1)^K": sum(not r["linear_pieces"] == r["regions"] == r["notes_bound_(D+1)^K"] for key in ("D=3", "D=4") for r in deep[key]),
        "deep_regions_minus_shallow_bound_same_parameters_K>=3": {f"{key}, K={r['K']}": r["regions"] - r["shallow_bound_same_parameters"]
                                                                  for key, rows in deep.items() for r in rows if r["K"] >= 3},
        "random_shallow_2d": zas, "random_shallow_2d_grid_vs_arrangement": grid_vs_arrangement,
        "random_shallow_2d_max_regions_minus_zaslavsky": {d: v["max"] - v["zaslavsky_bound"] for d, v in zas.items()},
        "general_position_D=6": {"regions": gp_count, "zaslavsky_bound": C.zaslavsky_bound(D_GP, 2),
                                 "regions_minus_zaslavsky_bound": gp_count - C.zaslavsky_bound(D_GP, 2)},
        "homogeneity_rel_error": scale_err, "odd_symmetry_rel_error_f(-x)+f(x)": odd_err, "bias_free_1d": rays,
    }
    method = ("count_linear_regions_1d/2d (activation patterns at the centres of a fine grid) and count_linear_pieces_1d (slope "
              "changes) from shenjing.nn.utils.counting on float64 nets: parameter counts of 7 nn.mlp models; "
              f"{trials} random shallow 1-D nets per D = 3, 6, 12, 24 on [−3, 3]; the hand-built sawtooth (D = 2) and zig-zags "
              f"(D = 3, 4) of growing depth K on [0, 1]; {nets_2d} random shallow nets with 2 inputs per D = 2, 3, 4, 6 and {D_GP} "
              "tangents of a circle (general position) on [−5, 5]²; f(αx) and αf(x) for 200 random inputs and α ∈ [0.1, 10] on "
              "nn.mlp 1-16-1 and 3-32-32-32-2 with and without biases.")
    return Measurement(measured, method, data={"example": example, "gp_map": gp_map, "bf_net": bf_net, "trials": trials})


def figures(ctx, m: Measurement) -> None:
    figure_shallow(ctx, m)
    figure_deep(ctx, m)
    figure_zaslavsky(ctx, m)
    figure_homogeneity(ctx, m)


def figure_shallow(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    shallow, example = m.measured["random_shallow_1d"], m.data["example"]
    xs = xp.linspace(LO, HI, 3001)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    if example is not None:
        net, kinks = example
        with sj.no_grad():
            ys = net(sj.tensor(xs[:, None], dtype=sj.float64)).numpy().ravel()
        ax1.plot(xs, ys, lw=2, label="f(x), D = 6 hidden ReLU units")
        ks = xp.sort(kinks)
        bounds = xp.concatenate([[LO], ks, [HI]])
        for i in range(len(bounds) - 1):
            ax1.axvspan(bounds[i], bounds[i + 1], color=f"C{i % 10}", alpha=0.12)
        for kx in ks:
            ax1.axvline(kx, color="k", ls=":", lw=1)
        ax1.set_title(f"Random shallow net: {len(ks)} kinks −b/w → {len(ks) + 1} = D + 1 regions")
    ax1.set(xlabel="input x", ylabel="network output f(x)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ds = list(shallow)
    ax2.plot(ds, [d + 1 for d in ds], "k--", label="bound D + 1 (Fang §4.4)")
    ax2.plot(ds, [shallow[d]["max"] for d in ds], "o", label=f"max over {m.data['trials']} random nets on [−3, 3]")
    ax2.plot(ds, [shallow[d]["mean"] for d in ds], "s", label="mean (kinks outside [−3, 3] do not count)")
    ax2.set(xlabel="hidden units D", ylabel="linear regions", title="Shallow nets never exceed D + 1")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "shallow-regions.png")


def figure_deep(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    deep = m.measured["deep_constructions_on_[0,1]"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    u = xp.linspace(0, 1, 4001)
    for ax, d, ks, ylim, lw, ncol, title in ((axes[0], 2, (1, 2, 3, 4), 5.6, 1.2, 2, "Sawtooth: K layers of 2 units (hat map)"),
                                             (axes[1], 3, (1, 2, 3), 4.0, 1.0, 3, "Zig-zag: K layers of D = 3 units, (D+1)^K pieces")):
        for k in ks:
            with sj.no_grad():
                f = folding_net(d, k)(sj.tensor(u[:, None], dtype=sj.float64)).numpy().ravel()
            ax.plot(u, f + 1.1 * (k - 1), lw=lw, label=f"K = {k}: {(2 if d == 2 else d + 1) ** k} pieces")
        ax.set(xlabel="input x ∈ [0, 1]", ylabel="f(x) (curves offset by 1.1)", ylim=(-0.1, ylim), title=title)
        ax.legend(fontsize=8, loc="upper center", ncol=ncol)
        ax.grid(alpha=0.3)
    ax = axes[2]
    for (key, rows), mk in zip(deep.items(), ("o", "s", "^")):
        ax.semilogy([r["parameters"] for r in rows], [r["regions"] for r in rows], mk + "-", label=f"deep, {key} per layer (measured)")
    pp = xp.arange(4, max(r["parameters"] for rows in deep.values() for r in rows) + 1)
    ax.semilogy(pp, (pp - 1) // 3 + 1, "k--", label="shallow bound with the same parameters")
    ax.set(xlabel="number of parameters", ylabel="linear regions on [0, 1] (log)", title="Deep vs shallow: regions per parameter")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "deep-regions.png")


def figure_zaslavsky(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    zas, gp_map = m.measured["random_shallow_2d"], m.data["gp_map"]
    gp_count = m.measured["general_position_D=6"]["regions"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    perm = ctx.rng.permutation(int(gp_map.max()) + 1)
    ax1.imshow(perm[gp_map], origin="lower", extent=(-BOX, BOX, -BOX, BOX), cmap="tab20", interpolation="nearest")
    th = (xp.arange(D_GP) + 0.5) * math.pi / D_GP
    tt = xp.linspace(-2 * BOX, 2 * BOX, 10)
    for c_, s_ in zip(xp.cos(th), xp.sin(th)):
        ax1.plot(c_ - s_ * tt, s_ + c_ * tt, "k-", lw=0.8)
    ax1.set(xlim=(-BOX, BOX), ylim=(-BOX, BOX), xlabel="x₁", ylabel="x₂",
            title=f"D = {D_GP} units in general position: {gp_count} regions = 1 + D + C(D,2)")
    dd = list(zas)
    ax2.plot(dd, [zas[d]["zaslavsky_bound"] for d in dd], "k--", label="Zaslavsky bound C(D,0) + C(D,1) + C(D,2)")
    ax2.plot(dd, [zas[d]["max"] for d in dd], "o", label="max over random nets in [−5, 5]²")
    ax2.plot([D_GP], [gp_count], "r*", ms=14, label="tangent lines of a circle (left)")
    ax2.set(xlabel="hidden units D (2 inputs)", ylabel="linear regions", title="Two inputs: Zaslavsky's bound")
    ax2.set_xticks(dd)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "zaslavsky-2d.png")


def figure_homogeneity(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing import nn
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    rays, err = m.measured["bias_free_1d"], m.measured["homogeneity_rel_error"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    xx = xp.linspace(-3, 3, 601)
    with sj.no_grad():
        ax1.plot(xx, m.data["bf_net"](sj.tensor(xx[:, None], dtype=sj.float64)).numpy().ravel(), lw=2, label="bias-free 1-16-1 ReLU net")
        nb = nn.mlp([1, 16, 1]).to(sj.float64)
        ax1.plot(xx, nb(sj.tensor(xx[:, None], dtype=sj.float64)).numpy().ravel(), lw=1.5, ls="--", label="the same architecture with biases")
    ax1.plot([0, 3], [0, 3 * rays["formula_sum_a_w_(w>0)"]], "k:", lw=1, label="rays x·Σ(w_j>0) a_j w_j and x·Σ(w_j<0) a_j w_j")
    ax1.plot([-3, 0], [-3 * rays["formula_sum_a_w_(w<0)"], 0], "k:", lw=1)
    ax1.set(xlabel="input x", ylabel="f(x)", title="Without biases: two rays from the origin (Xu exercise)")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    names = list(err["bias-free"])
    pos = xp.arange(len(names))
    ax2.bar(pos - 0.2, xp.maximum([err["bias-free"][n] for n in names], 1e-18), 0.4, label="bias-free")
    ax2.bar(pos + 0.2, [err["with bias"][n] for n in names], 0.4, label="with bias")
    ax2.axhline(1e-12, color="k", ls=":", label="threshold 1e-12")
    ax2.set_yscale("log")
    ax2.set_xticks(pos)
    ax2.set_xticklabels(names)
    ax2.set(ylabel="max |f(αx) − αf(x)| / max |αf(x)|", title="Positive homogeneity, α ∈ [0.1, 10]")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "homogeneity.png")
