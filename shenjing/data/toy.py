"""Toy data sets (玩具数据集) for the lab and the tests, every one seeded.

Each generator takes ``seed`` (a fresh Generator seeded with it) or ``generator`` (a
``shenjing.Generator``), or draws from the global generator, and returns shenjing Tensors:
inputs in the default float dtype, class labels as int64, regression targets as floats of shape
(n, 1). Classification sets have balanced classes (counts differ by at most one) and are shuffled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import backend as B
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..random import Generator, rng

__all__ = [
    "truth_table",
    "xor",
    "two_moons",
    "circles",
    "spirals",
    "blobs",
    "sine",
    "multi_sine",
    "steps",
    "gabor",
    "gabor_data",
    "linear",
    "housing",
    "HOUSING_FEATURES",
    "segmentation",
    "copy_task",
    "reverse_task",
    "sort_task",
    "addition_task",
    "sequence_task",
    "PLUS",
]


def _rng(seed: int | None, generator: Generator | None):
    if seed is not None and generator is not None:
        raise ValueError("give either seed or generator, not both")
    if seed is not None:
        return Generator().manual_seed(seed).rng
    return rng(generator)


def _f(a) -> Tensor:
    return as_tensor(xp.ascontiguousarray(a, dtype=B.get_default_dtype()))


def _i(a) -> Tensor:
    return as_tensor(xp.ascontiguousarray(a, dtype=xp.int64))


def _balanced(n: int, k: int) -> list[int]:
    """n split into k class counts differing by at most one."""
    if n < 0 or k <= 0:
        raise ValueError(f"need n >= 0 samples and k > 0 classes, got n={n}, k={k}")
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


def _shuffled(r, X, y, shuffle: bool):
    if shuffle:
        p = r.permutation(len(y))
        X, y = X[p], y[p]
    return _f(X), _i(y)


# ---------------------------------------------------------------------------------------------
# logic gates and 2-D classification
# ---------------------------------------------------------------------------------------------
_GATES = {
    "and": lambda a: a.all(axis=1),
    "or": lambda a: a.any(axis=1),
    "xor": lambda a: a.sum(axis=1) % 2 == 1,
    "nand": lambda a: ~a.all(axis=1),
    "nor": lambda a: ~a.any(axis=1),
    "xnor": lambda a: a.sum(axis=1) % 2 == 0,
}


def truth_table(op: str = "xor", n_inputs: int = 2) -> tuple[Tensor, Tensor]:
    """The truth table (真值表) of a logic gate: inputs (2**n, n) of 0/1 floats, outputs (2**n,) int64.

    ``op``: and, or, xor (parity for n > 2), nand, nor, xnor. XOR is the set a single perceptron
    cannot separate (Zhao: "1969, PLA不能解决XOR等非线性数据"), and an MLP can.
    """
    if op not in _GATES:
        raise ValueError(f"truth_table: op must be one of {', '.join(_GATES)}, got {op!r}")
    rows = xp.array([[(i >> (n_inputs - 1 - b)) & 1 for b in range(n_inputs)] for i in range(2**n_inputs)], dtype=bool)
    return _f(rows), _i(_GATES[op](rows))


def xor(n_samples: int = 200, noise: float = 0.1, seed: int | None = None, generator: Generator | None = None,
        shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Noisy XOR (异或): Gaussian clouds (std ``noise``) at the four corners of the unit square,
    label 1 where exactly one coordinate is 1. Returns X (n, 2), y (n,) int64."""
    r = _rng(seed, generator)
    corners = xp.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=xp.float64)
    counts = _balanced(n_samples, 4)
    # balance the two labels: corners 0,1 carry label 0, corners 2,3 label 1
    counts = [counts[0], counts[2], counts[1], counts[3]]
    which = xp.repeat(xp.arange(4), counts)
    X = corners[which] + noise * r.standard_normal((n_samples, 2))
    y = (which >= 2).astype(xp.int64)
    return _shuffled(r, X, y, shuffle)


def two_moons(n_samples: int = 200, noise: float = 0.1, seed: int | None = None, generator: Generator | None = None,
              shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (双月), as sklearn.datasets.make_moons. X (n, 2), y (n,)."""
    r = _rng(seed, generator)
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    t_out = xp.linspace(0, math.pi, n_out)
    t_in = xp.linspace(0, math.pi, n_in)
    X = xp.concatenate([xp.stack([xp.cos(t_out), xp.sin(t_out)], 1), xp.stack([1 - xp.cos(t_in), 0.5 - xp.sin(t_in)], 1)])
    y = xp.concatenate([xp.zeros(n_out, xp.int64), xp.ones(n_in, xp.int64)])
    if noise:
        X = X + noise * r.standard_normal(X.shape)
    return _shuffled(r, X, y, shuffle)


def circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None, generator: Generator | None = None,
            shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """A small circle (label 1, radius ``factor``) inside a large one (label 0), as make_circles."""
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor}")
    r = _rng(seed, generator)
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    t_out = xp.linspace(0, 2 * math.pi, n_out, endpoint=False)
    t_in = xp.linspace(0, 2 * math.pi, n_in, endpoint=False)
    X = xp.concatenate([xp.stack([xp.cos(t_out), xp.sin(t_out)], 1), factor * xp.stack([xp.cos(t_in), xp.sin(t_in)], 1)])
    y = xp.concatenate([xp.zeros(n_out, xp.int64), xp.ones(n_in, xp.int64)])
    if noise:
        X = X + noise * r.standard_normal(X.shape)
    return _shuffled(r, X, y, shuffle)


def spirals(n_samples: int = 300, n_classes: int = 2, turns: float = 1.0, noise: float = 0.05, seed: int | None = None,
            generator: Generator | None = None, shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Interleaved spiral arms (螺旋), one per class: radius grows 0→1 over ``turns`` revolutions.
    X (n, 2), y (n,) int64."""
    r = _rng(seed, generator)
    Xs, ys = [], []
    for k, m in enumerate(_balanced(n_samples, n_classes)):
        rad = xp.linspace(0.05, 1.0, m)
        theta = 2 * math.pi * (turns * rad + k / n_classes)
        pts = rad[:, None] * xp.stack([xp.cos(theta), xp.sin(theta)], 1)
        Xs.append(pts + noise * r.standard_normal(pts.shape))
        ys.append(xp.full(m, k, xp.int64))
    return _shuffled(r, xp.concatenate(Xs), xp.concatenate(ys), shuffle)


def blobs(n_samples: int = 300, centers: int | Sequence[Sequence[float]] = 3, n_features: int = 2, cluster_std: float | Sequence[float] = 1.0,
          center_box: tuple[float, float] = (-10.0, 10.0), seed: int | None = None, generator: Generator | None = None,
          shuffle: bool = True, return_centers: bool = False) -> Any:
    """Isotropic Gaussian clusters (高斯团), as make_blobs: ``centers`` is a count (drawn uniformly in
    ``center_box``) or the centre coordinates. X (n, d), y (n,) [, centres (k, d)]."""
    r = _rng(seed, generator)
    if isinstance(centers, int):
        C = r.uniform(center_box[0], center_box[1], size=(centers, n_features))
    else:
        C = xp.asarray(centers, dtype=xp.float64)
        n_features = C.shape[1]
    k = C.shape[0]
    std = xp.broadcast_to(xp.asarray(cluster_std, dtype=xp.float64), (k,))
    counts = _balanced(n_samples, k)
    y = xp.repeat(xp.arange(k), counts)
    X = C[y] + std[y, None] * r.standard_normal((n_samples, n_features))
    out = _shuffled(r, X, y, shuffle)
    return (*out, _f(C)) if return_centers else out


# ---------------------------------------------------------------------------------------------
# 1-D regression
# ---------------------------------------------------------------------------------------------
def _xs(r, n: int, low: float, high: float, random_x: bool):
    x = r.uniform(low, high, n) if random_x else xp.linspace(low, high, n)
    return xp.sort(x) if random_x else x


def _reg(r, x, y, noise: float) -> tuple[Tensor, Tensor]:
    if noise:
        y = y + noise * r.standard_normal(y.shape)
    return _f(x[:, None]), _f(y[:, None])


def sine(n_samples: int = 100, low: float = -math.pi, high: float = math.pi, freq: float = 1.0, amplitude: float = 1.0, phase: float = 0.0,
         noise: float = 0.0, random_x: bool = False, seed: int | None = None, generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """y = A sin(f x + φ) + noise on [low, high]. x (n, 1), y (n, 1)."""
    r = _rng(seed, generator)
    x = _xs(r, n_samples, low, high, random_x)
    return _reg(r, x, amplitude * xp.sin(freq * x + phase), noise)


def multi_sine(n_samples: int = 200, freqs: Sequence[float] = (1.0, 3.0, 7.0), amplitudes: Sequence[float] | None = None,
               phases: Sequence[float] | None = None, low: float = -math.pi, high: float = math.pi, noise: float = 0.0,
               random_x: bool = False, seed: int | None = None, generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """A sum of sines of several frequencies (多频率叠加), amplitude 1/f by default: a target
    whose high frequencies a network learns last (spectral bias). x (n, 1), y (n, 1)."""
    r = _rng(seed, generator)
    f = xp.asarray(freqs, dtype=xp.float64)
    a = 1.0 / f if amplitudes is None else xp.asarray(amplitudes, dtype=xp.float64)
    p = xp.zeros_like(f) if phases is None else xp.asarray(phases, dtype=xp.float64)
    x = _xs(r, n_samples, low, high, random_x)
    y = (a[None, :] * xp.sin(x[:, None] * f[None, :] + p[None, :])).sum(1)
    return _reg(r, x, y, noise)


def steps(n_samples: int = 200, thresholds: Sequence[float] = (0.0,), values: Sequence[float] | None = None, low: float = -1.0,
          high: float = 1.0, noise: float = 0.0, random_x: bool = False, seed: int | None = None,
          generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """A piecewise-constant (阶跃) function: ``values[i]`` between thresholds (default 0, 1, 2, ...)."""
    r = _rng(seed, generator)
    th = xp.asarray(sorted(thresholds), dtype=xp.float64)
    v = xp.arange(len(th) + 1, dtype=xp.float64) if values is None else xp.asarray(values, dtype=xp.float64)
    if len(v) != len(th) + 1:
        raise ValueError(f"steps: {len(th)} thresholds need {len(th) + 1} values, got {len(v)}")
    x = _xs(r, n_samples, low, high, random_x)
    return _reg(r, x, v[xp.searchsorted(th, x, side="right")], noise)


def gabor(x: Any, phi0: Any, phi1: Any) -> Any:
    """The Gabor model of Fang §6.1.2 (Gabor 模型): f(x; φ) = sin(φ0 + 0.06 φ1 x) · exp(−(φ0 + 0.06 φ1 x)² / 32).

    φ0 shifts the function (larger φ0 moves it left), φ1 > 0 narrows it. Works on Tensors (and is
    then differentiable in φ) or on arrays/numbers.
    """
    if any(isinstance(v, Tensor) for v in (x, phi0, phi1)):
        z = phi0 + 0.06 * phi1 * x
        if not isinstance(z, Tensor):
            z = as_tensor(xp.asarray(z))
        return z.sin() * (-(z * z) / 32.0).exp()
    z = xp.asarray(phi0) + 0.06 * xp.asarray(phi1) * xp.asarray(x)
    return xp.sin(z) * xp.exp(-(z * z) / 32.0)


def gabor_data(n_samples: int = 50, phi: tuple[float, float] = (0.0, 16.6), low: float = -15.0, high: float = 15.0, noise: float = 0.1,
               seed: int | None = None, generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Noisy samples of the Fang §6.1.2 Gabor model at x uniform in [low, high] (sorted).

    The loss over (φ0, φ1) is non-convex with many local minima: the data set for watching
    gradient descent and SGD find (or miss) the global one. x (n, 1), y (n, 1).
    """
    r = _rng(seed, generator)
    x = xp.sort(r.uniform(low, high, n_samples))
    return _reg(r, x, gabor(x, phi[0], phi[1]), noise)


def linear(n_samples: int = 100, n_features: int = 1, weights: Sequence[float] | None = None, bias: float = 0.0, noise: float = 0.1,
           x_std: float = 1.0, seed: int | None = None, generator: Generator | None = None,
           return_coef: bool = False) -> Any:
    """Noisy linear data for ordinary least squares (最小二乘): y = X w + b + ε, ε ~ N(0, noise²).

    X (n, d) ~ N(0, x_std²); ``weights`` default to draws from N(0, 1). Returns X, y (n, 1)
    [, w (d,), b] — the normal equations w* = (ZᵀZ)⁻¹Zᵀy (Fang §3.1, §3.4) recover w, b as n grows.
    """
    r = _rng(seed, generator)
    w = r.standard_normal(n_features) if weights is None else xp.asarray(weights, dtype=xp.float64)
    if w.shape != (n_features,):
        raise ValueError(f"linear: weights must have shape ({n_features},), got {w.shape}")
    X = x_std * r.standard_normal((n_samples, n_features))
    y = X @ w + bias
    if noise:
        y = y + noise * r.standard_normal(n_samples)
    out = (_f(X), _f(y[:, None]))
    return (*out, _f(w), float(bias)) if return_coef else out


HOUSING_FEATURES = ("size", "bedrooms", "zip_code", "wealth")


def housing(n_samples: int = 500, noise: float = 10.0, seed: int | None = None, generator: Generator | None = None,
            return_hidden: bool = False) -> Any:
    """Housing-like data of Zhao §2 (房价预测): x = (size m², bedrooms, zip code, wealth) → price.

    The price follows the notes' small network (eqs. 9–12): family size a1 = ReLU(θ1 x1 + θ2 x2 + θ3),
    walkability a2 = ReLU(θ4 x3 + θ5), school quality a3 = ReLU(θ6 x3 + θ7 x4 + θ8), and
    price = θ9 a1 + θ10 a2 + θ11 a3 + θ12 + noise (in thousands). Zip codes are numbered 0–9 by
    distance from the centre; wealth is the area's median income (thousands). Returns X (n, 4),
    y (n, 1) [, hidden (n, 3)]. Column names: ``HOUSING_FEATURES``.
    """
    r = _rng(seed, generator)
    size = r.uniform(40, 250, n_samples)
    bedrooms = xp.clip(xp.round(size / 45 + r.normal(0, 0.7, n_samples)), 1, 6)
    zip_code = r.integers(0, 10, n_samples).astype(xp.float64)
    wealth = xp.clip(r.normal(80 - 4 * zip_code, 15), 15, None)
    a1 = xp.maximum(0.02 * size + 0.5 * bedrooms - 0.5, 0)  # how many people the house holds
    a2 = xp.maximum(7.0 - zip_code, 0)  # walkability: best near the centre, none from zip 7 out
    a3 = xp.maximum(-0.3 * zip_code + 0.08 * wealth - 1.0, 0)  # school quality
    price = 60 * a1 + 25 * a2 + 40 * a3 + 50
    if noise:
        price = price + noise * r.standard_normal(n_samples)
    X = xp.stack([size, bedrooms, zip_code, wealth], 1)
    out = (_f(X), _f(price[:, None]))
    return (*out, _f(xp.stack([a1, a2, a3], 1))) if return_hidden else out


# ---------------------------------------------------------------------------------------------
# segmentation (U-Net)
# ---------------------------------------------------------------------------------------------
def segmentation(n_samples: int = 64, size: int = 32, max_shapes: int = 3, n_classes: int = 3, noise: float = 0.1, seed: int | None = None,
                 generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Images with circles and rectangles, and their masks: a toy for U-Net (语义分割).

    Each image (1, size, size) has 1..``max_shapes`` shapes of random brightness on a dark noisy
    background. Masks (size, size) int64 hold per-pixel classes: with ``n_classes=3`` 0 background,
    1 circle, 2 rectangle; with ``n_classes=2`` 0 background, 1 any shape. Later shapes cover earlier
    ones. Returns images (n, 1, size, size) float, masks (n, size, size) int64.
    """
    if n_classes not in (2, 3):
        raise ValueError(f"segmentation: n_classes must be 2 or 3, got {n_classes}")
    r = _rng(seed, generator)
    n = n_samples
    yy, xx = xp.mgrid[0:size, 0:size].astype(xp.float64)
    img = xp.zeros((n, size, size))
    mask = xp.zeros((n, size, size), xp.int64)
    count = r.integers(1, max_shapes + 1, n)
    lo, hi = max(2.0, size / 10), max(3.0, size / 4)
    for k in range(max_shapes):
        active = (count > k)[:, None, None]
        kind = r.integers(0, 2, n)  # 0 circle, 1 rectangle
        cy, cx = r.uniform(0, size, n), r.uniform(0, size, n)
        a, b = r.uniform(lo, hi, n), r.uniform(lo, hi, n)
        bright = r.uniform(0.5, 1.0, n)
        dy, dx = yy[None] - cy[:, None, None], xx[None] - cx[:, None, None]
        circle = dy**2 + dx**2 <= (a**2)[:, None, None]
        rect = (xp.abs(dy) <= a[:, None, None]) & (xp.abs(dx) <= b[:, None, None])
        is_rect = (kind == 1)[:, None, None]
        shape = xp.where(is_rect, rect, circle) & active
        img = xp.where(shape, bright[:, None, None], img)
        label = xp.where(is_rect, 2 if n_classes == 3 else 1, 1)
        mask = xp.where(shape, label, mask)
    if noise:
        img = img + noise * r.standard_normal(img.shape)
    return _f(img[:, None]), _i(mask)


# ---------------------------------------------------------------------------------------------
# sequence tasks (attention / Transformers)
# ---------------------------------------------------------------------------------------------
PLUS = 10  # the '+' token of addition_task (digits are tokens 0-9)


def _tokens(r, n: int, length: int, vocab_size: int):
    if length <= 0 or vocab_size <= 0:
        raise ValueError(f"need length > 0 and vocab_size > 0, got length={length}, vocab_size={vocab_size}")
    return r.integers(0, vocab_size, (n, length))


def copy_task(n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: int | None = None,
              generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Copy (复制): target = input. Both (n, length) int64 tokens in [0, vocab_size)."""
    x = _tokens(_rng(seed, generator), n_samples, length, vocab_size)
    return _i(x), _i(x.copy())


def reverse_task(n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: int | None = None,
                 generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Reverse (反转): target = input read backwards. Both (n, length) int64."""
    x = _tokens(_rng(seed, generator), n_samples, length, vocab_size)
    return _i(x), _i(x[:, ::-1])


def sort_task(n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: int | None = None,
              generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Sort (排序): target = input in ascending order. Both (n, length) int64."""
    x = _tokens(_rng(seed, generator), n_samples, length, vocab_size)
    return _i(x), _i(xp.sort(x, axis=1))


def addition_task(n_samples: int = 1000, n_digits: int = 3, reverse_digits: bool = False, seed: int | None = None,
                  generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Multi-digit addition (多位数加法): input "a+b", target the digits of a + b.

    Operands are uniform in [0, 10**n_digits), written with leading zeros, so the input is
    (n, 2·n_digits + 1) tokens (digits 0–9, ``PLUS`` = 10) and the target (n, n_digits + 1) digits.
    ``reverse_digits`` writes every number least significant digit first (easier to learn: the
    carry then flows left to right).
    """
    if n_digits <= 0:
        raise ValueError(f"addition_task: n_digits must be positive, got {n_digits}")
    r = _rng(seed, generator)
    a = r.integers(0, 10**n_digits, n_samples)
    b = r.integers(0, 10**n_digits, n_samples)

    def digits(v, width):
        d = (v[:, None] // 10 ** xp.arange(width - 1, -1, -1)) % 10  # most significant first
        return d[:, ::-1] if reverse_digits else d

    x = xp.concatenate([digits(a, n_digits), xp.full((n_samples, 1), PLUS), digits(b, n_digits)], 1)
    return _i(x), _i(digits(a + b, n_digits + 1))


def sequence_task(task: str, n_samples: int = 1000, length: int = 8, vocab_size: int = 10, seed: int | None = None,
                  generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """One of the sequence tasks by name: copy, reverse, sort, or addition (``length`` = digits)."""
    if task == "addition":
        return addition_task(n_samples, n_digits=length, seed=seed, generator=generator)
    fns = {"copy": copy_task, "reverse": reverse_task, "sort": sort_task}
    if task not in fns:
        raise ValueError(f"sequence_task: task must be copy, reverse, sort or addition, got {task!r}")
    return fns[task](n_samples, length, vocab_size, seed=seed, generator=generator)
