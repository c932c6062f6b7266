"""Spot checks of the regularisers experiment's helpers (the run itself is in test_lab.py)."""

import numpy as np
import pytest

from shenjing.lab.experiments.cnn_vs_mlp import loader
from shenjing.lab.experiments.regularisers import comparison, evaluate, noisy_labels, weights, wide_mlp


def test_noisy_labels_flip_to_a_different_class():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 5000)
    noisy, flip = noisy_labels(y, 0.3, rng)
    assert abs(flip.mean() - 0.3) < 0.03
    assert (noisy[flip] != y[flip]).all() and (noisy[~flip] == y[~flip]).all()
    assert noisy.min() >= 0 and noisy.max() <= 9


def test_dropout_variant_has_the_same_parameters():
    a, b = wide_mlp(64), wide_mlp(64, p_in=0.2, p_hidden=0.5)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb) and all(sa[k].shape == sb[k].shape for k in sa)


def test_weights_are_a_copy():
    import shenjing as sj

    model = wide_mlp(8)
    w = weights(model)
    with sj.no_grad():
        model[2].weight.fill_(0.0)
    assert np.abs(w["2.weight"]).sum() > 0 and list(w) == list(model.state_dict())


def test_evaluate_is_the_mean_cross_entropy_and_accuracy_in_eval_mode():
    import shenjing as sj
    import shenjing.nn.functional as F

    sj.manual_seed(0)
    model = wide_mlp(8, p_in=0.5, p_hidden=0.5).train()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((30, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 30)
    loss, acc = evaluate(model, loader(x, y, 7))
    assert model.training  # restored
    model.eval()
    with sj.no_grad():
        out = model(sj.tensor(x))
    assert loss == pytest.approx(F.cross_entropy(out, sj.tensor(y)).item(), rel=1e-6)
    assert acc == float((out.numpy().argmax(1) == y).mean())


def _run(test_acc, test_loss, gap, val=(1.0,), train=(1.0,)):
    return {"test_acc": test_acc, "test_loss": test_loss, "gap": gap, "history": [],
            "curves": [{"val_loss": v, "train_loss": t} for v, t in zip(val, train)]}


def test_comparison_measures_overfitting_and_each_regulariser_against_the_baseline():
    runs = {"none": _run(0.70, 1.2, 0.25, val=(1.0, 0.8, 1.4), train=(1.0, 0.6, 0.2)),
            "dropout": _run(0.75, 0.9, 0.05), "weight decay": _run(0.71, 1.3, 0.10), "early stopping": _run(0.73, 0.8, 0.02)}
    runs["none"]["history"] = [{"train_loss": 1.0, "val_loss": 0.9}, {"train_loss": 0.5, "val_loss": 0.8}]
    runs["early stopping"].update(best_epoch=2, stopped_epoch=7, epochs_run=7, restored_equals_checkpoint=True, restored_differs_from_last=True,
                                  best_val_loss_recorded=0.8, val_loss_restored=0.8, history=runs["none"]["history"][:1])
    c = comparison(runs)
    assert c["baseline_val_loss_min_epoch"] == 2 and c["baseline_val_loss_final_over_min"] == pytest.approx(1.75)
    assert c["baseline_train_loss_final_over_at_val_min"] == pytest.approx(0.2 / 0.6)
    assert c["test_acc_gain"] == pytest.approx({"dropout": 0.05, "weight decay": 0.01, "early stopping": 0.03})
    assert c["test_loss_change"]["weight decay"] > 0 and c["gap_change"]["dropout"] == pytest.approx(-0.2)
    assert c["early_stopping"]["val_loss_restored_minus_best"] == 0.0 and c["early_stopping_trajectory_equals_baseline"] is True
    runs["early stopping"]["history"] = [{"train_loss": 1.0, "val_loss": 0.95}]
    assert comparison(runs)["early_stopping_trajectory_equals_baseline"] is False
