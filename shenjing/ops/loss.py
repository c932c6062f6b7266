"""Losses fused into one node (融合的损失函数): softmax + cross-entropy, and binary cross-entropy
on probabilities with PyTorch's clamping. Fused because the composite forms overflow (log of a
softmax) and cost a dozen graph nodes per step; ``shenjing.nn.functional`` prepares their inputs."""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from . import elementwise as E
from . import reduce as R

__all__ = ["BinaryCrossEntropy", "CrossEntropy"]

_BCE_EPS = float(xp.float32(1e-12))  # PyTorch's EPSILON is the float32 1e-12


class BinaryCrossEntropy(Function):
    """ℓ = −(y max(log x, −100) + (1 − y) max(log(1 − x), −100)) on probabilities x (PyTorch's
    clamp keeps ℓ finite at x ∈ {0, 1}); ∂ℓ/∂x = (x − y)/max(x(1 − x), 1e-12) and
    ∂ℓ/∂y = −logit x = −log(x/(1 − x)), unclamped (±∞ at x ∈ {0, 1}), as PyTorch."""

    def forward(self, x, y):
        lx = xp.maximum(xp.log(x), -100.0)
        l1x = xp.maximum(xp.log1p(-x), -100.0)
        return -(y * lx + (1 - y) * l1x)

    def backward(self, g):
        x, y = self.inputs
        need_x, need_y = self.needs_input_grad
        gx = gy = None
        if need_x:
            gx = g * (x - y) / E.clamp(x * (1.0 - x), min=_BCE_EPS)
        if need_y:
            gy = -g * E.log(x / (1.0 - x))
        return gx, gy


class CrossEntropy(Function):
    """Fused softmax + negative log-likelihood along axis 1 (融合的交叉熵), Fang §5.3.2:

        ℓ_n = −Σ_c Q_nc log softmax(z_n)_c,   log softmax(z)_c = z_c − m − log Σ_k e^(z_k − m)

    where Q holds the (weighted, smoothed) targets: ``coef``·onehot at the class picked by ``sel``
    (index targets; ``coef`` None means 1) plus a dense part ``dense`` (label smoothing), or the
    probability targets (input 1). Backward: ∂ℓ_n/∂z = softmax(z)·Σ_c Q_nc − Q_n, i.e.
    (softmax − onehot)·g for plain targets. Under ``create_graph`` it is written with Tensor ops
    (the softmax of the input), so it is twice differentiable; otherwise it reuses the forward's
    softmax. For a probability target that requires grad, ∂ℓ/∂q = −(1 − ε) w log softmax(z)."""

    def forward(self, z, *probs, sel, coef, dense, w, smooth, denom, reduction):
        self.sel, self.coef, self.w = sel, coef, w
        self.smooth, self.denom, self.reduction = smooth, denom, reduction
        m = z.max(axis=1, keepdims=True)
        sh = z - m
        if probs:  # probability targets: Q = ((1 − ε) q + ε/C) w
            q = probs[0]
            dense = q * (1.0 - smooth) + smooth / z.shape[1] if smooth else q
            if w is not None:
                dense = dense * w
        self.dense = dense
        picked = sh[sel] if sel is not None else None
        e = xp.exp(sh) if dense is not None else xp.exp(sh, out=sh)
        s = e.sum(axis=1, keepdims=True)
        lse = xp.log(s)
        loss = None
        if sel is not None:
            loss = lse.reshape(picked.shape) - picked
            if coef is not None:
                loss *= coef
        if dense is not None:
            dl = ((sh - lse) * dense).sum(axis=1)
            loss = -dl if loss is None else loss - dl
        e /= s
        self.p = e  # softmax
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "mean":
            total = total / denom if denom else xp.nan
        return xp.asarray(total, dtype=z.dtype)

    def _gpos(self, g: Tensor) -> Tensor:
        if self.reduction == "none":
            return g.unsqueeze(1)
        if self.reduction == "mean":  # nothing counted (all ignored): no gradient, as PyTorch
            return g * (1.0 / self.denom if self.denom else 0.0)
        return g

    def backward(self, g):
        z = self.inputs[0]
        tgt = self.inputs[1] if len(self.inputs) > 1 else None
        need_z, need_q = (*self.needs_input_grad, False)[:2]
        create = grad_enabled()
        gpos = self._gpos(g) if create or need_q else None
        gz = gq = None
        if create:  # create_graph: every factor is a Tensor expression
            if need_z:
                if tgt is not None:
                    q = tgt * (1.0 - self.smooth) + self.smooth / z.shape[1] if self.smooth else tgt
                    Q = q * Tensor._make(self.w) if self.w is not None else q
                else:
                    Qa = xp.zeros(z.shape, dtype=z._data.dtype)
                    if self.sel is not None:
                        Qa[self.sel] = 1 if self.coef is None else self.coef
                    if self.dense is not None:
                        Qa += self.dense
                    Q = Tensor._make(Qa)
                gz = gpos * (R.softmax(z, 1) * Q.sum(dim=1, keepdim=True) - Q)
        elif need_z:
            p, sel, coef, dense = self.p, self.sel, self.coef, self.dense
            if dense is None and coef is None:
                G = p.copy()
                G[sel] -= 1
            else:
                sq = 0 if sel is None else 1 if coef is None else coef.reshape(coef.shape[:1] + (1,) + coef.shape[1:])
                if dense is not None:
                    sq = sq + dense.sum(axis=1, keepdims=True)
                G = p * sq
                if sel is not None:
                    G[sel] -= 1 if coef is None else coef
                if dense is not None:
                    G -= dense
            gd = g._data
            if self.reduction == "none":
                G *= gd.reshape(gd.shape[:1] + (1,) + gd.shape[1:])
            else:
                k = float(gd) * (1.0 / self.denom if self.denom else 0.0) if self.reduction == "mean" else float(gd)
                if k != 1.0:
                    G *= k
            gz = Tensor._make(G)
        if need_q:
            gq = gpos * R.log_softmax(z, 1) * (-(1.0 - self.smooth) if self.smooth else -1.0)
            if self.w is not None:
                gq = gq * Tensor._make(self.w)
        return (gz, gq) if tgt is not None else gz
