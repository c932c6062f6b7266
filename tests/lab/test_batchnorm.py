import numpy as np

import shenjing as sj
from shenjing.lab.experiments.batchnorm import (
    CUMULATIVE,
    EMA,
    LRS,
    build,
    check_eval_mode,
    running_stats_convergence,
    running_stats_numbers,
    train_all,
    usable_lr,
)


def test_eval_mode_uses_running_statistics_on_an_untrained_net():
    sj.manual_seed(0)
    net = build(True)
    x = sj.randn(256, 784)
    net.train()
    with sj.no_grad():
        for i in range(0, 256, 32):  # give the running statistics something other than (0, 1)
            net(x[i:i + 32] * 2 + 1)
    x_b = sj.cat([x[:1], x[100:131]], 0)
    out = check_eval_mode(net, x[:32], x_b)
    assert out["eval_vs_running_stats_formula_max_abs"] < 1e-4
    assert out["eval_vs_batch_stats_formula_max_abs"] > 1e-2
    assert out["eval_sample_dependence_on_batch_max_abs"] < 1e-5
    assert out["train_sample_dependence_on_batch_max_abs"] > 1e-3
    bn = next(m for m in net.modules() if isinstance(m, sj.nn.BatchNorm1d))
    assert int(bn.num_batches_tracked.item()) == 8  # the train-mode check ran on a copy
    assert np.isfinite(bn.running_var.numpy()).all()


def test_usable_lr_is_the_largest_stable_and_accurate_one():
    final = {0.1: {"diverged_at": None, "test_accuracy": 0.8}, 0.3: {"diverged_at": None, "test_accuracy": 0.69},
             1.0: {"diverged_at": 7, "test_accuracy": 0.9}, 0.03: {"diverged_at": None, "test_accuracy": 0.75}}
    assert usable_lr(final, [0.03, 0.1, 0.3, 1.0]) == 0.1
    assert usable_lr({0.1: {"diverged_at": 3, "test_accuracy": 0.8}}, [0.1]) == 0.0


def test_running_statistics_approach_the_data_mean():
    sj.manual_seed(0)
    lin = sj.nn.Linear(784, 50)
    x = sj.randn(2000, 784) * 0.5 + 0.3
    conv = running_stats_convergence(lin, x, 120, 64, np.random.default_rng(1))
    ema, cum = conv[EMA]["mean_rel_error"], conv[CUMULATIVE]["mean_rel_error"]
    assert len(ema) == len(cum) == 120 and ema[0] > 0.85  # starts at 0: 1 − 0.1 of the way
    numbers = running_stats_numbers(conv, 120)
    assert numbers["ema_mean_rel_error_at_t10"] == ema[9] < 0.5
    assert numbers["ema_mean_rel_error_rms_over_noise_floor"] <= 1.5
    assert numbers["cumulative_mean_rel_error_final"] == cum[-1] < ema[-1]


def test_train_all_trains_both_nets_at_every_lr_and_counts_divergence_as_chance():
    rng = np.random.default_rng(0)
    x = sj.tensor(10 * rng.standard_normal((64, 784)).astype(np.float32))  # large inputs: the plain net diverges at lr ≥ 1
    y = sj.tensor(rng.integers(0, 10, 64))
    hist, final, nets = train_all((x, y, x, y), 4, 16, 2, 0)
    assert set(final) == {(bn, lr) for bn in (False, True) for lr in LRS} == set(nets) == set(hist)
    for (bn, lr), f in final.items():
        assert any(isinstance(m, sj.nn.BatchNorm1d) for m in nets[bn, lr].modules()) == bn
        assert f["diverged_at"] == hist[bn, lr]["diverged"]
    assert [lr for (bn, lr), f in final.items() if f["diverged_at"] is not None] == [1.0, 3.0]
    for lr in (1.0, 3.0):
        assert final[False, lr]["train_loss"] == float("inf") and final[False, lr]["test_accuracy"] == 1 - 0.9
    assert all(np.isfinite(final[True, lr]["train_loss"]) for lr in LRS)
