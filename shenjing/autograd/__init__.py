"""Automatic differentiation (自动微分): Tensor, Function, the backward engine, grad, gradcheck."""

from __future__ import annotations

from . import functional
from .engine import backward, grad, run_backward
from .function import Function, ShapeError
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "Function", "ShapeError", "Tensor", "backward", "functional", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "inference_mode", "is_grad_enabled", "no_grad", "set_grad_enabled",
]
