"""Classical linear models (经典线性模型), closed form and iterative.

* :mod:`~shenjing.linear.least_squares`: OLS (最小二乘) by the normal equations (XᵀX)⁻¹Xᵀy, QR and
  lstsq/pseudo-inverse (Xu §1.2 eq. 1.10, Fang §3.1).
* :mod:`~shenjing.linear.regularized`: ridge (岭回归) closed form with an unpenalised intercept, lasso
  (套索回归) and elastic net (弹性网络, Nelson's γ and Fang's ρ forms) by coordinate descent or
  proximal gradient (Fang §3.2, Nelson).
* :mod:`~shenjing.linear.basis`: basis-function regression with polynomial, RBF, Fourier and wavelet
  bases (基函数, Fang §3.1).
* :mod:`~shenjing.linear.perceptron`: McCulloch–Pitts threshold units for AND/OR/NOT and the two-layer
  XOR network (Xu §1.1), the Rosenblatt perceptron with the correct sign (Xu §1.12,
  Wang 三.I) and ADALINE/LMS.

Functions accept shenjing Tensors or arrays and return the same kind; the work is done on float64
backend arrays.
"""

from .basis import (
    Basis,
    BasisRegression,
    FourierBasis,
    PolynomialBasis,
    RBFBasis,
    WaveletBasis,
    haar,
    make_basis,
    mexican_hat,
)
from .least_squares import METHODS, LinearRegression, design_matrix, ols, predict, solve_least_squares
from .perceptron import (
    Adaline,
    AdalineResult,
    Perceptron,
    PerceptronResult,
    ThresholdUnit,
    adaline,
    and_unit,
    mistake_bound,
    not_unit,
    or_unit,
    perceptron,
    xor_network,
    xor_threshold_network,
)
from .regularized import (
    ElasticNet,
    Lasso,
    Ridge,
    alpha_max,
    elastic_net,
    elastic_net_rho,
    lasso,
    objective,
    penalised_least_squares,
    regularization_path,
    ridge,
    soft_threshold,
)
