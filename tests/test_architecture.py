"""The shape of the package: no import cycles, every module importable on its own, a sealed Tensor
(other packages use its public surface), no private names imported across modules, and functions
short enough to read in one sitting."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shenjing"
ENGINE = ("shenjing.autograd", "shenjing.ops")  # the only modules that may touch Tensor internals
TENSOR_INTERNALS = {"_data", "_vc", "_make", "_hooks", "_retain", "_out", "_version"}
MAX_LINES = 80  # a longer function says why in a "# long: <reason>" comment


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"))


def imported(name: str) -> set[str]:
    """The shenjing modules that ``name`` imports, at module level or inside functions."""
    mods, out = modules(), set()
    is_pkg = mods[name].name == "__init__.py"
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".") if is_pkg else name.split(".")[:-1]
            prefix = ".".join(base[: len(base) - node.level + 1] + [node.module or ""]).strip(".") if node.level else node.module
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in mods else prefix for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t:
                out.add(t)
    return out


def cycles() -> list[list[str]]:
    """Strongly connected components of the import graph with more than one module (Tarjan)."""
    graph = {m: imported(m) for m in modules()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
                on_stack.discard(comp[-1])
            if len(comp) > 1 or v in graph[v]:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in graph:
        if m not in index:
            visit(m)
    return found


def test_no_import_cycles():
    assert cycles() == []


def test_every_module_imports_on_its_own():
    """Each module imported first, in an interpreter where no shenjing module is loaded yet."""
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    for m in [m for m in sys.modules if m == 'shenjing' or m.startswith('shenjing.')]:\n"
        "        del sys.modules[m]\n"
        "    importlib.import_module(name)\n"
    )
    names = [m for m in modules() if not m.startswith("shenjing.lab.experiments.")] + ["shenjing.lab.experiments.xor"]
    done = subprocess.run([sys.executable, "-c", script, *names], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_other_packages_use_the_public_tensor_surface():
    uses = []
    for name in modules():
        if name.startswith(ENGINE):
            continue
        for node in ast.walk(tree(name)):
            if isinstance(node, ast.Attribute) and node.attr in TENSOR_INTERNALS:
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    uses.append(f"{name}:{node.lineno} .{node.attr}")
    assert uses == [], "Tensor internals used outside autograd/ops (use .array, .inplace(), as_tensor):\n" + "\n".join(uses)


def module_aliases(name: str) -> set[str]:
    """The local names under which ``name`` imports other shenjing modules (``from . import functional as F``)."""
    mods, out = modules(), set()
    is_pkg = mods[name].name == "__init__.py"
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            out |= {a.asname for a in node.names if a.asname and a.name in mods}
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".") if is_pkg else name.split(".")[:-1]
            prefix = ".".join(base[: len(base) - node.level + 1] + [node.module or ""]).strip(".") if node.level else node.module
            out |= {a.asname or a.name for a in node.names if f"{prefix}.{a.name}" in mods}
    return out


def private(attr: str) -> bool:
    return attr.startswith("_") and not attr.startswith("__")


def test_no_private_name_is_reached_from_another_module():
    """Neither ``from x import _helper`` nor ``x._helper`` on an imported module."""
    found = []
    for name in modules():
        aliases = module_aliases(name)
        for node in ast.walk(tree(name)):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                found += [f"{name}:{node.lineno} {a.name}" for a in node.names if private(a.name)]
            elif isinstance(node, ast.Attribute) and private(node.attr) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.append(f"{name}:{node.lineno} {node.value.id}.{node.attr}")
    assert found == [], "make these public (no underscore) where they are defined:\n" + "\n".join(found)


def test_functions_are_short_or_say_why():
    long = []
    for name, path in modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree(name)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_LINES:
                body = lines[node.lineno - 1: node.end_lineno]
                if not any(line.strip().startswith("# long:") for line in body):
                    long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == [], f"functions over {MAX_LINES} lines without a '# long: <reason>' comment:\n" + "\n".join(long)


def test_the_project_cites_only_what_it_contains():
    """Citations use the keys of docs/SOURCES.md; no reference to a document outside the repository."""
    bad = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]:
        if path == Path(__file__):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "SPEC §" in line or "../shared" in line or "seed 00" in line.lower():
                bad.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert bad == [], "\n".join(bad)
    sources = (ROOT / "docs" / "SOURCES.md").read_text(encoding="utf-8")
    for key in ("Xu", "Wang", "Zhao", "Fang", "Nelson"):
        assert f"**{key}**" in sources
