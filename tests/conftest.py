import sys
from pathlib import Path

import numpy as np
import pytest

# Test modules are imported with --import-mode=importlib (test files in different folders may share
# a name, mirroring the package); the shared helpers (torch_compare, optim_helpers) live here.
sys.path.insert(0, str(Path(__file__).parent))

import shenjing as sj


@pytest.fixture
def rng():
    """A fresh NumPy generator per test (inputs are random but reproducible per run)."""
    return np.random.default_rng()


@pytest.fixture(autouse=True)
def _seed():
    sj.manual_seed(0)
    yield
