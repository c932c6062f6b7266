"""convexity: convex vs non-convex landscapes (凸 vs 非凸景观) and the gradient ⟂ level sets (Nelson ch. 4).

Three facts of Nelson's "凸 vs 非凸景观" and "解释学习率超参数 η 的作用" (Figs. 4-8 to 4-12):

* "两个凸函数的组合不一定是凸的": h = g∘f with f and g convex is convex when g is also non-decreasing
  (非递减), not otherwise. Measured by Jensen's inequality h(λx + (1−λ)y) ≤ λh(x) + (1−λ)h(y) on
  random pairs: (x² − 1)² = g(x²) and (relu(x) − 1)² = g(relu(x)) with g(t) = (t − 1)² — the squared
  error, convex but not non-decreasing, as the note says of MSE — violate it; exp(x²) and
  softplus(relu(x) − 1) (non-decreasing outer g) never do, to round-off.
* A network's loss is not convex in its weights (神经网络的优化通常是非凸的): permuting the hidden
  units of a trained one-hidden-layer net, w ↦ Pw, leaves the loss unchanged (to round-off) at a
  different weight vector, and the midpoint ½(w + Pw) has a strictly higher loss, so
  L(½(w + Pw)) > ½(L(w) + L(Pw)) breaks Jensen's inequality.
* "某点处的梯度向量与该点处的等高线垂直" (Fig. 4-8 caption; the zig-zag of Fig. 4-9): on level
  curves traced numerically (contouring, each vertex then bisected onto the curve along its grid
  edge), every chord of the curve is perpendicular to ∇f (shenjing autograd) at its midpoint, up to
  the chord's O(ℓ²) error, for ω₁² + 20ω₂² (Fig. 4-9), Rosenbrock's valley and the network's loss on
  the plane through w, Pw and a random direction. The direction to the minimum is not
  perpendicular to the level curve of the narrow valley, which is why GD zig-zags there.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

ROUNDOFF = 1e-12  # a Jensen gap (or loss change) this small is float64 round-off
A = 20.0  # ω₁² + aω₂², the middle panel of Fig. 4-9
HIDDEN = 6
N_PERMS = 5  # random derangements of the hidden units
QUANTILES = (0.1, 0.3, 0.6)  # levels of the network's plane: these quantiles of its values on the grid

EXPERIMENT = Experiment(
    id="convexity",
    title="Convexity: compositions that are not convex, a network's non-convex loss, the gradient ⟂ level sets",
    title_zh="凸性: 不凸的凸函数复合, 神经网络损失的非凸性, 梯度垂直于等高线",
    source="Nelson ch. 4 (凸 vs 非凸景观; Figs. 4-8, 4-9)",
    claim="g∘f with f, g convex is convex when g is non-decreasing (exp(x²), softplus(relu(x) − 1): no Jensen "
          "violation beyond round-off) and not otherwise ((x² − 1)², (relu(x) − 1)²: violations); permuting the hidden "
          "units of a trained network gives the same loss at other weights, and the loss at the midpoint is higher, so "
          "the loss is not convex in the weights; the gradient is perpendicular to the level curves.",
    claim_zh="f, g 均为凸函数时, 若 g 非递减则 g∘f 为凸 (exp(x²), softplus(relu(x) − 1): Jensen 不等式除舍入误差外不被违反), 否则不一定 "
             "((x² − 1)², (relu(x) − 1)²: 被违反); 置换已训练网络的隐藏单元, 在另一组权重处得到相同的损失, 而两者中点的损失更高, "
             "所以损失对权重不是凸的; 梯度与等高线垂直.",
    checks=(
        Check("nonconvex_violation_fraction", ">=", 0.05,
              f"for (x² − 1)² and (relu(x) − 1)², the fraction of random (x, y, λ) breaking Jensen's inequality by more than {ROUNDOFF:g}",
              what_zh=f"对 (x² − 1)² 与 (relu(x) − 1)², 以超过 {ROUNDOFF:g} 的差违反 Jensen 不等式的随机 (x, y, λ) 所占比例"),
        Check("nonconvex_max_violation", ">=", 0.1, "for (x² − 1)² and (relu(x) − 1)², the largest h(λx + (1−λ)y) − λh(x) − (1−λ)h(y)",
              what_zh="对 (x² − 1)² 与 (relu(x) − 1)², h(λx + (1−λ)y) − λh(x) − (1−λ)h(y) 的最大值"),
        Check("convex_max_violation", "<=", ROUNDOFF, "for exp(x²) and softplus(relu(x) − 1), the largest h(λx + (1−λ)y) − λh(x) − (1−λ)h(y)",
              what_zh="对 exp(x²) 与 softplus(relu(x) − 1), h(λx + (1−λ)y) − λh(x) − (1−λ)h(y) 的最大值"),
        Check("permuted_loss_rel_diff", "<=", ROUNDOFF, "the largest |L(Pw) − L(w)| / L(w) over the permutations P of the hidden units",
              what_zh="隐藏单元的各置换 P 上 |L(Pw) − L(w)| / L(w) 的最大值"),
        Check("permuted_distance_rel", ">=", 0.5, "the smallest ‖Pw − w‖ / ‖w‖ over the permutations",
              what_zh="各置换上 ‖Pw − w‖ / ‖w‖ 的最小值"),
        Check("midpoint_excess", ">=", 1.0, "the smallest [L(½(w + Pw)) − ½(L(w) + L(Pw))] / L(w) over the permutations",
              what_zh="各置换上 [L(½(w + Pw)) − ½(L(w) + L(Pw))] / L(w) 的最小值"),
        Check("level_set_max_abs_cos", "<=", 1e-2, "for ω₁² + 20ω₂², Rosenbrock and the network's loss on a plane, the largest "
              "|cos| of the angle between ∇f and a chord of a level curve", what_zh="对 ω₁² + 20ω₂²、Rosenbrock 函数与网络损失在一个平面上的限制, "
              "∇f 与等高线弦夹角的 |cos| 的最大值"),
        Check("radial_max_abs_cos", ">=", 0.5, "on ω₁² + 20ω₂², the largest |cos| of the angle between the direction to the minimum "
              "and a chord of a level curve (the direction to the minimum is not perpendicular to it)",
              what_zh="在 ω₁² + 20ω₂² 上, 指向最小值的方向与等高线弦夹角的 |cos| 的最大值 (指向最小值的方向并不垂直于等高线)"),
    ),
)


def _t(a, grad: bool = False):
    import shenjing as sj

    return sj.tensor(a, dtype=sj.float64, requires_grad=grad)


def compositions() -> dict:
    """name -> (h, convex?) with h = g∘f, f and g convex, acting elementwise on a shenjing tensor."""
    import shenjing as sj
    import shenjing.nn.functional as F

    return {"(x² − 1)²": (lambda x: (x ** 2 - 1) ** 2, False),
            "(relu(x) − 1)²": (lambda x: (sj.relu(x) - 1) ** 2, False),
            "exp(x²)": (lambda x: sj.exp(x ** 2), True),
            "softplus(relu(x) − 1)": (lambda x: F.softplus(sj.relu(x) - 1), True)}


def _on(h, a) -> xp.ndarray:
    """h at the numbers ``a``, computed in float64 by shenjing."""
    return h(_t(xp.asarray(a, dtype=float))).numpy()


def jensen_gaps(h, x, y, lam) -> xp.ndarray:
    """h(λx + (1−λ)y) − λh(x) − (1−λ)h(y) for arrays x, y, λ: > 0 breaks convexity."""
    return _on(h, lam * x + (1 - lam) * y) - lam * _on(h, x) - (1 - lam) * _on(h, y)


# --- the network: one hidden tanh layer, weights as one flat vector [W1 (H×2), b1 (H), W2 (H), b2] ---

def net_loss(w, x, y, hidden: int = HIDDEN):
    """Mean squared error of the net for each row of ``w`` (shape (G, 4H + 1)): a tensor of shape (G,)."""
    g = w.shape[0]
    W1 = w[:, :2 * hidden].reshape(g, hidden, 2)
    b1, W2, b2 = w[:, 2 * hidden:3 * hidden], w[:, 3 * hidden:4 * hidden], w[:, 4 * hidden:]
    z = (x @ W1.transpose(1, 2) + b1.reshape(g, 1, hidden)).tanh()  # (G, n, H)
    out = (z * W2.reshape(g, 1, hidden)).sum(-1) + b2  # (G, n)
    return ((out - y) ** 2).mean(-1)


def permute_units(w: xp.ndarray, perm: xp.ndarray) -> xp.ndarray:
    """The flat weight vector with hidden unit perm[i] moved to position i (the same function)."""
    h = len(perm)
    W1 = w[:2 * h].reshape(h, 2)[perm].ravel()
    return xp.concatenate([W1, w[2 * h:3 * h][perm], w[3 * h:4 * h][perm], w[4 * h:]])


def _data(rng, n: int):
    x = rng.uniform(-2, 2, (n, 2))
    return x, xp.sin(2 * x[:, 0]) * xp.cos(x[:, 1])


def train(x, y, rng, steps: int) -> xp.ndarray:
    """Full-batch Adam on the MSE from a N(0, 1) start; the trained flat weight vector."""
    import shenjing as sj

    w = _t(rng.normal(size=(1, 4 * HIDDEN + 1)), grad=True)
    X, Y = _t(x), _t(y)
    opt = sj.optim.Adam([w], lr=0.02)
    for _ in range(steps):
        opt.zero_grad()
        net_loss(w, X, Y).sum().backward()
        opt.step()
    return w.detach().numpy()[0]


def _derangement(rng, h: int) -> xp.ndarray:
    while True:
        p = rng.permutation(h)
        if (p != xp.arange(h)).all():
            return p


# --- level curves ---

def quadratic(W):
    """ω₁² + aω₂² (Fig. 4-9) at points W of shape (..., 2)."""
    return W[..., 0] ** 2 + A * W[..., 1] ** 2


def rosenbrock(W):
    """(1 − ω₁)² + 100(ω₂ − ω₁²)², the curved narrow valley."""
    return (1 - W[..., 0]) ** 2 + 100 * (W[..., 1] - W[..., 0] ** 2) ** 2


def net_plane(w: xp.ndarray, pw: xp.ndarray, x, y, rng):
    """f(α, β) = L(m + αd₁ + βd₂) with m = ½(w + Pw), d₁ = ½(Pw − w) (w at (−1, 0), Pw at (1, 0)) and d₂ a
    random direction orthogonal to d₁ of the same length."""
    m, d1 = (w + pw) / 2, (pw - w) / 2
    d2 = rng.normal(size=len(w))
    d2 -= d2 @ d1 / (d1 @ d1) * d1
    d2 *= xp.linalg.norm(d1) / xp.linalg.norm(d2)
    M, D, X, Y = _t(m[None]), _t(xp.stack([d1, d2])), _t(x), _t(y)
    return lambda W: net_loss(W.reshape(-1, 2) @ D + M, X, Y).reshape(W.shape[:-1])


def values(f, pts: xp.ndarray, chunk: int = 20000) -> xp.ndarray:
    """f at each point of ``pts`` (shape (..., 2)), ``chunk`` points at a time."""
    import shenjing as sj

    flat = pts.reshape(-1, 2)
    with sj.no_grad():
        out = [f(_t(flat[i:i + chunk])).numpy() for i in range(0, len(flat), chunk)]
    return xp.concatenate(out).reshape(pts.shape[:-1])


def gradients(f, pts: xp.ndarray) -> xp.ndarray:
    """∇f at each row of ``pts`` (shape (m, 2)) by shenjing autograd."""
    W = _t(pts, grad=True)
    f(W).sum().backward()
    return W.grad.numpy()


def level_curves(f, xs: xp.ndarray, ys: xp.ndarray, level: float) -> list[xp.ndarray]:
    """The curves f = level: matplotlib's contouring (contourpy) on the grid xs × ys puts each vertex on a
    grid edge by linear interpolation; 60 bisections along that edge then put it on the curve itself."""
    import contourpy

    X, Y = xp.meshgrid(xs, ys)
    lines = contourpy.contour_generator(X, Y, values(f, xp.stack([X, Y], -1))).lines(level)
    return [_onto_curve(f, p, xs, ys, level) for p in lines if len(p) > 2]


def _onto_curve(f, p: xp.ndarray, xs: xp.ndarray, ys: xp.ndarray, level: float) -> xp.ndarray:
    ix, iy = (p[:, 0] - xs[0]) / (xs[1] - xs[0]), (p[:, 1] - ys[0]) / (ys[1] - ys[0])
    vertical = (xp.abs(ix - xp.round(ix)) < 1e-6)[:, None]  # on a grid line x = const: move along y
    i = xp.clip(xp.floor(ix), 0, len(xs) - 2).astype(int)
    j = xp.clip(xp.floor(iy), 0, len(ys) - 2).astype(int)
    lo = xp.where(vertical, xp.stack([p[:, 0], ys[j]], 1), xp.stack([xs[i], p[:, 1]], 1))
    hi = xp.where(vertical, xp.stack([p[:, 0], ys[j + 1]], 1), xp.stack([xs[i + 1], p[:, 1]], 1))
    side = xp.sign(values(f, lo) - level)
    for _ in range(60):
        mid = (lo + hi) / 2
        same = (xp.sign(values(f, mid) - level) == side)[:, None]
        lo, hi = xp.where(same, mid, lo), xp.where(same, hi, mid)
    return (lo + hi) / 2


def chord_cosines(f, curves: list[xp.ndarray], centre=None) -> xp.ndarray:
    """|cos| of the angle between each chord of the curves and ∇f at the chord's midpoint (or, given
    ``centre``, the direction from ``centre`` to it). Both ends of a chord lie on the curve, so the chord
    is the tangent to O(ℓ²)."""
    chords = xp.concatenate([c[1:] - c[:-1] for c in curves])
    mids = xp.concatenate([(c[1:] + c[:-1]) / 2 for c in curves])
    keep = xp.linalg.norm(chords, axis=1) > 1e-9  # a vertex repeated where a curve closes or meets a grid node
    chords, mids = chords[keep], mids[keep]
    d = gradients(f, mids) if centre is None else mids - centre
    return xp.abs((d * chords).sum(1)) / (xp.linalg.norm(d, axis=1) * xp.linalg.norm(chords, axis=1))


# --- measure and draw ---

def _jensen(rng, pairs: int) -> tuple[dict, dict]:
    x, y, lam = rng.uniform(-2, 2, pairs), rng.uniform(-2, 2, pairs), rng.uniform(0, 1, pairs)
    gaps = {name: jensen_gaps(h, x, y, lam) for name, (h, _) in compositions().items()}
    convex = {name: c for name, (_, c) in compositions().items()}
    measured = {
        "nonconvex_violation_fraction": {k: float((g > ROUNDOFF).mean()) for k, g in gaps.items() if not convex[k]},
        "nonconvex_max_violation": {k: float(g.max()) for k, g in gaps.items() if not convex[k]},
        "convex_max_violation": {k: float(g.max()) for k, g in gaps.items() if convex[k]},
    }
    worst = {k: (x[g.argmax()], y[g.argmax()], lam[g.argmax()]) for k, g in gaps.items() if not convex[k]}
    return measured, worst


def _permutations(rng, steps: int) -> tuple[dict, dict]:
    x, y = _data(rng, 64)
    w = train(x, y, rng, steps)
    X, Y = _t(x), _t(y)
    loss = lambda ws: net_loss(_t(xp.stack(ws)), X, Y).numpy()  # noqa: E731
    pws = [permute_units(w, _derangement(rng, HIDDEN)) for _ in range(N_PERMS)]
    L0, Lp, Lm = loss([w])[0], loss(pws), loss([(w + pw) / 2 for pw in pws])
    measured = {
        "train_loss": float(L0), "permuted_losses": Lp.tolist(), "midpoint_losses": Lm.tolist(),
        "permuted_loss_rel_diff": float(xp.abs(Lp - L0).max() / L0),
        "permuted_distance_rel": float(min(xp.linalg.norm(pw - w) for pw in pws) / xp.linalg.norm(w)),
        "midpoint_excess": float(((Lm - (L0 + Lp) / 2) / L0).min()),
    }
    ts = xp.linspace(-0.25, 1.25, 61)
    lines = [loss([w + t * (pw - w) for t in ts]) for pw in pws]
    return measured, {"ts": ts, "lines": lines, "plane": net_plane(w, pws[0], x, y, rng)}


def measure(ctx) -> Measurement:
    pairs, steps, grid = (20000, 1500, 300) if ctx.quick else (200000, 4000, 600)
    measured, worst = _jensen(ctx.rng, pairs)
    more, data = _permutations(ctx.rng, steps)
    measured.update(more)

    span = xp.linspace(-1.8, 1.8, grid)
    Z = values(data["plane"], xp.stack(xp.meshgrid(span, span), -1))
    cases = {f"ω₁² + {A:g}ω₂²": (quadratic, xp.linspace(-4.5, 4.5, grid), xp.linspace(-1.1, 1.1, grid), (1.0, 4.0, 16.0)),
             "Rosenbrock": (rosenbrock, xp.linspace(-2, 2, grid), xp.linspace(-1, 3, grid), (10.0, 30.0, 100.0)),
             "network loss on a plane": (data["plane"], span, span, tuple(xp.quantile(Z, QUANTILES).tolist()))}
    curves = {k: [p for c in levels for p in level_curves(f, xs, ys, c)] for k, (f, xs, ys, levels) in cases.items()}
    cosines = {k: chord_cosines(cases[k][0], cs) for k, cs in curves.items()}
    radial = chord_cosines(quadratic, curves[f"ω₁² + {A:g}ω₂²"], centre=xp.zeros(2))
    measured.update({
        "level_set_max_abs_cos": {k: float(c.max()) for k, c in cosines.items()},
        "level_set_median_abs_cos": {k: float(xp.median(c)) for k, c in cosines.items()},
        "level_set_chords": {k: len(c) for k, c in cosines.items()},
        "radial_max_abs_cos": float(radial.max()),
    })
    method = (f"Jensen gaps of four compositions at {pairs} random (x, y) uniform on [−2, 2]² and λ uniform on [0, 1], "
              f"computed with shenjing in float64; a net x ↦ W₂ tanh(W₁x + b₁) + b₂ with {HIDDEN} hidden units trained by "
              f"full-batch Adam (lr 0.02, {steps} steps, MSE) on 64 points y = sin(2x₁)cos(x₂), then {N_PERMS} random "
              f"derangements P of its hidden units; level curves traced by contouring on a {grid} × {grid} grid with each "
              f"vertex bisected onto the curve along its grid edge, ∇f by shenjing autograd at every chord's midpoint: "
              f"ω₁² + {A:g}ω₂² at levels 1, 4, 16, Rosenbrock at 10, 30, 100, the net's loss on the plane through w, Pw "
              f"(first derangement) and a random direction at the {', '.join(f'{q:g}' for q in QUANTILES)} quantiles of "
              f"its grid values.")
    method_zh = (f"在 {pairs} 个随机 (x, y) (均匀分布于 [−2, 2]²) 与 λ (均匀分布于 [0, 1]) 上用 shenjing (float64) 计算四个复合函数的 "
                 f"Jensen 差; 含 {HIDDEN} 个隐藏单元的网络 x ↦ W₂ tanh(W₁x + b₁) + b₂ 在 64 个点 y = sin(2x₁)cos(x₂) 上以全批量 "
                 f"Adam (学习率 0.02, {steps} 步, 均方误差) 训练, 再取隐藏单元的 {N_PERMS} 个随机错位置换 P; 等高线在 "
                 f"{grid} × {grid} 网格上求出, 每个顶点再沿所在网格边二分到曲线上, ∇f 由 shenjing 自动微分在每条弦的中点求得.")
    return Measurement(measured, method, method_zh=method_zh,
                       data={**data, "worst": worst, "cases": cases, "curves": curves})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    _compositions_figure(plt, ctx, m)
    _bump_figure(plt, ctx, m)
    _level_sets_figure(plt, ctx, m)


def _compositions_figure(plt, ctx, m: Measurement) -> None:
    """Rows: the inner f (x², relu(x)); columns: the outer g not monotone / non-decreasing; the non-convex
    panel's worst chord drawn on both."""
    funcs, mm = compositions(), m.measured
    rows = (("(x² − 1)²", "exp(x²)", "f(x) = x²"), ("(relu(x) − 1)²", "softplus(relu(x) − 1)", "f(x) = relu(x)"))
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), layout="constrained")
    grid = xp.linspace(-2, 2, 401)
    for (bad, good, inner), row in zip(rows, axes):
        x, y, lam = m.data["worst"][bad]
        for name, ax in zip((bad, good), row):
            hx, hy, hz = _on(funcs[name][0], [x, y, lam * x + (1 - lam) * y])
            chord = lam * hx + (1 - lam) * hy
            ax.plot(grid, _on(funcs[name][0], grid), "k-", label=f"h = {name}")
            ax.plot([x, y], [hx, hy], "C0o-", label="chord λh(x) + (1−λ)h(y)")
            ax.plot([lam * x + (1 - lam) * y] * 2, [chord, hz], "C3-", lw=2, label=f"h(λx + (1−λ)y) − chord = {hz - chord:+.3f}")
            if name == bad:
                title = (f"{name}: g(t) = (t − 1)², not monotone\n{mm['nonconvex_violation_fraction'][name]:.1%} of random "
                         f"chords violated, worst by {mm['nonconvex_max_violation'][name]:.3f}")
            else:
                title = (f"{name}: g non-decreasing\nno violation (largest gap "
                         f"{mm['convex_max_violation'][name]:.1e})")
            ax.set(xlabel="x", ylabel="h(x)", title=f"{title}; {inner}")
            ax.set_ylim(top=min(ax.get_ylim()[1], 3 * max(hx, hy, hz, 1)))  # zoom to the chord
            ax.legend(fontsize=8)
    ctx.savefig(fig, "compositions")


def _bump_figure(plt, ctx, m: Measurement) -> None:
    ts, lines, mm = m.data["ts"], m.data["lines"], m.measured
    fig, ax = plt.subplots(figsize=(6.5, 4.8), layout="constrained")
    for k, line in enumerate(lines[1:]):
        ax.semilogy(ts, line, color="0.7", lw=1, label="other permutations" if k == 0 else None)
    ax.semilogy(ts, lines[0], "C0-", lw=2, label="L(w + t(Pw − w))")
    ax.semilogy([0, 1], [mm["train_loss"], mm["permuted_losses"][0]], "ko", label="w (t = 0) and Pw (t = 1): equal loss")
    ax.semilogy([0, 1], [mm["train_loss"], mm["permuted_losses"][0]], "k--", lw=1, label="chord: a convex L stays below it")
    ax.semilogy([0.5], [mm["midpoint_losses"][0]], "C3s", label=f"midpoint: L = {mm['midpoint_losses'][0]:.3g}")
    ax.set(xlabel="t", ylabel="training loss (MSE)",
           title=f"Loss on the line from w to a permutation Pw of its {HIDDEN} hidden units")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    ctx.savefig(fig, "permutation_bump")


def _level_sets_figure(plt, ctx, m: Measurement) -> None:
    """The traced level curves with unit gradients (shenjing autograd) at points along them, equal axes."""
    fig, axd = plt.subplot_mosaic([["q", "q"], ["r", "n"]], figsize=(11, 8.6), height_ratios=[1, 2.4], layout="constrained")
    for key, (name, (f, xs, ys, _)) in zip("qrn", m.data["cases"].items()):
        ax, curves = axd[key], m.data["curves"][name]
        for c in curves:
            ax.plot(c[:, 0], c[:, 1], "k-", lw=1)
        pts = xp.concatenate([c[:: max(1, len(c) // 8)] for c in curves])
        g = gradients(f, pts)
        g /= xp.linalg.norm(g, axis=1, keepdims=True)
        ax.quiver(pts[:, 0], pts[:, 1], g[:, 0], g[:, 1], color="C3", angles="xy", scale_units="xy",
                  scale=8 / (xs[-1] - xs[0]) if key != "q" else 2.5, width=0.004, label="∇f / |∇f| (autograd)")
        ax.set(xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]), xlabel="ω₁" if key != "n" else "α (along Pw − w)",
               ylabel="ω₂" if key != "n" else "β (random direction)", aspect="equal",
               title=f"{name}: largest |cos(∇f, chord)| = {m.measured['level_set_max_abs_cos'][name]:.1e}")
        if key == "n":
            ax.plot([-1, 1], [0, 0], "C0o", label="w (α = −1) and Pw (α = 1)")
            ax.plot([0], [0], "C3s", label="midpoint")
        ax.legend(fontsize=8, loc="upper right")
    ctx.savefig(fig, "level_sets")
