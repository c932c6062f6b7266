"""Spot check for vectorisation: Zhao's column layout WX + b̃ equals the row layout XWᵀ + b."""

import numpy as np

import shenjing as sj


def test_column_and_row_layouts():
    rng = np.random.default_rng(0)
    X = sj.tensor(rng.normal(size=(3, 4)), dtype=sj.float64)  # 3 samples as rows
    W = sj.tensor(rng.normal(size=(5, 4)), dtype=sj.float64)
    b = sj.tensor(rng.normal(size=5), dtype=sj.float64)
    z_col = W @ X.T + b.unsqueeze(1).repeat(1, 3)  # eqs. 87-88
    z_row = X @ W.T + b  # eq. 89
    assert np.abs(z_col.numpy() - z_row.numpy().T).max() < 1e-12
