"""The notes' batch-norm forms (Fang §8.2: (h − m)/(s + ε); Nelson: one scalar variance) as options of
batch_norm and BatchNorm1d/2d, against the formulas written in torch (float64) and by gradcheck."""

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn.functional as F
from shenjing import nn
from shenjing.autograd import gradcheck
from shenjing.onnx import UnsupportedOperatorError, export

FORMS = [("sqrt", "per_feature"), ("std_plus_eps", "per_feature"), ("sqrt", "scalar"), ("std_plus_eps", "scalar")]


def torch_form(x, w, b, eps, eps_form, stats):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    d = x - x.mean(axes, keepdim=True)
    var = (d * d).mean(axes, keepdim=True)
    if stats == "scalar":
        var = var.sum(1, keepdim=True)
    h = d / ((var + eps).sqrt() if eps_form == "sqrt" else var.sqrt() + eps)
    return h * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("eps_form,stats", FORMS)
@pytest.mark.parametrize("shape", [(7, 3), (4, 3, 5), (3, 3, 2, 4)])
def test_forms_forward_backward_against_torch(eps_form, stats, shape):
    rng = np.random.default_rng(1)
    xa, wa, ba, ga = rng.normal(size=shape) * 2 + 1, rng.normal(size=3), rng.normal(size=3), rng.normal(size=shape)
    x, w, b = (sj.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    y = F.batch_norm(x, None, None, w, b, training=True, eps=1e-2, eps_form=eps_form, stats=stats)
    (y * sj.tensor(ga)).sum().backward()
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    if (eps_form, stats) == ("sqrt", "per_feature"):
        yt = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-2)
    else:
        yt = torch_form(xt, wt, bt, 1e-2, eps_form, stats)
    (yt * torch.tensor(ga)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("eps_form,stats", FORMS[1:])
def test_forms_gradcheck(eps_form, stats):
    x = sj.randn(5, 3, 2, 2, dtype=sj.float64, requires_grad=True)
    w, b = sj.randn(3, dtype=sj.float64, requires_grad=True), sj.randn(3, dtype=sj.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True, eps=1e-3, eps_form=eps_form, stats=stats), (x, w, b))


def test_module_running_stats_and_eval_use_the_form():
    sj.manual_seed(0)
    m = nn.BatchNorm2d(3, eps=0.5, eps_form="std_plus_eps", stats="scalar").double()
    x = sj.randn(6, 3, 4, 4, dtype=sj.float64) * 3
    m(x)
    xa = x.numpy()
    n = xa.size // 3
    s2 = xa.var((0, 2, 3)).sum()
    np.testing.assert_allclose(m.running_var.numpy(), 0.9 + 0.1 * s2 * n / (n - 1))
    m.eval()
    want = (xa - m.running_mean.numpy()[None, :, None, None]) / (np.sqrt(m.running_var.numpy()[None, :, None, None]) + 0.5)
    np.testing.assert_allclose(m(x).detach().numpy(), want, rtol=1e-12)
    assert "eps_form='std_plus_eps'" in repr(m)


def test_default_unchanged_against_torch_module():
    sj.manual_seed(0)
    m, t = nn.BatchNorm1d(4).double(), torch.nn.BatchNorm1d(4).double()
    x = np.random.default_rng(0).normal(size=(8, 4))
    np.testing.assert_allclose(m(sj.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), t.running_var.numpy())


def test_bad_forms_and_onnx_refusal(tmp_path):
    with pytest.raises(ValueError, match="eps_form"):
        nn.BatchNorm1d(3, eps_form="plus")
    with pytest.raises(ValueError, match="batch_norm: eps_form"):
        F.batch_norm(sj.randn(4, 3), None, None, training=True, stats="layer")
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, stats="scalar"))
    with pytest.raises(UnsupportedOperatorError, match="'1' .*stats='scalar'"):
        export(model, (sj.randn(2, 2),), tmp_path / "m.onnx")
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm1d(3, eps_form="std_plus_eps")))
    assert sync[0].eps_form == "std_plus_eps"  # in a world of one process it is exactly the layer above
