"""Neural-network library (神经网络库): modules, layers, activations, losses, initialisation."""

from . import functional
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterList, Sequential
