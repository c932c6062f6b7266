import shenjing as sj
from shenjing.lab.experiments.initialisation import _factor, preactivation_variances, train_symmetry


def test_equal_init_keeps_hidden_units_identical():
    g = sj.Generator().manual_seed(1)
    spreads, first, last = train_symmetry("constant", 20, g)
    assert max(spreads) < 1e-12 and last < first  # it trains, but as one neuron per layer
    spreads, _, _ = train_symmetry("kaiming", 5, g)
    assert spreads[-1] > 0.1


def test_relu_variance_factor_kaiming_one_xavier_half():
    g = sj.Generator().manual_seed(2)
    k = preactivation_variances("kaiming", "relu", 128, 10, 256, g)
    x = preactivation_variances("xavier", "relu", 128, 10, 256, g)
    assert 0.8 < _factor(k, 2, 10) < 1.25
    assert 0.4 < _factor(x, 2, 10) < 0.6
    assert max(preactivation_variances("zero", "tanh", 16, 4, 8, g)[1:]) == 0.0
