"""frequency-principle: a network fits the low frequencies of its target first (the F-Principle of
Xu, Zhang, Luo et al., 2019 — the author of Xu; beyond the notes).

The target is shenjing.data.toy.multi_sine with equal amplitudes, y = Σ_k sin(f_k x), sampled on the
uniform periodic grid x_j = −π + 2πj/N (j = 0…N−1), so the DFT of the samples has the component of
frequency f exactly in bin f. An MLP (tanh) is trained full-batch with Adam on the MSE. After every
epoch the DFT of the network output on the grid, ĥ[f], is compared with the target's, ŷ[f]: the
relative error of component f is Δ_f = |ĥ[f] − ŷ[f]| / |ŷ[f]|. The F-Principle says Δ_f falls first
for the low frequencies; here the epoch at which Δ_f first drops below a threshold (0.1) is
measured for each f; the F-Principle predicts that these epochs increase strictly with the frequency.
Equal amplitudes make sure the order is not just a larger component being fitted first.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import Check, Experiment, Measurement

THRESHOLD = 0.1
#: (frequencies, grid points, width, maximum epochs) of the full and the quick run
FULL = ((1, 3, 5, 7), 128, 128, 6000)
QUICK = ((1, 3, 5), 64, 64, 1500)

EXPERIMENT = Experiment(
    id="frequency-principle",
    title="Frequency principle: networks fit low frequencies first",
    title_zh="频率原则",
    source="beyond the notes (F-Principle, Xu et al. 2019)",
    claim="Training an MLP on a sum of equal-amplitude sines, the relative error of each frequency component of the "
          "output falls below 10% in order of increasing frequency: low frequencies converge first.",
    claim_zh="用 MLP 拟合等振幅正弦之和时, 输出中各频率分量的相对误差按频率从低到高依次降到 10% 以下: 低频先收敛 (频率原则).",
    checks=(
        Check("epoch_below_threshold", "<=", FULL[3], f"the first epoch at which each component's relative error is below {THRESHOLD}",
              quick=QUICK[3], what_zh="每个分量的相对误差首次低于 0.1 的轮次"),
        Check("first_epoch_gaps", ">", 0, "each of these epochs minus the one of the next lower frequency", what_zh="每个这样的轮次减去下一个更低频率的轮次"),
    ),
)


def train_and_track(freqs, n_points: int, width: int, max_epochs: int, lr: float, activation: str = "tanh",
                    threshold: float = THRESHOLD):
    """Train an MLP on Σ sin(f x) with full-batch Adam and track the relative error of each DFT component
    of the output (before each step). Stops ⌊E/5⌋ (at least 20) epochs after epoch E at which the last
    component fell below ``threshold``, or after ``max_epochs``. Returns (x, y, output, relative errors
    (epochs × freqs), first epoch below the threshold per frequency)."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.data import toy
    from shenjing.train import full_batch

    x, y = toy.multi_sine(n_points, freqs=freqs, amplitudes=[1.0] * len(freqs), low=-math.pi,
                          high=math.pi - 2 * math.pi / n_points)
    x, y = x.double(), y.double()
    net = nn.mlp([1, width, width, 1], activation=activation).double()
    opt = optim.Adam(net.parameters(), lr=lr)
    fy = xp.fft.rfft(y.numpy()[:, 0])
    idx = list(freqs)
    rel, hit, last = [], {}, {}

    def loss_fn():
        last["out"] = net(x)
        return F.mse_loss(last["out"], y)

    def record(step: int, loss: float) -> None:
        r = xp.abs(xp.fft.rfft(last["out"].detach().numpy()[:, 0])[idx] - fy[idx]) / xp.abs(fy[idx])
        rel.append(r)
        for f, v in zip(freqs, r):
            if v < threshold and f not in hit:
                hit[f] = len(rel)

    while len(rel) < max_epochs and len(hit) < len(freqs):  # one step at a time until every component is fitted
        full_batch(loss_fn, opt, 1, callback=record)
    if len(hit) == len(freqs):  # keep going a little to show the tail
        done = len(rel)
        full_batch(loss_fn, opt, min(done + max(done // 5, 20), max_epochs) - done, callback=record)
    with sj.no_grad():
        out = net(x)
    return x.numpy()[:, 0], y.numpy()[:, 0], out.numpy()[:, 0], xp.asarray(rel), hit


def measure(ctx) -> Measurement:
    freqs, n_points, width, max_epochs = QUICK if ctx.quick else FULL
    x, y, out, rel, hit = train_and_track(freqs, n_points, width, max_epochs, lr=1e-2)
    epochs = [hit.get(f) for f in freqs]
    measured = {
        "frequencies": list(freqs), "epoch_below_threshold": {f: hit.get(f) for f in freqs},
        "first_epoch_gaps": {f"{f0}→{f1}": None if e0 is None or e1 is None else e1 - e0
                             for f0, f1, e0, e1 in zip(freqs, freqs[1:], epochs, epochs[1:])},
        "threshold": THRESHOLD, "epochs_trained": len(rel),
        "final_relative_error": {f: float(rel[-1, i]) for i, f in enumerate(freqs)},
        "relative_error_at_first_hit_of_lowest": {f: float(rel[hit[freqs[0]] - 1, i]) for i, f in enumerate(freqs)}
        if freqs[0] in hit else None,
    }
    method = (f"Full-batch Adam (lr 0.01) on the MSE of an MLP 1-{width}-{width}-1 (tanh, float64) fitting Σ sin(f x), "
              f"f = {', '.join(map(str, freqs))}, equal amplitudes, on {n_points} periodic grid points of [−π, π); before every step the "
              "relative error |ĥ[f] − ŷ[f]| / |ŷ[f]| of DFT bin f of the output against the target is computed, and the "
              f"first epoch at which it is below {THRESHOLD} is recorded for each f (training runs at most {max_epochs} "
              "epochs and stops a fifth later, at least 20 epochs, than the last component's).")
    return Measurement(measured, method, data={"x": x, "y": y, "out": out, "rel": rel, "hit": hit,
                                               "freqs": freqs, "width": width, "n_points": n_points})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    x, y, out, rel, hit, freqs = (m.data[k] for k in ("x", "y", "out", "rel", "hit", "freqs"))
    width, n_points = m.data["width"], m.data["n_points"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    ep = xp.arange(1, len(rel) + 1)
    for i, f in enumerate(freqs):
        line, = ax.semilogy(ep, rel[:, i], lw=1.6, label=f"frequency {f}" + (f" (< 0.1 at epoch {hit[f]})" if f in hit else ""))
        if f in hit:
            ax.axvline(hit[f], color=line.get_color(), ls=":", lw=1)
    ax.axhline(THRESHOLD, color="k", lw=0.8, ls="--", label="threshold 0.1")
    ax.set(xlabel="epoch (full-batch Adam step)", ylabel="relative error |ĥ[f] − ŷ[f]| / |ŷ[f]|",
           title="Relative error of each DFT component")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax = axes[1]
    im = ax.imshow(xp.log10(xp.maximum(rel.T, 1e-4)), aspect="auto", cmap="viridis", origin="lower", interpolation="nearest",
                   extent=(0.5, len(rel) + 0.5, -0.5, len(freqs) - 0.5))
    ax.set_yticks(range(len(freqs)), [str(f) for f in freqs])
    ax.set(xlabel="epoch", ylabel="frequency f", title="log10 relative error per frequency")
    fig.colorbar(im, ax=ax, label="log10 relative error")
    ax = axes[2]
    ax.plot(x, y, "k-", lw=3, alpha=0.35, label="target Σ sin(f x)")
    ax.plot(x, out, "r-", lw=1.4, label=f"network after {len(rel)} epochs")
    ax.set(xlabel="x (rad)", ylabel="y", title=f"Fit on the uniform grid of {n_points} points")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(f"Frequency principle: MLP 1-{width}-{width}-1 (tanh) fitting sines of frequencies {', '.join(map(str, freqs))}")
    fig.tight_layout()
    ctx.savefig(fig, "frequency-principle.png")
