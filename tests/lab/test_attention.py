"""Spot checks of the attention experiment's parts: the formulas by hand, retrieval, the sort-head structure."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.lab.experiments.attention import (
    N_ITEMS,
    by_hand,
    retrieval,
    retrieval_data,
    retrieval_scores,
    sort_structure,
    transformer_numbers,
)


def test_the_module_computes_the_notes_formulas():
    out = by_hand(np.random.default_rng(0))
    assert out["max_diff"] <= 1e-12 and out["alpha_sum_error"] <= 1e-12
    for score in ("dot", "linear"):
        assert out[score]["alpha"].shape == (6,) and out[score]["alpha"].sum() == pytest.approx(1.0)


def test_retrieval_scores_of_an_oracle_and_a_blind_score():
    rng = np.random.default_rng(0)
    A = np.eye(16)
    q, X, k = retrieval_data(rng, 300, A)
    np.testing.assert_array_equal(q, X[np.arange(300), k])
    dot = nn.QueryAttention(16, score="dot").double()
    assert retrieval_scores(dot, q, X, k)["accuracy"] > 0.95  # A = I: qᵀx_i = x_kᵀx_i, largest at i = k
    blind = nn.QueryAttention(16, score="linear").double()
    blind.weight.data = sj.zeros(16, 16, dtype=sj.float64)  # e = 0: α uniform
    s = retrieval_scores(blind, q, X, k)
    assert s["mean_alpha_target"] == pytest.approx(1 / N_ITEMS)


def test_a_learned_score_learns_to_retrieve():
    r = retrieval(np.random.default_rng(0), steps=60)
    s = r["scores"]
    assert len(r["losses"]) == 60 and r["accs"][-1][0] == 60 and [a[0] for a in r["accs"][:2]] == [10, 20]
    assert r["losses"][-1] < r["losses"][0]
    assert s["linear_trained"]["accuracy"] > 2 * s["dot"]["accuracy"] and s["linear_trained"]["accuracy"] > s["linear_untrained"]["accuracy"]


def test_sort_structure_of_perfect_and_uniform_heads():
    x = np.array([[3, 1, 2, 1], [0, 2, 2, 1]])
    y = np.sort(x, axis=1)
    eq = (x[:, None, :] == y[:, :, None]).astype(float)
    perfect = eq / eq.sum(-1, keepdims=True)  # each query j attends to the tokens equal to y_j
    uniform = np.full((2, 4, 4), 0.25)
    maps = [sj.tensor(np.stack([perfect, uniform], 1))]  # one layer, two heads
    s = sort_structure(maps, x, y)
    assert s["mass"].shape == s["distance"].shape == (1, 2)
    assert s["mass"][0, 0] == pytest.approx(1.0) and s["distance"][0, 0] == 0.0
    assert s["mass"][0, 1] == pytest.approx(s["uniform_mass"]) and s["distance"][0, 1] == pytest.approx(s["uniform_distance"])
    tr = {**s, "steps": 1, "parameters": 1, "sequence_accuracy": 1.0}
    n = transformer_numbers(tr, 10, 1)
    assert n["best_head"] == "layer 0, head 0" and n["best_head_distance_over_uniform"] == 0.0
    assert n["best_head_mass_over_uniform"] == pytest.approx(1 / s["uniform_mass"])
