"""optimiser-zoo: each optimiser formula of the notes, transcribed in NumPy, is exactly the shenjing
option documented for it, and the two reformulations hold (EMA momentum = heavy ball with lr·(1 − ρ);
PyTorch's nesterov=True iterate = the notes' θ − ημm)."""

from shenjing.lab.experiments.optimiser_zoo import FUNCTIONS, ZOO, beale, compare_forms, rosenbrock, run_zoo_on


def test_notes_formulas_equal_their_options():
    rows = compare_forms(rosenbrock, FUNCTIONS["Rosenbrock"][1], steps=40)
    assert len(rows) == 11
    for r in rows:
        assert r["max_diff_notes_vs_shenjing_option"] <= 1e-12, r["form"]
    assert rows[1]["max_diff_vs_heavy_ball_with_lr_times_1_minus_rho"] <= 1e-12
    assert rows[2]["max_diff_standard_vs_shifted_notes_theta_minus_eta_mu_m"] <= 1e-12
    # and where the notes' form is a different algorithm, the trajectories do differ
    by_source = {r["source"]: r for r in rows}
    assert by_source["Xu eqs. 1.50–1.52"]["max_diff_notes_vs_standard"] > 1e-3  # "Adadelta" is not Zeiler's
    assert by_source["Xu §1.9.6"]["max_diff_notes_vs_standard"] > 1e-3  # ν = 0.5 is not α = 0.99


def test_every_optimiser_descends_on_beale():
    start = FUNCTIONS["Beale"][1]
    hist = run_zoo_on(beale, start, {k: [ZOO[k][4] or 1e-3] for k in ZOO}, steps=30)
    import shenjing as sj

    f0 = beale(sj.tensor([start], dtype=sj.float64)).item()
    for k in ZOO:
        end = beale(sj.tensor(hist[k][-1], dtype=sj.float64)).item()
        assert end < f0, k


def test_reduction_factor_and_checks_on_the_measured_keys():
    from shenjing.lab.experiments.optimiser_zoo import EXPERIMENT, reduction_factor

    assert reduction_factor(10.0, 2.0) == 5.0 and reduction_factor(10.0, float("inf")) == 0.0
    assert reduction_factor(1.0, 0.0) > 1e299  # converged exactly: no division by zero
    keys = {c.key for c in EXPERIMENT.checks}
    assert "notes_formula_vs_shenjing_option_max_diff" in keys and "loss_reduction_factor_min_over_tasks" in keys


def test_notes_formula_diffs_are_keyed_by_form_and_source():
    from shenjing.lab.core import Check

    rows = compare_forms(rosenbrock, FUNCTIONS["Rosenbrock"][1], steps=10)
    diffs = {f"{r['form']} ({r['source']})": r["max_diff_notes_vs_shenjing_option"] for r in rows}
    assert len(diffs) == len(rows)  # every form its own key
    check = Check("d", "<=", 1e-10, "diff")
    assert check.holds({"d": diffs})
    diffs["broken"] = 1e-3
    assert not check.holds({"d": diffs})
