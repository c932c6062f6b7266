"""docs/api-coverage.md is what tools/api_coverage.py writes today, and its counts add up."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_tool():
    spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "tools" / "api_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_table_is_current():
    tool = load_tool()
    written = (ROOT / "docs" / "api-coverage.md").read_text(encoding="utf-8")
    assert written == tool.render(), "docs/api-coverage.md is stale: run python tools/api_coverage.py"


def test_survey_sees_what_shenjing_has_and_lacks():
    import shenjing as sj

    rows = {name: (status, have, lack) for rows in load_tool().survey().values() for name, status, have, lack in rows}
    assert rows["sin"][0] == "implemented" and set(rows["sin"][1]) == {"sin", "Tensor.sin"}
    for name, (status, have, lack) in rows.items():
        for path in have:
            obj = sj
            for part in path.split("."):
                obj = getattr(obj, part)
        if status == "missing":
            assert not have and lack, name
