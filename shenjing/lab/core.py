"""The lab (实验室): every demonstration of the notes as an experiment that draws its figure and
checks its claim with a measured verdict (catalogue: docs/lab.md).

An experiment is one module of ``shenjing.lab.experiments`` with three parts, run in this order:

* ``EXPERIMENT = Experiment(id=..., ..., checks=(Check(...), ...))`` — what it shows, and the
  thresholds of its claim, each declared once;
* ``measure(ctx) -> Measurement`` — computes with shenjing: the numbers (``measured``), how they
  were obtained (``method``) and whatever the figures need (``data``);
* ``figures(ctx, m)`` — draws PNGs through ``ctx.savefig``.

The runner evaluates every ``Check`` on ``measured``: the verdict is their conjunction, and the
``method`` text of ``result.json`` ends with the sentence each check makes of itself, so the
threshold the verdict uses and the one the reader sees cannot drift apart.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..backend import xp

#: The order of the catalogue in docs/lab.md.
ORDER = [
    "threshold-logic", "xor", "perceptron", "linear-collapse", "activations", "universal-approximation",
    "relu-regions", "computational-graph", "numerical-vs-backprop", "backprop-by-hand", "backprop-trace", "vectorisation",
    "housing", "ols-vs-gd", "gauss-markov", "regularisation-paths", "fitting-capacity", "mle-losses",
    "lr-stability", "ill-conditioning", "optimiser-zoo", "gabor", "gd-vs-sgd", "initialisation",
    "vanishing-gradients", "residual-depth", "batchnorm", "regularisers", "feature-importance", "convolution",
    "cnn-vs-mlp", "architectures", "attention", "curse-of-dimensionality", "frequency-principle", "condensation",
    "dropout", "minibatch-gradient", "transfer-features", "hyperparameter-search",
    "label-permutation", "batchnorm-forms", "equivariance", "hopfield", "covers-theorem", "convexity", "residual-forms",
]

_OPS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "<": ("<", lambda v, t: v < t),
    "<=": ("≤", lambda v, t: v <= t),
    ">": (">", lambda v, t: v > t),
    ">=": ("≥", lambda v, t: v >= t),
    "==": ("=", lambda v, t: v == t),
    "!=": ("≠", lambda v, t: v != t),
    "true": ("", lambda v, t: v is True),
}


@dataclass(frozen=True)
class Check:
    """One condition of a claim: ``measured[key] op threshold``, declared once.

    ``key`` names a value of ``measured`` (dots reach into nested dicts); when that value is a
    list or a dict, every entry must pass. ``what`` says in words what the value is ("the MLP's
    test accuracy"); with ``op="true"`` it states the fact that must hold ("every truth table is
    exact") and the value must be ``True``. ``quick`` is the threshold in ``--quick`` mode when it
    differs from the full run's. ``what_zh`` says the same in Chinese (中文); without it the Chinese
    sentence names the measured key.
    """

    key: str
    op: str
    threshold: Any = None
    what: str = ""
    quick: Any = None
    what_zh: str = ""

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"Check {self.key!r}: op must be one of {sorted(_OPS)}, got {self.op!r}")
        if not self.what:
            raise ValueError(f"Check {self.key!r}: say what the value is (what=...)")

    def limit(self, quick: bool) -> Any:
        return self.quick if quick and self.quick is not None else self.threshold

    def value(self, measured: dict) -> Any:
        v: Any = measured
        for part in self.key.split("."):
            if not isinstance(v, dict) or part not in v:
                raise KeyError(f"Check {self.key!r}: measured has no {part!r} (keys: {sorted(v) if isinstance(v, dict) else type(v).__name__})")
            v = v[part]
        return v

    def holds(self, measured: dict, quick: bool = False) -> bool:
        v, t = self.value(measured), self.limit(quick)
        test = _OPS[self.op][1]
        values = list(v.values()) if isinstance(v, dict) else list(v) if isinstance(v, (list, tuple)) else [v]
        return bool(values) and all(_plain(x) is not None and test(_plain(x), t) for x in values)

    def sentence(self, quick: bool = False, lang: str = "en") -> str:
        """The condition in words, in English or (``lang="zh"``) in Chinese."""
        what = self.what if lang != "zh" else self.what_zh or f"测得的 {self.key}"
        if self.op == "true":
            return what if lang != "zh" or self.what_zh else f"{what} 为真"
        return f"{what} {_OPS[self.op][0]} {_number(self.limit(quick))}"


def _plain(x: Any) -> Any:
    """A measured value as a Python number or bool (NaN compares false, so a NaN never passes)."""
    if isinstance(x, (xp.generic, xp.ndarray)) and getattr(x, "ndim", 0) == 0:
        x = x.item()
    return None if isinstance(x, float) and math.isnan(x) else x


def _number(t: Any) -> str:
    return f"{t:g}" if isinstance(t, float) else str(t)


@dataclass
class Experiment:
    """What an experiment shows (id, bilingual title, the notes' section, the claim in English and in
    Chinese) and the checks that decide whether the claim held; ``module`` (set by :func:`load_all`)
    holds its ``measure`` and ``figures``. ``datasets`` names the data files it reads
    (``"fashion-mnist"``), which :func:`missing_data` looks for."""

    id: str
    title: str
    title_zh: str
    source: str
    claim: str
    checks: tuple[Check, ...]
    datasets: tuple[str, ...] = ()
    claim_zh: str = ""
    module: ModuleType | None = field(default=None, repr=False, compare=False)


@dataclass
class Measurement:
    """What ``measure`` returns: the numbers the verdict rests on, how they were measured (without
    the thresholds: the checks add those), the data the figures need, and extra numbers for
    ``result.json`` that are not part of the claim (such as wall times, which vary between runs).
    ``method_zh`` is the method in Chinese, where the experiment writes one (the checks' Chinese
    sentences follow it)."""

    measured: dict
    method: str
    data: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    method_zh: str = ""


def single_threaded_blas():
    """A context that runs NumPy's BLAS on one thread (threadpoolctl) while an experiment times things.

    On a small shared machine a multi-threaded BLAS pool competing with other processes makes small
    matrix products 3–10× slower and erratic; timings would then measure that."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def min_seconds(fn: Callable, *args, repeat: int = 5, budget: float = math.inf) -> tuple[dict, Any]:
    """``({"cpu": s, "wall": s}, result)``: the smallest CPU time of this process
    (``time.process_time``) and the smallest wall-clock time over ``repeat`` calls of ``fn(*args)``
    — fewer once the calls took ``budget`` CPU seconds in all (at least one call) — and the last
    call's result. Timings of the notes' claims use it: CPU time does not count the time other
    processes hold the cores, and the minimum drops what is left of interruptions (as timeit advises)."""
    cpu = wall = math.inf
    spent, out = 0.0, None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn(*args)
        dc = time.process_time() - c0
        cpu, wall, spent = min(cpu, dc), min(wall, time.perf_counter() - w0), spent + dc
        if spent >= budget:
            break
    return {"cpu": cpu, "wall": wall}, out


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


def jsonable(x: Any) -> Any:
    """Measured values as JSON: arrays and tensors become lists, NaN and ±inf strings."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "__array__") and not isinstance(x, (xp.ndarray, xp.generic)):  # a Tensor
        x = xp.asarray(x)
    if isinstance(x, xp.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, xp.generic):
        return jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def load_all() -> dict[str, Experiment]:
    """Every experiment of ``shenjing.lab.experiments``, in catalogue order."""
    from . import experiments

    found: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(experiments.__path__):
        module = importlib.import_module(f"{experiments.__name__}.{info.name}")
        exp = getattr(module, "EXPERIMENT", None)
        if not isinstance(exp, Experiment) or not callable(getattr(module, "measure", None)) or not callable(getattr(module, "figures", None)):
            raise TypeError(f"lab module {module.__name__} must define EXPERIMENT = Experiment(...), measure(ctx) and figures(ctx, m)")
        if exp.id in found:
            raise ValueError(f"lab experiment {exp.id!r} is defined twice")
        exp.module = module
        found[exp.id] = exp
    return {k: found[k] for k in sorted(found, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))}


def missing_data(exp: Experiment) -> list[str]:
    """The datasets of ``exp`` whose files are not found, or not all in one folder, on this machine
    (``shenjing info`` says where it looks)."""
    from ..data.datasets import find_files

    def found(name: str) -> bool:
        try:
            return all(find_files(name, split) is not None for split in ("train", "test"))
        except FileNotFoundError:  # a folder that holds only some of the files
            return False

    return [name for name in exp.datasets if not found(name)]


def catalogue_markdown() -> str:
    """The bilingual list of experiments as a Markdown table (docs/lab.md carries it verbatim)."""
    rows = ["| id | experiment | 实验 | source ([key §](SOURCES.md)) | claim |", "|---|---|---|---|---|"]
    for e in load_all().values():
        rows.append(f"| `{e.id}` | {e.title} | {e.title_zh} | {e.source} | {e.claim} |".replace("\n", " "))
    return "\n".join(rows) + "\n"


def judge(exp: Experiment, measured: dict, quick: bool) -> tuple[bool, list[dict], str]:
    """The verdict, the per-check results (with the sentence in English, ``says``, and in Chinese,
    ``says_zh``) and the sentence "Holds if …" made from ``exp.checks``."""
    results = [{"key": c.key, "op": c.op, "threshold": jsonable(c.limit(quick)), "value": jsonable(c.value(measured)),
                "holds": c.holds(measured, quick), "says": c.sentence(quick), "says_zh": c.sentence(quick, "zh")} for c in exp.checks]
    verdict = bool(results) and all(r["holds"] for r in results)
    return verdict, results, "Holds if " + "; ".join(r["says"] for r in results) + "."


def method_zh(m: Measurement, checks: list[dict]) -> str:
    """The Chinese method text: the experiment's own (if it writes one), then "成立条件: …" from the checks."""
    head = f"{m.method_zh.rstrip()} " if m.method_zh else ""
    return f"{head}成立条件: " + "; ".join(c["says_zh"] for c in checks) + "。"


def run_experiment(exp_id: str, out_dir: str | Path = "lab-out", quick: bool = False, seed: int = 0) -> dict:
    """Run one experiment into ``out_dir/<id>/`` (measure → checks → figures) and write its
    ``result.json``; returns the result."""
    exps = load_all()
    if exp_id not in exps:
        raise ValueError(f"unknown lab experiment {exp_id!r}; `shenjing lab list` shows the {len(exps)} available")
    exp = exps[exp_id]
    ctx = Context(Path(out_dir) / exp_id, quick, seed)
    t0 = time.perf_counter()
    m = exp.module.measure(ctx)
    verdict, checks, holds_if = judge(exp, m.measured, quick)
    exp.module.figures(ctx, m)
    result = {
        "id": exp.id, "title": exp.title, "title_zh": exp.title_zh, "source": exp.source, "claim": exp.claim, "claim_zh": exp.claim_zh,
        "verdict": verdict, "measured": jsonable(m.measured), "method": f"{m.method.rstrip()} {holds_if}",
        "method_zh": method_zh(m, checks), "checks": checks,
        "runtime_s": time.perf_counter() - t0, "figures": list(ctx.figures), "quick": quick, "seed": seed,
        **{k: jsonable(v) for k, v in m.extra.items()},
    }
    from ..files import atomic_write_bytes

    atomic_write_bytes(ctx.out_dir / "result.json", json.dumps(result, indent=2, ensure_ascii=False).encode())
    return result
