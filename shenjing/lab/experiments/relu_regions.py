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
from ..core import experiment


def _linear(sj, nn, w, b):
    lin = nn.Linear(w.shape[1], w.shape[0]).to(sj.float64)
    lin.weight._data[...] = w
    lin.bias._data[...] = b
    return lin


def folding_net(d: int, depth: int):
    """A deep ReLU net on [0, 1] whose every layer applies a zig-zag map of [0, 1] onto itself.

    ``d = 2``: the sawtooth/hat map 2ReLU(u) − 4ReLU(u − ½) (2 pieces per layer, 2^K in all);
    ``d ≥ 3``: D + 1 pieces per layer from D units, (D + 1)^K in all. Piece lengths ℓ_0 = ℓ_1 =
    ℓ_4 = … = 1/(D + 3), ℓ_2 = ℓ_3 = 2/(D + 3), slopes σ_k = (−1)^k/ℓ_k; unit j (kink t_j between
    pieces j − 1 and j) computes ReLU(s_j(u − t_j)) with s_3 = −1 (it faces left and gives the first
    slope, −a_3 = σ_0 because 1/ℓ_2 + 1/ℓ_3 = 1/ℓ_0) and s_j = +1 otherwise, with output weight
    a_j = σ_j − σ_{j−1}, plus a constant c making the map 0 at u = 0."""
    import shenjing as sj
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
    layers = [_linear(sj, nn, s[:, None], -s * t), nn.ReLU()]
    for _ in range(depth - 1):  # pre-activation s_i(Σ_j a_j h_j + c − t_i)
        layers += [_linear(sj, nn, s[:, None] * a[None, :], s * (c - t)), nn.ReLU()]
    layers.append(_linear(sj, nn, a[None, :], xp.array([c])))
    return nn.Sequential(*layers)


def _notes_shallow(d_in, d, d_out):
    return (d_in + 1) * d + (d + 1) * d_out  # Fang §4.5


def _notes_deep(d_in, d, d_out, k):
    return (d_in + 1) * d + (d + 1) * (k - 1) * d + (d + 1) * d_out  # Fang §4.5


@experiment(
    id="relu-regions",
    title="Linear regions of shallow and deep ReLU networks, parameter counts and homogeneity",
    title_zh="ReLU 网络的线性区域与参数量",
    source="Fang §4.1, §4.4–4.5 (Zaslavsky); Xu §1.13 exercise on bias-free ReLU nets",
    claim="A shallow ReLU net on a 1-D input is piecewise linear with at most D + 1 regions while deep nets reach "
          "far more ((D + 1)^K, e.g. the sawtooth); parameter counts follow 3D + 1 and 3D + 1 + (K − 1)D(D + 1); "
          "2-D region counts obey Zaslavsky's bound; bias-free ReLU nets satisfy f(αx) = αf(x) for α > 0.",
)
def run(ctx) -> dict:
    import shenjing as sj
    from shenjing import nn
    from shenjing.nn.utils import counting as C
    from shenjing.viz.plots import _plt

    plt = _plt()
    sj.manual_seed(ctx.seed)
    trials = 12 if ctx.quick else 40
    measured, checks = {}, {}

    # ------------------------------------------------ 1. parameter counts (Fang §4.4–4.5)
    pc_rows = []
    for d_in, d, d_out, k in [(1, 3, 1, 1), (1, 10, 1, 1), (1, 3, 1, 4), (1, 10, 1, 3), (2, 5, 3, 1),
                              (5, 4, 2, 3), (784, 100, 10, 2)]:
        model = nn.mlp([d_in] + [d] * k + [d_out])
        n_model = C.count_parameters(model)
        n_notes = _notes_shallow(d_in, d, d_out) if k == 1 else _notes_deep(d_in, d, d_out, k)
        row = {"D_i": d_in, "D": d, "D_o": d_out, "K": k, "count_parameters": n_model, "notes_formula": n_notes}
        if d_in == d_out == 1:
            row["notes_1d_formula"] = 3 * d + 1 + (k - 1) * d * (d + 1)
        pc_rows.append(row)
    measured["parameter_counts"] = pc_rows
    checks["parameter counts equal the notes' formulas"] = all(
        r["count_parameters"] == r["notes_formula"] == r.get("notes_1d_formula", r["notes_formula"]) for r in pc_rows)

    # ------------------------------------------------ 2. random shallow nets on 1-D input
    lo, hi = -3.0, 3.0
    shallow = {}
    ok_formula = ok_bound = True
    example = None
    for d in (3, 6, 12, 24):
        counts = []
        for _ in range(trials):
            net = nn.Sequential(nn.Linear(1, d), nn.ReLU(), nn.Linear(d, 1)).to(sj.float64)
            w, b = net[0].weight.detach().numpy().ravel(), net[0].bias.detach().numpy()
            kinks = -b / w
            inside = int(((kinks > lo) & (kinks < hi)).sum())
            n_reg = C.count_linear_regions_1d(net, lo, hi, n=20001 if ctx.quick else 50_001)
            ok_formula &= n_reg == inside + 1
            ok_bound &= n_reg <= d + 1
            counts.append(n_reg)
            if d == 6 and example is None and inside == d:
                example = (net, kinks)
        shallow[d] = {"max": max(counts), "mean": float(xp.mean(counts)), "bound_D+1": d + 1}
    measured["random_shallow_1d"] = shallow
    checks["shallow 1-D: regions = 1 + kinks inside, for every random net"] = bool(ok_formula)
    checks["shallow 1-D: regions ≤ D + 1 for every random net"] = bool(ok_bound)

    # ------------------------------------------------ 3. deep constructions
    deep = {}
    for d, depths in ((2, range(1, 7 if ctx.quick else 9)), (3, range(1, 5 if ctx.quick else 6)),
                      (4, range(1, 4 if ctx.quick else 5))):
        rows = []
        for k in depths:
            net = folding_net(d, k)
            n_grid = 20_001 if ctx.quick else 200_001  # ≫ 1/(shortest piece) for these depths
            reg = C.count_linear_regions_1d(net, 0.0, 1.0, n=n_grid)
            pieces = C.count_linear_pieces_1d(net, 0.0, 1.0, n=n_grid)
            params = C.count_parameters(net)
            target = 2 ** k if d == 2 else (d + 1) ** k
            shallow_same_params = (params - 1) // 3 + 1  # D' = (P − 1)/3 units → ≤ D' + 1 regions
            rows.append({"K": k, "regions": reg, "linear_pieces": pieces, "expected": target,
                         "notes_bound_(D+1)^K": (d + 1) ** k, "parameters": params,
                         "shallow_bound_same_parameters": shallow_same_params,
                         "shallow_bound_same_units_(DK+1)": d * k + 1})
        deep[f"D={d}"] = rows
    measured["deep_constructions_on_[0,1]"] = deep
    checks["sawtooth: 2^K pieces"] = all(r["linear_pieces"] == r["regions"] == r["expected"] for r in deep["D=2"])
    checks["zig-zag D ≥ 3: reaches the notes' (D+1)^K exactly"] = all(
        r["linear_pieces"] == r["regions"] == r["notes_bound_(D+1)^K"] for key in ("D=3", "D=4") for r in deep[key])
    checks["deep beats shallow with the same parameters (K ≥ 3)"] = all(
        r["regions"] > r["shallow_bound_same_parameters"] for rows in deep.values() for r in rows if r["K"] >= 3)

    # ------------------------------------------------ 4. two inputs: Zaslavsky
    box = 5.0
    n2 = 300 if ctx.quick else 500
    zas = {}
    n_nets = n_match = 0
    ok_under = ok_z = True
    for d in (2, 3, 4, 6):
        counts = []
        for _ in range(6 if ctx.quick else 12):
            net = nn.Sequential(nn.Linear(2, d), nn.ReLU(), nn.Linear(d, 1)).to(sj.float64)
            w, b = net[0].weight.detach().numpy(), net[0].bias.detach().numpy()
            n_grid = C.count_linear_regions_2d(net, (-box, box), (-box, box), n=n2)
            # the arrangement restricted to the box: 1 + lines crossing it + intersections inside
            corners = xp.array([[-box, -box], [-box, box], [box, -box], [box, box]])
            side = corners @ w.T + b
            crossing = int(((side.min(0) < 0) & (side.max(0) > 0)).sum())
            inter = 0
            for i in range(d):
                for j in range(i + 1, d):
                    p = xp.linalg.solve(w[[i, j]], -b[[i, j]])
                    inter += int(xp.abs(p).max() < box)
            n_nets += 1
            n_match += n_grid == 1 + crossing + inter
            ok_under &= n_grid <= 1 + crossing + inter  # a grid can miss a region smaller than a cell, never add one
            ok_z &= n_grid <= C.zaslavsky_bound(d, 2)
            counts.append(n_grid)
        zas[d] = {"max": max(counts), "zaslavsky_bound": C.zaslavsky_bound(d, 2)}
    # lines in general position: tangents of the unit circle at angles spread over [0, π)
    d_gp = 6
    th = (xp.arange(d_gp) + 0.5) * math.pi / d_gp
    wt = xp.stack([xp.cos(th), xp.sin(th)], 1)
    gp = nn.Sequential(_linear(sj, nn, wt, -xp.ones(d_gp)), nn.ReLU(), _linear(sj, nn, xp.ones((1, d_gp)), xp.zeros(1)))
    gp_count, gp_map = C.count_linear_regions_2d(gp, (-box, box), (-box, box), n=500 if ctx.quick else 800,
                                                 return_map=True)
    measured["random_shallow_2d"] = zas
    measured["general_position_D=6"] = {"regions": gp_count, "zaslavsky_bound": C.zaslavsky_bound(d_gp, 2)}
    measured["random_shallow_2d_grid_vs_arrangement"] = {"nets": n_nets, "grid_count_equal": n_match, "grid_cells": n2}
    checks["2-D: grid count = 1 + lines + intersections in the box (≥ 75 % of nets, never above)"] = bool(
        ok_under and n_match >= 0.75 * n_nets)
    checks["2-D: regions ≤ Zaslavsky bound"] = bool(ok_z)
    checks["2-D: general position attains Zaslavsky's bound"] = gp_count == C.zaslavsky_bound(d_gp, 2)

    # ------------------------------------------------ 5. 1-homogeneity without biases
    homog = {}
    for name, sizes in (("shallow 1-16-1", [1, 16, 1]), ("deep 3-32-32-32-2", [3, 32, 32, 32, 2])):
        x = sj.tensor(ctx.rng.normal(size=(200, sizes[0])), dtype=sj.float64)
        alpha = sj.tensor(ctx.rng.uniform(0.1, 10, size=(200, 1)), dtype=sj.float64)
        res = {}
        for bias in (False, True):
            net = nn.mlp(sizes, bias=bias).to(sj.float64)
            with sj.no_grad():
                fa, f1, fneg = net(alpha * x), net(x), net(-x)
            scale = float(xp.abs((alpha * f1).numpy()).max())
            res["bias-free" if not bias else "with bias"] = {
                "max_rel_error_f(ax)-af(x)_a>0": float(xp.abs((fa - alpha * f1).numpy()).max()) / scale,
                "max_rel_error_f(-x)+f(x)": float(xp.abs((fneg + f1).numpy()).max()) / float(xp.abs(f1.numpy()).max()),
            }
        homog[name] = res
    # Xu's exercise: bias-free two-layer net on 1-D = two rays from the origin
    bf_net = nn.mlp([1, 16, 1], bias=False).to(sj.float64)
    w, a = bf_net[0].weight.detach().numpy().ravel(), bf_net[2].weight.detach().numpy().ravel()
    slope_pos, slope_neg = float((a * w)[w > 0].sum()), float((a * w)[w < 0].sum())
    with sj.no_grad():
        f_plus = bf_net(sj.tensor([[1.0]], dtype=sj.float64)).item()
        f_minus = bf_net(sj.tensor([[-1.0]], dtype=sj.float64)).item()
    pieces_bias_free = C.count_linear_pieces_1d(bf_net, -3, 3, n=60001)
    homog["bias-free 1-16-1 on a line"] = {"linear_pieces": pieces_bias_free, "slope_x>0": f_plus,
                                          "formula_sum_a_w_(w>0)": slope_pos, "slope_x<0": -f_minus,
                                          "formula_sum_a_w_(w<0)": slope_neg}
    measured["homogeneity"] = homog
    checks["bias-free: f(αx) = αf(x), α > 0 (rel. error < 1e-12)"] = all(
        v["bias-free"]["max_rel_error_f(ax)-af(x)_a>0"] < 1e-12 for k, v in homog.items() if "with bias" in v)
    checks["with bias: homogeneity fails (rel. error > 1e-3)"] = all(
        v["with bias"]["max_rel_error_f(ax)-af(x)_a>0"] > 1e-3 for k, v in homog.items() if "with bias" in v)
    checks["bias-free 1-D two-layer net: 2 rays with slopes Σ a_j w_j"] = (
        pieces_bias_free <= 2 and abs(f_plus - slope_pos) < 1e-12 and abs(-f_minus - slope_neg) < 1e-12)

    # ------------------------------------------------------------------ figures
    xs = xp.linspace(lo, hi, 3001)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    if example is not None:
        net, kinks = example
        with sj.no_grad():
            ys = net(sj.tensor(xs[:, None], dtype=sj.float64)).numpy().ravel()
        ax1.plot(xs, ys, lw=2, label="f(x), D = 6 hidden ReLU units")
        ks = xp.sort(kinks)
        bounds = xp.concatenate([[lo], ks, [hi]])
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
    ax2.plot(ds, [shallow[d]["max"] for d in ds], "o", label=f"max over {trials} random nets on [−3, 3]")
    ax2.plot(ds, [shallow[d]["mean"] for d in ds], "s", label="mean (kinks outside [−3, 3] do not count)")
    ax2.set(xlabel="hidden units D", ylabel="linear regions", title="Shallow nets never exceed D + 1")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "shallow-regions.png")

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    u = xp.linspace(0, 1, 4001)
    for k in (1, 2, 3, 4):
        with sj.no_grad():
            axes[0].plot(u, folding_net(2, k)(sj.tensor(u[:, None], dtype=sj.float64)).numpy().ravel() + 1.1 * (k - 1),
                         lw=1.2, label=f"K = {k}: {2 ** k} pieces")
    axes[0].set(xlabel="input x ∈ [0, 1]", ylabel="f(x) (curves offset by 1.1)", ylim=(-0.1, 5.6),
                title="Sawtooth: K layers of 2 units (hat map)")
    axes[0].legend(fontsize=8, loc="upper center", ncol=2)
    for k in (1, 2, 3):
        with sj.no_grad():
            axes[1].plot(u, folding_net(3, k)(sj.tensor(u[:, None], dtype=sj.float64)).numpy().ravel() + 1.1 * (k - 1),
                         lw=1.0, label=f"K = {k}: {4 ** k} pieces")
    axes[1].set(xlabel="input x ∈ [0, 1]", ylabel="f(x) (curves offset by 1.1)", ylim=(-0.1, 4.0),
                title="Zig-zag: K layers of D = 3 units, (D+1)^K pieces")
    axes[1].legend(fontsize=8, loc="upper center", ncol=3)
    ax = axes[2]
    for (key, rows), mk in zip(deep.items(), ("o", "s", "^")):
        p = [r["parameters"] for r in rows]
        ax.semilogy(p, [r["regions"] for r in rows], mk + "-", label=f"deep, {key} per layer (measured)")
    pp = xp.arange(4, max(r["parameters"] for rows in deep.values() for r in rows) + 1)
    ax.semilogy(pp, (pp - 1) // 3 + 1, "k--", label="shallow bound with the same parameters")
    ax.set(xlabel="number of parameters", ylabel="linear regions on [0, 1] (log)", title="Deep vs shallow: regions per parameter")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    for a_ in axes[:2]:
        a_.grid(alpha=0.3)
    fig.tight_layout()
    ctx.savefig(fig, "deep-regions.png")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    perm = ctx.rng.permutation(int(gp_map.max()) + 1)
    ax1.imshow(perm[gp_map], origin="lower", extent=(-box, box, -box, box), cmap="tab20", interpolation="nearest")
    for j in range(d_gp):
        c_, s_ = wt[j]
        tt = xp.linspace(-2 * box, 2 * box, 10)
        ax1.plot(c_ - s_ * tt, s_ + c_ * tt, "k-", lw=0.8)
    ax1.set(xlim=(-box, box), ylim=(-box, box), xlabel="x₁", ylabel="x₂",
            title=f"D = {d_gp} units in general position: {gp_count} regions = 1 + D + C(D,2)")
    dd = list(zas)
    ax2.plot(dd, [zas[d]["zaslavsky_bound"] for d in dd], "k--", label="Zaslavsky bound C(D,0) + C(D,1) + C(D,2)")
    ax2.plot(dd, [zas[d]["max"] for d in dd], "o", label="max over random nets in [−5, 5]²")
    ax2.plot([d_gp], [gp_count], "r*", ms=14, label="tangent lines of a circle (left)")
    ax2.set(xlabel="hidden units D (2 inputs)", ylabel="linear regions", title="Two inputs: Zaslavsky's bound")
    ax2.set_xticks(dd)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "zaslavsky-2d.png")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    xx = xp.linspace(-3, 3, 601)
    with sj.no_grad():
        ax1.plot(xx, bf_net(sj.tensor(xx[:, None], dtype=sj.float64)).numpy().ravel(), lw=2,
                 label="bias-free 1-16-1 ReLU net")
        nb = nn.mlp([1, 16, 1]).to(sj.float64)
        ax1.plot(xx, nb(sj.tensor(xx[:, None], dtype=sj.float64)).numpy().ravel(), lw=1.5, ls="--",
                 label="the same architecture with biases")
    ax1.plot([0, 3], [0, 3 * slope_pos], "k:", lw=1, label="rays x·Σ(w_j>0) a_j w_j and x·Σ(w_j<0) a_j w_j")
    ax1.plot([-3, 0], [-3 * slope_neg, 0], "k:", lw=1)
    ax1.set(xlabel="input x", ylabel="f(x)", title="Without biases: two rays from the origin (Xu exercise)")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    names = list(homog)[:2]
    vals_free = [homog[n]["bias-free"]["max_rel_error_f(ax)-af(x)_a>0"] for n in names]
    vals_bias = [homog[n]["with bias"]["max_rel_error_f(ax)-af(x)_a>0"] for n in names]
    pos = xp.arange(len(names))
    ax2.bar(pos - 0.2, xp.maximum(vals_free, 1e-18), 0.4, label="bias-free")
    ax2.bar(pos + 0.2, vals_bias, 0.4, label="with bias")
    ax2.axhline(1e-12, color="k", ls=":", label="threshold 1e-12")
    ax2.set_yscale("log")
    ax2.set_xticks(pos)
    ax2.set_xticklabels(names)
    ax2.set(ylabel="max |f(αx) − αf(x)| / max |αf(x)|", title="Positive homogeneity, α ∈ [0.1, 10]")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "homogeneity.png")

    measured["checks"] = checks
    return {
        "measured": measured,
        "verdict": bool(all(checks.values())),
        "method": "count_linear_regions_1d/2d (activation patterns at the centres of a fine grid) and "
                  "count_linear_pieces_1d (slope changes) from shenjing.nn.utils.counting on float64 nets. The claim "
                  "holds if every check in measured.checks passes: parameter counts of nn.mlp equal the notes' "
                  "formulas; every random shallow 1-D net has exactly 1 + (kinks inside) ≤ D + 1 regions; the "
                  "sawtooth has 2^K and the zig-zag (D ≥ 3) (D+1)^K pieces and regions, more than any shallow net "
                  "with as many parameters for K ≥ 3; the grid count of random 2-D nets equals that of their line "
                  "arrangement in the box (1 + lines + intersections) for ≥ 75 % of them and never exceeds it (a "
                  "region thinner than a grid cell can be missed), and is ≤ Zaslavsky's bound, attained in general "
                  "position; "
                  "bias-free nets satisfy f(αx) = αf(x) to 1e-12 (relative) while biased ones miss by > 1e-3.",
    }
