"""Per-layer activation and gradient statistics (逐层激活值与梯度统计) through hooks.

Watching the mean, spread and norm of every layer's activations and of the gradients flowing
back through them is how vanishing/exploding gradients (梯度消失/爆炸), saturated sigmoids and
dead ReLUs (fraction of exact zeros) show up, and how initialisations (LeCun, Xavier, Kaiming —
Xu §1.9, Nelson) are compared: a good one keeps the activation std roughly constant
from layer to layer.

:class:`LayerStats` registers a forward hook on each chosen module; the hook records the
statistics of the module's output and registers a tensor hook (``register_hook``) on that output,
which records the statistics of the gradient ∂L/∂output when ``backward`` reaches it.

Example::

    with LayerStats(model, types=(nn.Linear, nn.ReLU)) as st:
        for x, y in loader:
            loss = loss_fn(model(x), y)   # one forward of ``model`` = one step
            loss.backward()
    st.history("0", "gradient", "norm")   # ‖∂L/∂h‖ of layer "0" per step
    print(st.summary())
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ...autograd.tensor import Tensor
from ...backend import xp
from ..module import Module

STATS = ("mean", "std", "norm", "zero_fraction", "abs_mean", "min", "max")


@dataclass
class Record:
    """The statistics of one tensor: a layer's output (``kind='activation'``) or the gradient of
    the loss with respect to it (``kind='gradient'``) at one step."""

    step: int
    layer: str
    kind: str
    mean: float
    std: float
    norm: float
    zero_fraction: float
    abs_mean: float
    min: float
    max: float
    numel: int


def tensor_stats(t: Tensor | Any, zero_tol: float = 0.0) -> dict[str, float]:
    """mean, std (population, /n), Frobenius norm, fraction of |x| ≤ zero_tol, mean |x|, min, max."""
    a = xp.asarray(t).astype(xp.float64, copy=False)
    n = int(a.size)
    if n == 0:
        nan = float("nan")
        return {"mean": nan, "std": nan, "norm": 0.0, "zero_fraction": nan, "abs_mean": nan, "min": nan, "max": nan, "numel": 0}
    absa = xp.abs(a)
    return {
        "mean": float(a.mean()),
        "std": float(a.std()),
        "norm": float(math.sqrt(float((a * a).sum()))),
        "zero_fraction": float((absa <= zero_tol).mean()),
        "abs_mean": float(absa.mean()),
        "min": float(a.min()),
        "max": float(a.max()),
        "numel": n,
    }


def _first_tensor(out: Any) -> Tensor | None:
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for o in out:
            if isinstance(o, Tensor):
                return o
    return None


class LayerStats:
    """Record activation and gradient statistics of chosen layers, per layer and per step.

    * ``model``: the network; one call of ``model(...)`` is one step (a forward pre-hook on the
      model counts them); gradient records carry the step of the forward pass that made them.
    * ``types``: module classes to watch (e.g. ``(nn.Linear, nn.ReLU)``); ``names``: qualified
      names from ``model.named_modules()``; with neither, every leaf module (one without children).
    * ``gradients``: also record ∂L/∂output through tensor hooks (when the output requires grad).
    * ``zero_tol``: |x| ≤ zero_tol counts as zero (0 counts exact zeros — dead ReLU units).

    Use as a context manager (hooks removed on exit) or call :meth:`attach` / :meth:`detach`.
    Records are in :attr:`records`; :meth:`history`, :meth:`as_dict`, :meth:`last` and
    :meth:`summary` read them."""

    def __init__(self, model: Module, types: type | tuple[type, ...] | None = None, names: Iterable[str] | None = None,
                 gradients: bool = True, zero_tol: float = 0.0) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"LayerStats: model must be a Module, got {type(model).__name__}")
        self.model = model
        self.types = types
        self.names = None if names is None else list(names)
        self.gradients = gradients
        self.zero_tol = zero_tol
        self.records: list[Record] = []
        self.step = -1
        self._handles: list = []
        self._tensor_handles: list = []

    # ------------------------------------------------------------------ hooks
    def layers(self) -> list[tuple[str, Module]]:
        """The (name, module) pairs that are watched."""
        named = list(self.model.named_modules())
        if self.names is not None:
            table = dict(named)
            missing = [n for n in self.names if n not in table]
            if missing:
                raise KeyError(f"LayerStats: no sub-module named {missing[0]!r} (have {[n for n, _ in named]})")
            return [(n, table[n]) for n in self.names]
        if self.types is not None:
            return [(n or type(m).__name__, m) for n, m in named if isinstance(m, self.types)]
        return [(n, m) for n, m in named if n and not any(True for _ in m.children())] or [(type(self.model).__name__, self.model)]

    def attach(self) -> LayerStats:
        if self._handles:
            return self
        self._handles.append(self.model.register_forward_pre_hook(self._count))
        for name, mod in self.layers():
            self._handles.append(mod.register_forward_hook(self._make_hook(name)))
        return self

    def detach(self) -> None:
        for h in self._handles + [h for _, h in self._tensor_handles]:
            h.remove()
        self._handles, self._tensor_handles = [], []

    def __enter__(self) -> LayerStats:
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    def _count(self, module: Module, inputs: Any) -> None:
        self.step += 1
        # forget the handles of old steps (their graphs are done); the hooks stay on their tensors
        self._tensor_handles = [(s, h) for s, h in self._tensor_handles if s >= self.step - 1]

    def _make_hook(self, name: str):
        def hook(module: Module, inputs: Any, output: Any) -> None:
            t = _first_tensor(output)
            if t is None:
                return
            step = max(self.step, 0)
            self._add(step, name, "activation", t)
            if self.gradients and t.requires_grad:
                handle = t.register_hook(lambda g, step=step: self._add(step, name, "gradient", g))
                self._tensor_handles.append((step, handle))

        return hook

    def _add(self, step: int, name: str, kind: str, t: Tensor) -> None:
        self.records.append(Record(step=step, layer=name, kind=kind, **tensor_stats(t, self.zero_tol)))

    # ------------------------------------------------------------------ reading
    def reset(self) -> None:
        self.records.clear()
        self.step = -1

    def layer_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.records:
            seen.setdefault(r.layer, None)
        return list(seen)

    def history(self, layer: str, kind: str = "activation", stat: str = "std") -> list[float]:
        """One statistic of one layer over the steps (in recording order)."""
        if stat not in STATS:
            raise ValueError(f"LayerStats.history: stat must be one of {STATS}, got {stat!r}")
        return [getattr(r, stat) for r in self.records if r.layer == layer and r.kind == kind]

    def last(self, kind: str = "activation", stat: str = "std") -> dict[str, float]:
        """layer → statistic at the latest step that has records of ``kind``."""
        recs = [r for r in self.records if r.kind == kind]
        if not recs:
            return {}
        step = max(r.step for r in recs)
        return {r.layer: getattr(r, stat) for r in recs if r.step == step}

    def as_dict(self) -> dict[str, dict[str, dict[str, list[float]]]]:
        """{layer: {'activation'|'gradient': {stat: [values per step]}}}."""
        out: dict = {}
        for r in self.records:
            d = out.setdefault(r.layer, {}).setdefault(r.kind, {s: [] for s in STATS})
            for s in STATS:
                d[s].append(getattr(r, s))
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.records]

    def summary(self, step: int | None = None) -> str:
        """A text table of the records of one step (default: the latest)."""
        if not self.records:
            return "(no records)"
        step = max(r.step for r in self.records) if step is None else step
        recs = [r for r in self.records if r.step == step]
        head = f"{'layer':<20} {'kind':<10} {'mean':>11} {'std':>11} {'norm':>11} {'zeros':>7}"
        lines = [f"step {step}", head, "-" * len(head)]
        for r in recs:
            lines.append(f"{r.layer[:20]:<20} {r.kind:<10} {r.mean:>11.4g} {r.std:>11.4g} {r.norm:>11.4g} {r.zero_fraction:>7.1%}")
        return "\n".join(lines)


__all__ = ["LayerStats", "Record", "STATS", "tensor_stats"]
