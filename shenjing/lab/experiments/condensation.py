"""condensation: with a small initialisation, the input weights of a two-layer network condense onto a
few directions (beyond the notes; Luo, Xu, Ma & Zhang 2021, "Phase diagram for two-layer ReLU
neural networks at infinite-width limit", and Xu et al.'s work on condensation).

A two-layer tanh network f(x) = Σ_i a_i tanh(w_i x + b_i) + c of width m is trained with Adam on a
1-D regression task (toy.sine on [−1, 1]). Each hidden neuron is described by its input-weight
vector u_i = (w_i, b_i) ∈ R²; its *direction* is u_i/‖u_i‖, drawn as the angle θ_i = atan2(b_i, w_i).
With the standard initialisation (nn.Linear's U(±1/√fan_in)) the directions are spread out and
training moves them only a little (the network stays close to its random features). With a small
initialisation (every parameter ~ N(0, σ²), σ = 10⁻³) the gradient of every neuron at the start is
nearly the same function of its direction, so the neurons grow along a few common directions: the
network condenses and behaves like a much narrower one.

Measured: the fraction of neuron pairs whose directions are (anti-)parallel, |cos(u_i, u_j)| > 0.95
(about 0.2 for uniformly random directions in R²), and the number of direction clusters (greedy
clustering of the angles modulo 180° with an 18° window, = arccos 0.95), before and after training,
for both initialisations.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import Check, Experiment, Measurement

COS = 0.95

EXPERIMENT = Experiment(
    id="condensation",
    title="Condensation: small initialisation makes a two-layer net's neurons align",
    title_zh="凝聚现象",
    source="beyond the notes (Luo, Xu et al. 2021)",
    claim="Trained from a small initialisation, the input-weight directions (w_i, b_i)/‖(w_i, b_i)‖ of a two-layer tanh "
          "network condense onto a few orientations (most pairs nearly parallel), whereas from the standard "
          "initialisation they stay spread out.",
    claim_zh="从小初始化开始训练, 两层 tanh 网络输入权重的方向 (w_i, b_i)/‖(w_i, b_i)‖ 凝聚到少数几个方向上 (大多数对几乎平行),"
             " 而从标准初始化开始它们保持分散.",
    checks=(
        Check("small_init.parallel_fraction_after", ">=", 0.8, "after training from the small init, the fraction of pairs with |cos| > 0.95",
              what_zh="从小初始化训练后 |cos| > 0.95 的对所占比例"),
        Check("standard_init.parallel_fraction_after", "<=", 0.4, "from the standard init", what_zh="从标准初始化训练后"),
        Check("clusters_after_standard_minus_small", ">", 0, "the standard init's orientation clusters minus the small init's",
              what_zh="标准初始化的方向簇数减去小初始化的"),
        Check("small_init.loss_last_over_first", "<", 0.1, "the small init's final loss / its first", what_zh="小初始化的最终损失 / 初始损失"),
    ),
)


def directions(net) -> xp.ndarray:
    """(m, 2) input-weight vectors (w_i, b_i) of the hidden layer."""
    lin = net[0]
    return xp.concatenate([lin.weight.array, lin.bias.array[:, None]], axis=1).astype(xp.float64)


def parallel_fraction(u, cos: float = COS) -> float:
    """Fraction of pairs i < j with |cos(u_i, u_j)| > cos."""
    v = u / xp.maximum(xp.linalg.norm(u, axis=1, keepdims=True), 1e-300)
    c = xp.abs(v @ v.T)
    iu = xp.triu_indices(len(v), 1)
    return float((c[iu] > cos).mean())


def count_clusters(u, window_deg: float = math.degrees(math.acos(COS))) -> int:
    """Greedy clustering of orientations (angles mod 180°): sort, then start a new cluster whenever an
    angle is more than ``window_deg`` past the first angle of the current cluster (wrapping at 180°)."""
    ang = xp.sort(xp.degrees(xp.arctan2(u[:, 1], u[:, 0])) % 180.0)
    if len(ang) == 0:
        return 0
    # start at the largest gap so that a cluster straddling 0°/180° is not cut in two
    gaps = xp.diff(xp.concatenate([ang, ang[:1] + 180.0]))
    start = (int(xp.argmax(gaps)) + 1) % len(ang)
    ang = xp.concatenate([ang[start:], ang[:start] + 180.0])
    clusters, first = 1, ang[0]
    for a in ang[1:]:
        if a - first > window_deg:
            clusters += 1
            first = a
    return clusters


def train(init_std, width: int, epochs: int, x, y, lr: float = 1e-3) -> tuple:
    """Train the two-layer tanh net with full-batch Adam on the MSE (``init_std`` None: nn.Linear's default
    init, else every parameter ~ N(0, init_std²)); return (u before, u after, losses, net)."""
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.nn import init
    from shenjing.train import full_batch

    net = nn.mlp([1, width, 1], activation="tanh").double()
    if init_std is not None:
        for p in net.parameters():
            init.normal_(p, 0.0, init_std)
    u0 = directions(net)
    losses = full_batch(lambda: F.mse_loss(net(x), y), optim.Adam(net.parameters(), lr=lr), epochs)
    return u0, directions(net), losses, net


def direction_stats(u0, u1, losses) -> dict:
    """Parallel fraction and orientation clusters before and after training, and the loss."""
    return {"parallel_fraction_before": parallel_fraction(u0), "parallel_fraction_after": parallel_fraction(u1),
            "clusters_before": count_clusters(u0), "clusters_after": count_clusters(u1),
            "loss_first": losses[0], "loss_last": losses[-1], "loss_last_over_first": losses[-1] / losses[0]}


INITS = (("standard", None), ("small (σ = 1e-3)", 1e-3))


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing.data import toy

    width, epochs = (64, 600) if ctx.quick else (200, 4000)
    x, y = toy.sine(40, low=-1.0, high=1.0, freq=math.pi / 2)
    x, y = x.double(), y.double()
    res = {}
    for name, std in INITS:
        sj.manual_seed(ctx.seed)
        res[name] = train(std, width, epochs, x, y)
    stats = {name: direction_stats(u0, u1, losses) for name, (u0, u1, losses, _) in res.items()}
    small, std = stats["small (σ = 1e-3)"], stats["standard"]
    measured = {"width": width, "epochs": epochs, "random_directions_expected_fraction": 2 * math.acos(COS) / math.pi,
                "standard_init": std, "small_init": small,
                "clusters_after_standard_minus_small": std["clusters_after"] - small["clusters_after"]}
    method = (f"Two-layer tanh net 1-{width}-1 (float64) trained with full-batch Adam (lr 1e-3, {epochs} steps) on the MSE "
              "of 40 points of toy.sine on [−1, 1], once from nn.Linear's default init and once with every parameter "
              "~ N(0, 1e-6), from the same seed. Each hidden neuron's direction is u_i = (w_i, b_i); a pair counts as "
              f"(anti-)parallel if |cos(u_i, u_j)| > {COS} (uniformly random directions give 2·arccos(0.95)/π ≈ 20%), and "
              "orientation clusters are counted greedily over the angles mod 180° with an 18° window.")
    return Measurement(measured, method, data={"res": res, "stats": stats, "x": x, "y": y})


def figures(ctx, m: Measurement) -> None:
    import shenjing as sj
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    res, stats, x, y = m.data["res"], m.data["stats"], m.data["x"], m.data["y"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, (name, (u0, u1, _, _)) in zip(axes[:2], res.items()):
        for u, lab, mk, col in ((u0, "before training", "x", "0.55"), (u1, "after training", "o", "tab:red")):
            th = xp.degrees(xp.arctan2(u[:, 1], u[:, 0]))
            ax.scatter(th, xp.linalg.norm(u, axis=1), marker=mk, s=18, color=col, label=lab, alpha=0.8)
        ax.set_yscale("log")
        s = stats[name]
        ax.set(xlabel="direction angle θ = atan2(b_i, w_i) (degrees)", ylabel="‖(w_i, b_i)‖", xlim=(-180, 180),
               title=f"{name} init: |cos| > 0.95 for {s['parallel_fraction_before']:.0%} → "
                     f"{s['parallel_fraction_after']:.0%} of pairs")
        ax.set_xticks(range(-180, 181, 60))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower left")
    ax = axes[2]
    ax.plot(x.numpy()[:, 0], y.numpy()[:, 0], "ko", ms=4, label="data (toy.sine)")
    with sj.no_grad():
        grid = sj.linspace(-1, 1, 200, dtype=sj.float64).reshape(-1, 1)
        for name, (_, _, losses, net) in res.items():
            ax.plot(grid.numpy()[:, 0], net(grid).numpy()[:, 0], lw=1.6, label=f"{name} init (MSE {losses[-1]:.2g})")
    ax.set(xlabel="x", ylabel="y", title=f"Fits after {m.measured['epochs']} Adam epochs, width {m.measured['width']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Condensation: input-weight directions of a two-layer tanh network before and after training")
    fig.tight_layout()
    ctx.savefig(fig, "condensation.png")
