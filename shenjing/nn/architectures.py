"""Convolutional architectures (卷积网络结构): LeNet-5, a small batch-norm CNN, ResNet (残差网络),
DenseNet (密集连接网络) and U-Net (U 型网络), Fang ch. 7–8, Xu §1.10.2, Wang 七.

* Wang 七.1: convolution shares one kernel over all positions, so a feature map is
  translation-equivariant (平移不变性) and pooling makes it (locally) invariant.
* Fang §8.3: "ResNet: 每个残差块包含一个 BN 操作、一个 ReLU 激活和一个卷积层及其重复,然后再添加
  输入" — the pre-activation block h = x + conv(ReLU(BN(conv(ReLU(BN(x)))))); when the block
  changes the shape, the shortcut is the projection W_s x of Xu (a 1×1 convolution with the
  block's stride).
* Fang §8.3: "DenseNet: … 再将输出附加至输入上,从而增加输入通道数" — h = [x, f(x)]
  (concatenation along channels, 密集连接), so a block of L layers with growth k turns C channels
  into C + L·k; transition layers (BN → ReLU → 1×1 conv → 2×2 average pool) shrink them again.
* Fang §8.3: "U-Net 是一种编码器-解码器架构" — the encoder halves the resolution and doubles
  the channels at every level, the decoder upsamples (转置卷积 or interpolation, Fang ch. 7
  上采样) and concatenates the encoder's feature map of the same size (skip connection).

Every module uses PyTorch's layer types and names, so a torch model with the same layout has the
same ``state_dict`` keys and shapes (tests/nn/test_architectures.py builds them).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from ..autograd.tensor import Tensor
from ..ops.elementwise import relu
from ..ops.shape import cat, pad
from .activation import ReLU
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, Upsample
from .layers import BatchNorm1d, BatchNorm2d, Dropout, Flatten, Identity, Linear
from .module import Module, ModuleList, Sequential
from .residual import make_activation

__all__ = [
    "LeNet5", "SmallCNN", "PreActBlock", "ResNet", "DenseLayer", "Transition", "DenseNet", "DoubleConv",
    "UNet", "lenet5", "small_cnn", "resnet", "densenet", "unet",
]


# --------------------------------------------------------------------------------- LeNet-5


class LeNet5(Module):
    """LeNet-5 (LeCun et al. 1998) adapted to 28×28 inputs by padding the first convolution by 2:

        features:   Conv(C, 6, 5, padding=2) → act → pool 2 → Conv(6, 16, 5) → act → pool 2
        classifier: Flatten → Linear(16·5·5, 120) → act → Linear(120, 84) → act → Linear(84, classes)

    The classic choices are tanh and average pooling (subsampling); ``activation='relu'`` and
    ``pool='max'`` give the modern variant. With a 32×32 input use ``padding=0`` (the original).
    Parameters: 156 + 2 416 + 48 120 + 10 164 + 850 = 61 706 for 10 classes (C_i·C_o·K² + C_o per
    convolution)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int | Sequence[int] = 28,
                 padding: int = 2, activation: Any = "tanh", pool: str = "avg") -> None:
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"LeNet5: pool must be 'avg' or 'max', got {pool!r}")
        Pool = AvgPool2d if pool == "avg" else MaxPool2d
        h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        h, w = (h + 2 * padding - 4) // 2, (w + 2 * padding - 4) // 2  # conv 5 (padded), pool 2
        h, w = (h - 4) // 2, (w - 4) // 2  # conv 5, pool 2
        if h < 1 or w < 1:
            raise ValueError(f"LeNet5: input {input_size} is too small for two 5×5 convolutions and pools")
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=padding), make_activation(activation), Pool(2),
            Conv2d(6, 16, 5), make_activation(activation), Pool(2),
        )
        self.classifier = Sequential(
            Flatten(), Linear(16 * h * w, 120), make_activation(activation), Linear(120, 84), make_activation(activation),
            Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def lenet5(num_classes: int = 10, in_channels: int = 1, input_size: int | Sequence[int] = 28, **kw: Any) -> LeNet5:
    """LeNet-5 (see :class:`LeNet5`)."""
    return LeNet5(num_classes, in_channels, input_size, **kw)


# --------------------------------------------------------------------------------- small CNN


class SmallCNN(Module):
    """A small VGG-style CNN with batch normalisation for Fashion-MNIST:

        features:   [Conv(3×3, padding 1, no bias) → BN → ReLU] × convs_per_stage → MaxPool 2,
                    for every width in ``channels`` (default 32, 64: 28 → 14 → 7);
                    ``convs_per_stage`` may differ per stage, e.g. (1, 2)
        classifier: Flatten → Dropout(p) → [Linear(·, fc) → BN1d → ReLU → Dropout(p)] → Linear(·, classes)

    (the bracket only with ``fc > 0``). Batch norm (批归一化, Fang §8.2) makes the convolution
    bias redundant (β takes its place), so the convolutions have none."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int | Sequence[int] = 28,
                 channels: Sequence[int] = (32, 64), convs_per_stage: int | Sequence[int] = 2, fc: int = 0,
                 dropout: float = 0.25, batch_norm: bool = True) -> None:
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        convs = (convs_per_stage,) * len(channels) if isinstance(convs_per_stage, int) else tuple(convs_per_stage)
        if len(convs) != len(channels):
            raise ValueError(f"SmallCNN: convs_per_stage {convs} does not match channels {tuple(channels)}")
        layers: list[Module] = []
        c = in_channels
        for width, n_conv in zip(channels, convs):
            for _ in range(n_conv):
                layers.append(Conv2d(c, width, 3, padding=1, bias=not batch_norm))
                if batch_norm:
                    layers.append(BatchNorm2d(width))
                layers.append(ReLU())
                c = width
            layers.append(MaxPool2d(2))
            h, w = h // 2, w // 2
        self.features = Sequential(*layers)
        head: list[Module] = [Flatten()]
        if dropout:
            head.append(Dropout(dropout))
        n = c * h * w
        if fc:
            head += [Linear(n, fc, bias=not batch_norm)] + ([BatchNorm1d(fc)] if batch_norm else []) + [ReLU()]
            if dropout:
                head.append(Dropout(dropout))
            n = fc
        head.append(Linear(n, num_classes))
        self.classifier = Sequential(*head)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def small_cnn(num_classes: int = 10, in_channels: int = 1, input_size: int | Sequence[int] = 28, **kw: Any) -> SmallCNN:
    """The small batch-norm CNN (see :class:`SmallCNN`)."""
    return SmallCNN(num_classes, in_channels, input_size, **kw)


# --------------------------------------------------------------------------------- ResNet


class PreActBlock(Module):
    """A pre-activation residual block (残差块, Fang §8.3; He et al. 2016 "identity mappings"):

        a = ReLU(BN₁(x)),   f(x) = Conv₂(ReLU(BN₂(Conv₁(a)))),   h = shortcut + f(x)

    with 3×3 convolutions (the first with ``stride``). The shortcut is x itself when the shape is
    kept, else the projection W_s a of Xu §1.10.2 — a 1×1 convolution with the block's
    stride, applied to the pre-activated input. ``scale`` multiplies h (1/√2, Fang §8.2).
    Names: bn1, conv1, bn2, conv2, shortcut (as torchvision/kuangliu's PreActBlock)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, scale: float | None = None) -> None:
        super().__init__()
        self.bn1 = BatchNorm2d(in_channels)
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.projection = stride != 1 or in_channels != out_channels
        self.shortcut = Conv2d(in_channels, out_channels, 1, stride=stride, bias=False) if self.projection else Identity()
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        a = relu(self.bn1(x))
        sc = self.shortcut(a) if self.projection else x
        h = self.conv2(relu(self.bn2(self.conv1(a)))) + sc
        return h if self.scale is None else h * self.scale

    def extra_repr(self) -> str:
        return "" if self.scale is None else f"scale={self.scale:.6g}"


class ResNet(Module):
    """A small pre-activation ResNet (残差网络) for small images:

        conv (3×3, C → width) → stage 1 … stage S → BN → ReLU → global average pool → Linear

    stage s has ``blocks[s]`` :class:`PreActBlock` s of width·2^s channels; the first block of every
    stage after the first has stride 2 (halving the map, with a projection shortcut). ``blocks``
    defaults to S = 3 stages of n blocks with depth = 6n + 2 layers (He et al.'s CIFAR ResNets:
    depth 8, 14, 20, …). Names: conv1, layer1 … layerS, bn, fc."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 16, blocks: Sequence[int] | None = None,
                 depth: int = 14, scale: float | None = None) -> None:
        super().__init__()
        if blocks is None:
            if depth < 8 or (depth - 2) % 6:
                raise ValueError(f"ResNet: depth must be 6n + 2 (8, 14, 20, …), got {depth}; or give blocks=(n1, n2, …)")
            blocks = ((depth - 2) // 6,) * 3
        self.blocks = tuple(int(b) for b in blocks)
        self.conv1 = Conv2d(in_channels, width, 3, padding=1, bias=False)
        c = width
        for s, n in enumerate(self.blocks):
            out = width * 2**s
            layers = []
            for i in range(n):
                layers.append(PreActBlock(c, out, stride=2 if s and not i else 1, scale=scale))
                c = out
            setattr(self, f"layer{s + 1}", Sequential(*layers))
        self.bn = BatchNorm2d(c)
        self.pool = AdaptiveAvgPool2d(1)
        self.fc = Linear(c, num_classes)
        self.out_channels = c

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(x)
        for s in range(len(self.blocks)):
            h = getattr(self, f"layer{s + 1}")(h)
        h = self.pool(relu(self.bn(h)))
        return self.fc(h.flatten(1))


def resnet(num_classes: int = 10, in_channels: int = 1, **kw: Any) -> ResNet:
    """A small pre-activation ResNet (see :class:`ResNet`)."""
    return ResNet(num_classes, in_channels, **kw)


# --------------------------------------------------------------------------------- DenseNet


class DenseLayer(Module):
    """One layer of a dense block (密集连接): h = [x, f(x)] concatenated along channels, with
    f = Conv3×3(ReLU(BN(x))) producing ``growth`` channels; with ``bottleneck`` (DenseNet-B)
    f = Conv3×3(ReLU(BN₂(Conv1×1(ReLU(BN₁(x)))))) through 4·growth channels. Names bn1, conv1
    (bn2, conv2 for the bottleneck form)."""

    def __init__(self, in_channels: int, growth: int, bottleneck: bool = False) -> None:
        super().__init__()
        self.bottleneck = bottleneck
        self.bn1 = BatchNorm2d(in_channels)
        if bottleneck:
            self.conv1 = Conv2d(in_channels, 4 * growth, 1, bias=False)
            self.bn2 = BatchNorm2d(4 * growth)
            self.conv2 = Conv2d(4 * growth, growth, 3, padding=1, bias=False)
        else:
            self.conv1 = Conv2d(in_channels, growth, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        f = self.conv1(relu(self.bn1(x)))
        if self.bottleneck:
            f = self.conv2(relu(self.bn2(f)))
        return cat([x, f], 1)


class Transition(Module):
    """A DenseNet transition: BN → ReLU → Conv1×1 (C → C_out) → AvgPool 2×2 (names bn, conv, pool)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.bn = BatchNorm2d(in_channels)
        self.conv = Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = AvgPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.conv(relu(self.bn(x))))


class DenseNet(Module):
    """A small DenseNet (密集连接网络, Huang et al. 2017):

        conv (3×3, C → c₀ = 2·growth) → block₁ → transition₁ → … → block_B → BN → ReLU → pool → Linear

    block b has ``blocks[b]`` :class:`DenseLayer` s and turns c channels into c + blocks[b]·growth;
    each transition keeps ⌊compression·c⌋ channels and halves the map. Names: conv0,
    features.block{b}.{i}, features.trans{b}, bn, fc."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, growth: int = 12, blocks: Sequence[int] = (4, 4, 4),
                 bottleneck: bool = False, compression: float = 0.5, init_channels: int | None = None) -> None:
        super().__init__()
        if not 0 < compression <= 1:
            raise ValueError(f"DenseNet: compression must be in (0, 1], got {compression}")
        c = init_channels or 2 * growth
        self.conv0 = Conv2d(in_channels, c, 3, padding=1, bias=False)
        feats: OrderedDict[str, Module] = OrderedDict()
        blocks = tuple(int(b) for b in blocks)
        for b, n in enumerate(blocks):
            layers = []
            for _ in range(n):
                layers.append(DenseLayer(c, growth, bottleneck))
                c += growth
            feats[f"block{b + 1}"] = Sequential(*layers)
            if b < len(blocks) - 1:
                out = int(math.floor(compression * c))
                feats[f"trans{b + 1}"] = Transition(c, out)
                c = out
        self.features = Sequential(feats)
        self.bn = BatchNorm2d(c)
        self.pool = AdaptiveAvgPool2d(1)
        self.fc = Linear(c, num_classes)
        self.out_channels = c

    def forward(self, x: Tensor) -> Tensor:
        h = self.features(self.conv0(x))
        return self.fc(self.pool(relu(self.bn(h))).flatten(1))


def densenet(num_classes: int = 10, in_channels: int = 1, **kw: Any) -> DenseNet:
    """A small DenseNet (see :class:`DenseNet`)."""
    return DenseNet(num_classes, in_channels, **kw)


# --------------------------------------------------------------------------------- U-Net


class DoubleConv(Sequential):
    """Conv3×3 → BN → ReLU → Conv3×3 → BN → ReLU (padding 1, so the size is kept); without batch
    norm the convolutions carry biases: Conv → ReLU → Conv → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, batch_norm: bool = True) -> None:
        layers: list[Module] = []
        for c in (in_channels, out_channels):
            layers.append(Conv2d(c, out_channels, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(BatchNorm2d(out_channels))
            layers.append(ReLU())
        super().__init__(*layers)


class UNet(Module):
    """U-Net (U 型网络, Ronneberger et al. 2015; Fang §8.3), with padded convolutions:

        encoder: e₀ = DoubleConv(C, w);  e_l = DoubleConv(MaxPool(e_{l−1})) with w·2^l channels, l = 1…depth
        decoder: d_depth = e_depth;  d_l = DoubleConv([e_l, up(d_{l+1})]) with w·2^l channels
        head:    Conv1×1(w → classes): per-pixel logits (N, classes, H, W)

    ``up='transpose'`` upsamples by ConvTranspose2d(2c, c, 2, stride 2) (转置卷积);
    ``'bilinear'``/``'nearest'`` by interpolation (Upsample ×2, 双线性插值) followed by a 1×1
    convolution halving the channels. Skips are concatenated (跳跃连接); odd sizes are padded to the
    skip's size. Names: inc, downs.{l−1}, ups.{l}, decs.{l}, head (``ups``/``decs`` ordered from
    the bottom)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2, depth: int = 3, width: int = 16, up: str = "transpose",
                 batch_norm: bool = True) -> None:
        super().__init__()
        if up not in ("transpose", "bilinear", "nearest"):
            raise ValueError(f"UNet: up must be 'transpose', 'bilinear' or 'nearest', got {up!r}")
        if depth < 1:
            raise ValueError(f"UNet: depth must be >= 1, got {depth}")
        self.depth, self.up_mode = depth, up
        ch = [width * 2**level for level in range(depth + 1)]
        self.inc = DoubleConv(in_channels, ch[0], batch_norm)
        self.pool = MaxPool2d(2)
        self.downs = ModuleList([DoubleConv(ch[level], ch[level + 1], batch_norm) for level in range(depth)])
        ups, decs = [], []
        for level in reversed(range(depth)):
            if up == "transpose":
                ups.append(ConvTranspose2d(ch[level + 1], ch[level], 2, stride=2))
            else:
                kw = {"align_corners": False} if up == "bilinear" else {}
                ups.append(Sequential(Upsample(scale_factor=2, mode=up, **kw), Conv2d(ch[level + 1], ch[level], 1)))
            decs.append(DoubleConv(2 * ch[level], ch[level], batch_norm))
        self.ups, self.decs = ModuleList(ups), ModuleList(decs)
        self.head = Conv2d(ch[0], num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.inc(x)
        skips = [h]
        for down in self.downs:
            h = down(self.pool(h))
            skips.append(h)
        skips.pop()  # the bottleneck
        for up, dec in zip(self.ups, self.decs):
            s = skips.pop()
            h = up(h)
            dh, dw = s.shape[2] - h.shape[2], s.shape[3] - h.shape[3]
            if dh or dw:
                h = pad(h, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
            h = dec(cat([s, h], 1))
        return self.head(h)


def unet(in_channels: int = 1, num_classes: int = 2, **kw: Any) -> UNet:
    """A U-Net (see :class:`UNet`)."""
    return UNet(in_channels, num_classes, **kw)
