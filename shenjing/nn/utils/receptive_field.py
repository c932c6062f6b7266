"""Receptive fields (感受野) and parameter counts of convolutional stacks (Fang ch. 7, Wang 七).

Wang 七.1: "每个特征图像点取值依赖于输入图像中的某个区域,该区域被称为感受野", and it grows with
depth ("请自行推导"). The derivation, per spatial axis, for a chain of conv/pool layers l = 1, …, L
with kernel k_l, stride s_l, padding p_l and dilation d_l (effective kernel k̂_l = d_l(k_l − 1) + 1):

    jump          j_l = j_{l−1} · s_l                         (j_0 = 1: input pixels between
                                                                neighbouring units of layer l)
    receptive fd  r_l = r_{l−1} + (k̂_l − 1) · j_{l−1}         (r_0 = 1)
    first centre  c_l = c_{l−1} + ((k̂_l − 1)/2 − p_l) · j_{l−1} (c_0 = 0: where the first unit looks)
    output size   n_l = ⌊(n_{l−1} + 2p_l − k̂_l) / s_l⌋ + 1     (⌈·⌉ with ceil_mode pooling)

so three 3×3 convolutions of stride 1 see 7×7 pixels, and conv3 → pool2 → conv3 sees 8×8.

Parameter counts (参数量, Fang ch. 7): a convolution from C_i to C_o channels with a K × K
kernel has a weight Ω of C_i·C_o·K² numbers (Fang writes Ω ∈ R^{C_i×C_o×K×K}; PyTorch stores
it as (C_o, C_i/groups, K_h, K_w)) and a bias β ∈ R^{C_o}: C_i·C_o·K² + C_o in all, independent of
the image size. A 1×1 convolution (改变通道数) has C_i·C_o + C_o.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..module import Module
from .counting import count_parameters

__all__ = [
    "RFLayer",
    "conv_output_size",
    "receptive_field",
    "layer_specs",
    "format_receptive_field",
    "conv_parameters",
    "parameter_formula",
    "check_parameter_counts",
]

_CONV = {"Conv1d", "Conv2d", "Conv3d"}
_POOL = {"MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d"}
_ADAPTIVE = {"AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"}
_STOP = {"Flatten", "Linear", "Unflatten"}  # the spatial chain ends here
_NOT_A_CHAIN = {"ConvTranspose1d", "ConvTranspose2d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
                "MaxUnpool1d", "MaxUnpool2d", "Fold", "Unfold", "PixelShuffle"}


@dataclass
class RFLayer:
    """One row of :func:`receptive_field`: the layer's (k, s, p, d), its output size n_l (None when
    no input size was given), jump j_l, receptive field r_l and the centre c_l of the first output
    unit's field in input-pixel coordinates. 1-D specs give ints, 2-D specs (h, w) tuples."""

    name: str
    kernel: Any
    stride: Any
    padding: Any
    dilation: Any
    out_size: Any
    jump: Any
    rf: Any
    start: Any


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """n_out = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 (PyTorch's Conv/Pool formula); with ``ceil_mode`` the
    ceiling, dropping a last window that would start in the right padding (as PyTorch does)."""
    span = n + 2 * padding - dilation * (kernel_size - 1) - 1
    if span < 0:
        raise ValueError(f"conv_output_size: kernel {kernel_size} (dilation {dilation}) is larger than the "
                         f"padded input {n} + 2·{padding}")
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= n + padding:
        out -= 1
    return out


def _tup(v: Any, nd: int) -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * nd
        if len(v) != nd:
            raise ValueError(f"receptive_field: {v!r} has {len(v)} entries, expected {nd}")
        return tuple(v)
    return (v,) * nd


def _normalise_spec(spec: Any) -> dict:
    if isinstance(spec, dict):
        d = dict(spec)
        if "kernel" not in d and "kernel_size" in d:
            d["kernel"] = d.pop("kernel_size")
        d.setdefault("stride", 1)
        d.setdefault("padding", 0)
        d.setdefault("dilation", 1)
        d.setdefault("ceil_mode", False)
        d.setdefault("name", "")
        return d
    if isinstance(spec, int):
        spec = (spec,)
    spec = tuple(spec)
    if not 1 <= len(spec) <= 4:
        raise ValueError(f"receptive_field: a layer is (kernel, stride=1, padding=0, dilation=1), got {spec!r}")
    k, s, p, d = spec + (1, 0, 1)[len(spec) - 1:]
    return {"name": "", "kernel": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": False}


def layer_specs(module: Module) -> list[dict]:
    """The conv/pool layers of a chain of modules, in order, as dicts (name, kernel, stride, padding,
    dilation, ceil_mode). Containers (nn.Sequential and other modules) are walked depth first in
    registration order, which is the data flow only for chains; elementwise layers (BatchNorm,
    activations, Dropout) leave the receptive field unchanged and are skipped; the walk stops at
    Flatten/Linear. Adaptive pooling becomes ``{'adaptive': output_size}`` (its kernel depends on
    the input size). Transposed convolutions and upsampling are refused."""
    specs: list[dict] = []

    def walk(mod: Module, prefix: str) -> bool:
        kind = type(mod).__name__
        if kind in _NOT_A_CHAIN:
            raise ValueError(f"receptive_field: {prefix or kind} ({kind}) is not a conv/pool layer; "
                             "the calculator handles chains of convolutions and pooling only")
        if kind in _STOP:
            return False
        if kind in _CONV or kind in _POOL:
            stride = getattr(mod, "stride", None)
            specs.append({"name": prefix or kind, "kernel": mod.kernel_size,
                          "stride": mod.kernel_size if stride in (None, ()) else stride,
                          "padding": getattr(mod, "padding", 0), "dilation": getattr(mod, "dilation", 1),
                          "ceil_mode": bool(getattr(mod, "ceil_mode", False)), "type": kind})
            return True
        if kind in _ADAPTIVE:
            specs.append({"name": prefix or kind, "adaptive": mod.output_size, "type": kind})
            return True
        for name, child in mod._modules.items():
            if child is not None and not walk(child, f"{prefix}.{name}" if prefix else name):
                return False
        return True

    walk(module, "")
    return specs


def _same_padding(k_eff: int, stride: int) -> int:
    if stride != 1:
        raise ValueError("receptive_field: padding='same' needs stride 1 (as in PyTorch)")
    return (k_eff - 1) // 2  # the left padding; PyTorch puts the odd extra pixel on the right


def receptive_field(layers: Module | Iterable[Any], input_size: int | Sequence[int] | None = None) -> list[RFLayer]:
    """Receptive field, jump and output size per layer of a conv/pool chain (感受野计算器).

    ``layers`` is an ``nn.Module`` (walked by :func:`layer_specs`) or a list whose items are
    ``kernel``, ``(kernel, stride, padding, dilation)`` (trailing entries optional) or dicts with
    those keys (and ``ceil_mode``); each entry may be an int or an (h, w) tuple. ``padding`` may be
    'same' or 'valid'. ``input_size`` (n or (h, w)) adds the output sizes n_l. Recurrences (per
    axis): j_l = j_{l−1}s_l, r_l = r_{l−1} + (k̂_l − 1)j_{l−1}, c_l = c_{l−1} + ((k̂_l − 1)/2 − p_l)j_{l−1},
    k̂ = d(k − 1) + 1, n_l = ⌊(n_{l−1} + 2p_l − k̂_l)/s_l⌋ + 1. Returns one :class:`RFLayer` per layer;
    the last row's ``rf`` is the network's receptive field."""
    specs = layer_specs(layers) if isinstance(layers, Module) else [_normalise_spec(s) for s in layers]
    values = [input_size] + [v for s in specs for k, v in s.items() if k in ("kernel", "stride", "padding", "dilation", "adaptive")]
    dims = {len(v) for v in values if isinstance(v, (tuple, list)) and len(v) > 1}
    if len(dims) > 1:
        raise ValueError(f"receptive_field: mixed numbers of spatial dimensions {sorted(dims)}")
    nd = dims.pop() if dims else 1
    scalar = not any(isinstance(v, (tuple, list)) for v in values)
    n = list(_tup(input_size, nd)) if input_size is not None else None
    j, r, c = [1] * nd, [1] * nd, [0.0] * nd
    rows = []
    for i, s in enumerate(specs):
        name = s.get("name") or f"layer{i}"
        if "adaptive" in s:
            if n is None:
                raise ValueError(f"receptive_field: {name} is adaptive pooling; give input_size to fix its kernel")
            out = _tup(s["adaptive"], nd)
            out = tuple(n[a] if o is None else o for a, o in enumerate(out))
            if any(n[a] % out[a] for a in range(nd)):
                raise ValueError(f"receptive_field: {name}: adaptive pooling from {tuple(n)} to {out} has unequal windows")
            ks = ss = tuple(n[a] // out[a] for a in range(nd))
            ps, ds, ceil, same = (0,) * nd, (1,) * nd, False, False
        else:
            ks, ss, ds = _tup(s["kernel"], nd), _tup(s["stride"], nd), _tup(s["dilation"], nd)
            ps = s["padding"]
            ceil = bool(s.get("ceil_mode", False))
            if isinstance(ps, str):
                if ps not in ("same", "valid"):
                    raise ValueError(f"receptive_field: padding must be an int, a tuple, 'same' or 'valid', got {ps!r}")
                ps = tuple(0 if ps == "valid" else _same_padding(ds[a] * (ks[a] - 1) + 1, ss[a]) for a in range(nd))
                same = s["padding"] == "same"
            else:
                ps, same = _tup(ps, nd), False
        for a in range(nd):
            k_eff = ds[a] * (ks[a] - 1) + 1
            r[a] = r[a] + (k_eff - 1) * j[a]
            c[a] = c[a] + ((k_eff - 1) / 2 - ps[a]) * j[a]
            if n is not None:
                if "adaptive" in s:
                    n[a] = out[a]
                elif not same:  # 'same' keeps the size (stride 1)
                    n[a] = conv_output_size(n[a], ks[a], ss[a], ps[a], ds[a], ceil)
            j[a] = j[a] * ss[a]

        def f(v):
            return v[0] if scalar else tuple(v)

        rows.append(RFLayer(name, f(ks), f(ss), f(ps), f(ds), None if n is None else f(n), f(j), f(r),
                            f([x if x != int(x) else int(x) for x in c])))
    return rows


def format_receptive_field(rows: list[RFLayer]) -> str:
    """The rows of :func:`receptive_field` as an aligned table."""
    head = f"{'layer':<20} {'k':>7} {'s':>7} {'p':>7} {'d':>7} {'out':>9} {'jump':>7} {'RF':>9} {'start':>9}"
    lines = [head, "-" * len(head)]

    def t(v):
        return "-" if v is None else ("×".join(str(x) for x in v) if isinstance(v, tuple) else str(v))

    for r in rows:
        lines.append(f"{r.name:<20} {t(r.kernel):>7} {t(r.stride):>7} {t(r.padding):>7} {t(r.dilation):>7} "
                     f"{t(r.out_size):>9} {t(r.jump):>7} {t(r.rf):>9} {t(r.start):>9}")
    return "\n".join(lines)


def conv_parameters(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], bias: bool = True,
                    groups: int = 1) -> int:
    """C_i·C_o·K² + C_o (Fang ch. 7): weights (C_o, C_i/groups, K_h, K_w) and a bias of C_o.
    ``kernel_size`` may be K (square, any number of dims given as a tuple) or a tuple of sizes."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"conv_parameters: channels {in_channels}→{out_channels} are not divisible by groups={groups}")
    ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    return in_channels // groups * out_channels * math.prod(ks) + (out_channels if bias else 0)


def parameter_formula(module: Module) -> int | None:
    """The parameter count of one layer from its hyper-parameters (None for unknown types):
    Conv (C_i/g)·C_o·K_h·K_w + C_o, ConvTranspose C_i·(C_o/g)·K_h·K_w + C_o, Linear (D_i + 1)·D_o
    (without bias D_i·D_o), BatchNorm/GroupNorm 2C (γ and β; Fang §8.2 "KC 个 β, KC 个 γ")."""
    kind = type(module).__name__
    own = dict(module.named_parameters(recurse=False))
    has_bias = own.get("bias") is not None
    if kind in _CONV or kind.startswith("ConvTranspose"):
        return conv_parameters(module.in_channels, module.out_channels, module.kernel_size, has_bias, module.groups)
    if kind == "Linear":
        return module.in_features * module.out_features + (module.out_features if has_bias else 0)
    if kind.startswith("BatchNorm") or kind in ("GroupNorm", "InstanceNorm2d"):
        n = getattr(module, "num_features", None) or module.num_channels
        return (n if own.get("weight") is not None else 0) + (n if has_bias else 0)
    return None


def check_parameter_counts(module: Module) -> list[dict]:
    """For every layer owning parameters: ``name``, ``type``, ``formula`` (:func:`parameter_formula`)
    and ``actual`` (Σ numel of its own parameters); a last row ``total`` holds the formula sum and
    ``count_parameters(module)``. Raises ValueError when a known layer's formula and count differ."""
    rows, total = [], 0
    for name, mod in module.named_modules():
        own = list(mod.parameters(recurse=False))
        if not own:
            continue
        actual = sum(p.numel() for p in own)
        formula = parameter_formula(mod)
        if formula is not None and formula != actual:
            raise ValueError(f"check_parameter_counts: {name} ({type(mod).__name__}) has {actual} parameters, "
                             f"the formula gives {formula}")
        rows.append({"name": name or "(root)", "type": type(mod).__name__, "formula": formula, "actual": actual})
        total += actual if formula is None else formula
    rows.append({"name": "total", "type": "", "formula": total, "actual": count_parameters(module, trainable_only=False)})
    return rows
