"""Automatic differentiation (自动微分): Tensor, Function, the backward engine, grad, gradcheck."""

from __future__ import annotations

from . import functional
from .engine import run_backward
from .function import Function, ShapeError
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor


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
        from ..creation import zeros_like

        res = tuple(zeros_like(t) if g is None else g for g, t in zip(res, inputs))
    return res


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    run_backward(tensors, tuple(grad_tensors), retain_graph, create_graph, inputs=inputs)


__all__ = [
    "Function", "ShapeError", "Tensor", "backward", "functional", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "is_grad_enabled", "no_grad", "set_grad_enabled",
]
