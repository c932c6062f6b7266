"""Beyond one machine (分布式训练) on MPI: the process group, collectives on Tensors,
DistributedDataParallel and DistributedSampler, with torch.distributed's names.

``mpiexec -n 2 python train.py`` (or ``mpiexec -n 2 shenjing train ...``) runs one process per rank;
``init()`` joins the world. Needs ``pip install 'shenjing[mpi]'`` (mpi4py and MPICH, as wheels);
without mpiexec everything works in a world of one process. See docs/distributed.md."""

from ..data.distributed import DistributedSampler
from .ddp import DistributedDataParallel
from .group import (
    ReduceOp,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = ["ReduceOp", "all_gather", "all_reduce", "barrier", "broadcast", "destroy_process_group", "get_rank", "get_world_size",
           "init", "init_process_group", "is_available", "is_initialized", "DistributedDataParallel", "DistributedSampler"]
