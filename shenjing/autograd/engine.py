"""The backward pass (反向传播): reverse-mode traversal of the graph of Function nodes.

Nodes are visited in reverse topological order; each node's output gradient is complete before its
``backward`` runs (Zhao §3, Algorithm 3: δ of layer l is finished before layer l−1). A pass is four
steps: order the graph (and prune what cannot reach a requested input), run each node's hooks and
backward, fit each input gradient to its input (un-broadcast, cast), and deliver it — summed into
the producer's pending gradient, accumulated into a leaf's ``.grad``, or captured for
``autograd.grad``. ``grad`` and ``backward`` are the public entry points (``shenjing.autograd``).
"""

from __future__ import annotations

from contextvars import ContextVar

from ..backend import quiet_fp, restore_fp, xp
from .broadcast import reduce_axes, sum_to
from .grad_mode import set_grad_enabled
from .tensor import Tensor

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time."
)


_callbacks: ContextVar[list | None] = ContextVar("backward_callbacks", default=None)


def queue_callback(fn) -> None:
    """Run ``fn()`` once the backward pass in progress has finished (every ``.grad`` accumulated);
    called from a hook during backward (PyTorch's ``queue_callback``, used by DistributedDataParallel)."""
    queued = _callbacks.get()
    if queued is None:
        raise RuntimeError("queue_callback: only a hook that runs during a backward pass may queue a callback")
    queued.append(fn)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """d(outputs)/d(inputs) without touching ``.grad`` (torch.autograd.grad, same arguments).

    With ``create_graph=True`` the result is itself differentiable: ``grad(grad(f, x, create_graph
    =True)[0].sum(), x)`` gives second derivatives, and Hessian-vector products follow. An input
    that does not reach the outputs is an error, or None with ``allow_unused``, or zeros with
    ``materialize_grads``."""
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched is not supported")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: grad_outputs has {len(grad_outputs)} elements but there are {len(outputs)} outputs")
    res = run_backward(outputs, tuple(grad_outputs), retain_graph, create_graph, inputs=inputs,
                       capture=True, allow_unused=allow_unused)
    if materialize_grads:
        res = tuple(Tensor._make(xp.zeros_like(t._data)) if g is None else g for g, t in zip(res, inputs))
    return res


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    run_backward(tensors, tuple(grad_tensors), retain_graph, create_graph, inputs=inputs)


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, capture=False, allow_unused=False):
    """Back-propagate from ``roots``.

    ``capture=False`` (Tensor.backward): accumulate into ``.grad`` of the leaves (only of
    ``inputs`` when given). ``capture=True`` (autograd.grad): return the gradients of ``inputs``.
    """
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [(r, _seed(i, r, g)) for i, (r, g) in enumerate(zip(roots, grad_roots))]
    inputs = None if inputs is None else _check_inputs(inputs)
    order = _order(seeds)
    targets = None if inputs is None else {id(t) for t in inputs}
    backward = _Pass(create_graph, capture, targets, needed=None if targets is None else _prune(order, targets))
    queued = _callbacks.set([])
    try:
        quiet = quiet_fp()  # NaN and ±inf gradients (log at 0, √ at 0) silently, as PyTorch
        try:
            with set_grad_enabled(create_graph):
                backward.seed(seeds)
                for fn in reversed(order):
                    backward.run(fn)
        finally:
            restore_fp(quiet)
        for callback in _callbacks.get():
            callback()
    finally:
        _callbacks.reset(queued)
    if not retain_graph:
        for fn in order:
            fn.__dict__.clear()
    return backward.results(inputs, allow_unused) if capture else None


# ---------------------------------------------------------------- step 1: the graph


def _seed(i: int, root: Tensor, grad) -> Tensor:
    """The gradient that starts the pass at output ``i``: ones for a scalar, else ``grad``."""
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


def _check_inputs(inputs) -> tuple:
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: one of the input tensors (shape {tuple(t.shape)}) does not require grad")
    return inputs


def _order(seeds) -> list:
    """The Function nodes behind the roots in post-order (inputs before the nodes that use them)."""
    order, visited = [], set()
    stack = [(r.grad_fn, False) for r, _ in seeds if r.grad_fn is not None]
    while stack:
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        if fn.freed:
            shapes = ", ".join(str(tuple(r.shape)) for r, _ in seeds)
            raise RuntimeError(f"backward: node {fn.name}Backward in the graph of the output of shape {shapes}: {_FREED}")
        stack.append((fn, True))
        for c in fn.next_fns:
            if c is not None and c not in visited:
                stack.append((c, False))
    return order


def _prune(order: list, targets: set) -> set:
    """The nodes from which a target input can be reached (the others need not run)."""
    needed: set = set()
    for fn in order:
        if any(id(t) in targets or (c is not None and c in needed) for t, c in zip(fn.inputs, fn.next_fns)):
            needed.add(fn)
    return needed


# ---------------------------------------------------------------- steps 2–4: one pass


class _Pass:
    """The state of one backward pass: pending gradients per node, captured ones per input."""

    def __init__(self, create_graph: bool, capture: bool, targets: set | None, needed: set | None) -> None:
        self.create_graph, self.capture, self.targets, self.needed = create_graph, capture, targets, needed
        self.pending: dict = {}   # Function → gradient of its output, summed over its consumers
        self.captured: dict = {}  # id(input) → gradient (autograd.grad)
        self.owned: set = set()   # ids of the arrays that back some leaf's .grad (or the user's seeds)
        self.taken: set = set()   # ids of node gradients that became a leaf's .grad in this pass (others may still read them)

    def seed(self, seeds) -> None:
        for _, g in seeds:  # a user's gradient= array must never become (part of) a leaf's .grad
            self.owned.add(id(_base(g._data)))
        for r, g in seeds:
            if r.grad_fn is None:
                self.to_leaf(r, g if self.create_graph else Tensor._make(g._data.copy()))
            else:
                self.add_pending(r.grad_fn, g)

    def run(self, fn) -> None:
        """Step 2: a node's hooks, retained/captured gradient, and backward."""
        g = self.pending.pop(fn, None)
        if g is None:
            return
        out = fn._out()
        if out is not None:
            g = _hooked(out, g)
            if out._retain and not self.capture:
                out.grad = (g if self.create_graph else g.detach()) if out.grad is None else out.grad + g
                self.owned.add(id(_base(g._data)))
            if self.capture and id(out) in self.targets:
                self.captured[id(out)] = g
        if self.needed is not None and fn not in self.needed:
            return
        if fn.saves_inputs or fn.saves_output:
            fn.check_versions()
        grads = fn.backward(g)
        for i, (t, c, need, gi) in enumerate(zip(fn.inputs, fn.next_fns, fn.needs_input_grad, grads if type(grads) is tuple else (grads,))):
            if gi is None or not need:  # (as recorded in forward: an in-place op may have changed t since)
                continue
            if gi._data.shape != t._data.shape or gi._data.dtype != t._data.dtype:
                gi = _fit(fn, i, gi, t)
            # step 4: to the producer the node saw when it ran forward, or to a leaf
            if c is not None:
                self.add_pending(c, gi)
            elif t.grad_fn is None:  # (else: a constant when used, given a history in place later)
                self.to_leaf(t, gi)

    def add_pending(self, fn, g: Tensor) -> None:
        prev = self.pending.get(fn)
        if prev is None:
            self.pending[fn] = g
        elif self.create_graph:
            self.pending[fn] = prev + g
        else:  # same shape and dtype: a plain array sum, no graph node needed
            self.pending[fn] = Tensor._make(prev._data + g._data)

    def to_leaf(self, t: Tensor, g: Tensor) -> None:
        g = _hooked(t, g)
        if self.capture:
            if id(t) in self.targets:
                prev = self.captured.get(id(t))
                self.captured[id(t)] = g if prev is None else prev + g
        elif self.targets is None or id(t) in self.targets:
            self.accumulate(t, g)

    def accumulate(self, t: Tensor, g: Tensor) -> None:
        """t.grad += g; the first gradient's memory is taken over when nothing else holds it."""
        if t.grad is None:
            if self.create_graph:
                t.grad = g
                return
            # Copy unless the array is read-only (a broadcast), in another layout than the leaf, or
            # shared: with a user's gradient= array, a retained .grad or another leaf (views of one
            # array reach two leaves through reshape + add). Later backwards add into it in place.
            d = g._data
            own = _base(d)
            if id(own) in self.owned or not d.flags.writeable or (not d.flags.c_contiguous and t._data.flags.c_contiguous):
                d = own = d.copy()
            else:
                self.taken.add(id(own))
            self.owned.add(id(own))
            t.grad = Tensor._make(d)
        elif self.create_graph or t.grad.requires_grad:
            t.grad = t.grad + g
        else:
            d = t.grad._data
            if id(_base(d)) in self.taken:  # still some other node's gradient (``(y − x) + (y + x)``): add out of place, once
                self.taken.discard(id(_base(d)))
                t.grad._data = d = d.copy()
            d += g._data
            t.grad._vc[0] += 1

    def results(self, inputs: tuple, allow_unused: bool) -> tuple:
        out = []
        for i, t in enumerate(inputs):
            g = self.captured.get(id(t))
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"grad: One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) appears "
                    "to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
                )
            out.append(g)
        return tuple(out)


def _hooked(t: Tensor, g: Tensor) -> Tensor:
    """``t``'s hooks in registration order; a hook's returned tensor replaces the gradient."""
    if t._hooks:
        for h in t._hooks:
            r = h(g)
            if r is not None:
                g = r
    return g


def _fit(fn, i: int, g: Tensor, t: Tensor) -> Tensor:
    """Step 3: a gradient at its input's shape (summed over broadcast axes) and dtype."""
    shape = t._data.shape
    if g._data.shape != shape:
        if reduce_axes(g._data.shape, shape) is not None:
            g = sum_to(g, shape)
        elif g._data.shape == tuple(shape[len(shape) - g.ndim:]) and not any(s != 1 for s in shape[:len(shape) - g.ndim]):
            g = g.reshape(shape)  # the input had leading unit axes that broadcasting dropped (a[0] = v of shape (1, n))
        else:
            raise RuntimeError(
                f"Function {fn.name}Backward returned an invalid gradient at index {i} - got "
                f"{list(g.shape)} but expected shape {list(t.shape)}"
            )
    if g._data.dtype != t._data.dtype:
        g = g.to(t._data.dtype)
    return g


def _base(a):
    """The array that owns ``a``'s memory."""
    return a if a.base is None else a.base
