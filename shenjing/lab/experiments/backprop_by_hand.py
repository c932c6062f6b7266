"""backprop-by-hand: the gradient formulas of the notes written out in NumPy equal shenjing's autograd
(Xu §1.5; Zhao §3, Algorithms 3 and 4).

* Xu §1.5: f(x) = Σ_j a_j σ(w_j x + b_j), L = 1/(2n) Σ_i (h_i − y_i)², with
  ∂L/∂a_j = (1/n) Σ_i (h_i − y_i) σ(w_j x_i + b_j) and
  ∂L/∂w_j = (1/n) Σ_i (h_i − y_i) a_j σ′(w_j x_i + b_j) x_i (∂L/∂b_j the same without x_i).
* Zhao Algorithm 3 (two layers, one sample, J = ½(y − o)²): δ^[2] = o − y,
  δ^[1] = (W^[2]ᵀ(o − y)) ⊙ 1{z ≥ 0}, ∂J/∂W^[2] = δ^[2] aᵀ, ∂J/∂W^[1] = δ^[1] xᵀ, ∂J/∂b = δ.
* Zhao Algorithm 4 (r layers): δ^[r] = z^[r] − y, δ^[k] = (W^[k+1]ᵀ δ^[k+1]) ⊙ ReLU′(z^[k]),
  ∂J/∂W^[k] = δ^[k] a^[k−1]ᵀ, ∂J/∂b^[k] = δ^[k]; also in the column layout of §4 for a mini-batch
  (Δ^[k] = columns δ^[k](i), ∂J/∂W^[k] = Δ^[k] A^[k−1]ᵀ / n for J = (1/n) Σ J^(i)).

The weights are those of shenjing ``nn.Linear`` layers (weight shape (out, in) = W^[k] ∈ R^{m_k×m_{k−1}}
of the notes), so the hand-written δ's are compared with ``loss.backward()`` on the same model. A
few typos of Zhao are not copied: eq. (8) writes ReLU(xᵀx + b) for ReLU(wᵀx + b), eq. (72) writes
δ^[k] for δ^[r], and eq. (73) says k < r − 1 for k ≤ r − 1.

Convention at the kink: the notes' ReLU′(z) = 1{z ≥ 0} takes the subgradient 1 at z = 0, shenjing
(like PyTorch) takes 0. Both are valid subgradients; they differ only for a unit whose
pre-activation is exactly 0, which the experiment constructs on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...backend import xp
from ..core import Check, Experiment, Measurement

if TYPE_CHECKING:
    from ...nn import Module

TOL = 1e-10  # float64 round-off of these small nets is ~1e-15; 1e-10 leaves room and still catches any slip
A3, A4, KINK = "zhao_algorithm3", "zhao_algorithm4", "kink_convention"

EXPERIMENT = Experiment(
    id="backprop-by-hand",
    title="Backpropagation by hand: the δ recursion and the two-layer formulas equal autograd",
    title_zh="手推反向传播",
    source="Zhao §3 Algorithms 3–4 and §4; Xu §1.5",
    claim="The two-layer gradient formulas of Xu and the δ recursion of Zhao (Algorithms 3 and 4, per sample "
          "and in the column layout for a batch), written out in NumPy, equal shenjing's autograd to 1e-10.",
    claim_zh="用 NumPy 写出的 Xu 两层网络梯度公式和 Zhao 的 δ 递推 (算法 3 与 4, 逐样本以及批量的列布局) 与 shenjing 的自动微分相差不超过 "
             "1e-10.",
    checks=(
        Check("xu_two_layer_scalar.tanh.max_abs_diff", "<", TOL, "max |Xu §1.5 formulas − autograd| with tanh",
              what_zh="用 tanh 时 max |Xu §1.5 公式 − 自动微分|"),
        Check("xu_two_layer_scalar.ReLU.max_abs_diff", "<", TOL, "with ReLU", what_zh="用 ReLU 时"),
        Check(f"{A3}.max_abs_diff_per_sample", "<", TOL, "for Algorithm 3, per sample", what_zh="算法 3, 逐样本"),
        Check(f"{A3}.max_abs_diff_mean_over_samples", "<", TOL, "averaged over the samples", what_zh="对样本取平均"),
        Check(f"{A4}.max_abs_diff_vs_autograd", "<", TOL, "for Algorithm 4 in the column layout", what_zh="算法 4, 列布局"),
        Check(f"{A4}.max_abs_diff_per_sample_average_vs_batch", "<", 1e-12, "max |average of per-sample δ's − batch formula|",
              what_zh="max |逐样本 δ 的平均 − 批量公式|"),
        Check(f"{KINK}.max_abs_diff_autograd_vs_indicator_z>0", "<", TOL, "with a unit held at z = 0, max |Algorithm 4 with ReLU′(0) = 0 − autograd|",
              what_zh="某单元停在 z = 0 时, max |取 ReLU′(0) = 0 的算法 4 − 自动微分|"),
        Check(f"{KINK}.only_the_kink_unit_differs", "true",
              what="with the notes' 1{z ≥ 0} exactly the row of W^[1] of that unit differs from autograd (the subgradient choice)",
              what_zh="用讲义的 1{z ≥ 0} 时恰好只有该单元对应的 W^[1] 行与自动微分不同 (次梯度的取法)"),
        Check("training.max_param_diff", "<", TOL, "max |θ_hand − θ_autograd| over the GD steps", what_zh="各 GD 步中 max |θ_手算 − θ_自动微分|"),
    ),
)


# ------------------------------------------------------------------ Xu §1.5 (scalar two-layer net)
def two_layer_grads_xu(x, y, a, w, b, act, dact) -> tuple:
    """∂L/∂a, ∂L/∂w, ∂L/∂b of L = 1/(2n) Σ (h_i − y_i)² for h = Σ_j a_j σ(w_j x + b_j), x, y of shape (n,)."""
    n = x.shape[0]
    z = x[:, None] * w[None, :] + b[None, :]  # (n, m)
    h = act(z) @ a
    r = h - y
    da = act(z).T @ r / n
    dw = a * ((dact(z) * x[:, None]).T @ r) / n
    db = a * (dact(z).T @ r) / n
    return da, dw, db, 0.5 * float(xp.mean(r ** 2))


# ------------------------------------------------------------------ Zhao Algorithm 3
def algorithm3(x, y, W1, b1, W2, b2):
    """One sample x ∈ R^d (column), J = ½(y − o)², ReLU hidden layer; ReLU′ = 1{z ≥ 0} as printed."""
    z = W1 @ x + b1
    a = xp.maximum(z, 0)
    o = W2 @ a + b2
    delta2 = o - y  # (1, 1)
    delta1 = (W2.T @ delta2) * (z >= 0)  # (m, 1)
    return {"W2": delta2 @ a.T, "b2": delta2.ravel(), "W1": delta1 @ x.T, "b1": delta1.ravel()}


# ------------------------------------------------------------------ Zhao Algorithm 4 (+ §4 columns)
def algorithm4(X, Y, Ws, bs, indicator_at_zero=0.0):
    """Columns X ∈ R^{d×n}, Y ∈ R^{1×n}; layers a^[k] = ReLU(W^[k] a^[k−1] + b^[k]), linear output;
    J = (1/n) Σ_i ½(z^[r](i) − y(i))². Returns the lists dW, db (same shapes as Ws, bs) and J.
    ``indicator_at_zero`` is ReLU′(0): 1 for the notes' 1{z ≥ 0}, 0 for autograd's convention."""
    n = X.shape[1]
    A, Z = [X], []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = W @ A[-1] + b[:, None]  # broadcasting b̃ (Zhao eq. 88)
        Z.append(z)
        A.append(z if k == len(Ws) - 1 else xp.maximum(z, 0))
    r = len(Ws)
    dW, db = [None] * r, [None] * r
    delta = (Z[-1] - Y) / n  # δ^[r] (÷ n for the mean over the batch)
    for k in range(r - 1, -1, -1):
        dW[k] = delta @ A[k].T
        db[k] = delta.sum(axis=1)
        if k > 0:
            relu_prime = xp.where(Z[k - 1] > 0, 1.0, xp.where(Z[k - 1] == 0, indicator_at_zero, 0.0))
            delta = (Ws[k].T @ delta) * relu_prime
    J = 0.5 * float(xp.mean((Z[-1] - Y) ** 2))
    return dW, db, J


# ------------------------------------------------------------------ comparing with autograd
def linears(model) -> list:
    """The nn.Linear layers of ``model``, in order."""
    from shenjing import nn

    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def weights_and_biases(model) -> tuple[list, list]:
    """Copies of W^[k] (out, in) and b^[k] of every Linear layer, as NumPy arrays."""
    lin = linears(model)
    return [m.weight.detach().numpy().copy() for m in lin], [m.bias.detach().numpy().copy() for m in lin]


def autograd_grads(model, X, Y) -> tuple[list, list, float]:
    """∂J/∂W^[k], ∂J/∂b^[k] by backward() for J = ½ mean (f(x) − y)², rows = samples; and J."""
    import shenjing as sj

    model.zero_grad()
    out = model(sj.tensor(X, dtype=sj.float64))
    J = 0.5 * ((out - sj.tensor(Y, dtype=sj.float64)) ** 2).mean()
    J.backward()
    lin = linears(model)
    return [m.weight.grad.numpy() for m in lin], [m.bias.grad.numpy() for m in lin], J.item()


def max_abs_diff(xs, ys) -> float:
    """max over pairs of arrays of max |x − y|."""
    return float(max(xp.abs(a - b).max() for a, b in zip(xs, ys)))


def relu_net(sizes) -> Module:
    """nn.Sequential of Linear layers with ReLU between them (float64, shenjing's default init)."""
    import shenjing as sj
    from shenjing import nn

    layers = []
    for i, (p, q) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(p, q))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(sj.float64)


# ------------------------------------------------------------------ the four comparisons and the training run
def xu_vs_autograd(rng, n: int = 50, m: int = 20) -> dict:
    """Xu §1.5 on f(x) = Σ_j a_j σ(w_j x + b_j) fitting sin 2x, for tanh and ReLU: max |formula − autograd|."""
    import shenjing as sj

    x = rng.uniform(-2, 2, n)
    y = xp.sin(2 * x)
    out = {}
    for name, act, dact, sj_act in (
            ("tanh", xp.tanh, lambda z: 1 - xp.tanh(z) ** 2, sj.tanh),
            ("ReLU", lambda z: xp.maximum(z, 0), lambda z: (z > 0).astype(float), sj.relu)):
        a0, w0, b0 = rng.normal(size=m), rng.normal(size=m), rng.normal(size=m)
        da, dw, db, L_hand = two_layer_grads_xu(x, y, a0, w0, b0, act, dact)
        a_t, w_t, b_t = (sj.tensor(v, dtype=sj.float64, requires_grad=True) for v in (a0, w0, b0))
        xt, yt = sj.tensor(x, dtype=sj.float64), sj.tensor(y, dtype=sj.float64)
        h = (sj_act(xt.unsqueeze(1) * w_t + b_t) * a_t).sum(1)
        L = ((h - yt) ** 2).sum() / (2 * n)
        L.backward()
        out[name] = {"max_abs_diff": max_abs_diff((da, dw, db), (a_t.grad.numpy(), w_t.grad.numpy(), b_t.grad.numpy())),
                     "loss_diff": abs(L_hand - L.item()), "max_abs_grad": float(xp.abs(dw).max())}
    return out


def algorithm3_vs_autograd(rng, d: int = 4, m: int = 6, n: int = 30) -> dict:
    """Algorithm 3 on a d-m-1 ReLU net, per sample and averaged over n samples (J = (1/n) Σ J^(i), Zhao eq. 2)."""
    net = relu_net([d, m, 1])
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, 1))
    (W1, W2), (b1, b2) = weights_and_biases(net)
    per_sample, sums = [], None
    for i in range(n):
        g = algorithm3(X[i][:, None], Y[i][:, None], W1, b1[:, None], W2, b2[:, None])
        gw, gb, _ = autograd_grads(net, X[i:i + 1], Y[i:i + 1])
        per_sample.append(max_abs_diff([g["W1"], g["W2"], g["b1"], g["b2"]], [gw[0], gw[1], gb[0], gb[1]]))
        sums = g if sums is None else {k: sums[k] + g[k] for k in g}
    gw, gb, _ = autograd_grads(net, X, Y)
    mean_diff = max_abs_diff([sums[k] / n for k in ("W1", "W2", "b1", "b2")], [gw[0], gw[1], gb[0], gb[1]])
    return {"samples": n, "max_abs_diff_per_sample": max(per_sample), "max_abs_diff_mean_over_samples": mean_diff}


def algorithm4_vs_autograd(rng, sizes=(5, 16, 12, 8, 1), batch: int = 64) -> dict:
    """Algorithm 4 on a deep ReLU net, a batch in the column layout, and per sample (one column) averaged."""
    deep = relu_net(list(sizes))
    Xb, Yb = rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, 1))
    Ws, bs = weights_and_biases(deep)
    dW, db, J_hand = algorithm4(Xb.T, Yb.T, Ws, bs)
    aw, ab, J_auto = autograd_grads(deep, Xb, Yb)
    per = [algorithm4(Xb[i:i + 1].T, Yb[i:i + 1].T, Ws, bs) for i in range(batch)]
    avg = [sum(p[0][k] for p in per) / batch for k in range(len(Ws))]
    return {"layer_sizes": list(sizes), "batch": batch, "max_abs_diff_vs_autograd": max_abs_diff(dW + db, aw + ab),
            "loss_diff": abs(J_hand - J_auto), "max_abs_diff_per_sample_average_vs_batch": max_abs_diff(avg, dW)}


def kink_convention(rng) -> dict:
    """A 3-4-1 ReLU net whose unit 2 has pre-activation exactly 0 for every input: Algorithm 4 with ReLU′(0) = 0
    (autograd's choice) and with the notes' 1{z ≥ 0} against autograd."""
    import shenjing as sj

    kink = relu_net([3, 4, 1])
    with sj.no_grad():
        kink[0].weight[2] = 0.0
        kink[0].bias[2] = 0.0
    Xk, Yk = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    Wk, bk = weights_and_biases(kink)
    aw, ab, _ = autograd_grads(kink, Xk, Yk)
    dW0, db0, _ = algorithm4(Xk.T, Yk.T, Wk, bk, indicator_at_zero=0.0)
    dW1, db1, _ = algorithm4(Xk.T, Yk.T, Wk, bk, indicator_at_zero=1.0)
    rows_differ = xp.nonzero(xp.abs(dW1[0] - aw[0]).max(axis=1) > 1e-12)[0].tolist()
    return {"max_abs_diff_autograd_vs_indicator_z>0": max_abs_diff(dW0 + db0, aw + ab),
            "max_abs_diff_autograd_vs_notes_indicator_z>=0": max_abs_diff(dW1 + db1, aw + ab),
            "rows_of_W1_that_differ": rows_differ, "only_the_kink_unit_differs": rows_differ == [2]}


def train_by_hand(steps: int, lr: float) -> tuple[list, list, list]:
    """GD on a 1-16-16-1 ReLU net fitting sin 2x (64 points), with Algorithm 4's gradients in NumPy and with
    optim.SGD + autograd from the same weights: the loss of each (before every step) and the max parameter
    difference after every step."""
    import shenjing as sj
    from shenjing import optim
    from shenjing.train import full_batch

    model = relu_net([1, 16, 16, 1])
    Xt = xp.linspace(-2, 2, 64)[:, None]
    Yt = xp.sin(2 * Xt)
    hand = list(weights_and_biases(model))  # [Ws, bs]
    hand_loss, pdiff = [], []

    def hand_step(step: int, loss: float) -> None:
        dW, db, J = algorithm4(Xt.T, Yt.T, *hand)
        hand[0] = [W - lr * g for W, g in zip(hand[0], dW)]
        hand[1] = [b - lr * g for b, g in zip(hand[1], db)]
        hand_loss.append(J)
        pdiff.append(max_abs_diff(hand[0] + hand[1], sum(weights_and_biases(model), [])))

    Xs, Ys = sj.tensor(Xt, dtype=sj.float64), sj.tensor(Yt, dtype=sj.float64)
    auto_loss = full_batch(lambda: 0.5 * ((model(Xs) - Ys) ** 2).mean(), optim.SGD(model.parameters(), lr=lr), steps,
                           callback=hand_step)
    return hand_loss, auto_loss, pdiff


def measure(ctx) -> Measurement:
    import shenjing as sj

    rng = ctx.rng
    measured = {"xu_two_layer_scalar": xu_vs_autograd(rng), A3: algorithm3_vs_autograd(rng),
                A4: algorithm4_vs_autograd(rng), KINK: kink_convention(rng)}
    steps, lr = (40 if ctx.quick else 200), 0.05
    sj.manual_seed(ctx.seed)
    hand_loss, auto_loss, pdiff = train_by_hand(steps, lr)
    measured["training"] = {"steps": steps, "lr": lr, "max_param_diff": max(pdiff),
                            "final_loss_by_hand": hand_loss[-1], "final_loss_autograd": auto_loss[-1]}
    method = ("The notes' formulas in NumPy (float64) on the weights of shenjing nn.Linear models, compared entry by entry "
              "with loss.backward() on the same models: Xu §1.5 on f(x) = Σ_j a_j σ(w_j x + b_j) with 20 units fitting "
              "sin 2x at 50 points (tanh and ReLU); Algorithm 3 on a 4-6-1 ReLU net, per sample and averaged over 30 "
              "samples; Algorithm 4 on a 5-16-12-8-1 ReLU net with a batch of 64 in the column layout, and per sample "
              "averaged; a 3-4-1 net whose unit 2 is held at pre-activation 0 for every input, with ReLU′(0) = 0 "
              "(autograd's choice) and = 1 (the notes' 1{z ≥ 0}); and GD "
              f"(lr {lr}, {steps} steps) on a 1-16-16-1 ReLU net fitting sin 2x, once driven by Algorithm 4 in NumPy and "
              "once by optim.SGD with autograd, from the same weights.")
    return Measurement(measured, method, data={"hand_loss": hand_loss, "auto_loss": auto_loss, "pdiff": pdiff})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    me, d = m.measured, m.data
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6))
    labels = ["Xu §1.5\ntanh", "Xu §1.5\nReLU", "Alg. 3\nsample", "Alg. 3\nmean", "Alg. 4\nbatch",
              "z = 0:\n1{z > 0}", "z = 0:\n1{z ≥ 0}\n(printed)"]
    vals = [me["xu_two_layer_scalar"]["tanh"]["max_abs_diff"], me["xu_two_layer_scalar"]["ReLU"]["max_abs_diff"],
            me[A3]["max_abs_diff_per_sample"], me[A3]["max_abs_diff_mean_over_samples"], me[A4]["max_abs_diff_vs_autograd"],
            me[KINK]["max_abs_diff_autograd_vs_indicator_z>0"], me[KINK]["max_abs_diff_autograd_vs_notes_indicator_z>=0"]]
    ax1.bar(range(len(vals)), [max(v, 1e-18) for v in vals], color=["C0"] * 5 + ["C2", "C3"])
    ax1.axhline(TOL, color="k", ls=":", label=f"threshold {TOL:g}")
    ax1.set_yscale("log")
    ax1.set_xticks(range(len(vals)))
    ax1.set_xticklabels(labels, fontsize=7)
    ax1.set(ylabel="max |hand − autograd| (0 drawn as 1e-18)", title="Hand-written gradients vs autograd (float64)")
    ax1.legend(fontsize=8)
    steps = range(1, len(d["hand_loss"]) + 1)
    ax2.semilogy(steps, d["hand_loss"], "-", lw=3, alpha=0.4, label="GD with Algorithm 4 (NumPy)")
    ax2.semilogy(steps, d["auto_loss"], "--", label="optim.SGD with autograd")
    ax2.set(xlabel="step", ylabel="J = ½·mean (f(x) − y)²", title="Training a 1-16-16-1 ReLU net on sin 2x")
    ax2.grid(alpha=0.3, which="both")
    ax3 = ax2.twinx()
    ax3.semilogy(steps, [max(v, 1e-18) for v in d["pdiff"]], "k:", lw=1, label="max parameter difference")
    ax3.set_ylabel("max |θ_hand − θ_autograd|")
    ax3.set_ylim(1e-18, 1e-6)
    h1, l1 = ax2.get_legend_handles_labels()
    h2, l2 = ax3.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "backprop-by-hand.png")
