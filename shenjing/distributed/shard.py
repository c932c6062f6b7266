"""Each rank's slice of every global batch (全局批次的分片), for training that equals one process's.

``ShardedLoader(loader)`` iterates ``loader`` (the same global batches, in the same order, on every
rank: the same seed draws the same shuffle) and yields rank r's contiguous slice of each batch — the
slice sizes differ by at most one. The mean of the ranks' mean gradients (DistributedDataParallel),
each weighted by its slice's share, is the global batch's mean gradient, so N ranks take the same
steps as one process with that batch size, up to float32 round-off. (Batch-norm statistics of a
last batch smaller than the number of ranks include one repeated sample.)"""

from __future__ import annotations

from collections.abc import Iterator

from .group import get_rank, get_world_size


class ShardedLoader:
    """``loader``'s batches sliced for this rank; ``ddp`` (a DistributedDataParallel) is told each
    slice's weight, so that a last batch that does not divide evenly still counts every sample once."""

    def __init__(self, loader, ddp=None, rank: int | None = None, world_size: int | None = None) -> None:
        self.loader, self.ddp = loader, ddp
        self.rank = get_rank() if rank is None else rank
        self.world_size = get_world_size() if world_size is None else world_size

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator:
        for batch in self.loader:
            n = len(batch[0])
            lo, hi = (n * self.rank) // self.world_size, (n * (self.rank + 1)) // self.world_size
            weight = (hi - lo) * self.world_size / n
            if hi == lo:  # fewer samples than ranks: this rank computes on one sample with weight 0
                lo, hi = 0, 1
            if self.ddp is not None:
                self.ddp.grad_scale = weight
            yield tuple(t[lo:hi] for t in batch)

    @property
    def dataset(self):
        return self.loader.dataset
