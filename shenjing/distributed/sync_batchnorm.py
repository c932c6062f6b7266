"""The batch-norm statistics over every rank's batch (同步批归一化): ``SyncBatchNormalize``.

Forward: each rank's per-channel Σx, Σx² and count (in float64) are summed over the ranks, so μ
and σ² are those of the global batch; y = (x − μ)/√(σ² + ε)·γ + β. Backward (as PyTorch's): with
ĝ = g·γ, the sums Σĝ and Σĝ·x̂ are summed over the ranks too, and ∂x = (ĝ − mean ĝ − x̂·mean(ĝ·x̂))/√(σ² + ε)
with the means over the global batch; ∂γ, ∂β are this rank's sums (DistributedDataParallel
averages them). First-order only, like PyTorch's."""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor import Tensor
from ..backend import xp
from .group import ReduceOp, all_reduce_array


def _sums(*arrays, axes) -> xp.ndarray:
    """Per-channel sums of each array, stacked, summed over the ranks (float64)."""
    s = xp.stack([a.sum(axis=axes, dtype=xp.float64) for a in arrays])
    all_reduce_array(s, ReduceOp.SUM)
    return s


class SyncBatchNormalize(Function):
    def forward(self, x, w, b, *, eps, stats):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        count = xp.asarray([float(x.size // x.shape[1])])
        all_reduce_array(count, ReduceOp.SUM)
        s1, s2 = _sums(x, x.astype(xp.float64) ** 2, axes=axes)
        n = float(count[0])
        mean = s1 / n
        var = xp.maximum(s2 / n - mean * mean, 0.0)
        invstd = 1.0 / xp.sqrt(var + eps)
        stats.update(mean=mean, var=var, count=n)
        self.axes, self.shape, self.n = axes, shape, n
        self.mean, self.invstd = mean.astype(x.dtype).reshape(shape), invstd.astype(x.dtype).reshape(shape)
        xhat = (x - self.mean) * self.invstd
        return xhat * w.reshape(shape) + b.reshape(shape)

    def backward(self, g):
        if grad_enabled():
            raise RuntimeError("SyncBatchNorm: double backward is not supported (as in PyTorch)")
        x, w = self.inputs[0].array, self.inputs[1].array
        ga = g.array
        xhat = (x - self.mean) * self.invstd
        gw_local = (ga * xhat).sum(axis=self.axes)
        gb_local = ga.sum(axis=self.axes)
        s_g, s_gx = _sums(ga, ga * xhat, axes=self.axes)  # Σ g and Σ g·x̂ over the global batch
        wr = w.reshape(self.shape)
        m1 = (s_g / self.n).astype(x.dtype).reshape(self.shape)
        m2 = (s_gx / self.n).astype(x.dtype).reshape(self.shape)
        gx = (ga - m1 - xhat * m2) * self.invstd * wr
        return Tensor(gx), Tensor(gw_local.astype(w.dtype)), Tensor(gb_local.astype(w.dtype))
