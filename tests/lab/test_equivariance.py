"""equivariance: the measured facts checked independently of the experiment's code path."""

import numpy as np
import pytest
import torch

import shenjing as sj
from shenjing import nn
from shenjing.lab.core import missing_data, run_experiment
from shenjing.lab.experiments.equivariance import EXPERIMENT, edge_band, pool_unchanged, shift

needs_fashion = pytest.mark.skipif(bool(missing_data(EXPERIMENT)),
                                   reason="needs the Fashion-MNIST files, not found on this machine (`shenjing info` says where it looks)")


@needs_fashion
def test_equivariance_quick_numbers(tmp_path):
    r = run_experiment("equivariance", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"] and m["zeros_error_fraction_in_band"] == 1.0
    acc = m["accuracy_by_shift"]
    assert acc["cnn"][3] > acc["mlp"][3]


def test_circular_conv_commutes_with_roll_like_torch():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(1, 2, 12, 12)), rng.normal(size=(3, 2, 3, 3))
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", bias=False).double()
    tconv = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", bias=False).double()
    conv.load_state_dict({"weight": sj.tensor(w)})
    tconv.weight.data = torch.tensor(w)
    with sj.no_grad():
        a = conv(sj.tensor(shift(x, 4, -5, circular=True))).numpy()
    b = np.roll(tconv(torch.tensor(x)).detach().numpy(), (4, -5), axis=(-2, -1))
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_shift_and_edge_band():
    x = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(shift(x, 1, 0, circular=False)[0], 0)
    np.testing.assert_array_equal(shift(x, 1, 0, circular=False)[1:], x[:3])
    band = edge_band(8, 3, 0, 0)  # no shift: the one-pixel frame
    assert band.sum() == 64 - 36 and not band[1:-1, 1:-1].any()


def test_pool_unchanged_fraction_for_k2_is_one_third():
    assert abs(pool_unchanged(np.random.default_rng(0), 2, 300) - 1 / 3) < 0.02
