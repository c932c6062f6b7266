"""Basis functions (基函数) for basis-function regression y = w₀ + Σ_k w_k φ_k(x) (Fang §3.1).

"Linear" means linear in w, not in x; Fang lists the common bases: polynomial (多项式), radial
(径向基, RBF), Fourier (傅里叶) and wavelet (小波). Each basis is a callable object mapping inputs
x of shape (n,) or (n, 1) (RBF also (n, d)) to the feature matrix Φ of shape (n, K); with
``include_bias`` the first column is the constant φ₀ = 1. :class:`BasisRegression` fits w by least
squares (or ridge) on Φ with an unpenalised constant.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from .convert import to_array, unpack
from .least_squares import ols
from .regularized import ridge

__all__ = ["Basis", "PolynomialBasis", "RBFBasis", "FourierBasis", "WaveletBasis", "make_basis", "BasisRegression"]


def _x1(x: Any, name: str) -> Any:
    x = xp.asarray(x, dtype=xp.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name}: expects one input variable, x of shape (n,) or (n, 1); got {x.shape}")
    return x


class Basis:
    """A set of basis functions φ₀ … φ_K; ``basis(x)`` is the feature matrix Φ (n, K + include_bias)."""

    include_bias: bool = True

    def _features(self, x: Any) -> Any:
        raise NotImplementedError

    def __call__(self, x: Any) -> Any:
        (x,), pack = unpack(x)
        F = self._features(x)
        if self.include_bias:
            F = xp.hstack([xp.ones((F.shape[0], 1)), F])
        return pack(F)

    @property
    def n_functions(self) -> int:
        """The number of columns of Φ."""
        return int(self(xp.zeros(1)).shape[1])


class PolynomialBasis(Basis):
    """φ_k(x) = t^k, k = 1 … degree (多项式基), with t = x, or x mapped affinely from ``domain`` = (low, high)
    to [−1, 1] (better conditioned for high degrees; the span is the same)."""

    def __init__(self, degree: int, include_bias: bool = True, domain: tuple[float, float] | None = None) -> None:
        if degree < 0:
            raise ValueError(f"PolynomialBasis: degree must be >= 0, got {degree}")
        self.degree, self.include_bias, self.domain = int(degree), include_bias, domain

    def _features(self, x: Any) -> Any:
        t = _x1(x, "PolynomialBasis")
        if self.domain is not None:
            lo, hi = self.domain
            t = (2 * t - (lo + hi)) / (hi - lo)
        return t[:, None] ** xp.arange(1, self.degree + 1)[None, :]

    def __repr__(self) -> str:
        return f"PolynomialBasis(degree={self.degree})"


class RBFBasis(Basis):
    """Gaussian radial basis functions (径向基函数) φ_k(x) = exp(−‖x − c_k‖² / (2s²)) with centres c_k and width s."""

    def __init__(self, centres: Any, width: float, include_bias: bool = True) -> None:
        c = xp.asarray(to_array(centres), dtype=xp.float64)
        self.centres = c[:, None] if c.ndim == 1 else c
        if width <= 0:
            raise ValueError(f"RBFBasis: width must be > 0, got {width}")
        self.width, self.include_bias = float(width), include_bias

    def _features(self, x: Any) -> Any:
        x = xp.asarray(x, dtype=xp.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[1] != self.centres.shape[1]:
            raise ValueError(f"RBFBasis: x has {x.shape[1]} features but the centres have {self.centres.shape[1]}")
        d2 = ((x[:, None, :] - self.centres[None, :, :]) ** 2).sum(-1)
        return xp.exp(-d2 / (2 * self.width**2))

    @property
    def n_functions(self) -> int:
        return len(self.centres) + int(self.include_bias)

    def __repr__(self) -> str:
        return f"RBFBasis(n_centres={len(self.centres)}, width={self.width:g})"


class FourierBasis(Basis):
    """Fourier basis (傅里叶基): cos(2πkx/P), sin(2πkx/P) for k = 1 … n_harmonics, period P."""

    def __init__(self, n_harmonics: int, period: float = 2 * math.pi, include_bias: bool = True) -> None:
        if n_harmonics < 0:
            raise ValueError(f"FourierBasis: n_harmonics must be >= 0, got {n_harmonics}")
        self.n_harmonics, self.period, self.include_bias = int(n_harmonics), float(period), include_bias

    def _features(self, x: Any) -> Any:
        x = _x1(x, "FourierBasis")
        k = xp.arange(1, self.n_harmonics + 1)[None, :]
        arg = 2 * math.pi * k * x[:, None] / self.period
        out = xp.empty((x.shape[0], 2 * self.n_harmonics))
        out[:, 0::2], out[:, 1::2] = xp.cos(arg), xp.sin(arg)
        return out

    def __repr__(self) -> str:
        return f"FourierBasis(n_harmonics={self.n_harmonics}, period={self.period:g})"


def haar(t: Any) -> Any:
    """The Haar mother wavelet ψ(t) = 1 on [0, ½), −1 on [½, 1), 0 elsewhere."""
    return xp.where((t >= 0) & (t < 0.5), 1.0, 0.0) - xp.where((t >= 0.5) & (t < 1.0), 1.0, 0.0)


def mexican_hat(t: Any) -> Any:
    """The Mexican-hat (Ricker) wavelet ψ(t) = (1 − t²) e^(−t²/2), the negative second derivative of a Gaussian."""
    return (1 - t * t) * xp.exp(-0.5 * t * t)


class WaveletBasis(Basis):
    """Wavelet basis (小波基) on ``domain`` = (low, high), with t = (x − low)/(high − low) ∈ [0, 1]:

    * ``"haar"``: ψ_{j,k}(t) = 2^{j/2} ψ(2^j t − k), j = 0 … levels − 1, k = 0 … 2^j − 1 (with the constant,
      an orthonormal basis of the piecewise-constant functions on 2^levels equal cells);
    * ``"mexican_hat"``: ψ((t − c)/s) at scales s = 2^{−j−1} and centres c = (k + ½)·2^{−j}, same j, k.
    """

    def __init__(self, levels: int, kind: str = "haar", domain: tuple[float, float] = (0.0, 1.0), include_bias: bool = True) -> None:
        if kind not in ("haar", "mexican_hat"):
            raise ValueError(f"WaveletBasis: kind must be 'haar' or 'mexican_hat', got {kind!r}")
        if levels < 0:
            raise ValueError(f"WaveletBasis: levels must be >= 0, got {levels}")
        self.levels, self.kind, self.domain, self.include_bias = int(levels), kind, domain, include_bias

    def _features(self, x: Any) -> Any:
        x = _x1(x, "WaveletBasis")
        lo, hi = self.domain
        t = (x - lo) / (hi - lo)
        if self.kind == "haar":
            t = xp.where(t == 1.0, xp.nextafter(1.0, 0.0), t)  # the right end belongs to the last cell
        cols = []
        for j in range(self.levels):
            for k in range(2**j):
                if self.kind == "haar":
                    cols.append(2 ** (j / 2) * haar(2**j * t - k))
                else:
                    cols.append(mexican_hat((t - (k + 0.5) * 2.0**-j) / 2.0 ** (-j - 1)))
        return xp.stack(cols, axis=1) if cols else xp.zeros((x.shape[0], 0))

    def __repr__(self) -> str:
        return f"WaveletBasis(levels={self.levels}, kind={self.kind!r})"


def make_basis(name: str, size: int, domain: tuple[float, float] = (-1.0, 1.0), **kwargs) -> Basis:
    """A basis by name with about ``size`` functions on ``domain``: ``"polynomial"`` (degree = size),
    ``"rbf"`` (size centres evenly spaced, width = spacing), ``"fourier"`` (size harmonics, period = the
    domain length), ``"haar"`` / ``"mexican_hat"`` (size levels)."""
    lo, hi = domain
    if name == "polynomial":
        return PolynomialBasis(size, domain=domain, **kwargs)
    if name == "rbf":
        c = xp.linspace(lo, hi, size)
        return RBFBasis(c, width=kwargs.pop("width", (hi - lo) / max(size - 1, 1)), **kwargs)
    if name == "fourier":
        return FourierBasis(size, period=kwargs.pop("period", hi - lo), **kwargs)
    if name in ("haar", "mexican_hat"):
        return WaveletBasis(size, kind=name, domain=domain, **kwargs)
    raise ValueError(f"make_basis: unknown basis {name!r} (polynomial, rbf, fourier, haar, mexican_hat)")


class BasisRegression:
    """Basis-function regression (基函数回归): y ≈ w₀ + Σ_k w_k φ_k(x), fitted by least squares on Φ (``alpha = 0``,
    the minimum-norm solution when Φ has more columns than rows) or by ridge with penalty α‖w‖² on every weight but
    the constant w₀. ``fit(x, y)``, ``predict(x)``, ``coef_`` (weights of the non-constant functions), ``intercept_``."""

    def __init__(self, basis: Basis, alpha: float = 0.0, method: str = "lstsq") -> None:
        self.basis, self.alpha, self.method = basis, float(alpha), method
        self.coef_ = self.intercept_ = None

    def _phi(self, x: Any) -> Any:
        F = to_array(self.basis(x))
        return F[:, 1:] if self.basis.include_bias else F

    def fit(self, x: Any, y: Any) -> BasisRegression:
        (x, y), pack = unpack(x, y)
        Phi = self._phi(x)
        if self.alpha > 0:
            coef, b = ridge(Phi, y, self.alpha, fit_intercept=self.basis.include_bias)
        else:
            coef, b = ols(Phi, y, self.method, fit_intercept=self.basis.include_bias)
        self.coef_, self.intercept_, self._pack = coef, b, pack
        return self

    def predict(self, x: Any) -> Any:
        if self.coef_ is None:
            raise RuntimeError("BasisRegression is not fitted: call fit(x, y) first")
        (xa,), pack = unpack(x)
        return pack(self._phi(xa) @ self.coef_ + self.intercept_)

    def __repr__(self) -> str:
        return f"BasisRegression({self.basis!r}, alpha={self.alpha:g})"
