"""Parameter counting and linear regions of ReLU networks (参数量与线性区域, Fang §4.4–4.5).

Fang (after Prince, *Understanding Deep Learning* ch. 3–4):

* a shallow network with D_i inputs, D hidden units and D_o outputs has
  (D_i + 1)·D + (D + 1)·D_o parameters; a deep one with K hidden layers of D units has
  (D_i + 1)·D + (K − 1)·D·(D + 1) + (D + 1)·D_o (for D_i = D_o = 1: 3D + 1 and
  3D + 1 + (K − 1)·D·(D + 1));
* with 1 input, a shallow ReLU net with D hidden units is piecewise linear with at most D + 1
  linear regions (one kink per unit, at x = −b_d/w_d); a deep one with K layers of D units
  can reach (D + 1)^K;
* Zaslavsky (1975): D hyperplanes divide R^{D_i} into at most Σ_{j=0}^{D_i} C(D, j) regions —
  the maximum number of linear regions of a shallow ReLU net with D_i inputs and D units.

The empirical counters evaluate a ReLU network on a fine grid and count the distinct activation
patterns (which units are on): inside one pattern the network is one affine map. They count
*activation regions*; two neighbouring regions with the same affine map (e.g. a unit whose
output weight is 0) are one *linear piece* of the function, so the number of linear pieces
(:func:`count_linear_pieces_1d`) can be smaller. A grid finds every region wider than its step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from math import comb
from typing import Any

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...backend import xp
from ...creation import as_tensor
from ..module import Module

# --------------------------------------------------------------------------- parameter counts


def count_parameters(module: Module | Iterable[Tensor], trainable_only: bool = True) -> int:
    """The number of scalar parameters (参数量): Σ numel over ``module.parameters()``, only those
    with ``requires_grad`` when ``trainable_only``. Shared parameters are counted once."""
    params = module.parameters() if isinstance(module, Module) else module
    seen: set[int] = set()
    n = 0
    for p in params:
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        n += p.numel()
    return n


def parameter_table(module: Module, trainable_only: bool = False) -> list[dict[str, Any]]:
    """One row per module that owns parameters directly: ``name``, ``type``, ``shapes`` (parameter
    name → shape), ``count``, ``trainable`` (count of those requiring grad). The last row is the
    total (``name='total'``)."""
    rows = []
    seen: set[int] = set()
    total = total_tr = 0
    for name, mod in module.named_modules():
        own = [(n, p) for n, p in mod.named_parameters(recurse=False) if id(p) not in seen]
        if trainable_only:
            own = [(n, p) for n, p in own if p.requires_grad]
        if not own:
            continue
        seen.update(id(p) for _, p in own)
        count = sum(p.numel() for _, p in own)
        tr = sum(p.numel() for _, p in own if p.requires_grad)
        rows.append({"name": name or "(root)", "type": type(mod).__name__,
                     "shapes": {n: tuple(p.shape) for n, p in own}, "count": count, "trainable": tr})
        total += count
        total_tr += tr
    rows.append({"name": "total", "type": "", "shapes": {}, "count": total, "trainable": total_tr})
    return rows


def format_parameter_table(module_or_rows: Module | list[dict[str, Any]], trainable_only: bool = False) -> str:
    """:func:`parameter_table` as aligned text."""
    rows = parameter_table(module_or_rows, trainable_only) if isinstance(module_or_rows, Module) else module_or_rows
    lines = [f"{'layer':<24} {'type':<14} {'shapes':<32} {'params':>10}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        if r["name"] == "total":
            lines.append("-" * len(lines[0]))
        shapes = ", ".join(f"{k} {tuple(v)}" for k, v in r["shapes"].items())
        lines.append(f"{r['name'][:24]:<24} {r['type'][:14]:<14} {shapes[:32]:<32} {r['count']:>10,}")
    return "\n".join(lines)


def mlp_parameters(sizes: Sequence[int], bias: bool = True) -> int:
    """Parameters of a fully connected net with layer widths ``sizes`` = [D_i, D_1, ..., D_o]:
    Σ_l (D_{l−1} + 1)·D_l (without the +1 when ``bias=False``)."""
    if len(sizes) < 2:
        raise ValueError("mlp_parameters: sizes needs at least an input and an output width")
    return sum((a + (1 if bias else 0)) * b for a, b in zip(sizes[:-1], sizes[1:]))


def shallow_net_parameters(d_in: int, d_hidden: int, d_out: int) -> int:
    """(D_i + 1)·D + (D + 1)·D_o (Fang §4.5); 3D + 1 for D_i = D_o = 1 (§4.4)."""
    return (d_in + 1) * d_hidden + (d_hidden + 1) * d_out


def deep_net_parameters(d_in: int, d_hidden: int, d_out: int, depth: int) -> int:
    """(D_i + 1)·D + (K − 1)·D·(D + 1) + (D + 1)·D_o for K hidden layers of D units (Fang
    §4.5); 3D + 1 + (K − 1)·D·(D + 1) for D_i = D_o = 1 (§4.4)."""
    if depth < 1:
        raise ValueError(f"deep_net_parameters: depth K must be ≥ 1, got {depth}")
    return (d_in + 1) * d_hidden + (depth - 1) * d_hidden * (d_hidden + 1) + (d_hidden + 1) * d_out


# --------------------------------------------------------------------------- region bounds


def zaslavsky_bound(n_hyperplanes: int, dim: int) -> int:
    """Σ_{j=0}^{dim} C(D, j): the most regions D hyperplanes can cut R^dim into (Zaslavsky 1975,
    Fang §4.5) — reached by hyperplanes in general position. Equals 2^D when D ≤ dim."""
    if n_hyperplanes < 0 or dim < 0:
        raise ValueError("zaslavsky_bound: the number of hyperplanes and the dimension must be ≥ 0")
    return sum(comb(n_hyperplanes, j) for j in range(dim + 1))


def shallow_max_regions(d_hidden: int, d_in: int = 1) -> int:
    """The most linear regions of a shallow ReLU net with D_i inputs and D hidden units: each unit
    is one hyperplane w_dᵀx + b_d = 0, so Zaslavsky's bound; D + 1 for one input (Fang §4.4)."""
    return zaslavsky_bound(d_hidden, d_in)


def deep_max_regions_1d(d_hidden: int, depth: int) -> int:
    """(D + 1)^K: the most linear regions of a deep ReLU net with one input and K hidden layers of
    D units, as Fang §4.4 states it (each layer can fold the line into D + 1 copies)."""
    return (d_hidden + 1) ** depth


# --------------------------------------------------------------------------- empirical counts

_ACTIVATIONS = ("ReLU", "LeakyReLU", "PReLU", "ReLU6", "RReLU", "Hardtanh", "Threshold")


def _find_activations(model: Module) -> list[Module]:
    return [m for _, m in model.named_modules() if type(m).__name__ in _ACTIVATIONS]


def activation_patterns(model: Module | Callable[[Tensor], Sequence[Tensor]], x: Tensor | Any,
                        modules: Sequence[Module] | type | tuple[type, ...] | None = None,
                        batch_size: int = 65536) -> Any:
    """The on/off pattern of every piecewise-linear unit for each input row: a bool array of shape
    (N, total units), True where the unit's pre-activation is > 0.

    For a Module the pre-activations are the inputs of its activation modules: ``modules`` given as
    a list of modules or as module types, by default every ReLU-like module of ``model`` (ReLU,
    LeakyReLU, PReLU ...). A network written with raw ops (``h.relu()``) can be passed as a plain
    function ``x ↦ [pre-activation of layer 1, ..., of layer K]`` instead of a Module."""
    is_module = isinstance(model, Module)
    if not is_module:
        mods: list = []
    elif modules is None:
        mods = _find_activations(model)
        if not mods:
            raise ValueError("activation_patterns: the model has no ReLU-like modules; pass modules=")
    elif isinstance(modules, type) or (isinstance(modules, tuple) and all(isinstance(t, type) for t in modules)):
        mods = [m for _, m in model.named_modules() if isinstance(m, modules)]
        if not mods:
            raise ValueError(f"activation_patterns: no module of type {modules} in the model")
    else:
        mods = list(modules)
    xt = x if isinstance(x, Tensor) else Tensor(xp.asarray(x, dtype=xp.float64))
    out_parts = []
    n = xt.shape[0]
    captured: list = []
    handles = [m.register_forward_hook(lambda mod, inp, out: captured.append(inp[0].array)) for m in mods]
    try:
        for s in range(0, n, batch_size):
            xb = as_tensor(xt.array[s:s + batch_size])
            captured.clear()
            with no_grad():
                res = model(xb)
            pre = list(captured)
            if not is_module:
                res = [res] if isinstance(res, Tensor) else res
                pre = [xp.asarray(t) for t in res]
            if not pre:
                raise RuntimeError("activation_patterns: no activation module ran during the forward pass")
            out_parts.append(xp.concatenate([c.reshape(c.shape[0], -1) > 0 for c in pre], axis=1))
    finally:
        for h in handles:
            h.remove()
    return xp.concatenate(out_parts, axis=0)


def _grid_1d(lo: float, hi: float, n: int) -> Any:
    return xp.linspace(lo, hi, n).reshape(-1, 1)


def _centres(lo: float, hi: float, n: int) -> Any:
    """The midpoints of n equal cells of [lo, hi]: never lo or hi themselves, where hand-built
    nets often put a kink (a pre-activation exactly 0 is a boundary, not a region)."""
    h = (hi - lo) / n
    return lo + (xp.arange(n) + 0.5) * h


def count_linear_regions_1d(model: Module | Callable[[Tensor], Tensor], lo: float = -1.0, hi: float = 1.0,
                            n: int = 100_001, modules: Any = None, dtype: Any = None) -> int:
    """The number of activation regions of a ReLU net on the interval [lo, hi] of a 1-D input.

    Evaluates the net at the midpoints of ``n`` equal cells of [lo, hi] (shape (n, 1)) and counts
    the maximal runs of equal activation patterns (pattern changes + 1). On a line each pattern is one interval, so
    this equals the number of distinct patterns. For a shallow net with D units it is the number
    of distinct kinks −b_d/w_d inside (lo, hi), plus 1 — at most D + 1."""
    dt = dtype if dtype is not None else _param_dtype(model)
    pats = activation_patterns(model, as_tensor(_centres(lo, hi, n).reshape(-1, 1).astype(dt)), modules)
    if pats.shape[0] == 0:
        return 0
    changes = xp.any(pats[1:] != pats[:-1], axis=1)
    return int(changes.sum()) + 1


def count_linear_regions_2d(model: Module | Callable[[Tensor], Tensor], xlim: tuple[float, float] = (-1.0, 1.0),
                            ylim: tuple[float, float] = (-1.0, 1.0), n: int = 400, modules: Any = None,
                            dtype: Any = None, return_map: bool = False) -> Any:
    """The number of distinct activation patterns of a ReLU net with 2 inputs on an n × n grid (the
    centres of n × n equal cells) of the rectangle xlim × ylim; each pattern is one convex region.

    ``return_map=True`` also returns an (n, n) int array of region ids (rows follow y, columns x)
    for plotting the regions."""
    dt = dtype if dtype is not None else _param_dtype(model)
    xs = _centres(xlim[0], xlim[1], n)
    ys = _centres(ylim[0], ylim[1], n)
    gx, gy = xp.meshgrid(xs, ys)
    pts = xp.stack([gx.reshape(-1), gy.reshape(-1)], axis=1).astype(dt)
    pats = activation_patterns(model, as_tensor(pts), modules)
    uniq, ids = xp.unique(pats, axis=0, return_inverse=True)
    count = int(uniq.shape[0])
    if return_map:
        return count, ids.reshape(n, n)
    return count


def count_linear_pieces_1d(f: Callable[[Tensor], Tensor], lo: float = -1.0, hi: float = 1.0, n: int = 100_001,
                           rtol: float = 1e-6) -> int:
    """The number of linear pieces of a continuous piecewise-linear function of one variable on
    [lo, hi], from its values alone (no activation patterns): slopes between neighbouring grid
    points are compared; a kink inside a grid cell changes the slope over a run of adjacent cells,
    and each such run counts as one kink. Pieces = kinks + 1. Unlike activation regions this
    merges neighbouring regions with the same slope. Evaluate in float64 (``rtol`` of the slope scale)."""
    grid = _grid_1d(lo, hi, n)
    with no_grad():
        y = f(as_tensor(grid.astype(_param_dtype(f))))
    ya = xp.asarray(y).astype(xp.float64).reshape(n, -1)
    h = (hi - lo) / (n - 1)
    slopes = (ya[1:] - ya[:-1]) / h
    scale = max(float(xp.abs(slopes).max()), 1.0) if slopes.size else 1.0
    changed = xp.any(xp.abs(slopes[1:] - slopes[:-1]) > rtol * scale, axis=1)
    # count runs of consecutive True
    starts = changed & ~xp.concatenate([xp.zeros(1, dtype=bool), changed[:-1]])
    return int(starts.sum()) + 1


def _param_dtype(model: Any) -> Any:
    if isinstance(model, Module):
        for p in model.parameters():
            return p.dtype
    return xp.float64


__all__ = [
    "activation_patterns", "count_linear_pieces_1d", "count_linear_regions_1d", "count_linear_regions_2d",
    "count_parameters", "deep_max_regions_1d", "deep_net_parameters", "format_parameter_table", "mlp_parameters",
    "parameter_table", "shallow_max_regions", "shallow_net_parameters", "zaslavsky_bound",
]
