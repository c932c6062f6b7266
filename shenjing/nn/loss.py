"""Loss modules (损失函数), named as in torch.nn, plus HeteroscedasticGaussianNLLLoss,
LaplaceNLLLoss, PerClassBCELoss and HingeLoss from the notes.

Each wraps the functional form of ``shenjing.nn.functional.loss`` (formulas and likelihood
derivations there); ``weight``/``pos_weight`` are registered as buffers, as in PyTorch.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from .functional import loss as F
from .module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CosineEmbeddingLoss", "CrossEntropyLoss", "GaussianNLLLoss",
    "HeteroscedasticGaussianNLLLoss", "HingeEmbeddingLoss", "HingeLoss", "HuberLoss", "KLDivLoss",
    "L1Loss", "LaplaceNLLLoss", "MSELoss", "MultiMarginLoss", "NLLLoss", "PerClassBCELoss",
    "PoissonNLLLoss", "SmoothL1Loss",
]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F.legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (均方误差) (x − y)². ``scale='half'`` gives the notes' ½ convention:
    1/(2n) Σ (f − y)² with ``reduction='mean'`` (Xu eq. 1.34), ½ Σ with ``'sum'`` (eq. 1.24).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the same shape as the input.
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> loss = nn.MSELoss()
        >>> loss(sj.tensor([1.0, 2.0, 4.0]), sj.tensor([1.0, 0.0, 5.0])).item()
        1.6666666269302368
        >>> nn.MSELoss(scale='half')(sj.tensor([2.0]), sj.tensor([0.0])).item()  # the notes' ½(x − y)²
        2.0
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", scale: str | float | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.scale = scale

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction, weight=weight, scale=self.scale)


class L1Loss(_Loss):
    """Mean absolute error (绝对误差损失) |x − y| (Xu eq. 1.35).

    Shape:
        - Input: (*), any shape.
        - Target: (*), the same shape as the input.
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> loss = nn.L1Loss()
        >>> loss(sj.tensor([1.0, 2.0, 4.0]), sj.tensor([1.0, 0.0, 5.0])).item()
        1.0
    """

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction, weight=weight)


class HuberLoss(_Loss):
    """Huber loss: ½d² for |d| < δ, δ(|d| − ½δ) otherwise.

    Shape:
        - Input: (*), any shape.
        - Target: (*), the same shape as the input.
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> nn.HuberLoss(reduction='none')(sj.tensor([0.5, 3.0]), sj.tensor([0.0, 0.0])).tolist()
        [0.125, 2.5]
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta, weight=weight)


class SmoothL1Loss(_Loss):
    """Smooth L1: ½d²/β for |d| < β, |d| − ½β otherwise.

    Shape:
        - Input: (*), any shape.
        - Target: (*), the same shape as the input.
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> nn.SmoothL1Loss(reduction='none')(sj.tensor([0.5, 3.0]), sj.tensor([0.0, 0.0])).tolist()
        [0.125, 2.5]
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy (二元交叉熵) on probabilities, the Bernoulli NLL (Fang §5.3.1).

    Shape:
        - Input: (*), probabilities in [0, 1].
        - Target: (*), the same shape, values in [0, 1].
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> loss = nn.BCELoss()
        >>> p = sj.sigmoid(sj.randn(3, requires_grad=True))
        >>> loss(p, sj.tensor([0.0, 1.0, 1.0])).shape
        shenjing.Size([])
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, stable (log σ via softplus), with ``pos_weight``.

    Shape:
        - Input: (*), logits.
        - Target: (*), the same shape, values in [0, 1].
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> loss = nn.BCEWithLogitsLoss()
        >>> loss(sj.randn(3), sj.tensor([0.0, 1.0, 1.0])).shape
        shenjing.Size([])
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class PerClassBCELoss(Module):
    """Per-class binary cross-entropy summed over classes, Xu eq. 1.26:
    H = −Σ_i Σ_j [y_ij log ŷ_ij + (1 − y_ij) log(1 − ŷ_ij)]. ``reduction='sum'`` is eq. 1.26,
    ``'mean'`` divides by the number of samples n, ``'none'`` gives the n per-sample sums.
    ``logits=True`` takes pre-sigmoid scores.

    Shape:
        - Input: (N, C), probabilities (or logits with logits=True).
        - Target: (N, C), values in [0, 1].
        - Output: a scalar; with reduction='none', (N,): the sum over the classes.

    Examples:
        >>> nn.PerClassBCELoss(logits=True)(sj.randn(4, 3), sj.tensor([[1.0, 0, 0]] * 4)).shape
        shenjing.Size([])
    """

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean", logits: bool = False) -> None:
        super().__init__()
        self.reduction, self.logits = reduction, logits
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.per_class_binary_cross_entropy(input, target, logits=self.logits, weight=self.weight,
                                                reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, logits={self.logits}"


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy on logits (多分类交叉熵), log-sum-exp form of Fang §5.3.2, with class
    ``weight``, ``ignore_index``, ``label_smoothing`` and index or probability targets.

    Shape:
        - Input: (N, C) logits, (C) unbatched, or (N, C, d_1, ..., d_K).
        - Target: (N) class indices in [0, C) (or (N, d_1, ..., d_K)), or class probabilities of the input's shape.
        - Output: a scalar; with reduction='none', (N) (or (N, d_1, ..., d_K)).

    Examples:
        >>> loss = nn.CrossEntropyLoss()
        >>> loss(sj.randn(3, 5, requires_grad=True), sj.tensor([1, 0, 4])).shape
        shenjing.Size([])
        >>> round(loss(sj.zeros(1, 4), sj.tensor([2])).item(), 6)  # uniform logits: log C
        1.386294
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood (负对数似然) of log-probabilities.

    Shape:
        - Input: (N, C) log-probabilities, (C), or (N, C, d_1, ..., d_K).
        - Target: (N) class indices in [0, C) (or (N, d_1, ..., d_K)).
        - Output: a scalar; with reduction='none', (N) (or (N, d_1, ..., d_K)).

    Examples:
        >>> loss = nn.NLLLoss()
        >>> loss(sj.randn(3, 5).log_softmax(dim=1), sj.tensor([1, 0, 4])).shape
        shenjing.Size([])
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence (KL 散度) KL(q ‖ p), input log p; ``reduction`` also ``'batchmean'``.

    Shape:
        - Input: (*), log-probabilities log p.
        - Target: (*), the same shape: probabilities q (log q with log_target=True).
        - Output: a scalar; with reduction='none', (*) like the input.

    Examples:
        >>> loss = nn.KLDivLoss(reduction='batchmean')
        >>> p = sj.tensor([[0.5, 0.5]])
        >>> loss(p.log(), p).item()  # KL(p ‖ p) = 0
        0.0
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class GaussianNLLLoss(_Loss):
    """Gaussian NLL (高斯负对数似然) ½(log σ² + (y − μ)²/σ²), σ² fixed (float) or learned (tensor).

    Shape:
        - Input: (N, *) means μ.
        - Target: (N, *), the same shape.
        - var: (N, *), (N, *) with one dimension of size 1, or a float (a fixed σ²).
        - Output: a scalar; with reduction='none', (N, *).

    Examples:
        >>> loss = nn.GaussianNLLLoss()
        >>> loss(sj.randn(5, 2), sj.randn(5, 2), sj.ones(5, 2)).shape
        shenjing.Size([])
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class HeteroscedasticGaussianNLLLoss(_Loss):
    """Heteroscedastic regression (异方差回归), Fang §5.2: ``forward(mean, target, scale)`` with
    the two heads μ = f₁(x), σ² = f₂(x)²: ½ log(2π f₂²) + (y − f₁)²/(2 f₂²).

    Shape:
        - mean: (*), target: (*), scale: (*) the predicted standard deviation σ(x) > 0, all the same shape.
        - Output: a scalar; with reduction='none', (*).

    Examples:
        >>> loss = nn.HeteroscedasticGaussianNLLLoss()
        >>> loss(sj.zeros(4), sj.zeros(4), sj.ones(4)).item()  # ½ log 1 + 0
        0.0
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, scale: Tensor) -> Tensor:
        return F.heteroscedastic_gaussian_nll_loss(input, target, scale, full=self.full, eps=self.eps,
                                                   reduction=self.reduction)


class LaplaceNLLLoss(_Loss):
    """Laplace NLL (拉普拉斯负对数似然) log b + |y − μ|/b (+ log 2 if ``full``), Xu §1.8.2.

    Shape:
        - Input: (*) the location μ.
        - Target: (*), the same shape.
        - scale: (*) or a float, the scale b > 0.
        - Output: a scalar; with reduction='none', (*).

    Examples:
        >>> nn.LaplaceNLLLoss()(sj.zeros(3), sj.tensor([1.0, -1.0, 0.0]), 1.0).item()  # mean |y − μ|/b + log b
        0.6666666865348816
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, scale: Tensor | float = 1.0) -> Tensor:
        return F.laplace_nll_loss(input, target, scale, full=self.full, eps=self.eps, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson NLL e^x − y x (log_input) or x − y log(x + eps).

    Shape:
        - Input: (*) log-rates (or rates with log_input=False).
        - Target: (*) counts, the same shape.
        - Output: a scalar; with reduction='none', (*).

    Examples:
        >>> nn.PoissonNLLLoss()(sj.zeros(2), sj.tensor([1.0, 2.0])).item()  # e⁰ − y·0
        1.0
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x for y = 1, max(0, margin − x) for y = −1.

    Shape:
        - Input: (*) distances x.
        - Target: (*) labels y ∈ {−1, 1}, the same shape.
        - Output: a scalar; with reduction='none', (*).

    Examples:
        >>> nn.HingeEmbeddingLoss(reduction='none')(sj.tensor([0.3, 0.3]), sj.tensor([1.0, -1.0])).tolist()
        [0.30000001192092896, 0.699999988079071]
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class HingeLoss(_Loss):
    """Binary SVM hinge max(0, margin − y·x), y ∈ {−1, 1}; ``margin=0`` is the perceptron criterion.

    Shape:
        - Input: (*) scores x.
        - Target: (*) labels y ∈ {−1, 1}, the same shape.
        - Output: a scalar; with reduction='none', (*).

    Examples:
        >>> nn.HingeLoss(reduction='none')(sj.tensor([2.0, 0.5, -1.0]), sj.tensor([1.0, 1.0, 1.0])).tolist()
        [0.0, 0.5, 2.0]
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge (多类合页损失) Σ_{i≠y} w_y max(0, margin − x_y + x_i)^p / C.

    Shape:
        - Input: (N, C) or (C) scores.
        - Target: (N) or () class indices in [0, C).
        - Output: a scalar; with reduction='none', (N).

    Examples:
        >>> nn.MultiMarginLoss()(sj.tensor([[0.1, 0.2, 0.4, 0.8]]), sj.tensor([3])).item()
        0.32499998807907104
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None, size_average=None,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """1 − cos(x₁, x₂) for y = 1, max(0, cos − margin) for y = −1.

    Shape:
        - Input1: (N, D) or (D).
        - Input2: (N, D) or (D), the same shape.
        - Target: (N) or () labels y ∈ {−1, 1}.
        - Output: a scalar; with reduction='none', (N).

    Examples:
        >>> x = sj.tensor([[1.0, 0.0]])
        >>> nn.CosineEmbeddingLoss()(x, x, sj.tensor([1.0])).item()  # 1 − cos(x, x)
        0.0
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)
