"""Ordinary least squares (普通最小二乘, OLS): β̂ = argmin ‖Xβ − y‖² = (XᵀX)⁻¹Xᵀy.

Xu §1.2.1 eq. 1.10–1.12 (β̂ = (XᵀX)⁻¹XᵀY with the design matrix X = [x 1], the least-squares
estimate that the Gauss–Markov theorem calls BLUE); Fang §3.1 (the normal equations
(法方程组) ZᵀZw = Zᵀy, w* = Z†y with the Moore–Penrose pseudo-inverse (广义逆) Z†; QR decomposition
mentioned as the alternative).

Four solvers of the same problem:

* ``"normal"``: solve the normal equations (XᵀX)β = Xᵀy. Fast; squares the condition number.
* ``"qr"``: X = QR (reduced), then Rβ = Qᵀy. Numerically stabler; needs full column rank.
* ``"lstsq"``: the backend's SVD least-squares solver; handles rank deficiency (minimum-norm solution).
* ``"pinv"``: β = X†y with the pseudo-inverse; equal to ``"lstsq"``.
"""

from __future__ import annotations

from typing import Any

from ..backend import xp
from .convert import centre, check_xy, to_array, unpack

__all__ = ["METHODS", "design_matrix", "solve_least_squares", "ols", "LinearRegression"]

METHODS = ("normal", "qr", "lstsq", "pinv")


def design_matrix(x: Any, position: str = "last") -> Any:
    """The design matrix (设计矩阵) with a column of ones: [x 1] as Xu eq. 1.11 writes it
    (``position="last"``), or [1 x] as Fang §3.1 (``"first"``). Returns the kind it was given."""
    (x,), pack = unpack(x)
    if x.ndim == 1:
        x = x[:, None]
    ones = xp.ones((x.shape[0], 1))
    if position not in ("first", "last"):
        raise ValueError(f"design_matrix: position must be 'first' or 'last', got {position!r}")
    return pack(xp.hstack([x, ones] if position == "last" else [ones, x]))


def solve_least_squares(A: Any, b: Any, method: str = "normal") -> Any:
    """argmin_w ‖Aw − b‖² for float64 backend arrays A (n, p) and b (n,) or (n, k), by ``method``."""
    if method == "normal":
        G = A.T @ A
        msg = (f"ols: XᵀX ({G.shape[0]}×{G.shape[1]}) is singular to working precision — the columns of X are (nearly) "
               "linearly dependent; use method='lstsq' or 'pinv' for the minimum-norm solution")
        s = xp.linalg.svd(G, compute_uv=False) if G.size else xp.ones(1)
        if s[-1] <= s[0] * G.shape[0] * xp.finfo(xp.float64).eps:
            raise ValueError(msg)
        try:
            return xp.linalg.solve(G, A.T @ b)
        except xp.linalg.LinAlgError as e:
            raise ValueError(msg) from e
    if method == "qr":
        Q, R = xp.linalg.qr(A, mode="reduced")
        d = xp.abs(xp.diag(R))
        if d.size and d.min() <= d.max() * A.shape[0] * xp.finfo(xp.float64).eps:
            raise ValueError("ols: R of the QR decomposition is singular (X lacks full column rank); use method='lstsq' or 'pinv'")
        return _back_substitute(R, Q.T @ b)
    if method == "lstsq":
        return xp.linalg.lstsq(A, b, rcond=None)[0]
    if method == "pinv":
        return xp.linalg.pinv(A) @ b
    raise ValueError(f"ols: method must be one of {', '.join(METHODS)}, got {method!r}")


def _back_substitute(R: Any, c: Any) -> Any:
    """Solve the upper-triangular system Rw = c (回代)."""
    p = R.shape[0]
    w = xp.zeros((p,) + c.shape[1:])
    for i in range(p - 1, -1, -1):
        w[i] = (c[i] - R[i, i + 1:] @ w[i + 1:]) / R[i, i]
    return w


def ols(X: Any, y: Any, method: str = "normal", fit_intercept: bool = False) -> tuple[Any, Any]:
    """Ordinary least squares (最小二乘估计): β̂ = (XᵀX)⁻¹Xᵀy (Xu eq. 1.10, Fang §3.1).

    ``method``: ``"normal"`` (normal equations), ``"qr"``, ``"lstsq"`` or ``"pinv"`` (see the module).
    ``fit_intercept=True`` adds an unpenalised constant: X and y are centred, β̂ is solved on the centred
    data and the intercept is ȳ − x̄ᵀβ̂ (the same β̂ as a column of ones in X).

    Returns ``(coef, intercept)``: coef (d,) or (d, k) for y (n,) or (n, k); intercept () or (k,) (zero
    without ``fit_intercept``). Tensors in give Tensors out.
    """
    (X, y), pack = unpack(X, y)
    X, y = check_xy(X, y, "ols")
    Xc, yc, xm, ym = centre(X, y, fit_intercept)
    coef = solve_least_squares(Xc, yc, method)
    return pack(coef), pack(ym - xm @ coef)


class LinearRegression:
    """OLS linear regression (线性回归) with the scikit-learn interface: ``fit(X, y)``, ``predict(X)``,
    ``coef_``, ``intercept_``. ``method`` as in :func:`ols`."""

    def __init__(self, fit_intercept: bool = True, method: str = "normal") -> None:
        if method not in METHODS:
            raise ValueError(f"LinearRegression: method must be one of {', '.join(METHODS)}, got {method!r}")
        self.fit_intercept, self.method = fit_intercept, method
        self.coef_ = self.intercept_ = None

    def fit(self, X: Any, y: Any) -> LinearRegression:
        self.coef_, self.intercept_ = ols(X, y, self.method, self.fit_intercept)
        return self

    def predict(self, X: Any) -> Any:
        return predict(X, self.coef_, self.intercept_)

    def __repr__(self) -> str:
        return f"LinearRegression(fit_intercept={self.fit_intercept}, method={self.method!r})"


def predict(X: Any, coef: Any, intercept: Any) -> Any:
    """Xβ + b, of the kind of ``X``."""
    if coef is None:
        raise RuntimeError("the model is not fitted: call fit(X, y) first")
    (Xa,), pack = unpack(X)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    return pack(Xa @ to_array(coef).astype(xp.float64) + to_array(intercept).astype(xp.float64))
