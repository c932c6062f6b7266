import numpy as np
import torch

import shenjing as sj


def test_mlp_grad_matches_torch(rng):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    xs, ws, bs = (sj.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (xs @ ws.T + bs).relu().sum().backward()
    (xt @ wt.T + bt).relu().sum().backward()
    for s, t in ((xs, xt), (ws, wt), (bs, bt)):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12)
