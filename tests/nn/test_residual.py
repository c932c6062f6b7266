"""Residual blocks (Fang §8.1–8.2, Xu §1.10.2) and the MLP builders, against torch and the
formulas written out in NumPy."""

import math

import numpy as np
import pytest
import torch
from torch_compare import assert_same

import shenjing as sj
import shenjing.nn as nn
from shenjing.nn import init


class TorchResidual(torch.nn.Module):
    """The same block in torch: h = shortcut(x) + Linear(ReLU(Linear(x)))."""

    def __init__(self, i, o, h=None, scale=None):
        super().__init__()
        h = h or o
        self.branch = torch.nn.Sequential(torch.nn.Linear(i, h), torch.nn.ReLU(), torch.nn.Linear(h, o))
        self.shortcut = torch.nn.Identity() if i == o else torch.nn.Linear(i, o, bias=False)
        self.scale = scale

    def forward(self, x):
        y = self.shortcut(x) + self.branch(x)
        return y if self.scale is None else y * self.scale


def copy_into_torch(s, t):
    s.double()
    t.double()
    t.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in s.state_dict().items()})


def compare(s, t, x):
    xs, xt = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = s(xs), t(xt)
    assert_same(ys, yt, rtol=1e-10, atol=1e-12)
    v = np.random.standard_normal(tuple(yt.shape))  # seeded per test (conftest)
    (ys * sj.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    assert_same(xs.grad, xt.grad, rtol=1e-10, atol=1e-12)
    gs, gt = dict(s.named_parameters()), dict(t.named_parameters())
    assert list(gs) == list(gt)
    for k in gs:
        assert_same(gs[k].grad, gt[k].grad, rtol=1e-10, atol=1e-12, what=k)


@pytest.mark.parametrize("i,o,h,scale", [(6, 6, None, None), (6, 6, 10, True), (4, 7, None, None), (4, 7, 3, 0.5)])
def test_residual_block_matches_torch(i, o, h, scale, rng):
    s = nn.ResidualBlock(i, o, hidden_features=h, scale=scale)
    t = TorchResidual(i, o, h, (1 / math.sqrt(2)) if scale is True else scale)
    assert list(s.state_dict()) == list(t.state_dict())
    copy_into_torch(s, t)
    compare(s, t, rng.standard_normal((5, i)))


def test_identity_block_is_x_plus_f_of_x(rng):
    """Fang §8.1: h = x + f(x), f = Linear → ReLU → Linear."""
    blk = nn.ResidualBlock(5).double()
    x = rng.standard_normal((3, 5))
    W1, b1 = blk.branch[0].weight.numpy(force=True), blk.branch[0].bias.numpy(force=True)
    W2, b2 = blk.branch[2].weight.numpy(force=True), blk.branch[2].bias.numpy(force=True)
    f = np.maximum(x @ W1.T + b1, 0) @ W2.T + b2
    np.testing.assert_allclose(blk(sj.tensor(x)).numpy(force=True), x + f, rtol=1e-12)
    assert isinstance(blk.shortcut, nn.Identity)
    scaled = nn.ResidualBlock(5, scale=True).double()
    scaled.load_state_dict(blk.state_dict())
    np.testing.assert_allclose(scaled(sj.tensor(x)).numpy(force=True), (x + f) / math.sqrt(2), rtol=1e-12)


def test_projection_shortcut_xu(rng):
    """Xu §1.10.2: F_{l+1} = σ(W_l F_l + b_l) + W_s F_l when the widths differ."""
    blk = nn.ResidualBlock(3, 6, branch_layers=1).double()
    x = rng.standard_normal((4, 3))
    W, b = blk.branch[0].weight.numpy(force=True), blk.branch[0].bias.numpy(force=True)
    Ws = blk.shortcut.weight.numpy(force=True)
    assert Ws.shape == (6, 3) and blk.shortcut.bias is None
    np.testing.assert_allclose(blk(sj.tensor(x)).numpy(force=True), np.maximum(x @ W.T + b, 0) + x @ Ws.T, rtol=1e-12)
    same = nn.ResidualBlock(3, 3, branch_layers=1, projection=True)
    assert isinstance(same.shortcut, nn.Linear)
    with pytest.raises(ValueError):
        nn.ResidualBlock(3, branch_layers=3)


def _he(model):
    """He init N(0, 2/m_in) before the ReLU and gain 1 after it, so that Var f(x) ≈ Var x."""
    for blk in model:
        init.kaiming_normal_(blk.branch[0].weight, nonlinearity="relu")
        init.kaiming_normal_(blk.branch[2].weight, nonlinearity="linear")
        init.zeros_(blk.branch[0].bias)
        init.zeros_(blk.branch[2].bias)
    return model


def test_scaling_keeps_the_variance_fang_8_2():
    """Adding the input doubles the variance at each block (He init); 1/√2 scaling keeps it."""
    x = sj.randn(512, 128)
    plain = _he(nn.Sequential(*[nn.ResidualBlock(128) for _ in range(10)]))
    scaled = _he(nn.Sequential(*[nn.ResidualBlock(128, scale=True) for _ in range(10)]))
    scaled.load_state_dict(plain.state_dict())
    with sj.no_grad():
        v_plain = plain(x).var().item()
        v_scaled = scaled(x).var().item()
    assert v_plain > 200  # ≈ 2^10
    assert 0.3 < v_scaled < 3


@pytest.mark.parametrize("sizes", [[4, 2], [4, 16, 2], [4, 16, 16, 16, 16, 3]])
def test_mlp_matches_torch_sequential(sizes, rng):
    s = nn.mlp(sizes)
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if k < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    t = torch.nn.Sequential(*layers)
    assert list(s.state_dict()) == list(t.state_dict())
    assert repr(s) == repr(t)
    copy_into_torch(s, t)
    compare(s, t, rng.standard_normal((7, sizes[0])))


def test_mlp_options():
    m = nn.mlp([3, 8, 8, 1], activation="tanh", dropout=0.2, batch_norm=True, output_activation="sigmoid")
    names = [type(x).__name__ for x in m]
    assert names == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "Sigmoid"]
    y = m(sj.randn(5, 3))
    assert y.shape == (5, 1) and (y.numpy(force=True) > 0).all()
    m2 = nn.mlp([2, 3, 1], activation="leaky_relu")
    assert type(m2[1]).__name__ == "LeakyReLU"
    prelu = nn.PReLU()
    m3 = nn.mlp([2, 3, 3, 1], activation=prelu)  # a Module instance is copied: no shared parameters
    assert m3[1] is not prelu and m3[1] is not m3[3] and len(list(m3.parameters())) == 8
    m4 = nn.mlp([2, 3, 1], activation=nn.Tanh)
    assert isinstance(m4[1], nn.Tanh)
    m5 = nn.mlp([2, 3, 1], activation=sj.sin)  # any function of a tensor
    x = sj.randn(4, 2)
    np.testing.assert_allclose(m5(x).numpy(force=True), m5[2](m5[0](x).sin()).numpy(force=True))
    with pytest.raises(ValueError):
        nn.mlp([3])
    with pytest.raises(ValueError, match="unknown activation"):
        nn.mlp([3, 4, 1], activation="nope")


def test_residual_mlp_builder():
    m = nn.residual_mlp(3, 16, 4, 2, scale=True)
    assert len(m.blocks) == 4 and isinstance(m.blocks[0].shortcut, nn.Linear)
    assert all(isinstance(b.shortcut, nn.Identity) for b in m.blocks[1:])
    assert all(b.scale == pytest.approx(1 / math.sqrt(2)) for b in m.blocks)
    assert list(m.state_dict())[:6] == ["blocks.0.branch.0.weight", "blocks.0.branch.0.bias", "blocks.0.branch.2.weight",
                                        "blocks.0.branch.2.bias", "blocks.0.shortcut.weight", "blocks.1.branch.0.weight"]
    x = sj.randn(8, 3)
    y = m(x)
    assert y.shape == (8, 2)
    y.square().sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    assert nn.residual_mlp(3, 16, 0, 2)(x).shape == (8, 2)
    same = nn.residual_mlp(16, 16, 2, 1)
    assert isinstance(same.blocks[0].shortcut, nn.Identity)


def test_residual_path_keeps_gradients_in_deep_nets():
    """Fang §8.2 / Xu Fig. 1.12: a 40-layer plain tanh net's first layer gets a far smaller
    gradient than the first block of a residual net of the same depth."""
    x = sj.randn(64, 16)
    plain = nn.mlp([16] + [16] * 40 + [1], activation="tanh")
    res = nn.residual_mlp(16, 16, 20, 1, activation="tanh")
    for model, first in ((plain, plain[0]), (res, res.blocks[0].branch[0])):
        model(x).sum().backward()
        first.g = float(np.linalg.norm(first.weight.grad.numpy()))
    assert res.blocks[0].branch[0].g > 100 * plain[0].g
