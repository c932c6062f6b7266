"""Higher-order autograd tools (高阶导数工具): Jacobian, Hessian, vector products, Hessian spectrum.

The names and return conventions follow ``torch.autograd.functional``:

* ``jacobian(f, inputs)``: ``J[i][j]`` = ∂out_i/∂in_j, each of shape ``out_i.shape + in_j.shape``;
* ``hessian(f, inputs)``: ``H[i][j]`` = ∂²f/∂in_i∂in_j for a scalar ``f``;
* ``vjp(f, inputs, v)`` = vᵀJ (one backward pass), ``jvp(f, inputs, v)`` = Jv (the double-vjp
  trick: the vjp u ↦ Jᵀu is linear in u, and its own vjp with cotangent v is Jv);
* ``hvp(f, inputs, v)`` = Hv by double backward: Hv = ∇_θ (∇_θ f · v), never forming H.

``hessian_top_eigenvalue`` runs power iteration (幂迭代) on Hessian-vector products, which is how
the curvature λ_max that bounds a stable learning rate η < 2/λ_max (Xu §1.10.3) is measured
on a network with many parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from ..backend import xp
from .engine import run_backward
from .grad_mode import enable_grad
from .tensor import Tensor

# ---------------------------------------------------------------------------- helpers


def _as_tuple(x: Any) -> tuple[bool, tuple]:
    """(was it a tuple/list, the elements as a tuple)."""
    if isinstance(x, (tuple, list)):
        return True, tuple(x)
    return False, (x,)


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh differentiable copies of the inputs (like torch's ``_grad_preprocess``).

    Without ``create_graph`` the inputs are detached leaves; with it, an input that already
    requires grad is passed through a differentiable identity so that results stay connected to
    the caller's graph."""
    out = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.functional: input {i} is a {type(t).__name__}, not a Tensor")
        if t.dtype.kind not in "fc":
            raise TypeError(f"autograd.functional: input {i} has dtype {t.dtype}; only floating tensors can be differentiated")
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _grad(outputs: Sequence[Tensor], inputs: Sequence[Tensor], grad_outputs: Sequence[Tensor | None],
          create_graph: bool, retain_graph: bool = True) -> tuple:
    """Gradients of ``outputs`` (with cotangents) w.r.t. ``inputs``; zeros for unreachable inputs."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not pairs:
        return tuple(_zeros_like(t) for t in inputs)
    gs = run_backward(tuple(o for o, _ in pairs), tuple(g for _, g in pairs), retain_graph, create_graph,
                      inputs=tuple(inputs), capture=True, allow_unused=True)
    return tuple(_zeros_like(t) if g is None else g for g, t in zip(gs, inputs))


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._make(xp.zeros_like(t._data))


def _check_v(v: Any, like: tuple, what: str) -> tuple:
    _, vs = _as_tuple(v)
    if len(vs) != len(like):
        raise RuntimeError(f"{what}: v has {len(vs)} elements but {len(like)} were expected")
    out = []
    for i, (a, b) in enumerate(zip(vs, like)):
        a = a if isinstance(a, Tensor) else Tensor(a, dtype=b.dtype)
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{what}: entry {i} of v has shape {tuple(a.shape)} but {tuple(b.shape)} was expected")
        out.append(a)
    return tuple(out)


def _finish(t: Tensor, create_graph: bool) -> Tensor:
    return t if create_graph else t.detach()


# ---------------------------------------------------------------------------- Jacobian / Hessian


def jacobian(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], create_graph: bool = False,
             strict: bool = False) -> Any:
    """The Jacobian (雅可比矩阵) of ``func`` at ``inputs`` (torch.autograd.functional.jacobian).

    ``J[i][j]`` has shape ``outputs[i].shape + inputs[j].shape`` with entries ∂out_i[a]/∂in_j[b];
    one backward pass per output element. Nesting follows PyTorch: a single Tensor input and
    output give a Tensor, a tuple on either side gives a tuple, on both sides a tuple of tuples.
    With ``strict=True`` an output independent of an input is an error instead of zeros."""
    from ..ops.shape import stack

    in_tuple, ins = _as_tuple(inputs)
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        out_tuple, outs = _as_tuple(out)
        rows: list[tuple] = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(f"jacobian: output {i} of func is a {type(o).__name__}, not a Tensor")
            blocks = [xp.zeros(o._data.shape + t._data.shape, dtype=t.dtype) for t in ins]
            flat_blocks: list[list[Tensor]] = [[] for _ in ins]
            if not o.requires_grad:
                if strict:
                    raise RuntimeError(f"jacobian: output {i} of func does not depend on the inputs (strict=True)")
                rows.append(tuple(Tensor._make(b) for b in blocks))
                continue
            n = o.numel()
            for k in range(n):
                seed = xp.zeros(n, dtype=o.dtype)
                seed[k] = 1
                gs = run_backward((o,), (Tensor._make(seed.reshape(o._data.shape)),), True, create_graph,
                                  inputs=ins, capture=True, allow_unused=True)
                for j, g in enumerate(gs):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"jacobian: output {i} is independent of input {j} (strict=True)")
                        g = _zeros_like(ins[j])
                    flat_blocks[j].append(g)
            row = []
            for j, t in enumerate(ins):
                if create_graph:
                    row.append(stack(flat_blocks[j]).reshape(tuple(o.shape) + tuple(t.shape)))
                else:
                    arr = xp.stack([g._data for g in flat_blocks[j]]).reshape(o._data.shape + t._data.shape)
                    row.append(Tensor._make(arr))
            rows.append(tuple(row))
    if out_tuple and in_tuple:
        return tuple(rows)
    if out_tuple:
        return tuple(r[0] for r in rows)
    if in_tuple:
        return rows[0]
    return rows[0][0]


def hessian(func: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], create_graph: bool = False,
            strict: bool = False) -> Any:
    """The Hessian (黑塞矩阵) of a scalar ``func`` (torch.autograd.functional.hessian).

    ``H[i][j]`` = ∂²f/∂in_i∂in_j of shape ``inputs[i].shape + inputs[j].shape``: the Jacobian of the
    gradient, computed by differentiating the gradient graph (``create_graph=True``) once per
    gradient entry. A single Tensor input gives a Tensor, a tuple gives a tuple of tuples."""
    in_tuple, ins = _as_tuple(inputs)

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: func must return a Tensor with a single element")
        if not out.requires_grad:
            if strict:
                raise RuntimeError("hessian: the output of func does not depend on the inputs (strict=True)")
            return tuple(_zeros_like(x) for x in xs)
        return _grad((out.reshape(()),), xs, (None,), create_graph=True)

    res = jacobian(gradient, tuple(ins), create_graph=create_graph, strict=strict)
    if in_tuple:
        return res
    return res[0][0]


# ---------------------------------------------------------------------------- vector products


def vjp(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], v: Any = None,
        create_graph: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀJ): the vector-Jacobian product (torch.autograd.functional.vjp).

    ``v`` has the shape of the output(s); it may be omitted for a single-element output."""
    in_tuple, ins = _as_tuple(inputs)
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        out_tuple, outs = _as_tuple(out)
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("vjp: v can be omitted only when func returns a single-element Tensor")
            vs: tuple = (Tensor._make(xp.ones_like(outs[0]._data)),)
        else:
            vs = _check_v(v, outs, "vjp")
        res = _grad(outs, ins, vs, create_graph=create_graph)
    res = tuple(_finish(r, create_graph) for r in res)
    outs = tuple(_finish(o, create_graph) for o in outs)
    return (outs if out_tuple else outs[0]), (res if in_tuple else res[0])


def jvp(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], v: Any = None,
        create_graph: bool = False) -> tuple[Any, Any]:
    """(func(inputs), Jv): the Jacobian-vector product (torch.autograd.functional.jvp).

    Computed by the double-vjp trick with reverse mode only: g(u) = Jᵀu is linear in a dummy
    cotangent u, so the vjp of g with cotangent v is (Jᵀ)ᵀv = Jv."""
    in_tuple, ins = _as_tuple(inputs)
    with enable_grad():
        ins = _prepare(ins, create_graph)
        if v is None:
            if len(ins) != 1 or ins[0].numel() != 1:
                raise RuntimeError("jvp: v can be omitted only when the input is a single-element Tensor")
            vs: tuple = (Tensor._make(xp.ones_like(ins[0]._data)),)
        else:
            vs = _check_v(v, ins, "jvp")
        out = func(*ins)
        out_tuple, outs = _as_tuple(out)
        us = tuple(Tensor._make(xp.zeros_like(o._data), requires_grad=True) for o in outs)
        g = _grad(outs, ins, us, create_graph=True)
        res = _grad(g, us, vs, create_graph=create_graph)
    res = tuple(_finish(r, create_graph) for r in res)
    outs = tuple(_finish(o, create_graph) for o in outs)
    return (outs if out_tuple else outs[0]), (res if out_tuple else res[0])


def hvp(func: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], v: Any = None,
        create_graph: bool = False) -> tuple[Tensor, Any]:
    """(func(inputs), Hv): the Hessian-vector product (Hessian 向量积) by double backward.

    Hv = ∇_θ (∇_θ f · v): one backward pass with ``create_graph=True`` for the gradient, one more
    through that gradient graph. H is never formed, so this costs a small multiple of one
    gradient and works for millions of parameters (torch.autograd.functional.hvp)."""
    in_tuple, ins = _as_tuple(inputs)
    with enable_grad():
        ins = _prepare(ins, create_graph)
        if v is None:
            if len(ins) != 1 or ins[0].numel() != 1:
                raise RuntimeError("hvp: v can be omitted only when the input is a single-element Tensor")
            vs: tuple = (Tensor._make(xp.ones_like(ins[0]._data)),)
        else:
            vs = _check_v(v, ins, "hvp")
        out = func(*ins)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hvp: func must return a Tensor with a single element")
        if out.requires_grad:
            g = _grad((out.reshape(()),), ins, (None,), create_graph=True)
            res = _grad(g, ins, vs, create_graph=create_graph)
        else:
            res = tuple(_zeros_like(t) for t in ins)
    res = tuple(_finish(r, create_graph) for r in res)
    return _finish(out, create_graph), (res if in_tuple else res[0])


def vhp(func: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], v: Any = None,
        create_graph: bool = False) -> tuple[Tensor, Any]:
    """(func(inputs), vᵀH); equal to ``hvp`` because a Hessian is symmetric."""
    return hvp(func, inputs, v, create_graph)


# ---------------------------------------------------------------------------- Hessian spectrum


class _EigenPair(NamedTuple):
    eigenvalue: float
    eigenvector: list


class HessianEigen(_EigenPair):
    """``(eigenvalue, eigenvector)``; also ``.iterations`` and ``.converged``.

    ``eigenvector`` is a list of tensors shaped like the parameters, of unit total norm."""

    iterations: int
    converged: bool

    def __new__(cls, eigenvalue: float, eigenvector: list, iterations: int = 0, converged: bool = False):
        self = super().__new__(cls, eigenvalue, eigenvector)
        self.iterations = iterations
        self.converged = converged
        return self


class _HVP:
    """Hessian-vector products of ``loss_fn()`` w.r.t. ``params``, the gradient graph built once."""

    def __init__(self, loss_fn: Callable[[], Tensor], params: Iterable[Tensor]) -> None:
        self.params = tuple(params)
        if not self.params:
            raise ValueError("hessian eigenvalue: params is empty")
        for i, p in enumerate(self.params):
            if not (isinstance(p, Tensor) and p.requires_grad):
                raise ValueError(f"hessian eigenvalue: params[{i}] is not a Tensor that requires grad")
        with enable_grad():
            loss = loss_fn()
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                raise RuntimeError("hessian eigenvalue: loss_fn must return a single-element Tensor")
            self.loss = float(loss.item())
            gs = run_backward((loss.reshape(()),), (None,), True, True, inputs=self.params, capture=True,
                              allow_unused=True)
        self.grads = [g for g in gs]
        self.dtype = self.params[0].dtype
        self.evals = 0

    def __call__(self, v: list) -> list:
        """H v for ``v`` a list of arrays shaped like the parameters; returns arrays."""
        self.evals += 1
        outs, cots = [], []
        for g, vi in zip(self.grads, v):
            if g is not None and g.requires_grad:
                outs.append(g)
                cots.append(Tensor._make(vi.astype(g.dtype, copy=False)))
        if not outs:
            return [xp.zeros_like(vi) for vi in v]
        hv = run_backward(tuple(outs), tuple(cots), True, False, inputs=self.params, capture=True,
                          allow_unused=True)
        return [xp.zeros_like(vi) if h is None else h._data.astype(vi.dtype, copy=False) for h, vi in zip(hv, v)]


def _dot(a: list, b: list) -> float:
    return float(sum(float(xp.vdot(x, y)) for x, y in zip(a, b)))


def _normalize(v: list) -> tuple[list, float]:
    n = math.sqrt(_dot(v, v))
    if n == 0.0:
        return v, 0.0
    return [x / n for x in v], n


def _power(matvec: Callable[[list], list], v: list, iters: int, tol: float, shift: float = 0.0) -> tuple[float, list, int, bool]:
    """Power iteration on (H − shift·I): the eigenvalue of largest magnitude of the shifted
    operator by the Rayleigh quotient vᵀ(H − sI)v, stopped when it moves by < tol·max(1, |λ|)."""
    v, _ = _normalize(v)
    lam_prev = None
    lam = 0.0
    for k in range(1, iters + 1):
        w = matvec(v)
        if shift:
            w = [wi - shift * vi for wi, vi in zip(w, v)]
        lam = _dot(v, w)
        w, norm = _normalize(w)
        if norm == 0.0:  # v is in the null space: the operator is 0 on it
            return 0.0, v, k, True
        # for a negative dominant eigenvalue v flips sign every step; keep a consistent sign
        if lam < 0:
            w = [-x for x in w]
        if lam_prev is not None and abs(lam - lam_prev) <= tol * max(1.0, abs(lam)):
            return lam, v, k, True
        lam_prev = lam
        v = w
    return lam, v, iters, False


def _start(params: tuple, generator) -> list:
    from ..creation import randn

    return [randn(*p.shape, generator=generator, dtype=xp.float64)._data for p in params]


def _result(lam: float, v: list, params: tuple, k: int, ok: bool) -> HessianEigen:
    vec = [Tensor._make(x.astype(p.dtype)) for x, p in zip(v, params)]
    return HessianEigen(float(lam), vec, k, ok)


def hessian_top_eigenvalue(loss_fn: Callable[[], Tensor], params: Iterable[Tensor], iters: int = 100,
                           tol: float = 1e-10, generator=None) -> HessianEigen:
    """The dominant eigenvalue (最大特征值) of the Hessian of ``loss_fn()`` w.r.t. ``params``.

    Power iteration on Hessian-vector products: v ← Hv / ‖Hv‖ from a random v (drawn with
    ``generator``), λ = vᵀHv (Rayleigh quotient), stopped when λ changes by less than
    ``tol·max(1, |λ|)`` or after ``iters`` products. The gradient graph is built once
    (``create_graph=True``) and reused, so each step costs about one extra backward pass.

    Power iteration converges to the eigenvalue of **largest magnitude**, with its sign: away
    from a minimum, where H has a negative eigenvalue larger in magnitude than every positive one,
    the result is that negative eigenvalue. Use :func:`hessian_lambda_max` for the largest
    algebraic eigenvalue λ_max (the one in the stability bound η < 2/λ_max) and
    :func:`hessian_lambda_min` for the smallest. The convergence rate is |λ₂/λ₁| per step
    (squared for λ); when λ₁ = −λ₂ the iteration does not converge (``.converged`` is False).

    ``loss_fn`` takes no arguments and returns a scalar computed from ``params`` (for a model:
    ``lambda: loss(model(x), y)`` with ``params = model.parameters()``). Returns
    ``(eigenvalue, eigenvector)`` (a :class:`HessianEigen` with ``.iterations``, ``.converged``);
    the eigenvector is a list of tensors shaped like ``params``, of unit total norm.
    Computations of the iteration are in float64 whatever the parameter dtype."""
    op = _HVP(loss_fn, params)
    lam, v, k, ok = _power(op, _start(op.params, generator), iters, tol)
    return _result(lam, v, op.params, k, ok)


def hessian_lambda_max(loss_fn: Callable[[], Tensor], params: Iterable[Tensor], iters: int = 100,
                       tol: float = 1e-10, generator=None) -> HessianEigen:
    """The largest algebraic eigenvalue λ_max of the Hessian (by shifted power iteration).

    First the dominant eigenvalue μ (largest magnitude). If μ ≥ 0 it is λ_max. Otherwise every
    eigenvalue of H − μI is ≥ 0, its dominant one is λ_max − μ, and a second power iteration on
    H − μI gives it. ``iters`` applies to each of the two runs."""
    op = _HVP(loss_fn, params)
    mu, v, k, ok = _power(op, _start(op.params, generator), iters, tol)
    if mu >= 0:
        return _result(mu, v, op.params, k, ok)
    lam, v2, k2, ok2 = _power(op, _start(op.params, generator), iters, tol, shift=mu)
    return _result(lam + mu, v2, op.params, k + k2, ok and ok2)


def hessian_lambda_min(loss_fn: Callable[[], Tensor], params: Iterable[Tensor], iters: int = 100,
                       tol: float = 1e-10, generator=None) -> HessianEigen:
    """The smallest algebraic eigenvalue λ_min of the Hessian (negative at a saddle point).

    The mirror of :func:`hessian_lambda_max`: if the dominant eigenvalue μ is ≤ 0 it is λ_min,
    otherwise power iteration on H − μI (all eigenvalues ≤ 0) gives λ_min − μ."""
    op = _HVP(loss_fn, params)
    mu, v, k, ok = _power(op, _start(op.params, generator), iters, tol)
    if mu <= 0:
        return _result(mu, v, op.params, k, ok)
    lam, v2, k2, ok2 = _power(op, _start(op.params, generator), iters, tol, shift=mu)
    return _result(lam + mu, v2, op.params, k + k2, ok and ok2)


__all__ = [
    "HessianEigen", "hessian", "hessian_lambda_max", "hessian_lambda_min", "hessian_top_eigenvalue", "hvp",
    "jacobian", "jvp", "vhp", "vjp",
]
