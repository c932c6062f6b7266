"""Activation functions (激活函数), stateless forms, each with its closed-form derivative f′.

Xu §1.7 Example 1 (sigmoid, tanh, sin/cos, ReLU, SiLU, LeakyReLU, GELU), eq. 1.1 (the step
function with threshold T), eq. 1.38 (softmax with temperature T); Nelson ch. 4 "常见的激活函数"
(step, logistic, tanh, arctan, ReLU, leaky/parametric ReLU, ELU with f′ = f + α for z < 0,
softplus with f′ = σ); Fang §4.1 (ReLU, sigmoid with σ′ = σ(1 − σ)).

Most activations are composites of the primitive ops (so their gradients, and gradients of
gradients, come for free); step, softplus and log-sigmoid are rows of the elementwise table of
``shenjing.ops`` (the composite ``log(1 + exp(x))`` overflows). ``derivative(name, x)`` gives f′(x) in closed form (the lab plots f
and f′ with it; the tests check it against autograd).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ... import backend as B
from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor
from ...ops import elementwise as E
from ...ops import reduce as R

__all__ = [
    "ACTIVATIONS", "arctan", "celu", "cos", "derivative", "elu", "gelu", "hardshrink", "hardsigmoid",
    "hardswish", "hardtanh", "identity", "leaky_relu", "log_softmax", "logistic", "logsigmoid", "mish",
    "polynomial", "prelu", "relu", "relu6", "selu", "sigmoid", "sign", "silu", "sin", "softmax",
    "softmin", "softplus", "softshrink", "softsign", "square", "step", "tanh", "tanhshrink",
]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715


def _float(x: Tensor) -> Tensor:
    """Integer and bool inputs are computed in the default float dtype (as PyTorch)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    return x if x.dtype.kind in "fc" else x.to(B.get_default_dtype())


# ------------------------------------------------------------------ the activations


def step(input: Tensor, threshold: float = 0.0) -> Tensor:
    """Step function (阶跃函数), Xu eq. 1.1 / 1.72: σ(x) = 1 if x ≥ T else 0.

    f′ = 0 (almost everywhere), so gradient descent cannot train it (the perceptron rule of
    Xu §1.12, eq. 1.74, sidesteps the derivative). The threshold T defaults to 0 (Nelson's form)."""
    return E.step(_float(input), threshold)


def sign(input: Tensor) -> Tensor:
    """Sign function (符号函数) of the perceptron: −1, 0, 1; f′ = 0."""
    return E.sign(_float(input))


def identity(input: Tensor) -> Tensor:
    """Identity (恒等激活) f(x) = x, f′ = 1: a network of it is linear (Nelson ch. 4)."""
    return input


def sigmoid(input: Tensor) -> Tensor:
    """Sigmoid / logistic function (逻辑函数, S 型函数) σ(x) = 1/(1 + e^(−x)); f′ = σ(1 − σ).

    Xu §1.7 Example 1.1, Fang §4.1, Nelson ch. 4."""
    return E.sigmoid(_float(input))


logistic = sigmoid


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent (双曲正切) tanh x; f′ = 1 − tanh² x. Xu §1.7, Nelson ch. 4."""
    return E.tanh(_float(input))


def arctan(input: Tensor) -> Tensor:
    """Arctangent (反正切函数) arctan x ∈ (−π/2, π/2); f′ = 1/(1 + x²). Nelson ch. 4."""
    return E.arctan(_float(input))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Rectified linear unit (修正线性单元, 线性整流) max(0, x); f′ = 1[x > 0].

    Xu §1.7 Example 1.4, Nelson ch. 4 (Fang §4.1 prints the step function by mistake).
    ``inplace=True`` overwrites ``input`` (like ``input.relu_()``); the other activations accept
    ``inplace`` for compatibility and return a new tensor."""
    return input.relu_() if inplace else E.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Leaky ReLU (泄漏修正线性单元) max(0, x) + a·min(0, x); f′ = 1 for x > 0, a otherwise.

    Xu §1.7 Example 1.6 ("a is a negative slope"), Nelson ch. 4."""
    x = _float(input)
    return E.where(x > 0, x, x * negative_slope)


def _prelu_weight(weight: Tensor, x: Tensor) -> Tensor:
    if weight.numel() == 1:
        return weight.reshape(())
    if x.ndim < 2:
        raise RuntimeError(
            f"prelu: Not allow zero-dim input tensor or input with fewer than 2 dims when "
            f"num_parameters = {weight.numel()} > 1 (input shape {tuple(x.shape)})"
        )
    if x.shape[1] != weight.numel():
        raise RuntimeError(
            f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {x.shape[1]} (input shape {tuple(x.shape)})."
        )
    return weight.reshape((1, -1) + (1,) * (x.ndim - 2))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU (参数化修正线性单元) max(0, x) + a·min(0, x) with learnable a (one per
    channel, dim 1, or one shared); ∂f/∂x = 1 for x > 0, a otherwise; ∂f/∂a = min(0, x)."""
    x = _float(input)
    w = _prelu_weight(weight, x)
    return E.where(x > 0, x, w * x)


def _negative(x: Tensor) -> Tensor:
    """min(x, 0) for the exponential branch of the ELUs, NaN kept with its gradient (PyTorch's ELU gradient at NaN is NaN)."""
    return E.where(x > 0, 0.0, x)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Exponential linear unit (指数线性单元) x for x > 0, α(eˣ − 1) otherwise.

    f′ = 1 for x > 0, f + α = α eˣ otherwise (Nelson ch. 4)."""
    x = _float(input)
    return E.where(x > 0, x, E.expm1(_negative(x)) * alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU (自归一化指数线性单元) λ·elu(x, α) with α ≈ 1.6733, λ ≈ 1.0507 (Klambauer 2017);
    f′ = λ for x > 0, λα eˣ otherwise."""
    x = _float(input)
    return E.where(x > 0, x * SELU_SCALE, E.expm1(_negative(x)) * (SELU_ALPHA * SELU_SCALE))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Continuously differentiable ELU max(0, x) + min(0, α(e^(x/α) − 1)); f′ = 1 (x > 0), e^(x/α)."""
    x = _float(input)
    return E.where(x > 0, x, E.expm1(_negative(x) / alpha) * alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus (软加函数) (1/β) ln(1 + e^(βx)), a smooth ReLU; f′ = σ(βx) (Nelson ch. 4: σ).

    Linear (f = x) where βx > threshold, as PyTorch. Fused: stable for large |x|."""
    x = _float(input)
    return E.softplus(x, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x) (对数 S 型函数), stable; f′ = 1 − σ(x)."""
    return E.logsigmoid(_float(input))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU / swish (S 型加权线性单元) x·σ(x), Xu §1.7 Example 1.5; f′ = σ(1 + x(1 − σ))."""
    x = _float(input)
    return x * E.sigmoid(x)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit (高斯误差线性单元) x·Φ(x), Xu §1.7 Example 1.7.

    ``approximate='none'``: Φ(x) = ½(1 + erf(x/√2)), f′ = Φ(x) + x φ(x);
    ``approximate='tanh'``: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks & Gimpel)."""
    x = _float(input)
    if approximate == "none":
        return x * ((E.erf(x * _SQRT1_2) + 1.0) * 0.5)
    if approximate == "tanh":
        inner = (x + x * x * x * _GELU_C) * _SQRT_2_PI
        return x * 0.5 * (E.tanh(inner) + 1.0)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sin(input: Tensor) -> Tensor:
    """sin x as activation (正弦激活), Xu §1.7 Example 1.3; f′ = cos x."""
    return E.sin(_float(input))


def cos(input: Tensor) -> Tensor:
    """cos x as activation (余弦激活), Xu §1.7 Example 1.3; f′ = −sin x."""
    return E.cos(_float(input))


def polynomial(input: Tensor, coeffs: Sequence[float] | Tensor = (0.0, 0.0, 1.0)) -> Tensor:
    """Polynomial activation (多项式激活) p(x) = Σ_k c_k x^k (coefficients from degree 0 up),
    evaluated by Horner's rule; f′ = Σ_k k c_k x^(k−1).

    Xu Remark 2 / exercise "多项式激活函数合适吗?": with a degree-d polynomial a two-layer
    net Σ_j a_j p(w_j x + b_j) is itself a polynomial of degree ≤ d, so it is no universal
    approximator (Leshno et al. 1993). Default: x²."""
    x = _float(input)
    cs = _coeff_list(coeffs, x)
    if not cs:
        return x * 0
    if len(cs) == 1:
        return x * 0 + cs[0]
    out = x * cs[-1] + cs[-2]
    for c in reversed(cs[:-2]):
        out = out * x + c
    return out


def square(input: Tensor) -> Tensor:
    """x² (平方激活), the polynomial of Xu Remark 2; f′ = 2x."""
    x = _float(input)
    return x * x


def _coeff_list(coeffs, x: Tensor) -> list:
    if isinstance(coeffs, Tensor):
        if coeffs.ndim != 1:
            raise ValueError(f"polynomial: coeffs must be 1-D, got shape {tuple(coeffs.shape)}")
        if coeffs.dtype != x.dtype:
            coeffs = coeffs.to(x.dtype)
        return [coeffs[k] for k in range(coeffs.shape[0])]
    return [float(c) for c in coeffs]


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Hard tanh (硬双曲正切) clamp(x, min, max); f′ = 1 strictly inside (min, max), else 0 (at NaN too, as PyTorch)."""
    x = _float(input)  # clamp's own gradient is 0 at NaN; the wheres make it 0 at min and max too
    return E.where(x <= min_val, min_val, E.where(x >= max_val, max_val, E.clamp(x, min_val, max_val)))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU6 (截断修正线性单元) min(max(0, x), 6); f′ = 1 on (0, 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Hard sigmoid (硬 S 型函数) relu6(x + 3)/6; f′ = 1/6 on (−3, 3)."""
    x = _float(input)
    return hardtanh(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """Hard swish (硬 swish 函数) x·relu6(x + 3)/6; f′ = 0 (x < −3), x/3 + ½ (|x| ≤ 3), 1 (x > 3)."""
    x = _float(input)
    return x * hardsigmoid(x)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish (Mish 自正则激活) x·tanh(softplus x); f′ = tanh(sp) + x σ(x)(1 − tanh²(sp))."""
    x = _float(input)
    return x * E.tanh(softplus(x))


def softsign(input: Tensor) -> Tensor:
    """Softsign (软符号函数) x/(1 + |x|); f′ = 1/(1 + |x|)²."""
    x = _float(input)
    return x / (E.abs(x) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """Tanh shrink (双曲正切收缩) x − tanh x; f′ = tanh² x."""
    x = _float(input)
    return x - E.tanh(x)


def _zero_but_nan(x: Tensor) -> Tensor:
    """0, or NaN where x is NaN: the shrinkages' dead zone, without a gradient (as PyTorch)."""
    return E.where(E.isnan(x), math.nan, 0.0).to(x.dtype)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Soft shrinkage (软收缩, the proximal map of λ|x|): x ∓ λ outside [−λ, λ], 0 inside; f′ = 1[|x| > λ]
    (0 at NaN, as PyTorch)."""
    x = _float(input)
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found {lambd}")
    return E.where(x > lambd, x - lambd, E.where(x < -lambd, x + lambd, _zero_but_nan(x)))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Hard shrinkage (硬收缩) x where |x| > λ, else 0; f′ = 1[|x| > λ] (0 at NaN, as PyTorch)."""
    x = _float(input)
    return E.where(E.abs(x) > lambd, x, _zero_but_nan(x))


def _scaled(input: Tensor, temperature: float) -> Tensor:
    x = _float(input)
    if temperature <= 0:
        raise ValueError(f"softmax: temperature must be positive, got {temperature}")
    return x if temperature == 1 else x * (1.0 / temperature)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None,
            temperature: float = 1.0) -> Tensor:
    """Softmax (归一化指数函数) with temperature T, Xu eq. 1.38:
    softmax(v)_k = exp(v_k/T) / Σ_i exp(v_i/T) along ``dim``.

    Large T flattens the distribution, small T sharpens it (T → 0: one-hot of the argmax).
    Jacobian ∂s_i/∂v_j = s_i(δ_ij − s_j)/T."""
    x = input if dtype is None else input.to(dtype)
    return R.softmax(_scaled(x, temperature), dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None,
                temperature: float = 1.0) -> Tensor:
    """log softmax(v/T) = v/T − logsumexp(v/T) (对数归一化指数函数); ∂/∂v_j = (δ_ij − s_j)/T."""
    x = input if dtype is None else input.to(dtype)
    return R.log_softmax(_scaled(x, temperature), dim)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmin(x) = softmax(−x) (软最小函数)."""
    x = input if dtype is None else input.to(dtype)
    return R.softmax(-_float(x), dim)


# ------------------------------------------------------------------ derivatives in closed form


def _d_step(x, threshold=0.0):
    return x * 0


def _d_zero(x):
    return x * 0


def _ones(x):
    return as_tensor(xp.ones_like(x.array))


def _d_identity(x):
    return _ones(x)


def _d_sigmoid(x):
    s = E.sigmoid(x)
    return s * (1.0 - s)


def _d_tanh(x):
    t = E.tanh(x)
    return 1.0 - t * t


def _d_arctan(x):
    return 1.0 / (x * x + 1.0)


def _d_relu(x):
    return (x > 0).to(x.dtype)


def _d_leaky_relu(x, negative_slope=0.01):
    return E.where(x > 0, _ones(x), negative_slope)


def _d_prelu(x, weight):
    w = _prelu_weight(weight, x)
    return E.where(x > 0, _ones(x), w)


def _d_elu(x, alpha=1.0):
    # f′ = f + α for x ≤ 0 (Nelson), i.e. α eˣ
    return E.where(x > 0, 1.0, elu(x, alpha) + alpha)


def _d_selu(x):
    return E.where(x > 0, SELU_SCALE, E.exp(_negative(x)) * (SELU_SCALE * SELU_ALPHA))


def _d_celu(x, alpha=1.0):
    return E.where(x > 0, 1.0, E.exp(_negative(x) / alpha))


def _d_softplus(x, beta=1.0, threshold=20.0):
    return E.where(x * beta > threshold, 1.0, E.sigmoid(x * beta))


def _d_logsigmoid(x):
    return E.sigmoid(-x)


def _d_silu(x):
    s = E.sigmoid(x)
    return s * (x * (1.0 - s) + 1.0)


def _d_gelu(x, approximate="none"):
    if approximate == "none":
        cdf = (E.erf(x * _SQRT1_2) + 1.0) * 0.5
        pdf = E.exp(x * x * -0.5) * _INV_SQRT_2PI
        return cdf + x * pdf
    t = E.tanh((x + x * x * x * _GELU_C) * _SQRT_2_PI)
    return (t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * _SQRT_2_PI * (x * x * (3 * _GELU_C) + 1.0)


def _d_sin(x):
    return E.cos(x)


def _d_cos(x):
    return -E.sin(x)


def _d_polynomial(x, coeffs=(0.0, 0.0, 1.0)):
    cs = _coeff_list(coeffs, x)
    return polynomial(x, [c * k for k, c in enumerate(cs)][1:])


def _d_square(x):
    return x * 2.0


def _d_hardtanh(x, min_val=-1.0, max_val=1.0):
    return ((x > min_val) & (x < max_val)).to(x.dtype)


def _d_relu6(x):
    return _d_hardtanh(x, 0.0, 6.0)


def _d_hardsigmoid(x):
    return _d_hardtanh(x, -3.0, 3.0) * (1.0 / 6.0)


def _d_hardswish(x):
    return E.where(x < -3.0, 0.0, E.where(x <= 3.0, x * (1.0 / 3.0) + 0.5, 1.0))


def _d_mish(x):
    t = E.tanh(softplus(x))
    return t + x * E.sigmoid(x) * (1.0 - t * t)


def _d_softsign(x):
    d = E.abs(x) + 1.0
    return 1.0 / (d * d)


def _d_tanhshrink(x):
    t = E.tanh(x)
    return t * t


def _d_shrink(x, lambd=0.5):
    return (E.abs(x) > lambd).to(x.dtype)


def _softmax_jacobian(x, dim=-1, temperature=1.0, log=False):
    x = _float(x)
    d = dim % x.ndim if x.ndim else 0
    s = R.softmax(_scaled(x, temperature), d).movedim(d, -1)
    n = s.shape[-1]
    eye = as_tensor(xp.eye(n, dtype=s.dtype))
    if log:  # ∂ log s_i / ∂v_j = (δ_ij − s_j)/T
        jac = eye - s.unsqueeze(-2)
    else:  # ∂ s_i / ∂v_j = s_i(δ_ij − s_j)/T
        jac = s.unsqueeze(-1) * eye - s.unsqueeze(-1) * s.unsqueeze(-2)
    return jac * (1.0 / temperature) if temperature != 1 else jac


def _d_softmax(x, dim=-1, temperature=1.0):
    return _softmax_jacobian(x, dim, temperature)


def _d_log_softmax(x, dim=-1, temperature=1.0):
    return _softmax_jacobian(x, dim, temperature, log=True)


#: name → (function, closed-form derivative); the lab iterates over this table.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "step": (step, _d_step),
    "sign": (sign, _d_zero),
    "identity": (identity, _d_identity),
    "sigmoid": (sigmoid, _d_sigmoid),
    "logistic": (sigmoid, _d_sigmoid),
    "tanh": (tanh, _d_tanh),
    "arctan": (arctan, _d_arctan),
    "relu": (relu, _d_relu),
    "leaky_relu": (leaky_relu, _d_leaky_relu),
    "prelu": (prelu, _d_prelu),
    "elu": (elu, _d_elu),
    "selu": (selu, _d_selu),
    "celu": (celu, _d_celu),
    "softplus": (softplus, _d_softplus),
    "logsigmoid": (logsigmoid, _d_logsigmoid),
    "silu": (silu, _d_silu),
    "gelu": (gelu, _d_gelu),
    "sin": (sin, _d_sin),
    "cos": (cos, _d_cos),
    "polynomial": (polynomial, _d_polynomial),
    "square": (square, _d_square),
    "hardtanh": (hardtanh, _d_hardtanh),
    "relu6": (relu6, _d_relu6),
    "hardsigmoid": (hardsigmoid, _d_hardsigmoid),
    "hardswish": (hardswish, _d_hardswish),
    "mish": (mish, _d_mish),
    "softsign": (softsign, _d_softsign),
    "tanhshrink": (tanhshrink, _d_tanhshrink),
    "softshrink": (softshrink, _d_shrink),
    "hardshrink": (hardshrink, _d_shrink),
    "softmax": (softmax, _d_softmax),
    "log_softmax": (log_softmax, _d_log_softmax),
}

_ALIASES = {"swish": "silu", "leakyrelu": "leaky_relu", "logsoftmax": "log_softmax", "atan": "arctan",
            "heaviside": "step"}


def _key(name: str) -> str:
    k = name.lower()
    k = _ALIASES.get(k, k)
    if k not in ACTIVATIONS:
        raise ValueError(f"derivative: unknown activation {name!r}; known: {', '.join(sorted(ACTIVATIONS))}")
    return k


def derivative(name_or_module: str | object, x: Tensor, **kwargs) -> Tensor:
    """f′(x) in closed form (导数), for plotting f and f′ (Nelson's list of derivatives).

    ``name_or_module`` is a function name (``'relu'``, ``'leaky_relu'``, ``'gelu'``, ...; module
    class names like ``'LeakyReLU'`` work too) with its keyword arguments in ``kwargs``, or an
    activation module (its own parameters are used). For elementwise activations the result has
    the shape of ``x``; for ``softmax``/``log_softmax`` it is the Jacobian ∂y_i/∂x_j along ``dim``,
    of shape ``x.shape`` with ``dim`` moved last plus one more axis of that size."""
    if not isinstance(name_or_module, str):
        d = getattr(name_or_module, "derivative", None)
        if d is None:
            raise TypeError(f"derivative: {type(name_or_module).__name__} has no closed-form derivative")
        return d(x, **kwargs)
    return ACTIVATIONS[_key(name_or_module)][1](_float(x), **kwargs)
