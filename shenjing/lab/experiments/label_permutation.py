"""label-permutation: class labels are exchangeable (Xu §1.6, Remark 1).

"对于分类问题 … 标签可以打乱顺序" — for classification, which one-hot vector names which class does
not change the problem. Measured: a network trained on labels y and a copy trained on π(y), whose
output layer's initial rows (weights and bias) are permuted the same way (row π(c) of the copy =
row c of the original), follow the same loss trajectory to float round-off and end as the same
function up to the permutation of the output units. From the *unpermuted* initialisation the
trajectory differs (the permutation is not free there), though the accuracy reached is similar.
The remark's regression contrast: shuffling regression targets among the samples destroys the fit.

Both modes stop at 600 steps (accuracy ≈ 0.97–0.99): past ≈ 950 steps, at loss ≈ 0.03, Adam's late
steps amplify the 1e-16 round-off of the reordered class sums about 4× per step (measured), and the two
float trajectories separate — a property of floating point, not of the symmetry.
"""

from __future__ import annotations

from ...backend import xp
from ..core import Check, Experiment, Measurement

K = 4  # classes
LR = 0.01

EXPERIMENT = Experiment(
    id="label-permutation",
    title="Permuting class labels gives the same learned function up to the permutation",
    title_zh="打乱类别标签: 学到的函数只差输出单元的同一置换",
    source="Xu §1.6, Remark 1",
    claim="Training on permuted class labels from the same initialisation with the output rows permuted alike gives "
          "the same loss trajectory (to round-off) and the same function up to that permutation of the output units; "
          "shuffling regression targets among samples, by contrast, destroys what can be learned.",
    claim_zh="用置换后的类别标签训练, 并把输出层的初始行作同样的置换, 损失轨迹 (到舍入误差) 与原来相同, 学到的函数只差输出单元的这一置换;"
             " 而在回归问题中把目标值在样本间打乱, 就学不到任何东西.",
    checks=(
        Check("max_loss_trajectory_diff", "<=", 1e-10, "the largest |loss difference| over all steps (float64)",
              what_zh="所有步上损失差的最大绝对值 (float64)"),
        Check("max_output_diff_after_unpermuting", "<=", 1e-8,
              "the largest |difference| of the test logits after undoing the permutation",
              what_zh="撤销置换后测试 logits 差的最大绝对值"),
        Check("unpermuted_init_loss_diff", ">=", 1e-3,
              "the largest loss difference when only the labels are permuted (init unpermuted)",
              what_zh="只置换标签而初始化不置换时损失差的最大值"),
        Check("test_accuracy", ">=", 0.85, "the test accuracy of the trained classifier", what_zh="训练后分类器的测试准确率"),
        Check("regression_r2_true_targets", ">=", 0.9, "the test R² of the regression on its true targets",
              what_zh="回归在真实目标上的测试 R²"),
        Check("regression_r2_shuffled_targets", "<=", 0.2, "the test R² after shuffling the targets among samples",
              what_zh="目标值在样本间打乱后的测试 R²"),
    ),
)


def _net(seed: int):
    import shenjing as sj
    from shenjing import nn

    sj.manual_seed(seed)
    return nn.mlp([2, 32, 32, K], activation="tanh").double()


def _permuted_copy(net, perm):
    """A copy of ``net`` whose output row π(c) is the original's row c."""
    import shenjing as sj

    inv = xp.argsort(perm)
    state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    last = [k for k in state if k.endswith("weight")][-1]  # the output layer
    for key in (last, last.replace("weight", "bias")):
        state[key] = state[key][inv]
    copy = _net(0)
    copy.load_state_dict({k: sj.tensor(v) for k, v in state.items()})
    return copy


def _train(net, X, y, steps: int) -> list[float]:
    import shenjing.nn.functional as F
    from shenjing import optim
    from shenjing.train import full_batch

    return full_batch(lambda: F.cross_entropy(net(X), y), optim.Adam(net.parameters(), lr=LR), steps)


def _logits(net, X):
    import shenjing as sj

    with sj.no_grad():
        return net(X).numpy()


def _regression_r2(ctx, steps: int) -> dict:
    """Test R² of an MLP fit to y = sin(3x) and to the same targets shuffled among the samples."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn, optim
    from shenjing.train import full_batch

    x = ctx.rng.uniform(-1, 1, (400, 1))
    y = xp.sin(3 * x)
    out = {}
    for name, target in (("true", y[:200]), ("shuffled", ctx.rng.permutation(y[:200]))):
        sj.manual_seed(ctx.seed)
        net = nn.mlp([1, 32, 32, 1], activation="tanh").double()
        Xt, Yt = sj.tensor(x[:200]), sj.tensor(target)
        full_batch(lambda n=net, a=Xt, b=Yt: F.mse_loss(n(a), b), optim.Adam(net.parameters(), lr=0.01), steps)
        pred = _logits(net, sj.tensor(x[200:]))
        out[f"regression_r2_{name}_targets"] = float(1 - ((pred - y[200:]) ** 2).mean() / y[200:].var())
    return out


def measure(ctx) -> Measurement:
    import shenjing as sj
    from shenjing.data import toy

    steps = 300 if ctx.quick else 600
    X, y = toy.spirals(800, n_classes=K, turns=0.75, noise=0.05, generator=ctx.generator)
    X = X.double()
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[600:], y[600:]
    perm = ctx.rng.permutation(K)
    while (perm == xp.arange(K)).any():
        perm = ctx.rng.permutation(K)
    yp = sj.tensor(perm[ytr.numpy()])

    a = _net(ctx.seed)
    b, c = _permuted_copy(a, perm), _permuted_copy(a, xp.arange(K))  # c: the same init, unpermuted
    la, lb, lc = _train(a, Xtr, ytr, steps), _train(b, Xtr, yp, steps), _train(c, Xtr, yp, steps)
    out_a, out_b = _logits(a, Xte), _logits(b, Xte)
    measured = {
        "permutation": perm.tolist(),
        "max_loss_trajectory_diff": float(xp.abs(xp.array(la) - xp.array(lb)).max()),
        "max_output_diff_after_unpermuting": float(xp.abs(out_b[:, perm] - out_a).max()),
        "unpermuted_init_loss_diff": float(xp.abs(xp.array(la) - xp.array(lc)).max()),
        "test_accuracy": float((out_a.argmax(1) == yte.numpy()).mean()),
        "test_accuracy_unpermuted_init": float((_logits(c, Xte).argmax(1) == perm[yte.numpy()]).mean()),
        **_regression_r2(ctx, steps),
    }
    method = (f"{K}-class spirals (600 train, 200 test); MLP 2-32-32-{K} tanh in float64, Adam lr {LR}, "
              f"{steps} full-batch steps on cross-entropy; labels permuted by π = {perm.tolist()}, the copy's output "
              f"weight and bias rows permuted alike; a third net trains on π(y) from the unpermuted initialisation. "
              f"Regression: MLP 1-32-32-1 fit to sin(3x) (200 points) by Adam, then to the same targets shuffled.")
    return Measurement(measured, method, data={"la": la, "lb": lb, "lc": lc, "X": Xte.numpy(),
                                               "pa": out_a.argmax(1), "pb": out_b.argmax(1), "perm": perm})


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt = pyplot()
    d = m.data
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    axes[0].plot(d["la"], lw=3, alpha=0.5, label="labels y, original init")
    axes[0].plot(d["lb"], "k--", label="labels π(y), output rows permuted")
    axes[0].plot(d["lc"], ":", label="labels π(y), original init")
    axes[0].set(xlabel="step", ylabel="cross-entropy", yscale="log", title="Loss trajectories")
    axes[0].legend()
    diff = [abs(p - q) for p, q in zip(d["la"], d["lb"], strict=True)]
    axes[1].semilogy([max(v, 1e-18) for v in diff])
    axes[1].set(xlabel="step", ylabel="|loss(y) − loss(π(y))|", title="Difference = round-off (0 drawn at 1e-18)")
    axes[2].scatter(d["X"][:, 0], d["X"][:, 1], c=d["pa"], cmap="tab10", vmin=0, vmax=9, s=40, alpha=0.35,
                    label="net on y: class")
    axes[2].scatter(d["X"][:, 0], d["X"][:, 1], c=xp.argsort(d["perm"])[d["pb"]], cmap="tab10", vmin=0, vmax=9,
                    s=14, marker="x", label="net on π(y): π⁻¹(class)")
    axes[2].set(title="Test predictions coincide after π⁻¹")
    axes[2].legend(loc="lower right", fontsize=8)
    fig.suptitle("Label permutation (Xu §1.6, Remark 1)")
    ctx.savefig(fig, "label_permutation")
