"""Loss functions (损失函数), stateless forms, each a negative log-likelihood where one exists.

Fang ch. 5 builds every loss from a likelihood (最大似然, 负对数似然): choose Pr(y|θ), let the
network predict θ, minimise −Σ log Pr(y_i|f(x_i)). Then

* Gaussian with fixed σ  → ½Σ(y − f)²/σ² + const (MSE, Xu eq. 1.34, Fang §5.2);
* Gaussian with σ² = f₂(x)² → heteroscedastic regression (异方差回归, Fang §5.2);
* Laplace → Σ|y − f|/b + const (MAE, Xu §1.8.2);
* Bernoulli with λ = σ(f) → binary cross-entropy (二元交叉熵, Fang §5.3.1, Xu eq. 1.37);
* categorical with λ = softmax(f) → cross-entropy −f_y + log Σ exp f (多分类交叉熵, Fang §5.3.2,
  computed in the log-sum-exp form);
* independent outputs → Σ over outputs (Fang §5.4; Xu eq. 1.26's per-class BCE sum).

Every loss takes ``reduction`` = ``'mean'`` | ``'sum'`` | ``'none'`` with PyTorch's meaning.
``cross_entropy`` is one fused Function (log-softmax + NLL; backward (softmax − onehot)·g written
with Tensor ops, so it can be differentiated again).
"""

from __future__ import annotations

import math
import warnings

from ... import backend as B
from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor
from ...ops import elementwise as E
from ...ops import index as I
from ...ops.loss import BinaryCrossEntropy, CrossEntropy
from .activation import logsigmoid

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "cross_entropy",
    "gaussian_nll_loss", "heteroscedastic_gaussian_nll_loss", "hinge_embedding_loss", "hinge_loss",
    "huber_loss", "kl_div", "l1_loss", "laplace_nll_loss", "mse_loss", "multi_margin_loss", "nll_loss",
    "per_class_binary_cross_entropy", "poisson_nll_loss", "smooth_l1_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ helpers


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """The deprecated ``size_average``/``reduce`` pair mapped to ``reduction`` (as PyTorch)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def _check_reduction(reduction: str, allowed=_REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction (expected one of {', '.join(allowed)})")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _tensor(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    dt = like.dtype if like is not None else None
    return Tensor(x, dtype=dt)


def _floats(input: Tensor, target: Tensor, op: str):
    """Input and target as tensors of one floating dtype (a float target follows the input)."""
    input = _tensor(input)
    target = _tensor(target, input)
    if input.array.dtype.kind not in "fc":
        input = input.to(B.get_default_dtype())
    if target.array.dtype != input.array.dtype:
        target = target.to(input.dtype)
    return input, target


def _warn_size(input: Tensor, target: Tensor, op: str) -> None:
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(
            f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _scale(scale) -> float:
    """MSELoss's ``scale``: 'half' (the ½ of Xu eq. 1.24/1.34), 'standard'/None, or a number."""
    if scale is None or scale == "standard":
        return 1.0
    if scale == "half":
        return 0.5
    if isinstance(scale, str):
        raise ValueError(f"mse_loss: scale must be 'standard', 'half' or a number, got {scale!r}")
    return float(scale)


def _weighted_sum_mean(loss: Tensor, weight, input: Tensor, reduction: str) -> Tensor:
    """torch's per-element ``weight`` of mse/l1: mean = Σ w·ℓ / Σ w."""
    weight = _tensor(weight, input)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ regression


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None, scale: str | float | None = None) -> Tensor:
    """Mean squared error (均方误差, L2 loss): ℓ = (x − y)², then the reduction.

    ``scale='half'`` multiplies by ½: with ``reduction='mean'`` that is R = 1/(2n) Σ (f − y)² of
    Xu eq. 1.34, with ``reduction='sum'`` the ½ Σ (Y − Ŷ)² of eq. 1.24 (the ½ cancels the 2
    of the derivative). It is the Gaussian NLL with σ = 1 up to the constant (n/2) log 2π."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _floats(input, target, "mse_loss")
    _warn_size(input, target, "mse_loss")
    d = input - target
    loss = d * d
    c = _scale(scale)
    if c != 1.0:
        loss = loss * c
    if weight is not None:
        return _weighted_sum_mean(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error (绝对误差损失, MAE, L1 loss) |x − y| (Xu eq. 1.35): the Laplace NLL
    with b = 1 up to a constant."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _floats(input, target, "l1_loss")
    _warn_size(input, target, "l1_loss")
    loss = E.abs(input - target)
    if weight is not None:
        return _weighted_sum_mean(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def _huber(d: Tensor, delta: float) -> Tensor:
    """c(d − ½c) with c = clamp(d, −δ, δ): ½d² inside, δ(|d| − ½δ) outside, in PyTorch's roundings; its
    gradient is c itself (a where, not a product with a 0/1 mask, so d = ±∞ gives ±δ and NaN gives NaN)."""
    c = E.clamp(d, -delta, delta)
    return c * (d - c * 0.5)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Huber loss (Huber 损失): ½d² for |d| < δ, δ(|d| − ½δ) otherwise (d = x − y); quadratic near
    0, linear (robust to outliers) far away."""
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target = _floats(input, target, "huber_loss")
    _warn_size(input, target, "huber_loss")
    loss = _huber(input - target, delta)
    if weight is not None:
        weight = _tensor(weight, input)
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1: ½d²/β for |d| < β, |d| − ½β otherwise (= huber_loss/β; β = 0 gives L1)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _floats(input, target, "smooth_l1_loss")
    _warn_size(input, target, "smooth_l1_loss")
    return _reduce(_huber(input - target, beta) / beta, reduction)


def _clamp_var(var: Tensor, eps: float) -> Tensor:
    """var clamped to ≥ eps in value while the gradient passes unchanged (PyTorch clamps in no_grad)."""
    low = var.array < eps
    if not low.any():
        return var
    return var + as_tensor(xp.where(low, eps - var.array, 0))


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood (高斯负对数似然), Fang §5.2:
    ℓ = ½(log σ² + (y − μ)²/σ²) (+ ½ log 2π if ``full``), μ = ``input``, σ² = ``var``.

    ``var`` is a float (fixed σ², then ℓ = MSE/(2σ²) + const), one per sample (shape of
    ``input`` without its last dim, or with it 1: homoscedastic per sample) or one per
    element (heteroscedastic). It is clamped to ≥ ``eps`` (the gradient passes through)."""
    _check_reduction(reduction)
    input, target = _floats(input, target, "gaussian_nll_loss")
    if not isinstance(var, Tensor):
        v = float(var)
        if v < 0:
            raise ValueError("var has negative entry/entries")
        var = as_tensor(xp.full(input.shape, v, dtype=input.array.dtype))
    else:
        if (var.array < 0).any():
            raise ValueError("var has negative entry/entries")
        if var.array.dtype != input.array.dtype:
            var = var.to(input.dtype)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1:
            pass
        else:
            raise ValueError(f"var is of incorrect size {tuple(var.shape)} for input {tuple(input.shape)}")
    var = _clamp_var(var, eps)
    d = input - target
    loss = (E.log(var) + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def heteroscedastic_gaussian_nll_loss(input: Tensor, target: Tensor, scale: Tensor, full: bool = False,
                                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Heteroscedastic regression (异方差回归), Fang §5.2: the network has two heads, the mean
    μ = f₁(x) (``input``) and f₂(x) (``scale``), with σ² = f₂(x)², and

        ℓ = −log N(y; f₁, f₂²) = ½ log(2π f₂²) + (y − f₁)²/(2 f₂²)

    (``full=True`` keeps the ½ log 2π). Any real f₂ is allowed (σ = |f₂|); σ² is clamped to
    ≥ ``eps`` as in ``gaussian_nll_loss``."""
    scale = _tensor(scale, _tensor(input))
    return gaussian_nll_loss(input, target, scale * scale, full=full, eps=eps, reduction=reduction)


def laplace_nll_loss(input: Tensor, target: Tensor, scale: Tensor | float = 1.0, full: bool = False,
                     eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Laplace negative log-likelihood (拉普拉斯负对数似然), Xu §1.8.2:
    p(y) = exp(−|y − μ|/b)/(2b), ℓ = log b + |y − μ|/b (+ log 2 if ``full``).

    With fixed b it is MAE/b + const; b (``scale``, float or tensor broadcastable to ``input``,
    e.g. a learned head) is clamped to ≥ ``eps`` with the gradient passing through."""
    _check_reduction(reduction)
    input, target = _floats(input, target, "laplace_nll_loss")
    if not isinstance(scale, Tensor):
        if scale <= 0:
            raise ValueError(f"laplace_nll_loss: scale must be positive, got {scale}")
        b = float(max(scale, eps))
        loss = E.abs(input - target) * (1.0 / b) + math.log(b)
    else:
        if (scale.array < 0).any():
            raise ValueError("laplace_nll_loss: scale has negative entry/entries")
        if scale.array.dtype != input.array.dtype:
            scale = scale.to(input.dtype)
        scale = _clamp_var(scale, eps)
        loss = E.log(scale) + E.abs(input - target) / scale
    if full:
        loss = loss + math.log(2.0)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood (泊松负对数似然): ℓ = e^x − y x (``log_input``) or
    x − y log(x + eps); ``full`` adds Stirling's y log y − y + ½ log(2πy) for y > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _floats(input, target, "poisson_nll_loss")
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:  # as PyTorch, a masked composite: its target gradient is NaN at y ≤ 0 (0·log 0)
        stirling = target * E.log(target) - target + E.log(target * (2 * math.pi)) * 0.5
        loss = loss + E.where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ binary classification


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy (二元交叉熵) on probabilities, Xu eq. 1.25/1.37, Fang §5.3.1:
    ℓ = −w[y log x + (1 − y) log(1 − x)], the Bernoulli NLL. log is clamped to ≥ −100 (PyTorch).

    Prefer ``binary_cross_entropy_with_logits`` on logits: it never forms log σ(z) by subtraction."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _floats(input, target, "binary_cross_entropy")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size."
        )
    for name, t in (("input", input), ("target", target)):
        if not ((t.array >= 0) & (t.array <= 1)).all():  # NaN too
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits z (稳定的二元交叉熵), Fang §5.3.1 with λ = σ(z):
    ℓ = −w[p_w y log σ(z) + (1 − y) log(1 − σ(z))] = w[(1 − y) z − (1 + (p_w − 1) y) log σ(z)],
    with log σ computed stably (no overflow for any z). ``pos_weight`` p_w weights the positives
    (broadcast along the last dim, one per class)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _floats(input, target, "binary_cross_entropy_with_logits")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size ({tuple(input.shape)})")
    ls = logsigmoid(input)
    if pos_weight is not None:
        lw = (_tensor(pos_weight, input) - 1.0) * target + 1.0
        loss = (1.0 - target) * input - lw * ls
    else:
        loss = (1.0 - target) * input - ls
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction)


def per_class_binary_cross_entropy(input: Tensor, target: Tensor, logits: bool = False,
                                   weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Per-class binary cross-entropy sum (逐类二元交叉熵之和), Xu §1.6 eq. 1.26:

        H = −Σ_i Σ_j [y_ij log ŷ_ij + (1 − y_ij) log(1 − ŷ_ij)]

    for n samples (dim 0) and C classes (the other dims): each class is an independent Bernoulli
    output (Fang §5.4), so the per-sample loss is the *sum* over classes. ``reduction='sum'``
    is eq. 1.26 itself, ``'mean'`` divides by n (not n·C, unlike ``binary_cross_entropy``),
    ``'none'`` gives the n per-sample sums. ``logits=True`` takes pre-sigmoid scores (stable)."""
    _check_reduction(reduction)
    if logits:
        loss = binary_cross_entropy_with_logits(input, target, weight=weight, reduction="none")
    else:
        loss = binary_cross_entropy(input, target, weight=weight, reduction="none")
    if loss.ndim >= 2:
        loss = loss.sum(dim=tuple(range(1, loss.ndim)))
    elif loss.ndim == 1:
        loss = loss.sum()
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ multi-class classification


def _class_targets(input: Tensor, target: Tensor, op: str, ignore_index: int):
    """Validate index targets: shapes (N, C, d…) vs (N, d…), values in [0, C) or ignore_index.
    Returns (target array with ignored entries set to 0, mask of counted positions or None if all
    count)."""
    t = target.array
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected target of an integer dtype (class indices), got {target.dtype}")
    want = (input.shape[0],) + tuple(input.shape[2:])
    if t.shape != want:
        raise ValueError(f"{op}: Expected target size {want}, got {tuple(t.shape)} (input {tuple(input.shape)})")
    c = input.shape[1]
    if t.size == 0:
        return t, None
    lo, hi = t.min(), t.max()
    if lo >= 0 and hi < c and not 0 <= ignore_index < c:  # the common case: nothing ignored
        return t, None
    ignored = t == ignore_index
    bad = ((t < 0) | (t >= c)) & ~ignored
    if bad.any():
        raise IndexError(f"{op}: Target {int(t[bad].reshape(-1)[0])} is out of bounds (number of classes {c}).")
    if ignored.any():
        return xp.where(ignored, 0, t), ~ignored
    return t, None


def _selector(t, ndim: int) -> tuple:
    """The advanced index picking z[n, t[n, d…], d…] from (N, C, d…) logits: positions × class."""
    if ndim == 2:
        return (xp.arange(t.shape[0]), t)
    k = t.ndim
    parts = []
    for j, n in enumerate(t.shape):
        shape = [1] * k
        shape[j] = n
        parts.append(xp.arange(n).reshape(shape))
    return (parts[0], t) + tuple(parts[1:])


def _unbatched(input: Tensor, target: Tensor, op: str, probs: bool):
    """(C,) input with a () index target or (C,) probability target → batch of one."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (classes), got a scalar")
    if input.ndim == 1:
        if probs:
            return input.unsqueeze(0), target.unsqueeze(0), True
        if target.ndim != 0:
            raise ValueError(f"{op}: for a 1-D input (C,) the class-index target must be 0-D, got {tuple(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), True
    return input, target, False


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Categorical cross-entropy on logits (多分类交叉熵), Fang §5.3.2, in log-sum-exp form:

        ℓ_n = −w_{y_n} [z_{n,y_n} − log Σ_k exp z_{n,k}]

    the NLL of the categorical distribution λ = softmax(z). ``input`` is (N, C), (N, C, d₁, …) or
    (C,); ``target`` holds class indices (N,), (N, d₁, …) — or class probabilities of the shape of
    ``input``. ``weight`` (C,) weights the classes; positions with target ``ignore_index`` count
    for nothing; ``label_smoothing`` ε mixes the target with the uniform distribution:
    (1 − ε)·onehot + ε/C. ``'mean'`` divides by Σ_n w_{y_n} over counted positions (index targets)
    or by the number of positions (probability targets), as PyTorch.

    One fused Function: forward log-sum-exp, backward (softmax − onehot)·g."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy: expected a floating input (logits), got {input.dtype}")
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    probs = target.array.dtype.kind == "f"
    x, t, unbatched = _unbatched(input, target, "cross_entropy", probs)
    n_cls = x.shape[1]
    dt = x.array.dtype
    w = None
    if weight is not None:
        wa = _tensor(weight).array.astype(dt, copy=False)
        if wa.shape != (n_cls,):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                               f"{n_cls} classes or no classes but got weight tensor of shape: {tuple(wa.shape)}")
        w = wa.reshape((1, n_cls) + (1,) * (x.ndim - 2))
    eps = float(label_smoothing)
    if probs:
        if tuple(t.shape) != tuple(x.shape):
            raise ValueError(f"cross_entropy: probability targets must have the input's shape {tuple(x.shape)}, got {tuple(t.shape)}")
        if t.array.dtype != dt:
            t = t.to(dt)
        denom = x.numel() / n_cls if x.numel() else 0.0
        out = CrossEntropy.apply(x, t, sel=None, coef=None, dense=None, w=w, smooth=eps, denom=denom, reduction=reduction)
    else:
        ta, mask = _class_targets(x, t, "cross_entropy", ignore_index)
        sel = _selector(ta, x.ndim)
        coef = None
        if w is not None:
            coef = w.reshape(-1)[ta]
        if mask is not None:
            coef = mask.astype(dt) if coef is None else coef * mask
        denom = float(coef.sum()) if coef is not None else float(ta.size)
        dense = None
        if eps:
            # (1 − ε)·NLL + ε/C · Σ_c w_c (−log p_c), both over the same denominator (PyTorch)
            base = xp.ones((1, n_cls) + (1,) * (x.ndim - 2), dtype=dt) if w is None else w
            dense = base * (eps / n_cls)
            if mask is not None:
                dense = dense * mask.reshape(mask.shape[:1] + (1,) + mask.shape[1:])
            else:
                dense = xp.broadcast_to(dense, x.shape)
            coef = (1.0 - eps) * (coef if coef is not None else xp.ones(ta.shape, dtype=dt))
        out = CrossEntropy.apply(x, sel=sel, coef=coef, dense=dense, w=w, smooth=eps, denom=denom, reduction=reduction)
    if unbatched and reduction == "none":
        out = out.reshape(())
    return out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood (负对数似然) of log-probabilities: ℓ_n = −w_{y_n} input[n, y_n].

    ``cross_entropy(z, y) = nll_loss(log_softmax(z), y)``. Shapes, ``weight``, ``ignore_index``
    and the weighted mean as in ``cross_entropy``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _tensor(input), _tensor(target)
    x, t, unbatched = _unbatched(input, target, "nll_loss", False)
    dt = x.array.dtype
    ta, mask = _class_targets(x, t, "nll_loss", ignore_index)
    idx = xp.expand_dims(ta, 1)
    coef = None
    if weight is not None:
        wa = _tensor(weight).array.astype(dt, copy=False)
        if wa.shape != (x.shape[1],):
            raise RuntimeError(f"nll_loss: weight tensor should be defined either for all "
                               f"{x.shape[1]} classes or no classes but got weight tensor of shape: {tuple(wa.shape)}")
        coef = wa[ta]
    if mask is not None:
        coef = mask.astype(dt) if coef is None else coef * mask
    picked = I.gather(x, 1, as_tensor(idx)).squeeze(1)
    loss = -picked if coef is None else picked * as_tensor(-coef.astype(dt, copy=False))
    if reduction == "none":
        return loss.reshape(()) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    denom = float(coef.sum()) if coef is not None else float(ta.size)
    return loss.sum() / denom if denom else loss.sum() * float("nan")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback–Leibler divergence (KL 散度) KL(q ‖ p) with ``input`` = log p and ``target`` = q
    (or log q if ``log_target``): ℓ = q (log q − log p), 0 where q = 0.

    Xu §1.8.3 / Fang §5.5: not symmetric, so not a distance; minimising it over p is
    minimising the cross-entropy H(q, p). ``'batchmean'`` divides the sum by the batch size (the
    mathematical KL); ``'mean'`` averages over every element (PyTorch's default)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, _REDUCTIONS + ("batchmean",))
    input, target = _floats(input, target, "kl_div")
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        loss = E.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ margins


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """Hinge embedding loss (合页嵌入损失): x for y = 1, max(0, margin − x) for y = −1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _floats(input, target, "hinge_embedding_loss")
    margin_clamp = E.clamp(margin - input, min=0.0)
    out_margin = E.where(target != 1, margin_clamp, 0.0)
    out_self = E.where(target != -1, input, 0.0)
    return _reduce(out_margin + out_self, reduction)


def hinge_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Binary hinge loss (合页损失) of the linear SVM: max(0, margin − y·x) with y ∈ {−1, +1}.

    ``margin=0`` is the perceptron criterion max(0, −y·x) (感知机准则): its gradient −y·x only on
    misclassified points gives the perceptron rule w ← w + η y x (Xu §1.12 eq. 1.74, with the sign corrected)."""
    _check_reduction(reduction)
    input, target = _floats(input, target, "hinge_loss")
    return _reduce(E.relu(margin - target * input), reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (多类合页损失, Weston–Watkins / Crammer–Singer SVM as in PyTorch):
    ℓ_n = Σ_{i ≠ y} w_y max(0, margin − x_y + x_i)^p / C, p ∈ {1, 2}."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    input, target = _tensor(input), _tensor(target)
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    t = target.reshape(1) if unbatched else target
    if x.ndim != 2:
        raise ValueError(f"multi_margin_loss: expected a 1-D or 2-D input, got shape {tuple(input.shape)}")
    ta, _ = _class_targets(x, t, "multi_margin_loss", -(1 << 62))
    idx = as_tensor(xp.expand_dims(ta, 1))
    xy = I.gather(x, 1, idx)
    z = E.relu(x - xy + margin)
    if p == 2:
        z = z * z
    other = xp.ones(x.shape, dtype=x.array.dtype)
    xp.put_along_axis(other, xp.expand_dims(ta, 1), 0, 1)
    if weight is not None:
        other = other * _tensor(weight).array.astype(x.array.dtype)[ta][:, None]
    loss = (z * as_tensor(other)).sum(dim=1) * (1.0 / x.shape[1])
    if unbatched and reduction == "none":
        return loss.reshape(())
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Cosine embedding loss (余弦嵌入损失): 1 − cos(x₁, x₂) for y = 1, max(0, cos − margin) for
    y = −1, cos = x₁·x₂ / √((‖x₁‖² + 1e−12)(‖x₂‖² + 1e−12))."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input1, input2 = _floats(input1, input2, "cosine_embedding_loss")
    target = _tensor(target)
    d = target.ndim
    if input1.ndim != d + 1 or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(
            f"cosine_embedding_loss: inputs must be 1-D or 2-D of one shape with a target of one dim fewer, "
            f"got {tuple(input1.shape)}, {tuple(input2.shape)}, target {tuple(target.shape)}"
        )
    prod = (input1 * input2).sum(dim=d)
    m1 = (input1 * input1).sum(dim=d) + 1e-12
    m2 = (input2 * input2).sum(dim=d) + 1e-12
    cos = prod / E.sqrt(m1 * m2)
    pos = 1.0 - cos
    neg = E.clamp(cos - margin, min=0.0)
    out = E.where(target == 1, pos, 0.0) + E.where(target == -1, neg, 0.0)
    return _reduce(out, reduction)
