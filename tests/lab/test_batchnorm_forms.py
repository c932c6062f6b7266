"""batchnorm-forms: the measured facts checked independently of the experiment's code path."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.lab.core import run_experiment


def test_batchnorm_forms_quick_numbers(tmp_path):
    r = run_experiment("batchnorm-forms", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"]
    diffs = m["eps_diffs"]
    assert 5 < diffs[0] / diffs[1] < 20  # the difference is ∝ ε
    assert m["output_std_ratio_small_s"] > 2


def test_fang_form_keeps_a_nearly_constant_feature_at_unit_scale():
    s, eps = 1e-3, 1e-5
    x = sj.tensor(np.array([[-s], [s]]))  # batch std exactly s
    fang = F.batch_norm(x, None, None, training=True, eps=eps, eps_form="std_plus_eps").numpy()
    torch_form = F.batch_norm(x, None, None, training=True, eps=eps).numpy()
    np.testing.assert_allclose(np.abs(fang), s / (s + eps), rtol=1e-12)
    np.testing.assert_allclose(np.abs(torch_form), s / np.sqrt(s * s + eps), rtol=1e-12)
