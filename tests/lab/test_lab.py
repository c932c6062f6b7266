"""Every lab experiment runs in quick mode, writes a complete result.json and figures, and its claim holds."""

import json

import pytest

from shenjing.lab import ORDER, load_all, missing_data, run_experiment
from shenjing.lab.report import build_report

EXPERIMENTS = list(load_all())
KEYS = {"id", "title", "title_zh", "source", "claim", "claim_zh", "verdict", "measured", "method", "method_zh", "checks", "runtime_s", "figures"}


def test_registered_ids_are_from_the_catalogue():
    assert set(EXPERIMENTS) <= set(ORDER)


@pytest.mark.parametrize("exp_id", EXPERIMENTS)
def test_quick_run(exp_id, tmp_path):
    missing = missing_data(load_all()[exp_id])
    if missing:  # CI installs the Debian package dataset-fashion-mnist, so these run there
        pytest.skip(f"{exp_id} needs the {', '.join(missing)} files, not found on this machine (`shenjing info` says where it looks)")
    res = run_experiment(exp_id, tmp_path, quick=True, seed=0)
    assert KEYS <= set(res)
    on_disk = json.loads((tmp_path / exp_id / "result.json").read_text())
    assert on_disk["id"] == exp_id and on_disk["verdict"] is res["verdict"]
    assert res["figures"], "an experiment draws at least one figure"
    for name in res["figures"]:
        assert (tmp_path / exp_id / name).stat().st_size > 1000
    assert res["measured"] and res["method"]
    assert res["checks"] and res["method"].endswith(" ".join(["Holds if", "; ".join(c["says"] for c in res["checks"])]) + ".")
    assert res["claim_zh"] and res["method_zh"].endswith("成立条件: " + "; ".join(c["says_zh"] for c in res["checks"]) + "。")
    assert res["verdict"] is True, f"{exp_id}: the claim did not hold: {res['measured']}"


def test_seeded_runs_repeat(tmp_path):
    a = run_experiment(EXPERIMENTS[0], tmp_path / "a", quick=True, seed=3)
    b = run_experiment(EXPERIMENTS[0], tmp_path / "b", quick=True, seed=3)
    assert a["measured"] == b["measured"]


def test_report_is_one_self_contained_page(tmp_path):
    path = build_report(tmp_path, quick=True, ids=EXPERIMENTS[:1], progress=False)
    page = path.read_text()
    assert "data:image/png;base64," in page and EXPERIMENTS[0] in page and "<table>" in page


def test_unknown_experiment_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown lab experiment"):
        run_experiment("no-such-thing", tmp_path)


def test_docs_list_every_experiment():
    """docs/lab.md carries the bilingual catalogue exactly as `shenjing lab list --markdown` prints it."""
    from pathlib import Path

    from shenjing.lab import catalogue_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "lab.md").read_text(encoding="utf-8")
    assert catalogue_markdown() in doc, "docs/lab.md is out of date: regenerate its table with `shenjing lab list --markdown`"
