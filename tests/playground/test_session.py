"""Training sessions: data sets, learning, divergence, reset, export; the page's frame."""

from __future__ import annotations

import base64
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from shenjing.playground import datasets
from shenjing.playground.config import parse
from shenjing.playground.export import export_zip
from shenjing.playground.session import GRID, Session


@pytest.mark.parametrize("name", datasets.CLASSIFICATION + datasets.REGRESSION)
def test_datasets(name):
    X, y = datasets.make(name, 0.1, seed=3)
    assert X.shape == (datasets.N_POINTS, 2) and np.abs(X).max() < 9
    if name in datasets.CLASSIFICATION:
        assert set(np.unique(y)) == {-1.0, 1.0} and abs((y > 0).mean() - 0.5) < 0.15
    else:
        assert np.abs(y).max() <= 1
    assert np.array_equal(datasets.make(name, 0.1, seed=3)[0], X)  # seeded


def test_circle_is_learned_and_frames_describe_the_network():
    s = Session(parse("dataset=circle&networkShape=4,4&activation=tanh&learningRate=0.03&batchSize=10"))
    first = s.mean_loss(s.Fte, s.yte)
    for _ in range(80):
        s.train_epoch()
    assert s.history[-1][1] < 0.1 < first and s.epoch == 80
    f = s.frame()
    assert len(base64.b64decode(f["output"])) == GRID * GRID
    assert [len(layer) for layer in f["neurons"]] == [4, 4] and len(f["weights"]) == 3 and len(f["gradNorms"]) == 3
    assert np.array(f["weights"][0]).shape == (4, 2)


def test_divergence_stops_and_reset_recovers():
    s = Session(parse("dataset=reg-plane&networkShape=4&activation=linear&learningRate=10"))
    with np.errstate(all="ignore"):
        s.train_epoch()
    assert s.diverged and "at step" in s.diverged and "learning rate" in s.diverged
    epoch = s.epoch
    s.train_epoch()
    assert s.epoch == epoch  # stopped
    s.cfg.learningRate = 0.01
    s.reset()
    s.train_epoch()
    assert not s.diverged and s.epoch == 1


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "momentum-ema", "nesterov", "adagrad", "rmsprop", "adam", "adamw"])
def test_every_optimizer_trains(optimizer):
    s = Session(parse(f"dataset=gauss&networkShape=3&optimizer={optimizer}&learningRate=0.03&batchNorm=true&dropout=0.1&residual=true"))
    before = s.mean_loss(s.Ftr, s.ytr)
    for _ in range(5):
        s.train_epoch()
    assert s.history[-1][0] < before


def test_zero_initialisation_keeps_the_neurons_identical():
    """The symmetry problem (Fang §8.2): with zero weights every hidden neuron of a layer stays the same."""
    s = Session(parse("dataset=circle&networkShape=3&init=zeros&learningRate=0.3&activation=tanh"))
    for _ in range(3):
        s.train_epoch()
    W = s.net.layers[0].weight.detach().numpy()
    assert np.allclose(W, W[0])


def test_csv_points():
    text = "x1,x2,label\n" + "\n".join(f"{x:.2f},{y:.2f},{int(x * y > 0)}" for x, y in np.random.default_rng(0).uniform(-5, 5, (40, 2)))
    X, y = datasets.parse_csv(text, "classification")
    assert X.shape == (40, 2) and set(np.unique(y)) <= {-1.0, 1.0}
    for bad, why in (("1,2\n3,4\n5,6\n7,8", "three numbers"), ("1,2,3\n", "between 4"), ("9,0,1\n" * 5, "within"),
                     ("1,1,0.5\n" * 5, "labels"), ("a" * (2 << 20), "larger")):
        with pytest.raises(datasets.CSVError, match=why):
            datasets.parse_csv(bad, "classification")


def test_export_script_reproduces_the_predictions(tmp_path):
    s = Session(parse("dataset=spiral&networkShape=5,3&activations=relu,sin&xSquared=true&batchNorm=true"))
    for _ in range(3):
        s.train_epoch()
    with zipfile.ZipFile(__import__("io").BytesIO(export_zip(s))) as z:
        z.extractall(tmp_path)
    pts = np.array([[0.5, -1.0], [3.0, 2.0], [-4.0, 0.25]])
    np.savetxt(tmp_path / "points.csv", pts, delimiter=",")
    out = subprocess.run([sys.executable, tmp_path / "model.py", tmp_path / "points.csv"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = np.array([float(line.split(",")[2]) for line in out.stdout.split()])
    np.testing.assert_allclose(got, s.predict(pts), rtol=1e-5, atol=1e-6)
