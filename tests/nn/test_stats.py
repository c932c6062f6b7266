"""Per-layer activation and gradient statistics recorded through forward and tensor hooks."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn
from shenjing.nn.utils import LayerStats, tensor_stats


def make_model():
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1)).double()


def test_records_match_manual_computation():
    model = make_model()
    x = sj.randn(16, 3, dtype=sj.float64)
    y = sj.randn(16, 1, dtype=sj.float64)
    with LayerStats(model, types=(nn.Linear, nn.ReLU)) as st:
        # the same forward by hand, keeping the intermediates
        h0 = model[0](x)
        h1 = model[1](h0)
        for t in (h0, h1):
            t.retain_grad()
        out = model[4](model[3](model[2](h1)))
        ((out - y) ** 2).mean().backward()
    # no model(...) call: every record is step 0; layers called directly are named by their path
    acts = {r.layer: r for r in st.records if r.kind == "activation"}
    grads = {r.layer: r for r in st.records if r.kind == "gradient"}
    assert set(acts) == {"0", "1", "2", "4"} and set(grads) == {"0", "1", "2", "4"}
    a1 = h1.detach().numpy()
    assert acts["1"].mean == pytest.approx(a1.mean(), abs=1e-12)
    assert acts["1"].std == pytest.approx(a1.std(), abs=1e-12)
    assert acts["1"].norm == pytest.approx(np.linalg.norm(a1), abs=1e-12)
    assert acts["1"].zero_fraction == pytest.approx((a1 == 0).mean())
    assert 0 < acts["1"].zero_fraction < 1
    g0 = h0.grad.numpy()
    assert grads["0"].norm == pytest.approx(np.linalg.norm(g0), rel=1e-12)
    assert grads["0"].zero_fraction == pytest.approx((g0 == 0).mean())
    # ReLU kills the gradient exactly where it killed the activation
    assert grads["0"].zero_fraction >= acts["1"].zero_fraction


def test_steps_history_and_detach():
    model = make_model()
    opt_lr = 0.05
    x = sj.randn(32, 3, dtype=sj.float64)
    y = (x[:, :1] * 2.0).sin()
    st = LayerStats(model)  # all leaf modules
    with st:
        for _ in range(3):
            loss = ((model(x) - y) ** 2).mean()
            model.zero_grad()
            loss.backward()
            with sj.no_grad():
                for p in model.parameters():
                    p -= opt_lr * p.grad
    assert st.layer_names() == ["0", "1", "2", "3", "4"]
    for name in st.layer_names():
        assert len(st.history(name, "activation", "std")) == 3
        assert len(st.history(name, "gradient", "norm")) == 3
    steps = sorted({r.step for r in st.records})
    assert steps == [0, 1, 2]
    d = st.as_dict()
    assert d["4"]["gradient"]["mean"] == st.history("4", "gradient", "mean")
    assert set(st.last("gradient", "norm")) == set(st.layer_names())
    text = st.summary()
    assert "step 2" in text and "activation" in text and "gradient" in text
    # hooks are gone after the with-block
    n = len(st.records)
    model(x).sum().backward()
    assert len(st.records) == n


def test_names_and_errors():
    model = make_model()
    x = sj.randn(4, 3, dtype=sj.float64)
    with LayerStats(model, names=["2"], gradients=False) as st:
        model(x).sum().backward()
    assert {r.layer for r in st.records} == {"2"} and {r.kind for r in st.records} == {"activation"}
    with pytest.raises(KeyError):
        LayerStats(model, names=["nope"]).attach()
    with pytest.raises(ValueError):
        st.history("2", "activation", "median")


def test_tensor_stats_zero_tol():
    s = tensor_stats(sj.tensor([0.0, 1e-9, -2.0, 3.0]), zero_tol=1e-6)
    assert s["zero_fraction"] == 0.5 and s["max"] == 3.0 and s["min"] == -2.0 and s["numel"] == 4
