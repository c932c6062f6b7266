"""A tiny tanh MLP built from raw tensors, run identically in shenjing and PyTorch (float64).

``Run(lib, name, kwargs, seed, ...)`` trains it with ``lib.optim.<name>`` from weights and data drawn
from ``seed`` (the test's ``seed`` fixture); ``Reference`` steps it by a formula written out in NumPy with
``numpy_loss_grads``, the loss and its gradient by hand. ``lockstep`` compares two of them step by step from identical
weights; ``run`` trains one freely.
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


class Run:
    """The tiny MLP trained with ``lib.optim.<name>`` from ``data(seed)``, a step at a time."""

    def __init__(self, lib, name: str, kwargs: dict, seed: int, groups=None, sign: float = 1.0, closure: bool = False):
        arrays, X, Y = data(seed)
        self.lib, self.sign, self.closure = lib, sign, closure
        self.params = make_params(lib, arrays)
        self.X, self.Y = lib.tensor(X), lib.tensor(Y)
        self.opt = getattr(optim_module(lib), name)(groups_of(self.params, groups), **kwargs)

    def _loss(self):
        self.opt.zero_grad()
        loss = loss_fn(self.lib, self.params, self.X, self.Y, self.sign)
        loss.backward()
        return loss

    def step(self) -> float:
        """One optimiser step; returns the loss it was computed from."""
        if self.closure:
            return float(self.opt.step(self._loss).detach())
        loss = self._loss()
        self.opt.step()
        return float(loss.detach())

    def arrays(self) -> list[np.ndarray]:
        return [to_np(p) for p in self.params]

    def set_arrays(self, arrays) -> None:
        with self.lib.no_grad():
            for p, a in zip(self.params, arrays):
                p.copy_(self.lib.tensor(a))


class Reference:
    """The same MLP stepped by ``update(t, params, grads, state)``, a formula written out in NumPy
    in place on the arrays; ``lookahead(params, state)`` gives where the gradient is taken (Nesterov)."""

    def __init__(self, update, seed: int, lookahead=None):
        arrays, self.X, self.Y = data(seed)
        self.params = [a.copy() for a in arrays]
        self.update, self.lookahead, self.state, self.t = update, lookahead, {}, 0

    def step(self) -> float:
        self.t += 1
        at = self.lookahead(self.params, self.state) if self.lookahead else self.params
        loss, grads = numpy_loss_grads(at, self.X, self.Y)
        self.update(self.t, self.params, grads, self.state)
        return loss

    def arrays(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]


def lockstep(ours: Run, ref, steps: int = 50, atol: float = 1e-12, what: str = "") -> list[float]:
    """Step ``ours`` and ``ref`` together from identical weights: after every step the parameters and
    losses must agree to ``atol``, then ours continue from the reference's weights. Returns our losses.

    Re-syncing keeps the comparison at one step's round-off: run freely, a trajectory can amplify an
    ulp a thousandfold per step where the update is ill-conditioned (g/√(g² + ε) near g = 0)."""
    losses = []
    for t in range(1, steps + 1):
        mine, theirs = ours.step(), ref.step()
        expected = ref.arrays()
        assert_params_close(ours.arrays(), expected, atol, f"{what} step {t}")
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=atol, err_msg=f"{what} loss at step {t}")
        losses.append(mine)
        ours.set_arrays(expected)
    return losses


def run(lib, name: str, kwargs: dict, seed: int, steps: int = 50, groups=None, sign: float = 1.0, closure: bool = False):
    """Train freely from ``data(seed)`` for ``steps`` steps; returns (final parameters, losses)."""
    r = Run(lib, name, kwargs, seed, groups, sign, closure)
    losses = [r.step() for _ in range(steps)]
    return r.arrays(), losses


def numpy_loss_grads(params, X, Y):
    """L = mean((tanh(X W1 + b1) W2 + b2 − Y)²) and dL/d(W1, b1, W2, b2), by hand (Zhao §3)."""
    W1, b1, W2, b2 = params
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    d_out = 2 * (out - Y) / out.size
    dz = (d_out @ W2.T) * (1 - h * h)
    return float(np.mean((out - Y) ** 2)), [X.T @ dz, dz.sum(0), h.T @ d_out, d_out.sum(0)]


def assert_params_close(a, b, atol: float = 1e-10, what: str = "") -> None:
    for name, x, y in zip(NAMES, a, b):
        np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=f"{what} {name}")
