"""DataLoader, samplers, collation and splits, checked against torch.utils.data where comparable."""

import collections
import json

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import shenjing as sj
from shenjing.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
    train_val_split,
    train_val_test_split,
)


def _batches(loader):
    return [b[0].numpy().tolist() if isinstance(b, list) else b.numpy().tolist() for b in loader]


# --- batching like torch ----------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7, 10, 64, 100])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 32])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_match_torch(n, batch_size, drop_last, shuffle):
    ours = DataLoader(TensorDataset(np.arange(n)), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
    theirs = tud.DataLoader(tud.TensorDataset(torch.arange(n)), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                            generator=torch.Generator().manual_seed(0))
    a = _batches(ours)
    b = [t[0].tolist() for t in theirs]
    assert len(ours) == len(theirs) == len(a) == len(b)
    assert [len(x) for x in a] == [len(x) for x in b]
    if shuffle:
        if not drop_last:
            assert sorted(sum(a, [])) == list(range(n))
        assert len(set(sum(a, []))) == len(sum(a, []))  # no index twice in an epoch
    else:
        assert a == b


def test_empty_dataset_sequential_like_torch():
    ours = DataLoader(TensorDataset(np.zeros((0, 3))), batch_size=4)
    theirs = tud.DataLoader(tud.TensorDataset(torch.zeros(0, 3)), batch_size=4)
    assert len(ours) == len(theirs) == 0
    assert list(ours) == []
    with pytest.raises(ValueError, match="num_samples"):
        DataLoader(TensorDataset(np.zeros((0, 3))), batch_size=4, shuffle=True)


def test_batch_contents_and_dtypes():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    xb, yb = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    assert isinstance(xb, sj.Tensor) and xb.dtype == sj.float32 and xb.shape == (4, 2)
    assert yb.dtype == sj.int64
    np.testing.assert_array_equal(xb.numpy(), X[:4])
    np.testing.assert_array_equal(yb.numpy(), y[:4])


def test_batch_size_none_yields_samples():
    ds = TensorDataset(np.arange(5))
    ours = list(DataLoader(ds, batch_size=None))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.arange(5)), batch_size=None))
    assert len(ours) == len(theirs) == 5
    assert [int(s[0].item()) for s in ours] == [int(s[0]) for s in theirs]
    assert len(DataLoader(ds, batch_size=None)) == 5


def test_custom_sampler_and_batch_sampler():
    ds = TensorDataset(np.arange(10))
    ours = DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 6, 5])
    assert _batches(ours) == [[9, 8, 7], [6, 5]]
    bs = [[0, 1], [5], [2, 3, 4]]
    assert _batches(DataLoader(ds, batch_sampler=bs)) == bs
    assert len(DataLoader(ds, batch_sampler=bs)) == 3
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == list(tud.BatchSampler(tud.SequentialSampler(range(7)), 3, False))
    assert list(BatchSampler(SequentialSampler(range(7)), 3, True)) == list(tud.BatchSampler(tud.SequentialSampler(range(7)), 3, True))
    idx = list(SubsetRandomSampler([3, 5, 7], generator=sj.Generator().manual_seed(1)))
    assert sorted(idx) == [3, 5, 7]


def test_random_sampler_with_replacement_and_num_samples():
    s = RandomSampler(range(5), replacement=True, num_samples=50, generator=sj.Generator().manual_seed(0))
    idx = list(s)
    assert len(idx) == len(s) == 50 and set(idx) <= set(range(5))
    s = RandomSampler(range(5), num_samples=12, generator=sj.Generator().manual_seed(0))
    idx = list(s)
    assert len(idx) == 12 and sorted(idx[:5]) == list(range(5)) and sorted(idx[5:10]) == list(range(5))


@pytest.mark.parametrize("kwargs", [
    dict(shuffle=True, sampler=[0, 1]),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(batch_size=0),
])
def test_option_conflicts_raise_like_torch(kwargs):
    with pytest.raises(ValueError):
        tud.DataLoader(tud.TensorDataset(torch.arange(4)), **kwargs)
    with pytest.raises(ValueError):
        DataLoader(TensorDataset(np.arange(4)), **kwargs)


def test_generator_and_seed_exclusive():
    with pytest.raises(ValueError):
        DataLoader(TensorDataset(np.arange(4)), shuffle=True, seed=1, generator=sj.Generator())


# --- fast path ----------------------------------------------------------------------------------
def test_fast_path_does_not_call_getitem(monkeypatch):
    ds = TensorDataset(np.arange(100).reshape(50, 2), np.arange(50))
    assert ds._batchable and Subset(ds, [1, 2])._batchable
    calls = []
    orig = TensorDataset.__getitem__
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: calls.append(i) or orig(self, i))
    got = list(DataLoader(ds, batch_size=8, shuffle=True, seed=3))
    assert calls == [] and len(got) == 7 and got[-1][0].shape == (2, 2)
    list(DataLoader(ds, batch_size=8, collate_fn=default_collate))  # a custom collate_fn goes per sample
    assert len(calls) == 50


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_fast_path_equals_per_sample_collation(shuffle, drop_last, rng):
    X = rng.standard_normal((37, 3, 4)).astype(np.float32)
    y = np.arange(37)
    ds = TensorDataset(X, y)
    for data in (ds, Subset(ds, list(range(5, 30))), random_split(ds, [0.7, 0.3], seed=2)[0]):
        fast = list(DataLoader(data, batch_size=6, shuffle=shuffle, drop_last=drop_last, seed=11))
        slow = list(DataLoader(data, batch_size=6, shuffle=shuffle, drop_last=drop_last, seed=11, collate_fn=default_collate))
        assert len(fast) == len(slow)
        for (a, b), (c, d) in zip(fast, slow):
            assert a.dtype == c.dtype and b.dtype == d.dtype
            np.testing.assert_array_equal(a.numpy(), c.numpy())
            np.testing.assert_array_equal(b.numpy(), d.numpy())


def test_subclass_with_own_getitem_uses_it():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            (x,) = super().__getitem__(i)
            return x * 2

    ds = Doubled(np.arange(6))
    assert not ds._batchable
    assert [b.numpy().tolist() for b in DataLoader(ds, batch_size=4)] == [[0, 2, 4, 6], [8, 10]]


# --- seeding and resume --------------------------------------------------------------------------
def _order(loader, epochs=1):
    return [b for _ in range(epochs) for b in _batches(loader)]


def test_seeded_shuffle_repeats_and_epochs_differ():
    ds = TensorDataset(np.arange(50))
    a = _order(DataLoader(ds, batch_size=7, shuffle=True, seed=42), epochs=2)
    b = _order(DataLoader(ds, batch_size=7, shuffle=True, seed=42), epochs=2)
    c = _order(DataLoader(ds, batch_size=7, shuffle=True, seed=43), epochs=2)
    assert a == b and a != c
    first, second = a[: len(a) // 2], a[len(a) // 2:]
    assert first != second  # a new order every epoch
    g1, g2 = sj.Generator().manual_seed(5), sj.Generator().manual_seed(5)
    assert _order(DataLoader(ds, batch_size=7, shuffle=True, generator=g1)) == _order(DataLoader(ds, batch_size=7, shuffle=True, generator=g2))


def test_global_generator_seeding():
    ds = TensorDataset(np.arange(50))
    sj.manual_seed(7)
    a = _order(DataLoader(ds, batch_size=5, shuffle=True), epochs=2)
    sj.manual_seed(7)
    b = _order(DataLoader(ds, batch_size=5, shuffle=True), epochs=2)
    sj.manual_seed(8)
    c = _order(DataLoader(ds, batch_size=5, shuffle=True), epochs=2)
    assert a == b and a != c


@pytest.mark.parametrize("own_generator", [True, False])
@pytest.mark.parametrize("stop_at", [0, 3, 8])
def test_resume_mid_epoch_bit_for_bit(own_generator, stop_at):
    ds = TensorDataset(np.arange(40))
    kw = dict(batch_size=5, shuffle=True, seed=9) if own_generator else dict(batch_size=5, shuffle=True)
    sj.manual_seed(1)
    reference = _order(DataLoader(ds, **kw), epochs=3)

    sj.manual_seed(1)
    loader = DataLoader(ds, **kw)
    seen = _order(loader)  # epoch 1 complete
    it = iter(loader)
    for _ in range(stop_at):
        seen.append(next(it)[0].numpy().tolist())
    checkpoint = json.loads(json.dumps({"loader": loader.state_dict(), "rng": sj.get_rng_state()}))
    del loader, it
    sj.manual_seed(12345)  # the interrupted process is gone; a new one restores the checkpoint

    sj.set_rng_state(checkpoint["rng"])
    resumed = DataLoader(ds, **kw)
    resumed.load_state_dict(checkpoint["loader"])
    seen += _order(resumed)  # rest of epoch 2
    seen += _order(resumed)  # epoch 3
    assert seen == reference


def test_state_dict_mid_epoch_needs_epoch_state():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=2, shuffle=True, seed=0)
    with pytest.raises(ValueError, match="epoch_state"):
        loader.load_state_dict({"batches_done": 2, "epoch_state": None, "generator": None})


def test_resume_sequential_skips_batches():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3)
    loader.load_state_dict({"batches_done": 2})
    assert _batches(loader) == [[6, 7, 8], [9]]
    assert len(_batches(loader)) == 4


# --- collation ----------------------------------------------------------------------------------
Point = collections.namedtuple("Point", "x y")


def _same(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, sj.Tensor), type(ours)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


@pytest.mark.parametrize("batch", [
    [1, 2, 3],
    [1.5, 2.0],
    [True, False],
    ["a", "b"],
    [np.float32(1.0), np.float32(2.0)],
    [np.int32(1), np.int32(2)],
    [(1, 2.0), (3, 4.0)],
    [[1, 2], [3, 4]],
    [{"a": 1, "b": (2.0, 3)}, {"a": 4, "b": (5.0, 6)}],
    [Point(1, 2.0), Point(3, 4.0)],
])
def test_default_collate_matches_torch(batch):
    _same(default_collate(batch), tud.default_collate(batch))


def test_default_collate_arrays_and_tensors():
    arrs = [np.full((2, 3), i, dtype=np.uint8) for i in range(4)]
    out = default_collate(arrs)
    ref = tud.default_collate(arrs)
    _same(out, ref)
    ts = [sj.tensor([float(i), 1.0]) for i in range(3)]
    out = default_collate(ts)
    assert out.shape == (3, 2) and out.dtype == sj.float32
    nested = default_collate([(sj.tensor([1.0]), {"m": np.zeros(2)}), (sj.tensor([2.0]), {"m": np.ones(2)})])
    assert isinstance(nested, list) and nested[0].shape == (2, 1) and nested[1]["m"].shape == (2, 2)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])


class _Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float32), "label": i % 3}


def test_map_dataset_with_dict_samples():
    batches = list(DataLoader(_Squares(), batch_size=4, shuffle=True, seed=0))
    assert [len(b["label"]) for b in batches] == [4, 4, 2]
    allx = np.concatenate([b["x"].numpy() for b in batches])
    assert sorted(allx[:, 0].tolist()) == list(range(10))
    assert batches[0]["label"].dtype == sj.int64 and batches[0]["x"].dtype == sj.float32


class _Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset_like_torch():
    class TStream(tud.IterableDataset):
        def __iter__(self):
            return iter(range(10))

        def __len__(self):
            return 10

    for drop_last in (False, True):
        ours = DataLoader(_Stream(10), batch_size=4, drop_last=drop_last)
        theirs = tud.DataLoader(TStream(), batch_size=4, drop_last=drop_last)
        assert [b.numpy().tolist() for b in ours] == [b.tolist() for b in theirs]
        assert len(ours) == len(theirs)
    with pytest.raises(ValueError):
        DataLoader(_Stream(3), shuffle=True)


# --- datasets and splits ----------------------------------------------------------------------
def test_tensor_dataset_checks():
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    ds = TensorDataset(sj.arange(6).reshape(3, 2), np.arange(3))
    x, y = ds[1]
    assert x.numpy().tolist() == [2, 3] and int(y.item()) == 1 and len(ds) == 3


def test_concat_dataset_like_torch():
    a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 15))
    c = ConcatDataset([a, b])
    tc = tud.ConcatDataset([tud.TensorDataset(torch.arange(3)), tud.TensorDataset(torch.arange(10, 15))])
    assert len(c) == len(tc) == 8 and c.cumulative_sizes == tc.cumulative_sizes
    for i in list(range(8)) + [-1, -8]:
        assert int(c[i][0].item()) == int(tc[i][0])
    with pytest.raises(IndexError):
        c[8]
    assert len(a + b) == 8
    assert sorted(sum(_batches(DataLoader(c, batch_size=3, shuffle=True, seed=0)), [])) == [0, 1, 2, 10, 11, 12, 13, 14]


@pytest.mark.parametrize("n", [10, 11, 97, 1000])
@pytest.mark.parametrize("lengths", [[0.8, 0.2], [0.5, 0.3, 0.2], [1 / 3, 1 / 3, 1 / 3], [0.9, 0.1]])
def test_random_split_fraction_lengths_match_torch(n, lengths):
    ours = random_split(TensorDataset(np.arange(n)), lengths, seed=0)
    theirs = tud.random_split(tud.TensorDataset(torch.arange(n)), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    allidx = sum((s.indices for s in ours), [])
    assert sorted(allidx) == list(range(n))


def test_random_split_counts_seed_and_errors():
    ds = TensorDataset(np.arange(20))
    a = random_split(ds, [15, 5], generator=sj.Generator().manual_seed(3))
    b = random_split(ds, [15, 5], seed=3)
    assert [s.indices for s in a] == [s.indices for s in b]
    assert random_split(ds, [15, 5], seed=4)[0].indices != a[0].indices
    sj.manual_seed(0)
    g1 = random_split(ds, [10, 10])[0].indices
    sj.manual_seed(0)
    assert random_split(ds, [10, 10])[0].indices == g1
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [10, 5])
    x, = a[1][0]
    assert int(x.item()) == a[1].indices[0]


def test_train_val_test_split_sizes_disjoint_and_seeded():
    ds = TensorDataset(np.arange(1000))
    tr, va, te = train_val_test_split(ds, 0.15, 0.1, seed=0)
    assert (len(tr), len(va), len(te)) == (750, 150, 100)
    sets = [set(s.indices) for s in (tr, va, te)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert set.union(*sets) == set(range(1000))
    tr2, va2, te2 = train_val_test_split(ds, 0.15, 0.1, seed=0)
    assert tr.indices == tr2.indices and te.indices == te2.indices
    tr3, va3 = train_val_split(ds, 0.2, seed=1)
    assert (len(tr3), len(va3)) == (800, 200)
    with pytest.raises(ValueError):
        train_val_test_split(ds, 0.6, 0.5)


def test_stratified_split_keeps_class_proportions():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    ds = TensorDataset(np.arange(1000), labels)
    ds.targets = labels
    tr, va, te = train_val_test_split(ds, 0.1, 0.2, seed=0, stratify=True)
    for s, frac in ((va, 0.1), (te, 0.2)):
        counts = np.bincount(labels[s.indices], minlength=4)
        np.testing.assert_array_equal(counts, (np.array([100, 200, 300, 400]) * frac).astype(int))
    tr2, va2 = train_val_split(ds, 0.25, seed=0, stratify=labels)
    assert np.bincount(labels[va2.indices]).tolist() == [25, 50, 75, 100]


def test_getitems_protocol_and_unsized_stream():
    class Batched(Dataset):
        def __len__(self):
            return 5

        def __getitems__(self, idx):
            return [(i, float(i)) for i in idx]

    xb, yb = next(iter(DataLoader(Batched(), batch_size=3)))
    assert xb.numpy().tolist() == [0, 1, 2] and yb.dtype == sj.float64

    class Unsized(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    loader = DataLoader(Unsized(), batch_size=2)
    assert [b.numpy().tolist() for b in loader] == [[0, 1], [2]]
    with pytest.raises(TypeError):
        len(loader)


def test_unknown_option_is_refused():
    DataLoader(TensorDataset(np.arange(3)), persistent_workers=False, num_workers=0)
    with pytest.raises(TypeError, match="shufle"):
        DataLoader(TensorDataset(np.arange(3)), shufle=True)
