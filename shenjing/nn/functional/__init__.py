"""shenjing.nn.functional: the stateless forms of layers, activations and losses (like torch.nn.functional)."""

from .activation import *  # noqa: F403
from .attention import (  # noqa: E402  (attention, 注意力机制)
    attention_score,
    multi_head_attention_forward,
    query_attention,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from .conv import (  # noqa: E402  (convolution, pooling, resampling: 卷积、池化、上采样)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
    pad,
    unfold,
    upsample,
)
from .layers import batch_norm, bilinear, dropout, embedding, group_norm, layer_norm, linear, one_hot
from .loss import *  # noqa: F403
