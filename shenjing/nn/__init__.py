"""Neural-network library (神经网络库): modules, layers, activations, losses, initialisation."""

from . import functional, init, utils
from .activation import *  # noqa: F403
from .layers import (
    BatchNorm1d,
    BatchNorm2d,
    Bilinear,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    Identity,
    LayerNorm,
    Linear,
    Unflatten,
)
from .loss import *  # noqa: F403
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterList, Sequential
from .residual import ResidualBlock, mlp, residual_mlp
from .serialization import load_state_dict, save_state_dict
