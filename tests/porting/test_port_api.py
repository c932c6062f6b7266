"""The parts of the API a PyTorch program touches besides tensor ops: module paths (shenjing.utils.data,
shenjing.vision), devices, Module details, grad modes, conversions — each checked against torch."""

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn as nn


def pair(seed=0):
    """The same two-layer network in torch and shenjing (shenjing's weights copied from torch's)."""
    torch.manual_seed(seed)
    t = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    s = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    s.load_state_dict({k: sj.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, s


def test_module_paths_are_the_existing_objects():
    import shenjing.data as D
    import shenjing.utils.data as U
    from shenjing.vision import datasets, transforms

    for name in ("Dataset", "DataLoader", "random_split", "TensorDataset", "Subset", "RandomSampler", "SequentialSampler",
                 "BatchSampler", "SubsetRandomSampler", "ConcatDataset", "IterableDataset", "default_collate"):
        assert getattr(U, name) is getattr(D, name)
    assert sj.utils.data is U
    assert datasets.FashionMNIST is D.FashionMNIST and datasets.MNIST is D.MNIST
    for name in ("ToTensor", "Normalize", "Compose", "Lambda", "RandomCrop", "RandomHorizontalFlip"):
        assert getattr(transforms, name) is getattr(D.transforms, name)


def test_no_gpu_backend_errors_are_clear():
    m = nn.Linear(2, 2)
    assert m.to("cpu") is m and m.cpu() is m and m.to(sj.device("cpu")) is m and m.to(device="cpu") is m
    for call in (lambda: m.cuda(), lambda: m.to("cuda"), lambda: m.to(sj.device("cuda", 0)), lambda: m.to(device="mps"),
                 lambda: sj.ones(2).cuda(), lambda: sj.ones(2).to("cuda:0")):
        with pytest.raises(RuntimeError, match="no GPU backend"):
            call()
    assert sj.ones(2).to("cpu").tolist() == [1.0, 1.0] and sj.ones(2).to(sj.float64).dtype == sj.float64
    assert m.to(sj.float64).weight.dtype == sj.float64
    assert not sj.cuda.is_available() and not sj.accelerator.is_available() and sj.accelerator.current_accelerator() is None
    assert str(sj.device("cuda:1")) == "cuda:1" and repr(sj.device("cpu")) == repr(torch.device("cpu"))
    assert sj.device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="device type at start of device string: gpu"):
        sj.device("gpu")


def test_module_details_as_torch():
    t, s = pair()
    assert s.train() is s and s.eval() is s and not s[0].training
    assert [n for n, _ in s.named_modules()] == [n for n, _ in t.named_modules()]
    seen_t, seen_s = [], []
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert s.apply(lambda m: seen_s.append(type(m).__name__)) is s and seen_s == seen_t
    assert s.requires_grad_(False) is s and not any(p.requires_grad for p in s.parameters())
    s.requires_grad_(True)
    s(sj.ones(3, 4)).sum().backward()
    assert all(p.grad is not None for p in s.parameters())
    s.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in s.parameters())
    s.zero_grad()  # set_to_none=True is the default, as torch ≥ 2.0
    assert all(p.grad is None for p in s.parameters())


def test_forward_and_full_backward_hooks_match_torch(rng):
    t, s = pair()
    x = rng.normal(size=(3, 4)).astype(np.float32)
    got = {}
    for net, key, lib in ((t, "t", torch), (s, "s", sj)):
        layer = net[2]
        layer.register_forward_hook(lambda m, inp, out, key=key: got.__setitem__(key + "fwd", out.detach().numpy().copy()))
        layer.register_full_backward_hook(
            lambda m, gi, go, key=key: got.__setitem__(key + "bwd", (gi[0].numpy().copy(), go[0].numpy().copy())))
        xin = lib.tensor(x, requires_grad=True)
        (net(xin) ** 2).sum().backward()
        got[key + "x"] = xin.grad.numpy().copy()
    np.testing.assert_allclose(got["sfwd"], got["tfwd"], rtol=1e-5, atol=1e-6)
    for a, b in zip(got["sbwd"], got["tbwd"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["sx"], got["tx"], rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_backward_hook_can_replace_grad_input_and_sees_none_without_input_grad():
    t, s = pair()
    for net, lib in ((t, torch), (s, sj)):
        calls = []
        h = net[0].register_full_backward_hook(lambda m, gi, go, calls=calls: calls.append(gi) or (gi[0] * 0,))
        x = lib.ones(2, 4, requires_grad=True)
        net(x).sum().backward()
        assert not x.grad.numpy().any() and len(calls) == 1
        h.remove()
        calls.clear()
        net[0].register_full_backward_hook(lambda m, gi, go, calls=calls: calls.append(gi))
        net(lib.ones(2, 4)).sum().backward()  # the input needs no gradient: grad_input is (None,)
        assert calls == [(None,)]


def test_optimizer_takes_a_parameters_generator():
    t, s = pair()
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    ot = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    os_ = sj.optim.SGD(s.parameters(), lr=0.1, momentum=0.9)  # a generator, read once and kept
    for _ in range(3):
        for net, opt, lib in ((t, ot, torch), (s, os_, sj)):
            opt.zero_grad()
            (net(lib.tensor(x)) ** 2).mean().backward()
            opt.step()
    for (k, a), b in zip(t.state_dict().items(), s.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_grad_modes_and_seed():
    sj.manual_seed(3)
    a = sj.randn(4)
    sj.manual_seed(3)
    assert sj.randn(4).tolist() == a.tolist()
    sj.cuda.manual_seed(3)  # nothing to seed without a GPU; accepted as torch does

    @sj.no_grad
    def f(x):
        return x * 2

    @sj.inference_mode()
    def g(x):
        return x * 2

    w = sj.ones(2, requires_grad=True)
    assert not f(w).requires_grad and not g(w).requires_grad
    with sj.inference_mode():
        assert not (w * 2).requires_grad
    with sj.inference_mode(False):
        assert (w * 2).requires_grad
    assert sj.inference_mode(lambda x: x * 3)(w).requires_grad is False


def test_item_tolist_numpy_rules_as_torch():
    for lib in (torch, sj):
        w = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
            w.numpy()
        assert w.detach().numpy().tolist() == [1.0, 1.0] and w.tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError):
            w.item()  # more than one element
        assert w.sum().item() == 2.0 and isinstance(lib.tensor([3]).item(), int)


def test_fashion_mnist_as_torchvision_gives_chw_batches(tmp_path, monkeypatch):
    from shenjing.data import datasets as D
    from shenjing.utils.data import DataLoader, Subset
    from shenjing.vision import datasets, transforms

    if D.find_files("fashion-mnist", "test") is None:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="installed copy"):
        test_data = datasets.FashionMNIST(root="data", train=False, download=True, transform=transforms.ToTensor())
    assert not (tmp_path / "data").exists()  # found installed: nothing downloaded
    x, y = test_data[0]
    assert x.shape == (1, 28, 28) and x.dtype == sj.float32 and isinstance(y, int) and 0 <= float(x.min()) <= float(x.max()) <= 1
    fast = next(iter(DataLoader(test_data, batch_size=8)))  # whole-batch transform path
    slow = next(iter(DataLoader(Subset(test_data, range(8)), batch_size=8)))  # per-sample path
    assert fast[0].shape == slow[0].shape == (8, 1, 28, 28)
    np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())
    assert fast[1].tolist() == slow[1].tolist()


def test_creation_functions_take_device_cpu_and_refuse_a_gpu():
    for make in (lambda d: sj.zeros(2, device=d), lambda d: sj.rand(1, 28, 28, device=d), lambda d: sj.tensor([1.0], device=d),
                 lambda d: sj.arange(3, device=d), lambda d: sj.randint(0, 5, (2,), device=d), lambda d: sj.eye(2, device=d)):
        assert make("cpu").device == "cpu" and make(sj.device("cpu")) is not None
        with pytest.raises(RuntimeError, match=r"\(device=\.\.\.\): device 'cuda' is not available.*no GPU backend"):
            make("cuda")
