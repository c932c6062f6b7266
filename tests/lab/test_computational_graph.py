import numpy as np

import shenjing as sj
from shenjing.lab.experiments.computational_graph import MulNodeAsPrinted, MyNetwork


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
