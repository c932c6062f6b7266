import shenjing as sj
from shenjing.lab.experiments.initialisation import preactivation_variances, train_symmetry, variance_factor


def test_equal_init_keeps_hidden_units_identical():
    g = sj.Generator().manual_seed(1)
    spreads, first, last = train_symmetry("constant", 20, g)
    assert len(spreads) == 21  # before training and after each of the 20 steps
    assert max(spreads) < 1e-12 and last < first  # it trains, but as one neuron per layer
    spreads, _, _ = train_symmetry("kaiming", 5, g)
    assert spreads[-1] > 0.1


def test_relu_variance_factor_kaiming_one_xavier_half():
    g = sj.Generator().manual_seed(2)
    k = preactivation_variances("kaiming", "relu", 128, 10, 256, g)
    x = preactivation_variances("xavier", "relu", 128, 10, 256, g)
    assert 0.8 < variance_factor(k, 2, 10) < 1.25
    assert 0.4 < variance_factor(x, 2, 10) < 0.6
    assert max(preactivation_variances("zero", "tanh", 16, 4, 8, g)[1:]) == 0.0


def test_variance_factor_is_the_geometric_mean_ratio():
    assert variance_factor([1.0, 2.0, 4.0, 8.0], 1, 4) == 2.0
    assert variance_factor([1.0, 0.0, 4.0], 1, 2) == 0.0
