"""Convolution (卷积) against PyTorch in float64: conv1d/conv2d, conv_transpose1d/2d, unfold/fold;
the worked examples of the notes; gradcheck; second derivatives."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import check, rand

import shenjing as sj
import shenjing.nn.functional as F
from shenjing.autograd.gradcheck import gradcheck, gradgradcheck

# ------------------------------------------------------------------ the worked examples of the notes


def test_wang_worked_example():
    """Wang 七.1 (a)-(d): [[1,2,3],[4,5,6],[7,8,9]] ⋆ [[0,1],[2,3]] = [[25,31],[43,49]]."""
    x = sj.tensor([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    w = sj.tensor([[[[0.0, 1], [2, 3]]]])
    y = F.conv2d(x, w)
    assert y.shape == (1, 1, 2, 2)
    assert y[0, 0].tolist() == [[25.0, 31.0], [43.0, 49.0]]


NG_IMAGE = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
            [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]


def test_zhao_vertical_edge_filter():
    """Zhao §5 (Ng's example): the vertical-edge filter on the 6×6 image gives a 4×4 map."""
    x = sj.tensor([[NG_IMAGE]], dtype=sj.float64)
    w = sj.tensor([[VERTICAL_EDGE]], dtype=sj.float64)
    y = F.conv2d(x, w)
    assert y[0, 0].tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    assert y[0, 0, 0, 0].item() == 3 + 1 + 2 + 0 + 0 + 0 - 1 - 8 - 2  # the sum spelled out in the notes


def test_zhao_step_image():
    """Zhao §5: a 6×6 image, three columns of 10 then three of 0, gives rows [0, 30, 30, 0]: the edge."""
    img = [[10, 10, 10, 0, 0, 0]] * 6
    y = F.conv2d(sj.tensor([[img]], dtype=sj.float32), sj.tensor([[VERTICAL_EDGE]], dtype=sj.float32))
    assert y.dtype == sj.float32
    assert y[0, 0].tolist() == [[0, 30, 30, 0]] * 4


def test_conv_is_cross_correlation_not_flipped():
    x = sj.arange(9.0).reshape(1, 1, 3, 3)
    w = sj.zeros(1, 1, 3, 3)
    w[0, 0, 0, 0] = 1.0  # picks the top-left of each window, only a correlation does that
    assert F.conv2d(x, w, padding=1)[0, 0, 1, 1].item() == 0.0


# ------------------------------------------------------------------ conv2d against torch

# (N, C_in, H, W, C_out, kernel, kwargs)
CONV2D = {
    "basic": (2, 3, 7, 6, 4, 3, {}),
    "pad1": (2, 3, 7, 6, 4, 3, dict(padding=1)),
    "pad_tuple": (1, 2, 6, 7, 3, (2, 3), dict(padding=(1, 2))),
    "stride2": (2, 3, 9, 8, 4, 3, dict(stride=2, padding=1)),
    "stride_tuple": (2, 2, 9, 10, 3, (3, 2), dict(stride=(2, 3))),
    "dilation": (1, 2, 9, 9, 3, 3, dict(dilation=2, padding=2)),
    "dilation_tuple": (1, 2, 9, 10, 2, (2, 3), dict(dilation=(2, 1), stride=(1, 2))),
    "groups": (2, 4, 6, 6, 6, 3, dict(groups=2, padding=1)),
    "depthwise": (2, 3, 6, 5, 6, 3, dict(groups=3, padding=1)),
    "groups_stride": (1, 6, 9, 8, 9, 3, dict(groups=3, stride=2, dilation=2, padding=2)),
    "one_by_one": (2, 5, 4, 3, 7, 1, {}),
    "one_by_one_stride": (2, 5, 5, 6, 3, 1, dict(stride=2)),
    "odd": (3, 1, 5, 3, 2, (3, 1), dict(padding=(0, 1))),
    "same": (2, 3, 7, 6, 4, 3, dict(padding="same")),
    "same_even_kernel": (1, 2, 6, 7, 3, (4, 2), dict(padding="same")),
    "same_dilated": (1, 2, 8, 7, 3, 3, dict(padding="same", dilation=(2, 3))),
    "valid": (2, 3, 6, 6, 2, 3, dict(padding="valid")),
    "kernel_equals_input": (2, 3, 4, 5, 2, (4, 5), {}),
    "big_stride": (1, 2, 11, 11, 2, 3, dict(stride=4, padding=1)),
    # few input channels and wide images take the transposed im2col path (a first layer)
    "first_layer": (2, 1, 18, 17, 4, 3, dict(padding=1)),
    "first_layer_rgb": (1, 3, 6, 36, 2, (3, 5), dict(stride=(1, 2), dilation=(1, 2), padding=2)),
    "first_layer_1x1": (2, 2, 4, 20, 3, 1, {}),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", list(CONV2D))
def test_conv2d_matches_torch(case, bias, rng):
    N, C, H, W, O, k, kw = CONV2D[case]
    kk = (k, k) if isinstance(k, int) else k
    g = kw.get("groups", 1)
    arrays = [rand(rng, N, C, H, W), rand(rng, O, C // g, *kk)] + ([rand(rng, O)] if bias else [])
    check(lambda m, x, w, *b: (F if m is sj else TF).conv2d(x, w, *b, **kw), *arrays)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padding_modes_match_torch_modules(mode, padding, rng):
    """padding_mode as nn.Conv2d does it (Fang ch. 7 填充 modes)."""
    x = rand(rng, 2, 3, 6, 7)
    tm = torch.nn.Conv2d(3, 4, (3, 4) if padding == "same" else 3, padding=padding, padding_mode=mode).double()
    sm = sj.nn.Conv2d(3, 4, (3, 4) if padding == "same" else 3, padding=padding, padding_mode=mode, dtype=sj.float64)
    sm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    check(lambda m, x: (sm if m is sj else tm)(x), x)
    s_w = [p.grad.numpy() for p in sm.parameters()]
    t_w = [p.grad.numpy() for p in tm.parameters()]
    for a, b in zip(s_w, t_w):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_functional_padding_mode_equals_torch_pad_then_conv(mode, rng):
    """F.conv2d(padding_mode=...) against torch's F.pad then F.conv2d (values and gradients)."""
    check(lambda m, x, w: F.conv2d(x, w, padding=1, padding_mode=mode) if m is sj else TF.conv2d(TF.pad(x, (1, 1, 1, 1), mode=mode), w),
          rand(rng, 1, 2, 5, 5), rand(rng, 3, 2, 3, 3))


def test_conv2d_float32_and_noncontiguous(rng):
    x = rand(rng, 2, 3, 8, 7).astype(np.float32)
    w = rand(rng, 4, 3, 3, 3).astype(np.float32)
    check(lambda m, x, w: (F if m is sj else TF).conv2d(x, w, padding=1, stride=2), x, w, rtol=1e-5, atol=1e-5)
    check(lambda m, x, w: (F if m is sj else TF).conv2d(x, w, padding=1), x.astype(np.float64), w.astype(np.float64),
          view="stride")
    check(lambda m, x, w: (F if m is sj else TF).conv2d(x, w, padding=1), rand(rng, 2, 3, 5, 4), rand(rng, 4, 3, 3, 3), view="T")


def test_conv2d_unbatched(rng):
    check(lambda m, x, w, b: (F if m is sj else TF).conv2d(x, w, b, padding=1), rand(rng, 3, 5, 6), rand(rng, 2, 3, 3, 3),
          rand(rng, 2))


def test_conv2d_input_only_or_weight_only_grad(rng):
    x, w = rand(rng, 2, 3, 6, 6), rand(rng, 4, 3, 3, 3)
    xs, ws = sj.tensor(x, requires_grad=True), sj.tensor(w)
    F.conv2d(xs, ws, padding=1).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    TF.conv2d(xt, torch.tensor(w), padding=1).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    xs, ws = sj.tensor(x), sj.tensor(w, requires_grad=True)
    F.conv2d(xs, ws, stride=2).sum().backward()
    wt = torch.tensor(w, requires_grad=True)
    TF.conv2d(torch.tensor(x), wt, stride=2).sum().backward()
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_big_col_is_recomputed(rng, monkeypatch):
    """When the im2col matrix is not kept (large layers), backward rebuilds it: same gradients; the
    same with the input gradient computed in chunks of offsets."""
    from shenjing.ops import conv as C

    monkeypatch.setattr(C, "KEEP_COL_BYTES", 0)
    monkeypatch.setattr(C, "IGRAD_CHUNK_BYTES", 1)  # and the input gradient's GEMMs one offset at a time
    check(lambda m, x, w: (F if m is sj else TF).conv2d(x, w, padding=1), rand(rng, 2, 3, 5, 5), rand(rng, 2, 3, 3, 3))
    check(lambda m, x, w, b: (F if m is sj else TF).conv2d(x, w, b, stride=2, groups=3), rand(rng, 2, 6, 7, 7),
          rand(rng, 3, 2, 3, 3), rand(rng, 3))


# ------------------------------------------------------------------ conv1d

CONV1D = {
    "basic": (2, 3, 9, 4, 3, {}),
    "pad_stride": (2, 3, 10, 4, 3, dict(padding=2, stride=3)),
    "dilation_groups": (1, 4, 12, 6, 3, dict(dilation=3, groups=2, padding=1)),
    "same": (2, 2, 7, 3, 4, dict(padding="same")),
    "one": (2, 5, 6, 2, 1, {}),
}


@pytest.mark.parametrize("case", list(CONV1D))
def test_conv1d_matches_torch(case, rng):
    N, C, L, O, k, kw = CONV1D[case]
    g = kw.get("groups", 1)
    check(lambda m, x, w, b: (F if m is sj else TF).conv1d(x, w, b, **kw), rand(rng, N, C, L), rand(rng, O, C // g, k), rand(rng, O))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_padding_modes(mode, rng):
    tm = torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode).double()
    sm = sj.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode, dtype=sj.float64)
    sm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    check(lambda m, x: (sm if m is sj else tm)(x), rand(rng, 2, 2, 8))


# ------------------------------------------------------------------ transposed convolution

# (N, C_in, H, W, C_out, kernel, kwargs)
CONVT = {
    "basic": (2, 3, 4, 5, 2, 3, {}),
    "stride2_k2": (2, 4, 3, 4, 3, 2, dict(stride=2)),  # U-Net upsampling
    "stride2_pad_outpad": (2, 3, 4, 4, 2, 3, dict(stride=2, padding=1, output_padding=1)),
    "groups": (2, 4, 3, 3, 6, 3, dict(stride=2, groups=2, padding=1)),
    "dilation": (1, 2, 4, 3, 3, 3, dict(dilation=2, padding=1)),
    "dilation_outpad": (1, 2, 3, 3, 2, 3, dict(dilation=3, stride=2, output_padding=2)),
    "tuple_args": (1, 2, 3, 4, 3, (2, 3), dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0))),
    "stride3": (2, 2, 3, 3, 2, 2, dict(stride=3, output_padding=1)),
}


@pytest.mark.parametrize("case", list(CONVT))
def test_conv_transpose2d_matches_torch(case, rng):
    N, C, H, W, O, k, kw = CONVT[case]
    kk = (k, k) if isinstance(k, int) else k
    g = kw.get("groups", 1)
    check(lambda m, x, w, b: (F if m is sj else TF).conv_transpose2d(x, w, b, **kw), rand(rng, N, C, H, W),
          rand(rng, C, O // g, *kk), rand(rng, O))


def test_conv_transpose2d_output_size(rng):
    x, w = rand(rng, 1, 2, 3, 3), rand(rng, 2, 3, 3, 3)
    ts = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    ss = sj.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=sj.float64)
    ss.load_state_dict({k: v.detach().numpy() for k, v in ts.state_dict().items()})
    for size in [(5, 5), (6, 6), (5, 6)]:
        check(lambda m, x, size=size: (ss if m is sj else ts)(x, output_size=size), x)
    with pytest.raises(ValueError):
        ss(sj.tensor(x), output_size=(8, 8))
    del w


def test_conv_transpose_is_adjoint_of_conv(rng):
    """⟨y, conv(x, W)⟩ = ⟨conv_transpose(y, W), x⟩ (转置卷积 is the adjoint)."""
    x, W = sj.tensor(rand(rng, 2, 3, 9, 8)), sj.tensor(rand(rng, 4, 3, 3, 3))
    y = sj.tensor(rand(rng, 2, 4, 5, 4))
    lhs = (y * F.conv2d(x, W, stride=2, padding=1)).sum().item()
    rhs = (F.conv_transpose2d(y, W, stride=2, padding=1, output_padding=(0, 1)) * x).sum().item()
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


def test_conv_transpose1d_matches_torch(rng):
    check(lambda m, x, w, b: (F if m is sj else TF).conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
          rand(rng, 2, 3, 5), rand(rng, 3, 2, 3), rand(rng, 2))


# ------------------------------------------------------------------ unfold / fold


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=(2, 1)),
                                dict(kernel_size=3, stride=2, padding=1)])
def test_unfold_fold_match_torch(kw, rng):
    x = rand(rng, 2, 3, 7, 6)
    check(lambda m, x: (F if m is sj else TF).unfold(x, **kw), x)
    cols = TF.unfold(torch.tensor(x), **kw)
    check(lambda m, c: (F if m is sj else TF).fold(c, (7, 6), **kw), cols.numpy())


def test_fold_of_unfold_counts_windows(rng):
    """fold∘unfold multiplies each pixel by the number of windows that cover it."""
    x = sj.tensor(rand(rng, 1, 2, 5, 6))
    y = F.fold(F.unfold(x, 3, padding=1), (5, 6), 3, padding=1)
    counts = F.fold(F.unfold(sj.ones(1, 1, 5, 6, dtype=sj.float64), 3, padding=1), (5, 6), 3, padding=1)
    np.testing.assert_allclose(y.numpy(), x.numpy() * counts.numpy(), rtol=1e-12)
    # with non-overlapping windows fold∘unfold is the identity
    np.testing.assert_allclose(F.fold(F.unfold(x, (5, 3), stride=(5, 3)), (5, 6), (5, 3), stride=(5, 3)).numpy(), x.numpy())


def test_conv_equals_unfold_matmul(rng):
    """conv2d(x, W) = (W.view(O, −1) @ unfold(x)).view(N, O, H', W') — the im2col identity."""
    x, W = sj.tensor(rand(rng, 2, 3, 6, 5)), sj.tensor(rand(rng, 4, 3, 3, 2))
    a = F.conv2d(x, W, stride=(1, 2), padding=1)
    b = (W.reshape(4, -1) @ F.unfold(x, (3, 2), stride=(1, 2), padding=1)).reshape(a.shape)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_unfold_unbatched_and_errors(rng):
    check(lambda m, x: (F if m is sj else TF).unfold(x, 2), rand(rng, 2, 3, 4))
    with pytest.raises(ValueError):
        F.fold(sj.zeros(1, 7, 4), (3, 3), 2)


# ------------------------------------------------------------------ gradcheck and second derivatives


def _t(rng, *shape):
    return sj.tensor(rand(rng, *shape), requires_grad=True)


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, dilation=1), dict(groups=2, padding=(1, 0)), dict(stride=2, dilation=2, padding=2)])
def test_conv2d_gradcheck(kw, rng):
    x, w, b = _t(rng, 1, 2, 5, 4), _t(rng, 2, 2 // kw.get("groups", 1), 3, 2), _t(rng, 2)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


def test_conv_transpose2d_and_unfold_fold_gradcheck(rng):
    x, w, b = _t(rng, 1, 2, 3, 3), _t(rng, 2, 2, 3, 2), _t(rng, 2)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), (x, w, b))
    assert gradcheck(lambda x: F.unfold(x, 2, padding=1, stride=2), (_t(rng, 1, 2, 3, 3),))
    assert gradcheck(lambda c: F.fold(c, (3, 4), 2), (_t(rng, 1, 8, 6),))
    assert gradcheck(lambda x, w: F.conv1d(x, w, padding="same", padding_mode="circular"), (_t(rng, 1, 2, 5), _t(rng, 2, 2, 3)))


def test_conv2d_gradgradcheck(rng):
    x, w = _t(rng, 1, 2, 4, 4), _t(rng, 2, 2, 2, 2)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1), (x, w))
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2), (_t(rng, 1, 2, 2, 2), _t(rng, 2, 1, 2, 2)))


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, padding=1, groups=2), dict(dilation=2, padding="same")])
def test_conv2d_second_derivatives_match_torch(kw, rng):
    """∂/∂W and ∂/∂x of ⟨∂L/∂x, v⟩ and ⟨∂L/∂W, V⟩ for L = Σ tanh(conv(x, W))·u, against
    torch.autograd.grad(create_graph=True) (the Hessian-vector products of Xu's stability analysis)."""
    G = kw.get("groups", 1)
    x_np, w_np = rand(rng, 2, 4, 6, 5), rand(rng, 4, 4 // G, 3, 3)
    u_np = None

    def run(lib, grad):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        y = (F if lib is sj else TF).conv2d(x, w, **kw)
        nonlocal u_np
        if u_np is None:
            u_np = rand(rng, *tuple(y.shape))
        L = (y.tanh() * lib.tensor(u_np)).sum()
        gx, gw = grad(L, (x, w), create_graph=True)
        v = lib.tensor(np.cos(np.arange(x_np.size)).reshape(x_np.shape))
        V = lib.tensor(np.sin(np.arange(w_np.size)).reshape(w_np.shape))
        s = (gx * v).sum() + (gw * V).sum() * 0.5
        return [t.detach().numpy() for t in grad(s, (x, w))]

    got = run(sj, sj.autograd.grad)
    want = run(torch, torch.autograd.grad)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def test_conv_transpose2d_second_derivative_matches_torch(rng):
    x_np, w_np = rand(rng, 1, 3, 3, 4), rand(rng, 3, 2, 2, 2)

    def run(lib, grad):
        x = lib.tensor(x_np, requires_grad=True)
        w = lib.tensor(w_np, requires_grad=True)
        y = (F if lib is sj else TF).conv_transpose2d(x, w, stride=2)
        (gw,) = grad((y ** 3).sum(), (w,), create_graph=True)
        return [t.detach().numpy() for t in grad((gw ** 2).sum(), (x, w))]

    for a, b in zip(run(sj, sj.autograd.grad), run(torch, torch.autograd.grad)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ errors


def test_conv_errors_name_the_op_and_shapes(rng):
    x, w = sj.tensor(rand(rng, 1, 3, 5, 5)), sj.tensor(rand(rng, 2, 2, 3, 3))
    with pytest.raises(ValueError, match="conv2d.*channels"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match="same"):
        F.conv2d(x, sj.tensor(rand(rng, 2, 3, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match="Kernel size"):
        F.conv2d(x, sj.tensor(rand(rng, 2, 3, 7, 7)))
    with pytest.raises(ValueError, match="groups"):
        F.conv2d(sj.tensor(rand(rng, 1, 4, 5, 5)), sj.tensor(rand(rng, 3, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError):
        F.conv2d(sj.tensor(rand(rng, 5, 5)), w)
    with pytest.raises(RuntimeError, match="dtype"):
        F.conv2d(x, w.float())
    with pytest.raises(ValueError, match="output padding"):
        F.conv_transpose2d(sj.tensor(rand(rng, 1, 2, 3, 3)), sj.tensor(rand(rng, 2, 2, 3, 3)), stride=2, output_padding=2)


def test_kernels_split_over_threads(rng, monkeypatch):
    """The NumPy work of conv and pooling split over threads (batch chunks) gives the same results."""
    from shenjing.ops import parallel

    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)
    old = parallel.get_num_threads()
    parallel.set_num_threads(3)
    try:
        def net(m, x, w1, w2):
            f = F if m is sj else TF
            h = f.max_pool2d(f.conv2d(x, w1, padding=1).relu(), 2)
            return f.conv2d(h, w2, padding=1, stride=(1, 2)), f.conv2d(x[:, :1], w1[:, :1], padding=1)

        check(net, rand(rng, 5, 2, 6, 20), rand(rng, 4, 2, 3, 3), rand(rng, 3, 4, 3, 3))
    finally:
        parallel.set_num_threads(old)
