"""Convolution, pooling and upsampling layers (卷积层、池化层、上采样层) as Modules.

Constructors, attribute names, parameter shapes, default initialisation and ``repr`` follow
PyTorch, so ``state_dict`` keys and shapes move between the two. A conv layer has
C_i·C_o·kH·kW/groups + C_o parameters (Fang ch. 7); its weight is initialised like torch's:
kaiming_uniform_(a=√5), i.e. U(±1/√fan_in) with fan_in = (C_in/groups)·kH·kW, and the bias
U(±1/√fan_in).
"""

from __future__ import annotations

import math

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from ..ops import conv as C
from ..ops import pool as P
from . import init
from .module import Module, Parameter

__all__ = [
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d", "Upsample",
    "UpsamplingNearest2d", "UpsamplingBilinear2d", "Unfold", "Fold",
]


def _param(shape, dtype) -> Parameter:
    return Parameter(xp.empty(shape, dtype=B.get_default_dtype() if dtype is None else xp.dtype(dtype)))


class _ConvNd(Module):
    """Shared state of the convolutions (torch's _ConvNd): sizes as tuples, weight, bias, init, repr."""

    _nd = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", output_padding=0, device=None, dtype=None) -> None:
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = C.ntuple(kernel_size, nd, "kernel_size")
        self.stride = C.ntuple(stride, nd, "stride")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = C.ntuple(padding, nd, "padding")
        self.dilation = C.ntuple(dilation, nd, "dilation")
        self.output_padding = C.ntuple(output_padding, nd, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = _param(shape, dtype)
        if bias:
            self.bias = _param((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer (二维卷积层), torch.nn.Conv2d: y = x ⋆ W + b (cross-correlation,
    Wang 七.1 eq. 12), W of shape (C_out, C_in/groups, kH, kW).

    ``stride`` (步幅), ``padding`` (填充: int, pair, 'same', 'valid'), ``dilation`` (空洞卷积),
    ``groups``, ``padding_mode`` zeros | reflect | replicate | circular (Fang ch. 7).
    A 1×1 convolution (kernel_size=1) mixes channels at every pixel.

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in).
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with H_out = ⌊(H_in + 2·padding[0] −
          dilation[0]·(kernel_size[0] − 1) − 1)/stride[0]⌋ + 1 and W_out likewise.

    Examples:
        >>> m = nn.Conv2d(16, 33, 3, stride=2)
        >>> m(sj.randn(20, 16, 50, 100)).shape
        shenjing.Size([20, 33, 24, 49])
        >>> nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))(sj.randn(20, 16, 50, 100)).shape
        shenjing.Size([20, 33, 26, 100])
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return C.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                        padding_mode=self.padding_mode)


class Conv1d(_ConvNd):
    """1-D convolution layer (一维卷积层), torch.nn.Conv1d, W of shape (C_out, C_in/groups, k).

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in).
        - Output: (N, C_out, L_out) or (C_out, L_out), L_out = ⌊(L_in + 2·padding − dilation·(kernel_size − 1) − 1)/stride⌋ + 1.

    Examples:
        >>> m = nn.Conv1d(16, 33, 3, stride=2)
        >>> m(sj.randn(20, 16, 50)).shape
        shenjing.Size([20, 33, 24])
    """

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return C.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                        padding_mode=self.padding_mode)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         output_padding, dtype=dtype)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        fn = C.conv_transpose2d if self._nd == 2 else C.conv_transpose1d
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups, self.dilation,
                  output_size=output_size)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (转置卷积), torch.nn.ConvTranspose2d: the adjoint of Conv2d in its
    input, for learned upsampling (U-Net); W of shape (C_in, C_out/groups, kH, kW), output size
    (H − 1)·s − 2p + d(k − 1) + output_padding + 1. ``forward(input, output_size=None)``.

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in).
        - Output: (N, C_out, H_out, W_out) with H_out = (H_in − 1)·stride[0] − 2·padding[0] + dilation[0]·(kernel_size[0] − 1) +
          output_padding[0] + 1 and W_out likewise.

    Examples:
        >>> m = nn.ConvTranspose2d(16, 33, 3, stride=2)
        >>> m(sj.randn(20, 16, 50, 100)).shape
        shenjing.Size([20, 33, 101, 201])
    """

    _nd = 2


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (一维转置卷积), W of shape (C_in, C_out/groups, k).

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in).
        - Output: (N, C_out, L_out) with L_out = (L_in − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1.

    Examples:
        >>> m = nn.ConvTranspose1d(16, 33, 3, stride=2)
        >>> m(sj.randn(20, 16, 50)).shape
        shenjing.Size([20, 33, 101])
    """

    _nd = 1


# ------------------------------------------------------------------ pooling


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (最大池化, Fang ch. 7), torch.nn.MaxPool2d: the largest value of each
    kernel_size window at ``stride`` (default: kernel_size), −∞ padding; ``return_indices`` also
    returns the argmax positions for MaxUnpool2d.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, H_out, W_out) with H_out = ⌊(H_in + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1)/stride[0]⌋ + 1
          (stride defaults to kernel_size) and W_out likewise.

    Examples:
        >>> nn.MaxPool2d(3, stride=2)(sj.randn(20, 16, 50, 32)).shape
        shenjing.Size([20, 16, 24, 15])
    """

    def forward(self, input: Tensor):
        return P.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (一维最大池化), torch.nn.MaxPool1d.

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) or (C, L_out), L_out = ⌊(L_in + 2·padding − dilation·(kernel_size − 1) − 1)/stride⌋ + 1 (stride
          defaults to kernel_size).

    Examples:
        >>> nn.MaxPool1d(3, stride=2)(sj.randn(20, 16, 50)).shape
        shenjing.Size([20, 16, 24])
    """

    def forward(self, input: Tensor):
        return P.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(Module):
    """2-D average pooling (平均池化, Fang ch. 7), torch.nn.AvgPool2d: the mean of each window;
    ``count_include_pad`` counts the zero padding in the divisor, ``divisor_override`` replaces it.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, H_out, W_out) with H_out = ⌊(H_in + 2·padding[0] − kernel_size[0])/stride[0]⌋ + 1 and W_out likewise.

    Examples:
        >>> nn.AvgPool2d(3, stride=2)(sj.randn(20, 16, 50, 32)).shape
        shenjing.Size([20, 16, 24, 15])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """1-D average pooling (一维平均池化), torch.nn.AvgPool1d (sizes kept as 1-tuples, like torch).

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) with L_out = ⌊(L_in + 2·padding − kernel_size)/stride⌋ + 1.

    Examples:
        >>> nn.AvgPool1d(3, stride=2)(sj.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]])).tolist()
        [[[2.0, 4.0, 6.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = C.ntuple(kernel_size, 1, "kernel_size")
        self.stride = C.ntuple(stride if stride is not None else kernel_size, 1, "stride")
        self.padding = C.ntuple(padding, 1, "padding")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Adaptive average pooling (自适应平均池化), torch.nn.AdaptiveAvgPool2d: the output has
    ``output_size`` whatever the input size; AdaptiveAvgPool2d(1) is global average pooling.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, S_0, S_1) or (C, S_0, S_1) with (S_0, S_1) = output_size.

    Examples:
        >>> nn.AdaptiveAvgPool2d((5, 7))(sj.randn(1, 64, 8, 9)).shape
        shenjing.Size([1, 64, 5, 7])
        >>> nn.AdaptiveAvgPool2d(1)(sj.randn(1, 64, 8, 9)).shape  # global average pooling
        shenjing.Size([1, 64, 1, 1])
    """

    def forward(self, input: Tensor) -> Tensor:
        return P.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """1-D adaptive average pooling (一维自适应平均池化), torch.nn.AdaptiveAvgPool1d.

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) or (C, L_out) with L_out = output_size.

    Examples:
        >>> nn.AdaptiveAvgPool1d(5)(sj.randn(1, 64, 8)).shape
        shenjing.Size([1, 64, 5])
    """

    def forward(self, input: Tensor) -> Tensor:
        return P.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Adaptive max pooling (自适应最大池化) for output sizes that divide the input size.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in), H_in and W_in divisible by output_size.
        - Output: (N, C, S_0, S_1) or (C, S_0, S_1) with (S_0, S_1) = output_size.

    Examples:
        >>> nn.AdaptiveMaxPool2d((4, 3))(sj.randn(1, 64, 8, 9)).shape
        shenjing.Size([1, 64, 4, 3])
    """

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        nd = self._nd
        self.kernel_size = C.ntuple(kernel_size, nd, "kernel_size")
        self.stride = C.ntuple(stride if stride is not None else kernel_size, nd, "stride")
        self.padding = C.ntuple(padding, nd, "padding")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """Max unpooling (最大反池化), torch.nn.MaxUnpool2d: the inverse of MaxPool2d up to the
    non-maxima, which become zeros. ``forward(input, indices, output_size=None)``.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in), and the indices of MaxPool2d.
        - Output: (N, C, H_out, W_out) with H_out = (H_in − 1)·stride[0] − 2·padding[0] + kernel_size[0], or output_size.

    Examples:
        >>> pool, unpool = nn.MaxPool2d(2, stride=2, return_indices=True), nn.MaxUnpool2d(2, stride=2)
        >>> out, indices = pool(sj.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]))
        >>> unpool(out, indices).tolist()
        [[[[0.0, 0.0, 0.0, 0.0], [0.0, 6.0, 0.0, 8.0], [0.0, 0.0, 0.0, 0.0], [0.0, 14.0, 0.0, 16.0]]]]
    """

    _nd = 2

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return P.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """1-D max unpooling (一维最大反池化), torch.nn.MaxUnpool1d.

    Shape:
        - Input: (N, C, H_in) or (C, H_in), and the indices of MaxPool1d.
        - Output: (N, C, H_out) with H_out = (H_in − 1)·stride − 2·padding + kernel_size, or output_size.

    Examples:
        >>> pool, unpool = nn.MaxPool1d(2, stride=2, return_indices=True), nn.MaxUnpool1d(2, stride=2)
        >>> out, indices = pool(sj.tensor([[[1.0, 2, 3, 4, 5, 6, 7, 8]]]))
        >>> unpool(out, indices).tolist()
        [[[0.0, 2.0, 0.0, 4.0, 0.0, 6.0, 0.0, 8.0]]]
    """

    _nd = 1

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return P.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


# ------------------------------------------------------------------ upsampling, unfold/fold


class Upsample(Module):
    """Upsampling (上采样, Fang ch. 7), torch.nn.Upsample: ``size`` or ``scale_factor``, mode
    nearest | nearest-exact | linear | bilinear (``align_corners``) | area.

    Shape:
        - Input: (N, C, W_in), (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in).
        - Output: (N, C, W_out), (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out) with W_out = ⌊W_in·scale_factor⌋ or size.

    Examples:
        >>> m = nn.Upsample(scale_factor=2, mode='nearest')
        >>> m(sj.tensor([[[[1.0, 2], [3, 4]]]])).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]]]
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return P.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling (最近邻上采样), torch.nn.UpsamplingNearest2d.

    Shape:
        - Input: (N, C, H_in, W_in).
        - Output: (N, C, H_out, W_out) with H_out = ⌊H_in·scale_factor⌋ or size.

    Examples:
        >>> nn.UpsamplingNearest2d(scale_factor=2)(sj.randn(1, 3, 4, 5)).shape
        shenjing.Size([1, 3, 8, 10])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with align_corners=True (双线性上采样), torch.nn.UpsamplingBilinear2d.

    Shape:
        - Input: (N, C, H_in, W_in).
        - Output: (N, C, H_out, W_out) with H_out = ⌊H_in·scale_factor⌋ or size.

    Examples:
        >>> [round(v, 4) for v in nn.UpsamplingBilinear2d(scale_factor=2)(sj.tensor([[[[1.0, 2], [3, 4]]]]))[0, 0, 0].tolist()]
        [1.0, 1.3333, 1.6667, 2.0]
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class Unfold(Module):
    """im2col (展开), torch.nn.Unfold: (N, C, H, W) → (N, C·kH·kW, L) sliding blocks.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C·kH·kW, L) or (C·kH·kW, L), L = the number of blocks, the product over the spatial dims of ⌊(size +
          2·padding − dilation·(kernel_size − 1) − 1)/stride⌋ + 1.

    Examples:
        >>> nn.Unfold(kernel_size=(2, 3))(sj.randn(2, 5, 3, 4)).shape
        shenjing.Size([2, 30, 4])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return C.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """col2im (折叠), torch.nn.Fold: (N, C·kH·kW, L) → (N, C, H, W), overlapping values summed.

    Shape:
        - Input: (N, C·kH·kW, L) or (C·kH·kW, L).
        - Output: (N, C, output_size[0], output_size[1]) or (C, output_size[0], output_size[1]).

    Examples:
        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(sj.randn(1, 3 * 2 * 2, 12)).shape
        shenjing.Size([1, 3, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return C.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
