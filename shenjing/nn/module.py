"""Module (模块): a layer or a model — parameters, buffers, sub-modules, train/eval mode.

Names, state_dict keys and ``repr`` follow PyTorch, so weights move between the two.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor


class Parameter(Tensor):
    """A tensor that a Module registers as a learnable parameter (requires grad by default).

    Like torch.nn.Parameter, ``Parameter(t)`` shares memory with ``t`` (an array is wrapped, not copied)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        super().__init__(())  # then share the values of ``data`` instead of copying them
        if data is None:
            data = xp.empty(0, dtype=xp.float32)  # torch.empty(0)
        self.data = data if isinstance(data, Tensor) else as_tensor(xp.asarray(data))
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo) -> Parameter:
        p = Parameter(self.array.copy(), self.requires_grad)
        if self.grad is not None:
            p.grad = as_tensor(self.grad.array.copy())
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.array, self.requires_grad))


def _array(v):
    """The values of a Tensor, array or array-like (a torch tensor, a list) as a backend array."""
    return v.array if isinstance(v, Tensor) else xp.asarray(v)


class _IncompatibleKeys(tuple):
    """(missing_keys, unexpected_keys), as returned by torch's load_state_dict."""

    @property
    def missing_keys(self) -> list:
        return self[0]

    @property
    def unexpected_keys(self) -> list:
        return self[1]


class _Handle:
    def __init__(self, store: dict, key) -> None:
        self.store, self.key = store, key

    def remove(self) -> None:
        self.store.pop(self.key, None)


class Module:
    """Base class of every layer (like torch.nn.Module): subclasses set attributes in __init__
    and define ``forward``; ``module(x)`` runs forward with the registered hooks."""

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_hook_id"] = 0

    # ------------------------------------------------------------- attribute registration
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() call")
        params, mods, bufs = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            mods.pop(name, None)
            bufs.pop(name, None)
            d.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            bufs.pop(name, None)
            d.pop(name, None)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' (shenjing.nn.Parameter or None expected)")
            params[name] = None
        elif name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            bufs[name] = value
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None expected)")
            mods[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "." in name or not name:
            raise KeyError(f"parameter name can't contain \".\" or be empty, got '{name}'")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' (Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (e.g. BatchNorm's running mean)."""
        if "." in name or not name:
            raise KeyError(f"buffer name can't contain \".\" or be empty, got '{name}'")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        mod = self
        for part in target.split(".") if target else []:
            mod = mod._modules[part]
        return mod

    # ------------------------------------------------------------- running
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        if self.__dict__.get("_backward_hooks") and is_grad_enabled():
            out = self._forward_with_backward_hooks(args, kwargs)
        else:
            out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            r = hook(self, args, out)
            if r is not None:
                out = r
        return out

    def register_forward_hook(self, hook) -> _Handle:
        """``hook(module, inputs, output)`` after forward; a returned value replaces the output."""
        self.__dict__["_hook_id"] += 1
        self._forward_hooks[self._hook_id] = hook
        return _Handle(self._forward_hooks, self._hook_id)

    def register_full_backward_hook(self, hook) -> _Handle:
        """``hook(module, grad_input, grad_output)`` once the gradients with respect to this module's
        tensor inputs are computed (None for inputs that need none); for a module with one tensor
        input a returned ``(grad,)`` replaces the gradient passed on. As torch, but a module called
        with several inputs cannot replace their gradients (an error says so)."""
        self.__dict__["_hook_id"] += 1
        self._backward_hooks[self._hook_id] = hook
        return _Handle(self._backward_hooks, self._hook_id)

    def _forward_with_backward_hooks(self, args, kwargs):
        """Forward with each tensor input through a copy (its gradient is then this module's share
        only) and hooks on the copies and outputs that gather grad_input and grad_output."""
        args = list(args)
        grad_in: list = [None] * len(args)
        grad_out: dict = {}
        pending = {i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad}

        def fire():
            g_out = tuple(grad_out.get(j) for j in range(n_out))
            for hook in list(self._backward_hooks.values()):
                r = hook(self, tuple(grad_in), g_out)
                if r is not None:
                    if len(args) != 1:
                        raise RuntimeError(f"{type(self).__name__} backward hook: replacing grad_input is supported for a module with one input only")
                    grad_in[0] = r[0] if isinstance(r, (tuple, list)) else r
            return grad_in

        def in_hook(i):
            def h(g):
                grad_in[i] = g
                pending.discard(i)
                return fire()[i] if not pending else None
            return h

        for i in sorted(pending):
            args[i] = args[i].clone()
            args[i].register_hook(in_hook(i))
        out = self.forward(*args, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        n_out = len(outs)
        needing = [j for j, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]

        def out_hook(j):
            def h(g):
                grad_out[j] = g
                if not pending and len(grad_out) == len(needing):  # no input needs a gradient: fire now
                    fire()
            return h

        for j in needing:
            outs[j].register_hook(out_hook(j))
        return out

    def register_forward_pre_hook(self, hook) -> _Handle:
        self.__dict__["_hook_id"] += 1
        self._forward_pre_hooks[self._hook_id] = hook
        return _Handle(self._forward_pre_hooks, self._hook_id)

    # ------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mprefix}.{name}" if mprefix else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------- modes and dtype
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = as_tensor(xp.zeros_like(p.grad.array))

    def apply(self, fn) -> Module:
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Cast floating-point parameters and buffers to a dtype; a device must be the CPU (no GPU backend)."""
        from ..device import check_device, is_device

        dtype = kwargs.get("dtype")
        if kwargs.get("device") is not None:
            check_device(kwargs["device"], f"{type(self).__name__}.to")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif is_device(a) or isinstance(a, str):
                check_device(a, f"{type(self).__name__}.to")
            elif a is not None:
                dtype = a
        if dtype is None:
            return self
        dtype = xp.dtype(dtype)
        if dtype.kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}")
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for v in store.values():
                    if v is not None and v.dtype.kind == "f" and v.dtype != dtype:  # torch: p.data = p.data.to(dtype)
                        v.data = as_tensor(v.array.astype(dtype))
                        if v.grad is not None:
                            v.grad.data = as_tensor(v.grad.array.astype(dtype))
        return self

    def float(self) -> Module:
        return self.to(xp.float32)

    def double(self) -> Module:
        return self.to(xp.float64)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        """Refused: shenjing has no GPU backend (use ``.to('cpu')`` or leave the module where it is)."""
        from ..device import check_device

        check_device("cuda" if device is None else device if isinstance(device, str) or hasattr(device, "type") else f"cuda:{device}",
                     f"{type(self).__name__}.cuda")
        return self

    # ------------------------------------------------------------- state
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers under PyTorch's dotted key names."""
        out = OrderedDict() if destination is None else destination
        for name, m in self.named_modules(prefix=prefix.rstrip(".")):
            pre = f"{name}." if name else ""
            for k, p in m._parameters.items():
                if p is not None:
                    out[pre + k] = p if keep_vars else p.detach()
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    out[pre + k] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy values into parameters and buffers; with ``strict`` every key must match."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k, v in state_dict.items():
            if k not in own:
                continue
            arr = _array(v)
            if arr.shape != own[k].shape:
                errors.append(f"size mismatch for {k}: copying a param with shape {tuple(arr.shape)} from checkpoint, "
                              f"the shape in current model is {tuple(own[k].shape)}.")
        if strict and (missing or unexpected):
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, v in state_dict.items():
            if k in own:
                with own[k].inplace() as a:  # no graph; the version moves, as after torch's copy_
                    a[...] = _array(v).astype(a.dtype, copy=False)
        return _IncompatibleKeys((missing, unexpected))

    # ------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            mod = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {mod}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)


class Sequential(Module):
    """Modules applied in order: Sequential(Linear(2, 4), ReLU(), Linear(4, 1))."""

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[idx]]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for m in modules or []:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        for k, m in dict(modules or {}).items():
            self.add_module(k, m)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


class ParameterList(Module):
    def __init__(self, values=None) -> None:
        super().__init__()
        for v in values or []:
            self.append(v)

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self._parameters)), value if isinstance(value, Parameter) else Parameter(value))
        return self

    def __getitem__(self, idx):
        return list(self._parameters.values())[idx]

    def __len__(self) -> int:
        return len(self._parameters)

    def extra_repr(self) -> str:
        lines = []
        for k, p in self._parameters.items():
            size = "x".join(str(n) for n in p.shape)
            lines.append(f"  ({k}): Parameter containing: [shenjing.{p.dtype} of size {size}]")
        return "\n".join(lines)

    def __iter__(self):
        return iter(self._parameters.values())
