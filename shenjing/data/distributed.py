"""DistributedSampler (分布式采样器): each rank reads its own share of a dataset (torch's semantics).

The indices 0..n−1 (shuffled with ``seed + epoch`` when ``shuffle``; call ``set_epoch`` each
epoch) are padded by repeating from the start until they divide evenly — or, with ``drop_last``,
cut to a multiple of the world size — and rank r takes every ``num_replicas``-th one from r on."""

from __future__ import annotations

import math
from collections.abc import Iterator


class DistributedSampler:
    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        from ..distributed.group import get_rank, get_world_size

        num_replicas = get_world_size() if num_replicas is None else num_replicas
        rank = get_rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        self.num_samples = n // num_replicas if drop_last else math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            from ..random import Generator

            indices = Generator().manual_seed(self.seed + self.epoch).rng.permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        elif self.total_size > n:
            extra = self.total_size - n
            indices += (indices * math.ceil(extra / max(n, 1)))[:extra]
        return iter(indices[self.rank: self.total_size: self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch, which changes the shuffle (the same on every rank)."""
        self.epoch = epoch


__all__ = ["DistributedSampler"]
