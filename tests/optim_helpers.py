"""A tiny tanh MLP built from raw tensors, run identically in shenjing and PyTorch (float64).

``run(lib, name, kwargs, seed, ...)`` trains it for a number of steps with ``lib.optim.<name>`` from
weights and data drawn from ``seed`` (the test's ``seed`` fixture) and returns the final parameters as
NumPy arrays; ``numpy_grads`` is the same model's gradient written out by hand for the tests of the
notes' forms against their formulas.
"""

from __future__ import annotations

import numpy as np
import torch

from shenjing import optim as sj_optim

NAMES = ("W1", "b1", "W2", "b2")


def data(seed: int):
    """Initial weights and a regression batch, random from ``seed`` (the test's ``seed`` fixture)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 8)) * 0.5, rng.standard_normal(8) * 0.1,
              rng.standard_normal((8, 2)) * 0.5, rng.standard_normal(2) * 0.1]
    X = rng.standard_normal((16, 3))
    Y = rng.standard_normal((16, 2))
    return params, X, Y


def loss_fn(lib, params, X, Y, sign: float = 1.0):
    W1, b1, W2, b2 = params
    h = (X @ W1 + b1).tanh()
    out = h @ W2 + b2
    return ((out - Y) ** 2).mean() * sign


def make_params(lib, arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def to_np(t) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def groups_of(params, groups):
    """``groups``: None (all parameters) or dicts whose "params" are indices into ``params``."""
    if groups is None:
        return params
    return [{**g, "params": [params[i] for i in g["params"]]} for g in groups]


def optim_module(lib):
    return torch.optim if lib is torch else sj_optim


def run(lib, name: str, kwargs: dict, seed: int, steps: int = 50, groups=None, sign: float = 1.0, closure: bool = False):
    """Train from ``data(seed)`` for ``steps`` steps; returns (final parameters, losses)."""
    arrays, X, Y = data(seed)
    params = make_params(lib, arrays)
    Xt, Yt = lib.tensor(X), lib.tensor(Y)
    opt = getattr(optim_module(lib), name)(groups_of(params, groups), **kwargs)
    losses = []
    for _ in range(steps):
        if closure:
            def f():
                opt.zero_grad()
                loss = loss_fn(lib, params, Xt, Yt, sign)
                loss.backward()
                return loss
            losses.append(float(opt.step(f).detach()))
        else:
            opt.zero_grad()
            loss = loss_fn(lib, params, Xt, Yt, sign)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    return [to_np(p) for p in params], losses


def numpy_grads(params, X, Y):
    """d mean((tanh(X W1 + b1) W2 + b2 − Y)²) / d(W1, b1, W2, b2), by hand (Zhao §3)."""
    W1, b1, W2, b2 = params
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    d_out = 2 * (out - Y) / out.size
    dz = (d_out @ W2.T) * (1 - h * h)
    return [X.T @ dz, dz.sum(0), h.T @ d_out, d_out.sum(0)]


def assert_params_close(a, b, atol: float = 1e-10, what: str = "") -> None:
    for name, x, y in zip(NAMES, a, b):
        np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=f"{what} {name}")
