import shenjing as sj
from shenjing.lab.experiments.vanishing_gradients import decay_factor, layer_gradient_norms


def test_sigmoid_gradients_vanish_and_residual_restores_them():
    sj.manual_seed(0)
    x = sj.randn(64, 16, dtype=sj.float64)
    y = sj.tanh(x[:, :1])
    plain = layer_gradient_norms("plain sigmoid", 10, 32, x, y)
    res = layer_gradient_norms("residual sigmoid", 10, 32, x, y)
    relu = layer_gradient_norms("plain relu", 10, 32, x, y)
    assert decay_factor(plain) < 0.35  # σ' ≤ 1/4 in every factor of the chain rule
    assert plain[0] / plain[-1] < 1e-4
    assert decay_factor(res) > 0.7 and 0.6 < decay_factor(relu) < 1.5
