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


# ---------------------------------------------------------------- diagonals, windows, splits, arranging (issue 13)

DIAGONALS = {
    "diagonal": lambda m, x: (x.diagonal(), m.diagonal(x, 1), x.diagonal(-1), x.diagonal(offset=2, dim1=1, dim2=0)),
    "diagonal_batched": lambda m, x: (m.diagonal(x.reshape(2, 2, 3), 0, -2, -1), x.reshape(2, 2, 3).diagonal(1, 0, 2)),
    "diagonal_past_the_end": lambda m, x: (x.diagonal(7), x.diagonal(-5)),
    "diag_of_matrix": lambda m, x: (m.diag(x), x.diag(1), m.diag(x, -2)),
    "diag_of_vector": lambda m, x: (m.diag(x[0]), x[1].diag(2), m.diag(x[2], -1)),
    "diag_embed": lambda m, x: (m.diag_embed(x), x.diag_embed(1), m.diag_embed(x, -1, 0, 2), x.diag_embed(0, -1, 0)),
    "trace": lambda m, x: (m.trace(x), x[:, :3].trace()),
    "unfold": lambda m, x: (x.unfold(1, 2, 1), x.unfold(0, 2, 2), x.unfold(-1, 4, 3), x.unfold(1, 0, 1)),
}


@pytest.mark.parametrize("name", sorted(DIAGONALS))
@pytest.mark.parametrize("view", [None, "T", "stride"])
def test_diagonals_and_windows(name, view, rng):
    check(DIAGONALS[name], rand(rng, 3, 4), view=view)


def test_diagonal_and_unfold_are_writable_views(rng):
    """Writing through the view writes the input, and the gradient follows (as in PyTorch)."""
    def fill(m, x):
        y = x * 1
        y.diagonal().fill_(0.5)
        w = y.unfold(1, 2, 2)
        w.mul_(3)
        return y
    check(fill, rand(rng, 3, 4))
    x = sj.zeros(3, 3)
    x.diagonal().add_(1)
    assert sj.equal(x, sj.eye(3))
    assert not x.unfold(0, 2, 1).is_contiguous()


def test_overlapping_windows_accumulate(rng):
    check(lambda m, x: x.unfold(0, 3, 1) * x.unfold(0, 3, 1), rand(rng, 6))
    check(lambda m, x: x.unfold(0, 1, 1), np.asarray(rand(rng)))


REARRANGE = {
    "repeat_interleave_int": lambda m, x: (x.repeat_interleave(2), m.repeat_interleave(x, 3, dim=0), x.repeat_interleave(2, dim=-1)),
    "repeat_interleave_tensor": lambda m, x: (x.repeat_interleave(m.tensor([1, 0, 2]), dim=0),
                                             m.repeat_interleave(x, m.tensor([2, 1, 1, 0]), dim=1, output_size=4)),
    "tensor_split": lambda m, x: (m.tensor_split(x, 2), x.tensor_split(3, dim=1), x.tensor_split([1, 3], 1), x.tensor_split((2, 1, 9)),
                                  m.tensor_split(x, m.tensor(2), 1), m.tensor_split(x, m.tensor([-1, 2]), 1)),
    "hsplit_vsplit": lambda m, x: (m.hsplit(x, 2), x.hsplit([1, 3]), m.vsplit(x, 3), x.vsplit([1]), m.hsplit(x[0], [2])),
    "dsplit": lambda m, x: m.dsplit(x.reshape(3, 2, 2), 2),
    "broadcast_tensors": lambda m, x: m.broadcast_tensors(x, x[0], x[:, :1], x[0, 0]),
    "atleast": lambda m, x: (m.atleast_1d(x[0, 0]), m.atleast_2d(x[0]), m.atleast_3d(x), m.atleast_3d(x[0]), m.atleast_3d(x[0, 0]),
                             m.atleast_1d((x, x[0, 0])), m.atleast_2d(x[0], x[1]), m.atleast_3d([x.unsqueeze(0)])),
    "rot90": lambda m, x: (m.rot90(x), x.rot90(2), x.rot90(3, (1, 0)), m.rot90(x, -1, [0, 1]), x.rot90(4),
                           x.reshape(3, 2, 2).rot90(1, (0, 2))),
    "diff": lambda m, x: (m.diff(x), x.diff(dim=0), x.diff(n=2), m.diff(x, 3, 1, prepend=x[:, :1], append=x[:, 1:]), x.diff(5), x.diff(0)),
}


@pytest.mark.parametrize("name", sorted(REARRANGE))
@pytest.mark.parametrize("view", [None, "T", "stride"])
def test_rearranging(name, view, rng):
    check(REARRANGE[name], rand(rng, 3, 4), view=view)


def test_rearranging_zero_size_0d_and_ints(rng):
    check(lambda m, x: (x.diagonal(), m.diag_embed(x), x.unfold(0, 0, 1), x.tensor_split(2), x.repeat_interleave(2, 0), x.diff(),
                        m.rot90(x), m.atleast_3d(x)), np.zeros((0, 3)))
    check(lambda m, x: (x.repeat_interleave(3), m.atleast_2d(x), x.reshape(1).diag()), np.asarray(rand(rng)))
    ints = np.arange(12).reshape(3, 4)
    check(lambda m, x: (x.diagonal(), x.trace(), x.diag(), x.unfold(1, 2, 2), x.diff(), m.rot90(x), x.repeat_interleave(2)), ints, grad=False)
    check(lambda m, x: x.diff(), np.array([True, False, False, True]), grad=False)
    check(lambda m, c: m.repeat_interleave(c), np.array([2, 0, 3]), grad=False)


def test_broadcast_shapes():
    for shapes in [((2, 1), (3,)), ((), (4, 1, 2), 2), ((0, 1), (1, 5))]:
        assert tuple(sj.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    with pytest.raises(RuntimeError):
        sj.broadcast_shapes((2,), (3,))


def test_new_shape_ops_gradcheck(rng):
    from shenjing.autograd.gradcheck import gradcheck, gradgradcheck

    x = sj.tensor(rand(rng, 3, 4), requires_grad=True)
    for f in (lambda x: x.diagonal(1), lambda x: sj.diag_embed(x, -1), lambda x: x.unfold(1, 2, 1) ** 2, lambda x: x.trace() * x,
              lambda x: x.repeat_interleave(2, 0) ** 2, lambda x: x.rot90() * x.T, lambda x: x.diff(2) ** 2):
        assert gradcheck(f, (x,))
        assert gradgradcheck(f, (x,))


def test_rearranging_errors(rng):
    x = sj.tensor(rand(rng, 3, 4))
    for call, exc in [(lambda: x.diagonal(0, 1, 1), RuntimeError), (lambda: sj.ones(3).diagonal(), RuntimeError),
                      (lambda: sj.diag(sj.ones(2, 2, 2)), RuntimeError), (lambda: sj.ones(3).trace(), RuntimeError),
                      (lambda: x.unfold(1, 5, 1), RuntimeError), (lambda: x.unfold(1, 2, 0), RuntimeError),
                      (lambda: x.repeat_interleave(sj.tensor([1, 2]), dim=0), RuntimeError),
                      (lambda: x.hsplit(3), RuntimeError), (lambda: sj.ones(3).vsplit(1), RuntimeError),
                      (lambda: x.tensor_split(0), RuntimeError), (lambda: x.rot90(1, (0, 0)), RuntimeError),
                      (lambda: x.rot90(1, (0,)), RuntimeError), (lambda: sj.tensor(1.0).diff(), RuntimeError),
                      (lambda: x.diagonal(0, 0, 2), IndexError)]:
        with pytest.raises(exc):
            call()
    with pytest.raises(RuntimeError, match="not divisible"):
        x.hsplit(3)


def test_shrunk_property_failures():
    """Cases the property tests (test_shape_properties.py) found, kept as plain regressions."""
    check(lambda m, x: (x.unfold(0, 0, 1), x.unfold(0, 1, 2)), np.asarray(1.5))  # 0-d windows: (0,) and (1,)
    check(lambda m, x, p: m.diff(x, 0, prepend=p, append=p), np.zeros(0), np.ones(1))  # n = 0 ignores prepend/append
    for m in (sj, torch):
        with pytest.raises(RuntimeError):
            m.ones(0).repeat_interleave(m.tensor([]))  # repeats must be integers


def test_dstack_cartesian_prod(rng):
    check(lambda m, a, b: (m.dstack((a, b)), m.dstack([a[0], b[0]]), m.dstack([a[:, :1], b[:, :1]])), rand(rng, 2, 3), rand(rng, 2, 3))
    check(lambda m, a, b, c: (m.cartesian_prod(a, b), m.cartesian_prod(a, b, c), m.cartesian_prod(a)), rand(rng, 3), rand(rng, 2), rand(rng, 0))
    check(lambda m, a, b: m.cartesian_prod(a, b), np.array([1, 2, 3]), np.array([4, 5]), grad=False)
