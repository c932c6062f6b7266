"""Optimizer (优化器): the base class of every optimisation algorithm (Xu §1.9, Fang ch. 6).

Like ``torch.optim.Optimizer``: parameters live in ``param_groups`` (a list of dicts, each with its
own hyper-parameters such as ``lr``), per-parameter buffers live in ``state`` (keyed by the
parameter tensor), ``zero_grad`` clears gradients, ``step(closure)`` applies one update, and
``state_dict``/``load_state_dict`` use PyTorch's layout (state keyed by integer parameter ids, groups
with ``params`` lists of ids) so that a resumed run continues identically.

The update math lives in :mod:`shenjing.optim.functional` (one function per algorithm, over lists of
parameters and their state); the classes validate hyper-parameters, keep ``param_groups``/``state`` and
call it. Updates write the backend arrays in place (no graph is recorded) through ``p.inplace()``,
which bumps each parameter's version counter as an in-place operation under ``no_grad`` would.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyper-parameter without a default (torch.optim.optimizer.required)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimisers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``module.named_parameters()``),
            or of dicts (parameter groups), each with a ``"params"`` entry and optional per-group
            hyper-parameters that override ``defaults``.
        defaults: the default hyper-parameters of every group.

    Subclasses implement ``step(closure=None)``: ``self._eval_closure(closure)`` re-evaluates the loss
    (with grad enabled), ``self._with_grad(group)`` gives the parameters to update and their gradients,
    ``self.state[p]`` their buffers, and a function of :mod:`shenjing.optim.functional` updates them.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            )
        if isinstance(params, dict):
            params = [params]
        if isinstance(params, set):  # stricter than torch here: a set's order, hence the state ids, varies between runs
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (e.g. layers unfrozen during fine-tuning) with its own options."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
            names = [n for n, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params (index {i}) is {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"can't optimize a non-leaf Tensor (index {i}, shape {tuple(p.shape)})")
        param_group["params"] = params
        if names is not None:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an error",
                          UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: set it to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif g.grad_fn is None and g.array.flags.writeable:
                    g.requires_grad = False
                    with g.inplace() as a:
                        a.fill(0)
                else:
                    p.grad = as_tensor(xp.zeros_like(g.array))

    @staticmethod
    def _with_grad(group: dict[str, Any]) -> tuple[list[Tensor], list[Tensor]]:
        """The group's parameters that have a gradient, and their gradients (the functional update's inputs)."""
        params = [p for p in group["params"] if p.grad is not None]
        return params, [p.grad for p in params]

    @staticmethod
    def _eval_closure(closure: Callable[[], Any] | None) -> Any:
        """Run ``closure`` (which re-computes the loss and calls backward) with grad enabled."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state in PyTorch's layout.

        ``{"state": {param_id: {buffer name: Tensor | number}}, "param_groups": [{..., "params":
        [param_id, ...]}]}``, ids numbering the parameters in group order. Buffers are copied, so the
        returned dict is a snapshot that later steps do not change."""
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {}
        for k, v in self.state.items():
            key = mapping[id(k)] if isinstance(k, Tensor) and id(k) in mapping else k
            state[key] = {name: _snapshot(val) for name, val in v.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict made by ``state_dict`` (of this optimiser, or of the same torch.optim class:
        its tensors are converted). Groups must match in number and size; floating buffers are cast
        to their parameter's dtype (``step`` counters excepted)."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                f"than the optimizer ({len(groups)})"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({i}, {len(s['params'])} params) that doesn't "
                    f"match the size of optimizer's group ({len(g['params'])} params)"
                )
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {name: _cast(p, name, val) for name, val in v.items()}
            else:
                state[k] = copy.deepcopy(v)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            for name, default in self.defaults.items():
                s.setdefault(name, g.get(name, default))
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}"
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    s += f"\n    {key}: {group[key]}"
        return s + "\n)"


# ---------------------------------------------------------------------- state_dict helpers
def _snapshot(v: Any) -> Any:
    if isinstance(v, Tensor):
        return as_tensor(v.array.copy())
    return copy.deepcopy(v)


def _cast(p: Tensor, name: str, v: Any) -> Any:
    """A state value as a fresh shenjing Tensor (floating ones in ``p``'s dtype, except ``step``)."""
    if isinstance(v, Tensor):
        arr = v.array
    elif isinstance(v, xp.ndarray) or hasattr(v, "__array__"):
        if hasattr(v, "detach"):  # a torch tensor
            v = v.detach().cpu()
        arr = xp.asarray(v)
    else:
        return copy.deepcopy(v)
    if name != "step" and arr.dtype.kind == "f":
        arr = arr.astype(p.dtype, copy=True)
    else:
        arr = arr.copy()
    return as_tensor(arr)
