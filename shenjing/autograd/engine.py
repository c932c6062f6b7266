"""The backward pass (反向传播): reverse-mode traversal of the graph of Function nodes.

Nodes are visited in reverse topological order; each node's output gradient is complete before its
``backward`` runs (Zhao §3, Algorithm 3: δ of layer l is finished before layer l−1).
"""

from __future__ import annotations

from ..backend import xp
from .grad_mode import set_grad_enabled
from .tensor import Tensor

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time."
)


class _FreedGraph(Exception):
    """A node whose saved state was freed by an earlier backward (carries the node's name)."""


def _seed(i: int, root: Tensor, grad) -> Tensor:
    if not isinstance(root, Tensor):
        raise TypeError(f"backward: output {i} is a {type(root).__name__}, not a Tensor")
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: element {i} of tensors does not require grad and does not have a grad_fn "
            f"(shape {tuple(root.shape)})"
        )
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs; output {i} has "
                f"shape {tuple(root.shape)}: pass gradient= of that shape"
            )
        return Tensor._make(xp.ones_like(root._data))
    g = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=root.dtype)
    if g._data.shape != root._data.shape:
        raise RuntimeError(
            f"backward: Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
            f"output[{i}] has a shape of {tuple(root.shape)}"
        )
    return g


def _topo(root_fns) -> list:
    """Function nodes in post-order (inputs before the nodes that consume them)."""
    order, visited = [], set()
    stack = [(fn, False) for fn in root_fns]
    while stack:
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        inputs = fn.__dict__.get("inputs")
        if inputs is None:
            raise _FreedGraph(fn.name)
        stack.append((fn, True))
        for c in fn.next_fns:
            if c is not None and c not in visited:
                stack.append((c, False))
    return order


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, capture=False,
                 allow_unused=False):
    """Back-propagate from ``roots``.

    ``capture=False`` (Tensor.backward): accumulate into ``.grad`` of the leaves (only of
    ``inputs`` when given). ``capture=True`` (autograd.grad): return the gradients of ``inputs``.
    """
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [(r, _seed(i, r, g)) for i, (r, g) in enumerate(zip(roots, grad_roots))]
    targets = None
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        for t in inputs:
            if not t.requires_grad:
                raise RuntimeError(f"grad: one of the input tensors (shape {tuple(t.shape)}) does not require grad")
        targets = {id(t) for t in inputs}
    try:
        order = _topo({r.grad_fn for r, _ in seeds if r.grad_fn is not None})
    except _FreedGraph as e:
        shapes = ", ".join(str(tuple(r.shape)) for r, _ in seeds)
        raise RuntimeError(f"backward: node {e.args[0]}Backward in the graph of the output of shape {shapes}: {_FREED}") from None

    needed = None
    if targets is not None:  # prune nodes from which no target is reachable
        needed = set()
        for fn in order:
            for t, c in zip(fn.inputs, fn.next_fns):
                if id(t) in targets or (c is not None and c in needed):
                    needed.add(fn)
                    break

    grads: dict = {}
    captured: dict = {}
    stored: set = set()

    def to_leaf(t: Tensor, g: Tensor) -> None:
        if t._hooks:
            for h in t._hooks:
                r = h(g)
                if r is not None:
                    g = r
        if capture:
            if id(t) in targets:
                prev = captured.get(id(t))
                captured[id(t)] = g if prev is None else prev + g
            return
        if targets is not None and id(t) not in targets:
            return
        if t.grad is None:
            if create_graph:
                t.grad = g
                return
            # Steal the gradient's memory unless it is read-only (a broadcast), in another layout
            # than the leaf, or shared: with a user's gradient= array, a retained .grad or another
            # leaf (views of one array reach two leaves through reshape + add). Later backwards add
            # into it in place.
            d = g._data
            own = d if d.base is None else d.base
            if id(own) in stored or not d.flags.writeable or (not d.flags.c_contiguous and t._data.flags.c_contiguous):
                d = own = d.copy()
            stored.add(id(own))
            t.grad = Tensor._make(d)
        elif create_graph or t.grad.requires_grad:
            t.grad = t.grad + g
        else:
            t.grad._data += g._data
            t.grad._vc[0] += 1

    for _, g in seeds:  # a user's gradient= array must never become (part of) a leaf's .grad
        d = g._data
        stored.add(id(d if d.base is None else d.base))

    with set_grad_enabled(create_graph):
        for r, g in seeds:
            if r.grad_fn is None:
                to_leaf(r, Tensor._make(g._data.copy()) if not create_graph else g)
            else:
                prev = grads.get(r.grad_fn)
                grads[r.grad_fn] = g if prev is None else prev + g
        for fn in reversed(order):
            g = grads.pop(fn, None)
            if g is None:
                continue
            out = fn._out()
            if out is not None:
                if out._hooks:
                    for h in out._hooks:
                        r = h(g)
                        if r is not None:
                            g = r
                if out._retain and not capture:
                    out.grad = (g if create_graph else g.detach()) if out.grad is None else out.grad + g
                    stored.add(id(g._data if g._data.base is None else g._data.base))
                if capture and id(out) in targets:
                    captured[id(out)] = g
            if needed is not None and fn not in needed:
                continue
            fn.check_versions()
            in_grads = fn.backward(g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            nexts = fn.next_fns
            for i, (t, gi) in enumerate(zip(fn.inputs, in_grads)):
                if gi is None or not t.requires_grad:
                    continue
                if gi._data.shape != t._data.shape:
                    raise RuntimeError(
                        f"Function {fn.name}Backward returned an invalid gradient at index {i} - got "
                        f"{list(gi.shape)} but expected shape {list(t.shape)}"
                    )
                if gi._data.dtype != t._data.dtype:
                    gi = gi.to(t._data.dtype)
                c = nexts[i]
                if c is None:
                    if t.grad_fn is None:  # else: a constant when used, given a history in place later
                        to_leaf(t, gi)
                else:
                    prev = grads.get(c)
                    if prev is None:
                        grads[c] = gi
                    elif create_graph:
                        grads[c] = prev + gi
                    else:  # same shape and dtype: a plain array sum, no graph node needed
                        grads[c] = Tensor._make(prev._data + gi._data)

    if not retain_graph:
        for fn in order:
            fn.__dict__.clear()

    if capture:
        result = []
        for i, t in enumerate(inputs):
            g = captured.get(id(t))
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"grad: One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) appears "
                    "to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(g)
        return tuple(result)
    return None
