"""Every ```python block of the docs site runs: the blocks of a page in order, in one namespace,
as a reader would paste them (docs/tutorial, docs/zh/tutorial, docs/exercises, ...)."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)
PAGES = sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text(encoding="utf-8"))


def blocks(page: Path) -> list[tuple[int, str]]:
    """(line number, code) of each python block of ``page``, its indentation (inside an admonition) removed."""
    text = page.read_text(encoding="utf-8")
    found = []
    for m in BLOCK.finditer(text):
        indent = len(m.group(1))
        code = "\n".join(line[indent:] for line in m.group(2).splitlines())
        found.append((text[:m.start()].count("\n") + 2, code))
    return found


def test_pages_with_examples_are_found():
    assert len(PAGES) >= 20 and all(blocks(p) for p in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_examples_run(page):
    namespace: dict = {"__name__": "__docs__"}
    for line, code in blocks(page):
        exec(compile(code, f"{page.relative_to(DOCS.parent)}:{line}", "exec"), namespace)
