"""Neural-network library (神经网络库): modules, layers, activations, losses, initialisation."""

from . import functional, init, utils
from .activation import *  # noqa: F403
from .architectures import (
    DenseLayer,
    DenseNet,
    DoubleConv,
    LeNet5,
    PreActBlock,
    ResNet,
    SmallCNN,
    Transition,
    UNet,
)
from .attention import (  # noqa: E402  (attention, 注意力机制)
    LearnedPositionalEmbedding,
    MultiheadAttention,
    PositionalEncoding,
    QueryAttention,
    SinusoidalPositionalEncoding,
)
from .conv import (  # noqa: E402  (convolution, pooling, upsampling: 卷积、池化、上采样)
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    Fold,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
    Unfold,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
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
    SyncBatchNorm,
    Unflatten,
)
from .loss import *  # noqa: F403
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterList, Sequential
from .residual import ResidualBlock, mlp, residual_mlp
from .serialization import load_state_dict, save_state_dict
from .transformer import SequenceTransformer, TransformerEncoder, TransformerEncoderLayer  # noqa: E402
