"""residual-forms: the quick run's numbers, and every block form against the same block written in torch."""

import math

import numpy as np
import pytest
import torch

import shenjing as sj
from shenjing.lab.core import run_experiment
from shenjing.lab.experiments.residual_forms import FORMS, IDENTITY, RELU, FormBlock, formula, stack, teacher_data


def test_residual_forms_quick_numbers(tmp_path):
    r = run_experiment("residual-forms", tmp_path, quick=True)
    m = r["measured"]
    assert r["verdict"]
    assert all(abs(v - math.sqrt(math.e)) < 0.25 for v in m["grad_ratio_identity"])  # (1 + 1/L)^{L/2} → √e
    assert m["final_loss"]["0.5x + F(x)"] > 0.99  # the input never reaches the head: the loss stays at Var y = 1
    assert m["final_loss"][IDENTITY] < 0.01 * m["final_loss"]["g⊙x + (1−g)⊙F(x), b = 0"]


def _torch_block(block: FormBlock, x: torch.Tensor) -> torch.Tensor:
    """The block's formula in torch with its weights: λx + F(x), relu of it, or g⊙x + (1 − g)⊙F(x)."""
    W = {k: torch.tensor(v.detach().numpy()) for k, v in block.state_dict().items()}
    f = torch.relu(x @ W["branch.0.weight"].T + W["branch.0.bias"]) @ W["branch.2.weight"].T + W["branch.2.bias"]
    if block.gate is not None:
        g = torch.sigmoid(x @ W["gate.weight"].T + W["gate.bias"])
        return g * x + (1 - g) * f
    h = block.lam * x + f
    return torch.relu(h) if block.relu_after else h


@pytest.mark.parametrize("form", list(FORMS))
def test_block_matches_torch_forward_and_input_gradient(form):
    g = sj.Generator().manual_seed(1)
    block = FormBlock(form, 6, 4, g).double()
    with sj.no_grad():  # non-zero biases, so the test sees them
        for p in block.parameters():
            p.data = p.data + 0.1
    rng = np.random.default_rng(0)
    x, r = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    xs = sj.tensor(x, requires_grad=True)
    (block(xs) * sj.tensor(r)).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    out = _torch_block(block, xt)
    (out * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(block(sj.tensor(x)).detach().numpy(), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_input_gradient_follows_the_formula_in_expectation():
    g = sj.Generator().manual_seed(0)
    for form, depth in (("0.5x + F(x)", 6), ("1.5x + F(x)", 6), (IDENTITY, 12)):
        ratios = []
        for _ in range(4):
            x = sj.randn(256, 128, generator=g, dtype=sj.float64, requires_grad=True)
            r = sj.randn(256, 128, generator=g, dtype=sj.float64)
            (stack(form, 128, depth, g)(x) * r).sum().backward()
            ratios.append(float(x.grad.norm().item() / r.norm().item()))
        assert abs(math.log(np.mean(ratios) / formula(form, depth))) < 0.1, (form, ratios)


def test_relu_after_the_sum_zeroes_the_gradient_where_it_cuts():
    g = sj.Generator().manual_seed(2)
    block = FormBlock(RELU, 16, 8, g).double()
    x = sj.randn(32, 16, generator=g, dtype=sj.float64, requires_grad=True)
    h = block(x)
    h.sum().backward()
    cut = h.detach().numpy() == 0
    assert 0.3 < cut.mean() < 0.7  # about half of x + F(x) < 0 for x ~ N(0, I) and a small branch
    ref = FormBlock(IDENTITY, 16, 8, sj.Generator().manual_seed(2)).double()
    x2 = sj.tensor(x.detach().numpy(), requires_grad=True)
    (ref(x2) * sj.tensor((~cut).astype(np.float64))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12, atol=1e-12)  # the identity's gradient, masked


def test_teacher_targets_are_standardised():
    X, y = teacher_data(np.random.default_rng(0))
    assert X.shape == (256, 8) and y.shape == (256, 1)
    assert abs(float(y.mean().item())) < 1e-12 and abs(float((y * y).mean().item()) - 1) < 1e-12  # zero head: loss 1 at init
