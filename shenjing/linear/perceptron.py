"""Threshold neurons, the perceptron and ADALINE: the linear classifiers of the 1940s–60s.

* McCulloch–Pitts threshold unit (M-P 神经元, 阈值单元, 1943): y = 1[wᵀx + b ≥ T] (Xu eq. 1.1, 1.8);
  AND is w = (1, 1), T = 2; OR is T = 1; NOT is w = −1, T = 0. Xu §1.12 words it with a strict
  "wx + b > T": with that reading the same thresholds compute AND → constant 0 and OR → AND, so the
  ``≥`` of eq. 1.1 is the default (``strict=True`` gives the other).
* The two-layer threshold-1 network for XOR (异或) of Xu §1.1.3 (Fig. 1.4): h₁ = σ(x₁ − x₂ + 1),
  h₂ = σ(x₂ − x₁ + 1), y = σ(2 − h₁ − h₂) with σ the step at T = 1. For x₁ = x₂ the hidden units are
  h₁ = h₂ = σ(1) = 1; otherwise h₁ + h₂ = σ(0) + σ(2) = 1, as the text says.
* Rosenblatt's perceptron rule (感知机, 1958): on a mistake w ← w + η(d − y)x (for ±1 labels with the
  sign output, w ← w + η d x). Xu eq. 1.74 prints w ← w − η(d − y)x — the wrong sign (it pushes
  the weights away from the misclassified point); ``rule="as_printed"`` runs it for comparison.
  On linearly separable data the correct rule stops after at most (R/γ)² mistakes (Novikoff); on XOR
  it never stops, and with a fixed sample order its weights return to an earlier state — a cycle,
  detected exactly here.
* ADALINE / LMS (Widrow–Hoff 1960, 自适应线性神经元): w ← w + η(d − wᵀx − b)x per sample, the stochastic
  gradient of the squared error of the *linear* output; it tends to the least-squares solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backend import xp
from .convert import to_array, unpack

__all__ = [
    "ThresholdUnit", "and_unit", "or_unit", "not_unit", "xor_network", "xor_threshold_network",
    "PerceptronResult", "perceptron", "Perceptron", "mistake_bound", "AdalineResult", "adaline", "Adaline",
]


# ----------------------------------------------------------------------------------------------
# McCulloch–Pitts units
# ----------------------------------------------------------------------------------------------
class ThresholdUnit:
    """A McCulloch–Pitts threshold neuron (阈值神经元): y = 1[wᵀx + b ≥ T] (``strict``: > T), outputs 0/1."""

    def __init__(self, weights: Any, threshold: float, bias: float = 0.0, strict: bool = False) -> None:
        self.weights = xp.atleast_1d(xp.asarray(to_array(weights), dtype=xp.float64))
        self.threshold, self.bias, self.strict = float(threshold), float(bias), strict

    def __call__(self, x: Any) -> Any:
        (x,), pack = unpack(x)
        if x.ndim == 1:
            x = x[:, None] if len(self.weights) == 1 else x[None, :]
        z = x @ self.weights + self.bias
        return pack((z > self.threshold) if self.strict else (z >= self.threshold))

    def module(self):
        """The same unit as a shenjing network: ``nn.Sequential(nn.Linear(d, 1), nn.Step(threshold=T))`` (float64)."""
        if self.strict:
            raise ValueError("ThresholdUnit.module: nn.Step is 1[x ≥ T]; the strict form has no module")
        from .. import nn

        lin = nn.Linear(len(self.weights), 1, dtype=xp.float64)
        lin.weight.data = self.weights[None, :].copy()
        lin.bias.data = xp.array([self.bias])
        return nn.Sequential(lin, nn.Step(threshold=self.threshold))

    def __repr__(self) -> str:
        op = ">" if self.strict else "≥"
        return f"ThresholdUnit(w={self.weights.tolist()}, b={self.bias:g}, y = 1[wx + b {op} {self.threshold:g}])"


def and_unit(n_inputs: int = 2, strict: bool = False) -> ThresholdUnit:
    """AND (与): x₁ + … + x_n ≥ T = n (Xu eq. 1.8 with T = 2)."""
    return ThresholdUnit(xp.ones(n_inputs), threshold=n_inputs, strict=strict)


def or_unit(n_inputs: int = 2, strict: bool = False) -> ThresholdUnit:
    """OR (或): x₁ + … + x_n ≥ T = 1 (Xu §1.1.2)."""
    return ThresholdUnit(xp.ones(n_inputs), threshold=1.0, strict=strict)


def not_unit(strict: bool = False) -> ThresholdUnit:
    """NOT (非): −x ≥ T = 0 (with ``strict``, −x + ½ > 0)."""
    return ThresholdUnit([-1.0], threshold=0.0, bias=0.5 if strict else 0.0, strict=strict)


def xor_threshold_network():
    """The two-layer threshold-1 XOR network of Xu §1.1.3 as a shenjing ``nn.Sequential`` (float64):
    Linear(2, 2) with W = [[1, −1], [−1, 1]], b = [1, 1] → Step(T=1) → Linear(2, 1) with W = [[−1, −1]], b = [2] →
    Step(T=1)."""
    from .. import nn

    hidden = nn.Linear(2, 2, dtype=xp.float64)
    hidden.weight.data = xp.array([[1.0, -1.0], [-1.0, 1.0]])
    hidden.bias.data = xp.array([1.0, 1.0])
    out = nn.Linear(2, 1, dtype=xp.float64)
    out.weight.data = xp.array([[-1.0, -1.0]])
    out.bias.data = xp.array([2.0])
    return nn.Sequential(hidden, nn.Step(threshold=1.0), out, nn.Step(threshold=1.0))


def xor_network(x: Any, return_hidden: bool = False) -> Any:
    """XOR by the Xu threshold-1 network on inputs x (n, 2) of 0/1: y (n,) [and hidden (n, 2)]."""
    (x,), pack = unpack(x)
    step = lambda z: (z >= 1.0).astype(xp.float64)  # noqa: E731  (σ with threshold 1)
    h = step(xp.stack([x[:, 0] - x[:, 1] + 1, x[:, 1] - x[:, 0] + 1], axis=1))
    y = step(2 - h[:, 0] - h[:, 1])
    return (pack(y), pack(h)) if return_hidden else pack(y)


# ----------------------------------------------------------------------------------------------
# the perceptron
# ----------------------------------------------------------------------------------------------
@dataclass
class PerceptronResult:
    """What :func:`perceptron` returns: the weights, whether an epoch passed without mistakes, the number of
    epochs run, mistakes per epoch, total updates, whether the weights returned to an earlier epoch-start
    state (a cycle, only checked for a fixed sample order) and its length in epochs, and the weights
    (w, b) at the start of each epoch and after the last."""

    weights: Any
    bias: float
    converged: bool
    epochs: int
    mistakes: list[int]
    n_updates: int
    cycle: bool = False
    cycle_length: int = 0
    history: list[tuple[Any, float]] = field(default_factory=list)


def _labels(y: Any, output: str) -> Any:
    y = xp.asarray(y, dtype=xp.float64).reshape(-1)
    vals = set(xp.unique(y).tolist())
    if output == "sign":
        if vals <= {0.0, 1.0} and 0.0 in vals:
            y = 2 * y - 1
        elif not vals <= {-1.0, 1.0}:
            raise ValueError(f"perceptron: labels must be ±1 (or 0/1), got values {sorted(vals)}")
    elif output == "step":
        if vals <= {-1.0, 1.0} and -1.0 in vals:
            y = (y + 1) / 2
        elif not vals <= {0.0, 1.0}:
            raise ValueError(f"perceptron: labels must be 0/1 (or ±1), got values {sorted(vals)}")
    else:
        raise ValueError(f"perceptron: output must be 'sign' (±1, Wang) or 'step' (0/1, Xu), got {output!r}")
    return y


def perceptron(X: Any, y: Any, lr: float = 1.0, max_epochs: int = 100, rule: str = "rosenblatt", output: str = "sign",
               threshold: float = 0.0, w0: Any = None, b0: float = 0.0, shuffle: bool = False, rng: Any = None,
               detect_cycles: bool = True) -> PerceptronResult:
    """Rosenblatt's perceptron learning rule (感知机学习规则).

    ``output="sign"`` (Wang eq. 1): ŷ = sign(wᵀx + b), labels ±1 (0/1 are mapped), a mistake is
    d(wᵀx + b) ≤ 0 and the update is w ← w + η d x, b ← b + η d. ``output="step"`` (Xu eq. 1.72–1.73):
    ŷ = 1[wᵀx + b ≥ T], labels 0/1, update w ← w + η(d − ŷ)x, b ← b + η(d − ŷ).
    ``rule="as_printed"`` flips the sign of every update, as Xu eq. 1.74 prints it: w ← w − η(d − ŷ)x.

    Samples are visited in order each epoch (``shuffle`` draws a permutation per epoch from ``rng``, a NumPy
    Generator). Stops after an epoch without mistakes (converged), after ``max_epochs``, or — order fixed and
    ``detect_cycles`` — when the epoch-start weights repeat exactly (a cycle: the data are not separable).
    """
    if rule not in ("rosenblatt", "as_printed"):
        raise ValueError(f"perceptron: rule must be 'rosenblatt' or 'as_printed', got {rule!r}")
    (X, y, w0), pack = unpack(X, y, w0)
    if X.ndim != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(f"perceptron: X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    d = _labels(y, output)
    s = 1.0 if rule == "rosenblatt" else -1.0
    w = xp.zeros(X.shape[1]) if w0 is None else w0.reshape(-1).copy()
    b = float(b0)
    seen: dict[bytes, int] = {}
    history, mistakes, n_updates = [], [], 0
    cycle, cycle_len, converged = False, 0, False
    for epoch in range(max_epochs):
        history.append((w.copy(), b))
        if detect_cycles and not shuffle:
            key = w.tobytes() + xp.float64(b).tobytes()
            if key in seen:
                cycle, cycle_len = True, epoch - seen[key]
                break
            seen[key] = epoch
        order = rng.permutation(len(d)) if shuffle else range(len(d))
        m = 0
        for i in order:
            z = float(X[i] @ w) + b
            if output == "sign":
                e = d[i] if d[i] * z <= 0 else 0.0
            else:
                e = d[i] - (1.0 if z >= threshold else 0.0)
            if e != 0.0:
                w += s * lr * e * X[i]
                b += s * lr * e
                m += 1
        mistakes.append(m)
        n_updates += m
        if m == 0:
            converged = True
            break
    history.append((w.copy(), b))
    return PerceptronResult(pack(w), b, converged, len(mistakes), mistakes, n_updates, cycle, cycle_len,
                            [(pack(hw), hb) for hw, hb in history])


def mistake_bound(X: Any, y: Any, w: Any, b: float = 0.0) -> float:
    """Novikoff's bound (R/γ)² on the perceptron's mistakes (from w = 0, any η) for data separated by (w, b):
    R = max‖(x, 1)‖ and γ = min d·(wᵀx + b)/‖(w, b)‖ on the augmented inputs (inf if (w, b) does not separate)."""
    (X, y, w), _ = unpack(X, y, w)
    d = _labels(y, "sign")
    Xa = xp.hstack([X, xp.ones((X.shape[0], 1))])
    u = xp.append(w.reshape(-1), b)
    gamma = float((d * (Xa @ u)).min() / xp.linalg.norm(u))
    if gamma <= 0:
        return float("inf")
    R = float(xp.linalg.norm(Xa, axis=1).max())
    return (R / gamma) ** 2


class Perceptron:
    """The perceptron (感知机) with a ``fit``/``predict`` interface (see :func:`perceptron`); ``predict`` gives ±1
    (``output="sign"``) or 0/1 (``"step"``)."""

    def __init__(self, lr: float = 1.0, max_epochs: int = 100, rule: str = "rosenblatt", output: str = "sign",
                 threshold: float = 0.0, shuffle: bool = False, seed: int | None = None) -> None:
        self.lr, self.max_epochs, self.rule, self.output = lr, max_epochs, rule, output
        self.threshold, self.shuffle, self.seed = threshold, shuffle, seed
        self.result_: PerceptronResult | None = None

    def fit(self, X: Any, y: Any) -> Perceptron:
        rng = xp.random.default_rng(self.seed) if self.shuffle else None
        self.result_ = perceptron(X, y, self.lr, self.max_epochs, self.rule, self.output, self.threshold,
                                  shuffle=self.shuffle, rng=rng)
        self.coef_, self.intercept_ = self.result_.weights, self.result_.bias
        return self

    def decision_function(self, X: Any) -> Any:
        if self.result_ is None:
            raise RuntimeError("Perceptron is not fitted: call fit(X, y) first")
        (X,), pack = unpack(X)
        return pack(X @ to_array(self.coef_).astype(xp.float64) + self.intercept_)

    def predict(self, X: Any) -> Any:
        z = self.decision_function(X)
        za = to_array(z)
        out = xp.where(za >= self.threshold, 1.0, 0.0) if self.output == "step" else xp.where(za > 0, 1.0, -1.0)
        (_,), pack = unpack(X)
        return pack(out)


# ----------------------------------------------------------------------------------------------
# ADALINE
# ----------------------------------------------------------------------------------------------
@dataclass
class AdalineResult:
    """What :func:`adaline` returns: weights, bias, the mean squared error of the linear output after each epoch,
    and the weights (w, b) at the start of each epoch and after the last."""

    weights: Any
    bias: float
    mse: list[float]
    history: list[tuple[Any, float]]


def adaline(X: Any, y: Any, lr: float = 0.01, epochs: int = 50, shuffle: bool = True, rng: Any = None, w0: Any = None,
            b0: float = 0.0, decay: float = 0.0) -> AdalineResult:
    """ADALINE / LMS (Widrow–Hoff): for each sample w ← w + η(d − wᵀx − b)x, b ← b + η(d − wᵀx − b), the
    stochastic gradient of ½(d − wᵀx − b)² on the linear output (no threshold inside the learning rule).
    ``decay``: η_t = η/(1 + decay·t) at epoch t. Targets are used as given (±1 for classification)."""
    (X, y, w0), pack = unpack(X, y, w0)
    y = y.reshape(-1)
    if shuffle and rng is None:
        raise ValueError("adaline: shuffle=True needs rng (a NumPy Generator), e.g. ctx.rng")
    w = xp.zeros(X.shape[1]) if w0 is None else w0.reshape(-1).copy()
    b = float(b0)
    history, mse = [], []
    for t in range(epochs):
        history.append((w.copy(), b))
        eta = lr / (1.0 + decay * t)
        order = rng.permutation(len(y)) if shuffle else range(len(y))
        for i in order:
            err = y[i] - (float(X[i] @ w) + b)
            w += eta * err * X[i]
            b += eta * err
        r = y - X @ w - b
        mse.append(float((r * r).mean()))
    history.append((w.copy(), b))
    return AdalineResult(pack(w), b, mse, [(pack(hw), hb) for hw, hb in history])


class Adaline:
    """ADALINE (自适应线性神经元) with ``fit``/``predict`` (±1 by the sign of the linear output)."""

    def __init__(self, lr: float = 0.01, epochs: int = 50, shuffle: bool = True, seed: int | None = 0, decay: float = 0.0) -> None:
        self.lr, self.epochs, self.shuffle, self.seed, self.decay = lr, epochs, shuffle, seed, decay
        self.result_: AdalineResult | None = None

    def fit(self, X: Any, y: Any) -> Adaline:
        rng = xp.random.default_rng(self.seed) if self.shuffle else None
        self.result_ = adaline(X, y, self.lr, self.epochs, self.shuffle, rng, decay=self.decay)
        self.coef_, self.intercept_ = self.result_.weights, self.result_.bias
        return self

    def predict(self, X: Any) -> Any:
        if self.result_ is None:
            raise RuntimeError("Adaline is not fitted: call fit(X, y) first")
        (Xa,), pack = unpack(X)
        return pack(xp.where(Xa @ to_array(self.coef_).astype(xp.float64) + self.intercept_ > 0, 1.0, -1.0))
