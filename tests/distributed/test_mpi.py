"""Two ranks on loopback: collectives, DistributedDataParallel, SyncBatchNorm against one process,
and a dead or stalled rank ending the job instead of hanging it."""

from __future__ import annotations

import pytest

from .mpi_helpers import run_script

COLLECTIVES = """
import numpy as np, shenjing as sj
from shenjing import distributed as dist
dist.init()
r, w = dist.get_rank(), dist.get_world_size()
t = sj.tensor([1.0 + r, 10.0])
dist.all_reduce(t)
assert t.tolist() == [3.0, 20.0], t
m = sj.tensor([float(r)])
dist.all_reduce(m, dist.ReduceOp.MAX)
assert m.item() == 1.0
b = sj.tensor([float(r) + 5])
dist.broadcast(b, src=1)
assert b.item() == 6.0
out = [sj.zeros(2) for _ in range(w)]
dist.all_gather(out, sj.tensor([r, r * 2.0]))
assert [o.tolist() for o in out] == [[0, 0], [1, 2]]
dist.barrier()
if r == 0:
    print("ok", w)
"""


def test_collectives_on_two_ranks(tmp_path):
    res = run_script(2, COLLECTIVES, tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok 2"  # rank 0 prints; a failed check on either rank fails the job


EQUIVALENCE = """
import numpy as np, shenjing as sj
from shenjing import nn, distributed as dist
dist.init()
r, w = dist.get_rank(), dist.get_world_size()

def make():
    sj.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))

g = sj.Generator().manual_seed(1)
X, Y = sj.randn(8, 1, 6, 6, generator=g) * 3 + 1, sj.randint(0, 3, (8,), generator=g)
ref = make()
opt = sj.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
for _ in range(3):
    loss = nn.functional.cross_entropy(ref(X), Y); opt.zero_grad(); loss.backward(); opt.step()

sj.manual_seed(100 + r)  # other weights on each rank: the wrap broadcasts rank 0's
model = nn.SyncBatchNorm.convert_sync_batchnorm(make())
ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.0002)  # several buckets
assert len(ddp.buckets) > 1
opt = sj.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
b = 8 // w
for _ in range(3):
    loss = nn.functional.cross_entropy(ddp(X[r * b:(r + 1) * b]), Y[r * b:(r + 1) * b]); opt.zero_grad(); loss.backward(); opt.step()
sd, rd = model.state_dict(), ref.state_dict()
worst = max(float(np.abs(sd[k].numpy() - rd[k].numpy()).max()) for k in rd)
assert worst < 1e-5, worst

# no_sync: two half-batches accumulated locally, then one synchronised backward = the full batch
sj.manual_seed(0); acc = nn.Linear(36, 3)
sj.manual_seed(0); full = nn.Linear(36, 3)
ddp2 = dist.DistributedDataParallel(acc)
F, q = X.reshape(8, 36), b // 2
with ddp2.no_sync():
    (nn.functional.cross_entropy(ddp2(F[r * b:r * b + q]), Y[r * b:r * b + q]) / 2).backward()
local = acc.weight.grad.numpy().copy()
(nn.functional.cross_entropy(ddp2(F[r * b + q:(r + 1) * b]), Y[r * b + q:(r + 1) * b]) / 2).backward()
nn.functional.cross_entropy(full(F), Y).backward()
assert np.abs(acc.weight.grad.numpy() - full.weight.grad.numpy()).max() < 1e-6
summed = local.copy()
dist.group.all_reduce_array(summed)
assert not np.allclose(local, summed / w)  # inside no_sync the gradients were this rank's own
if r == 0:
    print("ok", worst)
"""


def test_ddp_and_sync_batch_norm_equal_one_process(tmp_path):
    res = run_script(2, EQUIVALENCE, tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok")


DEATH = """
import os, signal, sys, time
import numpy as np
from shenjing.distributed import group
group.init(timeout=float(sys.argv[1]))
a = np.ones(2)
group.all_reduce_array(a)
if group.get_rank() == 1:
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # stalled
group.all_reduce_array(a)
"""


@pytest.mark.parametrize("how", ["kill", "stall"])
def test_a_dead_or_stalled_rank_ends_the_job(how, tmp_path):
    import sys
    import time

    from .mpi_helpers import run_ranks

    script = tmp_path / "death.py"
    script.write_text(DEATH)
    t0 = time.perf_counter()
    res = run_ranks(2, [sys.executable, script, 3, how], timeout=50)
    assert res.returncode != 0 and time.perf_counter() - t0 < 40
    if how == "stall":
        assert "waited 3 s for the other ranks" in res.stderr and "aborting the job" in res.stderr


ALONE = """
import sys, numpy as np
from shenjing.distributed import group
group.init(timeout=60)
if group.get_rank() == 1:
    sys.exit(group.finish(4, grace=1.0))  # failed alone: the job is aborted
group.all_reduce_array(np.ones(1))  # rank 0 would wait here for a minute
"""


def test_a_rank_that_fails_alone_aborts_the_job(tmp_path):
    import time

    t0 = time.perf_counter()
    res = run_script(2, ALONE, tmp_path, timeout=50)
    assert res.returncode != 0 and time.perf_counter() - t0 < 20
    assert "rank 1 failed (exit code 4); aborting the other ranks" in res.stderr


def test_uneven_last_batches_count_every_sample_once(tmp_path):
    """Last batches of 1 and 3 samples on 2 ranks: the same steps as one process."""
    from tests.cli_helpers import CLI, fake_fashion, run_cli

    from .mpi_helpers import run_ranks
    from .test_train_mpi import relative_difference, weights

    data = fake_fashion(tmp_path / "data", n_train=400, n_test=50)
    for n in (257, 259):
        args = ["train", "--data", data, "--subset", n, "--val-size", "0", "--hidden", "16", "--dropout", "0", "--epochs", "1", "--quiet"]
        assert run_cli([*args, "--out", tmp_path / f"one{n}"]).returncode == 0
        res = run_ranks(2, [*CLI, *args, "--out", tmp_path / f"two{n}"])
        assert res.returncode == 0, res.stderr
        assert relative_difference(weights(tmp_path / f"one{n}"), weights(tmp_path / f"two{n}")) < 1e-5


ALONE_JOBS = """
from shenjing.distributed import group
group.init(timeout=20)
r = group.get_rank()
with group.alone():  # independent jobs: rank 1 makes one more 'step' than rank 0, its values its own
    assert (group.get_rank(), group.get_world_size()) == (0, 1)
    means = [group.mean_value(float(10 * r + step)) for step in range(1 + r)]
assert means == [10.0 * r + step for step in range(1 + r)], means
assert (group.get_rank(), group.get_world_size()) == (r, 2)
assert group.mean_value(float(r)) == 0.5  # the world is back
if r == 0:
    print("ok")
"""


def test_jobs_alone_on_each_rank_do_not_meet(tmp_path):
    """``group.alone()`` (the --workers jobs: a training run each): a job's collectives stay on its rank."""
    res = run_script(2, ALONE_JOBS, tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
