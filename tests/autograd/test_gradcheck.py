"""shenjing.autograd.gradcheck on every differentiable op (float64 central differences), and
gradcheck itself: it must catch a deliberately wrong backward."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.autograd import Function, gradcheck


def T(*shape, low=None, high=None, rng=None):
    rng = np.random if rng is None else rng  # NumPy's global generator, seeded per test (conftest)
    a = rng.uniform(low, high, shape) if low is not None else rng.standard_normal(shape)
    return sj.tensor(np.asarray(a), requires_grad=True)


def I(a):  # noqa: E743  (an index tensor)
    return sj.tensor(np.asarray(a))


POS = {"low": 0.5, "high": 2.0}
# name -> (function, input factory); inputs away from kinks so central differences are exact enough
CASES = {
    "add": (lambda x, y: x + y, lambda: (T(2, 3), T(3))),
    "sub": (lambda x, y: x - y, lambda: (T(2, 3), T(2, 1))),
    "mul": (lambda x, y: x * y, lambda: (T(2, 3), T(1, 3))),
    "div": (lambda x, y: x / y, lambda: (T(2, 3), T(3, **POS))),
    "pow": (lambda x, y: x**y, lambda: (T(2, 3, **POS), T(3))),
    "pow_scalar": (lambda x: x**2.5 + 3.0**x, lambda: (T(2, 3, **POS),)),
    "remainder": (lambda x, y: sj.remainder(x, y), lambda: (T(2, 3, low=0.1, high=0.9), T(3, low=1.5, high=2.0))),
    "fmod": (lambda x, y: sj.fmod(x, y), lambda: (T(2, 3, low=0.1, high=0.9), T(3, low=1.5, high=2.0))),
    "neg": (lambda x: -x, lambda: (T(2, 3),)),
    "abs": (lambda x: x.abs(), lambda: (T(2, 3, **POS),)),
    "exp": (lambda x: x.exp(), lambda: (T(2, 3),)),
    "log": (lambda x: x.log(), lambda: (T(2, 3, **POS),)),
    "log2": (lambda x: x.log2(), lambda: (T(2, 3, **POS),)),
    "log1p": (lambda x: x.log1p(), lambda: (T(2, 3, **POS),)),
    "expm1": (lambda x: x.expm1(), lambda: (T(2, 3),)),
    "sqrt": (lambda x: x.sqrt(), lambda: (T(2, 3, **POS),)),
    "rsqrt": (lambda x: x.rsqrt(), lambda: (T(2, 3, **POS),)),
    "square": (lambda x: x.square(), lambda: (T(2, 3),)),
    "reciprocal": (lambda x: x.reciprocal(), lambda: (T(2, 3, **POS),)),
    "sin": (lambda x: x.sin(), lambda: (T(2, 3),)),
    "cos": (lambda x: x.cos(), lambda: (T(2, 3),)),
    "tan": (lambda x: x.tan(), lambda: (T(2, 3, low=-1.0, high=1.0),)),
    "atan": (lambda x: x.atan(), lambda: (T(2, 3),)),
    "tanh": (lambda x: x.tanh(), lambda: (T(2, 3),)),
    "sigmoid": (lambda x: x.sigmoid(), lambda: (T(2, 3),)),
    "relu": (lambda x: x.relu(), lambda: (T(2, 3, **POS), )),
    "relu_neg": (lambda x: (-x).relu(), lambda: (T(2, 3, **POS),)),
    "erf": (lambda x: x.erf(), lambda: (T(2, 3),)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), lambda: (I([[-1.0, -0.2, 0.3], [0.9, 0.1, -0.7]]).double().requires_grad_(),)),
    "clamp_tensor": (lambda x, lo: sj.clamp(x, min=lo), lambda: (I([[-1.0, 0.2], [0.5, 2.0]]).double().requires_grad_(),
                                                               I([0.0, 1.0]).double().requires_grad_())),
    "maximum": (lambda x, y: sj.maximum(x, y), lambda: (I([1.0, -2.0, 3.0]).double().requires_grad_(), I([0.0, 0.5, 4.0]).double().requires_grad_())),
    "minimum": (lambda x, y: sj.minimum(x, y), lambda: (I([1.0, -2.0, 3.0]).double().requires_grad_(), I([0.0, 0.5, 4.0]).double().requires_grad_())),
    "where": (lambda x, y: sj.where(I([[True, False, True]]), x, y), lambda: (T(2, 3), T(3))),
    "sign_floor_round": (lambda x: x.sign() + x.floor() + x.ceil() + x.round() + x.trunc(),
                         lambda: (I([0.3, 1.4, -2.2]).double().requires_grad_(),)),
    "sum": (lambda x: (x.sum(), x.sum(1), x.sum((0, 2), keepdim=True)), lambda: (T(2, 3, 2),)),
    "mean": (lambda x: (x.mean(), x.mean(-1), x.mean((0, 1))), lambda: (T(2, 3, 2),)),
    "var_std": (lambda x: (x.var(1), x.std(0, correction=0), x.var()), lambda: (T(3, 4),)),
    "max_min_dim": (lambda x: (x.max(1).values, x.min(0, keepdim=True)[0]), lambda: (T(3, 4),)),
    "max_amax_full": (lambda x: (x.max(), x.amax((0, 1)), x.amin(1)), lambda: (T(3, 4),)),
    "prod": (lambda x: (x.prod(), x.prod(1), x.prod(0, keepdim=True)), lambda: (T(2, 3),)),
    "prod_zero": (lambda x: (x.prod(1), x.prod()), lambda: (I([[0.0, 1.5, 2.0], [1.0, 0.0, 0.0]]).double().requires_grad_(),)),
    "logsumexp": (lambda x: (x.logsumexp(1), x.logsumexp((0, 1))), lambda: (T(3, 4),)),
    "softmax": (lambda x: (x.softmax(1), x.softmax(0)), lambda: (T(3, 4),)),
    "log_softmax": (lambda x: x.log_softmax(-1), lambda: (T(3, 4),)),
    "norm": (lambda x: (x.norm(), x.norm(dim=1), x.norm(p=1, dim=0), x.norm(p=3), x.norm(p=float("inf"))), lambda: (T(3, 4, **POS),)),
    "cumsum": (lambda x: (x.cumsum(0), x.cumsum(-1)), lambda: (T(3, 4),)),
    "reshape_view": (lambda x: (x.reshape(4, 3), x.view(-1), x.flatten(), x.unflatten(1, (2, 2))), lambda: (T(3, 4),)),
    "transpose_permute": (lambda x: (x.transpose(0, 2), x.permute(1, 2, 0), x.mT, x.movedim(0, 2)), lambda: (T(2, 3, 2),)),
    "squeeze_unsqueeze": (lambda x: (x.unsqueeze(1).squeeze(), x.squeeze(0)), lambda: (T(1, 3),)),
    "expand_broadcast": (lambda x: (x.expand(2, 3, 2), sj.broadcast_to(x, (4, 3, 2))), lambda: (T(3, 1),)),
    "repeat_tile": (lambda x: (x.repeat(2, 2), x.tile((3,))), lambda: (T(2, 2),)),
    "flip_roll": (lambda x: (x.flip(0), x.roll(1, 1), x.roll((1, 2), (0, 1))), lambda: (T(3, 3),)),
    "cat_stack": (lambda x, y: (sj.cat([x, y], 0), sj.stack([x, x * 2], 1)), lambda: (T(2, 3), T(1, 3))),
    "split_chunk": (lambda x: x.split([1, 2], 1) + x.chunk(2, 0), lambda: (T(3, 3),)),
    "tril_triu": (lambda x: (x.tril(), x.triu(1)), lambda: (T(3, 3),)),
    "pad_constant": (lambda x: sj.pad(x, (1, 2, 1, 0), value=0.5), lambda: (T(2, 3),)),
    "pad_reflect": (lambda x: sj.pad(x, (2, 1), mode="reflect"), lambda: (T(1, 2, 4),)),
    "pad_replicate": (lambda x: sj.pad(x, (2, 1, 1, 1), mode="replicate"), lambda: (T(1, 2, 3),)),
    "pad_circular": (lambda x: sj.pad(x, (1, 2), mode="circular"), lambda: (T(1, 2, 3),)),
    "getitem": (lambda x: (x[0], x[:, 1:], x[::2, ::-1] if False else x[::2], x[..., -1], x[None, 1]), lambda: (T(3, 4),)),
    "getitem_advanced": (lambda x: (x[[0, 0, 2]], x[I([1, 1]), I([2, 2])], x[x > 0]), lambda: (T(3, 4),)),
    "gather": (lambda x: x.gather(1, I([[0, 0], [2, 1], [3, 3]])), lambda: (T(3, 4),)),
    "scatter_add": (lambda x, s: x.scatter_add(0, I([[0, 1, 0], [0, 2, 2]]), s), lambda: (T(3, 3), T(2, 3))),
    "scatter": (lambda x, s: x.scatter(1, I([[0, 2], [1, 0]]), s), lambda: (T(2, 3), T(2, 2))),
    "index_select": (lambda x: x.index_select(1, I([3, 0, 3])), lambda: (T(2, 4),)),
    "masked_fill": (lambda x: x.masked_fill(I([[True, False], [False, True]]), 2.0), lambda: (T(2, 2),)),
    "take_along_dim": (lambda x: sj.take_along_dim(x, I([[1], [0]]), 1), lambda: (T(2, 3),)),
    "setitem": (lambda x, v: _setitem(x, v), lambda: (T(3, 4), T(4))),
    "matmul": (lambda a, b: a @ b, lambda: (T(2, 3), T(3, 2))),
    "matmul_batched": (lambda a, b: a @ b, lambda: (T(2, 2, 3), T(3, 2))),
    "matmul_vec": (lambda a, b: (a @ b, b @ a.T), lambda: (T(2, 3), T(3))),
    "dot_outer": (lambda a, b: (sj.dot(a, b), sj.outer(a, b)), lambda: (T(3), T(3))),
    "mm_bmm_mv": (lambda a, b: (sj.bmm(a, b), sj.mm(a[0], b[1]), sj.mv(a[1], b[0, :, 0])), lambda: (T(2, 2, 3), T(2, 3, 2))),
    "einsum": (lambda a, b: (sj.einsum("ij,jk->ik", a, b), sj.einsum("ij->", a), sj.einsum("ii->i", a @ b)), lambda: (T(2, 3), T(3, 2))),
    "einsum_ellipsis": (lambda a, b: sj.einsum("...ij,...jk->...ik", a, b), lambda: (T(2, 2, 3), T(3, 2))),
    "clone_contiguous": (lambda x: (x.clone(), x.T.contiguous()), lambda: (T(2, 3),)),
    "inplace_chain": (lambda x: _inplace_chain(x), lambda: (T(2, 3),)),
}


def _setitem(x, v):
    y = x * 1.0
    y[1] = v * 2
    y[:, 0] = v[:3]
    return y


def _inplace_chain(x):
    y = x * 2
    y.add_(1).mul_(3)
    y.sub_(x).div_(2)
    return y.exp_()


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_op(name):
    fn, make = CASES[name]
    assert gradcheck(fn, make())


def test_gradcheck_through_float32_cast():
    assert gradcheck(lambda x: x.float().exp().double(), (T(3),), eps=1e-2, atol=1e-2, rtol=1e-2)


def test_gradcheck_noncontiguous_input():
    x = sj.tensor(np.random.standard_normal((3, 2)).T, requires_grad=True)  # a column-major leaf
    assert not x.is_contiguous()
    assert gradcheck(lambda x: (x * x.exp()).sum(1), x)


def test_gradgradcheck_basic_ops():
    for fn, make in (CASES["mul"], CASES["softmax"], CASES["matmul"], CASES["prod_zero"], CASES["pad_reflect"]):
        assert sj.autograd.gradgradcheck(fn, make())


class WrongSquare(Function):
    """x² with a deliberately wrong backward (x instead of 2x)."""

    def forward(self, a):
        return a * a

    def backward(self, g):
        return g * self.inputs[0]


class RightSquare(Function):
    def forward(self, a):
        return a * a

    def backward(self, g):
        return 2 * g * self.inputs[0]


def test_gradcheck_detects_wrong_backward():
    x = T(3)
    assert gradcheck(RightSquare.apply, (x,))
    with pytest.raises(RuntimeError, match="mismatch"):
        gradcheck(WrongSquare.apply, (x,))
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_detects_wrong_broadcast_reduction():
    class BadAdd(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            a, b = self.inputs
            return g, g.sum(0).reshape(b.shape) * 0.5

    assert gradcheck(BadAdd.apply, (T(2, 3), T(3)), raise_exception=False) is False


def test_gradcheck_requires_float64():
    x = sj.randn(3, requires_grad=True)
    with pytest.raises(ValueError):
        gradcheck(lambda t: t * 2, (x,))


def test_gradcheck_leaves_inputs_unchanged():
    x = T(2, 3)
    before = x.detach().numpy().copy()
    gradcheck(lambda t: t.exp(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
