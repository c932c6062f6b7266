"""Spot checks of the cnn-vs-mlp experiment: the models it compares, their parameter counts, and its helpers."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, optim
from shenjing.lab.core import missing_data
from shenjing.lab.experiments.cnn_vs_mlp import EXPERIMENT, EvalEvery, fashion_subsets, feature_maps, loader, model_specs
from shenjing.nn.utils import count_parameters
from shenjing.train import Trainer
from shenjing.train.registry import build_model

needs_fashion = pytest.mark.skipif(bool(missing_data(EXPERIMENT)),
                                   reason="needs the Fashion-MNIST files, not found on this machine (`shenjing info` says where it looks)")


def test_the_cnn_has_far_fewer_parameters_than_the_mlps():
    cnn = build_model("cnn", (1, 28, 28), 10, channels=(16, 32), convs=1, dropout=0.0)
    # conv 1·16·9 + BN 2·16 + conv 16·32·9 + BN 2·32 + Linear 32·7·7·10 + 10 (convolutions without bias before BN)
    assert count_parameters(cnn) == 144 + 32 + 4608 + 64 + 15690 == 20538
    assert count_parameters(build_model("mlp", (1, 28, 28), 10, hidden=(512, 512))) == 785 * 512 + 513 * 512 + 513 * 10 == 669706
    assert count_parameters(build_model("mlp", (1, 28, 28), 10, hidden=(64,))) == 785 * 64 + 65 * 10 == 50890


def test_model_specs_are_the_registry_models_and_lenet_only_in_full_mode():
    assert list(model_specs(True)) == ["mlp", "mlp-64", "cnn"] and list(model_specs(False)) == ["mlp", "mlp-64", "cnn", "lenet5"]
    params = {name: count_parameters(build_model(reg, (1, 28, 28), 10, **opts)) for name, (reg, opts) in model_specs(False).items()}
    assert params["cnn"] < min(params["mlp"], params["mlp-64"])


def test_loader_shares_the_arrays_and_shuffles_reproducibly():
    x = np.arange(40, dtype=np.float32).reshape(10, 1, 2, 2)
    y = np.arange(10, dtype=np.int64)
    assert np.shares_memory(loader(x, y, 4).dataset.tensors[0].array, x)
    assert [b[1].tolist() for b in loader(x, y, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    a = [b[1].tolist() for b in loader(x, y, 4, shuffle=True, seed=3)]
    assert a == [b[1].tolist() for b in loader(x, y, 4, shuffle=True, seed=3)] and sorted(sum(a, [])) == list(range(10))


def test_eval_every_records_before_at_the_listed_updates_and_at_the_end():
    sj.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, 40)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    cb = EvalEvery(loader(x, y, 20), at=[3, 7])
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), callbacks=[cb], progress=False).fit(loader(x, y, 8), epochs=2)
    assert cb.steps == [0, 3, 7, 10] and len(cb.acc) == 4 and all(0 <= a <= 1 for a in cb.acc)


def test_feature_maps_are_the_first_conv_kernels_and_rectified_maps():
    sj.manual_seed(0)
    cnn = build_model("cnn", (1, 28, 28), 10, channels=(16, 32), convs=1, dropout=0.0)
    kernels, maps = feature_maps(cnn, np.random.default_rng(0).standard_normal((1, 28, 28)).astype(np.float32))
    assert kernels.shape == (16, 3, 3) and maps.shape == (16, 28, 28) and maps.min() >= 0
    np.testing.assert_array_equal(kernels, cnn.features[0].weight.detach().numpy()[:, 0])


@needs_fashion
def test_fashion_subsets_are_disjoint_standardised_and_seeded():
    d = fashion_subsets(500, 200, 0, n_val=300)
    (x, y), (xv, yv), (xt, yt) = d["train"], d["val"], d["test"]
    assert x.shape == (500, 1, 28, 28) and xv.shape == (300, 1, 28, 28) and xt.shape == (200, 1, 28, 28)
    assert len(y) == 500 and len(yv) == 300 and len(yt) == 200 and set(np.unique(yt)) <= set(range(10))
    assert x.dtype == np.float32 and y.dtype == np.int64 and abs(float(x.mean())) < 0.2
    assert not {a.tobytes() for a in x} & {a.tobytes() for a in xv}
    np.testing.assert_array_equal(fashion_subsets(500, 200, 0, n_val=300)["train"][1], y)
