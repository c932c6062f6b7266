"""gd-vs-sgd: on a loss whose full-batch gradient vanishes exactly at a saddle, GD started on the
saddle's stable line converges to the saddle while SGD's batch noise carries it to a minimum; the
training loops record what the comparison reads, and a step's time is the minimum over repeats."""

import numpy as np

from shenjing.lab.experiments.gd_vs_sgd import first_reaching, saddle_runs, sine_mlp, step_seconds, train_gd, train_sgd


def test_gd_stays_on_the_saddle_sgd_leaves(rng):
    z = rng.standard_normal(50)
    xs = np.concatenate([z, -z])
    gd = saddle_runs([[1.0, 0.0]], 0.1, 150, None, xs, rng)
    assert gd[-1, 0, 1] == 0.0 and abs(gd[-1, 0, 0]) < 1e-5
    sgd = saddle_runs(np.tile([1.0, 0.0], (10, 1)), 0.1, 150, 5, xs, rng)
    assert np.all(np.abs(sgd[-1, :, 1]) > 0.5)  # in a minimum θ₂ = ±1


def test_train_gd_records_the_loss_before_every_step_and_after_the_last():
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.data import toy

    X, Y = toy.sine(64, freq=2.0, noise=0.1, random_x=True, seed=0)
    run = train_gd(X, Y, 0.1, 5, seed=3)
    model = sine_mlp(3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    manual = []
    for _ in range(6):
        loss = F.mse_loss(model(X), Y)
        manual.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert run["epoch"].tolist() == [0, 1, 2, 3, 4, 5] and np.allclose(run["loss"], manual, rtol=1e-6)
    assert first_reaching(run, run["loss"][-1]) <= 5 and first_reaching(run, -1.0) == float("inf")


def test_sgd_epochs_and_step_costs():
    from shenjing.data import toy

    X, Y = toy.sine(256, freq=2.0, noise=0.1, random_x=True, seed=0)
    run = train_sgd(X, Y, 0.1, 32, 2, seed=0, rng=np.random.default_rng(0), every=4)
    assert run["epoch"].tolist() == [0, 0.5, 1.0, 1.5, 2.0]  # 8 steps per epoch, the loss every 4
    assert run["loss"][-1] < run["loss"][0]
    cost = step_seconds(X, Y, 32, seed=0, repeat=3)
    assert set(cost) == {"gd", "sgd"} and all(0 < c[k] < 1 for c in cost.values() for k in ("cpu", "wall"))
