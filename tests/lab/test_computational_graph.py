import numpy as np

import shenjing as sj
from shenjing.lab.experiments.computational_graph import MulNodeAsPrinted, MyNetwork, db_three_ways


def test_dl_db_is_three_times_data():
    data, label, b0 = 1.7, -0.4, 0.3
    b = sj.tensor(b0, dtype=sj.float64, requires_grad=True)
    (3 * (label + b * data)).backward()
    assert b.grad.item() == 3 * data
    net = MyNetwork()
    net.forward(label, b0, data)
    assert np.isclose(net.backward(1.0)[1], 3 * data)
    net = MyNetwork(MulNodeAsPrinted)  # the printed erratum loses the factor 3
    net.forward(label, b0, data)
    assert np.isclose(net.backward(1.0)[1], data)


def test_three_ways_per_sample():
    data, label = np.array([0.5, -1.5, 2.0]), np.array([1.0, 0.0, -2.0])
    auto, nodes, printed = db_three_ways(data, label, 0.7)
    assert np.abs(auto - 3 * data).max() < 1e-12 and np.abs(nodes - auto).max() < 1e-12
    assert np.allclose(printed, data)
