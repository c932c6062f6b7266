"""Download the trained playground network: ``model.safetensors`` and ``model.py``, a shenjing
script that rebuilds the network from its configuration, loads those weights and predicts."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from ..nn.serialization import save
from .session import Session

SCRIPT = '''"""The shenjing playground network (configuration below), rebuilt with its trained weights.

    python model.py                 # predictions on a few points
    python model.py points.csv      # predictions for each row x1,x2 of a CSV file
"""

import sys
from pathlib import Path

import numpy as np

import shenjing as sj
from shenjing.playground.config import parse
from shenjing.playground.network import PlaygroundNet, features

CONFIG = "{hash}"

cfg = parse(CONFIG)
net = PlaygroundNet(cfg)
net.load_state_dict(sj.load(Path(__file__).with_name("model.safetensors")))
net.eval()


def predict(points) -> np.ndarray:
    """The network's output for points (n, 2): tanh output in [−1, 1] (classification: its sign
    is the class) or the regression value."""
    with sj.no_grad():
        return net(features(cfg, np.asarray(points, dtype=np.float32))).numpy()


if __name__ == "__main__":
    pts = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)[:, :2] if len(sys.argv) > 1 else np.array([[0, 0], [2, 2], [-3, 4]])
    for (x1, x2), out in zip(pts, predict(pts)):
        print(f"{{x1:g}},{{x2:g}},{{out:.6f}}")
'''


def export_zip(session: Session) -> bytes:
    """A zip holding model.safetensors and model.py for ``session``'s network."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        save(session.net.state_dict(), path)
        weights = path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model.safetensors", weights)
        z.writestr("model.py", SCRIPT.format(hash=session.cfg.to_hash()))
    return buf.getvalue()
