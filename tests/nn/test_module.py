"""The Module API against torch.nn for the same architecture: parameter order, state_dict keys,
children/modules, train/eval, to(float64), zero_grad, load_state_dict errors, buffers, repr."""

import numpy as np
import pytest
import torch
from torch_compare import assert_same

import shenjing as sj
import shenjing.nn as nn


def build(lib):
    """One architecture written once for torch.nn and shenjing.nn."""
    tnn = lib.nn

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.emb = tnn.Embedding(10, 4, padding_idx=0)
            self.body = tnn.Sequential(tnn.Linear(4, 8), tnn.BatchNorm1d(8), tnn.Linear(8, 8, bias=False))
            self.heads = tnn.ModuleList([tnn.Linear(8, 2), tnn.Linear(8, 3)])
            self.extra = tnn.ModuleDict({"ln": tnn.LayerNorm(8), "drop": tnn.Dropout(0.1), "flat": tnn.Flatten()})
            self.scale = tnn.Parameter(lib.ones(1))
            self.plist = tnn.ParameterList([tnn.Parameter(lib.zeros(2)), tnn.Parameter(lib.zeros(3, 1))])
            self.register_buffer("counter", lib.zeros(()))
            self.register_buffer("cache", lib.zeros(3), persistent=False)

        def forward(self, idx):
            h = self.emb(idx).sum(1)
            h = self.extra["ln"](self.body(h)) * self.scale
            return self.heads[0](h), self.heads[1](h)

    return Net()


@pytest.fixture
def pair():
    s, t = build(sj), build(torch)
    s.double()
    t.double()
    return s, t


def test_names_and_order_equal_torch(pair):
    s, t = pair
    assert [k for k, _ in s.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [tuple(p.shape) for p in s.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert list(s.state_dict()) == list(t.state_dict())
    assert [k for k, _ in s.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert [k for k, _ in s.named_children()] == [k for k, _ in t.named_children()]
    assert [type(m).__name__ for m in s.modules()] == [type(m).__name__ for m in t.modules()]
    assert [k for k, _ in s.named_modules()] == [k for k, _ in t.named_modules()]
    assert len(list(s.children())) == len(list(t.children())) == 5
    assert [k for k, _ in s.body.named_parameters(prefix="body")] == [k for k, _ in t.body.named_parameters(prefix="body")]
    assert [k for k, _ in s.named_parameters(recurse=False)] == ["scale"]


def test_torch_weights_give_torch_outputs(pair):
    s, t = pair
    with torch.no_grad():
        for p in t.parameters():
            p.normal_()
    s.load_state_dict(t.state_dict())
    idx = np.array([[1, 2, 0], [3, 3, 9], [5, 0, 0], [7, 8, 6]])
    outs_s, outs_t = s(sj.tensor(idx)), t(torch.tensor(idx))
    for a, b in zip(outs_s, outs_t):
        assert_same(a, b, rtol=1e-10, atol=1e-12)
    (outs_s[0].sum() + outs_s[1].square().sum()).backward()
    (outs_t[0].sum() + outs_t[1].square().sum()).backward()
    gs, gt = dict(s.named_parameters()), dict(t.named_parameters())
    for k in gt:
        if gt[k].grad is None:
            assert gs[k].grad is None, k
        else:
            assert_same(gs[k].grad, gt[k].grad, rtol=1e-9, atol=1e-11, what=k)
    assert_same(s.body[1].running_var, t.body[1].running_var, rtol=1e-10, atol=1e-12)


def test_train_eval_to_and_zero_grad(pair):
    s, _ = pair
    assert all(m.training for m in s.modules())
    assert s.eval() is s and not any(m.training for m in s.modules())
    s.train()
    s.body.eval()
    assert s.training and not s.body[0].training and s.heads[0].training
    s.float()
    assert all(p.dtype == sj.float32 for p in s.parameters())
    assert s.body[1].running_mean.dtype == sj.float32
    s.to(sj.float64)
    assert all(p.dtype == sj.float64 for p in s.parameters())
    assert s.body[1].num_batches_tracked.dtype == sj.int64  # integer buffers keep their dtype
    out = s(sj.tensor([[1, 2]]))
    (out[0].sum() + out[1].sum()).backward()
    assert s.heads[0].weight.grad is not None
    s.zero_grad(set_to_none=False)
    assert not np.any(s.heads[0].weight.grad.numpy())
    s.zero_grad()
    assert all(p.grad is None for p in s.parameters())


def test_state_dict_values_are_detached_views(pair):
    s, _ = pair
    sd = s.state_dict()
    assert not sd["heads.0.weight"].requires_grad
    sd["heads.0.weight"].numpy()[0, 0] = 123.0  # shares memory, like torch
    assert s.heads[0].weight.numpy(force=True)[0, 0] == 123.0
    kv = s.state_dict(keep_vars=True)
    assert kv["heads.0.weight"] is s.heads[0].weight


def test_load_state_dict_strict_errors(pair):
    s, t = pair
    sd = {k: v.numpy() for k, v in t.state_dict().items()}
    missing = dict(sd)
    del missing["heads.1.bias"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "heads.1.bias"'):
        s.load_state_dict(missing)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "bogus"'):
        s.load_state_dict({**sd, "bogus": np.zeros(1)})
    bad = dict(sd)
    bad["body.0.weight"] = np.zeros((8, 5))
    with pytest.raises(RuntimeError, match=r"size mismatch for body.0.weight: copying a param with shape \(8, 5\)"):
        s.load_state_dict(bad)
    with pytest.raises(RuntimeError, match=r"size mismatch"):
        s.load_state_dict(bad, strict=False)  # torch also refuses shape mismatches when not strict
    r = s.load_state_dict({**missing, "bogus": np.zeros(1)}, strict=False)
    assert r.missing_keys == ["heads.1.bias"] and r.unexpected_keys == ["bogus"]
    # torch's own message names the same keys
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "heads.1.bias"'):
        t.load_state_dict({k: torch.tensor(v) for k, v in missing.items()})


def test_register_buffer_persistent_flag():
    m = nn.Module()
    m.register_buffer("a", sj.zeros(2))
    m.register_buffer("b", sj.ones(2), persistent=False)
    m.register_buffer("c", None)
    assert list(m.state_dict()) == ["a"]
    assert [k for k, _ in m.named_buffers()] == ["a", "b"]
    m.b = sj.full((2,), 3.0)  # assignment keeps it a buffer
    assert m.b.tolist() == [3.0, 3.0] and "b" in m._buffers
    tm = torch.nn.Module()
    tm.register_buffer("a", torch.zeros(2))
    tm.register_buffer("b", torch.ones(2), persistent=False)
    assert list(tm.state_dict()) == list(m.state_dict())
    with pytest.raises(TypeError):
        m.a = 5
    with pytest.raises(KeyError):
        m.register_buffer("x.y", sj.zeros(1))


def test_sequential_and_containers():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Linear(4, 2))
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    assert list(seq[1:].state_dict()) == ["2.weight", "2.bias"]  # slices keep the names
    tseq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Identity(), torch.nn.Linear(4, 2))
    assert list(seq.state_dict()) == list(tseq.state_dict())
    assert list(tseq[1:].state_dict()) == ["2.weight", "2.bias"]
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.parameters())) == 2  # shared parameters counted once


def test_repr_equals_torch():
    s = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1, bias=False))
    t = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1, bias=False))
    assert repr(s) == repr(t)
    try:
        from shenjing.nn.activation import ReLU
    except ImportError:  # the activations are another module's work
        return
    s = nn.Sequential(nn.Linear(3, 2), ReLU(), nn.Linear(2, 1))
    t = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    assert repr(s) == repr(t)
    assert repr(build(sj)) == repr(build(torch)).replace("torch.float32", "shenjing.float32")


def test_parameter_shares_memory_like_torch():
    t, tt = sj.ones(3), torch.ones(3)
    p, tp = nn.Parameter(t), torch.nn.Parameter(tt)
    assert tp.data_ptr() == tt.data_ptr()  # torch wraps, it does not copy
    assert np.shares_memory(p.detach().numpy(), t.numpy()) and p.requires_grad and not t.requires_grad
    with p.inplace() as a:
        a[0] = 5.0
    assert t.tolist() == [5.0, 1.0, 1.0]
    arr = np.zeros((2, 2))
    assert np.shares_memory(nn.Parameter(arr).detach().numpy(), arr)  # an array is wrapped as well
    e, te = nn.Parameter(), torch.nn.Parameter()
    assert tuple(e.shape) == tuple(te.shape) == (0,) and e.dtype == sj.float32 and e.requires_grad
    assert not nn.Parameter(sj.zeros(2), requires_grad=False).requires_grad
    assert isinstance(nn.Parameter(p), nn.Parameter) and np.shares_memory(nn.Parameter(p).detach().numpy(), t.numpy())


def test_parameter_and_module_copies(pair):
    import copy
    import pickle

    s, _ = pair
    w = s.heads[0].weight
    w.grad = sj.ones(*w.shape, dtype=sj.float64)
    c = copy.deepcopy(w)
    assert type(c) is nn.Parameter and c.requires_grad and not np.shares_memory(c.detach().numpy(), w.detach().numpy())
    np.testing.assert_array_equal(c.detach().numpy(), w.detach().numpy())
    assert c.grad is not None and not np.shares_memory(c.grad.numpy(), w.grad.numpy())
    np.testing.assert_array_equal(c.grad.numpy(), w.grad.numpy())
    u = pickle.loads(pickle.dumps(w))
    assert type(u) is nn.Parameter and u.requires_grad and u.dtype == sj.float64
    np.testing.assert_array_equal(u.detach().numpy(), w.detach().numpy())
    seq = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))  # picklable: no local classes
    for orig, m in ((s, copy.deepcopy(s)), (seq, copy.deepcopy(seq)), (seq, pickle.loads(pickle.dumps(seq)))):
        assert [k for k, _ in m.named_parameters()] == [k for k, _ in orig.named_parameters()]
        assert all(type(p) is nn.Parameter and p.requires_grad for p in m.parameters())
        assert list(m.state_dict()) == list(orig.state_dict())
        for (k, a), b in zip(m.state_dict().items(), orig.state_dict().values()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
            assert not np.shares_memory(a.numpy(), b.numpy())
    shared = nn.Linear(2, 2)
    twice = copy.deepcopy(nn.Sequential(shared, shared))
    assert twice[0].weight is twice[1].weight  # sharing survives the copy, as in torch


def test_to_keeps_parameters_and_loading_moves_the_version():
    lin = nn.Linear(3, 2)
    w = lin.weight
    lin(sj.ones(1, 3)).sum().backward()
    lin.double()
    assert lin.weight is w and w.dtype == sj.float64 and w.grad.dtype == sj.float64  # torch: p.data = p.data.to(dtype)
    y = (w * w).sum()
    lin.load_state_dict({k: v.numpy() * 2 for k, v in lin.state_dict().items()})
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()  # the weight was overwritten after the forward pass
