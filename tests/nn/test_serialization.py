"""Weights move between torch and shenjing through .safetensors and .npz files; writes are atomic;
corrupt files are refused with a ValueError naming the path; nothing is pickled."""

import os
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from torch_compare import assert_same

import shenjing as sj
import shenjing.nn as nn
from shenjing.nn import serialization


def torch_model():
    m = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    m.train()
    with torch.no_grad():
        for _ in range(3):  # non-trivial running statistics
            m(torch.randn(16, 5) * 2 + 1)
    return m.eval()


def sj_model():
    return nn.mlp([5, 8, 3], batch_norm=True).eval()


def outputs_equal(s, t):
    X = np.random.standard_normal((6, 5)).astype(np.float32)  # seeded per test (conftest)
    with torch.no_grad():
        yt = t(torch.tensor(X))
    assert_same(s(sj.tensor(X)), yt, rtol=1e-5, atol=1e-6)


def test_same_keys():
    assert list(sj_model().state_dict()) == list(torch_model().state_dict())


def test_torch_safetensors_file_loads_into_shenjing(tmp_path):
    t = torch_model()
    for i, save in enumerate([lambda sd, p: safetensors.torch.save_file(sd, p),
                              lambda sd, p: safetensors.numpy.save_file({k: v.numpy() for k, v in sd.items()}, p)]):
        path = tmp_path / f"torch{i}.safetensors"
        save(t.state_dict(), str(path))
        s = sj_model()
        sd = nn.load_state_dict(path)
        assert all(isinstance(v, sj.Tensor) for v in sd.values())
        assert sd["1.num_batches_tracked"].dtype == sj.int64 and int(sd["1.num_batches_tracked"].item()) == 3
        s.load_state_dict(sd)
        outputs_equal(s, t)
        outputs_equal(_loaded(sj.load(path)), t)


def _loaded(sd):
    s = sj_model()
    s.load_state_dict(sd)
    return s


def test_shenjing_file_loads_into_torch(tmp_path):
    s = sj_model().train()
    for _ in range(2):
        s(sj.randn(10, 5))
    s.eval()
    path = tmp_path / "model.safetensors"
    sj.save(s.state_dict(), path)
    t = torch_model()
    t.load_state_dict(safetensors.torch.load_file(str(path)))
    outputs_equal(s, t)
    assert int(t[1].num_batches_tracked) == 2
    t2 = torch_model()  # through NumPy too
    t2.load_state_dict({k: torch.from_numpy(v) for k, v in safetensors.numpy.load_file(str(path)).items()})
    outputs_equal(s, t2)


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
def test_round_trip_keeps_values_dtypes_and_order(tmp_path, ext):
    sd = OrderedDict([("z.weight", sj.randn(3, 2)), ("a.bias", sj.randn(4, dtype=sj.float64)), ("n", sj.tensor(7)),
                      ("mask", sj.tensor([True, False])), ("h", sj.randn(2, 3).to(sj.float16)), ("empty", sj.zeros(0, 3)),
                      ("view", sj.arange(12.0).reshape(3, 4).T)])
    path = tmp_path / f"sd{ext}"
    nn.save_state_dict(sd, path)
    back = nn.load_state_dict(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape, k
        np.testing.assert_array_equal(back[k].numpy(), sd[k].numpy())
    back["z.weight"].numpy()[0, 0] = 1.0  # loaded arrays are writable
    if ext == ".npz":  # a plain NumPy archive
        with np.load(path, allow_pickle=False) as z:
            np.testing.assert_array_equal(z["a.bias"], sd["a.bias"].numpy())


def test_npz_written_by_numpy_loads(tmp_path):
    t = torch_model()
    path = tmp_path / "np.npz"
    np.savez(path, **{k: v.numpy() for k, v in t.state_dict().items()})
    s = sj_model()
    s.load_state_dict(sj.load(path))
    outputs_equal(s, t)


def test_module_and_nested_objects(tmp_path):
    s = sj_model()
    with pytest.raises(TypeError, match=r"whole Module \(Sequential\).*pickle.*shenjing.save\(model.state_dict\(\), path\)"):
        sj.save(s, tmp_path / "m.pth")  # torch.save(model): refused, nothing written
    assert not (tmp_path / "m.pth").exists()
    ckpt = {"model": s.state_dict(), "epoch": 3, "lr": 0.1, "name": "run", "none": None, "flags": [True, 2.5],
            "optim": {"state": {0: {"momentum_buffer": sj.ones(2), "step": 4}}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
            "pair": (1, sj.zeros(1)), "p": nn.Parameter(sj.ones(2))}
    for ext in (".safetensors", ".npz"):
        path = tmp_path / f"ckpt{ext}"
        sj.save(ckpt, path)
        back = sj.load(path)
        assert back["epoch"] == 3 and back["lr"] == 0.1 and back["name"] == "run" and back["none"] is None
        assert back["flags"] == [True, 2.5] and isinstance(back["pair"], tuple) and back["pair"][0] == 1
        assert list(back["optim"]["state"]) == [0]  # int keys survive
        assert back["optim"]["state"][0]["momentum_buffer"].tolist() == [1.0, 1.0]
        assert back["optim"]["param_groups"][0]["params"] == [0, 1]
        assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
        assert list(back["model"]) == list(s.state_dict()) and isinstance(back["model"], OrderedDict)
        with pytest.raises(ValueError, match="shenjing.load"):
            nn.load_state_dict(path)
    with pytest.raises(TypeError, match="without pickle"):
        sj.save({"f": lambda x: x, "t": sj.ones(1)}, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
def test_corrupt_or_truncated_file_gives_clear_error(tmp_path, ext):
    path = tmp_path / f"w{ext}"
    nn.save_state_dict(sj_model().state_dict(), path)
    data = path.read_bytes()
    for name, bad in [("truncated", data[: len(data) // 2]), ("cut", data[:-3]), ("garbage", b"\x00\x01garbage" * 10),
                      ("empty", b"")]:
        p = tmp_path / f"{name}{ext}"
        p.write_bytes(bad)
        with pytest.raises(ValueError, match=str(p).replace("\\", "\\\\")):
            nn.load_state_dict(p)
        with pytest.raises(ValueError, match="corrupt"):
            sj.load(p)
    flipped = bytearray(data)  # damage one byte of tensor data
    pos = len(data) - 40 if ext == ".safetensors" else data.find(b"NUMPY", 200) + 130
    flipped[pos] ^= 0xFF
    p = tmp_path / f"flipped{ext}"
    p.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt|checksum|CRC"):
        nn.load_state_dict(p)


def test_pickled_npz_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="obj.npz"):
        sj.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        sj.load(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("name", ["model.pth", "ckpt.pt", "weights", "w.bin"])
def test_any_file_name_is_safetensors(tmp_path, name):
    """torch.save(model.state_dict(), "model.pth") works; the content is safetensors whatever the name."""
    from safetensors.numpy import load_file

    s = sj_model()
    path = tmp_path / name
    sj.save(s.state_dict(), path)
    assert sorted(load_file(str(path))) == sorted(s.state_dict())  # a plain safetensors file for other tools
    back = sj.load(path, map_location="cpu", weights_only=True)
    assert list(back) == list(s.state_dict())
    for k, v in s.state_dict().items():
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    sj.save({"epoch": 2, "w": sj.ones(2)}, path)  # a nested checkpoint too
    assert sj.load(path, weights_only=False)["epoch"] == 2


def test_npz_by_explicit_choice_and_load_by_content(tmp_path):
    sd = {"a": sj.arange(3.0)}
    sj.save(sd, tmp_path / "w.pt", format="npz")
    assert (tmp_path / "w.pt").read_bytes()[:2] == b"PK"
    assert sj.load(tmp_path / "w.pt")["a"].tolist() == [0.0, 1.0, 2.0]
    sj.save(sd, tmp_path / "w.npz")  # a .npz name chooses npz
    assert (tmp_path / "w.npz").read_bytes()[:2] == b"PK"
    os.replace(tmp_path / "w.npz", tmp_path / "renamed.safetensors")  # the name does not decide how a file is read
    assert sj.load(tmp_path / "renamed.safetensors")["a"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="format must be 'safetensors' or 'npz'"):
        sj.save(sd, tmp_path / "x", format="pickle")


def test_pytorch_pickle_files_are_refused_with_how_to_convert(tmp_path):
    """Both torch.save formats (zip with data.pkl, legacy pickle) are refused, never unpickled."""
    torch = pytest.importorskip("torch")
    t = torch.nn.Linear(2, 3)
    marker = tmp_path / "unpickled"
    for legacy in (False, True):
        path = tmp_path / f"torch{int(legacy)}.pth"
        torch.save(t.state_dict(), path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(ValueError, match=r"(?s)pickle.*never unpickles.*safetensors.torch import save_file.*weights_only=True"):
            sj.load(path)
    path = tmp_path / "evil.pt"  # a pickle that would create a file if it were unpickled
    path.write_bytes(b"\x80\x04cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")
    with pytest.raises(ValueError, match="pickle"):
        sj.load(path)
    assert not marker.exists()


def test_load_map_location(tmp_path):
    sj.save({"a": sj.ones(1)}, tmp_path / "a.pt")
    for loc in ("cpu", sj.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage, None):
        assert sj.load(tmp_path / "a.pt", map_location=loc)["a"].tolist() == [1.0]
    with pytest.raises(RuntimeError, match="device 'cuda'.*no GPU backend"):
        sj.load(tmp_path / "a.pt", map_location="cuda")


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch, ext):
    path = tmp_path / f"ckpt{ext}"
    nn.save_state_dict({"a": sj.ones(3)}, path)
    before = path.read_bytes()
    writer = "_write_npz" if ext == ".npz" else "_write_safetensors"

    def failing(f, arrays, metadata):
        f.write(b"partial data")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, writer, failing)
    with pytest.raises(OSError, match="disk full"):
        nn.save_state_dict({"a": sj.zeros(3), "b": sj.zeros(2)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left behind
    monkeypatch.undo()
    nn.save_state_dict({"a": sj.zeros(3)}, path)  # a successful write replaces it
    assert nn.load_state_dict(path)["a"].tolist() == [0.0, 0.0, 0.0]
    assert sorted(os.listdir(tmp_path)) == [path.name]


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
def test_checksum_covers_the_metadata(tmp_path, ext):
    """A changed number in a nested object's structure (valid JSON, same tensors) is refused."""
    from shenjing.files import InvalidFileError

    path = tmp_path / f"obj{ext}"
    sj.save({"epoch": 17, "weights": sj.ones(3)}, path)
    data = path.read_bytes()
    assert data.count(b"17") >= 1
    if ext == ".npz":  # the metadata is a stored member: rewrite it with the changed number
        with np.load(path) as z:
            members = {k: z[k] for k in z.files}
        meta = members["__shenjing_meta__"].tobytes().replace(b"17", b"18")
        members["__shenjing_meta__"] = np.frombuffer(meta, np.uint8)
        np.savez(path, **members)
    else:
        path.write_bytes(data.replace(b"17", b"18", 1))
    with pytest.raises(InvalidFileError, match="checksum mismatch in the metadata"):
        sj.load(path)
    assert issubclass(InvalidFileError, ValueError)


def test_files_without_the_metadata_checksum_still_load(tmp_path):
    """Files of other tools and of earlier versions (array CRC only) load without the check."""
    path = tmp_path / "old.safetensors"
    arrays = {"a": np.arange(3, dtype=np.float32)}
    safetensors.numpy.save_file(arrays, str(path), metadata={"shenjing.keys": '["a"]', "shenjing.crc32": serialization._crc(arrays)})
    assert sj.load(path)["a"].tolist() == [0.0, 1.0, 2.0]
