"""label-permutation: the measured facts checked independently of the experiment's code path."""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.lab.core import run_experiment


def test_label_permutation_quick_numbers(tmp_path):
    r = run_experiment("label-permutation", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"]
    assert sorted(m["permutation"]) == [0, 1, 2, 3] and m["permutation"] != [0, 1, 2, 3]
    assert m["max_loss_trajectory_diff"] < 1e-12 < m["unpermuted_init_loss_diff"]


def test_permuting_output_rows_and_labels_keeps_loss_and_gradient():
    sj.manual_seed(5)
    lin = nn.Linear(6, 5).double()
    x, y = sj.randn(20, 6, dtype=sj.float64), sj.randint(0, 5, (20,))
    perm = np.array([2, 4, 0, 1, 3])
    inv = np.argsort(perm)
    lin2 = nn.Linear(6, 5).double()
    lin2.load_state_dict({"weight": sj.tensor(lin.weight.detach().numpy()[inv]),
                          "bias": sj.tensor(lin.bias.detach().numpy()[inv])})
    l1 = F.cross_entropy(lin(x), y)
    l2 = F.cross_entropy(lin2(x), sj.tensor(perm[y.numpy()]))
    l1.backward()
    l2.backward()
    assert abs(l1.item() - l2.item()) < 1e-14
    np.testing.assert_allclose(lin2.weight.grad.numpy()[perm], lin.weight.grad.numpy(), atol=1e-14)
