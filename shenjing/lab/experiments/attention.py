"""attention: the query attention of Fang ch. 9 (注意力机制) and a small Transformer that sorts digits.

Fang §9.1: for inputs X = [x_1, …, x_n] and a query q,

    e_i = score(q, x_i)   (相似度: 点积 qᵀx_i, or a 可学习的线性变换 qᵀW x_i),
    α_i = exp(e_i) / Σ_j exp(e_j),   output = Σ_i α_i x_i.

1. By hand: the three formulas in NumPy (float64) against ``nn.QueryAttention`` (dot and linear
   score) and against ``F.scaled_dot_product_attention(q, X, X, scale=1)``: max |difference| and
   |Σ α_i − 1|, both at round-off level.
2. Retrieval (检索): n = 8 items x_i ~ N(0, I₁₆), the query is q = A x_k for a fixed random rotation
   A and a random target k. The dot score qᵀx_i knows nothing of A (no better than chance, 1/n); the learned score
   qᵀW x_i, trained with Adam on ‖Σ α_i x_i − x_k‖², can find W ≈ A (then qᵀW x_i = x_kᵀx_i).
   Measured: retrieval accuracy (argmax α = k) and the mean weight α_k on a test set.
3. Transformer (``transformer`` of ``shenjing train``: ``nn.SequenceTransformer``, d_model 64, 4
   heads, 2 pre-norm layers; Adam + OneCycle, max lr 3e-3, batch 64) on ``sort``: 10 digits 0–9 →
   the same digits ascending; quick mode 8,000 training sequences × 3 epochs, full mode 50,000 × 4.
   Measured: whole-sequence accuracy on 1000 test sequences (guessing: 10⁻¹⁰), and for every head
   on 500 of them, with y_j the output of query position j, the weight on the input tokens equal
   to it, Σ_i α_ji [x_i = y_j] (the tokens of rank j), and the distance of the attended values from
   it, Σ_i α_ji |x_i − y_j|; uniform attention α = 1/L gives ≈ 0.19 and ≈ 3.0.

Checked: (1) agrees to round-off; (2) the learned score retrieves almost always, several times as
often as the dot score; (3) the sequences are almost always sorted, and the head with the smallest
distance has it well below the uniform value and puts several times the uniform weight on the tokens
equal to the output.
"""

from __future__ import annotations

import math

from ...backend import xp
from ...viz.plots import pyplot
from ..core import Check, Experiment, Measurement, single_threaded_blas

N_ITEMS, DIM = 8, 16

EXPERIMENT = Experiment(
    id="attention",
    title="Attention: the notes' query attention, a learned score for retrieval, and a Transformer that sorts",
    title_zh="注意力机制与 Transformer",
    source="Fang ch. 9",
    claim="The notes' attention e_i = score(q, x_i), α = softmax(e), output Σ α_i x_i is what the module computes (α "
          "sums to 1); with a learned linear score qᵀW x_i it learns to retrieve the item a query points to; and a "
          "small Transformer encoder learns to sort digits, its last-layer heads attending to the input tokens each "
          "position has to output.",
    claim_zh="讲义中的注意力 e_i = score(q, x_i), α = softmax(e), 输出 Σ α_i x_i 正是模块的计算 (α 之和为 1); 用学到的线性打分 "
             "qᵀW x_i 时它学会取出查询所指的那一项; 小型 Transformer 编码器学会给数字排序, 其最后一层的注意力头关注每个位置需要输出的输入词元.",
    checks=(
        Check("by_hand.max_abs_difference", "<=", 1e-12, "max |module − the formulas by hand| over α and the output",
              what_zh="α 与输出上 max |模块 − 手算公式|"),
        Check("by_hand.alpha_sum_error", "<=", 1e-12, "|Σ α_i − 1|", what_zh="|Σ α_i − 1|"),
        Check("retrieval.linear_trained.accuracy", ">=", 0.9, "the learned score's test retrieval accuracy", what_zh="学到的打分的测试检索准确率"),
        Check("retrieval.learned_over_dot_accuracy", ">=", 3, "that accuracy ÷ the dot score's", what_zh="该准确率 ÷ 点积打分的"),
        Check("transformer_sort.test_sequence_accuracy", ">=", 0.9, "the Transformer's test whole-sequence accuracy",
              what_zh="Transformer 整个序列的测试准确率"),
        Check("transformer_sort.best_head_distance_over_uniform", "<=", 0.4,
              "the best head's distance Σ_i α_ji |x_i − y_j| ÷ its value under uniform attention",
              what_zh="最佳注意力头的距离 Σ_i α_ji |x_i − y_j| ÷ 均匀注意力下的值"),
        Check("transformer_sort.best_head_mass_over_uniform", ">=", 2,
              "that head's weight Σ_i α_ji [x_i = y_j] on the tokens equal to the output ÷ its uniform value",
              what_zh="该头放在等于输出的词元上的权重 Σ_i α_ji [x_i = y_j] ÷ 均匀时的值"),
    ),
)


# ------------------------------------------------------------------ 1. the formulas by hand


def by_hand(rng) -> dict:
    """The notes' three formulas in NumPy against the module and the fused attention."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn

    n, d = 6, 4
    X, q, W = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal((d, d))
    out = {}
    for score in ("dot", "linear"):
        e = X @ q if score == "dot" else X @ (W.T @ q)  # e_i = qᵀx_i or qᵀW x_i
        alpha = xp.exp(e - e.max()) / xp.exp(e - e.max()).sum()
        o = alpha @ X
        mod = nn.QueryAttention(d, score=score).double()
        if score == "linear":
            mod.weight.data = sj.tensor(W)
        o_m, a_m = mod(sj.tensor(q), sj.tensor(X))
        o_m, a_m = o_m.detach().numpy(), a_m.detach().numpy()
        out[score] = {"alpha": alpha, "output_diff": float(xp.abs(o_m - o).max()), "alpha_diff": float(xp.abs(a_m - alpha).max()),
                      "alpha_sum_error": float(abs(a_m.sum() - 1))}
    o_f, w_f = F.scaled_dot_product_attention(sj.tensor(q[None]), sj.tensor(X), sj.tensor(X), scale=1.0, return_weights=True)
    out["sdpa_diff"] = float(max(xp.abs(o_f.numpy()[0] - out["dot"]["alpha"] @ X).max(), xp.abs(w_f.numpy()[0] - out["dot"]["alpha"]).max()))
    out["max_diff"] = max(out["sdpa_diff"], *(out[s][k] for s in ("dot", "linear") for k in ("output_diff", "alpha_diff")))
    out["alpha_sum_error"] = max(out[s]["alpha_sum_error"] for s in ("dot", "linear"))
    return out


# ------------------------------------------------------------------ 2. retrieval with a learned score


def retrieval_data(rng, n: int, A):
    """(queries (n, d), items (n, N_ITEMS, d), targets (n,)): q = A x_k."""
    X = rng.standard_normal((n, N_ITEMS, DIM))
    k = rng.integers(0, N_ITEMS, n)
    return X[xp.arange(n), k] @ A.T, X, k


def retrieval_scores(mod, q, X, k) -> dict:
    """Retrieval accuracy (argmax α = k) and the mean weight α_k of ``mod`` on the queries ``q``."""
    import shenjing as sj

    with sj.no_grad():
        _, alpha = mod(sj.tensor(q), sj.tensor(X))
    a = alpha.numpy()
    return {"accuracy": float((a.argmax(-1) == k).mean()), "mean_alpha_target": float(a[xp.arange(len(k)), k].mean())}


def retrieval(rng, steps: int, batch: int = 128, lr: float = 0.03) -> dict:
    """Train QueryAttention(score='linear') on q = A x_k (Adam on ‖Σ α_i x_i − x_k‖², a fresh batch
    every step); compare with the dot score."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    A = xp.linalg.qr(rng.standard_normal((DIM, DIM)))[0]
    qt, Xt, kt = retrieval_data(rng, 2000, A)
    dot = nn.QueryAttention(DIM, score="dot").double()
    lin = nn.QueryAttention(DIM, score="linear").double()
    res = {"dot": retrieval_scores(dot, qt, Xt, kt), "linear_untrained": retrieval_scores(lin, qt, Xt, kt)}
    accs = []

    def batch_loss():
        q, X, k = retrieval_data(rng, batch, A)
        out, _ = lin(sj.tensor(q), sj.tensor(X))
        return F.mse_loss(out, sj.tensor(X[xp.arange(batch), k]))

    def track(step: int, loss: float) -> None:
        if step % 10 == 9 or step == steps - 1:
            accs.append((step + 1, retrieval_scores(lin, qt[:500], Xt[:500], kt[:500])["accuracy"]))

    # the loop of full_batch, with a loss that draws a new batch from the stream of queries every step
    losses = full_batch(batch_loss, optim.Adam(lin.parameters(), lr=lr), steps, callback=track)
    res["linear_trained"] = retrieval_scores(lin, qt, Xt, kt)
    w = lin.weight.detach().numpy()
    align = float(abs(xp.sum(w * A)) / (xp.linalg.norm(w) * math.sqrt(DIM)))  # |cos(W, A)|
    with sj.no_grad():
        ex = {name: m(sj.tensor(qt[:1]), sj.tensor(Xt[:1]))[1].numpy()[0] for name, m in (("dot", dot), ("linear", lin))}
    return {"scores": res, "W_alignment": align, "losses": losses, "accs": accs, "example": ex, "example_target": int(kt[0])}


# ------------------------------------------------------------------ 3. a small Transformer


def sort_structure(maps, x, y) -> dict:
    """Where the heads of a sort model look, per (layer, head), over N test sequences.

    ``maps`` list of (N, H, L, L), ``x`` inputs (N, L), ``y`` sorted targets (N, L). For query j:
    ``mass`` Σ_i α_{j,i}[x_i = y_j], the weight on the input tokens equal to output j (the tokens of
    rank j); ``distance`` Σ_i α_{j,i}|x_i − y_j|, how far the attended values are from the output;
    both averaged over j and the sequences, with their values under uniform attention α = 1/L."""
    d = xp.abs(x[:, None, :] - y[:, :, None]).astype(xp.float64)  # (N, query j, key i)
    eq = (d == 0).astype(xp.float64)
    w = [m.numpy() for m in maps]
    return {"mass": xp.array([[(a[:, h] * eq).sum(-1).mean() for h in range(a.shape[1])] for a in w]),
            "distance": xp.array([[(a[:, h] * d).sum(-1).mean() for h in range(a.shape[1])] for a in w]),
            "uniform_mass": float(eq.mean()), "uniform_distance": float(d.mean())}


def sequence_test_accuracy(model, x, y) -> float:
    """Whole-sequence accuracy of ``model`` on (x, y) in eval mode; leaves the model in train mode."""
    import shenjing as sj
    from shenjing.train.sequence import sequence_accuracy

    model.eval()
    with sj.no_grad():
        a = sequence_accuracy(model(x), y)
    model.train()
    return a


def fit_with_curve(model, task, opt, sched, epochs: int, evals: int) -> tuple[list[float], list[tuple[int, float]]]:
    """``epochs`` epochs over ``task.train``, the scheduler stepped after every update; the loss per
    update and (update, test sequence accuracy) about ``evals`` times, before the first and after the last."""
    xt, yt = task.test.dataset.tensors
    losses, accs, step = [], [(0, sequence_test_accuracy(model, xt, yt))], 0
    total = epochs * len(task.train)
    every = max(1, total // evals)
    for _ in range(epochs):
        for x, y in task.train:
            loss = task.loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            step += 1
            if step % every == 0 or step == total:
                accs.append((step, sequence_test_accuracy(model, xt, yt)))
    return losses, accs


def train_transformer(n_train: int, epochs: int, seed: int, length: int = 10, d_model: int = 64, nhead: int = 4,
                      num_layers: int = 2, batch: int = 64, lr: float = 3e-3, n_test: int = 1000, evals: int = 12) -> dict:
    """Train ``transformer`` of ``shenjing train`` on its ``sort`` task; the curves and the attention structure."""
    import shenjing as sj
    from shenjing import optim
    from shenjing.train.registry import build_model, build_task

    cfg = {"seed": seed, "subset": n_train, "val_size": 0, "batch_size": batch, "opt": [f"length={length}", f"test_size={n_test}"]}
    t = build_task("sort", cfg)
    sj.manual_seed(seed)
    model = build_model("transformer", t.input_shape, t.num_classes, d_model=d_model, nhead=nhead, num_layers=num_layers,
                        dropout=0.0)
    opt = optim.Adam(model.parameters(), lr=lr)
    total = epochs * len(t.train)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.2)
    losses, accs = fit_with_curve(model, t, opt, sched, epochs, evals)
    model.eval()
    xt, yt = t.test.dataset.tensors
    maps = model.attention_maps(xt[:500])
    return {"model": model, "task": t, "losses": losses, "accs": accs, "sequence_accuracy": accs[-1][1],
            **sort_structure(maps, xt[:500].numpy(), yt[:500].numpy()), "parameters": sum(p.numel() for p in model.parameters()),
            "steps": total}


def transformer_numbers(tr: dict, n_train: int, epochs: int) -> dict:
    """What :func:`train_transformer` measured, with the head whose attended values are closest to the output."""
    bl, bh = divmod(int(xp.argmin(tr["distance"])), tr["distance"].shape[1])
    best_dist, best_mass = float(tr["distance"][bl, bh]), float(tr["mass"][bl, bh])
    return {"length": 10, "train_sequences": n_train, "epochs": epochs, "steps": tr["steps"], "parameters": tr["parameters"],
            "test_sequence_accuracy": tr["sequence_accuracy"], "chance_sequence_accuracy": 1e-10,
            "mass_on_equal_tokens": tr["mass"], "uniform_mass": tr["uniform_mass"],
            "distance_of_attended_values": tr["distance"], "uniform_distance": tr["uniform_distance"],
            "best_head": f"layer {bl}, head {bh}", "best_head_distance": best_dist, "best_head_mass": best_mass,
            "best_head_distance_over_uniform": best_dist / tr["uniform_distance"], "best_head_mass_over_uniform": best_mass / tr["uniform_mass"]}


def measure(ctx) -> Measurement:
    hand = by_hand(ctx.rng)
    ret = retrieval(ctx.rng, steps=150 if ctx.quick else 400)
    n_train, epochs = (8000, 3) if ctx.quick else (50000, 4)
    with single_threaded_blas():  # small matrices: one BLAS thread is faster and steadier on a shared machine
        tr = train_transformer(n_train, epochs, ctx.seed)
    s = ret["scores"]
    lin_acc, dot_acc = s["linear_trained"]["accuracy"], s["dot"]["accuracy"]
    measured = {
        "by_hand": {"max_abs_difference": hand["max_diff"], "alpha_sum_error": hand["alpha_sum_error"], "sdpa_difference": hand["sdpa_diff"]},
        "retrieval": {**s, "learned_over_dot_accuracy": lin_acc / dot_acc if dot_acc > 0 else float("inf"),
                      "W_alignment_with_A": ret["W_alignment"], "chance": 1 / N_ITEMS, "steps": len(ret["losses"])},
        "transformer_sort": transformer_numbers(tr, n_train, epochs),
    }
    method = ("(1) e, α and the output by the notes' formulas in NumPy vs nn.QueryAttention (dot and linear score) and "
              "scaled_dot_product_attention(q, X, X, scale=1), float64. (2) QueryAttention(score='linear') trained with Adam "
              f"(lr 0.03, batch 128, {len(ret['losses'])} steps) on q = A x_k, n = {N_ITEMS} items in R^{DIM}, A a fixed random "
              "rotation; test retrieval accuracy (argmax α = k) on 2000 queries, for it and for the dot score. (3) "
              "SequenceTransformer (d_model 64, 4 heads, 2 pre-norm layers; Adam with OneCycle, max lr 3e-3, batch 64) on sort "
              f"of 10 digits, {n_train} training sequences × {epochs} epochs: whole-sequence accuracy on 1000 test sequences; on "
              "500 of them, per head, the mean weight Σ_i α_ji [x_i = y_j] on the input tokens equal to output j and the mean "
              "distance Σ_i α_ji |x_i − y_j| of the attended values from it; the best head is the one with the smallest distance.")
    return Measurement(measured, method, data={"hand": hand, "ret": ret, "tr": tr, "n_train": n_train, "epochs": epochs})


def draw_query_attention(ctx, ret: dict, max_diff: float) -> None:
    plt = pyplot()
    s = ret["scores"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    ax = axes[0]
    idx = xp.arange(N_ITEMS)
    for off, (name, lab) in zip((-0.2, 0.2), (("dot", "dot score qᵀx_i"), ("linear", "learned score qᵀW x_i (trained)"))):
        ax.bar(idx + off, ret["example"][name], width=0.4, label=lab)
    ax.axvline(ret["example_target"], color="k", ls="--", lw=1, label=f"the item the query points to (k = {ret['example_target']})")
    ax.set(xlabel="item i", ylabel="attention weight α_i = softmax(e)_i", ylim=(0, 1.05),
           title="α on one test query (q = A x_k, A a fixed rotation)")
    ax.set_xticks(idx)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3, axis="y")
    ax = axes[1]
    st, acc = zip(*ret["accs"])
    ax.plot(st, acc, "o-", ms=3, color="tab:orange", label="learned score qᵀW x_i")
    ax.axhline(s["dot"]["accuracy"], color="tab:blue", ls="--", label=f"dot score qᵀx_i: {s['dot']['accuracy']:.2f}")
    ax.axhline(1 / N_ITEMS, color="0.5", ls=":", label=f"chance 1/n = {1 / N_ITEMS:.3f}")
    ax.set(xlabel="Adam step (batch 128)", ylabel="test retrieval accuracy (argmax α = k)", ylim=(0, 1.05),
           title="Retrieval with a learned linear score (loss ‖Σα_i x_i − x_k‖²)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    fig.suptitle(f"Fang §9.1 query attention, n = {N_ITEMS} items in R^{DIM}; by hand (NumPy) vs module: max |diff| {max_diff:.1g}")
    fig.tight_layout()
    ctx.savefig(fig, "query-attention.png")


def draw_transformer(ctx, tr: dict, n_train: int, epochs: int) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.6))
    ax = axes[0]
    ax.plot(range(1, len(tr["losses"]) + 1), tr["losses"], lw=0.8, color="tab:blue", label="training loss (left axis)")
    ax.set(xlabel="Adam step (batch 64)", ylabel="cross-entropy per token", yscale="log", title="training curve")
    ax.grid(alpha=0.3, which="both")
    ax2 = ax.twinx()
    st, acc = zip(*tr["accs"])
    ax2.plot(st, acc, "o-", ms=3, color="tab:red", label="test whole-sequence accuracy (right axis)")
    ax2.set_ylabel("test whole-sequence accuracy", color="tab:red")
    ax2.set_ylim(0, 1.02)
    ax.legend(handles=ax.get_lines() + ax2.get_lines(), fontsize=8, loc="center right")
    Lr, H = tr["mass"].shape
    pos = [h + li * (H + 1) for li in range(Lr) for h in range(H)]
    for ax, key, ylabel, title in (
            (axes[1], "mass", "mean Σ_i α_ji [x_i = y_j]", "attention on the input tokens equal to output j"),
            (axes[2], "distance", "mean Σ_i α_ji |x_i − y_j|", "distance of the attended values from output j")):
        for li in range(Lr):
            ax.bar(pos[li * H:(li + 1) * H], tr[key][li], color=f"C{li}", label=f"layer {li}")
        ax.axhline(tr[f"uniform_{key}"], color="0.3", ls="--", label=f"uniform attention: {tr[f'uniform_{key}']:.2f}")
        ax.set_xticks(pos, [f"L{li} H{h}" for li in range(Lr) for h in range(H)])
        ax.set(xlabel="layer, head", ylabel=ylabel, title=title)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[1].set_ylim(0, 1)
    fig.suptitle(f"Transformer ({tr['parameters']:,} parameters, 2 layers × 4 heads) sorting 10 digits, {n_train} training "
                 f"sequences × {epochs} epochs: test sequence accuracy {tr['sequence_accuracy']:.3f} (guessing: 10⁻¹⁰)")
    fig.tight_layout()
    ctx.savefig(fig, "transformer-sort.png")


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.attention import sequence_attention_figure

    d = m.data
    draw_query_attention(ctx, d["ret"], m.measured["by_hand"]["max_abs_difference"])
    draw_transformer(ctx, d["tr"], d["n_train"], d["epochs"])
    x0, y0 = d["tr"]["task"].test.dataset[0]  # attention maps per head on one test sequence
    ctx.savefig(sequence_attention_figure(d["tr"]["model"], x0, y0, d["tr"]["task"].classes, name="sort (10 digits)"), "attention-maps.png")
