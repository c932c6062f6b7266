"""computational-graph: out = 3(a + b·c) of Wang 五.III with node objects, and shenjing's autograd.

The notes build the graph from MulNode/AddNode objects (forward and backward side by side, the
model of shenjing's Function). Their MulNode.backward returns (y, x) and ignores the upstream
gradient d_next — an erratum: the chain rule needs (d_next·y, d_next·x). With the loss
L = 3·(label + b·data) that slip loses the factor 3, so the notes' code gives ∂L/∂b = data instead of
3·data.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

EXPERIMENT = Experiment(
    id="computational-graph",
    title="Computational graph and backpropagation with node objects",
    title_zh="计算图与反向传播",
    source="Wang 五.III",
    claim="For out = 3(a + b·c), backpropagation through the graph gives dL/db = 3·data, and shenjing's autograd "
          "agrees with the node objects of the notes once MulNode.backward multiplies by the upstream gradient.",
    claim_zh="对 out = 3(a + b·c), 沿计算图反向传播得 dL/db = 3·data; 只要 MulNode.backward 乘上上游梯度, shenjing 的自动微分就与讲义中的节点对象一致.",
    checks=(
        Check("max_abs_error_autograd_vs_3data", "<", 1e-12, "max |autograd's dL/db − 3·data|", what_zh="max |自动微分的 dL/db − 3·data|"),
        Check("max_abs_error_nodes_vs_autograd", "<", 1e-12, "max |node objects' dL/db − autograd's|", what_zh="max |节点对象的 dL/db − 自动微分的|"),
        Check("as_printed_ratio_minus_3", "<", 1e-9, "|median(autograd / printed MulNode) − 3|", what_zh="|median(自动微分 / 印刷的 MulNode) − 3|"),
    ),
)


class MulNode:
    """The notes' multiplication node, with the chain rule applied (乘法节点)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, d_next):
        return d_next * self.y, d_next * self.x


class MulNodeAsPrinted(MulNode):
    """Wang's MulNode.backward exactly as printed: the upstream gradient is ignored."""

    def backward(self, d_next):
        return self.y, self.x


class AddNode:
    """The notes' addition node (加法节点): passes the upstream gradient to both inputs."""

    def forward(self, x, y):
        return x + y

    def backward(self, d_next):
        return d_next, d_next


class MyNetwork:
    """out = 3·(a + b·c), built from node objects as in Wang."""

    def __init__(self, mul=MulNode) -> None:
        self.node1, self.node2, self.node3 = mul(), AddNode(), mul()

    def forward(self, a, b, c):
        h1 = self.node1.forward(b, c)
        h2 = self.node2.forward(a, h1)
        return self.node3.forward(3, h2)

    def backward(self, d_out):
        _, d_h2 = self.node3.backward(d_out)
        d_a, d_h1 = self.node2.backward(d_h2)
        d_b, d_c = self.node1.backward(d_h1)
        return d_a, d_b, d_c


def db_three_ways(data, label, b0: float) -> tuple:
    """dL/db for L = 3·(label + b·data) at b = b0, per sample: by shenjing's backward(), by the node objects
    with the corrected MulNode, and by the node objects as printed (three arrays)."""
    import shenjing as sj

    auto, nodes, printed = [], [], []
    for x, y in zip(data, label):
        a = sj.tensor(y, dtype=sj.float64, requires_grad=True)
        b = sj.tensor(b0, dtype=sj.float64, requires_grad=True)
        c = sj.tensor(x, dtype=sj.float64, requires_grad=True)
        (3 * (a + b * c)).backward()
        auto.append(b.grad.item())
        for mul, out in ((MulNode, nodes), (MulNodeAsPrinted, printed)):
            net = MyNetwork(mul)
            net.forward(y, b0, x)
            out.append(net.backward(1.0)[1])
    return xp.asarray(auto), xp.asarray(nodes), xp.asarray(printed)


def measure(ctx) -> Measurement:
    n = 20 if ctx.quick else 200
    data = ctx.rng.uniform(-2, 2, n)
    label = ctx.rng.uniform(-2, 2, n)
    b0 = 0.7
    auto, nodes, printed = db_three_ways(data, label, b0)
    ratio = float(xp.median(auto / printed))
    measured = {"samples": n, "max_abs_error_autograd_vs_3data": float(xp.abs(auto - 3 * data).max()),
                "max_abs_error_nodes_vs_autograd": float(xp.abs(nodes - auto).max()),
                "median_ratio_autograd_to_as_printed": ratio, "as_printed_ratio_minus_3": abs(ratio - 3.0)}
    method = (f"backward() on L = out = 3(a + b·c) with a = label, c = data (each uniform on [−2, 2], {n} samples) and "
              f"b = {b0}, in float64, compared with the chain rule's 3·data and with the notes' node objects (MulNode "
              "corrected to multiply by d_next, and as printed).")
    return Measurement(measured, method, data={"data": data, "auto": auto, "nodes": nodes, "printed": printed, "b0": b0})


def figures(ctx, m: Measurement) -> None:
    graph_figure(ctx, m.data["b0"])
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    data, auto, nodes, printed = (m.data[k] for k in ("data", "auto", "nodes", "printed"))
    fig, ax = plt.subplots(figsize=(6, 4))
    order = xp.argsort(data)
    ax.plot(data[order], 3 * data[order], "k-", lw=3, alpha=0.3, label="3·data (chain rule)")
    ax.plot(data[order], auto[order], "o", ms=4, label="shenjing autograd")
    ax.plot(data[order], nodes[order], "x", ms=6, label="node objects (corrected MulNode)")
    ax.plot(data[order], printed[order], "s", ms=3, label="node objects as printed (ignores d_next)")
    ax.set(xlabel="data (input c)", ylabel="dL/db", title="dL/db for L = 3(label + b·data)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ctx.savefig(fig, "dl-db.png")


def graph_figure(ctx, b0: float) -> None:
    """The graph of one sample as shenjing records it: graph.dot (Graphviz) and graph.png."""
    import shenjing as sj
    from shenjing.viz.graph import build_graph, draw_matplotlib, to_dot

    a = sj.tensor(1.0, requires_grad=True)
    b = sj.tensor(b0, requires_grad=True)
    c = sj.tensor(2.0, requires_grad=True)
    out = 3 * (a + b * c)
    (ctx.out_dir / "graph.dot").write_text(to_dot(out, params={"a": a, "b": b, "c": c}, title="out = 3(a + b·c)"))
    draw_matplotlib(build_graph(out, params={"a": a, "b": b, "c": c}), ctx.out_dir / "graph.png",
                    title="Computational graph of out = 3(a + b·c) (Wang)")
    ctx.figures.append("graph.png")
