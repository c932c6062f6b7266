"""The array backend (后端): every array call of shenjing goes through this module.

``xp`` is the array module (NumPy now). Op code writes ``xp.exp(a)`` and never imports NumPy
itself, so a CuPy backend is a change of this file only.
"""

from __future__ import annotations

import contextvars
import functools
import math

import numpy as xp

ndarray = xp.ndarray

# dtypes: NumPy dtype objects stand in for torch.dtype (they compare equal to np.float32 etc.).
bool_ = xp.dtype("bool")
uint8 = xp.dtype("uint8")
int8 = xp.dtype("int8")
int16 = xp.dtype("int16")
int32 = xp.dtype("int32")
int64 = xp.dtype("int64")
float16 = xp.dtype("float16")
float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
complex64 = xp.dtype("complex64")
complex128 = xp.dtype("complex128")

_default_float = [float32]


def get_default_dtype() -> xp.dtype:
    return _default_float[0]


def set_default_dtype(dtype) -> None:
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {dtype}")
    _default_float[0] = dtype


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


def _category(dtype) -> int:
    """0 bool, 1 integer, 2 floating, 3 complex."""
    k = dtype.kind
    return 0 if k == "b" else 3 if k == "c" else 2 if k == "f" else 1


def promote_types(a, b) -> xp.dtype:
    """torch.promote_types: a bool or integer type meets a higher category's type, and that type wins
    (int64 + float32 is float32, int64 + complex64 is complex64, unlike NumPy); floats meet floats or
    complex types, and integers meet integers, by NumPy's rule, which agrees with PyTorch's there."""
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb and min(ca, cb) < 2:
        return a if ca > cb else b
    return xp.promote_types(a, b)


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower-priority operand only matters if its category is higher."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _category(higher), _category(lower)
    if ch >= 2 and ch >= cl:
        return higher
    if cl > ch:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype a Python scalar takes part in promotion with (like a 'wrapped number' in PyTorch)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return complex64 if _default_float[0] == float32 else complex128
    return _default_float[0]


def result_type(*operands) -> xp.dtype:
    """torch.result_type: dimensioned tensors > zero-dim tensors > Python scalars; within a
    priority class types promote, a lower class only lifts the category (int→float→complex)."""
    dim = zero = wrapped = None
    for o in operands:
        if hasattr(o, "requires_grad"):  # a Tensor (this module cannot import the class)
            d = o.dtype
            if o.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = scalar_dtype(o)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


# Floating-point errors (0/0, log 0, overflow) give NaN and ±inf silently, as in PyTorch: every op's forward
# (Function.apply), each backward pass, the in-place fast path, ``Tensor.inplace()`` blocks and the optimisers'
# updates (``quietly``) run between ``quiet_fp()`` and ``restore_fp(token)``. NumPy ≥ 2 keeps its error state
# in a context variable, set here directly: 0.15 µs a pair, where ``np.errstate`` costs 2 µs.


def _fp_state():
    """(the context variable that ``np.errstate`` sets, its all-ignore value), found through public APIs;
    None where the state is not a context variable (NumPy 1.x)."""
    before = contextvars.copy_context()
    with xp.errstate(all="ignore"):
        after = contextvars.copy_context()
    return next(((var, value) for var, value in after.items() if before.get(var) is not value), None)


_fp = _fp_state()
if _fp is None:
    def quiet_fp() -> dict:
        return xp.seterr(all="ignore")

    def restore_fp(token: dict) -> None:
        xp.seterr(**token)
else:
    quiet_fp = functools.partial(_fp[0].set, _fp[1])
    restore_fp = _fp[0].reset


def check_fits(op: str, value, dtype) -> None:
    """PyTorch's RuntimeError for a finite Python number beyond a floating dtype's range (±inf and NaN fit)."""
    if dtype.kind == "f" and isinstance(value, (int, float)) and math.isfinite(value) and abs(value) > float(xp.finfo(dtype).max):
        raise RuntimeError(f"{op}: value {value!r} cannot be converted to type {dtype} without overflow")


def quietly(fn):
    """``fn`` with floating-point errors silent, as an op's forward (for code on arrays outside ops)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        token = quiet_fp()
        try:
            return fn(*args, **kwargs)
        finally:
            restore_fp(token)

    return wrapper


def special():
    """scipy.special for the NumPy backend (erf, expit, ...)."""
    import scipy.special

    return scipy.special
