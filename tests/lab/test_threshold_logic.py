"""Threshold logic (Xu §1.1): exactly XOR and XNOR are out of reach of one threshold unit."""

import numpy as np

from shenjing.lab.experiments.threshold_logic import NAMES, TRUTH, gate_tables, single_unit_census, unit_patterns, xor_hidden_layer


def test_fourteen_of_sixteen_boolean_functions():
    g = np.arange(-2.0, 2.01, 0.5)
    W1, W2, T = np.meshgrid(g, g, g, indexing="ij")
    pats = {tuple(p) for p in unit_patterns(np.stack([W1.ravel(), W2.ravel()], 1), T.ravel())}
    assert len(pats) == 14
    assert {NAMES[p] for p in set(NAMES) - pats} == {"XOR", "XNOR"}


def test_census_counts_units_per_function():
    counts, n_grid = single_unit_census(1.0, 500, np.random.default_rng(0))
    assert n_grid == 5 ** 3 and sum(c for c, _ in counts.values()) == n_grid
    assert sum(r for _, r in counts.values()) == 500
    assert counts["XOR"] == (0, 0) and counts["XNOR"] == (0, 0) and counts["AND"][0] > 0


def test_gates_and_the_text_of_fig_1_4():
    tables = gate_tables()
    for gate, truth in TRUTH.items():
        assert tables[gate] == truth
    assert tables["strict AND"] == [0, 0, 0, 0] and tables["strict OR"] == [0, 0, 0, 1]  # the '>' reading of §1.12
    pre, hidden, text_equal, text_differ = xor_hidden_layer()
    assert text_equal and text_differ
    assert hidden.tolist() == [[1, 1], [0, 1], [1, 0], [1, 1]] and pre.tolist()[1] == [0.0, 2.0]
