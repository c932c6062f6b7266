"""Each failure of the engine's error list raises ValueError/RuntimeError whose message names the op and the
shapes involved, never a raw NumPy traceback."""

import re

import numpy as np
import pytest

import shenjing as sj


def _shape_forms(shape):
    """The ways a message may spell a shape: (2, 3), [2, 3], 2x3."""
    shape = tuple(shape)
    forms = {str(shape), str(list(shape)), "x".join(map(str, shape))}
    if len(shape) == 1:
        forms.add(f"({shape[0]},)")
    return forms


def raises_naming(exc, op, *shapes):
    """Run under ``with``: the exception is ``exc`` and its message contains ``op`` and every shape."""

    class _Ctx:
        def __enter__(self):
            self.cm = pytest.raises(exc)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *a):
            r = self.cm.__exit__(*a)
            msg = str(self.info.value)
            assert re.search(op, msg, re.IGNORECASE), f"message does not name the op {op!r}: {msg}"
            for s in shapes:
                assert any(f in msg for f in _shape_forms(s)), f"message does not name shape {s}: {msg}"
            assert "Traceback" not in msg
            return r

    return _Ctx()


ERR = (ValueError, RuntimeError)


def test_add_shape_mismatch():
    a, b = sj.ones(2, 3), sj.ones(4)
    with raises_naming(ERR, "add", (2, 3), (4,)):
        a + b
    with raises_naming(ERR, "mul", (2, 3), (4,)):
        a * b
    with raises_naming(ERR, "sub", (2, 3), (4,)):
        sj.sub(a, b)
    with raises_naming(ERR, "maximum", (2, 3), (4,)):
        sj.maximum(a, b)
    with raises_naming(ERR, "where", (2, 3), (4,)):
        sj.where(a > 0, a, b)


def test_matmul_shape_mismatch():
    with raises_naming(ERR, "matmul", (2, 3), (2, 3)):
        sj.ones(2, 3) @ sj.ones(2, 3)
    with raises_naming(ERR, "matmul", (2, 2, 3), (3, 3, 4)):
        sj.ones(2, 2, 3) @ sj.ones(3, 3, 4)
    with raises_naming(ERR, "matmul", (3,), (4,)):
        sj.matmul(sj.ones(3), sj.ones(4))
    with raises_naming(ERR, "mm", (2, 3, 1), (3, 2)):
        sj.mm(sj.ones(2, 3, 1), sj.ones(3, 2))


def test_cat_stack_shape_mismatch():
    with raises_naming(ERR, "cat", (2, 3), (2, 4)):
        sj.cat([sj.ones(2, 3), sj.ones(2, 4)], 0)
    with raises_naming(ERR, "cat", (2, 3), (3,)):
        sj.cat([sj.ones(2, 3), sj.ones(3)])
    with raises_naming(ERR, "stack", (2, 3), (3, 2)):
        sj.stack([sj.ones(2, 3), sj.ones(3, 2)])


def test_reshape_view_expand_mismatch():
    with raises_naming(ERR, "reshape", (2, 3)):
        sj.ones(2, 3).reshape(4, 2)
    with raises_naming(ERR, "view", (2, 3)):
        sj.ones(2, 3).view(5)
    with raises_naming(ERR, "view", (3, 2)):
        sj.ones(2, 3).T.view(6)
    with raises_naming(ERR, "expand", (2, 3)):
        sj.ones(2, 3).expand(4, 3)
    with raises_naming(ERR, "permute", (2, 3)):
        sj.ones(2, 3).permute(0, 1, 2)


def test_backward_nonscalar_without_gradient():
    x = sj.ones(2, 3, requires_grad=True)
    with raises_naming(RuntimeError, "backward", (2, 3)):
        (x * 2).backward()
    with raises_naming(RuntimeError, "backward", (2, 3)):
        sj.autograd.grad(x * 2, x)


def test_backward_gradient_wrong_shape():
    x = sj.ones(2, 3, requires_grad=True)
    with raises_naming(RuntimeError, "backward", (2, 3), (3,)):
        (x * 2).backward(sj.ones(3))


def test_second_backward_through_freed_graph():
    x = sj.ones(2, 3, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with raises_naming(RuntimeError, r"backward|second time", ()) as info:
        y.backward()
    assert "retain_graph" in str(info.value)
    assert re.search(r"Mul|Sum|Exp", str(info.value)), str(info.value)


def test_inplace_modification_of_saved_tensor():
    a = sj.ones(3, requires_grad=True)
    b = sj.full((3,), 2.0)  # does not require grad
    y = a * b
    b.mul_(2)
    with raises_naming(RuntimeError, "mul", (3,)) as info:
        y.sum().backward()
    assert "in-place" in str(info.value) or "inplace" in str(info.value)
    b = sj.full((3,), 2.0, requires_grad=True)
    y = a * b
    with sj.no_grad():
        b.mul_(2)
    with raises_naming(RuntimeError, "mul", (3,)):
        y.sum().backward()
    e = (a * 1).exp()
    e.add_(1)
    with raises_naming(RuntimeError, "exp", (3,)):
        e.sum().backward()


def test_requires_grad_on_integer_tensor():
    with raises_naming(RuntimeError, "requires_grad", (2,)) as info:
        sj.tensor([1, 2], requires_grad=True)
    assert "int64" in str(info.value)
    with raises_naming(RuntimeError, "requires_grad", (3,)):
        sj.arange(3).requires_grad_()


def test_leaf_inplace_under_grad():
    w = sj.ones(2, 3, requires_grad=True)
    with raises_naming(RuntimeError, "add_", (2, 3)) as info:
        w.add_(1)
    assert "leaf" in str(info.value)
    with raises_naming(RuntimeError, "setitem", (2, 3)):
        w[0] = 1.0
    with raises_naming(RuntimeError, "mul", (2, 3)):
        w *= 2


def test_dtype_problems():
    x = sj.ones(2, 3)
    with raises_naming(RuntimeError, "gather", (2, 3), (2, 1)):
        x.gather(1, sj.zeros(2, 1))
    with raises_naming(RuntimeError, "mean", (3,)):
        sj.tensor([1, 2, 3]).mean()
    with raises_naming(RuntimeError, "masked_fill", (2, 3)):
        x.masked_fill(sj.ones(2, 3), 0.0)
    with pytest.raises((IndexError, RuntimeError)):
        x[sj.tensor([0.5])]
    with raises_naming(RuntimeError, "add", (3,)):
        t = sj.tensor([1, 2, 3])
        t += 0.5
    with raises_naming(RuntimeError, "pow", (2,)):
        sj.tensor([1, 2]) ** -1


def test_index_errors_name_shape():
    x = sj.ones(2, 3)
    with raises_naming(IndexError, "index", (2, 3)):
        x[5]
    with raises_naming(IndexError, r"sum|dim", ()):
        x.sum(4)
    with raises_naming(IndexError, "index_select|index", (2, 3)):
        x.index_select(0, sj.tensor([7]))


def test_no_raw_numpy_errors_escape():
    """Common misuse ends in a shenjing message, not a NumPy one, and never in an AttributeError."""
    x = sj.ones(2, 3)
    calls = [
        lambda: sj.einsum("ij,jk->ik", x, sj.ones(4, 2)),
        lambda: sj.pad(x, (1,)),
        lambda: x.split([1, 1], 1),
        lambda: sj.tensor([[1, 2], [3]]),
        lambda: x.transpose(0, 5),
        lambda: sj.where(sj.ones(4) > 0, x, x),
        lambda: x.scatter_add(0, sj.zeros(2, 3, dtype=sj.int64), sj.ones(3)),
        lambda: sj.dot(sj.ones(3), sj.ones(2)),
        lambda: sj.bmm(sj.ones(2, 2, 3), sj.ones(3, 3, 2)),
    ]
    for f in calls:
        with pytest.raises((ValueError, RuntimeError, IndexError)) as info:
            f()
        assert not type(info.value).__module__.startswith("numpy"), info.value
        assert re.search(r"\d", str(info.value)), str(info.value)  # names some shape or size


def test_shape_error_is_both_value_and_runtime_error():
    with pytest.raises(ValueError):
        sj.ones(2) + sj.ones(3)
    with pytest.raises(RuntimeError):
        sj.ones(2) + sj.ones(3)
    assert issubclass(sj.ShapeError, ValueError) and issubclass(sj.ShapeError, RuntimeError)


def test_bad_numpy_conversion_of_grad_tensor():
    with pytest.raises(RuntimeError, match="detach"):
        sj.ones(2, requires_grad=True).numpy()
    assert np.array_equal(sj.ones(2, requires_grad=True).detach().numpy(), [1.0, 1.0])
