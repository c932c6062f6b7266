"""Pooling (池化) and upsampling (上采样) against PyTorch in float64: max/avg pooling (1-D, 2-D),
adaptive pooling, max unpooling, interpolate; gradcheck; second derivatives."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import check, rand

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd.gradcheck import gradcheck, gradgradcheck


def _f(m):
    return F if m is sj else TF


MAXPOOL2D = {
    "k2": dict(kernel_size=2),
    "k3s2p1": dict(kernel_size=3, stride=2, padding=1),
    "k3s1": dict(kernel_size=3, stride=1),
    "ceil": dict(kernel_size=3, stride=2, ceil_mode=True),
    "ceil_pad": dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    "dilation": dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
    "rect": dict(kernel_size=(3, 2), stride=(2, 1)),
    "k1": dict(kernel_size=1, stride=2),
    "big_dilation": dict(kernel_size=2, stride=3, dilation=3, ceil_mode=True),
    # windows that tile the input (kernel = stride): the reshape path
    "tiles_3x2": dict(kernel_size=(3, 2)),
    "tiles_1x2": dict(kernel_size=(1, 2)),
    "tiles_3x1": dict(kernel_size=(3, 1)),
}


@pytest.mark.parametrize("case", list(MAXPOOL2D))
def test_max_pool2d_matches_torch(case, rng):
    kw = MAXPOOL2D[case]
    check(lambda m, x: _f(m).max_pool2d(x, return_indices=True, **kw), rand(rng, 2, 3, 9, 8))
    check(lambda m, x: _f(m).max_pool2d(x, return_indices=True, **kw), rand(rng, 2, 3, 6, 8))


def test_max_pool2d_channels_last_input_like_torch(rng):
    """A conv output is channels-last in memory; pooling it (tiled and not) equals torch's."""
    x, w = rand(rng, 2, 3, 8, 8), rand(rng, 5, 3, 3, 3)
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 4))):
        check(lambda m, x, w, kw=kw: _f(m).max_pool2d(_f(m).conv2d(x, w, padding=1).relu(), return_indices=True, **kw), x, w)
        check(lambda m, x, w, kw=kw: _f(m).avg_pool2d(_f(m).conv2d(x, w, padding=1), **kw), x, w)


def test_max_pool2d_ties_follow_torch(rng):
    """After a ReLU many windows are all zero: the gradient goes to the first maximum, as in torch."""
    x = np.maximum(rand(rng, 2, 2, 8, 8), 0)
    x[0, 0, :2, :2] = 1.5  # a window of four equal maxima
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        check(lambda m, x, kw=kw: _f(m).max_pool2d(x, return_indices=True, **kw), x)


def test_max_pool2d_nan_propagates():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    ys = F.max_pool2d(sj.tensor(x), 2)
    yt = TF.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(ys.numpy(), yt.numpy())


def test_max_pool2d_float32_unbatched_and_views(rng):
    x = rand(rng, 3, 6, 7).astype(np.float32)
    check(lambda m, x: _f(m).max_pool2d(x, 2, return_indices=True), x)
    check(lambda m, x: _f(m).max_pool2d(x, 3, 2, 1), rand(rng, 2, 3, 7, 6), view="T")
    check(lambda m, x: _f(m).max_pool2d(x, 2), rand(rng, 2, 3, 6, 6), view="stride")


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=3, stride=1, dilation=2, padding=1)])
def test_max_pool1d_matches_torch(kw, rng):
    check(lambda m, x: _f(m).max_pool1d(x, return_indices=True, **kw), rand(rng, 2, 3, 11))
    check(lambda m, x: _f(m).max_pool1d(x, return_indices=True, **kw), rand(rng, 2, 3, 12))


AVGPOOL2D = {
    "k2": dict(kernel_size=2),
    "k3s2p1": dict(kernel_size=3, stride=2, padding=1),
    "k3s2p1_excl": dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    "ceil": dict(kernel_size=3, stride=2, ceil_mode=True),
    "ceil_pad_excl": dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    "ceil_pad_incl": dict(kernel_size=2, stride=3, padding=1, ceil_mode=True),
    "override": dict(kernel_size=(2, 3), stride=1, padding=(1, 0), divisor_override=4),
    "rect": dict(kernel_size=(3, 2), stride=(1, 2)),
}


@pytest.mark.parametrize("case", list(AVGPOOL2D))
def test_avg_pool2d_matches_torch(case, rng):
    kw = AVGPOOL2D[case]
    check(lambda m, x: _f(m).avg_pool2d(x, **kw), rand(rng, 2, 3, 9, 8))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_avg_pool1d_matches_torch(kw, rng):
    check(lambda m, x: _f(m).avg_pool1d(x, **kw), rand(rng, 2, 3, 10))


@pytest.mark.parametrize("size", [1, 2, 3, (3, 4), (None, 2), (5, 7), (7, 8)])
def test_adaptive_avg_pool2d_matches_torch(size, rng):
    check(lambda m, x: _f(m).adaptive_avg_pool2d(x, size), rand(rng, 2, 3, 7, 8))


@pytest.mark.parametrize("size", [1, 3, 4])
def test_adaptive_avg_pool1d_matches_torch(size, rng):
    check(lambda m, x: _f(m).adaptive_avg_pool1d(x, size), rand(rng, 2, 3, 10))


def test_adaptive_max_pool2d_matches_torch(rng):
    check(lambda m, x: _f(m).adaptive_max_pool2d(x, (2, 4), return_indices=True), rand(rng, 2, 3, 6, 8))


# ------------------------------------------------------------------ max unpooling


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_max_unpool2d_round_trip(kw, rng):
    """max_unpool2d(max_pool2d(x)) keeps each window's maximum at its place and zeros elsewhere."""
    x = np.abs(rand(rng, 2, 3, 8, 8)) + 0.1
    y, idx = F.max_pool2d(sj.tensor(x), return_indices=True, **kw)
    u = F.max_unpool2d(y, idx, output_size=(8, 8), **kw)
    yt, it = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    ut = TF.max_unpool2d(yt, it, output_size=(8, 8), **kw)
    np.testing.assert_array_equal(u.numpy(), ut.numpy())
    kept = u.numpy() != 0
    np.testing.assert_array_equal(u.numpy()[kept], x[kept])
    # pooling the unpooled map gives the pooled map back
    np.testing.assert_array_equal(F.max_pool2d(u, **kw).numpy(), y.numpy())


def test_max_unpool2d_gradients_match_torch(rng):
    x = rand(rng, 2, 2, 6, 6)
    idx = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)[1].numpy()
    check(lambda m, v, i: _f(m).max_unpool2d(v, i, 2), rand(rng, 2, 2, 3, 3), idx)
    check(lambda m, v, i: _f(m).max_unpool2d(v, i, 2, output_size=(7, 7)), rand(rng, 2, 2, 3, 3), idx)
    i1 = TF.max_pool1d(torch.tensor(rand(rng, 2, 3, 8)), 2, return_indices=True)[1].numpy()
    check(lambda m, v, i: _f(m).max_unpool1d(v, i, 2), rand(rng, 2, 3, 4), i1)


def test_max_unpool2d_errors(rng):
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(sj.zeros(1, 1, 2, 2), sj.tensor([[[[0, 1], [2, 99]]]]), 2)
    with pytest.raises(ValueError, match="indices"):
        F.max_unpool2d(sj.zeros(1, 1, 2, 2), sj.tensor([[[[0, 1]]]]), 2)


# ------------------------------------------------------------------ interpolate


INTERP = {
    "nearest_x2": (dict(scale_factor=2), (2, 3, 4, 5)),
    "nearest_size": (dict(size=(7, 3)), (2, 3, 4, 5)),
    "nearest_down": (dict(size=(3, 2)), (1, 2, 7, 5)),
    "nearest_frac": (dict(scale_factor=1.7), (1, 2, 5, 6)),
    "nearest_x3_2": (dict(scale_factor=(3, 2)), (1, 2, 3, 4)),
    "nearest_exact": (dict(size=(7, 9), mode="nearest-exact"), (1, 2, 4, 5)),
    "bilinear_false": (dict(scale_factor=2, mode="bilinear", align_corners=False), (2, 2, 4, 5)),
    "bilinear_true": (dict(scale_factor=2, mode="bilinear", align_corners=True), (2, 2, 4, 5)),
    "bilinear_size_false": (dict(size=(7, 3), mode="bilinear"), (1, 2, 4, 6)),
    "bilinear_size_true": (dict(size=(7, 3), mode="bilinear", align_corners=True), (1, 2, 4, 6)),
    "bilinear_frac": (dict(scale_factor=1.5, mode="bilinear"), (1, 2, 5, 4)),
    "bilinear_to_one": (dict(size=(1, 4), mode="bilinear", align_corners=True), (1, 1, 3, 3)),
    "linear": (dict(scale_factor=2.5, mode="linear"), (2, 3, 4)),
    "linear_true": (dict(size=9, mode="linear", align_corners=True), (2, 3, 4)),
    "nearest_1d": (dict(scale_factor=3), (2, 3, 4)),
    "area": (dict(size=(2, 3), mode="area"), (1, 2, 6, 7)),
}


@pytest.mark.parametrize("case", list(INTERP))
def test_interpolate_matches_torch(case, rng):
    kw, shape = INTERP[case]
    check(lambda m, x: _f(m).interpolate(x, **kw), rand(rng, *shape), rtol=1e-9, atol=1e-12)


def test_interpolate_float32_and_errors(rng):
    check(lambda m, x: _f(m).interpolate(x, scale_factor=2, mode="bilinear"), rand(rng, 1, 2, 3, 3).astype(np.float32),
          rtol=1e-5, atol=1e-6)
    x = sj.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError):
        F.interpolate(x)
    with pytest.raises(ValueError):
        F.interpolate(x, scale_factor=2, mode="nearest", align_corners=True)


def test_bilinear_align_corners_keeps_corners(rng):
    x = sj.tensor(rand(rng, 1, 1, 3, 4))
    y = F.interpolate(x, size=(7, 10), mode="bilinear", align_corners=True).numpy()
    for a, b in [(0, 0), (0, -1), (-1, 0), (-1, -1)]:
        assert y[0, 0, a, b] == pytest.approx(x.numpy()[0, 0, a, b])


# ------------------------------------------------------------------ gradcheck and second derivatives


def _t(rng, *shape):
    return sj.tensor(rand(rng, *shape), requires_grad=True)


def test_pool_gradcheck(rng):
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (_t(rng, 1, 2, 5, 4),))
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (_t(rng, 1, 2, 5, 4),))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (_t(rng, 1, 2, 5, 4),))
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), (_t(rng, 1, 1, 2, 3),))
    assert gradcheck(lambda x: F.interpolate(x, size=(3, 5)), (_t(rng, 1, 1, 2, 3),))
    assert gradcheck(lambda x: F.max_pool1d(x, 2), (_t(rng, 1, 2, 6),))


def test_pool_gradgradcheck(rng):
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2) ** 2, (_t(rng, 1, 1, 4, 4),))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1) ** 2, (_t(rng, 1, 1, 4, 5),))
    assert gradgradcheck(lambda x: F.interpolate(x, scale_factor=2) ** 2, (_t(rng, 1, 1, 2, 2),))


@pytest.mark.parametrize("pool", ["max", "max_overlap", "avg", "unpool"])
def test_second_derivatives_through_pooling_match_torch(pool, rng):
    """∂/∂(x, W) of ⟨∂L/∂x, v⟩ for L = Σ u·tanh(pool(conv(x, W)))², against torch (create_graph=True)."""
    x_np, w_np = rand(rng, 2, 2, 8, 8), rand(rng, 3, 2, 3, 3)
    state = {}

    def run(lib, grad):
        f = _f(lib)
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        h = f.conv2d(x, w, padding=1)
        if pool == "max":
            p = f.max_pool2d(h, 2)
        elif pool == "max_overlap":
            p = f.max_pool2d(h, 3, 2, 1)
        elif pool == "avg":
            p = f.avg_pool2d(h, 3, 2, 1, count_include_pad=False)
        else:
            p, i = f.max_pool2d(h, 2, return_indices=True)
            p = f.max_unpool2d(p * 2, i, 2)
        if "u" not in state:
            state["u"] = rand(rng, *tuple(p.shape))
        L = (lib.tensor(state["u"]) * p.tanh() ** 2).sum()
        gx, gw = grad(L, (x, w), create_graph=True)
        v = lib.tensor(np.cos(np.arange(x_np.size)).reshape(x_np.shape))
        return [t.detach().numpy() for t in grad((gx * v).sum() + gw.square().sum(), (x, w))]

    for a, b in zip(run(sj, sj.autograd.grad), run(torch, torch.autograd.grad)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------------ errors


def test_pool_errors(rng):
    x = sj.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="pad should be at most half of kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="too small"):
        F.max_pool2d(sj.zeros(1, 1, 1, 1), 3)
    with pytest.raises(ValueError):
        F.avg_pool2d(sj.zeros(4, 4), 2)
