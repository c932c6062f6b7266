"""The lab's checks: one declaration gives both the verdict and the sentence of ``method``."""

import math

import numpy as np
import pytest

from shenjing.lab import Check, Experiment, judge, min_seconds


def test_comparisons_and_sentences():
    m = {"acc": 0.96, "gap": 0.2, "nested": {"err": 1e-13}, "ok": True}
    assert Check("acc", ">=", 0.95, "the accuracy").holds(m)
    assert not Check("acc", ">=", 0.97, "the accuracy").holds(m)
    assert Check("nested.err", "<", 1e-12, "the error").holds(m)
    assert Check("ok", "true", what="the tables are exact").holds(m)
    assert not Check("ok", "true", what="x").holds({"ok": 1})  # a fact must be measured as True, not truthy
    assert Check("acc", ">=", 0.95, "the accuracy").sentence() == "the accuracy ≥ 0.95"
    assert Check("nested.err", "<", 1e-12, "the error").sentence() == "the error < 1e-12"
    assert Check("ok", "true", what="the tables are exact").sentence() == "the tables are exact"


def test_every_entry_of_a_list_or_dict_must_pass():
    c = Check("accs", ">=", 0.9, "each accuracy")
    assert c.holds({"accs": [0.95, 0.91]}) and not c.holds({"accs": [0.95, 0.5]})
    assert c.holds({"accs": {"a": 0.95}}) and not c.holds({"accs": []})


def test_nan_never_passes_and_numpy_scalars_work():
    assert not Check("x", "<", 1.0, "x").holds({"x": math.nan})
    assert not Check("x", ">", 1.0, "x").holds({"x": np.float64("nan")})
    assert Check("x", "<", 1.0, "x").holds({"x": np.float32(0.5)})


def test_quick_threshold():
    c = Check("acc", ">=", 0.95, "the accuracy", quick=0.9)
    assert c.holds({"acc": 0.92}, quick=True) and not c.holds({"acc": 0.92}, quick=False)
    assert c.sentence(quick=True) == "the accuracy ≥ 0.9"


def test_declaration_errors():
    with pytest.raises(ValueError, match="op must be"):
        Check("a", "=>", 1, "a")
    with pytest.raises(ValueError, match="what="):
        Check("a", "<", 1)
    with pytest.raises(KeyError, match="measured has no 'b'"):
        Check("a.b", "<", 1, "a").value({"a": {"c": 1}})


def test_judge_builds_verdict_and_method_from_the_checks():
    exp = Experiment("t", "T", "测试", "Xu §1", "claim", checks=(Check("a", "<", 1.0, "a"), Check("b", ">=", 2, "b")))
    verdict, checks, holds_if = judge(exp, {"a": 0.5, "b": 3}, quick=False)
    assert verdict and holds_if == "Holds if a < 1; b ≥ 2." and [c["holds"] for c in checks] == [True, True]
    verdict, checks, _ = judge(exp, {"a": 0.5, "b": 1}, quick=False)
    assert not verdict and checks[1] == {"key": "b", "op": ">=", "threshold": 2, "value": 1, "holds": False, "says": "b ≥ 2",
                                          "says_zh": "测得的 b ≥ 2"}


def test_min_seconds_takes_the_minimum_and_stops_at_the_budget():
    calls = []
    t, _ = min_seconds(lambda: calls.append(sum(range(1000 if calls else 5_000_000))), repeat=4)
    assert len(calls) == 4
    assert 0 <= t["cpu"] < 0.01 and 0 <= t["wall"] < 0.01  # not the first call's ~0.1 s: the minimum
    calls.clear()
    t, out = min_seconds(lambda x: calls.append(x) or x + 1, 41, repeat=5, budget=0.0)
    assert out == 42 and calls == [41] and t["cpu"] >= 0.0  # one call: the budget was spent
