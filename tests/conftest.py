import numpy as np
import pytest

import shenjing as sj


@pytest.fixture
def rng():
    """A fresh NumPy generator per test (inputs are random but reproducible per run)."""
    return np.random.default_rng()


@pytest.fixture(autouse=True)
def _seed():
    sj.manual_seed(0)
    yield
