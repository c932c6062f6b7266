"""Numerical differentiation (数值微分法, Wang 五.III.1): finite differences vs backprop.

Three forms of the difference quotient for f′(x):

* ``central``  (f(x+ε) − f(x−ε)) / 2ε — error O(ε²), the standard form (used by ``gradcheck``);
* ``forward``  (f(x+ε) − f(x)) / ε    — error O(ε);
* ``notes``    (f(x+ε) − f(x−ε)) / ε  — Wang eq. (9) as printed. **Erratum**: the quotient
  spans a step of 2ε but divides by ε, so it converges to 2·f′(x), twice the derivative (docs/SOURCES.md
  lists it among the errata not to copy). It is provided only to show the factor-2 error.

Wang also notes the cost: one (or two) forward passes per parameter, O(N)·O(forward) ≈ O(N²)
for N parameters, against O(N) for one backward pass — ``numerical_grad`` counts its forward
calls so that this can be measured.

The quotients are computed in float64 from the function values; for float32 models round-off
limits the accuracy to about √(float32 eps) ≈ 1e-3 at the best ε, so check in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..backend import xp
from .grad_mode import no_grad
from .tensor import Tensor

FORMS = ("central", "forward", "notes")


def central_difference(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> Any:
    """(f(x+ε) − f(x−ε)) / 2ε: the central difference (中心差分), error O(ε²)."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def forward_difference(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> Any:
    """(f(x+ε) − f(x)) / ε: the forward difference (前向差分), error O(ε)."""
    return (f(x + eps) - f(x)) / eps


def notes_difference(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> Any:
    """(f(x+ε) − f(x−ε)) / ε, Wang eq. (9) as printed — **an erratum**: it tends to 2·f′(x).

    The correct central difference divides by 2ε (:func:`central_difference`)."""
    return (f(x + eps) - f(x - eps)) / eps


def derivative(f: Callable[[Any], Any], x: Any, eps: float = 1e-6, form: str = "central") -> Any:
    """f′(x) by the finite difference ``form`` ∈ {'central', 'forward', 'notes'} (see module doc).

    ``x`` may be a number, an array or a Tensor (``f`` then applies elementwise)."""
    if form == "central":
        return central_difference(f, x, eps)
    if form == "forward":
        return forward_difference(f, x, eps)
    if form == "notes":
        return notes_difference(f, x, eps)
    raise ValueError(f"derivative: form must be one of {FORMS}, got {form!r}")


class NumericalGrad(list):
    """The list of gradient tensors of :func:`numerical_grad`, with ``.forward_calls``."""

    forward_calls: int = 0


def _value(out: Any) -> float:
    if isinstance(out, Tensor):
        if out.numel() != 1:
            raise RuntimeError(f"numerical_grad: f must return a scalar, got shape {tuple(out.shape)}")
        return float(out._data.reshape(()).astype(xp.float64))
    return float(out)


def numerical_grad(f: Callable[[], Any], params: Iterable[Tensor] | Any, eps: float = 1e-6,
                   form: str = "central") -> NumericalGrad:
    """∂f/∂θ for every element θ of every tensor in ``params`` by finite differences.

    ``f`` takes no arguments and returns a scalar (a loss computed from the parameters, e.g.
    ``lambda: loss_fn(model(x), y)``); ``params`` is an iterable of tensors or a Module (its
    ``parameters()``). Each element is perturbed in place under ``no_grad`` and restored.
    ``form`` is ``'central'`` (2 forward passes per element, error O(ε²)), ``'forward'`` (1 per
    element plus 1, error O(ε)) or ``'notes'`` — Wang eq. (9), which divides the central
    difference by ε instead of 2ε and so returns **twice** the gradient (an erratum).

    Returns a list of float64 tensors shaped like the parameters; ``.forward_calls`` holds the
    number of evaluations of ``f`` (Wang: O(N) forward passes, O(N²) in all)."""
    if form not in FORMS:
        raise ValueError(f"numerical_grad: form must be one of {FORMS}, got {form!r}")
    if eps <= 0:
        raise ValueError(f"numerical_grad: eps must be positive, got {eps}")
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    params = list(params)
    result = NumericalGrad()
    calls = 0
    with no_grad():
        f0 = None
        if form == "forward":
            f0 = _value(f())
            calls += 1
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"numerical_grad: params must be Tensors, got {type(p).__name__}")
            data = p._data
            g = xp.zeros(data.shape, dtype=xp.float64)
            for idx in xp.ndindex(*data.shape):
                orig = data[idx].item()
                try:  # the step actually taken (orig + ε rounds in float32)
                    data[idx] = orig + eps
                    up = data[idx].item() - orig
                    if up == 0:
                        raise ValueError(f"numerical_grad: eps={eps} is below the resolution of {data.dtype} at {orig}")
                    plus = _value(f())
                    calls += 1
                    if form == "forward":
                        g[idx] = (plus - f0) / up
                    else:
                        data[idx] = orig - eps
                        down = orig - data[idx].item()
                        minus = _value(f())
                        calls += 1
                        span = up + down  # 2ε
                        g[idx] = (plus - minus) / (span if form == "central" else span / 2)
                finally:
                    data[idx] = orig
            result.append(Tensor._make(g))
    result.forward_calls = calls
    return result


__all__ = ["FORMS", "NumericalGrad", "central_difference", "derivative", "forward_difference", "notes_difference",
           "numerical_grad"]
