import math

import numpy as np

from shenjing.data import toy


def test_periodic_grid_puts_each_frequency_in_its_dft_bin():
    n = 64
    _, y = toy.multi_sine(n, freqs=(1, 3, 5), amplitudes=[1, 1, 1], low=-math.pi, high=math.pi - 2 * math.pi / n)
    spec = np.abs(np.fft.rfft(y.numpy()[:, 0]))
    assert np.allclose(spec[[1, 3, 5]], n / 2)
    others = np.delete(spec, [1, 3, 5])
    assert others.max() < 1e-4  # float32 data


def test_train_and_track_records_first_epochs_and_stops_after_a_tail():
    import shenjing as sj
    from shenjing.lab.experiments.frequency_principle import train_and_track

    sj.manual_seed(0)
    x, y, out, rel, hit = train_and_track((1, 3), 32, 32, 400, lr=1e-2)
    assert rel.ndim == 2 and rel.shape[1] == 2 and len(x) == len(out) == len(y) == 32
    assert set(hit) == {1, 3} and hit[1] < hit[3]
    assert (rel[hit[3] - 1, 1] < 0.1) and (rel[: hit[3] - 1, 1] >= 0.1).all()  # the first epoch below 0.1
    assert rel.shape[0] == min(hit[3] + max(hit[3] // 5, 20), 400)
