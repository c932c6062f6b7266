"""shenjing.nn.functional: the stateless forms of layers, activations and losses (like torch.nn.functional)."""

from .activation import *  # noqa: F403
from .layers import batch_norm, bilinear, dropout, embedding, group_norm, layer_norm, linear, one_hot
from .loss import *  # noqa: F403
