"""Tasks (任务) for ``shenjing train``: what a run needs to know about its data, and the parsing of
``--opt KEY=VALUE`` options.

The model and dataset builders (:mod:`~shenjing.train.zoo`, :mod:`~shenjing.train.sequence`) use
these; the tables of names live in :mod:`~shenjing.train.registry`, which imports the builders
(never the other way round).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OptionError", "Task", "int_tuple", "parse_options"]


class OptionError(ValueError):
    """A training option that cannot be honoured (out of range, or not fitting the data); the
    message names the option as ``shenjing train`` spells it (``--val-size``)."""

    def __init__(self, option: str, message: str) -> None:
        self.option = "--" + option.lstrip("-").replace("_", "-")
        super().__init__(f"argument {self.option}: {message}")


@dataclass
class Task:
    """What a training run needs to know about its data."""

    train: object
    val: object | None
    test: object
    input_shape: tuple
    num_classes: int
    classes: list
    generators: list = field(default_factory=list)
    loss: Callable | None = None  # default: nn.CrossEntropyLoss()
    metrics: tuple = ("accuracy",)


def _value(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_options(items) -> dict:
    """``--opt KEY=VALUE`` items as a dict: ints, floats, true/false, else strings; '-' in keys → '_'."""
    out = {}
    for item in items or []:
        key, sep, val = str(item).partition("=")
        if not sep or not key.strip():
            raise OptionError("opt", f"expects KEY=VALUE, got {item!r}")
        out[key.replace("-", "_")] = _value(val)
    return out


def int_tuple(v: Any) -> tuple[int, ...]:
    """(3, 4), [3, 4], '3,4', '3x4' or 3 → a tuple of ints (options given on the command line are strings)."""
    if isinstance(v, str):
        return tuple(int(s) for s in v.replace("x", ",").split(",") if s.strip())
    if isinstance(v, int):
        return (v,)
    return tuple(int(s) for s in v)
