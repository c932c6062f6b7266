"""Regularised least squares (正则化): ridge (岭回归), lasso (套索回归) and elastic net (弹性网络).

One objective for the whole family, on the sum-of-squares scale of the ridge closed form::

    minimise  ‖y − Xw − b‖² + l1·‖w‖₁ + l2·‖w‖²          (the intercept b is never penalised)

* ridge   (l1 = 0, l2 = α):            w = (XᵀX + αI)⁻¹Xᵀy on centred data (Fang §3.2, Nelson)
* lasso   (l1 = α, l2 = 0):            α‖w‖₁ (Nelson, Fang §3.2)
* elastic net, Nelson's form:         γα‖w‖² + (1 − γ)α‖w‖₁, γ ∈ [0, 1] (γ = 1 ridge, γ = 0 lasso)
* elastic net, Fang's form:         ½‖y − Xw‖² + λ(ρ‖w‖₁ + (1 − ρ)‖w‖²), ρ ∈ [0, 1] weighting the L1
  part — the same problem as l1 = 2λρ, l2 = 2λ(1 − ρ) (so Nelson's (α, γ) equals Fang's
  (λ = α/2, ρ = 1 − γ)).

Nelson writes the data term as the mean (1/m)Σ(y − ŷ)² next to the closed form (XᵀX + αB)⁻¹Xᵀy;
that closed form minimises the *sum* form above (for the mean form α must be multiplied by m). The
intercept is handled by centring X and y (Nelson: "we do not regularise the bias weights ω₀").

scikit-learn's Ridge uses this scale (its α is ours); its Lasso and ElasticNet minimise
(1/2n)‖y − Xw‖² + a·r‖w‖₁ + ½a(1 − r)‖w‖², i.e. l1 = 2n·a·r and l2 = n·a·(1 − r) here.

Solvers for the L1 problems: cyclic coordinate descent (坐标下降, ``"cd"``, the default) and proximal
gradient with soft thresholding (近端梯度, ``"ista"``, and its accelerated form ``"fista"``).
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from .convert import centre, check_xy, unpack
from .least_squares import predict

__all__ = [
    "soft_threshold", "ridge", "lasso", "elastic_net", "elastic_net_rho", "penalised_least_squares",
    "objective", "alpha_max", "regularization_path", "Ridge", "Lasso", "ElasticNet",
]

SOLVERS = ("cd", "ista", "fista")


def soft_threshold(z: Any, t: float) -> Any:
    """S_t(z) = sign(z)·max(|z| − t, 0) (软阈值), the proximal map of t‖·‖₁."""
    return xp.sign(z) * xp.maximum(xp.abs(z) - t, 0.0)


# ----------------------------------------------------------------------------------------------
# solvers on centred float64 arrays, one target column at a time
# ----------------------------------------------------------------------------------------------
def _cd(X, y, l1, l2, w, max_iter, tol):
    """Cyclic coordinate descent: w_j ← S_{l1/2}(X_jᵀr_j) / (‖X_j‖² + l2), r_j the partial residual."""
    col_sq = (X * X).sum(axis=0)
    r = y - X @ w
    for it in range(1, max_iter + 1):
        max_dw = 0.0
        for j in range(X.shape[1]):
            old = w[j]
            if col_sq[j] == 0.0:
                new = 0.0
            else:
                rho = X[:, j] @ r + col_sq[j] * old
                new = math.copysign(max(abs(rho) - 0.5 * l1, 0.0), rho) / (col_sq[j] + l2)
            if new != old:
                r -= X[:, j] * (new - old)
                w[j] = new
                max_dw = max(max_dw, abs(new - old))
        if max_dw <= tol * max(float(xp.abs(w).max(initial=0.0)), 1e-12):
            return w, it
    return w, max_iter


def _prox_grad(X, y, l1, l2, w, max_iter, tol, accelerated):
    """ISTA / FISTA: w ← S_{t·l1}(w − t∇f(w)) with f = ‖y − Xw‖² + l2‖w‖², step t = 1/L, L = 2(σ_max² + l2)."""
    L = 2.0 * (float(xp.linalg.norm(X, 2)) ** 2 + l2) if X.size else 1.0
    t = 1.0 / max(L, 1e-300)
    z, s = w.copy(), 1.0
    XtX, Xty = X.T @ X, X.T @ y
    for it in range(1, max_iter + 1):
        grad = 2.0 * (XtX @ z - Xty) + 2.0 * l2 * z
        w_new = soft_threshold(z - t * grad, t * l1)
        dw = float(xp.abs(w_new - w).max(initial=0.0))
        if accelerated:
            s_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * s * s))
            z = w_new + ((s - 1.0) / s_new) * (w_new - w)
            s = s_new
        else:
            z = w_new
        w = w_new
        if dw <= tol * max(float(xp.abs(w).max(initial=0.0)), 1e-12):
            return w, it
    return w, max_iter


def _solve_columns(X, y, l1, l2, solver, max_iter, tol, w0):
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty weights must be >= 0, got l1={l1}, l2={l2}")
    Y = y[:, None] if y.ndim == 1 else y
    W0 = None if w0 is None else (w0[:, None] if w0.ndim == 1 else w0)
    coefs, iters = [], []
    for k in range(Y.shape[1]):
        w = xp.zeros(X.shape[1]) if W0 is None else W0[:, k].astype(xp.float64).copy()
        if solver == "cd":
            w, it = _cd(X, Y[:, k], l1, l2, w, max_iter, tol)
        else:
            w, it = _prox_grad(X, Y[:, k], l1, l2, w, max_iter, tol, solver == "fista")
        coefs.append(w)
        iters.append(it)
    W = xp.stack(coefs, axis=1)
    return (W[:, 0] if y.ndim == 1 else W), max(iters)


def penalised_least_squares(X: Any, y: Any, l1: float = 0.0, l2: float = 0.0, fit_intercept: bool = True, solver: str = "cd",
                            max_iter: int = 10_000, tol: float = 1e-10, w0: Any = None, return_n_iter: bool = False) -> tuple:
    """argmin ‖y − Xw − b‖² + l1‖w‖₁ + l2‖w‖² (the intercept b unpenalised; see the module).

    With l1 = 0 this is the ridge closed form; otherwise ``solver`` ``"cd"``, ``"ista"`` or ``"fista"``
    iterates from ``w0`` (zeros by default) until the largest coefficient change is below
    ``tol``·max|w|. Returns ``(coef, intercept)`` [+ the number of iterations].
    """
    (X, y, w0), pack = unpack(X, y, w0)
    X, y = check_xy(X, y, "penalised_least_squares")
    Xc, yc, xm, ym = centre(X, y, fit_intercept)
    if l1 == 0.0 and w0 is None:
        if l2 < 0:
            raise ValueError(f"ridge: alpha must be >= 0, got {l2}")
        d = X.shape[1]
        coef, n_iter = xp.linalg.solve(Xc.T @ Xc + l2 * xp.eye(d), Xc.T @ yc), 0
    else:
        coef, n_iter = _solve_columns(Xc, yc, float(l1), float(l2), solver, max_iter, tol, w0)
    out = (pack(coef), pack(ym - xm @ coef))
    return (*out, n_iter) if return_n_iter else out


def ridge(X: Any, y: Any, alpha: float = 1.0, fit_intercept: bool = True) -> tuple[Any, Any]:
    """Ridge regression (岭回归): w = (XᵀX + αI)⁻¹Xᵀy on centred data, i.e. argmin ‖y − Xw − b‖² + α‖w‖² with the
    intercept b unpenalised (Fang §3.2 with J(w) = ‖w‖²/2 under ½‖·‖², Nelson). Returns (coef, intercept)."""
    return penalised_least_squares(X, y, 0.0, alpha, fit_intercept)


def lasso(X: Any, y: Any, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "cd", max_iter: int = 10_000,
          tol: float = 1e-10, w0: Any = None) -> tuple[Any, Any]:
    """Lasso (套索回归): argmin ‖y − Xw − b‖² + α‖w‖₁ (Nelson; Fang §3.2 J(w) = ‖w‖₁). Sets coefficients
    exactly to zero once α ≥ :func:`alpha_max`. Returns (coef, intercept)."""
    return penalised_least_squares(X, y, alpha, 0.0, fit_intercept, solver, max_iter, tol, w0)


def elastic_net(X: Any, y: Any, alpha: float = 1.0, gamma: float = 0.5, fit_intercept: bool = True, solver: str = "cd",
                max_iter: int = 10_000, tol: float = 1e-10, w0: Any = None) -> tuple[Any, Any]:
    """Elastic net (弹性网络) as Nelson writes it: argmin ‖y − Xw − b‖² + γα‖w‖² + (1 − γ)α‖w‖₁, γ ∈ [0, 1]
    (γ = 1 ridge, γ = 0 lasso). Returns (coef, intercept)."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"elastic_net: gamma must be in [0, 1], got {gamma}")
    return penalised_least_squares(X, y, (1 - gamma) * alpha, gamma * alpha, fit_intercept, solver, max_iter, tol, w0)


def elastic_net_rho(X: Any, y: Any, lam: float = 1.0, rho: float = 0.5, fit_intercept: bool = True, solver: str = "cd",
                    max_iter: int = 10_000, tol: float = 1e-10, w0: Any = None) -> tuple[Any, Any]:
    """Elastic net as Fang §3.2 writes it: argmin ½‖y − Xw − b‖² + λ(ρ‖w‖₁ + (1 − ρ)‖w‖²), ρ ∈ [0, 1] weighting the
    L1 part (ρ = 1 lasso with α = 2λ, ρ = 0 ridge with α = 2λ). Equals :func:`elastic_net` with α = 2λ, γ = 1 − ρ."""
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"elastic_net_rho: rho must be in [0, 1], got {rho}")
    return penalised_least_squares(X, y, 2 * lam * rho, 2 * lam * (1 - rho), fit_intercept, solver, max_iter, tol, w0)


def objective(X: Any, y: Any, coef: Any, intercept: Any = 0.0, l1: float = 0.0, l2: float = 0.0) -> float:
    """‖y − Xw − b‖² + l1‖w‖₁ + l2‖w‖² (the value every solver here minimises)."""
    (X, y, coef, intercept), _ = unpack(X, y, coef, intercept)
    X, y = check_xy(X, y, "objective")
    r = y - X @ coef - intercept
    return float((r * r).sum() + l1 * xp.abs(coef).sum() + l2 * (coef * coef).sum())


def alpha_max(X: Any, y: Any, gamma: float = 0.0, fit_intercept: bool = True) -> float:
    """The smallest α at which the lasso (γ = 0) or Nelson's elastic net (γ < 1) sets every coefficient to zero:
    (1 − γ)α ≥ 2 max_j |X_jᵀ(y − ȳ)| (the subgradient condition at w = 0)."""
    (X, y), _ = unpack(X, y)
    X, y = check_xy(X, y, "alpha_max")
    Xc, yc, _, _ = centre(X, y, fit_intercept)
    if gamma >= 1.0:
        return math.inf
    return float(2.0 * xp.abs(Xc.T @ yc).max() / (1.0 - gamma))


def regularization_path(X: Any, y: Any, alphas: Any, penalty: str = "lasso", gamma: float = 0.5, fit_intercept: bool = True,
                        solver: str = "cd", max_iter: int = 10_000, tol: float = 1e-10) -> Any:
    """Coefficients along a sequence of α (正则化路径): shape (len(alphas), d) for y of shape (n,).

    ``penalty``: ``"ridge"`` (closed form), ``"lasso"`` or ``"elastic_net"`` (Nelson's γ). The L1 paths are
    computed from the largest α down with warm starts (each solution starts the next)."""
    (X, y, alphas), pack = unpack(X, y, alphas)
    X, y = check_xy(X, y, "regularization_path")
    if y.ndim != 1:
        raise ValueError(f"regularization_path: y must be one target of shape (n,), got {y.shape}")
    order = xp.argsort(-alphas)
    coefs = xp.zeros((len(alphas), X.shape[1]))
    w = None
    for i in order:
        a = float(alphas[i])
        if penalty == "ridge":
            coefs[i] = ridge(X, y, a, fit_intercept)[0]
            continue
        if penalty == "lasso":
            l1, l2 = a, 0.0
        elif penalty == "elastic_net":
            l1, l2 = (1 - gamma) * a, gamma * a
        else:
            raise ValueError(f"regularization_path: penalty must be 'ridge', 'lasso' or 'elastic_net', got {penalty!r}")
        w, _ = penalised_least_squares(X, y, l1, l2, fit_intercept, solver, max_iter, tol,
                                       w0=xp.zeros(X.shape[1]) if w is None else w)
        coefs[i] = w
    return pack(coefs)


class _Penalised:
    def __init__(self, fit_intercept: bool, solver: str, max_iter: int, tol: float) -> None:
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
        self.fit_intercept, self.solver, self.max_iter, self.tol = fit_intercept, solver, max_iter, tol
        self.coef_ = self.intercept_ = None
        self.n_iter_ = 0

    def _penalties(self) -> tuple[float, float]:
        raise NotImplementedError

    def fit(self, X: Any, y: Any):
        l1, l2 = self._penalties()
        self.coef_, self.intercept_, self.n_iter_ = penalised_least_squares(
            X, y, l1, l2, self.fit_intercept, self.solver, self.max_iter, self.tol, return_n_iter=True)
        return self

    def predict(self, X: Any) -> Any:
        return predict(X, self.coef_, self.intercept_)


class Ridge(_Penalised):
    """Ridge regression (岭回归), ‖y − Xw − b‖² + α‖w‖², closed form; scikit-learn's α."""

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True) -> None:
        super().__init__(fit_intercept, "cd", 0, 0.0)
        self.alpha = alpha

    def _penalties(self) -> tuple[float, float]:
        return 0.0, self.alpha

    def __repr__(self) -> str:
        return f"Ridge(alpha={self.alpha})"


class Lasso(_Penalised):
    """Lasso (套索回归), ‖y − Xw − b‖² + α‖w‖₁, by coordinate descent or proximal gradient."""

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "cd", max_iter: int = 10_000,
                 tol: float = 1e-10) -> None:
        super().__init__(fit_intercept, solver, max_iter, tol)
        self.alpha = alpha

    def _penalties(self) -> tuple[float, float]:
        return self.alpha, 0.0

    def __repr__(self) -> str:
        return f"Lasso(alpha={self.alpha}, solver={self.solver!r})"


class ElasticNet(_Penalised):
    """Elastic net (弹性网络), Nelson's ‖y − Xw − b‖² + γα‖w‖² + (1 − γ)α‖w‖₁; :meth:`from_rho` builds Fang's
    ½‖y − Xw − b‖² + λ(ρ‖w‖₁ + (1 − ρ)‖w‖²)."""

    def __init__(self, alpha: float = 1.0, gamma: float = 0.5, fit_intercept: bool = True, solver: str = "cd",
                 max_iter: int = 10_000, tol: float = 1e-10) -> None:
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"ElasticNet: gamma must be in [0, 1], got {gamma}")
        super().__init__(fit_intercept, solver, max_iter, tol)
        self.alpha, self.gamma = alpha, gamma

    @classmethod
    def from_rho(cls, lam: float = 1.0, rho: float = 0.5, **kwargs) -> ElasticNet:
        """Fang's parametrisation: λ, ρ ↦ α = 2λ, γ = 1 − ρ."""
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"ElasticNet.from_rho: rho must be in [0, 1], got {rho}")
        return cls(alpha=2 * lam, gamma=1 - rho, **kwargs)

    def _penalties(self) -> tuple[float, float]:
        return (1 - self.gamma) * self.alpha, self.gamma * self.alpha

    def __repr__(self) -> str:
        return f"ElasticNet(alpha={self.alpha}, gamma={self.gamma}, solver={self.solver!r})"
