"""Every in-place method against PyTorch: changing a tensor that a node saved for backward makes that
backward raise; changing one that nothing saved keeps the gradients exact. No silent wrong result."""

import numpy as np
import pytest
import torch

import shenjing as sj


def _moved(name: str, shift: str, by: float):
    """w.shift(by).name_(): first into the function's domain (w is in [0.6, 1.4])."""
    return lambda lib, w: getattr(getattr(w, shift)(by), f"{name}_")()


def _with_half(name: str):
    """w.name_(a tensor of 0.5s)."""
    return lambda lib, w: getattr(w, f"{name}_")(lib.full((2, 3), 0.5, dtype=w.dtype))


# name → the in-place call on a tensor w of shape (2, 3) with values in (0.5, 1.5); ``lib`` is shenjing or torch
INPLACE = {
    "zero_": lambda lib, w: w.zero_(),
    "fill_": lambda lib, w: w.fill_(5.0),
    "copy_": lambda lib, w: w.copy_(lib.ones(2, 3, dtype=w.dtype)),
    "clamp_": lambda lib, w: w.clamp_(min=0.8),
    "clip_": lambda lib, w: w.clip_(max=1.0),
    "add_": lambda lib, w: w.add_(1.0),
    "sub_": lambda lib, w: w.sub_(0.5),
    "mul_": lambda lib, w: w.mul_(2.0),
    "div_": lambda lib, w: w.div_(2.0),
    "pow_": lambda lib, w: w.pow_(2),
    "neg_": lambda lib, w: w.neg_(),
    "abs_": lambda lib, w: w.abs_(),
    "exp_": lambda lib, w: w.exp_(),
    "log_": lambda lib, w: w.log_(),
    "sqrt_": lambda lib, w: w.sqrt_(),
    "relu_": lambda lib, w: w.relu_(),
    "sigmoid_": lambda lib, w: w.sigmoid_(),
    "tanh_": lambda lib, w: w.tanh_(),
    "sin_": lambda lib, w: w.sin_(),
    "cos_": lambda lib, w: w.cos_(),
    "tan_": lambda lib, w: w.tan_(),
    "atan_": lambda lib, w: w.atan_(),
    "arctan_": lambda lib, w: w.arctan_(),
    "erf_": lambda lib, w: w.erf_(),
    **{f"{n}_": _moved(n, "mul_", 0.5) for n in ("asin", "arcsin", "acos", "arccos", "atanh", "arctanh")},
    **{f"{n}_": _moved(n, "add_", 1.0) for n in ("acosh", "arccosh")},
    **{f"{n}_": _moved(n, "mul_", 1.0) for n in ("sinh", "cosh", "asinh", "arcsinh", "exp2", "log10")},
    "expm1_": lambda lib, w: w.expm1_(),
    "log1p_": lambda lib, w: w.log1p_(),
    "log2_": lambda lib, w: w.log2_(),
    "rsqrt_": lambda lib, w: w.rsqrt_(),
    "reciprocal_": lambda lib, w: w.reciprocal_(),
    "square_": lambda lib, w: w.square_(),
    "sign_": lambda lib, w: w.sign_(),
    "floor_": lambda lib, w: w.floor_(),
    "ceil_": lambda lib, w: w.ceil_(),
    "round_": lambda lib, w: w.round_(),
    "trunc_": lambda lib, w: w.trunc_(),
    "remainder_": lambda lib, w: w.remainder_(0.7),
    "fmod_": lambda lib, w: w.fmod_(0.7),
    "floor_divide_": lambda lib, w: w.floor_divide_(0.5),
    "maximum_": lambda lib, w: w.copy_(lib.maximum(w, lib.ones(2, 3, dtype=w.dtype))),
    "minimum_": lambda lib, w: w.copy_(lib.minimum(w, lib.ones(2, 3, dtype=w.dtype))),
    "masked_fill_": lambda lib, w: w.masked_fill_(w > 1.0, 0.0),
    "scatter_": lambda lib, w: w.scatter_(1, lib.tensor([[0], [2]]), 0.0),
    "scatter_add_": lambda lib, w: w.scatter_add_(1, lib.tensor([[0], [2]]), lib.ones(2, 1, dtype=w.dtype)),
    "index_add_": lambda lib, w: w.index_add_(1, lib.tensor([0, 2, 0]), lib.ones(2, 3, dtype=w.dtype)),
    "index_copy_": lambda lib, w: w.index_copy_(1, lib.tensor([2, 0]), lib.ones(2, 2, dtype=w.dtype)),
    "index_fill_": lambda lib, w: w.index_fill_(0, lib.tensor([1]), 0.5),
    "scatter_reduce_": lambda lib, w: w.scatter_reduce_(1, lib.tensor([[0, 0], [2, 1]]), lib.full((2, 2), 2.0, dtype=w.dtype), "prod"),
    "masked_scatter_": lambda lib, w: w.masked_scatter_(w > 1.0, lib.zeros(6, dtype=w.dtype)),
    "addmm_": lambda lib, w: w.addmm_(lib.ones(2, 4, dtype=w.dtype), lib.ones(4, 3, dtype=w.dtype), beta=0.5),
    "baddbmm_": lambda lib, w: w.unsqueeze(0).baddbmm_(lib.ones(1, 2, 4, dtype=w.dtype), lib.ones(1, 4, 3, dtype=w.dtype), alpha=2),
    **{f"{n}_": _with_half(n) for n in ("atan2", "arctan2", "hypot", "xlogy", "copysign")},
    "lerp_": lambda lib, w: w.lerp_(lib.ones(2, 3, dtype=w.dtype), 0.3),
    "frac_": lambda lib, w: w.mul_(3.0).frac_(),
    "sinc_": lambda lib, w: w.sinc_(),
    "nan_to_num_": lambda lib, w: w.nan_to_num_(),
    "cumprod_": lambda lib, w: w.cumprod_(1),
    "bitwise_left_shift_": lambda lib, w: w.bitwise_left_shift_(1),  # a float tensor: refused by both
    "bitwise_right_shift_": lambda lib, w: w.bitwise_right_shift_(1),
    "uniform_": lambda lib, w: w.uniform_(),
    "normal_": lambda lib, w: w.normal_(),
    "bernoulli_": lambda lib, w: w.bernoulli_(0.5),
    "setitem": lambda lib, w: w.__setitem__((0, 1), 3.0),
    "setitem_slice": lambda lib, w: w.__setitem__((slice(None), 0), lib.zeros(2, dtype=w.dtype)),
    "iadd": lambda lib, w: w.__iadd__(1.0),
    "isub": lambda lib, w: w.__isub__(1.0),
    "imul": lambda lib, w: w.__imul__(3.0),
    "itruediv": lambda lib, w: w.__itruediv__(3.0),
}
# torch refuses these under autograd
NOT_DIFFERENTIABLE = {"uniform_", "normal_", "bernoulli_", "floor_divide_", "acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_"}


def test_the_sweep_covers_every_inplace_method():
    methods = {n for n in dir(sj.Tensor) if n.endswith("_") and not n.startswith("_") and callable(getattr(sj.Tensor, n))}
    assert methods - {"requires_grad_", "detach_"} <= set(INPLACE)


def _run(lib, name: str, w0: np.ndarray, saved: bool):
    """x → w = 2x → an op that saves w (w·w) or does not (w.sum()) → in-place change of w → backward."""
    x = lib.tensor(w0, requires_grad=True)
    w = x * 2.0
    y = (w * w).sum() if saved else w.sum() * 3.0
    try:
        INPLACE[name](lib, w)
    except RuntimeError as e:
        return "refused", str(e)
    try:
        (y + w.sum()).backward() if w.requires_grad else y.backward()
    except RuntimeError as e:
        return "raised", str(e)
    return "ok", None if x.grad is None else x.grad.detach().numpy() if lib is torch else x.grad.numpy()


@pytest.mark.parametrize("saved", [True, False], ids=["saved", "not-saved"])
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_change_is_caught_like_pytorch(name, saved, rng):
    w0 = rng.uniform(0.3, 0.7, (2, 3))
    sj.manual_seed(0)
    torch.manual_seed(0)
    got_s, got_t = _run(sj, name, w0, saved), _run(torch, name, w0, saved)
    if name in NOT_DIFFERENTIABLE:
        assert got_s[0] in ("refused", "raised") or got_t[0] == "ok", (got_s, got_t)
        return
    assert got_s[0] == got_t[0], f"{name}: shenjing {got_s}, torch {got_t}"
    if got_s[0] == "raised":
        assert "modified by an inplace operation" in got_s[1] and "shape (2, 3)" in got_s[1]
    if got_s[0] == "ok" and got_t[1] is not None:
        np.testing.assert_allclose(got_s[1], got_t[1], rtol=1e-12, atol=1e-12)


def _touch(p):
    with p.inplace():
        pass


def test_an_optimiser_style_update_of_a_saved_leaf_raises():
    """A parameter changed between forward and backward (p.inplace(), an optimiser step, no_grad add_)."""
    for change in (_touch, lambda p: sj.optim.SGD([p], lr=0.1).step(),
                   lambda p: sj.no_grad().__enter__() or p.add_(1.0)):
        p = sj.tensor([1.0, 2.0], requires_grad=True)
        p.grad = sj.ones(2)
        loss = (p * p).sum()
        change(p)
        sj.set_grad_enabled(True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()
