"""Model registry for ``shenjing train --model NAME``: builders keyed by name.

Later parts of the framework (convolution, attention) register their models here with
``@register_model("name")``; a builder takes the input shape, the number of classes and keyword
options and returns an ``nn.Module``.
"""

from __future__ import annotations

from collections.abc import Callable

MODELS: dict[str, Callable] = {}


def register_model(name: str):
    def deco(builder: Callable) -> Callable:
        MODELS[name] = builder
        return builder

    return deco


def build_model(name: str, input_shape: tuple, num_classes: int, **options):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name](input_shape, num_classes, **options)


@register_model("mlp")
def mlp(input_shape: tuple, num_classes: int, hidden=(512, 512), dropout: float = 0.2, **_):
    """Flatten → [Linear → ReLU → Dropout] × len(hidden) → Linear (多层感知机)."""
    from .. import nn

    n_in = 1
    for s in input_shape:
        n_in *= s
    layers = [nn.Flatten()]
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n_in = h
    layers.append(nn.Linear(n_in, num_classes))
    return nn.Sequential(*layers)
