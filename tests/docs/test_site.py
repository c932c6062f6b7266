"""The docs site builds in strict mode (mkdocs.yml): every link, API reference and lab figure resolves."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_site_builds_in_strict_mode(tmp_path):
    pytest.importorskip("mkdocs", reason="pip install -e '.[docs]'")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "lab-figures" / "computational-graph" / "dl-db.png").stat().st_size > 1000
    zh = (tmp_path / "zh" / "tutorial" / "01-backprop" / "index.html").read_text(encoding="utf-8")
    assert "计算图与反向传播" in zh and "lab-figures/computational-graph/dl-db.png" in zh
    api = (tmp_path / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    assert 'id="shenjing.nn.layers.Linear"' in api
