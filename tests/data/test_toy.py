"""Toy generators: shapes, dtypes, label balance, the formulas they follow, determinism under a seed."""

import math

import numpy as np
import pytest
import torch

import shenjing as sj
from shenjing.data import toy

CLASSIFIERS = [
    (toy.xor, {}, 2),
    (toy.two_moons, {}, 2),
    (toy.circles, {}, 2),
    (toy.spirals, {}, 2),
    (toy.spirals, {"n_classes": 3}, 3),
    (toy.blobs, {}, 3),
    (toy.blobs, {"centers": 5, "n_features": 4}, 5),
]
ALL = CLASSIFIERS + [
    (toy.sine, {"noise": 0.1}, None), (toy.multi_sine, {"noise": 0.1}, None), (toy.steps, {"noise": 0.1}, None), (toy.gabor_data, {}, None),
    (toy.linear, {}, None), (toy.housing, {}, None), (toy.segmentation, {"n_samples": 8}, None),
    (toy.copy_task, {}, None), (toy.reverse_task, {}, None), (toy.sort_task, {}, None), (toy.addition_task, {}, None),
]


@pytest.mark.parametrize("fn,kw,k", CLASSIFIERS)
@pytest.mark.parametrize("n", [101, 300])
def test_classification_shapes_and_balance(fn, kw, k, n):
    X, y = fn(n_samples=n, seed=0, **kw)
    assert isinstance(X, sj.Tensor) and X.dtype == sj.float32 and X.shape[0] == n and X.ndim == 2
    assert y.dtype == sj.int64 and y.shape == (n,)
    counts = np.bincount(y.numpy(), minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    assert np.isfinite(X.numpy()).all()


@pytest.mark.parametrize("fn,kw,k", ALL)
def test_seeded_determinism(fn, kw, k):
    a = fn(seed=3, **kw)
    b = fn(seed=3, **kw)
    c = fn(generator=sj.Generator().manual_seed(3), **kw)
    d = fn(seed=4, **kw)
    for u, v, w in zip(a, b, c):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
        np.testing.assert_array_equal(u.numpy(), w.numpy())
    assert any(not np.array_equal(u.numpy(), v.numpy()) for u, v in zip(a, d))
    sj.manual_seed(11)
    e = fn(**kw)
    sj.manual_seed(11)
    f = fn(**kw)
    for u, v in zip(e, f):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    with pytest.raises(ValueError):
        fn(seed=1, generator=sj.Generator(), **kw)


def test_truth_tables():
    X, y = toy.truth_table("xor")
    assert X.numpy().tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.numpy().tolist() == [0, 1, 1, 0]
    assert toy.truth_table("and")[1].numpy().tolist() == [0, 0, 0, 1]
    assert toy.truth_table("or")[1].numpy().tolist() == [0, 1, 1, 1]
    assert toy.truth_table("nand")[1].numpy().tolist() == [1, 1, 1, 0]
    X3, y3 = toy.truth_table("xor", 3)
    assert X3.shape == (8, 3) and (y3.numpy() == X3.numpy().sum(1) % 2).all()
    with pytest.raises(ValueError):
        toy.truth_table("implies")


def test_xor_clouds_sit_on_corners():
    X, y = toy.xor(400, noise=0.05, seed=0)
    corners = np.round(X.numpy()).astype(int)
    assert ((corners[:, 0] ^ corners[:, 1]) == y.numpy()).all()


def test_moons_and_circles_geometry():
    X, y = toy.two_moons(200, noise=0.0, seed=0)
    X, y = X.numpy(), y.numpy()
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1, atol=1e-6)
    X, y = toy.circles(200, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*X.numpy().T)
    np.testing.assert_allclose(r[y.numpy() == 0], 1, atol=1e-6)
    np.testing.assert_allclose(r[y.numpy() == 1], 0.3, atol=1e-6)


def test_blobs_centres_and_spread():
    X, y, C = toy.blobs(3000, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=[0.5, 1.0, 2.0], seed=0, return_centers=True)
    X, y = X.numpy(), y.numpy()
    for k, s in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(X[y == k].mean(0), C.numpy()[k], atol=0.2)
        assert (abs(X[y == k].std(0) - s) < 0.1 * s).all()


def test_spirals_radius_grows_per_arm():
    X, y = toy.spirals(300, noise=0.0, shuffle=False, seed=0)
    r = np.hypot(*X.numpy().T)
    assert (np.diff(r[y.numpy() == 0]) > 0).all() and r.max() <= 1.0 + 1e-6


def test_one_d_functions():
    x, y = toy.sine(50, noise=0.0, seed=0)
    assert x.shape == y.shape == (50, 1)
    np.testing.assert_allclose(y.numpy(), np.sin(x.numpy()), atol=1e-6)
    x, y = toy.multi_sine(64, freqs=(1.0, 4.0), noise=0.0, seed=0)
    np.testing.assert_allclose(y.numpy(), np.sin(x.numpy()) + np.sin(4 * x.numpy()) / 4, atol=1e-6)
    x, y = toy.steps(100, thresholds=(-0.5, 0.5), values=(0.0, 1.0, -1.0), noise=0.0, seed=0)
    xs, ys = x.numpy().ravel(), y.numpy().ravel()
    assert (ys[xs < -0.5] == 0).all() and (ys[(xs >= -0.5) & (xs < 0.5)] == 1).all() and (ys[xs >= 0.5] == -1).all()
    x, y = toy.sine(30, random_x=True, noise=0.1, seed=0)
    assert (np.diff(x.numpy().ravel()) >= 0).all()


def test_gabor_matches_fang_formula_and_autograd():
    x, y = toy.gabor_data(200, phi=(1.0, 10.0), noise=0.0, seed=0)
    xs = x.numpy().astype(np.float64)
    z = 1.0 + 0.06 * 10.0 * xs
    np.testing.assert_allclose(y.numpy(), np.sin(z) * np.exp(-z**2 / 32), atol=1e-6)
    assert xs.min() >= -15 and xs.max() <= 15
    # differentiable in phi, like the same expression in torch
    phi = sj.tensor([0.5, 12.0], requires_grad=True)
    out = toy.gabor(x, phi[0], phi[1])
    ((out - y) ** 2).sum().backward()
    tphi = torch.tensor([0.5, 12.0], requires_grad=True)
    tx = torch.from_numpy(x.numpy())
    tz = tphi[0] + 0.06 * tphi[1] * tx
    ((torch.sin(tz) * torch.exp(-tz * tz / 32) - torch.from_numpy(y.numpy())) ** 2).sum().backward()
    np.testing.assert_allclose(phi.grad.numpy(), tphi.grad.numpy(), rtol=1e-4)


def test_linear_ols_recovers_coefficients():
    X, y, w, b = toy.linear(2000, n_features=3, weights=[2.0, -1.0, 0.5], bias=3.0, noise=0.1, seed=0, return_coef=True)
    Z = np.hstack([np.ones((2000, 1)), X.numpy()])
    coef = np.linalg.lstsq(Z, y.numpy().ravel(), rcond=None)[0]
    np.testing.assert_allclose(coef, [3.0, 2.0, -1.0, 0.5], atol=0.02)
    assert w.numpy().tolist() == [2.0, -1.0, 0.5] and b == 3.0


def test_housing_follows_the_zhao_network():
    X, y, h = toy.housing(1000, noise=0.0, seed=0, return_hidden=True)
    assert X.shape == (1000, 4) and y.shape == (1000, 1) and h.shape == (1000, 3)
    size, bed, zipc, wealth = X.numpy().T.astype(np.float64)
    assert toy.HOUSING_FEATURES == ("size", "bedrooms", "zip_code", "wealth")
    assert set(np.unique(zipc)) <= set(range(10)) and 1 <= bed.min() and bed.max() <= 6
    assert np.corrcoef(size, bed)[0, 1] > 0.5
    a = h.numpy().astype(np.float64)
    assert (a >= 0).all() and (a == 0).any(axis=0)[1:].all()  # the ReLUs of a2, a3 do cut off
    np.testing.assert_allclose(y.numpy().ravel(), 60 * a[:, 0] + 25 * a[:, 1] + 40 * a[:, 2] + 50, rtol=1e-5)
    assert np.corrcoef(size, y.numpy().ravel())[0, 1] > 0.3


@pytest.mark.parametrize("n_classes", [2, 3])
def test_segmentation_masks_match_images(n_classes):
    imgs, masks = toy.segmentation(32, size=24, n_classes=n_classes, noise=0.0, seed=0)
    assert imgs.shape == (32, 1, 24, 24) and imgs.dtype == sj.float32
    assert masks.shape == (32, 24, 24) and masks.dtype == sj.int64
    im, m = imgs.numpy()[:, 0], masks.numpy()
    assert set(np.unique(m)) == set(range(n_classes))
    assert ((im > 0) == (m > 0)).all()  # without noise, shape pixels are exactly the bright ones
    assert (m > 0).any(axis=(1, 2)).all() and (m == 0).any(axis=(1, 2)).all()


def test_sequence_tasks():
    x, t = toy.copy_task(50, 6, 7, seed=0)
    assert x.shape == t.shape == (50, 6) and x.dtype == t.dtype == sj.int64
    assert (x.numpy() == t.numpy()).all() and x.numpy().max() < 7
    x, t = toy.reverse_task(50, 6, seed=0)
    np.testing.assert_array_equal(t.numpy(), x.numpy()[:, ::-1])
    x, t = toy.sort_task(50, 6, seed=0)
    np.testing.assert_array_equal(t.numpy(), np.sort(x.numpy(), 1))
    np.testing.assert_array_equal(toy.sequence_task("sort", 50, 6, seed=0)[1].numpy(), t.numpy())
    with pytest.raises(ValueError):
        toy.sequence_task("rotate")


@pytest.mark.parametrize("reverse_digits", [False, True])
def test_addition_task_decodes(reverse_digits):
    x, t = toy.addition_task(200, n_digits=3, reverse_digits=reverse_digits, seed=0)
    x, t = x.numpy(), t.numpy()
    assert x.shape == (200, 7) and t.shape == (200, 4) and (x[:, 3] == toy.PLUS).all()

    def value(d):
        d = d[:, ::-1] if reverse_digits else d
        return (d * 10 ** np.arange(d.shape[1] - 1, -1, -1)).sum(1)

    assert (value(x[:, :3]) + value(x[:, 4:]) == value(t)).all()
    assert x[:, [0, 1, 2, 4, 5, 6]].max() <= 9 and (value(t) >= 1000).any()


def test_default_float_dtype_is_respected():
    sj.set_default_dtype(sj.float64)
    try:
        assert toy.two_moons(10, seed=0)[0].dtype == sj.float64
    finally:
        sj.set_default_dtype(sj.float32)
    assert math.isclose(float(toy.truth_table("and")[0].numpy().sum()), 4.0)
