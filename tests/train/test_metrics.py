import numpy as np
import torch

from shenjing.train import accuracy, confusion_matrix, mae, mse, r2, top_k_accuracy


def test_classification_metrics(rng):
    out, y = rng.standard_normal((50, 4)), rng.integers(0, 4, 50)
    assert accuracy(out, y) == (out.argmax(1) == y).mean()
    top2 = torch.topk(torch.tensor(out), 2).indices.numpy()
    assert top_k_accuracy(out, y, 2) == (top2 == y[:, None]).any(1).mean()
    cm = confusion_matrix(out, y, 4)
    assert cm.sum() == 50 and np.trace(cm) == (out.argmax(1) == y).sum()
    assert cm[y[0], out[0].argmax()] >= 1


def test_regression_metrics(rng):
    p, t = rng.standard_normal(30), rng.standard_normal(30)
    assert np.isclose(mse(p, t), ((p - t) ** 2).mean())
    assert np.isclose(mae(p, t), np.abs(p - t).mean())
    assert np.isclose(r2(p, t), 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum())
    assert r2(t, t) == 1.0
