"""Spot checks for relu-regions: the notes' parameter formulas, the (D+1)^K construction, the line
arrangement count and 1-homogeneity."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.relu_regions import (
    arrangement_count,
    bias_free_rays,
    folding_net,
    general_position_net,
    homogeneity,
    linear_layer,
    notes_parameter_count,
    parameter_counts,
)
from shenjing.nn.utils import count_linear_pieces_1d, count_linear_regions_1d, count_linear_regions_2d, count_parameters, zaslavsky_bound


@pytest.mark.parametrize("d", [3, 7, 10])
def test_shallow_count_is_3d_plus_1(d):
    assert count_parameters(nn.mlp([1, d, 1])) == 3 * d + 1 == notes_parameter_count(1, d, 1, 1)  # Fang §4.4


@pytest.mark.parametrize("d,k", [(3, 2), (4, 3), (10, 5)])
def test_deep_count(d, k):
    assert count_parameters(nn.mlp([1] + [d] * k + [1])) == 3 * d + 1 + (k - 1) * d * (d + 1) == notes_parameter_count(1, d, 1, k)


def test_parameter_count_rows_agree():
    rows = parameter_counts()
    assert all(r["count_parameters"] == r["notes_formula"] for r in rows)
    assert rows[-1]["notes_formula"] == 785 * 100 + 101 * 100 + 101 * 10  # 784-100-100-10


def test_linear_layer_sets_weight_and_bias():
    w, b = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.25, -1.0])
    lin = linear_layer(w, b)
    assert lin.weight.dtype == sj.float64 and np.array_equal(lin.weight.detach().numpy(), w)
    with sj.no_grad():
        out = lin(sj.tensor([[1.0, 1.0]], dtype=sj.float64)).numpy()
    assert np.array_equal(out, [[-0.75, 2.5]])


def test_sawtooth_doubles_pieces_per_layer():
    for k in range(1, 6):
        assert count_linear_pieces_1d(folding_net(2, k), 0.0, 1.0, n=20001) == 2 ** k


@pytest.mark.parametrize("d,k", [(3, 3), (4, 2), (5, 2)])
def test_zigzag_reaches_notes_bound(d, k):
    net = folding_net(d, k)
    assert count_linear_regions_1d(net, 0.0, 1.0, n=50001) == (d + 1) ** k
    assert count_linear_pieces_1d(net, 0.0, 1.0, n=50001) == (d + 1) ** k


def test_folding_map_zigzags_between_0_and_1():
    # D = 3: pieces of length 1/6, 1/6, 1/3, 1/3; the map goes 0 → 1 → 0 → 1 → 0 at its kinks
    x = sj.tensor([[0.0], [1 / 6], [1 / 3], [2 / 3], [1.0]], dtype=sj.float64)
    with sj.no_grad():
        y = folding_net(3, 1)(x).numpy().ravel()
    assert np.abs(y - [0, 1, 0, 1, 0]).max() < 1e-12


def test_arrangement_count():
    # the two axes cross inside the box: 4 quadrants; a line that misses the box adds nothing
    assert arrangement_count(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), 1.0) == 4
    assert arrangement_count(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -3.0]), 1.0) == 4
    # x + y = 0.5 crosses the box and both axes inside it: 3 more regions
    assert arrangement_count(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -0.5]), 1.0) == 7


def test_general_position_attains_zaslavsky():
    assert count_linear_regions_2d(general_position_net(), (-5, 5), (-5, 5), n=400) == zaslavsky_bound(6, 2) == 22


def test_homogeneity_holds_only_without_biases():
    sj.manual_seed(0)
    scale_err, odd_err = homogeneity(np.random.default_rng(0))
    assert max(scale_err["bias-free"].values()) < 1e-12 and min(scale_err["with bias"].values()) > 1e-3
    assert set(odd_err) == {"bias-free", "with bias"}


def test_bias_free_two_layer_net_is_two_rays():
    sj.manual_seed(1)
    rays, net = bias_free_rays()
    assert rays["linear_pieces"] <= 2 and max(rays["slope_errors"]) < 1e-12
    with sj.no_grad():
        assert abs(net(sj.tensor([[2.5]], dtype=sj.float64)).item() - 2.5 * rays["formula_sum_a_w_(w>0)"]) < 1e-12
