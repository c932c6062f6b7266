"""housing: the house-price networks of Zhao §2 — a single ReLU neuron never predicts a negative
price, and the hand-wired 12-parameter network against the 19-parameter fully connected one.

Zhao eq. (6): a straight line fitted to prices can go negative for small houses; the neuron
h(x) = max(wᵀx + b, 0) (eq. 8) cannot. Eqs. (9)–(12) wire a network by hand from prior knowledge —
family size a1 = ReLU(θ1 x1 + θ2 x2 + θ3) from size and bedrooms, walkability a2 = ReLU(θ4 x3 + θ5)
from the zip code, school quality a3 = ReLU(θ6 x3 + θ7 x4 + θ8) from zip code and wealth, price
θ9 a1 + θ10 a2 + θ11 a3 + θ12 — 12 parameters. The fully connected version (eqs. 13–15, 12) lets
every hidden unit see all four inputs: (4 + 1)·3 + (3 + 1)·1 = 19 parameters, by the count
(d + 1)m₁ + (m₁ + 1)m₂ of Zhao §2. The notes' point: the dense net needs no prior knowledge, it
finds useful features itself. ``shenjing.data.toy.housing`` generates prices from exactly the
hand-wired structure plus noise (σ = 10, prices in thousands), so both nets can reach the noise floor.

Both are trained with Adam on standardised inputs and prices (feature scaling), several restarts
each, the restart kept by validation loss. For training the hand-wired net is written as the dense
4-3-1 net with its first-layer weights multiplied by a fixed 0/1 connectivity mask (5 of the 12
weights kept: 5 + 3 + 3 + 1 = 12 parameters); restarts run side by side as one batched computation
(independent copies, summed loss). The chosen weights are loaded into the real modules
(``HandWiredHousing`` with θ1..θ12 and ``nn.Sequential(Linear(4, 3), ReLU(), Linear(3, 1))``), which
make the predictions that are evaluated.
"""

from __future__ import annotations

import math

from ...backend import xp
from ..core import experiment, single_threaded_blas


def _hand_module():
    import shenjing as sj
    from shenjing import nn

    class HandWiredHousing(nn.Module):
        """Zhao eqs. (9)–(12): θ1..θ12 as one parameter vector ``theta`` (12 parameters)."""

        def __init__(self, theta=None):
            super().__init__()
            self.theta = nn.Parameter(sj.zeros(12, dtype=sj.float64) if theta is None
                                      else sj.tensor(theta, dtype=sj.float64))

        @staticmethod
        def apply(t, x):  # t (12,) or (R, 12) for R copies; x (n, 4) -> (n, 1) or (R, n, 1)
            x1, x2, x3, x4 = (x[:, i] for i in range(4))
            th = [t[..., i:i + 1] for i in range(12)]
            a1 = (th[0] * x1 + th[1] * x2 + th[2]).relu()
            a2 = (th[3] * x3 + th[4]).relu()
            a3 = (th[5] * x3 + th[6] * x4 + th[7]).relu()
            return (th[8] * a1 + th[9] * a2 + th[10] * a3 + th[11]).unsqueeze(-1)

        def forward(self, x):
            return self.apply(self.theta, x)

    return HandWiredHousing


#: which inputs each hidden unit sees in Zhao eqs. (9)–(11): a1 ← (x1, x2), a2 ← x3, a3 ← (x3, x4)
HAND_MASK = xp.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]], float)


def theta_from_masked(W1, b1, W2, b2):
    """θ1..θ12 of eqs. (9)–(12) from a 4-3-1 net whose first layer is masked by ``HAND_MASK``."""
    return xp.array([W1[0, 0], W1[0, 1], b1[0], W1[1, 2], b1[1], W1[2, 2], W1[2, 3], b1[2],
                     W2[0], W2[1], W2[2], b2[0]])


def _train_restarts(mask, Xtr, Ytr, Xva, Yva, restarts, steps, rng, lr=0.03):
    """Train ``restarts`` independent 4-3-1 ReLU nets at once, the first layer's weights multiplied by
    ``mask`` (all ones: the dense net; ``HAND_MASK``: the hand-wired one — masked weights get zero
    gradient and stay 0). Returns (W1, b1, W2, b2) of the restart best on validation, and all
    validation losses."""
    import shenjing as sj
    from shenjing import nn, optim

    R = restarts
    M = sj.tensor(mask, dtype=sj.float64)
    fan = mask.sum(1)  # nn.Linear-like scale U(±1/√fan_in) per unit
    W1 = nn.Parameter(sj.tensor(rng.uniform(-1, 1, (R, 3, 4)) / xp.sqrt(fan)[:, None] * mask, dtype=sj.float64))
    # each unit's kink wᵀx + b = 0 passes through a random training sample, so every unit starts
    # active on part of the data and inactive on the rest (no dead units, kinks inside the data)
    w0 = W1.detach().numpy()
    anchors = Xtr.numpy()[rng.integers(0, Xtr.shape[0], (R, 3))]  # (R, 3, 4)
    b1 = nn.Parameter(sj.tensor(-(w0 * anchors).sum(-1)[:, None, :], dtype=sj.float64))
    W2 = nn.Parameter(sj.tensor(rng.uniform(-1, 1, (R, 3, 1)) / math.sqrt(3), dtype=sj.float64))
    b2 = nn.Parameter(sj.tensor(rng.uniform(-1, 1, (R, 1, 1)) / math.sqrt(3), dtype=sj.float64))
    params = [W1, b1, W2, b2]

    def fwd(x):  # (n, 4) -> (R, n, 1)
        h = (x.unsqueeze(0) @ (W1 * M).transpose(1, 2) + b1).relu()
        return h @ W2 + b2

    opt = optim.Adam(params, lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 100)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((fwd(Xtr) - Ytr) ** 2).mean(dim=(1, 2)).sum()
        loss.backward()
        opt.step()
        sched.step()
    with sj.no_grad():
        val = ((fwd(Xva) - Yva) ** 2).mean(dim=(1, 2)).numpy()
    best = int(xp.argmin(val))
    W1b = W1.detach().numpy()[best] * mask
    return (W1b, b1.detach().numpy()[best].ravel(), W2.detach().numpy()[best].ravel(),
            b2.detach().numpy()[best].ravel()), val


@experiment(
    id="housing",
    title="House prices: a single ReLU neuron and the 12- vs 19-parameter networks",
    title_zh="房价预测:ReLU 神经元与小型神经网络",
    source="Zhao §2 eqs. (6)–(19)",
    claim="A single ReLU neuron never predicts a negative price (a linear model does for small houses in poor areas); "
          "the hand-wired network has 12 parameters and the fully connected one 19, and trained on the housing data "
          "both come close to the noise level, far below a straight line's error, the dense one without being told "
          "which inputs go together.",
)
def run(ctx) -> dict:
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.data import toy
    from shenjing.nn.utils import count_parameters
    from shenjing.viz.plots import _plt

    plt = _plt()
    Hand = _hand_module()
    measured, checks = {}, {}
    n = 1000
    X, y, H = toy.housing(n, seed=ctx.seed, return_hidden=True)
    X, y, H = (t.numpy().astype(xp.float64) for t in (X, y, H))
    noise_sigma = 10.0
    ntr, nva = 600, 200
    tr, va, te = slice(0, ntr), slice(ntr, ntr + nva), slice(ntr + nva, n)
    mu, sd = X[tr].mean(0), X[tr].std(0)
    ym, ys = float(y[tr].mean()), float(y[tr].std())

    def std_x(a):
        return sj.tensor((a - mu) / sd, dtype=sj.float64)

    # ------------------------------------------------ A. linear model vs a single ReLU neuron (eqs. 6, 8)
    A = xp.c_[X[tr], xp.ones(ntr)]
    beta = xp.linalg.lstsq(A, y[tr, 0], rcond=None)[0]
    neuron = nn.Linear(4, 1).to(sj.float64)
    with sj.no_grad():  # start with a positive output (bias at the mean price) so the unit is alive
        neuron.weight.mul_(0.1)
        neuron.bias.fill_(0.0)
    opt = optim.Adam(neuron.parameters(), lr=0.02)
    Xtr_s, Ytr_s = std_x(X[tr]), sj.tensor((y[tr] - ym) / ys, dtype=sj.float64)
    shift = ym / ys  # price = ys·(z + shift): ReLU(wᵀx + b) on the price scale
    for _ in range(1500 if ctx.quick else 4000):
        opt.zero_grad()
        pred = (neuron(Xtr_s) + shift).relu() - shift
        F.mse_loss(pred, Ytr_s).backward()
        opt.step()

    def neuron_price(a):
        with sj.no_grad():
            return ((neuron(std_x(a)) + shift).relu().numpy() * ys).ravel()

    def linear_price(a):
        return xp.c_[a, xp.ones(len(a))] @ beta

    # the whole box of plausible inputs, extrapolated to small sizes: size 0..250, bedrooms 1..6,
    # zip 0..9, wealth 15..121 (the generator's clip and maximum)
    g = xp.stack(xp.meshgrid(xp.linspace(0, 250, 26), xp.arange(1, 7.0), xp.arange(0, 10.0), xp.linspace(15, 121, 12),
                             indexing="ij"), -1).reshape(-1, 4)
    lin_g, neu_g = linear_price(g), neuron_price(g)
    rmse = {"linear": float(xp.sqrt(xp.mean((linear_price(X[te]) - y[te, 0]) ** 2))),
            "relu_neuron": float(xp.sqrt(xp.mean((neuron_price(X[te]) - y[te, 0]) ** 2)))}
    measured["single_neuron"] = {
        "grid_points": len(g), "linear_min_prediction": float(lin_g.min()),
        "linear_fraction_negative": float((lin_g < 0).mean()), "neuron_min_prediction": float(neu_g.min()),
        "neuron_fraction_zero": float((neu_g == 0).mean()), "test_rmse": rmse}
    checks["ReLU neuron never predicts a negative price"] = float(neu_g.min()) >= 0.0
    checks["the linear model does (min < 0 on the input box)"] = float(lin_g.min()) < 0
    checks["on the data the neuron fits as well as the line (test RMSE within 2 %)"] = (
        rmse["relu_neuron"] <= 1.02 * rmse["linear"])

    # ------------------------------------------------ B. 12 vs 19 parameters
    hand = Hand()
    dense = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).to(sj.float64)
    counts = {"hand_wired": count_parameters(hand), "dense": count_parameters(dense),
              "zhao_formula_(d+1)m1+(m1+1)m2": (4 + 1) * 3 + (3 + 1) * 1}
    measured["parameter_counts"] = counts
    checks["parameter counts 12 and 19 as in the notes"] = (
        counts["hand_wired"] == 12 and counts["dense"] == 19 == counts["zhao_formula_(d+1)m1+(m1+1)m2"])

    # the generator's own θ in the hand-wired net reproduces the noiseless price; the same θ placed in
    # the dense net (zeros for the missing connections) does too: the 12-parameter family lies inside the 19
    theta_true = xp.array([0.02, 0.5, -0.5, -1.0, 7.0, -0.3, 0.08, -1.0, 60.0, 25.0, 40.0, 50.0])
    noiseless = 60 * H[:, 0] + 25 * H[:, 1] + 40 * H[:, 2] + 50
    dense_true = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).to(sj.float64)
    with sj.no_grad():
        dense_true[0].weight.copy_(sj.tensor([[0.02, 0.5, 0, 0], [0, 0, -1.0, 0], [0, 0, -0.3, 0.08]], dtype=sj.float64))
        dense_true[0].bias.copy_(sj.tensor([-0.5, 7.0, -1.0], dtype=sj.float64))
        dense_true[2].weight.copy_(sj.tensor([[60.0, 25.0, 40.0]], dtype=sj.float64))
        dense_true[2].bias.copy_(sj.tensor([50.0], dtype=sj.float64))
        Xr = sj.tensor(X, dtype=sj.float64)
        hand_true_err = float(xp.abs(Hand(theta_true)(Xr).numpy().ravel() - noiseless).max())
        dense_true_err = float(xp.abs(dense_true(Xr).numpy().ravel() - noiseless).max())
    measured["true_parameters_reproduce_noiseless_price"] = {"hand_wired_max_abs_error": hand_true_err,
                                                            "dense_with_zeros_max_abs_error": dense_true_err}
    checks["true θ reproduces the noiseless price in both nets (< 1e-3, float32 data)"] = (
        hand_true_err < 1e-3 and dense_true_err < 1e-3)

    restarts = 8 if ctx.quick else 24
    steps = 2500 if ctx.quick else 5000
    Xva_s, Yva_s = std_x(X[va]), sj.tensor((y[va] - ym) / ys, dtype=sj.float64)
    with single_threaded_blas():  # small matrices: a contended BLAS thread pool only slows them down
        hand_w, val_h = _train_restarts(HAND_MASK, Xtr_s, Ytr_s, Xva_s, Yva_s, restarts, steps, ctx.rng)
        (W1, b1, W2, b2), val_d = _train_restarts(xp.ones((3, 4)), Xtr_s, Ytr_s, Xva_s, Yva_s, restarts, steps, ctx.rng)
    hand = Hand(theta_from_masked(*hand_w))
    with sj.no_grad():
        dense[0].weight.copy_(sj.tensor(W1, dtype=sj.float64))
        dense[0].bias.copy_(sj.tensor(b1, dtype=sj.float64))
        dense[2].weight.copy_(sj.tensor(W2[None, :], dtype=sj.float64))
        dense[2].bias.copy_(sj.tensor(b2, dtype=sj.float64))

    def price(model, a):
        with sj.no_grad():
            return model(std_x(a)).numpy().ravel() * ys + ym

    res = {}
    for name, model in (("hand_wired_12", hand), ("dense_19", dense)):
        res[name] = {s: float(xp.sqrt(xp.mean((price(model, X[sl]) - y[sl, 0]) ** 2)))
                     for s, sl in (("train_rmse", tr), ("val_rmse", va), ("test_rmse", te))}
    res["hand_wired_12"]["val_rmse_all_restarts"] = (xp.sqrt(val_h) * ys).tolist()
    res["dense_19"]["val_rmse_all_restarts"] = (xp.sqrt(val_d) * ys).tolist()
    res["linear_5"] = {"test_rmse": rmse["linear"]}
    # the dense net's hidden units against the true features a1, a2, a3 (|correlation|)
    with sj.no_grad():
        hid = dense[1](dense[0](std_x(X[te]))).numpy()
    corr = xp.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            if hid[:, j].std() > 0 and H[te, i].std() > 0:
                corr[i, j] = abs(xp.corrcoef(H[te, i], hid[:, j])[0, 1])
    res["dense_hidden_abs_corr_with_true_features"] = corr.tolist()
    res["noise_sigma"] = noise_sigma
    measured["training"] = {"restarts": restarts, "steps": steps, "split": [ntr, nva, n - ntr - nva], **res}
    checks["hand-wired (12) comes near the noise level (test RMSE < 1.4σ)"] = res["hand_wired_12"]["test_rmse"] < 1.4 * noise_sigma
    checks["dense (19) comes near the noise level (test RMSE < 1.4σ)"] = res["dense_19"]["test_rmse"] < 1.4 * noise_sigma
    checks["both beat the linear model"] = max(res["hand_wired_12"]["test_rmse"], res["dense_19"]["test_rmse"]) < rmse["linear"]

    # ------------------------------------------------------------------ figures
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    size = xp.linspace(0, 250, 251)
    beds = xp.clip(xp.round(size / 45), 1, 6)
    sl = xp.stack([size, beds, xp.full_like(size, 9.0), xp.full_like(size, 15.0)], 1)
    far = (X[:, 2] >= 8) & (X[:, 3] < 30)
    ax1.scatter(X[far, 0], y[far, 0], s=10, c="grey", alpha=0.6, label="data: zip 8–9, wealth < 30")
    ax1.plot(size, linear_price(sl), lw=2, label="linear model wᵀx + b")
    ax1.plot(size, neuron_price(sl), lw=2, ls="--", label="ReLU neuron max(wᵀx + b, 0)")
    ax1.axhline(0, color="k", lw=0.8)
    ax1.set(xlabel="size (m²); bedrooms = size/45 rounded, 1–6", ylabel="price (thousands)",
            title="Predictions for zip 9, wealth 15, down to size 0")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    names = ["linear\n(5 params)", "hand-wired\n(12 params)", "dense\n(19 params)"]
    vals = [rmse["linear"], res["hand_wired_12"]["test_rmse"], res["dense_19"]["test_rmse"]]
    ax2.bar(names, vals, color=["C0", "C1", "C2"])
    ax2.axhline(noise_sigma, color="k", ls=":", label="noise σ = 10 (best possible)")
    for i, v in enumerate(vals):
        ax2.text(i, v + 0.3, f"{v:.1f}", ha="center")
    ax2.set(ylabel="test RMSE (thousands)", title="Zhao §2 networks trained on toy.housing")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "housing.png")

    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    im = ax.imshow(corr, vmin=0, vmax=1, cmap="viridis")
    for i in range(3):
        for j in range(3):
            ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", color="w" if corr[i, j] < 0.6 else "k")
    ax.set_xticks(range(3))
    ax.set_xticklabels(["unit 1", "unit 2", "unit 3"])
    ax.set_yticks(range(3))
    ax.set_yticklabels(["a1 family size", "a2 walkability", "a3 school quality"])
    ax.set(xlabel="hidden unit of the trained dense net", title="Features found by the dense net\n|corr(true feature, unit)| on test data")
    fig.colorbar(im, ax=ax, shrink=0.8, label="|correlation|")
    fig.tight_layout()
    ctx.savefig(fig, "dense-features.png")

    measured["checks"] = checks
    return {
        "measured": measured,
        "verdict": bool(all(checks.values())),
        "method": f"toy.housing(n={n}) split {ntr}/{nva}/{n - ntr - nva}; linear model by least squares; a single ReLU "
                  "neuron trained with Adam; predictions on a grid over size 0–250 m², bedrooms 1–6, zip 0–9, wealth "
                  "15–121. Hand-wired (12) and dense (19) nets trained with Adam (cosine schedule), best of "
                  f"{restarts} restarts by validation loss. Holds if the neuron's minimum prediction is ≥ 0 while the "
                  "line's is < 0, the neuron's test RMSE is within 2 % of the line's, the parameter counts are 12 and "
                  "19, the generator's θ reproduces the noiseless price in both nets (< 1e-3), both nets' test RMSE "
                  "is < 1.4 × the noise σ = 10 (a ReLU unit whose kink is not found — typically walkability's at zip 7 — "
                  "leaves about 1.25σ) and below the linear model's.",
    }
