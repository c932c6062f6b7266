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
(independent copies, summed loss; :func:`train_restarts`). The chosen weights are loaded into the real
modules (:class:`HandWiredHousing` with θ1..θ12 and ``nn.Sequential(Linear(4, 3), ReLU(), Linear(3, 1))``),
which make the predictions that are evaluated.
"""

from __future__ import annotations

import math

from ...backend import xp
from ...nn import Module, Parameter
from ..core import Check, Experiment, Measurement, single_threaded_blas

NOISE_SIGMA = 10.0  # toy.housing's noise (prices in thousands): the best test RMSE possible
TRAIN = "training"

EXPERIMENT = Experiment(
    id="housing",
    title="House prices: a single ReLU neuron and the 12- vs 19-parameter networks",
    title_zh="房价预测:ReLU 神经元与小型神经网络",
    source="Zhao §2 eqs. (6)–(19)",
    claim="A single ReLU neuron never predicts a negative price (a linear model does for small houses in poor areas); "
          "the hand-wired network has 12 parameters and the fully connected one 19, and trained on the housing data "
          "both come close to the noise level, far below a straight line's error, the dense one without being told "
          "which inputs go together.",
    claim_zh="单个 ReLU 神经元永远不会预测负房价 (线性模型对贫困地区的小房子会); 手工连接的网络有 12 个参数, 全连接网络有 19 "
             "个, 在房价数据上训练后两者都接近噪声水平, 远低于直线的误差, 而全连接网络无需被告知哪些输入属于一组.",
    checks=(
        Check("single_neuron.neuron_min_prediction", ">=", 0.0, "the ReLU neuron's smallest price on the input box", what_zh="ReLU 神经元在输入框上的最低价格"),
        Check("single_neuron.linear_min_prediction", "<", 0, "the linear model's", what_zh="线性模型的最低价格"),
        Check("single_neuron.test_rmse_neuron_over_linear", "<=", 1.02, "the neuron's test RMSE / the line's", what_zh="神经元的测试 RMSE / 直线的"),
        Check("parameter_counts.hand_wired", "==", 12, "the hand-wired net's parameter count", what_zh="手工连接网络的参数个数"),
        Check("parameter_counts.dense", "==", 19, "the dense net's", what_zh="全连接网络的参数个数"),
        Check("parameter_counts.zhao_formula_(d+1)m1+(m1+1)m2", "==", 19, "Zhao's (d + 1)m₁ + (m₁ + 1)m₂", what_zh="Zhao 的 (d + 1)m₁ + (m₁ + 1)m₂"),
        Check("true_parameters_reproduce_noiseless_price", "<", 1e-3,
              "max |price − noiseless price| with the generator's θ in each net (float32 data)",
              what_zh="在每个网络中代入生成器的 θ 时 max |价格 − 无噪声价格| (float32 数据)"),
        Check(f"{TRAIN}.test_rmse_over_noise_sigma", "<", 1.4, "each trained net's test RMSE / the noise σ", what_zh="每个训练好的网络的测试 RMSE / 噪声 σ"),
        Check(f"{TRAIN}.test_rmse_over_linear", "<", 1, "each trained net's test RMSE / the line's", what_zh="每个训练好的网络的测试 RMSE / 直线的"),
    ),
)


class HandWiredHousing(Module):
    """Zhao eqs. (9)–(12): θ1..θ12 as one parameter vector ``theta`` (12 parameters)."""

    def __init__(self, theta=None) -> None:
        import shenjing as sj

        super().__init__()
        self.theta = Parameter(sj.zeros(12, dtype=sj.float64) if theta is None else sj.tensor(theta, dtype=sj.float64))

    @staticmethod
    def evaluate(t, x):
        """The price of eqs. (9)–(12) for θ = t, (12,) or (R, 12) for R copies; x (n, 4) → (n, 1) or (R, n, 1)."""
        x1, x2, x3, x4 = (x[:, i] for i in range(4))
        th = [t[..., i:i + 1] for i in range(12)]
        a1 = (th[0] * x1 + th[1] * x2 + th[2]).relu()
        a2 = (th[3] * x3 + th[4]).relu()
        a3 = (th[5] * x3 + th[6] * x4 + th[7]).relu()
        return (th[8] * a1 + th[9] * a2 + th[10] * a3 + th[11]).unsqueeze(-1)

    def forward(self, x):
        return self.evaluate(self.theta, x)


#: which inputs each hidden unit sees in Zhao eqs. (9)–(11): a1 ← (x1, x2), a2 ← x3, a3 ← (x3, x4)
HAND_MASK = xp.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]], float)
#: the generator's θ1..θ12 (toy.housing), and the same weights as the dense net's layers (zeros where unwired)
THETA_TRUE = xp.array([0.02, 0.5, -0.5, -1.0, 7.0, -0.3, 0.08, -1.0, 60.0, 25.0, 40.0, 50.0])
DENSE_TRUE = (xp.array([[0.02, 0.5, 0, 0], [0, 0, -1.0, 0], [0, 0, -0.3, 0.08]]), xp.array([-0.5, 7.0, -1.0]),
              xp.array([60.0, 25.0, 40.0]), xp.array([50.0]))


def theta_from_masked(W1, b1, W2, b2) -> xp.ndarray:
    """θ1..θ12 of eqs. (9)–(12) from a 4-3-1 net whose first layer is masked by ``HAND_MASK``."""
    return xp.array([W1[0, 0], W1[0, 1], b1[0], W1[1, 2], b1[1], W1[2, 2], W1[2, 3], b1[2],
                     W2[0], W2[1], W2[2], b2[0]])


def dense_net(W1=None, b1=None, W2=None, b2=None) -> Module:
    """nn.Sequential(Linear(4, 3), ReLU(), Linear(3, 1)) in float64, its weights set to (W1, b1, W2, b2) if given."""
    import shenjing as sj
    from shenjing import nn

    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).to(sj.float64)
    if W1 is not None:
        with sj.no_grad():
            for p, v in zip((net[0].weight, net[0].bias, net[2].weight, net[2].bias), (W1, b1, xp.reshape(W2, (1, 3)), b2)):
                p.copy_(sj.tensor(v, dtype=sj.float64))
    return net


def train_restarts(mask, Xtr, Ytr, Xva, Yva, restarts: int, steps: int, rng, lr: float = 0.03) -> tuple:
    """Train ``restarts`` independent 4-3-1 ReLU nets at once with full-batch Adam (cosine schedule to lr/100),
    the first layer's weights multiplied by ``mask`` (all ones: the dense net; ``HAND_MASK``: the hand-wired
    one — masked weights get zero gradient and stay 0). Returns (W1, b1, W2, b2) of the restart best on
    validation, and all validation losses."""
    import shenjing as sj
    from shenjing import nn, optim
    from shenjing.train import full_batch

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

    def fwd(x):  # (n, 4) -> (R, n, 1)
        h = (x.unsqueeze(0) @ (W1 * M).transpose(1, 2) + b1).relu()
        return h @ W2 + b2

    opt = optim.Adam([W1, b1, W2, b2], lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 100)
    full_batch(lambda: ((fwd(Xtr) - Ytr) ** 2).mean(dim=(1, 2)).sum(), opt, steps, callback=lambda step, loss: sched.step())
    with sj.no_grad():
        val = ((fwd(Xva) - Yva) ** 2).mean(dim=(1, 2)).numpy()
    best = int(xp.argmin(val))
    return (W1.detach().numpy()[best] * mask, b1.detach().numpy()[best].ravel(), W2.detach().numpy()[best].ravel(),
            b2.detach().numpy()[best].ravel()), val


class Scaled:
    """The data of one run: toy.housing split train/validation/test, with the training split's scaling
    (feature scaling of inputs and prices, Nelson)."""

    def __init__(self, seed: int, n: int = 1000, ntr: int = 600, nva: int = 200) -> None:
        from shenjing.data import toy

        X, y, H = toy.housing(n, seed=seed, return_hidden=True)
        self.X, self.y, self.H = (t.numpy().astype(xp.float64) for t in (X, y, H))
        self.n, self.ntr, self.nva = n, ntr, nva
        self.tr, self.va, self.te = slice(0, ntr), slice(ntr, ntr + nva), slice(ntr + nva, n)
        self.mu, self.sd = self.X[self.tr].mean(0), self.X[self.tr].std(0)
        self.ym, self.ys = float(self.y[self.tr].mean()), float(self.y[self.tr].std())

    def x(self, a):
        """Standardised inputs as a float64 tensor."""
        import shenjing as sj

        return sj.tensor((a - self.mu) / self.sd, dtype=sj.float64)

    def targets(self, part: slice):
        """Standardised prices of a split as a float64 tensor."""
        import shenjing as sj

        return sj.tensor((self.y[part] - self.ym) / self.ys, dtype=sj.float64)

    def predictor(self, model):
        """inputs → prices (thousands) of a model trained on the standardised data."""
        import shenjing as sj

        def predict(a):
            with sj.no_grad():
                return model(self.x(a)).numpy().ravel() * self.ys + self.ym

        return predict

    def rmse(self, predict, part: slice) -> float:
        """RMSE of ``predict(inputs) -> prices`` on a split."""
        return float(xp.sqrt(xp.mean((predict(self.X[part]) - self.y[part, 0]) ** 2)))


def input_box() -> xp.ndarray:
    """The whole box of plausible inputs, extrapolated to small sizes: size 0..250, bedrooms 1..6, zip 0..9,
    wealth 15..121 (the generator's clip and maximum)."""
    return xp.stack(xp.meshgrid(xp.linspace(0, 250, 26), xp.arange(1, 7.0), xp.arange(0, 10.0), xp.linspace(15, 121, 12),
                                indexing="ij"), -1).reshape(-1, 4)


def single_neuron(d: Scaled, steps: int) -> tuple:
    """Zhao eqs. (6), (8): the least-squares line and a ReLU neuron ReLU(wᵀx + b) on the price scale (full-batch
    Adam, lr 0.02). Returns their measurements and the two predictors (inputs → prices)."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    beta = xp.linalg.lstsq(xp.c_[d.X[d.tr], xp.ones(d.ntr)], d.y[d.tr, 0], rcond=None)[0]
    neuron = nn.Linear(4, 1).to(sj.float64)
    with sj.no_grad():  # start with a positive output (bias at the mean price) so the unit is alive
        neuron.weight.mul_(0.1)
        neuron.bias.fill_(0.0)
    Xtr, Ytr = d.x(d.X[d.tr]), d.targets(d.tr)
    shift = d.ym / d.ys  # price = ys·(z + shift): ReLU(wᵀx + b) on the price scale
    full_batch(lambda: F.mse_loss((neuron(Xtr) + shift).relu() - shift, Ytr), optim.Adam(neuron.parameters(), lr=0.02), steps)

    def neuron_price(a):
        with sj.no_grad():
            return ((neuron(d.x(a)) + shift).relu().numpy() * d.ys).ravel()

    def linear_price(a):
        return xp.c_[a, xp.ones(len(a))] @ beta

    g = input_box()
    lin_g, neu_g = linear_price(g), neuron_price(g)
    rmse = {"linear": d.rmse(linear_price, d.te), "relu_neuron": d.rmse(neuron_price, d.te)}
    out = {"grid_points": len(g), "linear_min_prediction": float(lin_g.min()),
           "linear_fraction_negative": float((lin_g < 0).mean()), "neuron_min_prediction": float(neu_g.min()),
           "neuron_fraction_zero": float((neu_g == 0).mean()), "test_rmse": rmse,
           "test_rmse_neuron_over_linear": rmse["relu_neuron"] / rmse["linear"]}
    return out, linear_price, neuron_price


def true_parameter_errors(d: Scaled) -> dict:
    """The generator's θ in the hand-wired net, and the same weights in the dense net (zeros for the missing
    connections), against the noiseless price: the 12-parameter family lies inside the 19."""
    import shenjing as sj

    noiseless = 60 * d.H[:, 0] + 25 * d.H[:, 1] + 40 * d.H[:, 2] + 50
    Xr = sj.tensor(d.X, dtype=sj.float64)
    with sj.no_grad():
        hand = float(xp.abs(HandWiredHousing(THETA_TRUE)(Xr).numpy().ravel() - noiseless).max())
        dense = float(xp.abs(dense_net(*DENSE_TRUE)(Xr).numpy().ravel() - noiseless).max())
    return {"hand_wired_max_abs_error": hand, "dense_with_zeros_max_abs_error": dense}


def hidden_feature_correlation(dense, d: Scaled) -> xp.ndarray:
    """|corr(true feature a_i, hidden unit j)| of the trained dense net on the test split (3 × 3)."""
    import shenjing as sj

    with sj.no_grad():
        hid = dense[1](dense[0](d.x(d.X[d.te]))).numpy()
    H = d.H[d.te]
    corr = xp.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            if hid[:, j].std() > 0 and H[:, i].std() > 0:
                corr[i, j] = abs(xp.corrcoef(H[:, i], hid[:, j])[0, 1])
    return corr


def train_both(d: Scaled, restarts: int, steps: int, rng) -> tuple:
    """The hand-wired (12) and the dense (19) net trained by :func:`train_restarts`; returns the two modules and
    the validation losses of all restarts of each."""
    Xtr, Ytr, Xva, Yva = d.x(d.X[d.tr]), d.targets(d.tr), d.x(d.X[d.va]), d.targets(d.va)
    with single_threaded_blas():  # small matrices: a contended BLAS thread pool only slows them down
        hand_w, val_h = train_restarts(HAND_MASK, Xtr, Ytr, Xva, Yva, restarts, steps, rng)
        dense_w, val_d = train_restarts(xp.ones((3, 4)), Xtr, Ytr, Xva, Yva, restarts, steps, rng)
    return HandWiredHousing(theta_from_masked(*hand_w)), dense_net(*dense_w), val_h, val_d


def measure(ctx) -> Measurement:
    from shenjing.nn.utils import count_parameters

    d = Scaled(ctx.seed)
    neuron_steps = 1500 if ctx.quick else 4000
    neuron, linear_price, neuron_price = single_neuron(d, neuron_steps)
    counts = {"hand_wired": count_parameters(HandWiredHousing()), "dense": count_parameters(dense_net()),
              "zhao_formula_(d+1)m1+(m1+1)m2": (4 + 1) * 3 + (3 + 1) * 1}
    restarts, steps = (8, 2500) if ctx.quick else (24, 5000)
    hand, dense, val_h, val_d = train_both(d, restarts, steps, ctx.rng)
    res = {name: {f"{s}_rmse": d.rmse(d.predictor(model), sl) for s, sl in (("train", d.tr), ("val", d.va), ("test", d.te))}
           for name, model in (("hand_wired_12", hand), ("dense_19", dense))}
    res["hand_wired_12"]["val_rmse_all_restarts"] = (xp.sqrt(val_h) * d.ys).tolist()
    res["dense_19"]["val_rmse_all_restarts"] = (xp.sqrt(val_d) * d.ys).tolist()
    res["linear_5"] = {"test_rmse": neuron["test_rmse"]["linear"]}
    corr = hidden_feature_correlation(dense, d)
    nets = ("hand_wired_12", "dense_19")
    measured = {
        "single_neuron": neuron, "parameter_counts": counts, "true_parameters_reproduce_noiseless_price": true_parameter_errors(d),
        TRAIN: {"restarts": restarts, "steps": steps, "split": [d.ntr, d.nva, d.n - d.ntr - d.nva], **res,
                "dense_hidden_abs_corr_with_true_features": corr.tolist(), "noise_sigma": NOISE_SIGMA,
                "test_rmse_over_noise_sigma": {k: res[k]["test_rmse"] / NOISE_SIGMA for k in nets},
                "test_rmse_over_linear": {k: res[k]["test_rmse"] / res["linear_5"]["test_rmse"] for k in nets}},
    }
    method = (f"toy.housing(n={d.n}, noise σ = {NOISE_SIGMA:g}, prices in thousands) split {d.ntr}/{d.nva}/{d.n - d.ntr - d.nva} "
              "(train/validation/test), inputs and prices standardised on the training split. The linear model by least "
              f"squares; a single ReLU neuron trained with full-batch Adam (lr 0.02, {neuron_steps} steps); both predict on "
              f"a grid of {neuron['grid_points']} inputs over size 0–250 m², bedrooms 1–6, zip 0–9, wealth 15–121. "
              "Parameters counted with count_parameters; the generator's θ placed in both nets (zeros for the dense "
              "net's missing connections). The hand-wired (12) and dense (19) nets trained with full-batch Adam (lr 0.03, "
              f"cosine schedule to lr/100, {steps} steps), {restarts} restarts each, the restart kept by validation loss. "
              "A ReLU unit whose kink is not found — typically walkability's at zip 7 — leaves about 1.25σ.")
    data = {"d": d, "linear_price": linear_price, "neuron_price": neuron_price, "corr": corr}
    return Measurement(measured, method, data=data)


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    predictions_figure(ctx, plt, m)
    features_figure(ctx, plt, m.data["corr"])


def predictions_figure(ctx, plt, m: Measurement) -> None:
    """Line vs ReLU neuron down to size 0 in a poor far-out area, and the test RMSE of the three models."""
    d, linear_price, neuron_price = m.data["d"], m.data["linear_price"], m.data["neuron_price"]
    res = m.measured[TRAIN]
    X, y = d.X, d.y
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
    vals = [res["linear_5"]["test_rmse"], res["hand_wired_12"]["test_rmse"], res["dense_19"]["test_rmse"]]
    ax2.bar(names, vals, color=["C0", "C1", "C2"])
    ax2.axhline(NOISE_SIGMA, color="k", ls=":", label=f"noise σ = {NOISE_SIGMA:g} (best possible)")
    for i, v in enumerate(vals):
        ax2.text(i, v + 0.3, f"{v:.1f}", ha="center")
    ax2.set(ylabel="test RMSE (thousands)", title="Zhao §2 networks trained on toy.housing")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    ctx.savefig(fig, "housing.png")


def features_figure(ctx, plt, corr) -> None:
    """|corr(true feature, hidden unit)| of the trained dense net."""
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
