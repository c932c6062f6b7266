"""The backward engine against PyTorch: backward(gradient=), retain_graph, autograd.grad, hooks,
retain_grad, grad modes, detach, accumulation and in-place rules."""

import numpy as np
import pytest
import torch
from torch_compare import assert_same

import shenjing as sj


def pair(a, requires_grad=True):
    a = np.asarray(a, dtype=np.float64)
    return sj.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def test_backward_with_gradient(rng):
    x = rng.standard_normal((3, 4))
    v = rng.standard_normal((3, 4))
    for lib, t in zip((sj, torch), pair(x)):
        y = t.tanh() * 2
        y.backward(lib.tensor(v))
    xs, xt = pair(x)
    (xs.tanh() * 2).backward(gradient=sj.tensor(v))
    (xt.tanh() * 2).backward(gradient=torch.tensor(v))
    assert_same(xs.grad, xt.grad)


def test_backward_gradient_is_not_modified(rng):
    xs, _ = pair(rng.standard_normal(3))
    v = sj.tensor(np.ones(3))
    y = xs + 0
    y.backward(v, retain_graph=True)
    y.backward(v)
    np.testing.assert_array_equal(v.numpy(), np.ones(3))
    np.testing.assert_array_equal(xs.grad.numpy(), 2 * np.ones(3))


def test_backward_gradient_shape_mismatch():
    x = sj.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape"):
        (x * 2).backward(sj.ones(4))


def test_backward_nonscalar_without_gradient_raises():
    x = sj.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        (x * 2).backward()
    (x * 2).sum().backward()  # a scalar is fine
    (x[:1] * 2).backward()  # so is a one-element tensor (as PyTorch)


def test_retain_graph_and_freed_graph(rng):
    x = rng.standard_normal(4)
    xs, xt = pair(x)
    ys, yt = (xs.exp() * xs).sum(), (xt.exp() * xt).sum()
    ys.backward(retain_graph=True)
    yt.backward(retain_graph=True)
    ys.backward()
    yt.backward()
    assert_same(xs.grad, xt.grad)
    with pytest.raises(RuntimeError, match="second time"):
        ys.backward()
    with pytest.raises(RuntimeError):
        yt.backward()


def test_freed_graph_through_grad():
    x = sj.ones(2, requires_grad=True)
    y = (x * x).sum()
    sj.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        sj.autograd.grad(y, x)


def test_leaf_accumulation_across_two_backwards(rng):
    x, w = rng.standard_normal((2, 3)), rng.standard_normal(3)
    xs, xt = pair(x)
    ws, wt = pair(w)
    for _ in range(2):
        (xs * ws).sum().backward()
        (xt * wt).sum().backward()
    assert_same(xs.grad, xt.grad)
    assert_same(ws.grad, wt.grad)
    g = ws.grad
    (ws * 3).sum().backward()
    assert ws.grad is g  # accumulates in place, like PyTorch
    ws.grad.zero_()
    assert not ws.grad.numpy().any()
    ws.grad = None
    (ws * 2).sum().backward()
    np.testing.assert_array_equal(ws.grad.numpy(), 2 * np.ones(3))


def test_shared_leaf_used_twice(rng):
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    (xs * xs + xs.reshape(1, 3) + xs).sum().backward()
    (xt * xt + xt.reshape(1, 3) + xt).sum().backward()
    assert_same(xs.grad, xt.grad)


def test_a_gradient_taken_as_grad_is_not_changed_while_others_read_it(rng):
    """(y − x) + (y + x): the outer sum sends one gradient array to both branches; y's .grad takes it
    over, so y's second contribution must not be added into it in place (x would then read 2g)."""
    a, b, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for f in (lambda m, x, y: (y - x) + (y + x), lambda m, x, y: (x + 0.3 * (y - x)) + (y - (y - x) * 0.2)):
        (xs, xt), (ys, yt) = pair(a), pair(b)
        (f(sj, xs, ys) * sj.tensor(v)).sum().backward()
        (f(torch, xt, yt) * torch.tensor(v)).sum().backward()
        assert_same(xs.grad, xt.grad)
        assert_same(ys.grad, yt.grad)


def test_two_leaves_get_separate_grad_arrays():
    a, b = sj.ones(3, requires_grad=True), sj.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1)  # must not touch b.grad
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))
    c = sj.ones(2, 3, requires_grad=True)
    d = sj.ones(6, requires_grad=True)
    (c.reshape(6) + d).sum().backward()
    c.grad.mul_(5)
    np.testing.assert_array_equal(d.grad.numpy(), np.ones(6))


def test_grad_function_variants(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    xs, xt = pair(x)
    ys, yt = pair(y)
    out_s = (xs.sin() * ys).sum()
    out_t = (xt.sin() * yt).sum()
    gs = sj.autograd.grad(out_s, [xs, ys], retain_graph=True)
    gt = torch.autograd.grad(out_t, [xt, yt], retain_graph=True)
    for a, b in zip(gs, gt):
        assert_same(a, b)
    assert xs.grad is None and ys.grad is None  # grad() does not touch .grad
    (gs1,) = sj.autograd.grad(out_s, xs)
    assert_same(gs1, gt[0])
    # grad_outputs for a non-scalar output
    v = rng.standard_normal(3)
    (g1,) = sj.autograd.grad(xs * ys, xs, grad_outputs=sj.tensor(v))
    (g2,) = torch.autograd.grad(xt * yt, xt, grad_outputs=torch.tensor(v))
    assert_same(g1, g2)
    # several outputs
    (g1,) = sj.autograd.grad([xs.sum(), (xs * xs).sum()], xs)
    (g2,) = torch.autograd.grad([xt.sum(), (xt * xt).sum()], xt)
    assert_same(g1, g2)


def test_grad_allow_unused():
    x, z = sj.ones(2, requires_grad=True), sj.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        sj.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = sj.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0, 2.0]


def test_grad_of_intermediate(rng):
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    hs, ht = xs.exp(), xt.exp()
    (gs,) = sj.autograd.grad((hs * hs).sum(), hs)
    (gt,) = torch.autograd.grad((ht * ht).sum(), ht)
    assert_same(gs, gt)


def test_grad_create_graph_gives_second_derivative(rng):
    x = rng.standard_normal(4)
    xs, xt = pair(x)
    (gs,) = sj.autograd.grad((xs**3).sum(), xs, create_graph=True)
    (gt,) = torch.autograd.grad((xt**3).sum(), xt, create_graph=True)
    assert gs.requires_grad
    assert_same(gs, gt)
    (hs,) = sj.autograd.grad(gs.sum(), xs)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    assert_same(hs, ht)
    # backward(create_graph=True) puts a differentiable gradient in .grad
    ys = (xs**3).sum()
    ys.backward(create_graph=True)
    assert xs.grad.requires_grad
    (h2,) = sj.autograd.grad(xs.grad.sum(), xs)
    assert_same(h2, ht)


def test_grad_input_without_requires_grad_raises():
    x = sj.ones(2)
    y = sj.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        sj.autograd.grad((x * y).sum(), x)


def test_hooks(rng):
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    seen = []
    for t, store in ((xs, seen), (xt, [])):
        t.register_hook(lambda g, store=store: store.append(g))
    (xs * 2).sum().backward()
    assert len(seen) == 1 and seen[0].tolist() == [2.0, 2.0, 2.0]


def test_hook_replaces_grad(rng):
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    hs, ht = xs * 3, xt * 3
    hs.register_hook(lambda g: g * 10)
    ht.register_hook(lambda g: g * 10)
    xs.register_hook(lambda g: g + 1)
    xt.register_hook(lambda g: g + 1)
    (hs * hs).sum().backward()
    (ht * ht).sum().backward()
    assert_same(xs.grad, xt.grad)


def test_hook_remove_and_order():
    x = sj.ones(2, requires_grad=True)
    calls = []
    h1 = x.register_hook(lambda g: calls.append(1))
    x.register_hook(lambda g: calls.append(2))
    (x * 1).sum().backward()
    h1.remove()
    (x * 1).sum().backward()
    assert calls == [1, 2, 2]
    with pytest.raises(RuntimeError):
        sj.ones(2).register_hook(lambda g: g)


def test_hook_sees_full_gradient_of_reused_tensor(rng):
    """A non-leaf used twice: its hook runs once, on the summed gradient."""
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    got = {}
    hs, ht = xs.exp(), xt.exp()
    hs.register_hook(lambda g: got.setdefault("s", []).append(g.numpy().copy()))
    ht.register_hook(lambda g: got.setdefault("t", []).append(g.numpy().copy()))
    (hs * 2 + hs * hs).sum().backward()
    (ht * 2 + ht * ht).sum().backward()
    assert len(got["s"]) == len(got["t"]) == 1
    np.testing.assert_allclose(got["s"][0], got["t"][0], rtol=1e-12)


def test_retain_grad(rng):
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    hs, ht = xs * 2, xt * 2
    hs.retain_grad()
    ht.retain_grad()
    assert hs.retains_grad
    (hs.exp()).sum().backward()
    (ht.exp()).sum().backward()
    assert_same(hs.grad, ht.grad)
    ks = xs * 3
    (ks * 2).sum().backward()
    assert ks.grad is None  # non-leaf without retain_grad


def test_no_grad_enable_grad_set_grad_enabled():
    x = sj.ones(2, requires_grad=True)
    with sj.no_grad():
        y = x * 2
        assert not sj.is_grad_enabled()
        with sj.enable_grad():
            z = x * 2
            assert sj.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    assert sj.is_grad_enabled()
    with sj.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    sj.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    sj.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_mode_decorators():
    x = sj.ones(2, requires_grad=True)

    @sj.no_grad()
    def f(t):
        return t * 2

    @sj.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with sj.no_grad():
        assert g(x).requires_grad
    assert sj.is_grad_enabled()

    @sj.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert sj.is_grad_enabled()
    assert not h(x).requires_grad
    assert sj.is_grad_enabled()


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError):
        with sj.no_grad():
            raise ValueError
    assert sj.is_grad_enabled()


def test_detach(rng):
    x = sj.tensor(rng.standard_normal(3), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d.numpy())
    x2 = x.detach().requires_grad_()
    assert x2.requires_grad and x2.is_leaf


def test_data_attribute_update_under_no_grad(rng):
    w = sj.tensor(rng.standard_normal(3), requires_grad=True)
    (w * w).sum().backward()
    before = w.detach().numpy().copy()
    with sj.no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), before - 0.2 * before)
    assert w.is_leaf and w.requires_grad
    w.grad.zero_()
    with sj.no_grad():
        w.mul_(2).add_(1)
        w[0] = 0.0
    assert w.is_leaf and w.requires_grad


def test_inplace_on_leaf_under_grad_raises():
    w = sj.ones(3, requires_grad=True)
    for f in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.__setitem__(0, 5.0), lambda: w.zero_(), lambda: w.exp_()):
        with pytest.raises(RuntimeError, match="leaf"):
            f()


def test_inplace_on_nonleaf_is_differentiable(rng):
    x = rng.standard_normal(4)
    xs, xt = pair(x)
    res = []
    for t in (xs, xt):
        h = t * 2
        h.add_(1)
        h.mul_(3)
        h[1:3] = h[1:3].exp()
        h.relu_()
        res.append(h.sum())
    res[0].backward()
    res[1].backward()
    assert_same(res[0], res[1])
    assert_same(xs.grad, xt.grad)


def test_inplace_modification_of_saved_tensor_raises():
    a = sj.ones(3, requires_grad=True)
    b = sj.full((3,), 2.0)
    y = a * b
    b.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
    # under no_grad too
    b = sj.full((3,), 2.0, requires_grad=True)
    y = a * b
    with sj.no_grad():
        b.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
    # a saved output (exp, sigmoid) modified in place
    for f in (lambda h: h.exp(), lambda h: h.sigmoid(), lambda h: h.tanh()):
        e = f(a * 1)
        e.add_(1)
        with pytest.raises(RuntimeError, match="in-place"):
            e.sum().backward()
    e = (a * 1).exp()
    e[0] = 2.0
    with pytest.raises(RuntimeError, match="in-place"):
        e.sum().backward()
    # an input saved by mul, modified in place under grad (a non-leaf)
    h = a * 1
    y = h * h
    h.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_inplace_on_tensor_not_needed_is_fine(rng):
    a = sj.ones(3, requires_grad=True)
    b = sj.full((3,), 2.0)
    y = a + b  # add does not save its inputs
    b.mul_(2)
    y.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]


def test_version_counter_shared_by_views():
    a = sj.ones(3, requires_grad=True)
    b = sj.full((2, 3), 2.0)
    y = a * b[0]
    b[1].mul_(3)  # a view of b changes b's version: PyTorch raises here too
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_requires_grad_on_int_tensor_raises():
    with pytest.raises(RuntimeError):
        sj.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError):
        sj.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError):
        sj.zeros(2, dtype=sj.int64, requires_grad=True)


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError):
        sj.ones(2).sum().backward()


def test_integer_result_of_grad_tensor_has_no_grad(rng):
    x = sj.tensor(rng.standard_normal(3), requires_grad=True)
    for r in (x.argmax(), x > 0, x.long(), x.max(0).indices):
        assert not r.requires_grad


def test_backward_inputs_argument(rng):
    x, y = pair(rng.standard_normal(3))[0], pair(rng.standard_normal(3))[0]
    (x * y).sum().backward(inputs=[x])
    assert x.grad is not None and y.grad is None


def test_deep_chain_has_no_recursion_limit():
    x = sj.ones(1, dtype=sj.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**5000], rtol=1e-9)


def test_float32_grad_dtype(rng):
    x = sj.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == sj.float32


def test_consumer_before_inplace_keeps_its_producer(rng):
    """A node made before an in-place op on its input still sends its gradient to the producer it
    saw (PyTorch's edges), not through the in-place op."""
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    outs = []
    for t in (xs, xt):
        h = t * 2
        y = h + 1  # add saves nothing, so modifying h in place is allowed
        r = h.reshape(3, 1).exp().sum()
        h.mul_(3)
        h[0] = h[1].exp() + h[2]
        outs.append((y * y).sum() + h.sum() + r)
    outs[0].backward()
    outs[1].backward()
    assert_same(outs[0], outs[1])
    assert_same(xs.grad, xt.grad)


def _inplace_view_cases():
    def through(f):
        return lambda m, x: f(m, x * 1)

    def seq(*steps):
        return steps[-1]

    return {
        "view_mul": through(lambda m, y: seq(y[0].mul_(2), (y * y).sum())),
        "transpose_mul": through(lambda m, y: seq(y.T.mul_(3), (y * y).sum())),
        "reshape_slice_exp": through(lambda m, y: seq(y.reshape(-1)[1:3].exp_(), (y * y).sum())),
        "narrow_copy": through(lambda m, y: seq(y.narrow(1, 0, 1).copy_(y[:, 1:2] * 5), (y * y).sum())),
        "view_of_view": lambda m, x: (lambda y: seq(y.T[1:].mul_(x[0, :2].reshape(2, 1)), (y * y).sum()))(x * 1),
        "two_views": through(lambda m, y: seq(y[0].mul_(2), y[:, 1].add_(y[1, 2]), (y * y).sum())),
        "setitem_on_view": lambda m, x: (lambda y: seq(y[1][0:2].__setitem__(0, x[0, 2] * 3), (y * y).sum()))(x * 1),
        "zero_view": through(lambda m, y: seq(y[0].zero_(), (y * y).sum())),
        "fill_tensor": lambda m, x: (lambda y: seq(y[1].fill_(x[0, 0]), (y * y).sum()))(x * 1),
        "fill_whole": lambda m, x: (lambda y: seq(y.fill_(2.0), (y * x).sum()))(x * 1),
        "buffer_view_write": lambda m, x: (lambda b: seq(b[0].copy_(x[0]), (b * b).sum()))(m.zeros(2, 3, dtype=m.float64)),
        "view_then_view_used": through(lambda m, y: (lambda v: seq(v.add_(1), (v * y).sum()))(y[1])),
    }


@pytest.mark.parametrize("name", sorted(_inplace_view_cases()))
def test_inplace_through_views(name, rng):
    """An in-place op on a view changes its base's history, as in PyTorch."""
    f = _inplace_view_cases()[name]
    x = rng.standard_normal((2, 3))
    xs, xt = pair(x)
    out_s, out_t = f(sj, xs), f(torch, xt)
    out_s.backward()
    out_t.backward()
    assert_same(out_s, out_t)
    assert_same(xs.grad, xt.grad)


def test_inplace_on_view_of_leaf_raises():
    w = sj.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0].mul_(2)
    with pytest.raises(RuntimeError, match="leaf"):
        w.T.zero_()


def test_inplace_on_factor_not_needed_for_backward_is_fine(rng):
    """Like PyTorch, a factor of a product is needed only for the other factor's gradient."""
    x = rng.standard_normal(3)
    c = rng.standard_normal(3)
    xs, xt = pair(x)
    outs = []
    for t, lib in ((xs, sj), (xt, torch)):
        h = t * 1
        y = h * lib.tensor(c)  # c needs no grad, so h is not saved
        z = h @ lib.tensor(c)
        w = h / lib.tensor(c)
        h.add_(1)
        outs.append((y.sum() + z + w.sum(), t))
    outs[0][0].backward()
    outs[1][0].backward()
    assert_same(xs.grad, xt.grad)


def test_bare_decorators_and_materialize_grads():
    @sj.no_grad
    def f(t):
        return t * 2

    @sj.enable_grad
    def g(t):
        return t * 2

    x = sj.ones(2, requires_grad=True)
    assert not f(x).requires_grad and f.__name__ == "f"
    with sj.no_grad():
        assert g(x).requires_grad
    assert sj.is_grad_enabled()
    z = sj.ones(3, requires_grad=True)
    gx, gz = sj.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert gx.tolist() == [2.0, 2.0] and gz.tolist() == [0.0, 0.0, 0.0]


def test_autograd_backward_function(rng):
    x = rng.standard_normal(3)
    xs, xt = pair(x)
    v = rng.standard_normal(3)
    sj.autograd.backward([xs.exp()], [sj.tensor(v)])
    torch.autograd.backward([xt.exp()], [torch.tensor(v)])
    assert_same(xs.grad, xt.grad)
