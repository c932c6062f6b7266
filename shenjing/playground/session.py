"""One playground session (one browser tab): data, network, optimiser, the training loop and the
frames it shows — losses, the output's and every neuron's heat map, weights, gradient norms."""

from __future__ import annotations

import base64
import math

from .. import autograd
from ..backend import xp
from ..creation import as_tensor
from ..random import manual_seed
from . import datasets
from .config import Config
from .network import PlaygroundNet, features, formula, make_optimizer

GRID = 100  # heat-map resolution (GRID × GRID over [−6, 6]²)


def _grid_points(n: int = GRID):
    g = xp.linspace(-datasets.RADIUS, datasets.RADIUS, n, dtype=xp.float32)
    xx, yy = xp.meshgrid(g, g[::-1])  # row 0 at the top (y = +6)
    return xp.stack([xx.ravel(), yy.ravel()], 1)


def _encode(values) -> str:
    """Values in [−1, 1] as base64 bytes 0–255 (row-major)."""
    q = xp.clip(xp.nan_to_num(values, nan=0.0) * 127.5 + 127.5, 0, 255).astype(xp.uint8)
    return base64.b64encode(q.tobytes()).decode()


class Session:
    def __init__(self, cfg: Config, points=None) -> None:
        self.cfg = cfg
        self.custom = points  # (X, y) uploaded as CSV, or None
        self.grid = _grid_points()
        self.reset()

    # ------------------------------------------------------------------ set-up
    def reset(self) -> None:
        """New weights (from the seed) on the same data; the epoch counter back to 0."""
        cfg = self.cfg
        X, y = self.custom if self.custom is not None else datasets.make(cfg.dataset, cfg.noise / 100, cfg.seed)
        self.Xtr, self.ytr, self.Xte, self.yte = datasets.split(X, y, cfg.percTrainData, cfg.seed)
        manual_seed(cfg.seed)
        self.net = PlaygroundNet(cfg)
        self.opt = make_optimizer(cfg, self.net.parameters())
        self.Ftr, self.Fte, self.Fgrid = features(cfg, self.Xtr), features(cfg, self.Xte), features(cfg, self.grid)
        self.epoch, self.step_count, self.history, self.grad_norms = 0, 0, [], []
        self.diverged: str | None = None
        self.order_rng = xp.random.default_rng(cfg.seed + 2)

    def regenerate(self) -> None:
        """New data (the next seed), as TF Playground's "regenerate"."""
        self.cfg.seed += 1
        self.custom = None
        self.reset()

    # ------------------------------------------------------------------ training
    def loss(self, Fx, y):
        out = self.net(Fx)
        loss = 0.5 * ((out - as_tensor(y)) ** 2).mean()
        weights = [layer.weight for layer in [*self.net.layers, self.net.out]]
        if self.cfg.regularization == "L1":
            loss = loss + self.cfg.regularizationRate * sum(w.abs().sum() for w in weights)
        elif self.cfg.regularization == "L2":
            loss = loss + self.cfg.regularizationRate * 0.5 * sum((w * w).sum() for w in weights)
        return loss

    def train_epoch(self) -> None:
        """One pass over the training points in mini-batches of ``batchSize``; stops at NaN/Inf."""
        if self.diverged:
            return
        self.net.train()
        order = self.order_rng.permutation(len(self.Xtr))
        b = self.cfg.batchSize
        norms = xp.zeros(len(self.net.layers) + 1)
        for i in range(0, len(order), b):
            idx = order[i:i + b]
            Fx, y = self.Ftr[idx], self.ytr[idx]

            def closure(Fx=Fx, y=y):
                self.opt.zero_grad()
                loss = self.loss(Fx, y)
                loss.backward()
                return loss

            loss = self.opt.step(closure)
            self.step_count += 1
            if not math.isfinite(loss.item()):
                self.diverged = (f"The loss became {loss.item()} at step {self.step_count} (epoch {self.epoch + 1}). "
                                 "Lower the learning rate, use a smaller initialisation or add regularisation, then reset.")
                return
            norms += [float(xp.sqrt((layer.weight.grad.array ** 2).sum())) for layer in [*self.net.layers, self.net.out]]
        self.epoch += 1
        self.grad_norms.append((norms / max(1, math.ceil(len(order) / b))).tolist())
        self.history.append([self.mean_loss(self.Ftr, self.ytr), self.mean_loss(self.Fte, self.yte)])

    def mean_loss(self, Fx, y) -> float:
        with autograd.no_grad():
            self.net.eval()
            out = self.net(Fx).array
            self.net.train()
        return float(0.5 * ((out - y) ** 2).mean())

    # ------------------------------------------------------------------ what the page shows
    def points(self) -> dict:
        r = lambda X, y: xp.round(xp.concatenate([X, y[:, None]], 1), 3).tolist()  # noqa: E731
        return {"train": r(self.Xtr, self.ytr), "test": r(self.Xte, self.yte)}

    def frame(self) -> dict:
        """Everything the page draws after an epoch (heat maps as base64 bytes, GRID × GRID)."""
        keep: list = []
        with autograd.no_grad():
            self.net.eval()
            out = self.net(self.Fgrid, keep=keep).array
            self.net.train()
        neurons = [[_encode(h.array[:, j]) for j in range(h.shape[1])] for h in keep]
        train_loss, test_loss = self.history[-1] if self.history else (self.mean_loss(self.Ftr, self.ytr), self.mean_loss(self.Fte, self.yte))
        layers = [*self.net.layers, self.net.out]
        return {
            "type": "frame", "epoch": self.epoch, "step": self.step_count, "trainLoss": train_loss, "testLoss": test_loss,
            "history": self.history[-1:] if self.history else [], "output": _encode(out), "neurons": neurons,
            "inputs": [_encode(xp.tanh(self.Fgrid.array[:, k] / 3)) for k in range(self.Fgrid.shape[1])],
            "weights": [m.weight.array.round(4).tolist() for m in layers], "biases": [m.bias.array.round(4).tolist() for m in layers],
            "gradNorms": self.grad_norms[-1] if self.grad_norms else [], "diverged": self.diverged, "grid": GRID,
        }

    def state(self, session_id: str) -> dict:
        """The session as the page needs it after a (re)build: configuration, points, formula."""
        cfg = self.cfg
        return {"type": "state", "session": session_id, "hash": cfg.to_hash(), "features": cfg.features,
                "networkShape": cfg.networkShape, "activations": cfg.layer_activations(), "problem": cfg.problem,
                "points": self.points(), "formula": formula(cfg), "custom": self.custom is not None}

    def predict(self, points):
        with autograd.no_grad():
            self.net.eval()
            out = self.net(features(self.cfg, xp.asarray(points, dtype=xp.float32))).array
            self.net.train()
        return out
