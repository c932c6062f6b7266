"""Computational-graph rendering (计算图可视化, Wang 五.III).

Wang draws a computational graph as operation nodes (circles) joined by arrows that carry
data, and implements it as node objects (MulNode, AddNode). shenjing records exactly that graph
while it computes: every result tensor has ``grad_fn``, a Function node whose ``inputs`` are the
tensors it consumed. This module walks that graph back from any output tensor and draws it:

* :func:`build_graph` — the nodes and edges as plain data;
* :func:`to_dot` — Graphviz DOT text (always available, no dependency);
* :func:`render` — an SVG/PNG/PDF through Graphviz ``dot`` when it is installed, otherwise a
  matplotlib drawing (PNG) with a layered layout.

Tensor nodes (ellipses) show a name and a shape: leaves that require grad (parameters, blue),
other leaves (data, grey; one-element constants show their value) and the output (green).
Function nodes (boxes) show the operation's name (``Mul``, ``Add``, ``MatMul`` ...) and the shape
of their result, with the result's name when ``params`` names that intermediate tensor (yellow).
``show_values=True`` adds each tensor's forward value (前向值) ``= v`` and ``show_grads=True`` the
backward value (反向梯度) ``∂out/∂· = g`` of the output with respect to it (Wang 五.III draws both
on every node); tensors with more than :data:`MAX_SHOWN` elements show their shape only.

The graph is freed by ``backward()`` unless ``retain_graph=True``: draw it before, or keep it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..autograd.tensor import Tensor

_FREED = ("graph: the graph behind this tensor was freed by backward(); draw it before calling backward, "
          "or call backward(retain_graph=True)")

COLORS = {"param": "lightblue", "leaf": "lightgrey", "const": "white", "output": "darkolivegreen1",
          "named": "lightyellow", "function": "white"}


@dataclass
class Node:
    id: str
    kind: str  # 'param' | 'leaf' | 'const' | 'output' | 'function'
    label: str
    named: bool = False  # a Function node whose result is named in ``params``


@dataclass
class Graph:
    """Nodes and edges (from producer to consumer, i.e. in the direction data flows)."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def node(self, id: str) -> Node:
        for n in self.nodes:
            if n.id == id:
                return n
        raise KeyError(id)


def _names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        items: Iterable = params.named_parameters()
    elif isinstance(params, dict):
        items = params.items()
    else:
        raise TypeError(f"graph: params must be a dict name→tensor or a Module, got {type(params).__name__}")
    out = {}
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"graph: params[{name!r}] is a {type(t).__name__}, not a Tensor")
        out.setdefault(id(t), str(name))
    return out


def _shape(t: Tensor) -> str:
    s = tuple(t.shape)
    return "()" if not s else "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def _value(t: Tensor) -> str:
    v = t.item()
    return f"{v:g}" if isinstance(v, float) else str(v)


MAX_SHOWN = 6  # show_values/show_grads print tensors of at most this many elements


def _numbers(t: Tensor) -> str:
    """A tensor's numbers, short: ``1.5`` or ``[1, -2.25]`` (``…`` past MAX_SHOWN elements)."""
    if t.numel() > MAX_SHOWN:
        return "…"
    if t.dim() == 0:
        return f"{t.item():.4g}"
    return "[" + ", ".join(f"{v:.4g}" for v in t.detach().reshape(-1).tolist()) + "]"


def _grads(tensor: Tensor, order: list, out_shape: dict[int, Tensor]) -> dict[int, Tensor]:
    """∂tensor/∂t for every tensor of the graph that requires grad (by id), without freeing it."""
    from ..autograd import grad

    targets = {id(t): t for fn in order for t in fn.inputs if t.requires_grad}
    targets.update({id(t): t for t in out_shape.values()})
    targets.pop(id(tensor), None)
    if tensor.numel() != 1:
        raise ValueError(f"graph: show_grads needs a one-element output, got shape {_shape(tensor)}")
    ts = list(targets.values())
    gs = grad(tensor, ts, retain_graph=True, allow_unused=True, materialize_grads=True) if ts else ()
    out = {id(t): g for t, g in zip(ts, gs)}
    out[id(tensor)] = tensor.detach() * 0 + 1
    return out


def _annotate(label: str, t: Tensor, values: bool, grads: dict[int, Tensor] | None) -> str:
    if values:
        label += f"\n= {_numbers(t)}"
    if grads is not None and id(t) in grads:
        label += f"\n∂out/∂· = {_numbers(grads[id(t)])}"
    return label


def _functions(tensor: Tensor) -> tuple[list, dict[int, Tensor]]:
    """The Functions that produced ``tensor``, depth-first from its ``grad_fn`` (each once), and for
    each (by id) a tensor it produced."""
    out_shape: dict[int, Tensor] = {}
    order: list = []
    seen: set[int] = set()
    if tensor.grad_fn is None:
        return order, out_shape
    out_shape[id(tensor.grad_fn)] = tensor
    stack = [tensor.grad_fn]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.freed:
            raise RuntimeError(_FREED)
        order.append(fn)
        for t in fn.inputs:
            if t.grad_fn is not None:
                out_shape.setdefault(id(t.grad_fn), t)
                if id(t.grad_fn) not in seen:
                    stack.append(t.grad_fn)
    return order, out_shape


def build_graph(tensor: Tensor, params: Any = None, show_shapes: bool = True, show_values: bool = False,
                show_grads: bool = False) -> Graph:
    """The graph that produced ``tensor``: tensor nodes, Function nodes and data-flow edges.

    ``params`` names tensors: a dict name → tensor (leaves or intermediates) or a Module (its
    ``named_parameters()``). ``show_values``/``show_grads`` add forward values and ∂tensor/∂·
    (``tensor`` must then have one element) to every node."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(tensor).__name__}")
    names = _names(params)
    g = Graph()
    ids: dict[int, str] = {}  # id(tensor or function) -> node id

    def sh(t: Tensor) -> str:
        return _shape(t) if show_shapes else ""

    def tensor_node(t: Tensor) -> str:
        key = id(t)
        if key in ids:
            return ids[key]
        nid = f"t{len(ids)}"
        ids[key] = nid
        name = names.get(key)
        if t.grad_fn is None and t.requires_grad:
            kind, label = "param", name or "leaf"
        elif t.grad_fn is None and name is None and t.numel() == 1:
            kind, label = "const", _value(t)
        else:
            kind, label = "leaf", name or ("data" if t.grad_fn is None else "tensor")
        if kind != "const" and show_shapes:
            label = f"{label}\n{sh(t)}"
        g.nodes.append(Node(nid, kind, _annotate(label, t, show_values and kind != "const", grads)))
        return nid

    order, out_shape = _functions(tensor)
    grads = _grads(tensor, order, out_shape) if show_grads else None
    for fn in reversed(order):  # producers before consumers, roughly
        nid = f"f{len(ids)}"
        ids[id(fn)] = nid
        produced = out_shape.get(id(fn))
        label = fn.name
        if produced is not None:
            name = names.get(id(produced))
            extra = (f"{name} " if name else "") + (sh(produced) if show_shapes else "")
            if extra.strip():
                label = f"{label}\n{extra.strip()}"
            label = _annotate(label, produced, show_values, grads)
        g.nodes.append(Node(nid, "function", label, named=produced is not None and id(produced) in names))
    for fn in reversed(order):
        for t in fn.inputs:
            src = ids[id(t.grad_fn)] if t.grad_fn is not None else tensor_node(t)
            g.edges.append((src, ids[id(fn)]))

    if tensor.grad_fn is None:  # a leaf on its own
        grads = {id(tensor): tensor.detach() * 0 + 1} if show_grads else None
        tensor_node(tensor)
    else:
        nid = "out"
        label = names.get(id(tensor), "output")
        label = f"{label}\n{sh(tensor)}" if show_shapes else label
        g.nodes.append(Node(nid, "output", _annotate(label, tensor, show_values, grads)))
        g.edges.append((ids[id(tensor.grad_fn)], nid))
    return g


def _dot_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(tensor: Tensor, params: Any = None, rankdir: str = "LR", show_shapes: bool = True,
           title: str | None = None, show_values: bool = False, show_grads: bool = False) -> str:
    """Graphviz DOT text of the computational graph of ``tensor`` (always available).

    Function nodes are boxes labelled by the operation name (``Mul``, ``Add`` ...); tensors are
    ellipses labelled by name (from ``params``: a dict name → tensor, or a Module's
    ``named_parameters()``) and shape. Edges follow the data, inputs → output
    (``rankdir='LR'`` left to right, ``'TB'`` top to bottom); ``show_values``/``show_grads`` as in
    :func:`build_graph`."""
    g = build_graph(tensor, params, show_shapes, show_values, show_grads)
    lines = ["digraph computational_graph {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=11];', '  edge [color="gray30"];']
    if title:
        lines.append(f'  label="{_dot_escape(title)}"; labelloc=t;')
    for n in g.nodes:
        if n.kind == "function":
            attrs = f'shape=box, style="rounded,filled", fillcolor="{COLORS["named" if n.named else "function"]}"'
        else:
            attrs = f'shape=ellipse, style=filled, fillcolor="{COLORS[n.kind]}"'
        lines.append(f'  {n.id} [label="{_dot_escape(n.label)}", {attrs}];')
    for a, b in g.edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def has_graphviz() -> bool:
    """Is the Graphviz ``dot`` program on the PATH?"""
    return shutil.which("dot") is not None


def render(tensor: Tensor, path: str | Path, format: str | None = None, params: Any = None,
           backend: str = "auto", rankdir: str = "LR", show_shapes: bool = True, title: str | None = None,
           show_values: bool = False, show_grads: bool = False) -> Path:
    """Draw the computational graph of ``tensor`` to a file and return its path.

    ``backend='auto'`` uses Graphviz ``dot`` when installed (``format`` 'svg' by default, or
    'png', 'pdf', anything ``dot -T`` takes) and falls back to matplotlib otherwise;
    ``'graphviz'`` requires dot; ``'matplotlib'`` forces the fallback, which writes a PNG (or the
    format of the path's suffix if matplotlib supports it: png, svg, pdf). The ``.dot`` text is
    available from :func:`to_dot`."""
    path = Path(path)
    if backend not in ("auto", "graphviz", "matplotlib"):
        raise ValueError(f"render: backend must be 'auto', 'graphviz' or 'matplotlib', got {backend!r}")
    use_dot = backend == "graphviz" or (backend == "auto" and has_graphviz())
    if backend == "graphviz" and not has_graphviz():
        raise RuntimeError("render: Graphviz 'dot' is not installed (apt-get install graphviz); use backend='matplotlib'")
    if use_dot:
        fmt = format or (path.suffix[1:] if path.suffix else "svg")
        if not path.suffix:
            path = path.with_suffix("." + fmt)
        dot = to_dot(tensor, params, rankdir, show_shapes, title, show_values, show_grads)
        path.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["dot", f"-T{fmt}", "-o", str(path)], input=dot.encode(), capture_output=True, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"render: dot -T{fmt} failed: {r.stderr.decode(errors='replace').strip()}")
        return path
    fmt = format if format in ("png", "svg", "pdf") else None
    if fmt is None:
        fmt = path.suffix[1:] if path.suffix[1:] in ("png", "svg", "pdf") else "png"
    path = path.with_suffix("." + fmt)
    draw_matplotlib(build_graph(tensor, params, show_shapes, show_values, show_grads), path, rankdir=rankdir,
                    title=title)
    return path


# ------------------------------------------------------------------------ matplotlib fallback


def layered_layout(g: Graph) -> dict[str, tuple[float, int]]:
    """Layer of each node (longest path from a source) and its position within the layer.

    A Sugiyama-style layout: layers by longest path, then a few sweeps of the barycentre heuristic
    to reduce edge crossings. Returns node id → (layer, slot)."""
    preds: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    succs: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    for a, b in g.edges:
        preds[b].append(a)
        succs[a].append(b)
    layer: dict[str, int] = {}
    # Kahn's algorithm for a topological order, then longest path
    indeg = {k: len(set(v)) for k, v in preds.items()}
    ready = [n.id for n in g.nodes if indeg[n.id] == 0]
    topo: list[str] = []
    while ready:
        u = ready.pop(0)
        topo.append(u)
        for w in dict.fromkeys(succs[u]):
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    for u in topo:
        layer[u] = max((layer[p] + 1 for p in preds[u]), default=0)
    # pull sources (leaves) next to their first consumer, so they do not all sit in layer 0
    for u in topo:
        if not preds[u] and succs[u]:
            layer[u] = min(layer[s] for s in succs[u]) - 1
    layers: dict[int, list[str]] = {}
    for u in topo:
        layers.setdefault(layer[u], []).append(u)
    keys = sorted(layers)
    pos = {u: float(i) for k in keys for i, u in enumerate(layers[k])}
    for _ in range(4):  # barycentre sweeps, down then up
        for seq, nbrs in ((keys, preds), (keys[::-1], succs)):
            for k in seq:
                def bary(u: str, nbrs: dict = nbrs) -> float:
                    ns = [pos[v] for v in nbrs[u] if v in pos]
                    return sum(ns) / len(ns) if ns else pos[u]
                layers[k].sort(key=bary)
                for i, u in enumerate(layers[k]):
                    pos[u] = float(i)
    return {u: (float(layer[u] - keys[0]), int(pos[u])) for u in topo}


def draw_matplotlib(g: Graph, path: str | Path, rankdir: str = "LR", title: str | None = None, dpi: int = 150) -> Path:
    """Draw ``g`` with matplotlib (no Graphviz needed) using :func:`layered_layout`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    lay = layered_layout(g)
    n_layers = int(max((lv for lv, _ in lay.values()), default=0)) + 1
    counts: dict[float, int] = {}
    for lv, _ in lay.values():
        counts[lv] = counts.get(lv, 0) + 1
    width = max(counts.values(), default=1)
    horizontal = rankdir in ("LR", "RL")
    sx, sy = 1.9, 1.25  # spacing between layers and within a layer (inches)

    def xy(u: str) -> tuple[float, float]:
        lv, slot = lay[u]
        off = slot - (counts[lv] - 1) / 2  # centre each layer
        if horizontal:
            return (lv * sx if rankdir == "LR" else (n_layers - 1 - lv) * sx), -off * sy
        return off * sx * 0.9, ((n_layers - 1 - lv) * sy * 1.3 if rankdir == "TB" else lv * sy * 1.3)

    span_l, span_w = n_layers, width
    fw = (span_l * sx + 1.5) if horizontal else (span_w * sx * 0.9 + 1.5)
    fh = (span_w * sy + 1.2) if horizontal else (span_l * sy * 1.3 + 1.2)
    fig = Figure(figsize=(max(fw, 3.0), max(fh, 2.0)), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 0.92 if title else 1))
    ax.set_axis_off()
    pts = {u: xy(u) for u in lay}
    xs = [p[0] for p in pts.values()] or [0.0]
    ys = [p[1] for p in pts.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    texts = {}
    for n in g.nodes:
        if n.id not in pts:
            continue
        x, y = pts[n.id]
        box = "round,pad=0.3" if n.kind == "function" else "circle,pad=0.15" if n.kind == "const" else "ellipse,pad=0.2"
        fc = {"param": "#add8e6", "leaf": "#d3d3d3", "const": "#ffffff", "output": "#caff70",
              "named": "#ffffe0", "function": "#ffffff"}["named" if n.named else n.kind]
        texts[n.id] = ax.text(x, y, n.label, ha="center", va="center", fontsize=9, zorder=3,
                              bbox={"boxstyle": box, "fc": fc, "ec": "black", "lw": 1.0})
    fig.canvas.draw()  # places the text boxes, which clip the arrows
    for a, b in g.edges:
        if a not in pts or b not in pts:
            continue
        arrow = FancyArrowPatch(pts[a], pts[b], arrowstyle="-|>", mutation_scale=12, color="0.3", lw=1.0,
                                patchA=texts[a].get_bbox_patch(), patchB=texts[b].get_bbox_patch(),
                                shrinkA=2, shrinkB=2, zorder=4, connectionstyle="arc3,rad=0.0")
        ax.add_patch(arrow)
    if title:
        fig.suptitle(title, fontsize=11)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


__all__ = ["Graph", "Node", "build_graph", "draw_matplotlib", "has_graphviz", "layered_layout", "render", "to_dot"]
