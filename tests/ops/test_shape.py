"""Shape ops against PyTorch in float64: views, concatenation, tiling, triangles, padding."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_compare import check, rand

import shenjing as sj


def _pad(m, *args, **kw):
    return (F.pad if m is torch else sj.pad)(*args, **kw)


VIEWS = {
    "reshape": lambda m, x: x.reshape(4, 6),
    "reshape_neg": lambda m, x: x.reshape(-1, 3),
    "reshape_tuple": lambda m, x: m.reshape(x, (2, -1)),
    "view": lambda m, x: x.view(6, 4),
    "view_tuple": lambda m, x: x.view((24,)),
    "flatten": lambda m, x: x.flatten(),
    "flatten_range": lambda m, x: m.flatten(x, 1),
    "flatten_mid": lambda m, x: x.flatten(0, 1),
    "flatten_neg": lambda m, x: x.flatten(-2, -1),
    "unflatten": lambda m, x: x.unflatten(2, (2, 2)),
    "unflatten_neg": lambda m, x: m.unflatten(x, -1, (2, -1)),
    "transpose": lambda m, x: x.transpose(0, 2),
    "transpose_neg": lambda m, x: m.transpose(x, -1, -2),
    "swapaxes": lambda m, x: x.swapaxes(0, 1),
    "swapdims": lambda m, x: m.swapdims(x, 1, 2),
    "permute": lambda m, x: x.permute(2, 0, 1),
    "permute_tuple": lambda m, x: m.permute(x, (1, -1, 0)),
    "movedim": lambda m, x: m.movedim(x, 0, -1),
    "squeeze_none": lambda m, x: x.unsqueeze(1).unsqueeze(-1).squeeze(),
    "squeeze_dim": lambda m, x: x.unsqueeze(1).squeeze(1),
    "squeeze_nonsingleton": lambda m, x: x.squeeze(0),
    "squeeze_tuple": lambda m, x: x.unsqueeze(0).unsqueeze(-1).squeeze((0, -1)),
    "unsqueeze": lambda m, x: (x.unsqueeze(0), x.unsqueeze(-1), m.unsqueeze(x, 2), x.unsqueeze(-2)),
    "expand": lambda m, x: x.unsqueeze(1).expand(2, 5, 3, 4),
    "expand_neg": lambda m, x: x[:, :1].expand(-1, 3, -1),
    "T": lambda m, x: x.reshape(6, 4).T,
    "mT": lambda m, x: x.mT,
    "t": lambda m, x: x.reshape(4, 6).t(),
    "flip": lambda m, x: x.flip(0),
    "flip_multi": lambda m, x: m.flip(x, (0, -1)),
    "roll": lambda m, x: x.roll(1, 0),
    "roll_neg": lambda m, x: m.roll(x, -2, -1),
    "roll_multi": lambda m, x: x.roll((1, -1), (0, 2)),
    "roll_flat": lambda m, x: x.roll(5),
    "repeat": lambda m, x: x.repeat(2, 1, 3),
    "repeat_more": lambda m, x: x.repeat(2, 1, 1, 2),
    "tile": lambda m, x: x.tile((2,)),
    "tile_more": lambda m, x: m.tile(x, (2, 1, 1, 3)),
    "tril": lambda m, x: x.tril(),
    "tril_k": lambda m, x: m.tril(x, 1),
    "triu": lambda m, x: x.triu(),
    "triu_k": lambda m, x: m.triu(x, -1),
    "narrow": lambda m, x: x.narrow(1, 1, 2),
    "select": lambda m, x: x.select(-1, 2),
    "unbind": lambda m, x: x.unbind(1),
    "clone_contiguous": lambda m, x: (x.clone(), x.contiguous(), x.transpose(0, 1).contiguous()),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("view", [None, "T", "stride"])
def test_views(name, view, rng):
    if name.startswith("view") and view is not None:  # not viewable: both refuse, reshape copies
        for m in (sj, torch):
            with pytest.raises(RuntimeError):
                VIEWS[name](m, m.tensor(rand(rng, 4, 3, 2)).permute(2, 1, 0))
        return
    check(VIEWS[name], rand(rng, 2, 3, 4), view=view)


def test_view_dtype_and_viewable_noncontiguous(rng):
    check(lambda m, x: (x.view(m.int64), x.T.view(4, 3)), rand(rng, 3, 4), grad=False)
    check(lambda m, x: (x[:, 1:].view(3, 1, 3), x[1:].view(-1)), rand(rng, 3, 4))


def test_reshape_empty_and_0d(rng):
    check(lambda m, x: (x.reshape(3, 0), x.reshape(-1, 2), x.flatten(), x.unsqueeze(0), x.transpose(0, 2)), np.zeros((2, 0, 3)))
    z = np.asarray(rand(rng))
    check(lambda m, x: (x.reshape(1, 1), x.flatten(), x.unsqueeze(0), x.reshape(-1), x.squeeze(), x.view(())), z)


def test_squeeze_noop_and_size_one(rng):
    check(lambda m, x: (x.squeeze(), x.squeeze(0), x.squeeze(1), x.squeeze(-1), x.flatten(1)), rand(rng, 1, 3, 1))


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_cat_stack(dim, rng):
    a, b, c = rand(rng, 2, 3, 4), rand(rng, 2, 3, 4), rand(rng, 2, 3, 4)
    check(lambda m, x, y, z: (m.cat([x, y, z], dim), m.stack((x, y), dim), m.concat([x, z], dim=dim)), a, b, c)
    check(lambda m, x, y: m.stack([x, y], dim=dim - 1 if dim < 0 else dim), a, b, view="T")


def test_cat_sizes_and_empty(rng):
    a, b, e = rand(rng, 2, 3), rand(rng, 5, 3), np.zeros((0, 3))
    check(lambda m, x, y, z: (m.cat([x, y], 0), m.cat([x, z, y]), m.cat([z, z])), a, b, e)
    check(lambda m, x, y: m.cat([x, y], 1), rand(rng, 3, 1), rand(rng, 3, 4))
    check(lambda m, x, y: m.cat([x, y]), rand(rng, 3, 2), np.zeros((0,)))
    check(lambda m, x, y: (m.hstack([x, y]), m.vstack([x, y])), rand(rng, 3, 2), rand(rng, 3, 2))


def test_cat_mixed_dtypes(rng):
    check(lambda m, x, y: m.cat([x, y]), rand(rng, 2), np.array([1, 2]))
    check(lambda m, x, y: m.cat([x, y]), np.array([1, 2], dtype=np.int32), np.array([1, 2]), grad=False)


@pytest.mark.parametrize("size", [1, 2, 3, 5, [1, 4], (2, 2, 1)])
@pytest.mark.parametrize("dim", [0, -1])
def test_split(size, dim, rng):
    x = rand(rng, 5, 5)
    check(lambda m, x: m.split(x, size, dim), x)
    check(lambda m, x: x.split(size, dim=dim), x, view="T")


@pytest.mark.parametrize("chunks", [1, 2, 3, 4, 6, 7])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_chunk(chunks, dim, rng):
    check(lambda m, x: x.chunk(chunks, dim), rand(rng, 6, 5))
    check(lambda m, x: m.chunk(x, chunks, dim=dim), rand(rng, 4, 5))


def test_split_unused_pieces_and_empty(rng):
    check(lambda m, x: x.split(2)[1], rand(rng, 5, 2))
    check(lambda m, x: x.chunk(3)[-1] * 2, rand(rng, 6, 2))
    check(lambda m, x: m.split(x, 2, 1), np.zeros((2, 0)))


def test_tril_triu_batched_and_rectangular(rng):
    for k in (-2, 0, 2):
        check(lambda m, x, k=k: (x.tril(k), x.triu(k)), rand(rng, 2, 3, 5))
        check(lambda m, x, k=k: (m.tril(x, k), m.triu(x, diagonal=k)), rand(rng, 5, 3), view="T")


PAD_CASES = [
    ((1, 2), (2, 3, 5)),
    ((2, 1, 1, 2), (2, 3, 4, 5)),
    ((1, 1, 2, 0, 1, 1), (1, 2, 4, 5, 3)),
    ((0, 0, 3, 3), (1, 2, 4, 5)),
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad,shape", PAD_CASES, ids=str)
def test_pad_modes(mode, pad, shape, rng):
    check(lambda m, x: _pad(m, x, pad, mode=mode), rand(rng, *shape))


def test_pad_constant_value_negative_and_any_rank(rng):
    x = rand(rng, 3, 4)
    check(lambda m, x: (_pad(m, x, (1, 2), value=-1.5), _pad(m, x, (1, 1, 2, 0), "constant", 3.0), _pad(m, x, (-1, 2)),
                        _pad(m, x, (0, 0, -1, -1))), x)
    check(lambda m, x: _pad(m, x, (2, 1)), rand(rng, 5))
    check(lambda m, x: _pad(m, x, (1, 1, 1, 1), mode="reflect"), rand(rng, 2, 3, 4), view="T")
    check(lambda m, x: _pad(m, x, (2, 2), mode="circular"), rand(rng, 2, 3, 4), view="stride")


def test_pad_reflect_too_large_raises(rng):
    with pytest.raises((ValueError, RuntimeError)):
        sj.pad(sj.tensor(rand(rng, 1, 2, 3)), (3, 3), mode="reflect")


def test_repeat_tile_flip_roll_empty(rng):
    x = np.zeros((2, 0))
    check(lambda m, x: (x.repeat(2, 3), x.tile((2,)), x.flip(1), x.roll(1, 0), x.tril()), x)


def test_meshgrid(rng):
    a, b = rand(rng, 3), rand(rng, 4)
    check(lambda m, x, y: m.meshgrid(x, y, indexing="ij"), a, b)
    check(lambda m, x, y: m.meshgrid(x, y, indexing="xy"), a, b)


def test_view_shares_memory_and_version():
    x = sj.zeros(2, 3)
    v = x.view(3, 2)
    v[0, 0] = 5.0
    assert x[0, 0].item() == 5.0
    t = x.T
    t[1, 0] = 7.0
    assert x[0, 1].item() == 7.0


def test_shape_errors(rng):
    x = sj.tensor(rand(rng, 2, 3))
    with pytest.raises((ValueError, RuntimeError)):
        x.reshape(4, 2)
    with pytest.raises((ValueError, RuntimeError)):
        x.reshape(-1, -1)
    with pytest.raises((ValueError, RuntimeError)):
        x.permute(0, 0)
    with pytest.raises((ValueError, RuntimeError)):
        x.expand(3, 3)
    with pytest.raises((ValueError, RuntimeError)):
        sj.stack([x, x.T])
    with pytest.raises((ValueError, RuntimeError)):
        x.split([1, 1], 1)
    with pytest.raises(IndexError):
        x.transpose(0, 2)


def test_keyword_forms(rng):
    x = rand(rng, 2, 3)
    check(lambda m, x: (x.reshape(shape=(3, 2)), m.reshape(x, shape=(6,)), x.permute(dims=(1, 0)), m.permute(x, dims=(1, 0)),
                        x.split(split_size=2, dim=1), m.split(x, split_size_or_sections=[1, 2], dim=1), x.transpose(dim0=0, dim1=1),
                        x.flatten(start_dim=0, end_dim=-1), x.unsqueeze(dim=1), x.squeeze(dim=0), x.chunk(chunks=2, dim=1),
                        m.cat(tensors=[x, x], dim=1), m.stack(tensors=[x, x], dim=2), x.roll(shifts=1, dims=1), x.flip(dims=[0])), x)


def test_results_that_are_not_views_own_their_memory(rng):
    """flip and einsum copy (as PyTorch's flip): writing to the result leaves the input alone."""
    for f in (lambda x: x.flip(0), lambda x: sj.einsum("ij->ji", x), lambda x: sj.einsum("ii->i", x), lambda x: x.roll(1, 0)):
        x = sj.tensor(rand(rng, 3, 3))
        before = x.numpy().copy()
        y = f(x)
        y.mul_(2)
        y[0] = 5.0
        np.testing.assert_array_equal(x.numpy(), before)
