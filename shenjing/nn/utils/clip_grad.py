"""Gradient clipping (梯度裁剪) against exploding gradients, as torch.nn.utils.clip_grad."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(a, p: float):
    a = xp.abs(a).ravel()
    if p == math.inf:
        return a.max() if a.size else xp.zeros((), a.dtype)
    if p == -math.inf:
        return a.min()
    if p == 0:
        return xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return xp.sqrt(xp.dot(a, a))
    return (a**p).sum() ** (1.0 / p)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """The p-norm of all the given tensors as if concatenated into one vector:
    ‖(‖t₁‖_p, …, ‖t_k‖_p)‖_p (p = ``norm_type``, may be ``inf``)."""
    ts = [t.array for t in _params(tensors) if t is not None]
    p = float(norm_type)
    if len(ts) == 0:
        return as_tensor(xp.zeros((), dtype=xp.float32))
    norms = xp.stack([xp.asarray(_vector_norm(t, p)) for t in ts])
    total = xp.asarray(_vector_norm(norms, p))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it cannot be clipped. "
            "To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return as_tensor(total)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor | float) -> None:
    """Scale every ``.grad`` by min(1, max_norm / (total_norm + 1e-6)), in place."""
    total = float(total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    with xp.errstate(invalid="ignore", over="ignore"):  # a non-finite norm scales to NaN, as in PyTorch
        for p in _params(parameters):
            g = p.grad
            if g is None:
                continue
            c = xp.asarray(coef, dtype=g.dtype)
            if g.array.flags.writeable and g.grad_fn is None:
                with g.inplace() as a:
                    a *= c
            else:
                p.grad = as_tensor(g.array * c)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total ``norm_type``-norm is at most ``max_norm``.

    total = ‖(g₁, …, g_k)‖_p over all parameters' ``.grad`` (as one vector); every gradient is
    multiplied by min(1, max_norm / (total + 1e-6)), in place. Returns ``total`` (before clipping) as
    a 0-d tensor. ``error_if_nonfinite`` raises if it is NaN or ±inf. ``foreach`` is accepted for
    PyTorch compatibility and ignored.
    """
    params = _params(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    v = float(clip_value)
    for p in _params(parameters):
        g = p.grad
        if g is None:
            continue
        if g.array.flags.writeable and g.grad_fn is None:
            with g.inplace() as a:
                xp.clip(a, -v, v, out=a)
        else:
            p.grad = as_tensor(xp.clip(g.array, -v, v))
