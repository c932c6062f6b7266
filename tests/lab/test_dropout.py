"""dropout: the measured facts checked independently of the experiment's code path."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.lab.core import run_experiment


def test_dropout_quick_numbers(tmp_path):
    r = run_experiment("dropout", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"] and m["max_grad_of_dropped_units"] == 0.0
    assert 0.4 < m["dropped_fraction"] < 0.6
    errs = m["mc_rel_errors"]
    assert errs[-1] < errs[0] / 10  # 1000× more masks: about √1000 ≈ 32× smaller error


def test_inverted_dropout_scales_kept_units_and_zeroes_grad():
    sj.manual_seed(3)
    x = sj.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.25, training=True)
    y.sum().backward()
    v = y.detach().numpy()
    assert np.all((v == 0) | np.isclose(v, 1 / 0.75, rtol=1e-6))
    assert 0.15 < (v == 0).mean() < 0.35
    np.testing.assert_allclose(x.grad.numpy(), v)  # d(sum)/dx equals the mask scaled by 1/(1−p)
