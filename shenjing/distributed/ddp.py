"""DistributedDataParallel (数据并行): one model per rank, gradients averaged after every backward.

As PyTorch's: wrapping broadcasts the parameters and buffers from rank 0; each forward broadcasts
the buffers (``broadcast_buffers``); when a backward pass has finished, the gradients are averaged
over the ranks, packed into flat buffers of about ``bucket_cap_mb`` (in reverse parameter order, the
order backward produces them) — one all-reduce per bucket, not one per parameter. Inside
``no_sync()`` gradients only accumulate locally; the next backward outside it averages the sum."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..autograd.engine import queue_callback
from ..backend import xp
from ..creation import zeros_like
from ..nn.module import Module
from .group import ReduceOp, all_reduce_array, broadcast, get_world_size, is_initialized


class DistributedDataParallel(Module):
    """``DistributedDataParallel(module)``: ``forward`` is the module's; gradients are averaged
    across ranks. ``module`` is the wrapped model (save ``ddp.module.state_dict()``)."""

    def __init__(self, module: Module, device_ids=None, broadcast_buffers: bool = True, bucket_cap_mb: float = 25.0, **_) -> None:
        super().__init__()
        if not is_initialized():
            raise RuntimeError("DistributedDataParallel: call shenjing.distributed.init() first")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.sync_gradients = True
        #: this rank's share of the global batch × world size (1 for equal slices): the gradients are
        #: weighted by it before averaging, so that uneven slices still give the global batch's mean
        self.grad_scale = 1.0
        self.params = [p for p in module.parameters() if p.requires_grad]
        self.buckets = _buckets(self.params, int(bucket_cap_mb * 2**20))
        self.queued = False
        for t in list(module.parameters()) + [b for b in module.buffers() if b is not None]:
            broadcast(t, 0)
        for p in self.params:
            p.register_hook(self._on_gradient)

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.training:
            for b in self.module.buffers():
                if b is not None:
                    broadcast(b, 0)
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside the block accumulate gradients without averaging them."""
        before, self.sync_gradients = self.sync_gradients, False
        try:
            yield
        finally:
            self.sync_gradients = before

    def _on_gradient(self, grad):
        if self.sync_gradients and not self.queued and get_world_size() > 1:
            self.queued = True
            queue_callback(self._average)
        return None

    def _average(self) -> None:
        """Every parameter's .grad ← its mean over the ranks, one all-reduce per bucket."""
        self.queued = False
        for bucket in self.buckets:
            flat = xp.concatenate([(p.grad.array if p.grad is not None else xp.zeros(p.shape, p.dtype)).reshape(-1)
                                   for p in bucket])
            if self.grad_scale != 1.0:
                flat *= flat.dtype.type(self.grad_scale)
            all_reduce_array(flat, ReduceOp.AVG)
            offset = 0
            for p in bucket:
                n = p.numel()
                if p.grad is None:  # unused on this rank: it receives the others' mean
                    p.grad = zeros_like(p)
                with p.grad.inplace() as g:
                    g[...] = flat[offset:offset + n].reshape(g.shape)
                offset += n


def _buckets(params: list, cap_bytes: int) -> list[list]:
    """Parameters in reverse order, grouped into buckets of one dtype and at most ``cap_bytes``
    (a parameter larger than that is a bucket of its own)."""
    buckets, current, size = [], [], 0
    for p in reversed(params):
        nbytes = p.numel() * xp.dtype(p.dtype).itemsize
        if current and (size + nbytes > cap_bytes or p.dtype != current[0].dtype):
            buckets.append(current)
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(current)
    return buckets
