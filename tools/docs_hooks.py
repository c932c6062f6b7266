"""MkDocs hooks of the docs site (mkdocs.yml): the lab's figures, made by running the lab, not pasted.

Before the pages are read, every experiment named in :data:`FIGURES` runs in quick mode
(``shenjing lab run ID ... --quick``) into ``.cache/docs-lab`` — unless a previous build left its
``result.json`` there — and each PNG it draws becomes a page file ``lab-figures/<id>/<name>.png``,
so a tutorial page shows it with ``![...](../lab-figures/xor/decision.png)``. The figures are
only as old as the build: a fresh clone (as in CI) runs them all, about a minute on 2 cores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "docs-lab"

#: the experiments whose figures the tutorial chapters show (none reads Fashion-MNIST, so the site builds anywhere)
FIGURES = ("computational-graph", "backprop-by-hand", "activations", "universal-approximation", "relu-regions", "mle-losses",
           "optimiser-zoo", "lr-stability", "initialisation", "vanishing-gradients", "regularisation-paths", "dropout",
           "convolution", "attention", "ols-vs-gd", "gauss-markov")


def run_lab(ids: tuple[str, ...] = FIGURES, out: Path = CACHE) -> None:
    """Run the experiments of ``ids`` that have no result in ``out`` yet (quick mode, seed 0)."""
    todo = [i for i in ids if not (out / i / "result.json").exists()]
    if todo:
        cmd = [sys.executable, "-m", "shenjing.cli", "lab", "run", *todo, "--quick", "--out", str(out), "--lang", "en"]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"docs: `{' '.join(cmd[2:])}` failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def on_files(files: Files, config) -> Files:
    run_lab()
    for exp in FIGURES:
        for png in sorted((CACHE / exp).glob("*.png")):
            files.append(File.generated(config, f"lab-figures/{exp}/{png.name}", abs_src_path=str(png)))
    return files
