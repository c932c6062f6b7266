"""shenjing.onnx.load: files written by torch.onnx.export and by shenjing load as Modules that
match, train and export again; damaged or unsupported files are refused with a message."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.files import InvalidFileError

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
so = pytest.importorskip("shenjing.onnx")
tnn = torch.nn


class TorchResNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = tnn.Conv2d(1, 8, 3, padding=1), tnn.BatchNorm2d(8)
        self.c2, self.b2 = tnn.Conv2d(8, 8, 3, padding=1, bias=False), tnn.BatchNorm2d(8)
        self.down, self.fc = tnn.Conv2d(8, 16, 1, stride=2), tnn.Linear(16, 10)

    def forward(self, x):
        h = torch.relu(self.b1(self.c1(x)))
        h = self.down(torch.relu(h + self.b2(self.c2(h))))
        return self.fc(torch.flatten(tnn.functional.adaptive_avg_pool2d(h, 1), 1))


class TorchDenseNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.c = tnn.Conv2d(1, 4, 3, padding=1)
        self.layer = tnn.Sequential(tnn.BatchNorm2d(4), tnn.ReLU(), tnn.Conv2d(4, 4, 3, padding=1))
        self.pool, self.fc = tnn.AvgPool2d(2), tnn.Linear(8 * 14 * 14, 10)

    def forward(self, x):
        h = self.c(x)
        return self.fc(self.pool(torch.cat([h, self.layer(h)], 1)).flatten(1))


class TorchUNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.down, self.pool, self.mid = tnn.Conv2d(1, 4, 3, padding=1), tnn.MaxPool2d(2), tnn.Conv2d(4, 8, 3, padding=1)
        self.up, self.out = tnn.ConvTranspose2d(8, 4, 2, stride=2), tnn.Conv2d(8, 2, 1)
        self.smooth = tnn.Upsample(scale_factor=2, mode="bilinear")

    def forward(self, x):
        a = torch.relu(self.down(x))
        y = self.out(torch.cat([a, self.up(torch.relu(self.mid(self.pool(a))))], 1))
        return y + self.smooth(y)[:, :, ::2, ::2]


class TorchTransformer(tnn.Module):
    def __init__(self):
        super().__init__()
        self.emb = tnn.Embedding(11, 16)
        layer = tnn.TransformerEncoderLayer(16, 2, 32, 0.0, batch_first=True, norm_first=True)
        self.enc, self.head = tnn.TransformerEncoder(layer, 2, enable_nested_tensor=False), tnn.Linear(16, 5)

    def forward(self, x):
        return self.head(self.enc(self.emb(x)))


TORCH_MODELS = {
    "mlp": (lambda: tnn.Sequential(tnn.Linear(784, 64), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(64, 10)), lambda: torch.randn(3, 784)),
    "lenet5": (lambda: tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.Tanh(), tnn.AvgPool2d(2), tnn.Conv2d(6, 16, 5), tnn.Tanh(),
                                      tnn.AvgPool2d(2), tnn.Flatten(), tnn.Linear(400, 120), tnn.Tanh(), tnn.Linear(120, 10)),
               lambda: torch.randn(3, 1, 28, 28)),
    "bn_cnn": (lambda: tnn.Sequential(tnn.Conv2d(1, 8, 3, padding=1, bias=False), tnn.BatchNorm2d(8), tnn.ReLU(), tnn.MaxPool2d(2),
                                      tnn.Flatten(), tnn.Linear(8 * 14 * 14, 16, bias=False), tnn.BatchNorm1d(16), tnn.ReLU(), tnn.Linear(16, 10)),
               lambda: torch.randn(3, 1, 28, 28)),
    "resnet": (TorchResNet, lambda: torch.randn(3, 1, 28, 28)),
    "densenet": (TorchDenseNet, lambda: torch.randn(3, 1, 28, 28)),
    "unet": (TorchUNet, lambda: torch.randn(3, 1, 16, 16)),
    "transformer": (TorchTransformer, lambda: torch.randint(0, 11, (3, 7))),
    "activations": (lambda: tnn.Sequential(tnn.Linear(4, 8), tnn.GELU(), tnn.LayerNorm(8), tnn.SiLU(), tnn.ELU(), tnn.LeakyReLU(0.1),
                                           tnn.Softplus(), tnn.Hardswish(), tnn.PReLU(), tnn.Mish(), tnn.Softmax(-1)), lambda: torch.randn(3, 4)),
}


@pytest.mark.parametrize("name", list(TORCH_MODELS))
def test_files_exported_by_torch_load_and_match(name, tmp_path):
    make, example = TORCH_MODELS[name]
    torch.manual_seed(0)
    model, x = make().eval(), example()
    for m in model.modules():
        if isinstance(m, (tnn.BatchNorm1d, tnn.BatchNorm2d)):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "n"}, "output": {0: "n"}})
    loaded = so.load(path)
    xb = torch.cat([x, x[:1]], 0)
    with torch.no_grad():
        ref = model(xb).numpy()
    with sj.no_grad():
        got = loaded(sj.tensor(xb.numpy())).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(ref).max())))


def test_loaded_model_has_the_gradients_of_the_original(tmp_path):
    model = nn.LeNet5()
    x, y = sj.randn(4, 1, 28, 28), sj.randint(0, 10, (4,))
    so.export(model, (x,), tmp_path / "m.onnx")
    loaded = so.load(tmp_path / "m.onnx")
    assert set(dict(loaded.named_parameters())) == set(dict(model.named_parameters()))
    for m in (model, loaded):
        nn.functional.cross_entropy(m(x), y).backward()
    for name, p in loaded.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(model.named_parameters())[name].grad.numpy(), rtol=1e-4, atol=1e-6)


def _train(model, x, y, steps: int = 8) -> list[float]:
    opt = sj.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_loaded_model_trains_as_the_original(tmp_path):
    """Adam on the loaded batch-norm CNN follows the original model's losses (both in eval mode);
    running statistics are buffers, not trained."""
    sj.manual_seed(0)
    model = nn.SmallCNN(fc=16).eval()
    x, y = sj.randn(16, 1, 28, 28), sj.randint(0, 10, (16,))
    so.export(model, (x[:1],), tmp_path / "m.onnx", dynamic_axes={"input": [0], "output": [0]})
    loaded = so.load(tmp_path / "m.onnx")
    assert any(n.endswith("running_mean") for n, _ in loaded.named_buffers())
    assert not any(n.endswith("running_mean") for n, _ in loaded.named_parameters())
    mine, theirs = _train(loaded, x, y), _train(model, x, y)
    np.testing.assert_allclose(mine, theirs, rtol=1e-4)
    assert mine[-1] < mine[0]


def test_export_load_export_is_stable(tmp_path):
    model = nn.SequenceTransformer(11, 5, d_model=16, nhead=2, num_layers=1)
    x = sj.randint(0, 11, (2, 6))
    so.export(model, (x,), tmp_path / "a.onnx", dynamic_axes={"input": [0], "output": [0]})
    loaded = so.load(tmp_path / "a.onnx")
    so.export(loaded, (x,), tmp_path / "b.onnx", dynamic_axes={"input": [0], "output": [0]})
    a, b = (onnx.load(str(tmp_path / f)) for f in ("a.onnx", "b.onnx"))
    assert [n.op_type for n in a.graph.node] == [n.op_type for n in b.graph.node]
    assert {i.name for i in a.graph.initializer if not i.name.startswith(("const", "shape", "index"))} == \
        {i.name for i in b.graph.initializer if not i.name.startswith(("const", "shape", "index"))}
    with sj.no_grad():
        np.testing.assert_allclose(so.load(tmp_path / "b.onnx")(x).numpy(), model.eval()(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("content", [b"", b"not an onnx file at all", b"\x08\x07" * 10], ids=["empty", "text", "truncated"])
def test_damaged_files_are_refused(content, tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(InvalidFileError, match="bad.onnx: not a valid ONNX model"):
        so.load(path)


def test_unsupported_operators_are_named(tmp_path):
    h = onnx.helper
    graph = h.make_graph([h.make_node("Hardmax", ["x"], ["y"]), h.make_node("Det", ["y"], ["z"])], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 2])], [h.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [])])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), str(tmp_path / "u.onnx"))
    with pytest.raises(so.UnsupportedOperatorError, match="Det, Hardmax"):
        so.load(tmp_path / "u.onnx")
