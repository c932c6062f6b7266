"""The lab (实验室): every demonstration of the notes as an experiment that draws its figure and
checks its claim with a measured verdict.

An experiment is a function ``run(ctx) -> dict`` registered with :func:`experiment`. It computes
with shenjing, saves figures through ``ctx.savefig``, and returns ``measured`` (the numbers),
``verdict`` (a bool computed from them) and ``method`` (how, with the threshold used).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..backend import xp

#: The order of the catalogue in docs/lab.md.
ORDER = [
    "threshold-logic", "xor", "perceptron", "linear-collapse", "activations", "universal-approximation",
    "relu-regions", "computational-graph", "numerical-vs-backprop", "backprop-by-hand", "vectorisation",
    "housing", "ols-vs-gd", "gauss-markov", "regularisation-paths", "fitting-capacity", "mle-losses",
    "lr-stability", "ill-conditioning", "optimiser-zoo", "gabor", "gd-vs-sgd", "initialisation",
    "vanishing-gradients", "residual-depth", "batchnorm", "regularisers", "feature-importance", "convolution",
    "cnn-vs-mlp", "architectures", "attention", "curse-of-dimensionality", "frequency-principle", "condensation",
]


@dataclass
class Experiment:
    id: str
    title: str
    title_zh: str
    source: str
    claim: str
    run: Callable


REGISTRY: dict[str, Experiment] = {}


def single_threaded_blas():
    """A context that runs NumPy's BLAS on one thread (threadpoolctl) while an experiment times things.

    On a small shared machine a multi-threaded BLAS pool competing with other processes makes small
    matrix products 3–10× slower and erratic; timings would then measure that."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def experiment(id: str, title: str, title_zh: str, source: str, claim: str):
    """Register ``run(ctx)`` as the lab experiment ``id``."""

    def deco(fn: Callable) -> Callable:
        if id in REGISTRY:
            raise ValueError(f"lab experiment {id!r} is registered twice")
        REGISTRY[id] = Experiment(id, title, title_zh, source, claim, fn)
        return fn

    return deco


class Context:
    """What an experiment gets: the output folder, quick mode, the seed, and figure saving."""

    def __init__(self, out_dir: Path, quick: bool, seed: int) -> None:
        from ..random import Generator, manual_seed

        self.out_dir, self.quick, self.seed = Path(out_dir), quick, seed
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.figures: list[str] = []
        manual_seed(seed)
        self.generator = Generator().manual_seed(seed)
        self.rng = xp.random.default_rng(seed)

    def savefig(self, fig, name: str) -> Path:
        """Save a matplotlib figure as PNG in the output folder and record it."""
        from ..viz.plots import save_figure

        name = name if name.endswith(".png") else f"{name}.png"
        path = save_figure(fig, self.out_dir / name)
        self.figures.append(name)
        return path


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, xp.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, xp.generic):
        return x.item()
    if hasattr(x, "_data"):  # a Tensor
        return _jsonable(x._data)
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return str(x)
    return x


def load_all() -> dict[str, Experiment]:
    """Import every module of ``shenjing.lab.experiments`` (each registers itself)."""
    import importlib
    import pkgutil

    from . import experiments

    for m in pkgutil.iter_modules(experiments.__path__):
        importlib.import_module(f"{experiments.__name__}.{m.name}")
    return {k: REGISTRY[k] for k in sorted(REGISTRY, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))}


def catalogue_markdown() -> str:
    """The bilingual list of experiments as a Markdown table (docs/lab.md carries it verbatim)."""
    rows = ["| id | experiment | 实验 | source ([key §](SOURCES.md)) | claim |", "|---|---|---|---|---|"]
    for e in load_all().values():
        rows.append(f"| `{e.id}` | {e.title} | {e.title_zh} | {e.source} | {e.claim} |".replace("\n", " "))
    return "\n".join(rows) + "\n"


def run_experiment(exp_id: str, out_dir: str | Path = "lab-out", quick: bool = False, seed: int = 0) -> dict:
    """Run one experiment into ``out_dir/<id>/`` and write its ``result.json``; returns the result."""
    exps = load_all()
    if exp_id not in exps:
        raise ValueError(f"unknown lab experiment {exp_id!r}; `shenjing lab list` shows the {len(exps)} available")
    exp = exps[exp_id]
    ctx = Context(Path(out_dir) / exp_id, quick, seed)
    t0 = time.perf_counter()
    out = exp.run(ctx)
    runtime = time.perf_counter() - t0
    missing = {"measured", "verdict", "method"} - set(out)
    if missing:
        raise RuntimeError(f"lab experiment {exp_id!r} returned no {sorted(missing)}")
    if not isinstance(out["verdict"], (bool, xp.bool_)):
        raise TypeError(f"lab experiment {exp_id!r}: verdict must be a bool computed from measurements, got {out['verdict']!r}")
    result = {
        "id": exp.id, "title": exp.title, "title_zh": exp.title_zh, "source": exp.source, "claim": exp.claim,
        "verdict": bool(out["verdict"]), "measured": _jsonable(out["measured"]), "method": out["method"],
        "runtime_s": runtime, "figures": list(ctx.figures), "quick": quick, "seed": seed,
    }
    for k, v in out.items():
        if k not in result:
            result[k] = _jsonable(v)
    from ..train.checkpoint import atomic_write_bytes

    atomic_write_bytes(ctx.out_dir / "result.json", json.dumps(result, indent=2, ensure_ascii=False).encode())
    return result
