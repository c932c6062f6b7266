"""vectorisation: a mini-batch computed at once equals the per-sample loop and is much faster; the
column and row layouts of Zhao §4 give the same numbers (Zhao §1 Algorithm 2, §4 eqs. 83–89).

Zhao: "同时计算 B 个样本的梯度,要比分开计算 B 个样本的梯度要快" — computing the gradient of B
samples together beats B separate computations, because the work becomes matrix operations
instead of loops. Measured two ways, with shenjing (autograd) and with plain NumPy (Algorithm 4 of
Zhao from ``backprop_by_hand``):

* loop: for each sample, forward, J^(i) = ½(o − y)², backward (gradients accumulate), then ÷ B;
* batch: one forward of the (B, d) matrix, J = (1/B) Σ J^(i), one backward.

Both give the gradient of (1/B) Σ_i J^(i) — equal to round-off — and their times are compared as B
grows: CPU times of this process (BLAS on one thread, the minimum over repeats), which other
processes competing for the cores do not enter. Layouts (Zhao §4): samples as columns, Z = W X + b̃ with b̃ the bias copied into B
columns (eq. 87–88, broadcasting); or as rows, Z = X Wᵀ + b (eq. 89; PyTorch's and shenjing's
``nn.Linear``). Z_col = Z_rowᵀ, and the gradients agree as well.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement, min_seconds, single_threaded_blas
from .backprop_by_hand import algorithm4

LOOP = "loop_vs_batch"

EXPERIMENT = Experiment(
    id="vectorisation",
    title="Vectorisation: mini-batches as matrices, column and row layouts",
    title_zh="向量化与小批量",
    source="Zhao §1 Algorithm 2, §4 eqs. 83–89",
    claim="The batched forward and backward pass gives the same output and gradient as the per-sample loop and is "
          "faster; the column layout Z = WX + b̃ and the row layout Z = XWᵀ + b give the same numbers.",
    claim_zh="批量 (向量化) 的前向与反向传播与逐样本循环给出相同的输出和梯度, 而且更快; 列布局 Z = WX + b̃ 与行布局 Z = XWᵀ "
             "+ b 给出相同的数值.",
    checks=(
        Check(f"{LOOP}.max_abs_output_diff", "<", 1e-12, "max |batched output − loop output| over all B", what_zh="所有 B 上 max |批量输出 − 循环输出|"),
        Check(f"{LOOP}.max_abs_grad_diff_shenjing", "<", 1e-12, "max |batched gradient − loop gradient| with shenjing",
              what_zh="shenjing 中 max |批量梯度 − 循环梯度|"),
        Check(f"{LOOP}.max_abs_grad_diff_numpy", "<", 1e-12, "with NumPy", what_zh="NumPy 中"),
        Check(f"{LOOP}.min_speedup_for_B_ge_16", ">", 1, "for every B ≥ 16, t_loop / t_batch (shenjing and NumPy)",
              what_zh="对每个 B ≥ 16, t_循环 / t_批量 (shenjing 与 NumPy)"),
        Check(f"{LOOP}.max_speedup", ">=", 5, "the largest t_loop / t_batch over B (shenjing and NumPy)",
              what_zh="各 B 中最大的 t_循环 / t_批量 (shenjing 与 NumPy)"),
        Check("layouts", "<", 1e-12, "each max |difference| between the column and the row layout (values and gradients)",
              what_zh="列布局与行布局之间每个 max |差| (数值与梯度)"),
    ),
)


def grads(params) -> list:
    """Copies of the parameters' gradients as NumPy arrays."""
    return [p.grad.numpy().copy() for p in params]


def loop_gradient(net, X, Y) -> tuple:
    """The per-sample loop: for each row x_i, forward, J^(i)/B = ½(o − y_i)²/B, backward (gradients accumulate).
    Returns the outputs (B, 1) and the gradients of (1/B) Σ J^(i)."""
    import shenjing as sj

    net.zero_grad()
    outs = []
    for i in range(X.shape[0]):
        o = net(sj.tensor(X[i:i + 1], dtype=sj.float64))
        (0.5 * ((o - sj.tensor(Y[i:i + 1], dtype=sj.float64)) ** 2).sum() / X.shape[0]).backward()
        outs.append(o.detach().numpy())
    return xp.concatenate(outs), grads(net.parameters())


def batched_gradient(net, X, Y) -> tuple:
    """One forward of the (B, d) matrix, J = (1/B) Σ J^(i), one backward: the outputs and the gradients."""
    import shenjing as sj

    net.zero_grad()
    o = net(sj.tensor(X, dtype=sj.float64))
    (0.5 * ((o - sj.tensor(Y, dtype=sj.float64)) ** 2).mean()).backward()
    return o.detach().numpy(), grads(net.parameters())


def numpy_loop(Ws, bs, X, Y) -> list:
    """Zhao's Algorithm 4 (ReLU hidden layers, as the notes write it) on one column at a time, averaged."""
    gs = None
    for i in range(X.shape[0]):
        dW, db, _ = algorithm4(X[i:i + 1].T, Y[i:i + 1].T, Ws, bs)
        g = dW + db
        gs = g if gs is None else [a + b for a, b in zip(gs, g)]
    return [g / X.shape[0] for g in gs]


def numpy_batch(Ws, bs, X, Y) -> list:
    """Algorithm 4 on the whole matrix, samples as columns."""
    dW, db, _ = algorithm4(X.T, Y.T, Ws, bs)
    return dW + db


def max_diff(xs, ys) -> float:
    return max(float(xp.abs(a - b).max()) for a, b in zip(xs, ys))


def loop_vs_batch(net, batch_sizes, Xall, Yall) -> dict:
    """For each B: loop and batch agree (outputs, gradients; shenjing and NumPy with the same weights), and the
    CPU time of each (BLAS on one thread; min of up to 3 loop runs — 0.5 s of CPU at most — and of 5 batch runs)."""
    from shenjing import nn

    lin = [m for m in net.modules() if isinstance(m, nn.Linear)]
    Ws, bs = [m.weight.detach().numpy() for m in lin], [m.bias.detach().numpy() for m in lin]
    rows, max_out, max_grad, max_np = [], 0.0, 0.0, 0.0
    for B in batch_sizes:
        X, Y = Xall[:B], Yall[:B]
        (o_loop, g_loop), (o_bat, g_bat) = loop_gradient(net, X, Y), batched_gradient(net, X, Y)
        max_out = max(max_out, float(xp.abs(o_loop - o_bat).max()))
        max_grad = max(max_grad, max_diff(g_loop, g_bat))
        max_np = max(max_np, max_diff(numpy_loop(Ws, bs, X, Y), numpy_batch(Ws, bs, X, Y)))
        with single_threaded_blas():
            t_loop = min_seconds(loop_gradient, net, X, Y, repeat=3, budget=0.5)[0]["cpu"]
            t_bat = min_seconds(batched_gradient, net, X, Y, repeat=5)[0]["cpu"]
            t_np_loop = min_seconds(numpy_loop, Ws, bs, X, Y, repeat=3, budget=0.5)[0]["cpu"]
            t_np_bat = min_seconds(numpy_batch, Ws, bs, X, Y, repeat=5)[0]["cpu"]
        rows.append({"B": B, "shenjing_loop_s": t_loop, "shenjing_batch_s": t_bat, "shenjing_speedup": t_loop / t_bat,
                     "numpy_loop_s": t_np_loop, "numpy_batch_s": t_np_bat, "numpy_speedup": t_np_loop / t_np_bat})
    big = [r for r in rows if r["B"] >= 16]
    return {"model": "8-64-64-1 tanh MLP (shenjing), 8-64-64-1 ReLU (NumPy Algorithm 4)",
            "max_abs_output_diff": max_out, "max_abs_grad_diff_shenjing": max_grad, "max_abs_grad_diff_numpy": max_np,
            "timings": rows,
            "min_speedup_for_B_ge_16": {k: min(r[f"{k}_speedup"] for r in big) for k in ("shenjing", "numpy")},
            "max_speedup": {k: max(r[f"{k}_speedup"] for r in rows) for k in ("shenjing", "numpy")}}


def layouts(rng, B: int = 5, m: int = 4) -> tuple[dict, object, object]:
    """Zhao §4: the column layout Z = W X + b̃ (broadcast and with b̃ copied into B columns, eqs. 86–88) against
    the row layout Z = X Wᵀ + b (eq. 89) and F.linear, in values and in the gradients of Σ tanh(Z)².
    Returns the max differences, Z_col and Z_row."""
    import shenjing as sj

    Xr = sj.tensor(rng.normal(size=(B, 3)), dtype=sj.float64)  # rows = samples
    W = sj.tensor(rng.normal(size=(m, 3)), dtype=sj.float64, requires_grad=True)  # W^[1] ∈ R^{m×d}
    b = sj.tensor(rng.normal(size=m), dtype=sj.float64, requires_grad=True)
    Xc = Xr.T  # columns = samples, X ∈ R^{d×B} (eq. 86)
    Z_col = W @ Xc + b.unsqueeze(1)  # eq. 87 with broadcasting
    Z_col_tilde = W @ Xc + b.unsqueeze(1).repeat(1, B)  # eq. 88: b copied into B columns
    Z_row = Xr @ W.T + b  # eq. 89 (W stacked the other way), = F.linear
    Z_lin = sj.nn.functional.linear(Xr, W, b)
    lay = {"max_abs_Zcol_minus_ZrowT": float(xp.abs((Z_col - Z_row.T).detach().numpy()).max()),
           "max_abs_broadcast_minus_explicit_b_tilde": float(xp.abs((Z_col - Z_col_tilde).detach().numpy()).max()),
           "max_abs_Zrow_minus_F.linear": float(xp.abs((Z_row - Z_lin).detach().numpy()).max())}
    gW_col, gb_col = sj.autograd.grad((Z_col.tanh() ** 2).sum(), [W, b])
    gW_row, gb_row = sj.autograd.grad((Z_row.tanh() ** 2).sum(), [W, b])
    lay["max_abs_grad_diff_col_vs_row"] = float(max(xp.abs((gW_col - gW_row).numpy()).max(), xp.abs((gb_col - gb_row).numpy()).max()))
    return lay, Z_col.detach().numpy(), Z_row.detach().numpy()


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing import nn

    d = 8
    sj.manual_seed(ctx.seed)
    net = nn.mlp([d, 64, 64, 1], activation="tanh").to(sj.float64)
    batch_sizes = [1, 4, 16, 64, 256] if ctx.quick else [1, 4, 16, 64, 256, 1024]
    Xall = ctx.rng.normal(size=(max(batch_sizes), d))
    Yall = ctx.rng.normal(size=(max(batch_sizes), 1))
    lay, z_col, z_row = layouts(ctx.rng)
    measured = {LOOP: loop_vs_batch(net, batch_sizes, Xall, Yall), "layouts": lay}
    method = ("Per-sample loop (forward, backward, gradients accumulated, ÷ B) against one batched forward/backward, in "
              "float64, with shenjing autograd (8-64-64-1 tanh MLP) and with NumPy (Zhao's Algorithm 4 one column at a "
              f"time against the whole matrix at once, the same weights with ReLU), for B = {', '.join(map(str, batch_sizes))}. The times "
              "are CPU times of this process (time.process_time, BLAS on one thread), the minimum of up to 3 runs "
              "(0.5 s of CPU at most) of a loop and of 5 runs of a batch, so that other processes competing for the "
              "cores do not enter them. Layouts: the column layout W X + b̃ (broadcast and with b̃ explicit) against "
              "the row layout X Wᵀ + b and F.linear for B = 5 samples and m = 4 units, values and gradients.")
    return Measurement(measured, method, data={"z_col": z_col, "z_row": z_row})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    timing_figure(ctx, plt, m.measured[LOOP]["timings"])
    layouts_figure(ctx, plt, m.data["z_col"], m.data["z_row"], m.measured["layouts"]["max_abs_Zcol_minus_ZrowT"])


def timing_figure(ctx, plt, rows) -> None:
    """CPU time per sample, loop against batch, and the speed-up, against B."""
    Bs = xp.array([r["B"] for r in rows], float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key, mk, label in (("shenjing_loop_s", "o-", "shenjing, per-sample loop"), ("shenjing_batch_s", "o--", "shenjing, one batch"),
                           ("numpy_loop_s", "s-", "NumPy Algorithm 4, loop"), ("numpy_batch_s", "s--", "NumPy Algorithm 4, columns")):
        ax1.loglog(Bs, [r[key] / r["B"] * 1e3 for r in rows], mk, label=label)
    ax1.set(xlabel="mini-batch size B", ylabel="CPU time per sample, forward + backward (ms)",
            title="Cost per sample: loop vs vectorised")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=8)
    ax2.loglog(Bs, [r["shenjing_speedup"] for r in rows], "o-", label="shenjing")
    ax2.loglog(Bs, [r["numpy_speedup"] for r in rows], "s-", label="NumPy")
    ax2.axhline(5, color="k", ls=":", label="threshold 5×")
    ax2.set(xlabel="mini-batch size B", ylabel="t_loop / t_batch", title="Speed-up of the batched computation")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "loop-vs-batch.png")


def layouts_figure(ctx, plt, zc, zr, max_diff_value: float) -> None:
    """Z_col (m × B) and Z_row (B × m) side by side, and |Z_col − Z_rowᵀ|."""
    m, B = zc.shape
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    vmax = float(xp.abs(zc).max())
    for ax, mat, title, xl, yl in ((axes[0], zc, "Z = W X + b̃  (columns, m × B)", "sample", "hidden unit"),
                                   (axes[1], zr, "Z = X Wᵀ + b  (rows, B × m)", "hidden unit", "sample")):
        im = ax.imshow(mat, cmap="coolwarm", vmin=-vmax, vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        fig.colorbar(im, ax=ax, shrink=0.8, label="pre-activation z")
    im = axes[2].imshow(xp.abs(zc - zr.T) + 1e-300, cmap="Greys", vmin=0, vmax=1e-12)
    axes[2].set_title("|Z_col − Z_rowᵀ| (scale 0..1e-12)", fontsize=10)
    axes[2].text(B / 2 - 0.5, m / 2 - 0.5, f"max = {max_diff_value:.1e}", ha="center", va="center")
    axes[2].set_xlabel("sample")
    axes[2].set_ylabel("hidden unit")
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    fig.suptitle(f"Zhao §4: the two layouts of a mini-batch of B = {B} samples, m = {m} units")
    fig.tight_layout()
    ctx.savefig(fig, "layouts.png")
