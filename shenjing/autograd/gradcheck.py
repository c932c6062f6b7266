"""Gradient checking (梯度检验): backprop against central differences (Wang eq. 9).

Central difference (f(x+ε) − f(x−ε)) / 2ε has error O(ε²); the notes' (f(x+ε) − f(x−ε)) / ε is
twice the derivative (an erratum, docs/SOURCES.md).
"""

from __future__ import annotations

from ..backend import xp
from .engine import run_backward
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor


def _outputs(fn, inputs) -> tuple:
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def numerical_jacobian(fn, inputs, eps: float = 1e-6):
    """``J[k][i]`` = ∂out_k/∂in_i by central differences, as arrays of shape (out.numel, in.numel)."""
    with no_grad():
        outs = _outputs(fn, inputs)
        jac = [[xp.zeros((o.numel(), t.numel())) for t in inputs] for o in outs]
        for i, t in enumerate(inputs):
            if not (isinstance(t, Tensor) and t.requires_grad):
                continue
            flat = t._data.flat  # indexes in C order and writes through, also for a non-contiguous array
            for j in range(t._data.size):
                orig = flat[j].item()
                flat[j] = orig + eps
                plus = [o._data.astype(xp.float64).reshape(-1) for o in _outputs(fn, inputs)]
                flat[j] = orig - eps
                minus = [o._data.astype(xp.float64).reshape(-1) for o in _outputs(fn, inputs)]
                flat[j] = orig
                for k in range(len(outs)):
                    jac[k][i][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def analytical_jacobian(fn, inputs):
    """The same Jacobian by one backward pass per output element."""
    outs = _outputs(fn, inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    jac = [[xp.zeros((o.numel(), t.numel())) for t in inputs] for o in outs]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            seed = xp.zeros(o._data.size, dtype=o._data.dtype)
            seed[r] = 1
            grads = run_backward((o,), (Tensor._make(seed.reshape(o._data.shape)),), True, False,
                                 inputs=[inputs[i] for i in diff], capture=True, allow_unused=True)
            for i, g in zip(diff, grads):
                if g is not None:
                    jac[k][i][r] = g._data.reshape(-1)
    return jac


def gradcheck(func, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """True if backprop's Jacobian equals the central-difference one (use float64 inputs)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for t in inputs:
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != xp.float64:
            raise ValueError(f"gradcheck: inputs that require grad must be float64, got {t.dtype} (shape {tuple(t.shape)})")
    num = numerical_jacobian(func, inputs, eps)
    ana = analytical_jacobian(func, inputs)
    for k, (rn, ra) in enumerate(zip(num, ana)):
        for i, (n, a) in enumerate(zip(rn, ra)):
            if not xp.allclose(a, n, rtol=rtol, atol=atol):
                if raise_exception:
                    err = xp.abs(a - n).max()
                    raise RuntimeError(
                        f"gradcheck: Jacobian mismatch for output {k} with respect to input {i}, "
                        f"max abs error {err:.3g}\nnumerical:{n}\nanalytical:{a}"
                    )
                return False
    return True


def gradgradcheck(func, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """gradcheck of the first derivative (in a random output direction): checks second derivatives."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _outputs(func, inputs)
    rs = xp.random.default_rng(seed)
    vs = [Tensor._make(rs.standard_normal(o.shape)) for o in outs]

    def first(*xs):
        with enable_grad():  # numerical_jacobian calls this under no_grad
            os = _outputs(func, xs)
            ins = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            gs = run_backward(os, vs, True, True, inputs=ins, capture=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(xp.zeros(x.shape)) for g, x in zip(gs, ins))

    return gradcheck(first, inputs, eps, atol, rtol, raise_exception)
