"""Spot checks for relu-regions: the notes' parameter formulas and the (D+1)^K construction."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.relu_regions import folding_net
from shenjing.nn.utils import count_linear_pieces_1d, count_linear_regions_1d, count_parameters


@pytest.mark.parametrize("d", [3, 7, 10])
def test_shallow_count_is_3d_plus_1(d):
    assert count_parameters(nn.mlp([1, d, 1])) == 3 * d + 1  # Fang §4.4


@pytest.mark.parametrize("d,k", [(3, 2), (4, 3), (10, 5)])
def test_deep_count(d, k):
    assert count_parameters(nn.mlp([1] + [d] * k + [1])) == 3 * d + 1 + (k - 1) * d * (d + 1)


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
