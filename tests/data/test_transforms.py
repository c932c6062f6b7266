"""Transforms: scaling fitted on the training set, one-hot, seeded random crop and flip."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import shenjing as sj
from shenjing.data import (
    Compose,
    Flatten,
    Lambda,
    MinMaxScale,
    Normalize,
    OneHot,
    RandomCrop,
    RandomHorizontalFlip,
    Standardize,
    ToTensor,
    one_hot,
)


def test_to_tensor_scales_uint8_and_gives_chw():
    """torchvision's ToTensor: HW → 1HW, HWC → CHW, uint8 → float in [0, 1], other dtypes keep values."""
    img = np.array([[0, 128, 255]], dtype=np.uint8)
    t = ToTensor()(img)
    assert isinstance(t, sj.Tensor) and t.dtype == sj.float32 and t.shape == (1, 1, 3)
    np.testing.assert_allclose(t.numpy(), [[[0, 128 / 255, 1]]], rtol=1e-6)
    assert ToTensor()(np.zeros((28, 28), np.uint8)).shape == (1, 28, 28)
    assert ToTensor().apply_batch(np.zeros((5, 28, 28), np.uint8)).shape == (5, 1, 28, 28)
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)  # H=2, W=3, C=3
    chw = ToTensor()(rgb).numpy()
    assert chw.shape == (3, 2, 3)
    np.testing.assert_allclose(chw[1], rgb[:, :, 1] / 255, rtol=1e-6)
    np.testing.assert_allclose(ToTensor().apply_batch(np.stack([rgb, rgb])).numpy()[1], chw)
    assert ToTensor(dtype=sj.float64)(sj.tensor([[1, 2]], dtype=sj.uint8)).dtype == sj.float64
    f = ToTensor()(np.array([[0.5, 2.0]]))  # not uint8: values and dtype kept (torchvision: no division)
    assert f.dtype == sj.float64 and f.tolist() == [[[0.5, 2.0]]]
    with pytest.raises(ValueError, match=r"ToTensor.*\(H, W\) or \(H, W, C\).*\(4,\)"):
        ToTensor()(np.zeros(4, np.uint8))


def test_standardize_fit_on_train_apply_to_test(rng):
    train = rng.normal([5.0, -3.0, 100.0], [2.0, 0.1, 30.0], (500, 3)).astype(np.float32)
    test = rng.normal([5.0, -3.0, 100.0], [2.0, 0.1, 30.0], (100, 3)).astype(np.float32)
    s = Standardize().fit(train)
    z = s(train).numpy()
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-5)
    zt = s(test).numpy()
    ref = (test - train.mean(0, dtype=np.float64)) / train.std(0, dtype=np.float64)  # float64: float32 sums are off by ~1e-6
    np.testing.assert_allclose(zt, ref, rtol=1e-4, atol=1e-5)  # train statistics
    assert s(test).dtype == sj.float32
    np.testing.assert_allclose(s.inverse(s(test)).numpy(), test, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(s(test[0]).numpy(), zt[0], rtol=1e-6)  # one sample as well as a batch
    s2 = Standardize.from_state_dict(json.loads(json.dumps(s.state_dict())))
    np.testing.assert_allclose(s2(test).numpy(), zt)


def test_standardize_constant_feature_and_axes(rng):
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(Standardize().fit(x)(x).numpy(), [[-1, 0], [1, 0]])
    imgs = rng.random((10, 3, 4, 4))
    s = Standardize(axis=(0, 2, 3)).fit(imgs)
    assert s.mean.shape == (3, 1, 1)
    z = s(imgs).numpy()
    np.testing.assert_allclose(z.mean((0, 2, 3)), 0, atol=1e-12)
    g = Standardize(axis=None).fit(imgs)
    assert g.mean.shape == ()
    with pytest.raises(RuntimeError, match="fit"):
        Standardize()(x)
    with pytest.raises(ValueError, match="axis"):
        Standardize(axis=1).fit(x)


def test_normalize_per_channel_like_torchvision(rng):
    x = rng.random((2, 3, 5, 5)).astype(np.float32)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    ref = (torch.from_numpy(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    n = Normalize(mean, std)
    np.testing.assert_allclose(n.apply_batch(x).numpy(), ref.numpy(), rtol=1e-6)
    np.testing.assert_allclose(n(x[0]).numpy(), ref[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(Normalize(0.5, 0.5)(x).numpy(), (x - 0.5) / 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="zero"):
        Normalize([0.0], [0.0])
    u8 = (x * 255).astype(np.uint8)
    fitted = Normalize.fit(u8)
    assert abs(fitted.mean - u8.mean() / 255) < 1e-9
    per_c = Normalize.fit(x, channel_dim=1)
    np.testing.assert_allclose(per_c.mean, x.mean((0, 2, 3), dtype=np.float64))  # float32 x: the mean in float64
    assert per_c.channel_dim == -3


def test_minmax_scale():
    x = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0]])
    s = MinMaxScale().fit(x)
    np.testing.assert_allclose(s(x).numpy(), [[0, 0], [0.5, 0.5], [1, 1]])
    np.testing.assert_allclose(MinMaxScale(-1, 1).fit(x)(np.array([[20.0, 10.0]])).numpy(), [[3, -1]])


def test_one_hot_like_torch():
    y = np.array([[0, 2], [1, 3]])
    ours = one_hot(y, 5)
    ref = F.one_hot(torch.from_numpy(y), 5)
    assert ours.dtype == sj.int64
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    np.testing.assert_array_equal(one_hot(sj.tensor([0, 3])).numpy(), F.one_hot(torch.tensor([0, 3])).numpy())
    t = OneHot(4)
    assert t(2).dtype == sj.float32 and t(2).numpy().tolist() == [0, 0, 1, 0]
    assert t.apply_batch(np.array([1, 0])).shape == (2, 4)
    with pytest.raises(ValueError, match="class values"):
        one_hot(np.array([5]), 3)
    with pytest.raises(TypeError):
        one_hot(np.array([1.0]))


def _is_window(out, padded):
    th, tw = out.shape[-2:]
    H, W = padded.shape[-2:]
    return any(np.array_equal(out, padded[..., i:i + th, j:j + tw]) for i in range(H - th + 1) for j in range(W - tw + 1))


def test_random_crop_single_and_batch(rng):
    img = rng.integers(1, 255, (3, 8, 8)).astype(np.float32)  # no zeros: padding is visible
    crop = RandomCrop(8, padding=2, generator=sj.Generator().manual_seed(0))
    padded = np.pad(img, [(0, 0), (2, 2), (2, 2)])
    outs = [crop(img).numpy() for _ in range(20)]
    assert all(o.shape == (3, 8, 8) and _is_window(o, padded) for o in outs)
    assert len({o.tobytes() for o in outs}) > 1
    batch = rng.integers(1, 255, (16, 3, 8, 8)).astype(np.float32)
    out = RandomCrop(6, padding=1, generator=sj.Generator().manual_seed(1)).apply_batch(batch).numpy()
    assert out.shape == (16, 3, 6, 6)
    pb = np.pad(batch, [(0, 0), (0, 0), (1, 1), (1, 1)])
    assert all(_is_window(out[k], pb[k]) for k in range(16))
    offsets = {next((i, j) for i in range(5) for j in range(5) if np.array_equal(out[k], pb[k, :, i:i + 6, j:j + 6])) for k in range(16)}
    assert len(offsets) > 1  # each sample its own offset
    gray = RandomCrop(5, generator=sj.Generator().manual_seed(2)).apply_batch(batch[:, 0]).numpy()
    assert gray.shape == (16, 5, 5) and all(_is_window(gray[k], batch[k, 0]) for k in range(16))


def test_random_crop_seeded_and_modes(rng):
    batch = rng.random((8, 10, 10))
    a = RandomCrop(8, padding=2, generator=sj.Generator().manual_seed(5)).apply_batch(batch).numpy()
    b = RandomCrop(8, padding=2, generator=sj.Generator().manual_seed(5)).apply_batch(batch).numpy()
    np.testing.assert_array_equal(a, b)
    sj.manual_seed(3)
    c = RandomCrop(8, padding=2).apply_batch(batch).numpy()
    sj.manual_seed(3)
    np.testing.assert_array_equal(c, RandomCrop(8, padding=2).apply_batch(batch).numpy())
    for mode in ("edge", "reflect", "symmetric"):
        out = RandomCrop(10, padding=3, padding_mode=mode, generator=sj.Generator()).apply_batch(batch).numpy()
        padded = np.pad(batch, [(0, 0), (3, 3), (3, 3)], mode=mode)
        assert all(_is_window(out[k], padded[k]) for k in range(8))
    assert RandomCrop((4, 6), padding=(1, 2, 3, 4))(np.zeros((5, 5))).shape == (4, 6)
    assert RandomCrop(12, pad_if_needed=True)(np.ones((10, 10))).shape == (12, 12)
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(12)(np.zeros((10, 10)))


def test_random_horizontal_flip():
    img = np.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(img).numpy(), img[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(img).numpy(), img)
    batch = np.repeat(img[None], 400, 0)
    out = RandomHorizontalFlip(generator=sj.Generator().manual_seed(0)).apply_batch(batch).numpy()
    flipped = np.array([np.array_equal(o, img[..., ::-1]) for o in out])
    kept = np.array([np.array_equal(o, img) for o in out])
    assert (flipped | kept).all() and 150 < flipped.sum() < 250
    again = RandomHorizontalFlip(generator=sj.Generator().manual_seed(0)).apply_batch(batch).numpy()
    np.testing.assert_array_equal(out, again)
    np.testing.assert_array_equal(batch[0], img)  # input untouched


def test_compose_flatten_lambda():
    t = Compose([ToTensor(), RandomHorizontalFlip(p=1.0), Flatten()])
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_allclose(t(img).numpy(), img[:, ::-1].reshape(-1) / 255, rtol=1e-6)
    assert t.apply_batch(np.zeros((4, 2, 3), np.uint8)).shape == (4, 6)
    lam = Compose([Lambda(lambda x: sj.tensor(np.asarray(x)) * 2)])
    assert lam.apply_batch(np.ones((3, 2))).numpy().tolist() == [[2, 2]] * 3
    assert Lambda(lambda x: x + 1, batched=True).apply_batch(sj.zeros(2, 2)).numpy().tolist() == [[1, 1], [1, 1]]
    assert "Compose" in repr(t) and "RandomHorizontalFlip" in repr(t)
