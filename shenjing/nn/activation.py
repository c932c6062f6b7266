"""Activation modules (激活函数层), named as in torch.nn, plus the notes' Step, Sign, Arctan, Sin,
Cos, Polynomial and Square.

Every module has ``derivative(x)``: f′(x) in closed form (Nelson ch. 4 lists each activation with
its derivative); see ``shenjing.nn.functional.activation`` for the formulas.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from .functional import activation as F
from .module import Module, Parameter

__all__ = [
    "CELU", "ELU", "GELU", "SELU", "Arctan", "Cos", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
    "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "Polynomial", "ReLU", "ReLU6", "Sigmoid", "Sign",
    "SiLU", "Sin", "Softmax", "Softmin", "Softplus", "Softshrink", "Softsign", "Square", "Step", "Tanh", "Tanhshrink",
    "Hardshrink",
]


class _Activation(Module):
    """An elementwise activation: ``forward`` is the functional form, ``derivative`` its f′."""

    _name: str = ""

    def _kwargs(self) -> dict:
        return {}

    def forward(self, input: Tensor) -> Tensor:
        return F.ACTIVATIONS[self._name][0](input, **self._kwargs())

    def derivative(self, x: Tensor) -> Tensor:
        """f′(x) in closed form (导数)."""
        return F.derivative(self._name, x, **self._kwargs())


class _Inplace(_Activation):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Step(_Activation):
    """Step function (阶跃函数) 1[x ≥ T], Xu eq. 1.1 (threshold T); f′ = 0.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Step()(x).tolist()]
        [0.0, 1.0, 1.0]
    """

    _name = "step"

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        self.threshold = threshold

    def _kwargs(self) -> dict:
        return {"threshold": self.threshold}

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}"


class Sign(_Activation):
    """Sign function (符号函数) of the perceptron, values −1/0/1; f′ = 0.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Sign()(x).tolist()]
        [-1.0, 0.0, 1.0]
    """

    _name = "sign"


class Sigmoid(_Activation):
    """Sigmoid / logistic (逻辑函数) σ(x) = 1/(1 + e^(−x)); f′ = σ(1 − σ). Xu §1.7, Fang §4.1.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Sigmoid()(x).tolist()]
        [0.1192, 0.5, 0.8176]
    """

    _name = "sigmoid"


class Tanh(_Activation):
    """Hyperbolic tangent (双曲正切); f′ = 1 − tanh².

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Tanh()(x).tolist()]
        [-0.964, 0.0, 0.9051]
    """

    _name = "tanh"


class Arctan(_Activation):
    """Arctangent (反正切函数); f′ = 1/(1 + x²). Nelson ch. 4.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Arctan()(x).tolist()]
        [-1.1071, 0.0, 0.9828]
    """

    _name = "arctan"


class ReLU(_Inplace):
    """Rectified linear unit (修正线性单元) max(0, x); f′ = 1[x > 0]. ``inplace`` overwrites the input.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.ReLU()(x).tolist()]
        [0.0, 0.0, 1.5]
    """

    _name = "relu"

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)


class ReLU6(_Inplace):
    """min(max(0, x), 6); f′ = 1 on (0, 6).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.ReLU6()(x).tolist()]
        [0.0, 0.0, 1.5]
    """

    _name = "relu6"


class LeakyReLU(_Activation):
    """Leaky ReLU (泄漏修正线性单元) max(0, x) + a·min(0, x); f′ = 1 (x > 0), a (x ≤ 0). Xu §1.7.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.LeakyReLU(0.1)(x).tolist()]
        [-0.2, 0.0, 1.5]
    """

    _name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def _kwargs(self) -> dict:
        return {"negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Parametric ReLU (参数化修正线性单元): a learnable slope a for x < 0, one shared
    (``num_parameters=1``) or one per channel (dim 1), initialised to ``init`` = 0.25.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.PReLU()(x).tolist()]
        [-0.5, 0.0, 1.5]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        dt = B.get_default_dtype() if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.full(num_parameters, init, dtype=dt))

    def reset_parameters(self) -> None:
        with self.weight.inplace() as w:
            w[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def derivative(self, x: Tensor) -> Tensor:
        """∂f/∂x = 1 for x > 0, a otherwise."""
        return F.derivative("prelu", x, weight=self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(_Activation):
    """Exponential linear unit (指数线性单元); f′ = 1 (x > 0), f + α (x ≤ 0) (Nelson ch. 4).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.ELU()(x).tolist()]
        [-0.8647, 0.0, 1.5]
    """

    _name = "elu"

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def _kwargs(self) -> dict:
        return {"alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """Continuously differentiable ELU; f′ = 1 (x > 0), e^(x/α) otherwise.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.CELU()(x).tolist()]
        [-0.8647, 0.0, 1.5]
    """

    _name = "celu"


class SELU(_Inplace):
    """Scaled ELU (自归一化指数线性单元) λ·elu(x, α), α ≈ 1.6733, λ ≈ 1.0507.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.SELU()(x).tolist()]
        [-1.5202, 0.0, 1.5761]
    """

    _name = "selu"


class Softplus(_Activation):
    """Softplus (软加函数) (1/β) ln(1 + e^(βx)); f′ = σ(βx) (Nelson ch. 4). Linear above threshold.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Softplus()(x).tolist()]
        [0.1269, 0.6931, 1.7014]
    """

    _name = "softplus"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def _kwargs(self) -> dict:
        return {"beta": self.beta, "threshold": self.threshold}

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(_Activation):
    """log σ(x), stable; f′ = 1 − σ(x).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.LogSigmoid()(x).tolist()]
        [-2.1269, -0.6931, -0.2014]
    """

    _name = "logsigmoid"


class SiLU(_Inplace):
    """SiLU / swish x·σ(x), Xu §1.7 Example 1.5; f′ = σ(1 + x(1 − σ)).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.SiLU()(x).tolist()]
        [-0.2384, 0.0, 1.2264]
    """

    _name = "silu"


class GELU(_Activation):
    """Gaussian error linear unit (高斯误差线性单元) xΦ(x) (exact, via erf) or its tanh
    approximation; Xu §1.7 Example 1.7.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.GELU()(x).tolist()]
        [-0.0455, 0.0, 1.3998]
    """

    _name = "gelu"

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def _kwargs(self) -> dict:
        return {"approximate": self.approximate}

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sin(_Activation):
    """sin x (正弦激活), Xu §1.7 Example 1.3; f′ = cos x.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Sin()(x).tolist()]
        [-0.9093, 0.0, 0.9975]
    """

    _name = "sin"


class Cos(_Activation):
    """cos x (余弦激活), Xu §1.7 Example 1.3; f′ = −sin x.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Cos()(x).tolist()]
        [-0.4161, 1.0, 0.0707]
    """

    _name = "cos"


class Polynomial(Module):
    """Polynomial activation (多项式激活) p(x) = Σ_k c_k x^k, coefficients from degree 0 up
    (default x²). Xu Remark 2: a two-layer net with it is a polynomial of the same degree,
    hence not a universal approximator. ``learnable=True`` makes the coefficients a Parameter.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Polynomial((1.0, 0.0, 0.5))(x).tolist()]
        [3.0, 1.0, 2.125]
    """

    def __init__(self, coeffs: Sequence[float] = (0.0, 0.0, 1.0), learnable: bool = False, dtype=None) -> None:
        super().__init__()
        dt = B.get_default_dtype() if dtype is None else xp.dtype(dtype)
        arr = xp.asarray(coeffs, dtype=dt).reshape(-1)
        if learnable:
            self.coeffs = Parameter(arr)
        else:
            self.register_buffer("coeffs", as_tensor(arr))

    def _c(self, x: Tensor):
        if self.coeffs.requires_grad:
            return self.coeffs
        return self.coeffs.tolist()

    def forward(self, input: Tensor) -> Tensor:
        return F.polynomial(input, self._c(input))

    def derivative(self, x: Tensor) -> Tensor:
        """p′(x) = Σ_k k c_k x^(k−1)."""
        return F.derivative("polynomial", x, coeffs=self._c(x))

    def extra_repr(self) -> str:
        return "coeffs=" + str([float(c) for c in self.coeffs.array])


class Square(_Activation):
    """x² (平方激活), the quadratic activation of Xu Remark 2; f′ = 2x.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Square()(x).tolist()]
        [4.0, 0.0, 2.25]
    """

    _name = "square"


class Hardtanh(_Activation):
    """clamp(x, min_val, max_val); f′ = 1 strictly inside.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Hardtanh()(x).tolist()]
        [-1.0, 0.0, 1.0]
    """

    _name = "hardtanh"

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def _kwargs(self) -> dict:
        return {"min_val": self.min_val, "max_val": self.max_val}

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Hardsigmoid(_Inplace):
    """relu6(x + 3)/6.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Hardsigmoid()(x).tolist()]
        [0.1667, 0.5, 0.75]
    """

    _name = "hardsigmoid"


class Hardswish(_Inplace):
    """x·relu6(x + 3)/6.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Hardswish()(x).tolist()]
        [-0.3333, 0.0, 1.125]
    """

    _name = "hardswish"


class Mish(_Inplace):
    """x·tanh(softplus x).

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Mish()(x).tolist()]
        [-0.2525, 0.0, 1.4034]
    """

    _name = "mish"


class Softsign(_Activation):
    """x/(1 + |x|); f′ = 1/(1 + |x|)².

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Softsign()(x).tolist()]
        [-0.6667, 0.0, 0.6]
    """

    _name = "softsign"


class Tanhshrink(_Activation):
    """x − tanh x (双曲正切收缩); f′ = tanh² x.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Tanhshrink()(x).tolist()]
        [-1.036, 0.0, 0.5949]
    """

    _name = "tanhshrink"


class _Shrink(_Activation):
    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def _kwargs(self) -> dict:
        return {"lambd": self.lambd}

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(_Shrink):
    """Soft shrinkage (软收缩) x ∓ λ outside [−λ, λ], 0 inside; f′ = 1[|x| > λ].

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Softshrink()(x).tolist()]
        [-1.5, 0.0, 1.0]
    """

    _name = "softshrink"


class Hardshrink(_Shrink):
    """Hard shrinkage (硬收缩) x where |x| > λ, else 0; f′ = 1[|x| > λ].

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape (elementwise).

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Hardshrink()(x).tolist()]
        [-2.0, 0.0, 1.5]
    """

    _name = "hardshrink"


class Softmax(_Activation):
    """Softmax (归一化指数函数) along ``dim`` with temperature T, Xu eq. 1.38:
    exp(v_k/T)/Σ_i exp(v_i/T). ``derivative`` gives the Jacobian s_i(δ_ij − s_j)/T.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape, normalised along dim.

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Softmax(dim=0)(x).tolist()]
        [0.0241, 0.178, 0.7979]
    """

    _name = "softmax"

    def __init__(self, dim: int | None = None, temperature: float = 1.0) -> None:
        super().__init__()
        self.dim, self.temperature = dim, temperature

    def _kwargs(self) -> dict:
        return {"dim": self.dim, "temperature": self.temperature}

    def derivative(self, x: Tensor) -> Tensor:
        from ..ops.reduce import softmax_dim

        dim = softmax_dim(x, self.dim, self._name)
        return F.derivative(self._name, x, dim=dim, temperature=self.temperature)

    def extra_repr(self) -> str:
        return f"dim={self.dim}" + (f", temperature={self.temperature}" if self.temperature != 1 else "")


class LogSoftmax(Softmax):
    """log softmax(v/T) along ``dim``; Jacobian (δ_ij − s_j)/T.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape, normalised along dim.

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.LogSoftmax(dim=0)(x).tolist()]
        [-3.7258, -1.7258, -0.2258]
    """

    _name = "log_softmax"


class Softmin(_Activation):
    """softmax(−x) along ``dim``.

    Shape:
        - Input: (*), any shape.
        - Output: (*), the same shape, normalised along dim.

    Examples:
        >>> x = sj.tensor([-2.0, 0.0, 1.5])
        >>> [round(v, 4) for v in nn.Softmin(dim=0)(x).tolist()]
        [0.858, 0.1161, 0.0259]
    """

    _name = "softmin"

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)

    def derivative(self, x: Tensor) -> Tensor:
        """The Jacobian of softmax(−x): −J_softmax(−x)."""
        from ..ops.reduce import softmax_dim

        return -F.derivative("softmax", -x, dim=softmax_dim(x, self.dim, "softmin"))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
