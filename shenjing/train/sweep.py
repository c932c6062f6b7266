"""Hyper-parameter search (超参数调优: 网格搜索, 随机搜索; Fang §6.10) over the options of ``shenjing train``:
every configuration of a grid, or K of them drawn at random without repetition (as scikit-learn's
ParameterSampler draws from lists), and the trials' results as one table. ``shenjing sweep`` runs them."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection
from pathlib import Path

from ..backend import xp
from .task import OptionError

#: the most configurations a grid may have without --random
MAX_TRIALS = 1000


def parse_grid(specs: list[str], options: Collection[str]) -> dict[str, list[str]]:
    """``NAME=V1,V2,...`` items → {NAME: [V1, V2, ...]}, in order. NAME is a train option that takes a
    value (``lr``, ``weight-decay`` or ``weight_decay``; in ``options`` with underscores) or ``opt.KEY``
    (``--opt KEY=VALUE``); in ``hidden``, ``x`` joins one value's layer widths (``128x128``: two layers)."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, text = (part.strip() for part in spec.partition("="))
        if not sep or not name:
            raise OptionError("grid", f"must be NAME=V1,V2,... (e.g. lr=0.01,0.1), got {spec!r}")
        key = name if name.startswith("opt.") else name.replace("_", "-")
        if key.startswith("opt.") and not key[4:]:
            raise OptionError("grid", f"opt. needs the option's key, e.g. opt.width=16,32, got {spec!r}")
        if not key.startswith("opt.") and key.replace("-", "_") not in options:
            known = ", ".join(sorted(o.replace("_", "-") for o in options))
            raise OptionError("grid", f"unknown train option {name!r} in {spec!r} (options with a value: {known}; opt.KEY for --opt KEY=VALUE)")
        values = [v.strip() for v in text.split(",")]
        if not all(values):
            raise OptionError("grid", f"{name}: an empty value in {text!r} (values are separated by commas)")
        if len(set(values)) < len(values):
            raise OptionError("grid", f"{name}: a value repeats in {text!r}")
        if key in grid:
            raise OptionError("grid", f"{name} is given twice: put all its values in one --grid {name}=...")
        grid[key] = values
    return grid


def configurations(grid: dict[str, list[str]], random: int | None = None, seed: int = 0) -> list[dict[str, str]]:
    """The grid's configurations in order (the last option varies fastest), or ``random`` of them drawn
    without repetition by a generator seeded with ``seed`` (kept in grid order)."""
    sizes = [len(v) for v in grid.values()]
    total = math.prod(sizes)
    if random is None and total > MAX_TRIALS:
        raise OptionError("grid", f"{' × '.join(map(str, sizes))} = {total} configurations, more than {MAX_TRIALS}: "
                                  "draw some of them with --random K")
    if random is not None and not 1 <= random <= min(total, MAX_TRIALS):
        raise OptionError("random", f"must be from 1 to {min(total, MAX_TRIALS)} (the grid has {total} configurations; "
                                    f"a sweep runs at most {MAX_TRIALS} trials), got {random}")
    picks = range(total) if random is None else sorted(xp.random.default_rng(seed).choice(total, size=random, replace=False).tolist())
    return [nth_configuration(grid, i) for i in picks]


def nth_configuration(grid: dict[str, list[str]], index: int) -> dict[str, str]:
    """The ``index``-th configuration of the grid (mixed radix: the last option is the lowest digit)."""
    picked = {}
    for name, values in reversed(grid.items()):
        index, digit = divmod(index, len(values))
        picked[name] = values[digit]
    return {name: picked[name] for name in grid}


def trial_argv(config: dict[str, str]) -> list[str]:
    """A configuration as ``shenjing train`` options: ``--NAME=VALUE`` and ``--opt KEY=VALUE``."""
    argv = []
    for name, value in config.items():
        if name.startswith("opt."):
            argv += ["--opt", f"{name[4:]}={value}"]
        else:
            argv.append(f"--{name}={value.replace('x', ',') if name == 'hidden' else value}")
    return argv


def write_table(rows: list[dict], columns: list[str], path: str | Path) -> Path:
    """The trials as CSV, one row each (an absent value is empty), written atomically."""
    from ..files import atomic_write_bytes

    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())
    return Path(path)
