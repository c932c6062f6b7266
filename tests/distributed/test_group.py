"""The process group in a world of one process (no mpiexec): init, collectives, the sampler."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import distributed as dist
from shenjing import nn


def test_a_world_of_one_process():
    dist.init()
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    t = sj.tensor([1.0, 2.0])
    dist.all_reduce(t)
    dist.broadcast(t, 0)
    out = [sj.zeros(2)]
    dist.all_gather(out, t)
    dist.barrier()
    assert t.tolist() == [1.0, 2.0] and out[0].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group("nccl")


def test_ddp_in_one_process_is_the_model():
    dist.init()
    model = nn.Linear(3, 2)
    ddp = dist.DistributedDataParallel(model)
    x = sj.randn(4, 3)
    ddp(x).sum().backward()
    ref = nn.Linear(3, 2)
    ref.load_state_dict(model.state_dict())
    ref(x).sum().backward()
    assert np.array_equal(model.weight.grad.numpy(), ref.weight.grad.numpy())
    assert list(ddp.state_dict()) == ["module.weight", "module.bias"]  # torch's keys


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False), (7, 2, True)])
def test_sampler_is_torchs_without_shuffle(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        mine = dist.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(mine) == list(theirs) and len(mine) == len(theirs)
    assert torch is not None


def test_sampler_shuffles_per_epoch_and_partitions():
    shards = [dist.DistributedSampler(range(10), 2, r, seed=3) for r in range(2)]
    first = [list(s) for s in shards]
    assert sorted(first[0] + first[1]) == list(range(10))
    for s in shards:
        s.set_epoch(1)
    second = [list(s) for s in shards]
    assert sorted(second[0] + second[1]) == list(range(10)) and second != first
    assert [list(s) for s in shards] == second  # the same epoch, the same order
    with pytest.raises(ValueError, match="rank"):
        dist.DistributedSampler(range(4), 2, 2)


def test_sync_batch_norm_in_one_process_is_batch_norm():
    sj.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3)))[0]
    sync.load_state_dict(bn.state_dict())
    x = sj.randn(4, 3, 5, 5, requires_grad=True)
    a, b = bn(x), sync(x)
    assert isinstance(sync, nn.SyncBatchNorm) and np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert np.array_equal(bn.running_var.numpy(), sync.running_var.numpy())
