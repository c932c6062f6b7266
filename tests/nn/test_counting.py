"""Parameter counts and linear regions of ReLU nets (Fang §4.4–4.5, Zaslavsky 1975)."""

from math import comb

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.nn.utils import (
    activation_patterns,
    count_linear_pieces_1d,
    count_linear_regions_1d,
    count_linear_regions_2d,
    count_parameters,
    deep_max_regions_1d,
    deep_net_parameters,
    format_parameter_table,
    mlp_parameters,
    parameter_table,
    shallow_max_regions,
    shallow_net_parameters,
    zaslavsky_bound,
)


def shallow(w, b, v, c=0.0, d_in=1):
    """A shallow ReLU net with hand-set weights: x ↦ v·ReLU(W x + b) + c."""
    w = np.asarray(w, dtype=float).reshape(len(b), d_in)
    net = nn.Sequential(nn.Linear(d_in, len(b)), nn.ReLU(), nn.Linear(len(b), 1)).double()
    with sj.no_grad():
        net[0].weight.copy_(sj.tensor(w))
        net[0].bias.copy_(sj.tensor(np.asarray(b, dtype=float)))
        net[2].weight.copy_(sj.tensor(np.asarray(v, dtype=float).reshape(1, -1)))
        net[2].bias.fill_(c)
    return net


def deep(d_in, d, k, d_out=1):
    layers = [nn.Linear(d_in, d), nn.ReLU()]
    for _ in range(k - 1):
        layers += [nn.Linear(d, d), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(d, d_out)).double()


# ----------------------------------------------------------------- formulas


def test_parameter_formulas_match_modules():
    for d in (3, 5, 10):
        assert shallow_net_parameters(1, d, 1) == 3 * d + 1  # Fang §4.4
        assert count_parameters(deep(1, d, 1)) == 3 * d + 1
        for k in (2, 3, 4):
            formula = deep_net_parameters(1, d, 1, k)
            assert formula == 3 * d + 1 + (k - 1) * d * (d + 1)
            assert count_parameters(deep(1, d, k)) == formula
    # §4.5 with D_i inputs and D_o outputs
    assert shallow_net_parameters(4, 7, 3) == (4 + 1) * 7 + (7 + 1) * 3 == 4 * 7 + 7 + 7 * 3 + 3
    assert count_parameters(deep(4, 7, 1, 3)) == shallow_net_parameters(4, 7, 3)
    assert count_parameters(deep(4, 6, 3, 2)) == deep_net_parameters(4, 6, 2, 3) == mlp_parameters([4, 6, 6, 6, 2])
    assert mlp_parameters([3, 5, 2], bias=False) == 25


def test_count_parameters_trainable_and_table():
    net = deep(3, 4, 2)
    net[0].weight.requires_grad_(False)
    assert count_parameters(net, trainable_only=False) == mlp_parameters([3, 4, 4, 1])
    assert count_parameters(net) == mlp_parameters([3, 4, 4, 1]) - 12
    rows = parameter_table(net)
    assert [r["name"] for r in rows] == ["0", "2", "4", "total"]
    assert rows[0]["shapes"] == {"weight": (4, 3), "bias": (4,)} and rows[0]["count"] == 16 and rows[0]["trainable"] == 4
    assert rows[-1]["count"] == 41 and rows[-1]["trainable"] == 29
    text = format_parameter_table(net)
    assert "Linear" in text and "41" in text.splitlines()[-1]
    # a parameter shared by two modules is counted once
    shared = nn.Sequential(net[0], net[0])
    assert count_parameters(shared, trainable_only=False) == 16


def test_region_bounds():
    assert [shallow_max_regions(d) for d in (1, 2, 5)] == [2, 3, 6]  # D + 1
    assert deep_max_regions_1d(3, 2) == 16 and deep_max_regions_1d(5, 1) == 6
    assert zaslavsky_bound(3, 2) == 7  # 3 lines cut the plane into 7 regions
    assert zaslavsky_bound(10, 3) == 1 + 10 + 45 + 120
    assert zaslavsky_bound(4, 6) == 2 ** 4  # D ≤ D_i: every pattern
    assert zaslavsky_bound(5, 1) == 6 and zaslavsky_bound(0, 3) == 1
    for d in range(1, 8):
        for di in range(1, 5):
            assert zaslavsky_bound(d, di) == sum(comb(d, j) for j in range(di + 1))
    with pytest.raises(ValueError):
        zaslavsky_bound(-1, 2)


# ----------------------------------------------------------------- empirical counts


def test_shallow_1d_regions_equal_kinks_plus_one():
    w = [1.0, -2.0, 0.5, 1.0, 3.0, 1.0]
    b = [-0.2, 0.4, 0.1, 0.7, -2.4, -3.0]  # kinks −b/w: 0.2, 0.2 (twice), −0.2, −0.7, 0.8, 3.0
    net = shallow(w, b, v=[1.0, -1.0, 2.0, 0.5, -1.5, 1.0])
    kinks = {round(-bi / wi, 12) for wi, bi in zip(w, b) if -1 < -bi / wi < 1}
    n = count_linear_regions_1d(net, -1.0, 1.0, n=20_000)
    assert n == len(kinks) + 1 == 5
    assert n <= shallow_max_regions(len(w))
    assert count_linear_pieces_1d(net, -1.0, 1.0, n=20_000) == 5
    # on a wider interval the kink at 3 counts too
    assert count_linear_regions_1d(net, -4.0, 4.0, n=20_000) == 6


def test_zero_output_weight_merges_pieces():
    net = shallow([1.0, 1.0], [0.0, -0.5], v=[1.0, 0.0])  # unit 2's kink does not show in f
    assert count_linear_regions_1d(net, -1, 1, n=10_000) == 3
    assert count_linear_pieces_1d(net, -1, 1, n=10_000) == 2


def test_random_shallow_nets_never_exceed_d_plus_1(rng):
    for d in (2, 5, 9):
        for _ in range(5):
            net = shallow(rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal(d))
            r = count_linear_regions_1d(net, -10.0, 10.0, n=20_000)
            assert 1 <= r <= d + 1


def _tent_layer(first):
    """Two ReLU units giving the tent map t ↦ 2ReLU(t) − 4ReLU(t − ½) on [0, 1]."""
    lin = nn.Linear(1 if first else 2, 2).double()
    with sj.no_grad():
        if first:
            lin.weight.copy_(sj.tensor([[1.0], [1.0]]))
        else:  # the previous tent, folded into this layer's weights
            lin.weight.copy_(sj.tensor([[2.0, -4.0], [2.0, -4.0]]))
        lin.bias.copy_(sj.tensor([0.0, -0.5]))
    return lin


def test_deep_net_exceeds_shallow_bound():
    """K layers of D = 2 units compose tent maps: 2^K regions, more than D + 1 = 3 and within
    (D + 1)^K."""
    for k in (2, 3, 4):
        layers = []
        for i in range(k):
            layers += [_tent_layer(i == 0), nn.ReLU()]
        out = nn.Linear(2, 1).double()
        with sj.no_grad():
            out.weight.copy_(sj.tensor([[2.0, -4.0]]))
            out.bias.fill_(0.0)
        net = nn.Sequential(*layers, out)
        r = count_linear_regions_1d(net, 0.0, 1.0, n=40_000)
        assert r == 2 ** k
        assert shallow_max_regions(2) < r <= deep_max_regions_1d(2, k)
        assert count_linear_pieces_1d(net, 0.0, 1.0, n=40_000) == 2 ** k


def test_2d_regions_three_lines_and_zaslavsky(rng):
    # the lines x = 0, y = 0 and x + y = ½ in general position: 7 regions
    net = shallow([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.0, 0.0, -0.5], v=[1.0, 1.0, 1.0], d_in=2)
    count, ids = count_linear_regions_2d(net, (-1, 1), (-1, 1), n=300, return_map=True)
    assert count == 7 == zaslavsky_bound(3, 2)
    assert ids.shape == (300, 300) and len(np.unique(ids)) == 7
    for d in (3, 6):
        net = shallow(rng.standard_normal((d, 2)), rng.standard_normal(d), rng.standard_normal(d), d_in=2)
        assert count_linear_regions_2d(net, (-3, 3), (-3, 3), n=200) <= zaslavsky_bound(d, 2)


def test_raw_function_patterns():
    """A network written with raw ops passes its pre-activations itself."""
    W = sj.tensor([[1.0], [-1.0], [2.0]], dtype=sj.float64)
    b = sj.tensor([0.0, 0.5, -1.0], dtype=sj.float64)

    def pre(x):
        return [x @ W.T + b]

    x = sj.tensor([[-1.0], [0.25], [0.75]], dtype=sj.float64)
    pats = activation_patterns(pre, x)
    assert pats.tolist() == [[False, True, False], [True, True, False], [True, False, True]]
    assert count_linear_regions_1d(pre, -1.0, 1.0, n=1000) == 3  # kinks 0 and ½ (twice)
    with pytest.raises(ValueError):
        activation_patterns(nn.Linear(1, 1), x)
