"""Convolution, pooling and upsampling Modules: constructor, parameters, initialisation, repr and
results equal to PyTorch's (state_dict moved across)."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn

import shenjing as sj
import shenjing.nn as nn

MODULES = [
    ("Conv1d", (2, 4, 3), {}),
    ("Conv1d", (2, 4, 3), dict(stride=2, padding=1, bias=False, padding_mode="circular")),
    ("Conv2d", (2, 4, 3), {}),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="reflect", bias=False)),
    ("Conv2d", (2, 4, (3, 5)), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("Conv2d", (3, 6, 1), dict(padding="valid")),
    ("Conv2d", (2, 4, 3), dict(padding=(1, 2), padding_mode="replicate")),
    ("ConvTranspose2d", (4, 2, 2), dict(stride=2)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=2)),
    ("MaxPool1d", (2,), {}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), dict(stride=1, padding=1, ceil_mode=True)),
    ("MaxPool2d", (3, 2, 1), dict(dilation=2)),
    ("AvgPool1d", (3,), {}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveMaxPool2d", (2,), {}),
    ("MaxUnpool2d", (2,), {}),
    ("MaxUnpool1d", (2,), dict(stride=2)),
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(size=(3, 4), mode="bilinear", align_corners=True)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)),
    ("UpsamplingBilinear2d", (), dict(size=(5, 5))),
    ("Unfold", (3,), {}),
    ("Unfold", ((2, 3),), dict(dilation=2, padding=1, stride=(1, 2))),
    ("Fold", ((4, 5), 2), {}),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_repr_and_state_dict_like_torch(name, args, kw):
    s, t = getattr(nn, name)(*args, **kw), getattr(tnn, name)(*args, **kw)
    assert repr(s) == repr(t)
    ts = t.state_dict()
    ss = s.state_dict()
    assert list(ss) == list(ts)
    for k in ts:
        assert tuple(ss[k].shape) == tuple(ts[k].shape), k


CASES = [
    ("Conv2d", (3, 5, 3), dict(padding=1), (2, 3, 7, 6)),
    ("Conv2d", (4, 6, 3), dict(stride=2, groups=2, padding="valid"), (2, 4, 7, 7)),
    ("Conv2d", (2, 3, (2, 4)), dict(padding="same", padding_mode="circular"), (1, 2, 5, 6)),
    ("Conv1d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (2, 2, 6)),
    ("ConvTranspose2d", (3, 2, 2), dict(stride=2), (2, 3, 3, 4)),
    ("ConvTranspose2d", (2, 4, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (1, 2, 3, 3)),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=2, padding=1), (2, 3, 4)),
    ("MaxPool2d", (3, 2, 1), {}, (2, 3, 7, 7)),
    ("MaxPool1d", (2,), {}, (2, 3, 7)),
    ("AvgPool2d", (2,), dict(ceil_mode=True), (2, 3, 7, 7)),
    ("AvgPool1d", (3, 2, 1), {}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 7)),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear"), (1, 2, 3, 3)),
    ("Upsample", (), dict(size=(5, 4)), (1, 2, 3, 3)),
    ("Unfold", (2,), dict(stride=2), (1, 2, 4, 4)),
    ("Fold", ((3, 3), 2), {}, (1, 8, 4)),
]


@pytest.mark.parametrize("name,args,kw,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_forward_backward_like_torch(name, args, kw, shape, rng):
    t = getattr(tnn, name)(*args, **kw).double()
    s = getattr(nn, name)(*args, **kw).double()
    s.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal(shape)
    xs, xt = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = s(xs), t(xt)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(tuple(yt.shape))
    (ys * sj.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (k, ps), pt in zip(s.named_parameters(), t.parameters()):
        np.testing.assert_allclose(ps.grad.numpy(), pt.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_maxpool_return_indices_and_unpool_modules(rng):
    x = sj.tensor(rng.standard_normal((2, 3, 6, 6)))
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    y, idx = pool(x)
    u = unpool(y, idx, output_size=x.shape)
    assert u.shape == x.shape
    tp, ti = tnn.MaxPool2d(2, return_indices=True)(torch.tensor(x.numpy()))
    np.testing.assert_array_equal(idx.numpy(), ti.numpy())
    np.testing.assert_array_equal(u.numpy(), tnn.MaxUnpool2d(2)(tp, ti, output_size=x.shape).numpy())


@pytest.mark.parametrize("cls,args,fan_in", [(nn.Conv2d, (4, 8, 3), 4 * 9), (nn.Conv2d, (4, 8, (3, 5), 1, 0, 1, 2), 2 * 15),
                                             (nn.Conv1d, (3, 5, 7), 21), (nn.ConvTranspose2d, (4, 6, 2), 6 * 4)])
def test_default_init_is_torch_kaiming_uniform(cls, args, fan_in):
    """kaiming_uniform_(a=√5): bound √(6/((1 + 5)·fan_in)) = 1/√fan_in; bias U(±1/√fan_in)."""
    m = cls(*args)
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.numpy(force=True), m.bias.numpy(force=True)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert m.weight.requires_grad and m.bias.requires_grad
    assert m.weight.dtype == sj.float32


def test_parameter_count_formula():
    """A conv layer has C_i·C_o·K² + C_o parameters (Fang ch. 7), and /groups for grouped convs."""
    for ci, co, k in [(1, 32, 3), (32, 64, 3), (3, 16, 5)]:
        m = nn.Conv2d(ci, co, k)
        assert sum(p.numel() for p in m.parameters()) == ci * co * k * k + co
    assert sum(p.numel() for p in nn.Conv2d(8, 8, 3, groups=4).parameters()) == 8 * 8 * 9 // 4 + 8
    assert sum(p.numel() for p in nn.Conv2d(8, 16, 1, bias=False).parameters()) == 8 * 16


def test_module_errors():
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_lenet_like_stack_trains_like_torch(rng):
    """The benchmark CNN (smaller) in float64: same loss and gradients as torch from the same weights."""

    def build(lib):
        m = lib.nn
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Conv2d(4, 8, 3, padding=1), m.ReLU(),
                            m.MaxPool2d(2), m.Flatten(), m.Linear(8 * 3 * 3, 10))

    t = build(torch).double()
    s = build(sj).double()
    s.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal((5, 1, 12, 12))
    y = rng.integers(0, 10, 5)
    ls = sj.nn.CrossEntropyLoss()(s(sj.tensor(x)), sj.tensor(y))
    lt = tnn.CrossEntropyLoss()(t(torch.tensor(x)), torch.tensor(y))
    ls.backward()
    lt.backward()
    assert ls.item() == pytest.approx(lt.item(), rel=1e-12)
    for (k, ps), pt in zip(s.named_parameters(), t.parameters()):
        np.testing.assert_allclose(ps.grad.numpy(), pt.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
