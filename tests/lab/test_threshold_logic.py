"""Threshold logic (Xu §1.1): exactly XOR and XNOR are out of reach of one threshold unit."""

import numpy as np

from shenjing.lab.experiments.threshold_logic import NAMES, _patterns


def test_fourteen_of_sixteen_boolean_functions():
    g = np.arange(-2.0, 2.01, 0.5)
    W1, W2, T = np.meshgrid(g, g, g, indexing="ij")
    pats = {tuple(p) for p in _patterns(np.stack([W1.ravel(), W2.ravel()], 1), T.ravel())}
    assert len(pats) == 14
    assert {NAMES[p] for p in set(NAMES) - pats} == {"XOR", "XNOR"}
