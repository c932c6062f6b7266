"""hopfield: a Hopfield network (联想记忆) stores patterns and recalls them from corrupted cues (Xu §1.12).

P random patterns ξ^μ ∈ {−1, +1}^N are stored by the Hebbian rule W = (1/N) Σ_μ ξ^μ ξ^μᵀ with a zero
diagonal. A cue is a stored pattern with a fraction of its bits flipped; recall iterates s ← sign(W s)
(all units at once) until s stops changing. The overlap m = ξ·s / N of the recalled state with the
stored pattern is 1 for perfect recall. Recall is near perfect at small load α = P/N and collapses past
the capacity α_c ≈ 0.138 (Amit, Gutfreund & Sompolinsky 1985). Each stored pattern is a minimum of the
energy E(s) = −½ sᵀ W s, which one-unit-at-a-time updates never increase: the "function with many
extrema, one per remembered picture" of the note.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

FLIP = 0.1  # fraction of bits flipped in a cue
GOOD = 0.95  # "near-perfect recall": mean overlap at least this
ALPHA_C = 0.138

EXPERIMENT = Experiment(
    id="hopfield",
    title="Hopfield network: Hebbian storage, recall from corrupted cues, capacity near 0.138 N",
    title_zh="Hopfield 网络: Hebb 规则存储, 从损坏的线索回忆, 容量约 0.138 N",
    source="Xu §1.12",
    claim="A Hopfield network with Hebbian weights recalls stored patterns from cues with 10 % of the bits flipped "
          "while the load α = P/N is small; recall collapses past a capacity near α_c ≈ 0.138; asynchronous updates "
          "never increase the energy −½ sᵀWs.",
    claim_zh="采用 Hebb 权重的 Hopfield 网络在负载 α = P/N 较小时能从翻转 10 % 比特的线索中回忆出存储的模式; 超过约 "
             "α_c ≈ 0.138 的容量后回忆崩溃; 异步更新从不增加能量 −½ sᵀWs.",
    checks=(
        Check("overlap_low_load", ">=", 0.99, "the mean recall overlap at α = 0.05", what_zh="α = 0.05 时回忆的平均重叠度"),
        Check("overlap_high_load", "<=", 0.7, "the mean recall overlap at α = 0.3", what_zh="α = 0.3 时回忆的平均重叠度"),
        Check("capacity", ">=", 0.10, f"the capacity (largest α with mean overlap ≥ {GOOD})",
              what_zh=f"容量 (平均重叠度 ≥ {GOOD} 的最大 α)"),
        Check("capacity", "<=", 0.18, f"the capacity (largest α with mean overlap ≥ {GOOD})",
              what_zh=f"容量 (平均重叠度 ≥ {GOOD} 的最大 α)"),
        Check("energy_never_increases", "true", what="no asynchronous one-unit update increases the energy",
              what_zh="任何一次异步单元更新都不增加能量"),
    ),
)


def hebbian(patterns):
    """W = (1/N) Σ_μ ξ^μ ξ^μᵀ with zero diagonal; ``patterns`` is a (P, N) shenjing tensor of ±1."""
    import shenjing as sj

    n = patterns.shape[1]
    return (patterns.T @ patterns) / n * (1 - sj.eye(n, dtype=patterns.dtype))


def recall(W, cues, max_steps: int = 50):
    """Synchronous recall s ← sign(W s) (sign(0) → +1) of every row of ``cues`` until no row changes."""
    import shenjing as sj

    s = cues
    for _ in range(max_steps):
        h = s @ W  # W is symmetric
        new = sj.where(h >= 0, 1.0, -1.0).to(s.dtype)
        if bool((new == s).all()):
            break
        s = new
    return s


def corrupt(patterns: xp.ndarray, rng, flip: float = FLIP) -> xp.ndarray:
    """Each row with round(flip·N) of its bits flipped at random positions."""
    out = patterns.copy()
    k = int(round(flip * patterns.shape[1]))
    for row in out:
        row[rng.choice(len(row), k, replace=False)] *= -1
    return out


def _overlap(n: int, p: int, rng) -> tuple[float, tuple]:
    import shenjing as sj

    xi = rng.choice([-1.0, 1.0], size=(p, n))
    cue = corrupt(xi, rng)
    X = sj.tensor(xi, dtype=sj.float32)
    out = recall(hebbian(X), sj.tensor(cue, dtype=sj.float32)).numpy()
    return float((out * xi).sum(1).mean() / n), (xi[0], cue[0], out[0])


def _energy_descent(n: int, p: int, rng) -> bool:
    """One-unit-at-a-time updates in random order from a random state: the energy never rises."""
    import shenjing as sj

    xi = rng.choice([-1.0, 1.0], size=(p, n))
    W = hebbian(sj.tensor(xi, dtype=sj.float64)).numpy()
    s = rng.choice([-1.0, 1.0], size=n)
    energy = -0.5 * s @ W @ s
    for i in rng.permutation(xp.tile(xp.arange(n), 3)):
        s[i] = 1.0 if W[i] @ s >= 0 else -1.0
        e = -0.5 * s @ W @ s
        if e > energy + 1e-12:
            return False
        energy = e
    return True


def measure(ctx) -> Measurement:
    n = 200 if ctx.quick else 500
    trials = 4 if ctx.quick else 10
    alphas = [round(a, 3) for a in xp.arange(0.02, 0.301, 0.02 if ctx.quick else 0.01)]
    overlaps, triplets = [], {}
    for a in alphas:
        runs = [_overlap(n, max(1, int(round(a * n))), ctx.rng) for _ in range(trials)]
        overlaps.append(float(xp.mean([r[0] for r in runs])))
        triplets[a] = runs[0][1]
    good = [a for a, m in zip(alphas, overlaps) if m >= GOOD]
    low = _overlap(n, int(0.05 * n), ctx.rng)[0]
    high = float(xp.mean([_overlap(n, int(0.3 * n), ctx.rng)[0] for _ in range(trials)]))
    measured = {"overlap_low_load": low, "overlap_high_load": high, "capacity": max(good) if good else 0.0,
                "energy_never_increases": all(_energy_descent(100, 10, ctx.rng) for _ in range(3)),
                "alphas": alphas, "overlaps": overlaps, "N": n}
    method = (f"N = {n} units, random ±1 patterns, Hebbian W = (1/N)Σξξᵀ with zero diagonal; cues with {FLIP:.0%} of "
              f"the bits flipped; synchronous recall s ← sign(Ws) to a fixed point (at most 50 steps); mean overlap "
              f"ξ·s/N over all P patterns and {trials} pattern sets for α = P/N in {alphas[0]}…{alphas[-1]}; "
              f"energy checked along 3 × 300 asynchronous updates of a 100-unit net holding 10 patterns.")
    low_a = min(alphas, key=lambda a: abs(a - 0.06))
    return Measurement(measured, method, data={"triplet_low": triplets[low_a], "low_a": low_a,
                                               "triplet_high": triplets[alphas[-1]], "high_a": alphas[-1]})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
    ax.plot(m.measured["alphas"], m.measured["overlaps"], "o-", label=f"recall from {FLIP:.0%} flipped bits")
    ax.axvline(ALPHA_C, color="k", ls="--", label=f"α_c ≈ {ALPHA_C}")
    ax.axvline(m.measured["capacity"], color="C3", ls=":", label=f"measured capacity {m.measured['capacity']:.2f}")
    ax.axhline(GOOD, color="0.6", lw=0.8)
    ax.set(xlabel="load α = P / N", ylabel="mean overlap ξ·s / N", title=f"Hopfield recall, N = {m.measured['N']}")
    ax.legend()
    ctx.savefig(fig, "overlap_vs_load")

    fig, axes = plt.subplots(2, 3, figsize=(7.5, 4.2), layout="constrained")
    n = m.measured["N"]
    shape = (10, n // 10)
    for row, key in zip(axes, ("low", "high")):
        stored, cue, out = m.data[f"triplet_{key}"]
        names = ("stored", f"cue ({FLIP:.0%} flipped)", f"recalled, overlap {(stored * out).mean():.2f}")
        for ax, img, name in zip(row, (stored, cue, out), names):
            ax.imshow(img.reshape(shape), cmap="gray", vmin=-1, vmax=1)
            ax.set(xticks=[], yticks=[], title=f"{name}, α = {m.data[f'{key}_a']}")
    ctx.savefig(fig, "recall_triplets")
