"""shenjing.onnx.export against onnxruntime: every architecture, layer and activation, with a
dynamic batch; the written file passes onnx.checker; errors name the op and the layer."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.nn import functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
so = pytest.importorskip("shenjing.onnx")


def run_ort(path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path)).run(None, {"input": x})[0]


def exported(model, x, tmp_path, name="m", **kw):
    """Export with a dynamic batch; onnxruntime's output on a batch one larger than traced, and the model's."""
    model.eval()
    path = tmp_path / f"{name}.onnx"
    so.export(model, (x,), path, input_names=["input"], output_names=["output"], dynamic_axes={"input": [0], "output": [0]}, **kw)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    xb = sj.cat([x, x[:1]], 0)
    with sj.no_grad():
        ref = model(xb).numpy()
    return run_ort(path, xb.numpy()), ref


def assert_close(got, ref, tol=1e-5):
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * max(1.0, float(np.abs(ref).max())))


ARCHITECTURES = {
    "mlp": (lambda: nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10)), (3, 784)),
    "lenet5": (lambda: nn.LeNet5(), (3, 1, 28, 28)),
    "small_cnn": (lambda: nn.SmallCNN(fc=32), (3, 1, 28, 28)),
    "resnet": (lambda: nn.ResNet(depth=8), (3, 1, 28, 28)),
    "densenet": (lambda: nn.DenseNet(blocks=(2, 2, 2)), (3, 1, 28, 28)),
    "unet": (lambda: nn.UNet(depth=2, width=8), (2, 1, 32, 32)),
    "unet_bilinear": (lambda: nn.UNet(depth=2, width=8, up="bilinear"), (2, 1, 32, 32)),
}


def _trained_bn(model):
    """Batch-norm statistics that are not the initial 0/1, so that eval mode is really checked."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.running_mean is not None:
            with m.running_mean.inplace() as a:
                a[...] = np.random.default_rng(1).uniform(-1, 1, a.shape)
            with m.running_var.inplace() as a:
                a[...] = np.random.default_rng(2).uniform(0.5, 2, a.shape)
    return model


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_architectures_match_onnxruntime(name, tmp_path):
    make, shape = ARCHITECTURES[name]
    got, ref = exported(_trained_bn(make()), sj.randn(*shape), tmp_path)
    assert_close(got, ref)


@pytest.mark.parametrize("norm_first, positional", [(True, "sinusoidal"), (False, "learned")])
def test_sequence_transformer_matches_onnxruntime(norm_first, positional, tmp_path):
    model = nn.SequenceTransformer(11, 5, d_model=16, nhead=2, num_layers=2, norm_first=norm_first, positional=positional)
    got, ref = exported(model, sj.randint(0, 11, (3, 7)), tmp_path)
    assert_close(got, ref)


ACTIVATIONS = [nn.Step(), nn.Sign(), nn.Sigmoid(), nn.Tanh(), nn.Arctan(), nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.1), nn.PReLU(),
               nn.ELU(), nn.CELU(0.5), nn.SELU(), nn.Softplus(), nn.LogSigmoid(), nn.SiLU(), nn.GELU(), nn.GELU(approximate="tanh"),
               nn.Sin(), nn.Cos(), nn.Polynomial(3), nn.Square(), nn.Hardtanh(), nn.Hardsigmoid(), nn.Hardswish(), nn.Mish(),
               nn.Softsign(), nn.Softmax(1), nn.LogSoftmax(1), nn.Softmin(1), nn.Tanhshrink(), nn.Softshrink(), nn.Hardshrink()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_every_activation(act, tmp_path):
    got, ref = exported(nn.Sequential(nn.Linear(4, 6), act), sj.randn(5, 4), tmp_path)
    assert_close(got, ref)


class Pointwise(nn.Module):
    """A pointwise function on inputs inside its domain: tanh(x)·0.9 for the (−1, 1) ones, 1 + x² for arcosh."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


POINTWISE = {"asin": lambda x: (x.tanh() * 0.9).asin(), "acos": lambda x: (x.tanh() * 0.9).acos(), "sinh": sj.sinh,
             "cosh": sj.cosh, "asinh": sj.asinh, "acosh": lambda x: (1 + x * x).acosh(), "atanh": lambda x: (x.tanh() * 0.9).atanh(),
             "exp2": sj.exp2, "log10": lambda x: (1 + x * x).log10()}


@pytest.mark.parametrize("name", list(POINTWISE))
def test_pointwise_functions(name, tmp_path):
    got, ref = exported(Pointwise(POINTWISE[name]), sj.randn(5, 4), tmp_path)
    assert_close(got, ref)
    loaded = so.load(tmp_path / "m.onnx")
    x = sj.randn(2, 4)
    with sj.no_grad():
        assert_close(loaded(x).numpy(), Pointwise(POINTWISE[name])(x).numpy())


STATISTICS = {"var": lambda x: x.var(1, keepdim=True), "std": lambda x: x.std(-1, correction=0), "fmod": lambda x: sj.fmod(x * 3, 0.7)}


@pytest.mark.parametrize("name", list(STATISTICS))
def test_var_std_fmod(name, tmp_path):
    """Var and Std (one op each, with PyTorch's gradients) and fmod (ONNX Mod with fmod=1) along the fixed axis."""
    assert_close(*exported(Pointwise(STATISTICS[name]), sj.randn(5, 4), tmp_path))


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x)[0]


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.bilinear = nn.Bilinear(4, 4, 3)

    def forward(self, x):
        return self.bilinear(x, x * 2)


class QueryAttending(nn.Module):
    def __init__(self, score):
        super().__init__()
        self.attention, self.query = nn.QueryAttention(8, score=score, hidden=6), nn.Linear(8, 8)

    def forward(self, x):
        return self.attention(self.query(x[:, 0]), x)[0]


class CausalLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, 0.0, batch_first=True)

    def forward(self, x):
        return self.layer(x, src_mask=nn.transformer.generate_square_subsequent_mask(x.shape[1]), is_causal=True)


def conv(c_in, *layers):
    return nn.Sequential(nn.Conv2d(c_in, c_in, 1), *layers)


LAYERS = {
    "conv_groups_dilation": (nn.Conv2d(4, 4, 3, groups=2, dilation=2, padding=2), (2, 4, 7, 7)),
    "conv_stride": (nn.Conv2d(2, 3, 3, stride=2), (2, 2, 9, 9)),
    "conv_same": (nn.Conv2d(2, 2, 4, padding="same"), (2, 2, 5, 5)),
    **{f"conv_{m}": (nn.Conv2d(2, 2, 3, padding=1, padding_mode=m), (2, 2, 5, 5)) for m in ("reflect", "replicate", "circular")},
    "conv1d": (nn.Conv1d(4, 3, 3, padding=1, stride=2), (2, 4, 9)),
    "conv_transpose2d": (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 5)),
    "conv_transpose1d": (nn.ConvTranspose1d(3, 2, 3, stride=2), (2, 3, 5)),
    "max_pool_ceil": (conv(2, nn.MaxPool2d(2, ceil_mode=True)), (2, 2, 7, 7)),
    "max_pool1d": (nn.Sequential(nn.Conv1d(3, 3, 1), nn.MaxPool1d(2)), (2, 3, 4)),
    "avg_pool_exclude_pad": (conv(2, nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)), (2, 2, 7, 7)),
    "avg_pool1d": (nn.Sequential(nn.Conv1d(2, 2, 1), nn.AvgPool1d(2)), (2, 2, 6)),
    "adaptive_avg": (conv(3, nn.AdaptiveAvgPool2d(1)), (2, 3, 4, 4)),
    "adaptive_max": (conv(3, nn.AdaptiveMaxPool2d((2, 2))), (2, 3, 4, 4)),
    "upsample_nearest": (conv(2, nn.Upsample(scale_factor=2)), (2, 2, 3, 3)),
    "upsample_bilinear": (conv(2, nn.Upsample(scale_factor=2, mode="bilinear")), (2, 2, 3, 3)),
    "batch_norm1d": (nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), (3, 4)),
    "batch_norm2d_no_affine": (conv(3, nn.BatchNorm2d(3, affine=False)), (2, 3, 4, 4)),
    "batch_norm_batch_statistics": (conv(3, nn.BatchNorm2d(3, track_running_stats=False)), (2, 3, 4, 4)),
    "adaptive_avg_uneven": (conv(2, nn.AdaptiveAvgPool2d(3)), (2, 2, 7, 7)),
    "upsample_size_align_corners": (conv(2, nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True)), (2, 2, 3, 3)),
    "layer_norm": (nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6)), (3, 4)),
    "group_norm": (conv(4, nn.GroupNorm(2, 4)), (2, 4, 3, 3)),
    "flatten_unflatten": (nn.Sequential(conv(2, nn.Flatten()), nn.Unflatten(1, (2, 9))), (2, 2, 3, 3)),
    "residual_block": (nn.ResidualBlock(4, 8), (3, 4)),
    "self_attention": (SelfAttention(), (2, 5, 16)),
    "encoder": (nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, 0.1, batch_first=True), 2), (2, 5, 16)),
    "bilinear": (TwoInputs(), (3, 4)),
    "causal_encoder_layer": (CausalLayer(), (2, 5, 16)),
    **{f"query_attention_{s}": (QueryAttending(s), (2, 5, 8)) for s in ("dot", "scaled_dot", "linear", "additive")},
    "identity": (nn.Identity(), (3, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layers(name, tmp_path):
    model, shape = LAYERS[name]
    got, ref = exported(_trained_bn(model), sj.randn(*shape), tmp_path)
    assert_close(got, ref)


def test_embedding(tmp_path):
    got, ref = exported(nn.Embedding(10, 3), sj.randint(0, 10, (2, 4)), tmp_path)
    assert_close(got, ref)


def test_parameters_keep_their_state_dict_names(tmp_path):
    model = nn.SmallCNN(fc=16)
    so.export(model, (sj.randn(1, 1, 28, 28),), tmp_path / "m.onnx")
    names = {i.name for i in onnx.load(str(tmp_path / "m.onnx")).graph.initializer}
    assert set(model.state_dict()) - {k for k in model.state_dict() if k.endswith("num_batches_tracked")} <= names


def test_model_is_put_back_in_training_mode(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model.train()
    so.export(model, (sj.randn(2, 3),), tmp_path / "m.onnx")
    assert model.training


class Windowing(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)

    def forward(self, x):
        return self.conv(x).unfold(3, 2, 1)  # Tensor.unfold, a strided view: no ONNX mapping


class UnfoldFold(nn.Module):
    """F.unfold → a per-window linear map → F.fold (a patch-wise layer), as a grouped Conv and ConvTranspose."""

    def __init__(self, k=(2, 3), **geom):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)
        self.mix = nn.Linear(3 * k[0] * k[1], 3 * k[0] * k[1])
        self.k, self.geom = k, geom

    def forward(self, x):
        cols = F.unfold(self.conv(x), self.k, **self.geom)
        cols = self.mix(cols.transpose(1, 2)).transpose(1, 2)
        return F.fold(cols, x.shape[2:], self.k, **self.geom)


@pytest.mark.parametrize("geom", [{}, {"stride": 2}, {"padding": 1, "dilation": (2, 1)}, {"stride": (2, 3), "padding": (1, 2)}], ids=str)
def test_unfold_and_fold(geom, tmp_path):
    x = sj.randn(2, 2, 7, 8)
    got, ref = exported(UnfoldFold(**geom), x, tmp_path)
    assert_close(got, ref)
    with sj.no_grad():  # and loaded back (Conv/ConvTranspose with groups)
        assert_close(so.load(tmp_path / "m.onnx")(x).numpy(), ref[:2])
    got, ref = exported(nn.Sequential(nn.Conv2d(2, 2, 1), nn.Unfold(3, **geom)), sj.randn(1, 2, 6, 5), tmp_path, name="u")
    assert_close(got, ref)
    L = F.unfold(sj.zeros(1, 1, 4, 5), (1, 2), **geom).shape[-1]
    got, ref = exported(nn.Sequential(nn.Linear(L, L), nn.Fold((4, 5), (1, 2), **geom)), sj.randn(2, 6, L), tmp_path, name="f")
    assert_close(got, ref)


class Branching(nn.Module):
    def forward(self, x):
        return x * 2 if x.shape[0] <= 2 else x.exp()  # control flow on the (dynamic) batch size


class OutsideOps(nn.Module):
    def forward(self, x):
        return x + sj.tensor(x.numpy() * 2)  # computed from the input outside the recorded ops


def test_an_op_without_mapping_is_named_with_its_layer(tmp_path):
    with pytest.raises(so.UnsupportedOperatorError, match="StridedView"):
        so.export(Windowing(), (sj.randn(1, 1, 4, 4),), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("model", [Branching(), OutsideOps()], ids=["control-flow", "outside-ops"])
def test_what_one_recording_cannot_keep_is_refused(model, tmp_path):
    x = sj.randn(2, 3).abs()
    with pytest.raises(so.UnsupportedOperatorError, match="export:"):
        so.export(model, (x,), tmp_path / "m.onnx", dynamic_axes={"input": [0]})


def test_bad_arguments(tmp_path):
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="dynamic_axes"):
        so.export(model, (sj.randn(1, 2),), tmp_path / "m.onnx", dynamic_axes={"x": [0]})
    with pytest.raises(ValueError, match="opset_version"):
        so.export(model, (sj.randn(1, 2),), tmp_path / "m.onnx", opset_version=7)
    with pytest.raises(ValueError, match="input_names"):
        so.export(model, (sj.randn(1, 2),), tmp_path / "m.onnx", input_names=["a", "b"])


@pytest.mark.parametrize("opset", [13, 18, 20])
def test_other_opsets(opset, tmp_path):
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.GELU())
    got, ref = exported(nn.Sequential(model, nn.Softmax(-1)), sj.randn(3, 4), tmp_path, opset_version=opset)
    assert_close(got, ref)
