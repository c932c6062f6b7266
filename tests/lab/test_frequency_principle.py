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
