"""TransformerEncoderLayer and TransformerEncoder against torch with torch's weights loaded (float64,
forward and backward): post- and pre-norm, ReLU and GELU, masks, batch_first, train mode with
dropout 0 and eval mode; stored attention weights; the sequence tasks and the registered
``transformer`` model of ``shenjing train``."""

import json

import numpy as np
import pytest
import torch

import shenjing as sj
import shenjing.nn as nn
from shenjing.nn.transformer import generate_square_subsequent_mask

TOL = {"rtol": 1e-9, "atol": 1e-11}


def load_from_torch(s_mod, t_mod):
    s_mod.load_state_dict({k: v.detach().numpy().copy() for k, v in t_mod.state_dict().items()})
    return s_mod


def close(a, b, what=""):
    a = a.detach().numpy() if isinstance(a, sj.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, **TOL)


def perturb(t_mod, rng):
    """Non-trivial LayerNorm affine and biases (torch starts them at 1 and 0)."""
    with torch.no_grad():
        for p in t_mod.parameters():
            if p.ndim == 1:
                p.add_(torch.tensor(rng.standard_normal(p.shape) * 0.3))


def run_both(rng, s, t, x, **kw):
    xs, xt = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    kw_s = {k: (sj.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    kw_t = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    ys, yt = s(xs, **kw_s), t(xt, **kw_t)
    close(ys, yt, "output")
    g = rng.standard_normal(tuple(yt.shape))
    (ys * sj.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    close(xs.grad, xt.grad, "grad of the input")
    tp = dict(t.named_parameters())
    names = [n for n, _ in s.named_parameters()]
    assert names == list(tp)
    for name, p in s.named_parameters():
        close(p.grad, tp[name].grad, f"grad of {name}")
    return ys


def layer_pair(rng, d=16, nhead=4, ff=24, **kw):
    torch.manual_seed(int(rng.integers(1 << 30)))
    t = torch.nn.TransformerEncoderLayer(d, nhead, ff, **kw).double()
    perturb(t, rng)
    s = load_from_torch(nn.TransformerEncoderLayer(d, nhead, ff, **kw).double(), t)
    return s, t


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer(rng, norm_first, activation, mode):
    s, t = layer_pair(rng, dropout=0.0 if mode == "train" else 0.3, activation=activation, norm_first=norm_first,
                      batch_first=True)
    s.train(mode == "train")
    t.train(mode == "train")
    x = rng.standard_normal((3, 6, 16))
    kpm = np.zeros((3, 6), bool)
    kpm[1, 4:] = True
    run_both(rng, s, t, x)
    s.zero_grad()
    t.zero_grad()
    run_both(rng, s, t, x, src_key_padding_mask=np.where(kpm, -np.inf, 0.0), src_mask=rng.standard_normal((6, 6)))
    s.zero_grad()
    t.zero_grad()
    run_both(rng, s, t, x, src_key_padding_mask=kpm, src_mask=rng.random((6, 6)) < 0.2)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_seq_first_causal_and_no_bias(rng, norm_first):
    s, t = layer_pair(rng, dropout=0.0, norm_first=norm_first, activation="gelu")
    x = rng.standard_normal((6, 2, 16))  # (L, N, E)
    causal = generate_square_subsequent_mask(6, dtype=sj.float64).numpy()
    np.testing.assert_array_equal(causal, torch.nn.Transformer.generate_square_subsequent_mask(6).numpy())
    run_both(rng, s, t, x, src_mask=causal, is_causal=True)
    s, t = layer_pair(rng, dropout=0.0, norm_first=norm_first, bias=False, batch_first=True)
    run_both(rng, s, t, rng.standard_normal((2, 5, 16)), src_mask=np.triu(np.ones((5, 5), bool), 1))


def test_encoder_layer_eval_against_torch_fast_path(rng):
    """torch uses its fused inference path under no_grad in eval mode: same numbers."""
    for norm_first in (False, True):
        s, t = layer_pair(rng, dropout=0.1, norm_first=norm_first, batch_first=True)
        s.eval()
        t.eval()
        x = rng.standard_normal((3, 6, 16))
        kpm = np.zeros((3, 6), bool)
        kpm[0, 3:] = True
        with torch.no_grad():
            yt = t(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        with sj.no_grad():
            ys = s(sj.tensor(x), src_key_padding_mask=sj.tensor(kpm))
        mask = ~kpm[..., None].repeat(16, -1)  # torch's fast path leaves padded positions at 0
        close(np.where(mask, ys.numpy(), 0), np.where(mask, yt.numpy(), 0))


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack(rng, norm):
    tl = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm)
    t = torch.nn.TransformerEncoder(tl, 3, norm=torch.nn.LayerNorm(16) if norm else None,
                                    enable_nested_tensor=False).double()
    perturb(t, rng)
    sl = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm)
    s = nn.TransformerEncoder(sl, 3, norm=nn.LayerNorm(16) if norm else None).double()
    assert list(s.state_dict()) == list(t.state_dict())
    load_from_torch(s, t)
    x = rng.standard_normal((2, 7, 16))
    kpm = np.zeros((2, 7), bool)
    kpm[0, 5:] = True
    run_both(rng, s, t, x, src_key_padding_mask=kpm)
    s.zero_grad()
    t.zero_grad()
    causal = generate_square_subsequent_mask(7, dtype=sj.float64).numpy()
    run_both(rng, s, t, x, mask=causal)  # detected as causal, like torch
    # the copies are independent
    s.layers[0].linear1.weight.data.zero_()
    assert s.layers[1].linear1.weight.detach().numpy().any()


def test_state_dict_keys_match_torch_and_round_trip():
    t = torch.nn.TransformerEncoderLayer(32, 4, 64)
    s = nn.TransformerEncoderLayer(32, 4, 64)
    assert {k: tuple(v.shape) for k, v in s.state_dict().items()} == {k: tuple(v.shape) for k, v in t.state_dict().items()}
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in s.state_dict().items()})  # shenjing → torch
    names = dict(s.named_children())
    for n in ("self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"):
        assert n in names


def test_stored_attention_weights(rng):
    tl = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True).double()
    s = load_from_torch(nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True).double(), tl)
    x = rng.standard_normal((2, 5, 16))
    y0 = s(sj.tensor(x))
    s.store_attention = True
    y1 = s(sj.tensor(x))
    close(y0, y1.detach().numpy())
    w = s.attn_weights
    assert w.shape == (2, 4, 5, 5) and not w.requires_grad
    _, wt = tl.self_attn(*(torch.tensor(x),) * 3, average_attn_weights=False)
    close(w, wt)
    enc = nn.TransformerEncoder(s, 2).store_attention(True)
    enc(sj.tensor(x))
    assert [a.shape for a in enc.attention_weights] == [(2, 4, 5, 5)] * 2


def test_layer_errors():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=sj.nn.functional.silu, batch_first=True)
    assert layer(sj.randn(2, 3, 8)).shape == (2, 3, 8)


# ------------------------------------------------------------------ the sequence model and tasks


def test_sequence_transformer_and_attention_maps():
    m = nn.SequenceTransformer(12, 10, d_model=16, nhead=2, num_layers=2, max_len=32)
    x = sj.randint(0, 12, (3, 9))
    out = m(x)
    assert out.shape == (3, 9, 10)
    maps = m.attention_maps(x)
    assert len(maps) == 2 and maps[0].shape == (3, 2, 9, 9)
    np.testing.assert_allclose(maps[1].numpy().sum(-1), 1.0, rtol=1e-5)
    assert m.training and not m.encoder.layers[0].store_attention
    ml = nn.SequenceTransformer(12, 10, d_model=16, nhead=2, positional="learned", norm_first=False)
    assert "pos.weight" in ml.state_dict() and ml(x).shape == (3, 9, 10)


def test_sequence_tasks_and_metrics():
    from shenjing.train.registry import DATASETS, MODELS, build_model, build_task
    from shenjing.train.sequence import SequenceCrossEntropyLoss, sequence_accuracy, token_accuracy

    assert {"sort", "reverse", "copy", "addition"} <= set(DATASETS) and "transformer" in MODELS
    cfg = {"seed": 0, "batch_size": 16, "val_size": 32, "subset": 64, "opt": ["test_size=48", "length=6"]}
    task = build_task("sort", cfg)
    x, y = next(iter(task.train))
    assert x.shape == (16, 6) and np.all(np.diff(y.numpy(), axis=1) >= 0)
    np.testing.assert_array_equal(np.sort(x.numpy(), 1), y.numpy())
    assert task.input_shape == (6,) and task.num_classes == 10 and len(task.test.dataset) == 48
    assert task.metrics[0] is sequence_accuracy
    xr, yr = next(iter(build_task("reverse", cfg).test))
    np.testing.assert_array_equal(xr.numpy()[:, ::-1], yr.numpy())
    ta = build_task("addition", {**cfg, "opt": ["digits=2"]})
    xa, ya = next(iter(ta.test))
    assert ta.input_shape == (5,) and ta.num_classes == 11 and ya.shape[1] == 3
    a = xa.numpy()[:, 0] * 10 + xa.numpy()[:, 1]
    b = xa.numpy()[:, 3] * 10 + xa.numpy()[:, 4]
    np.testing.assert_array_equal(ya.numpy() @ np.array([100, 10, 1]), a + b)
    # metrics: whole-sequence accuracy counts a sequence only when every position is right
    logits = np.zeros((2, 3, 4))
    target = np.array([[1, 2, 3], [0, 0, 0]])
    logits[0, [0, 1, 2], [1, 2, 3]] = 1
    logits[1, [0, 1, 2], [0, 1, 0]] = 1
    assert sequence_accuracy(logits, target) == 0.5
    assert token_accuracy(logits, target) == pytest.approx(5 / 6)
    # the target is aligned with the last positions of a longer output (addition)
    assert sequence_accuracy(np.concatenate([np.zeros((2, 2, 4)), logits], 1), target) == 0.5
    m = build_model("transformer", ta.input_shape, ta.num_classes, d_model=16, nhead=2, num_layers=1, hidden=[512])
    out = m(xa)
    loss = SequenceCrossEntropyLoss()(out, ya)
    ref = sj.nn.functional.cross_entropy(out[:, 2:].reshape(-1, 11), ya.reshape(-1))
    assert loss.item() == pytest.approx(ref.item())
    loss.backward()


def test_cli_trains_the_transformer_on_sort(tmp_path):
    from shenjing.cli import main

    out = tmp_path / "sort"
    rc = main(["train", "--dataset", "sort", "--model", "transformer", "--epochs", "2", "--subset", "2000",
               "--val-size", "200", "--batch-size", "64", "--dropout", "0", "--lr", "3e-3", "--quiet",
               "--opt", "d_model=32", "--opt", "num_layers=1", "--opt", "length=5", "--opt", "test_size=500",
               "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "test_sequence_accuracy" in metrics and "test_token_accuracy" in metrics
    assert metrics["test_token_accuracy"] > 0.5  # learning (chance is 0.1)
    assert (out / "curves.png").exists() and not (out / "confusion.png").exists()
    assert (out / "attention.png").stat().st_size > 1000  # the attention maps of the first test sequence
