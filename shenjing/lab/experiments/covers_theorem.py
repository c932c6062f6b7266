"""covers-theorem: Cover's counting theorem (Cover 定理) and the kernel form of a feature map (Zhao, introduction).

Of the 2^N labellings (dichotomies) of N points in general position in ℝ^d, exactly
C(N, d) = 2 Σ_{k=0}^{d−1} binom(N−1, k) are linearly separable by a hyperplane through the origin
(Cover 1965), so a random labelling is separable with probability C(N, d)/2^N. Separability is
decided exactly by a linear program: some w with y_i w·x_i ≥ 1 for all i. Mapping the points by random
non-linear features φ(x) = tanh(Wx + b) into D > d dimensions makes them separable with the
probability the formula gives for D — the note's first way of handling a non-linear problem. The
kernel form (核方法) k(x, x') = φ(x)·φ(x') gives the same classifier as the explicit features: kernel
ridge regression f(x) = k(x)ᵀ(K + λI)⁻¹y equals φ(x)ᵀ(ΦᵀΦ + λI)⁻¹Φᵀy.
"""

from __future__ import annotations

from math import comb

from ...backend import xp
from ..core import Check, Experiment, Measurement

D_IN = 2  # input dimension of the random-feature part
N_FEAT = 12  # points in the random-feature part
LAM = 1e-3

EXPERIMENT = Experiment(
    id="covers-theorem",
    title="Cover's theorem: the fraction of separable dichotomies, random features and the kernel form",
    title_zh="Cover 定理: 线性可分的二分类比例, 随机非线性特征与核方法",
    source="Zhao, introduction (Cover 定理, 核方法)",
    claim="The fraction of random labellings of N points in general position in d dimensions that a hyperplane "
          "through the origin separates is C(N, d)/2^N with C(N, d) = 2 Σ_{k<d} binom(N−1, k); random tanh features "
          "in D dimensions make the points separable as the formula for D predicts; kernel ridge regression with "
          "k(x, x') = φ(x)·φ(x') predicts exactly what the explicit features do.",
    claim_zh="d 维中处于一般位置的 N 个点, 其随机标注能被过原点的超平面分开的比例为 C(N, d)/2^N, 其中 "
             "C(N, d) = 2 Σ_{k<d} binom(N−1, k); D 维随机 tanh 特征使这些点可分的比例与 D 维的公式一致; "
             "核函数 k(x, x') = φ(x)·φ(x') 的核岭回归与显式特征的预测完全相同.",
    checks=(
        Check("max_error_raw", "<=", 0.08, "the largest |measured fraction − C(N, d)/2^N| over N (raw points)",
              what_zh="各 N 上 |测得比例 − C(N, d)/2^N| 的最大值 (原始点)"),
        Check("max_error_features", "<=", 0.08, "the largest |measured fraction − C(N, D)/2^N| over D (tanh features)",
              what_zh="各 D 上 |测得比例 − C(N, D)/2^N| 的最大值 (tanh 特征)"),
        Check("features_raise_separability", "true", what="the separable fraction rises with the feature dimension D",
              what_zh="可分比例随特征维数 D 上升"),
        Check("kernel_vs_explicit_max_diff", "<=", 1e-8, "the largest |kernel − explicit| prediction on test points",
              what_zh="测试点上 |核方法 − 显式特征| 预测之差的最大值"),
    ),
)


def cover_fraction(n: int, d: int) -> float:
    """C(N, d)/2^N, the probability that a random dichotomy of N points in general position in ℝ^d is
    separable by a hyperplane through the origin."""
    return 2 * sum(comb(n - 1, k) for k in range(d)) / 2 ** n


def separable(X: xp.ndarray, y: xp.ndarray) -> bool:
    """Exactly (linear programming): is there a w with y_i w·x_i ≥ 1 for every row x_i of X?"""
    from scipy.optimize import linprog

    res = linprog(xp.zeros(X.shape[1]), A_ub=-(y[:, None] * X), b_ub=-xp.ones(len(y)),
                  bounds=[(None, None)] * X.shape[1], method="highs")
    return res.status == 0


def _fraction(points, rng, trials: int) -> float:
    """Separable fraction over random ±1 labellings of fresh points (``points()`` draws them)."""
    hits = 0
    for _ in range(trials):
        X = points()
        hits += separable(X, rng.choice([-1.0, 1.0], size=len(X)))
    return hits / trials


def tanh_features(x, W, b):
    """φ(x) = tanh(x W + b) computed with shenjing (rows of x are points)."""
    import shenjing as sj

    t = lambda a: sj.tensor(a, dtype=sj.float64)  # noqa: E731
    return sj.tanh(t(x) @ t(W) + t(b)).numpy()


def _kernel_vs_explicit(rng, D: int = 30) -> float:
    W, b = rng.normal(size=(D_IN, D)), rng.normal(size=D)
    x, xt = rng.normal(size=(20, D_IN)), rng.normal(size=(50, D_IN))
    y = xp.sign(x[:, 0] * x[:, 1])  # XOR-like labels
    P, Pt = tanh_features(x, W, b), tanh_features(xt, W, b)
    explicit = Pt @ xp.linalg.solve(P.T @ P + LAM * xp.eye(D), P.T @ y)
    kernel = (Pt @ P.T) @ xp.linalg.solve(P @ P.T + LAM * xp.eye(len(x)), y)
    return float(xp.abs(explicit - kernel).max())


def measure(ctx) -> Measurement:
    d, trials = (5, 400) if ctx.quick else (10, 1000)
    rng = ctx.rng
    Ns = list(range(d, 4 * d + 1, max(1, d // 5) * (2 if ctx.quick else 1)))
    raw = [_fraction(lambda n=n: rng.normal(size=(n, d)), rng, trials) for n in Ns]
    Ds = [2, 4, 6, 8, 10, 12]

    def feats(D: int):
        return lambda: tanh_features(rng.normal(size=(N_FEAT, D_IN)), rng.normal(size=(D_IN, D)), rng.normal(size=D))

    feat = [_fraction(feats(D), rng, trials) for D in Ds]
    measured = {
        "d": d, "Ns": Ns, "fraction_raw": raw, "formula_raw": [cover_fraction(n, d) for n in Ns],
        "Ds": Ds, "fraction_features": feat, "formula_features": [cover_fraction(N_FEAT, D) for D in Ds],
        "kernel_vs_explicit_max_diff": _kernel_vs_explicit(rng),
    }
    measured["max_error_raw"] = max(abs(a - b) for a, b in zip(raw, measured["formula_raw"]))
    measured["max_error_features"] = max(abs(a - b) for a, b in zip(feat, measured["formula_features"]))
    measured["features_raise_separability"] = bool(all(b >= a for a, b in zip(feat, feat[1:])) and feat[-1] > feat[0])
    method = (f"{trials} random ±1 labellings per point count, fresh Gaussian points each; separability decided by the "
              f"LP y_i w·x_i ≥ 1 (scipy linprog, HiGHS); raw points in d = {d} for N = {Ns}; tanh(xW + b) features "
              f"(W, b standard normal) of N = {N_FEAT} points from ℝ^{D_IN} for D = {Ds}; kernel ridge (λ = {LAM}) vs "
              f"explicit ridge on 30 tanh features of 20 training and 50 test points.")
    return Measurement(measured, method)


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    mm = m.measured
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax = axes[0]
    ax.plot([n / mm["d"] for n in mm["Ns"]], mm["fraction_raw"], "o", label="measured (LP)")
    ax.plot([n / mm["d"] for n in mm["Ns"]], mm["formula_raw"], "k-", label="C(N, d) / 2^N")
    ax.axvline(2, color="0.6", ls=":", label="N = 2d")
    ax.set(xlabel="N / d", ylabel="fraction of separable dichotomies", title=f"Random points in d = {mm['d']}")
    ax.legend()
    ax = axes[1]
    ax.plot(mm["Ds"], mm["fraction_features"], "o", label="measured (LP)")
    ax.plot(mm["Ds"], mm["formula_features"], "k-", label="C(N, D) / 2^N")
    ax.set(xlabel="feature dimension D", ylabel="fraction of separable dichotomies",
           title=f"tanh(xW + b) features of N = {N_FEAT} points in ℝ^{D_IN}")
    ax.legend()
    ctx.savefig(fig, "separable_fraction")
