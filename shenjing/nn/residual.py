"""Residual blocks (残差块) and MLP builders (多层感知机).

Fang §8.1: a residual network learns the residual f(x) = h(x) − x, so each block computes

    h = x + f(x),   f = Linear → ReLU → Linear   ("合理的连接方式"),

and a chain h₁ = x + f₁(x), h₂ = h₁ + f₂(h₁), … keeps a path on which every block reaches the
output directly (no vanishing gradient). Xu §1.10.2 writes the one-layer form
F_{l+1} = σ(W_l F_l + b_l) + F_l and, when the widths differ, the projection shortcut
F_{l+1} = σ(W_l F_l + b_l) + W_s F_l with a trainable W_s (Fig. 1.12). Fang §8.2: adding the
input doubles the variance at every block, so block outputs may be scaled by 1/√2.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from ..autograd.tensor import Tensor
from .layers import Dropout, Identity, Linear
from .module import Module, Sequential

__all__ = ["ResidualBlock", "mlp", "residual_mlp", "make_activation"]


class _Fn(Module):
    """An activation given as a function of one tensor (used when no module form is known)."""

    def __init__(self, fn, name: str) -> None:
        super().__init__()
        self.fn, self.name = fn, name

    def forward(self, input: Tensor) -> Tensor:
        return self.fn(input)

    def __repr__(self) -> str:
        return f"{self.name}()"


def make_activation(spec: Any) -> Module:
    """A fresh activation module from a name ('relu', 'tanh', 'leaky_relu', …), a Module class, a
    Module instance (deep-copied, so that layers never share parameters) or a function of a tensor."""
    if spec is None:
        return Identity()
    if isinstance(spec, Module):
        return copy.deepcopy(spec)
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str):
        key = spec.lower().replace("_", "").replace("-", "")
        if key in ("identity", "linear", "none"):
            return Identity()
        try:
            from . import activation as A  # the activation modules (nn/activation.py)
        except ImportError:
            A = None
        if A is not None:
            for name in dir(A):
                cls = getattr(A, name)
                if isinstance(cls, type) and issubclass(cls, Module) and name.lower() == key:
                    return cls()
        from ..ops import elementwise as E  # fallback while nn.activation lacks the name

        fallbacks = {"relu": ("ReLU", E.relu), "tanh": ("Tanh", E.tanh), "sigmoid": ("Sigmoid", E.sigmoid)}
        if key in fallbacks:
            name, fn = fallbacks[key]
            return _Fn(fn, name)
        raise ValueError(f"unknown activation '{spec}' (try 'relu', 'tanh', 'sigmoid' or pass a Module)")
    if callable(spec):
        return _Fn(spec, getattr(spec, "__name__", "Activation"))
    raise TypeError(f"activation must be a name, a Module or a callable, got {type(spec).__name__}")


def _scale_value(scale) -> float | None:
    if scale is None or scale is False:
        return None
    if scale is True or (isinstance(scale, str) and scale.replace(" ", "") in ("1/sqrt2", "1/√2")):
        return 1 / math.sqrt(2.0)
    return float(scale)


class ResidualBlock(Module):
    """A residual block (残差块): h = shortcut(x) + f(x), optionally times ``scale``.

    * ``branch_layers=2`` (default, Fang §8.1): f = Linear(in, hidden) → activation → Linear(hidden, out).
    * ``branch_layers=1`` (Xu §1.10.2): f = σ(W x + b).
    * shortcut: the identity when in_features == out_features, else (or with ``projection=True``)
      the trainable projection W_s x (a Linear without bias), giving σ(W F + b) + W_s F.
    * ``scale``: None (no scaling), True for 1/√2 (Fang §8.2), or any number.

    Sub-module names: ``branch`` (a Sequential) and ``shortcut``, so a torch model with the same
    layout has the same state_dict keys (``branch.0.weight``, ``branch.2.weight``, ``shortcut.weight``).

    Shape:
        - Input: (*, in_features).
        - Output: (*, out_features) (in_features by default).

    Examples:
        >>> nn.ResidualBlock(32)(sj.randn(8, 32)).shape
        shenjing.Size([8, 32])
        >>> nn.ResidualBlock(32, 16)(sj.randn(8, 32)).shape  # shortcut: the projection W_s x
        shenjing.Size([8, 16])
    """

    def __init__(self, in_features: int, out_features: int | None = None, hidden_features: int | None = None,
                 activation="relu", scale=None, bias: bool = True, branch_layers: int = 2,
                 projection: bool | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        out_features = in_features if out_features is None else out_features
        hidden_features = out_features if hidden_features is None else hidden_features
        self.in_features, self.out_features, self.hidden_features = in_features, out_features, hidden_features
        if branch_layers == 2:
            layers = [Linear(in_features, hidden_features, bias), make_activation(activation)]
            if dropout:
                layers.append(Dropout(dropout))
            layers.append(Linear(hidden_features, out_features, bias))
        elif branch_layers == 1:
            layers = [Linear(in_features, out_features, bias), make_activation(activation)]
        else:
            raise ValueError(f"ResidualBlock: branch_layers must be 1 or 2, got {branch_layers}")
        self.branch = Sequential(*layers)
        if projection is None:
            projection = in_features != out_features
        self.shortcut = Linear(in_features, out_features, bias=False) if projection else Identity()
        self.scale = _scale_value(scale)

    def forward(self, x: Tensor) -> Tensor:
        h = self.shortcut(x) + self.branch(x)
        return h if self.scale is None else h * self.scale

    def extra_repr(self) -> str:
        return "" if self.scale is None else f"scale={self.scale:.6g}"


def mlp(sizes: Sequence[int], activation: Any = "relu", bias: bool = True, output_activation: Any = None, dropout: float = 0.0,
        batch_norm: bool = False) -> Sequential:
    """A plain multilayer perceptron (多层感知机) of any depth: ``sizes = [d₀, d₁, …, d_L]`` gives
    Linear(d₀, d₁) → act → … → Linear(d_{L−1}, d_L), optionally with BatchNorm1d before each hidden
    activation, Dropout after it, and an activation on the output. The result is an
    ``nn.Sequential`` whose keys ("0.weight", "2.weight", …) equal torch's for the same layout."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least the input and output widths, got {sizes}")
    from .layers import BatchNorm1d

    layers: list[Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, bias))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(BatchNorm1d(b))
            layers.append(make_activation(activation))
            if dropout:
                layers.append(Dropout(dropout))
    if output_activation is not None:
        layers.append(make_activation(output_activation))
    return Sequential(*layers)


def residual_mlp(in_features: int, width: int, depth: int, out_features: int, scale: Any = None, activation: Any = "relu",
                 hidden_features: int | None = None, bias: bool = True, branch_layers: int = 2,
                 dropout: float = 0.0) -> Sequential:
    """A residual MLP: ``depth`` residual blocks of width ``width`` and a Linear head.

    The first block maps in_features → width (with the projection shortcut W_s of Xu when
    they differ); the others keep the width (identity shortcut, h = x + f(x)); ``scale=True``
    multiplies each block output by 1/√2 (Fang §8.2). Keys: ``blocks.{i}.branch.*``,
    ``blocks.{i}.shortcut.weight``, ``head.*``."""
    if depth < 0:
        raise ValueError(f"residual_mlp: depth must be >= 0, got {depth}")
    blocks = []
    d = in_features
    for _ in range(depth):
        blocks.append(ResidualBlock(d, width, hidden_features, activation, scale, bias, branch_layers, dropout=dropout))
        d = width
    return Sequential(OrderedDict([("blocks", Sequential(*blocks)), ("head", Linear(d, out_features, bias))]))
