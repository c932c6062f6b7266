"""Parameter initialisation (参数初始化, Xu §1.10.1, Nelson "初始化权重").

Every function fills a tensor in place (without recording a graph) and returns it, like
``torch.nn.init``. For a fully connected layer with weight θ ∈ R^{m_out × m_in} (Xu §1.10.1):

==================  ==========================  ===============================
name                normal                      uniform
==================  ==========================  ===============================
LeCun               N(0, 1/m_in)                U(±√(3/m_in))
Xavier/Glorot       N(0, 2/(m_in + m_out))      U(±√(6/(m_in + m_out)))
Kaiming/He          N(0, 2/m_in)                U(±√(6/m_in))
==================  ==========================  ===============================

The scales shrink with the width so that the signal keeps its strength from layer to layer.
For a convolution weight (C_out, C_in, k₁, k₂, …) the fans are multiplied by the receptive field
k₁k₂⋯, as PyTorch does. All draws come from shenjing's global generator (``shenjing.manual_seed``)
or the ``generator`` passed in, so a seeded run is repeatable.
"""

from __future__ import annotations

import math
import warnings

from ..autograd.tensor import Tensor
from ..backend import special, xp
from ..random import Generator, rng, uniform_values

__all__ = [
    "calculate_fan_in_and_fan_out", "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "orthogonal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "lecun_uniform_", "lecun_normal_",
]


def _fill(tensor: Tensor, values) -> Tensor:
    """Write ``values`` into ``tensor`` (no graph, like torch.no_grad) and bump its version."""
    with tensor.inplace() as a:
        a[...] = values
    return tensor


def _empty(tensor: Tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain (增益) for an activation, torch's table:

    linear, conv*, sigmoid → 1; tanh → 5/3; relu → √2; leaky_relu → √(2/(1 + slope²)) (slope 0.01
    by default); selu → 3/4."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (size(1)·r, size(0)·r) (扇入/扇出, Xu §1.10.1's m_in, m_out), r = the
    receptive field (product of dims ≥ 2). torch's name: ``_calculate_fan_in_and_fan_out``."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # torch.nn.init's (private) name


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _uniform(tensor: Tensor, low: float, high: float, generator) -> Tensor:
    return _fill(tensor, uniform_values(rng(generator), low, high, tensor.shape, tensor.dtype))


def _normal(tensor: Tensor, mean: float, std: float, generator) -> Tensor:
    return _fill(tensor, mean + std * rng(generator).standard_normal(tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b) (均匀分布初始化)."""
    return _uniform(tensor, a, b, generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std²) (正态分布初始化)."""
    return _normal(tensor, mean, std, generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std²) truncated to [a, b] (截断正态分布), by the inverse CDF as torch does:
    u ~ U(Φ(α), Φ(β)), x = mean + std·√2·erf⁻¹(2u − 1), α = (a − mean)/std, β = (b − mean)/std."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)

    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    lo, hi = cdf((a - mean) / std), cdf((b - mean) / std)
    u = rng(generator).uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
    x = special().erfinv(u) * (std * math.sqrt(2.0)) + mean
    return _fill(tensor, xp.clip(x, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with a constant."""
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (单位矩阵初始化) in a 2-D tensor: y = x for a Linear layer."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, xp.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta in a 3/4/5-D convolution weight: the convolution keeps the input channels."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per = sizes[0] // groups
    min_dim = min(out_per, sizes[1])
    w = xp.zeros(sizes, dtype=tensor.dtype)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            w[(g * out_per + d, d) + centre] = 1
    return _fill(tensor, w)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix (正交初始化, Saxe et al. 2013) from the QR decomposition of a
    Gaussian matrix, signs fixed by diag(R); the trailing dims are flattened."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    d = xp.sign(xp.diag(r))
    d[d == 0] = 1
    q = q * d
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Xavier/Glorot uniform (Xavier 初始化, Glorot & Bengio 2010; Xu §1.10.1, Nelson "初始化权重"):
    U(−a, a), a = gain·√(6/(m_in + m_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return _uniform(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Xavier/Glorot normal (Xavier 初始化): N(0, σ²), σ = gain·√(2/(m_in + m_out)) (Xu §1.10.1)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """Kaiming/He uniform (He 初始化, He et al. 2015; Xu §1.10.1, Nelson "He 初始化"):
    U(−bound, bound), bound = gain·√(3/fan), gain = calculate_gain(nonlinearity, a).
    With the defaults (a = 0, leaky_relu ⇒ gain √2, fan_in) this is U(±√(6/m_in)).
    ``nn.Linear`` uses a = √5, which gives U(±1/√m_in)."""
    if _empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return _uniform(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """Kaiming/He normal (He 初始化): N(0, σ²), σ = gain/√fan; with the defaults N(0, 2/m_in) (Xu §1.10.1,
    Nelson "He 初始化";
    Fang §8.2 prints it on the bias — an erratum: He init is for weights)."""
    if _empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _normal(tensor, 0.0, std, generator)


def lecun_uniform_(tensor: Tensor, generator: Generator | None = None) -> Tensor:
    """LeCun uniform (LeCun 初始化, LeCun et al. 2012; Xu §1.10.1): U(±√(3/m_in)), variance 1/m_in."""
    fan_in, _ = calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0 / fan_in)
    return _uniform(tensor, -bound, bound, generator)


def lecun_normal_(tensor: Tensor, generator: Generator | None = None) -> Tensor:
    """LeCun normal (LeCun 初始化, Xu §1.10.1): N(0, 1/m_in) = N(0, (√(1/m_in))²)."""
    fan_in, _ = calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 0.0, math.sqrt(1.0 / fan_in), generator)


# torch's deprecated spellings
uniform = uniform_
normal = normal_
constant = constant_
xavier_uniform = xavier_uniform_
xavier_normal = xavier_normal_
kaiming_uniform = kaiming_uniform_
kaiming_normal = kaiming_normal_
orthogonal = orthogonal_
