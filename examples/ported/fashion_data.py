"""Fashion-MNIST as NumPy arrays, read from the installed IDX files with gzip and NumPy only (no
framework): the same data for the PyTorch and the shenjing form of a program.

Looked for in $SHENJING_DATA/fashion-mnist, $SHENJING_DATA and /usr/share/datasets/fashion-mnist
(Debian: apt-get install dataset-fashion-mnist).
"""

import gzip
import os

import numpy as np

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def data_dir():
    env = os.environ.get("SHENJING_DATA")
    candidates = ([os.path.join(env, "fashion-mnist"), env] if env else []) + ["/usr/share/datasets/fashion-mnist"]
    for d in candidates:
        if os.path.isfile(os.path.join(d, FILES["train"][0])):
            return d
    raise FileNotFoundError("Fashion-MNIST not found in " + ", ".join(candidates) + " (apt-get install dataset-fashion-mnist)")


def load(split, n=None):
    """(images uint8 (N, 28, 28), labels int64 (N,)) of the first ``n`` samples of ``split``."""
    img_file, lbl_file = FILES[split]
    with gzip.open(os.path.join(data_dir(), img_file)) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(data_dir(), lbl_file)) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images[:n].copy(), labels[:n].copy()
