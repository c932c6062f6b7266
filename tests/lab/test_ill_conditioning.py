"""ill-conditioning: the iteration count, the zig-zag measure and the ratios the checks use (Nelson Fig. 4-9)."""

import numpy as np

from shenjing import optim
from shenjing.lab.experiments.ill_conditioning import A_VALUES, best_on_valley, derived_ratios, iterations_to_converge, least_squares_valley, zigzag_fraction


def test_iterations_count_from_where_the_loss_stays_below_the_tolerance():
    losses = np.array([[1.0, 1.0, 1.0], [1e-9, 0.5, 1e-9], [1e-3, 1e-9, 1e-9], [1e-9, 1e-9, 1e-9]])
    # column 0 dips below 1e-8 at step 1 but comes back: it counts from step 3; column 1 from step 2
    assert iterations_to_converge(losses, 1e-8).tolist() == [3, 2, 1]
    assert iterations_to_converge(np.array([[1.0], [0.5]]), 1e-8)[0] == 10 ** 9  # never: the sentinel


def test_zigzag_counts_crossings_of_the_valley_floor_only():
    t = np.array([[-4.0, 1.0], [-3.0, -1.0], [-2.0, 1.0], [1.0, -1.0], [2.0, -0.5]])
    assert zigzag_fraction(t) == 0.5  # steps 1, 2 cross; step 3 also crosses ω₁ = 0; step 4 does not cross
    assert zigzag_fraction(t[:1]) == 0.0


def test_gd_needs_more_iterations_and_zigzags_in_a_narrow_valley():
    etas = np.geomspace(1e-3, 3.0, 24)
    wide, narrow = (best_on_valley(optim.SGD, a, etas, 300) for a in (1.0, 40.0))
    assert narrow["iterations"] >= 10 * wide["iterations"]
    assert zigzag_fraction(narrow["trajectory"]) >= 0.9
    adam = [best_on_valley(optim.Adagrad, a, np.geomspace(1e-2, 1.0, 24), 200)["iterations"] for a in (1.0, 40.0)]
    assert adam[1] <= 1.25 * adam[0]


def test_standardising_removes_the_dependence_on_a():
    etas = np.geomspace(1e-3, 3.0, 24)
    rng = np.random.default_rng(0)
    low, high = (least_squares_valley(a, etas, 300, rng) for a in (1.0, 40.0))
    assert high["raw"]["condition_number"] > 20 * low["raw"]["condition_number"]
    assert high["standardised"]["condition_number"] < 1.5
    assert high["raw"]["iterations"] >= 5 * high["standardised"]["iterations"]


def test_derived_ratios():
    gd = {a: {"iterations": it} for a, it in zip(A_VALUES, (4, 60, 120))}
    reg = {a: {"raw": {"iterations": r}, "standardised": {"iterations": s}} for a, r, s in zip(A_VALUES, (5, 80, 150), (5, 6, 4))}
    ada = {"Adam": {1.0: {"iterations": 40}, 40.0: {"iterations": 50}}, "RMSprop": {1.0: {"iterations": 30}, 40.0: {"iterations": 30}}}
    r = derived_ratios(gd, reg, ada)
    assert r["gd_iterations_growth"] == {"a=20 over a=1": 15.0, "a=40 over a=20": 2.0}
    assert r["gd_iterations_ratio_a40_over_a1"] == 30.0 and r["least_squares_raw_ratio_a40_over_a1"] == 30.0
    assert r["least_squares_raw_a40_over_worst_standardised"] == 25.0
    assert r["adaptive_ratio_a40_over_a1"] == {"Adam": 1.25, "RMSprop": 1.0}
    assert r["best_adaptive_iterations_at_a40"] == 30 and r["gd_over_best_adaptive_iterations_a40"] == 4.0
