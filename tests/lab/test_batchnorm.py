import numpy as np

import shenjing as sj
from shenjing.lab.experiments.batchnorm import build, check_eval_mode


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
