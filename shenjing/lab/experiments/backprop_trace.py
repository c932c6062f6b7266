"""backprop-trace: every number of backpropagation on a 2–3–1 network, and Wang's graph with its numbers
(Zhao §3; Wang 五.III).

* Zhao §3 (one sample, ReLU hidden layer, J = ½(y − o)²): z^[1] = W^[1]x + b^[1], a^[1] = ReLU(z^[1]),
  o = W^[2]a^[1] + b^[2]; δ^[2] = o − y, δ^[1] = (W^[2]ᵀδ^[2]) ⊙ 1{z^[1] > 0}, ∂J/∂W^[k] = δ^[k] a^[k−1]ᵀ,
  ∂J/∂b^[k] = δ^[k] — each printed with its shape beside autograd's value.
* Wang's graph out = 3(a + b·c) drawn with its forward value and ∂out/∂· on every node
  (``shenjing.viz.graph.render(..., show_values=True, show_grads=True)``).
* Wang's MulNode/AddNode training loop runs once its printed bugs are fixed: MulNode.backward must
  multiply by d_next; AddNode's methods lack ``self`` (the loop stops with a TypeError); MyNetwork.backward
  returns nothing (d_parameter is None); ``parameter = b`` reads an undefined b and resets the parameter
  at every sample (it must be set once, before the loop). The "loss" 3(label + b·data) is linear in b, so the
  fixed loop moves b by exactly −3·lr·Σ data — it runs, but has no minimum to find.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

TOL = 1e-12
LR = 1e-2

EXPERIMENT = Experiment(
    id="backprop-trace",
    title="Backpropagation traced: z, a, δ and every ∂J/∂W of a 2–3–1 network; Wang's graph with its numbers",
    title_zh="反向传播逐步追踪: 2–3–1 网络的 z, a, δ 与每个 ∂J/∂W; 标出数值的 Wang 计算图",
    source="Zhao §3; Wang 五.III",
    claim="On a 2–3–1 ReLU network every δ and ∂J/∂W of Zhao's recursion equals autograd's value and shape; Wang's "
          "graph 3(a + b·c) carries forward values and gradients on every node; Wang's MulNode/AddNode loop, once "
          "its four printed bugs are fixed, takes exactly the SGD steps of autograd.",
    claim_zh="在 2–3–1 ReLU 网络上, Zhao 递推的每个 δ 与 ∂J/∂W 在数值与形状上都等于自动微分的结果; Wang 的计算图 3(a + b·c) "
             "在每个节点上标出前向值与梯度; Wang 的 MulNode/AddNode 训练循环修正四处印刷错误后, 每一步与自动微分的 SGD 完全一致.",
    checks=(
        Check("trace_max_abs_diff", "<", TOL, "max |Zhao's ∂J/∂W, ∂J/∂b − autograd's| on the 2–3–1 network",
              what_zh="2–3–1 网络上 max |Zhao 的 ∂J/∂W, ∂J/∂b − 自动微分|"),
        Check("trace_shapes_match", "true", what="every ∂J/∂W^[k], ∂J/∂b^[k] has the shape of W^[k], b^[k]",
              what_zh="每个 ∂J/∂W^[k], ∂J/∂b^[k] 与 W^[k], b^[k] 形状相同"),
        Check("graph_grads_max_abs_diff", "<", TOL, "max |∂out/∂a, b, c drawn on the graph − backward()'s|",
              what_zh="max |计算图上标出的 ∂out/∂a, b, c − backward() 的结果|"),
        Check("loop_vs_autograd_max_abs_diff", "<", TOL, "max |b of the fixed node loop − b of autograd SGD| over the steps",
              what_zh="各步中 max |修正后节点循环的 b − 自动微分 SGD 的 b|"),
        Check("loop_drift_error", "<", 1e-9, "|b_end − b_0 + 3·lr·Σ data| (the linear 'loss' only drifts b)",
              what_zh="|b_末 − b_0 + 3·lr·Σ data| (线性的 \"损失\" 只让 b 漂移)"),
        Check("first_three_fixes_each_needed", "true",
              what="the printed loop stops with an error until the first three fixes are all applied",
              what_zh="前三处修正全部做完之前, 照印的循环都会报错"),
        Check("printed_mulnode_drift_ratio_error", "<", 1e-9,
              "|drift with the printed MulNode / correct drift − 1/3| (the factor 3 lost)",
              what_zh="|照印 MulNode 的漂移 / 正确漂移 − 1/3| (丢失了因子 3)"),
    ),
)


def trace(x, y, W1, b1, W2, b2) -> dict:
    """Zhao §3 forward and backward for one sample (columns), every intermediate by name."""
    z1 = W1 @ x + b1
    a1 = xp.maximum(z1, 0)
    o = W2 @ a1 + b2
    d2 = o - y
    d1 = (W2.T @ d2) * (z1 > 0)
    return {"x": x, "z1": z1, "a1": a1, "o": o, "J": 0.5 * (y - o) ** 2, "delta2": d2, "delta1": d1,
            "dW2": d2 @ a1.T, "db2": d2, "dW1": d1 @ x.T, "db1": d1}


def autograd_trace(x, y, W1, b1, W2, b2) -> dict:
    """The same gradients by backward() on leaf tensors (float64)."""
    import shenjing as sj

    p = {k: sj.tensor(v, dtype=sj.float64, requires_grad=True) for k, v in
         {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
    o = p["W2"] @ (p["W1"] @ sj.tensor(x) + p["b1"]).relu() + p["b2"]
    (0.5 * ((sj.tensor(y) - o) ** 2).sum()).backward()
    return {"d" + k: t.grad.numpy() for k, t in p.items()}


PRINTED = """
class MulNode:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, d_next):
        return self.y, self.x

class AddNode:
    def forward(x, y):
        return x + y

    def backward(d_next):
        return d_next, d_next

class MyNetwork:
    def __init__(self):
        self.node1 = MulNode()
        self.node2 = AddNode()
        self.node3 = MulNode()

    def forward(self, a, b, c):
        h1 = self.node1.forward(b, c)
        h2 = self.node2.forward(a, h1)
        return self.node3.forward(3, h2)

    def backward(self, d_out):
        _, d_h2 = self.node3.backward(d_out)
        d_a, d_h1 = self.node2.backward(d_h2)
        d_b, d_c = self.node1.backward(d_h1)

model = MyNetwork()
lr = 1e-4
for data, label in dataset:
    parameter = b
    loss = model.forward(label, parameter, data)
    d_parameter = model.backward(1)
    parameter -= lr * d_parameter
"""
"""Wang 五.III's code verbatim (only the indentation of the first class normalised)."""

#: The fixes, applied one after the other: (what, printed text, fixed text).
FIXES = (
    ("b is never defined: set the parameter once, before the loop (the printed loop also resets it every step)",
     "lr = 1e-4\nfor data, label in dataset:\n    parameter = b\n",
     "lr = LR\nparameter = b0\nhistory = [parameter]\nfor data, label in dataset:\n"),
    ("AddNode's methods lack self", "    def forward(x, y):\n        return x + y\n\n    def backward(d_next):",
     "    def forward(self, x, y):\n        return x + y\n\n    def backward(self, d_next):"),
    ("MyNetwork.backward returns nothing: return d_b, the gradient of the parameter",
     "        d_b, d_c = self.node1.backward(d_h1)\n", "        d_b, d_c = self.node1.backward(d_h1)\n        return d_b\n"),
    ("MulNode.backward ignores d_next: return (d_next·y, d_next·x)", "        return self.y, self.x",
     "        return d_next * self.y, d_next * self.x"),
)


def run_printed(n_fixes: int, data, label, b0: float) -> tuple[str, list[float]]:
    """Run Wang's code with the first ``n_fixes`` fixes: the error it stops with ('' if none) and b per step."""
    src = PRINTED
    for _, old, new in FIXES[:n_fixes]:
        assert old in src, old
        src = src.replace(old, new)
    src += "    history.append(parameter)\n" if n_fixes else ""
    env = {"dataset": list(zip(data, label)), "b0": b0, "LR": LR}
    try:
        exec(compile(src, "Wang 五.III", "exec"), env)  # noqa: S102 — the notes' own code, shipped with this module
    except Exception as e:  # the printed bugs raise NameError / TypeError; report which
        return f"{type(e).__name__}: {e}", []
    return "", [float(v) for v in env["history"]]


def autograd_loop(data, label, b0: float) -> list[float]:
    """The same loop with shenjing: loss = 3(label + b·data), backward(), optim.SGD."""
    import shenjing as sj

    b = sj.tensor(b0, dtype=sj.float64, requires_grad=True)
    opt = sj.optim.SGD([b], lr=LR)
    bs = [b0]
    for x, y in zip(data, label):
        opt.zero_grad()
        (3 * (float(y) + b * float(x))).backward()
        opt.step()
        bs.append(b.item())
    return bs


def wang_graph() -> tuple:
    """Wang's graph out = 3(a + b·c) at a = 2, b = −1.5, c = 4: (out, the leaves by name)."""
    import shenjing as sj

    leaves = {k: sj.tensor(v, dtype=sj.float64, requires_grad=True) for k, v in (("a", 2.0), ("b", -1.5), ("c", 4.0))}
    return 3 * (leaves["a"] + leaves["b"] * leaves["c"]), leaves


def graph_grads() -> tuple[float, dict]:
    """The gradients drawn on Wang's graph against backward()."""
    from shenjing.viz.graph import build_graph

    out, leaves = wang_graph()
    g = build_graph(out, leaves, show_values=True, show_grads=True)
    drawn = {n.label.split("\n")[0]: float(n.label.rsplit("= ", 1)[1]) for n in g.nodes if n.kind == "param"}
    out.backward()
    diff = max(abs(drawn[k] - leaves[k].grad.item()) for k in leaves)
    return diff, {"drawn": drawn, "labels": [n.label for n in g.nodes]}


def measure(ctx) -> Measurement:
    x, y = xp.array([[1.0], [-2.0]]), xp.array([[1.0]])
    W1, b1 = xp.array([[0.5, -0.3], [-0.4, 0.2], [0.4, -0.1]]), xp.array([[0.1], [0.0], [-0.2]])
    W2, b2 = xp.array([[0.7, -0.5, 0.3]]), xp.array([[0.1]])  # z^[1] = (1.2, −0.8, 0.4): unit 2 is off
    t = trace(x, y, W1, b1, W2, b2)
    auto = autograd_trace(x, y, W1, b1, W2, b2)
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    shapes_ok = all(t["d" + k].shape == v.shape == auto["d" + k].shape for k, v in params.items())
    diff = max(float(xp.abs(t["d" + k] - auto["d" + k]).max()) for k in params)
    g_diff, g_data = graph_grads()

    n = 50 if ctx.quick else 500
    data, label = ctx.rng.uniform(-2, 2, n), ctx.rng.uniform(-2, 2, n)
    runs = [run_printed(k, data, label, 0.7) for k in range(len(FIXES) + 1)]
    errors = [err for err, _ in runs]
    loop, ref, three = runs[-1][1], autograd_loop(data, label, 0.7), runs[-2][1]
    measured = {"trace": {k: v.tolist() for k, v in t.items()}, "trace_shapes": {k: list(v.shape) for k, v in t.items()},
                "trace_max_abs_diff": diff, "trace_shapes_match": shapes_ok, "graph_grads_max_abs_diff": g_diff,
                "graph_grads_drawn": g_data["drawn"], "samples": n,
                "loop_vs_autograd_max_abs_diff": float(xp.abs(xp.asarray(loop) - xp.asarray(ref)).max()),
                "loop_drift_error": abs(loop[-1] - loop[0] + 3 * LR * float(data.sum())),
                "errors_after_k_fixes": errors, "fixes": [what for what, _, _ in FIXES],
                "first_three_fixes_each_needed": all(errors[:3]) and not any(errors[3:]),
                "printed_mulnode_drift_ratio_error": abs((three[-1] - three[0]) / (loop[-1] - loop[0]) - 1 / 3)}
    method = (f"2–3–1 ReLU network, one sample, J = ½(y − o)², fixed small weights (one hidden unit off), float64, the "
              f"trace against backward() on leaf tensors; Wang's graph at a = 2, b = −1.5, c = 4 built with "
              f"show_grads; Wang's loop with lr = {LR} over {n} (data, label) pairs uniform on [−2, 2] from b = 0.7, "
              "against optim.SGD on the same loss.")
    return Measurement(measured, method, data={"t": t, "auto": auto, "loop": loop, "ref": ref, "data": data,
                                               "label": label, "three": three})


def _cell(v) -> str:
    return "[" + "; ".join(", ".join(f"{e:.3g}" for e in row) for row in xp.atleast_2d(v)) + "]"


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    t, auto = m.data["t"], m.data["auto"]
    rows = [[k, str(tuple(v.shape)), _cell(v), _cell(auto[k]) if k in auto else ""] for k, v in t.items()]
    fig, ax = plt.subplots(figsize=(9, 4.6), layout="constrained")
    ax.set_axis_off()
    table = ax.table(cellText=rows, colLabels=["量 quantity", "形状 shape", "Zhao §3", "autograd"], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.25)
    ax.set_title("2–3–1 网络反向传播逐步追踪 (backprop trace, J = ½(y − o)²)")
    ctx.savefig(fig, "trace")
    graph_figure(ctx)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.plot(m.data["ref"], "k-", lw=4, alpha=0.3, label="shenjing autograd + optim.SGD")
    ax.plot(m.data["loop"], "--", label="Wang's node loop, four fixes")
    ax.plot(m.data["three"], ":", label="printed MulNode (d_next ignored): a third of each step")
    ax.set(xlabel="step (one sample)", ylabel="parameter b", title="Wang 五.III 训练循环: b = b − lr·∂L/∂b")
    ax.legend()
    ctx.savefig(fig, "node_loop")


def graph_figure(ctx) -> None:
    """Wang's graph 3(a + b·c) with forward values and ∂out/∂· on every node (Graphviz when installed)."""
    from shenjing.viz.graph import render

    out, leaves = wang_graph()
    path = render(out, ctx.out_dir / "graph.png", params=leaves, show_values=True, show_grads=True,
                  title="out = 3(a + b·c): forward value and ∂out/∂· on every node")
    ctx.figures.append(path.name)
