"""optimiser-zoo: every optimiser of shenjing.optim on 2-D test functions and on a network.

Xu §1.9 (after Ruder 2016) and Fang ch. 6 write the optimisers in forms that partly differ
from PyTorch's:

* momentum: m = μm + g (Xu eq. 1.42) is PyTorch's; Fang Alg. 1 uses the exponential moving
  average m = ρm + (1 − ρ)g from m₀ = 0 — ``SGD(momentum=ρ, dampening=ρ, momentum_init="zeros")``;
* Nesterov: the gradient at the look-ahead point θ − ημm (Xu eq. 1.44) or φ − αm (Fang Alg. 2)
  — ``NesterovLookahead``; PyTorch's ``nesterov=True`` is a reformulation in the shifted variable;
* normalised gradient φ ← φ − α g/√(g² + ε) (Fang Alg. 3) — ``NormalizedGradient``;
* Adagrad, RMSprop, Adam with ε inside the root, g/√(v + ε) (Xu and Fang), where PyTorch has
  g/(√v + ε) — ``eps_inside_sqrt=True``;
* Xu's "Adadelta" (eqs. 1.50–1.52, an EMA of g² *with* a learning rate) is RMSprop, and its
  "RMSProp is ν = 0.5" is ``RMSprop(alpha=0.5)``; Zeiler's Adadelta (Fang Alg. 6) needs no
  learning rate — ``Adadelta(lr=1.0)``;
* Xu's Adam decays with μ, ν but bias-corrects with β₁, β₂ (and Fang decays with ρ but
  corrects with γ): a notation slip — the correction only makes m̂, n̂ unbiased with β₁ = μ, β₂ = ν.

The experiment runs every form on the Rosenbrock function, a rotated elongated quadratic and Beale's
function (each optimiser with its best learning rate of a grid) and on a small network, and checks
each notes formula — transcribed below in NumPy — against shenjing's option for it, and the notes'
forms against the standard ones.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...backend import xp
from ..core import Check, Experiment, Measurement

if TYPE_CHECKING:
    from ...autograd.tensor import Tensor

#: every optimiser must divide every loss by at least this much
MIN_FACTOR = 2.0

EXPERIMENT = Experiment(
    id="optimiser-zoo",
    title="The optimiser zoo: standard forms and the notes' forms",
    title_zh="常用的优化方法",
    source="Xu §1.9, Fang ch. 6",
    claim="Every optimiser of the notes — GD, momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam (and AdamW, "
          "normalised gradient) in the standard and in the notes' forms — descends on 2-D test functions and trains a "
          "network; each notes formula is exactly the shenjing option named for it, and where it differs from the "
          "standard form the difference is measured.",
    claim_zh="讲义中的每个优化器 —— GD、动量、Nesterov、Adagrad、RMSprop、Adadelta、Adam (以及 AdamW、归一化梯度) 的标准形式和讲义形式 "
             "—— 都在二维测试函数上下降并能训练网络; 讲义的每个公式恰好是 shenjing 中以它命名的选项, 与标准形式不同之处都被测量出来.",
    checks=(
        Check("loss_reduction_factor_min_over_tasks", ">=", MIN_FACTOR,
              "for every optimiser, the smallest factor by which it reduces the loss over the three functions and the network",
              what_zh="对每个优化器, 它在三个函数与网络上使损失下降的最小倍数"),
        Check("notes_formula_vs_shenjing_option_max_diff", "<=", 1e-10,
              "for every notes formula, the largest |Δθ| between its NumPy transcription and its shenjing option",
              what_zh="对讲义的每个公式, 其 NumPy 转写与 shenjing 选项之间最大的 |Δθ|"),
        Check("ema_momentum_equals_heavy_ball_with_lr_times_1_minus_rho_max_diff", "<=", 1e-10,
              "the largest |Δθ| between EMA momentum with lr α and heavy-ball momentum with lr α(1 − ρ)",
              what_zh="学习率 α 的 EMA 动量与学习率 α(1 − ρ) 的重球动量之间最大的 |Δθ|"),
        Check("pytorch_nesterov_equals_lookahead_shifted_max_diff", "<=", 1e-10,
              "the largest |Δθ| between PyTorch's nesterov=True iterate and the notes' θ − ημm",
              what_zh="PyTorch 的 nesterov=True 迭代与讲义 θ − ημm 之间最大的 |Δθ|"),
    ),
)

# ---------------------------------------------------------------------------- test functions


def rosenbrock(W: Tensor) -> Tensor:
    x, y = W[:, 0], W[:, 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


_C, _S = math.cos(math.pi / 6), math.sin(math.pi / 6)
#: ½θᵀAθ with curvatures 1 and 25 along axes rotated by 30°
_A = xp.array([[_C, -_S], [_S, _C]]) @ xp.diag([1.0, 25.0]) @ xp.array([[_C, _S], [-_S, _C]])


def rotated_quadratic(W: Tensor) -> Tensor:
    x, y = W[:, 0], W[:, 1]
    return 0.5 * (_A[0, 0] * x * x + 2 * _A[0, 1] * x * y + _A[1, 1] * y * y)


def beale(W: Tensor) -> Tensor:
    x, y = W[:, 0], W[:, 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


#: name -> (function of a (K, 2) tensor giving (K,), start, minimiser, x range, y range)
FUNCTIONS = {
    "Rosenbrock": (rosenbrock, (-1.2, 1.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0)),
    "rotated quadratic (κ = 25)": (rotated_quadratic, (-3.0, 2.0), (0.0, 0.0), (-4.0, 4.0), (-3.0, 3.0)),
    "Beale": (beale, (1.0, 1.5), (3.0, 0.5), (-0.5, 4.0), (-1.0, 2.0)),
}

# ---------------------------------------------------------------------------- the zoo

#: key -> (label, "standard" | "notes", class name, kwargs, fixed lr or None)
ZOO = {
    "sgd": ("GD / SGD", "standard", "SGD", {}, None),
    "momentum": ("momentum μ = 0.9 (Xu eq. 1.42)", "standard", "SGD", {"momentum": 0.9}, None),
    "nesterov": ("Nesterov (PyTorch form)", "standard", "SGD", {"momentum": 0.9, "nesterov": True}, None),
    "adagrad": ("Adagrad", "standard", "Adagrad", {}, None),
    "rmsprop": ("RMSprop α = 0.99", "standard", "RMSprop", {}, None),
    "adadelta": ("Adadelta (lr tuned)", "standard", "Adadelta", {}, None),
    "adam": ("Adam", "standard", "Adam", {}, None),
    "adamw": ("AdamW (weight decay 0.01)", "standard", "AdamW", {}, None),
    "ema_momentum": ("EMA momentum (Fang Alg. 1)", "notes", "SGD",
                     {"momentum": 0.9, "dampening": 0.9, "momentum_init": "zeros"}, None),
    "lookahead_xu": ("Nesterov look-ahead (Xu eq. 1.44)", "notes", "NesterovLookahead", {"momentum": 0.9}, None),
    "lookahead_fang": ("Nesterov look-ahead, EMA (Fang Alg. 2)", "notes", "NesterovLookahead",
                      {"momentum": 0.9, "ema": True}, None),
    "normalized": ("normalised gradient (Fang Alg. 3)", "notes", "NormalizedGradient", {}, None),
    "adagrad_in": ("Adagrad √(n + ε) (Xu eq. 1.49)", "notes", "Adagrad", {"eps_inside_sqrt": True}, None),
    "adadelta_xu": ("Xu's \"Adadelta\" = RMSprop ν = 0.9, √(n + ε)", "notes", "RMSprop",
                     {"alpha": 0.9, "eps_inside_sqrt": True}, None),
    "rmsprop_xu": ("Xu's RMSProp = ν = 0.5, √(n + ε)", "notes", "RMSprop",
                    {"alpha": 0.5, "eps_inside_sqrt": True}, None),
    "rmsprop_fang": ("RMSprop √(v + ε) (Fang Alg. 5)", "notes", "RMSprop", {"eps_inside_sqrt": True}, None),
    "adadelta_zeiler": ("Adadelta without η (Fang Alg. 6)", "notes", "Adadelta", {}, 1.0),
    "adam_in": ("Adam √(n̂ + ε) (Xu eq. 1.58)", "notes", "Adam", {"eps_inside_sqrt": True}, None),
}

#: the learning-rate grid of full mode (10^(k/2), 1e-4 … 3.2)
LR_GRID = [10.0 ** (k / 2) for k in range(-8, 2)]

#: quick mode's learning rates η = 10^(k/2), k per function (Rosenbrock, rotated quadratic, Beale): what
#: ``tune(fn, start, 300)`` selects from LR_GRID (full mode re-tunes with its own number of steps).
TUNED = {
    'sgd': (-5, -3, -3),
    'momentum': (-5, -5, -5),
    'nesterov': (-6, -3, -5),
    'adagrad': (1, 1, 0),
    'rmsprop': (-1, 1, -2),
    'adadelta': (1, 1, 1),
    'adam': (0, -1, 1),
    'adamw': (-1, 1, -1),
    'ema_momentum': (-3, -3, -3),
    'lookahead_xu': (-6, -3, -5),
    'lookahead_fang': (-4, -1, -3),
    'normalized': (-5, -4, -4),
    'adagrad_in': (1, 1, 0),
    'adadelta_xu': (-3, -3, -3),
    'rmsprop_xu': (-3, -3, -3),
    'rmsprop_fang': (-1, 1, -2),
    'adadelta_zeiler': (0, 0, 0),
    'adam_in': (0, -1, 1),
}


#: learning rates on the network (the best of {1e-3, 3e-3, …, 1} after 200 steps)
NET_LR = {
    "sgd": 1.0, "momentum": 1.0, "nesterov": 1.0, "adagrad": 1.0, "rmsprop": 3e-2, "adadelta": 1.0, "adam": 3e-1,
    "adamw": 1e-1, "ema_momentum": 1.0, "lookahead_xu": 1.0, "lookahead_fang": 1.0, "normalized": 1e-1,
    "adagrad_in": 1.0, "adadelta_xu": 3e-2, "rmsprop_xu": 3e-1, "rmsprop_fang": 3e-2, "adadelta_zeiler": 1.0,
    "adam_in": 3e-1,
}


def _cls(name):
    from shenjing import optim

    return getattr(optim, name)


def run_zoo_on(fn, start, lrs_by_key: dict, steps: int, keys=None) -> dict:
    """Run every optimiser of the zoo on ``fn`` from ``start``, each with its list of learning rates
    (one parameter group per η), all through one stacked loss per step (the look-ahead ones through
    their closures). Returns key -> trajectories of shape (steps + 1, len(lrs), 2)."""
    import shenjing as sj

    keys = list(keys or ZOO)
    params, opts = {}, {}
    for k in keys:
        _, _, cls, kw, _ = ZOO[k]
        ps = [sj.tensor(list(start), dtype=sj.float64, requires_grad=True) for _ in lrs_by_key[k]]
        params[k] = ps
        opts[k] = _cls(cls)([{"params": [p], "lr": float(lr)} for p, lr in zip(ps, lrs_by_key[k])], **kw)
    look = [k for k in keys if ZOO[k][2] == "NesterovLookahead"]
    plain = [k for k in keys if k not in look]
    hist = {k: xp.empty((steps + 1, len(params[k]), 2)) for k in keys}
    for k in keys:
        hist[k][0] = start
    with xp.errstate(all="ignore"):  # too-large learning rates of the grid overflow, on purpose
        for t in range(1, steps + 1):
            for k in plain:
                opts[k].zero_grad()
            fn(sj.stack([p for k in plain for p in params[k]])).sum().backward()
            for k in plain:
                opts[k].step()
            for k in look:
                def closure(k=k):
                    opts[k].zero_grad()
                    loss = fn(sj.stack(params[k])).sum()
                    loss.backward()
                    return loss
                opts[k].step(closure)
            for k in keys:
                hist[k][t] = [p.array for p in params[k]]
    return hist


def loss_np(fn, traj) -> xp.ndarray:
    """fn on an array of points (..., 2) (no autograd)."""
    import shenjing as sj

    shape = traj.shape[:-1]
    with xp.errstate(all="ignore"):
        out = fn(sj.tensor(traj.reshape(-1, 2), dtype=sj.float64)).numpy().reshape(shape)
    return xp.where(xp.isfinite(out), out, xp.inf)


def tune(fn, start, steps: int, grid=LR_GRID) -> dict:
    """Best learning rate of ``grid`` per optimiser: the lowest worst-case loss over the last 10% of
    ``steps`` (a rate that merely happens to land low on the last step does not win)."""
    lrs = {k: ([ZOO[k][4]] if ZOO[k][4] is not None else list(grid)) for k in ZOO}
    hist = run_zoo_on(fn, start, lrs, steps)
    tail = max(1, steps // 10)
    return {k: lrs[k][int(xp.argmin(loss_np(fn, hist[k][-tail:]).max(axis=0)))] for k in ZOO}


# ---------------------------------------------------------------------------- the notes' formulas, transcribed


def notes_momentum_xu(grad, theta, lr, mu, steps) -> xp.ndarray:
    """Xu eqs. 1.41–1.43: m_t = μm_{t−1} + g_t, θ_t = θ_{t−1} − ηm_t, m₀ = 0."""
    m, out = xp.zeros_like(theta), [theta]
    for _ in range(steps):
        m = mu * m + grad(theta)
        theta = theta - lr * m
        out.append(theta)
    return xp.asarray(out)


def notes_ema_momentum_fang(grad, phi, lr, rho, steps) -> xp.ndarray:
    """Fang Alg. 1: m_t = ρm_{t−1} + (1 − ρ)g_t, φ_{t+1} = φ_t − αm_t, m = 0."""
    m, out = xp.zeros_like(phi), [phi]
    for _ in range(steps):
        m = rho * m + (1 - rho) * grad(phi)
        phi = phi - lr * m
        out.append(phi)
    return xp.asarray(out)


def notes_nesterov_xu(grad, theta, lr, mu, steps) -> tuple[xp.ndarray, xp.ndarray]:
    """Xu eqs. 1.44–1.46: g_t = ∇R(θ_{t−1} − ημm_{t−1}), m_t = μm_{t−1} + g_t, θ_t = θ_{t−1} − ηm_t.
    Returns the θ and the m trajectories."""
    m, out, ms = xp.zeros_like(theta), [theta], [xp.zeros_like(theta)]
    for _ in range(steps):
        m = mu * m + grad(theta - lr * mu * m)
        theta = theta - lr * m
        out.append(theta)
        ms.append(m)
    return xp.asarray(out), xp.asarray(ms)


def notes_nesterov_fang(grad, phi, lr, rho, steps) -> xp.ndarray:
    """Fang Alg. 2: g_t = ∇L(φ_t − αm_{t−1}), m_t = ρm_{t−1} + (1 − ρ)g_t, φ_{t+1} = φ_t − αm_t."""
    m, out = xp.zeros_like(phi), [phi]
    for _ in range(steps):
        m = rho * m + (1 - rho) * grad(phi - lr * m)
        phi = phi - lr * m
        out.append(phi)
    return xp.asarray(out)


def notes_normalized_fang(grad, phi, lr, eps, steps) -> xp.ndarray:
    """Fang Alg. 3: v_t = g_t ⊙ g_t, φ_{t+1} = φ_t − α g_t/√(v_t + ε)."""
    out = [phi]
    for _ in range(steps):
        g = grad(phi)
        phi = phi - lr * (g / xp.sqrt(g * g + eps))
        out.append(phi)
    return xp.asarray(out)


def notes_adagrad_xu(grad, theta, lr, eps, steps) -> xp.ndarray:
    """Xu eqs. 1.47–1.49 (and Fang Alg. 4): n_t = n_{t−1} + g_t², θ_t = θ_{t−1} − ηg_t/√(ε + n_t)."""
    n, out = xp.zeros_like(theta), [theta]
    for _ in range(steps):
        g = grad(theta)
        n = n + g * g
        theta = theta - lr * (g / xp.sqrt(eps + n))
        out.append(theta)
    return xp.asarray(out)


def notes_adadelta_xu(grad, theta, lr, nu, eps, steps) -> xp.ndarray:
    """Xu eqs. 1.50–1.52 ("Adadelta"; with ν = 0.5 its "RMSProp", §1.9.6; Fang Alg. 5 is the
    same with ρ): n_t = νn_{t−1} + (1 − ν)g_t², θ_t = θ_{t−1} − ηg_t/√(ε + n_t)."""
    n, out = xp.zeros_like(theta), [theta]
    for _ in range(steps):
        g = grad(theta)
        n = nu * n + (1 - nu) * g * g
        theta = theta - lr * (g / xp.sqrt(eps + n))
        out.append(theta)
    return xp.asarray(out)


def notes_adadelta_fang(grad, phi, rho, eps, steps) -> xp.ndarray:
    """Fang Alg. 6 (Zeiler), no learning rate: v_t = ρv_{t−1} + (1 − ρ)g², Δφ_t = −√(s_{t−1} + ε)/√(v_t + ε)·g,
    s_t = ρs_{t−1} + (1 − ρ)Δφ², φ_{t+1} = φ_t + Δφ_t."""
    v, s, out = xp.zeros_like(phi), xp.zeros_like(phi), [phi]
    for _ in range(steps):
        g = grad(phi)
        v = rho * v + (1 - rho) * g * g
        d = -xp.sqrt(s + eps) / xp.sqrt(v + eps) * g
        s = rho * s + (1 - rho) * d * d
        phi = phi + d
        out.append(phi)
    return xp.asarray(out)


def notes_adam_xu(grad, theta, lr, mu, nu, eps, steps) -> xp.ndarray:
    """Xu eqs. 1.53–1.58 with β₁ = μ, β₂ = ν: n_t = νn + (1 − ν)g², m_t = μm + (1 − μ)g,
    m̂ = m/(1 − β₁ᵗ), n̂ = n/(1 − β₂ᵗ), θ_t = θ_{t−1} − ηm̂/√(ε + n̂)."""
    m, n, out = xp.zeros_like(theta), xp.zeros_like(theta), [theta]
    for t in range(1, steps + 1):
        g = grad(theta)
        n = nu * n + (1 - nu) * g * g
        m = mu * m + (1 - mu) * g
        mh, nh = m / (1 - mu ** t), n / (1 - nu ** t)
        theta = theta - lr * mh / xp.sqrt(eps + nh)
        out.append(theta)
    return xp.asarray(out)


def shenjing_trajectory(fn, start, cls: str, steps: int, record_state: str | None = None, **kw) -> xp.ndarray | tuple[xp.ndarray, xp.ndarray]:
    """One shenjing optimiser on ``fn`` from ``start``: the parameter trajectory (steps + 1, 2) and,
    if ``record_state`` names a state entry (e.g. "momentum_buffer"), its trajectory too."""
    import shenjing as sj

    p = sj.tensor(list(start), dtype=sj.float64, requires_grad=True)
    opt = _cls(cls)([p], **kw)

    def closure():
        opt.zero_grad()
        loss = fn(p.reshape(1, 2)).sum()
        loss.backward()
        return loss

    out, state = [p.detach().numpy().copy()], [xp.zeros(2)]
    for _ in range(steps):
        opt.step(closure)
        out.append(p.detach().numpy().copy())
        if record_state:
            state.append(opt.state[p][record_state].numpy().copy())
    return (xp.asarray(out), xp.asarray(state)) if record_state else xp.asarray(out)




def max_abs_diff(a, b) -> float:
    return float(xp.max(xp.abs(a - b)))


def form_row(fn, form: str, source: str, notes, option: tuple, standard=None, standard_name: str | None = None,
             note: str = "") -> dict:
    """One row of :func:`compare_forms`: the notes formula's trajectory ``notes`` against its shenjing
    ``option`` (label, trajectory) and, if given, against the ``standard`` (PyTorch) form. With a
    ``note`` and no standard, the option is itself the standard form."""
    def loss_end(traj):
        return float(loss_np(fn, traj[-1:])[0])

    r = {"form": form, "source": source, "shenjing": option[0], "max_diff_notes_vs_shenjing_option": max_abs_diff(notes, option[1]),
         "final_loss_notes": loss_end(notes)}
    if standard is not None:
        r.update({"standard": standard_name, "max_diff_notes_vs_standard": max_abs_diff(notes, standard),
                  "final_loss_standard": loss_end(standard)})
    elif note:
        r.update({"standard": option[0], "max_diff_notes_vs_standard": r["max_diff_notes_vs_shenjing_option"],
                  "final_loss_standard": loss_end(option[1])})
    if note:
        r["note"] = note
    return r


def _momentum_rows(fn, grad, th0, traj, steps: int) -> list[dict]:
    """Momentum (Xu), EMA momentum (Fang Alg. 1), the two Nesterov look-aheads, the normalised gradient."""
    lr, mu, alpha = 1e-3, 0.9, 3e-3
    rows = [form_row(fn, "momentum m = μm + g", "Xu eqs. 1.41–1.43", notes_momentum_xu(grad, th0, lr, mu, steps),
                     ("SGD(momentum=0.9)", traj("SGD", lr=lr, momentum=mu)),
                     note="the notes' form is PyTorch's (its m₁ = g₁ equals the notes' m₀ = 0)")]
    ref = notes_ema_momentum_fang(grad, th0, alpha, mu, steps)
    rows.append(form_row(fn, "EMA momentum m = ρm + (1 − ρ)g, m₀ = 0", "Fang Alg. 1", ref,
                         ("SGD(momentum=0.9, dampening=0.9, momentum_init='zeros')",
                          traj("SGD", lr=alpha, momentum=mu, dampening=mu, momentum_init="zeros")),
                         traj("SGD", lr=alpha, momentum=mu, dampening=mu),
                         "SGD(momentum=0.9, dampening=0.9) (PyTorch starts m₁ = g₁: a 10× larger first step)"))
    rows[-1]["max_diff_vs_heavy_ball_with_lr_times_1_minus_rho"] = max_abs_diff(ref, traj("SGD", lr=alpha * (1 - mu), momentum=mu))
    ref, ms = notes_nesterov_xu(grad, th0, lr, mu, steps)
    torch_nesterov = traj("SGD", lr=lr, momentum=mu, nesterov=True)
    rows.append(form_row(fn, "Nesterov, gradient at θ − ημm", "Xu eqs. 1.44–1.46", ref,
                         ("NesterovLookahead(momentum=0.9)", traj("NesterovLookahead", lr=lr, momentum=mu)),
                         torch_nesterov, "SGD(momentum=0.9, nesterov=True)"))
    rows[-1]["max_diff_standard_vs_shifted_notes_theta_minus_eta_mu_m"] = max_abs_diff(torch_nesterov, ref - lr * mu * ms)
    rows.append(form_row(fn, "Nesterov, EMA momentum, gradient at φ − αm", "Fang Alg. 2", notes_nesterov_fang(grad, th0, 1e-2, mu, steps),
                         ("NesterovLookahead(momentum=0.9, ema=True)", traj("NesterovLookahead", lr=1e-2, momentum=mu, ema=True))))
    rows.append(form_row(fn, "normalised gradient g/√(g² + ε)", "Fang Alg. 3", notes_normalized_fang(grad, th0, 1e-3, 1e-8, steps),
                         ("NormalizedGradient(eps=1e-8)", traj("NormalizedGradient", lr=1e-3, eps=1e-8))))
    return rows


def _adaptive_rows(fn, grad, th0, traj, steps: int) -> list[dict]:
    """Adagrad, Xu's "Adadelta" and "RMSProp", RMSprop (Fang Alg. 5), Zeiler's Adadelta (Fang Alg. 6), Adam."""
    return [
        form_row(fn, "Adagrad g/√(ε + n)", "Xu eq. 1.49, Fang Alg. 4", notes_adagrad_xu(grad, th0, 0.1, 1e-10, steps),
                 ("Adagrad(eps_inside_sqrt=True)", traj("Adagrad", lr=0.1, eps_inside_sqrt=True)),
                 traj("Adagrad", lr=0.1), "Adagrad() (g/(√n + ε), ε = 1e-10)"),
        form_row(fn, "Xu's \"Adadelta\": n = νn + (1 − ν)g², g/√(ε + n)", "Xu eqs. 1.50–1.52",
                 notes_adadelta_xu(grad, th0, 1e-2, 0.9, 1e-8, steps),
                 ("RMSprop(alpha=0.9, eps_inside_sqrt=True)", traj("RMSprop", lr=1e-2, alpha=0.9, eps_inside_sqrt=True)),
                 traj("Adadelta", lr=1.0, rho=0.9), "Adadelta(lr=1, rho=0.9) (Zeiler's: a different algorithm)"),
        form_row(fn, "Xu's RMSProp: the above with ν = 0.5", "Xu §1.9.6", notes_adadelta_xu(grad, th0, 1e-2, 0.5, 1e-8, steps),
                 ("RMSprop(alpha=0.5, eps_inside_sqrt=True)", traj("RMSprop", lr=1e-2, alpha=0.5, eps_inside_sqrt=True)),
                 traj("RMSprop", lr=1e-2), "RMSprop() (α = 0.99, ε outside)"),
        form_row(fn, "RMSprop g/√(v + ε)", "Fang Alg. 5", notes_adadelta_xu(grad, th0, 1e-2, 0.99, 1e-8, steps),
                 ("RMSprop(eps_inside_sqrt=True)", traj("RMSprop", lr=1e-2, eps_inside_sqrt=True)),
                 traj("RMSprop", lr=1e-2), "RMSprop() (g/(√v + ε), ε = 1e-8)"),
        form_row(fn, "Adadelta without learning rate", "Fang Alg. 6", notes_adadelta_fang(grad, th0, 0.9, 1e-6, steps),
                 ("Adadelta() (lr = 1)", traj("Adadelta", rho=0.9, eps=1e-6)), note="the notes' form is PyTorch's with lr = 1"),
        form_row(fn, "Adam m̂/√(ε + n̂)", "Xu eqs. 1.53–1.58, Fang Alg. 7", notes_adam_xu(grad, th0, 1e-2, 0.9, 0.999, 1e-8, steps),
                 ("Adam(eps_inside_sqrt=True)", traj("Adam", lr=1e-2, eps_inside_sqrt=True)),
                 traj("Adam", lr=1e-2), "Adam() (m̂/(√n̂ + ε), ε = 1e-8)"),
    ]


def compare_forms(fn, start, steps: int) -> list[dict]:
    """Each notes formula (NumPy transcription) against shenjing's option for it, and against the
    standard (PyTorch) form: the largest coordinate difference over the trajectories (:func:`form_row`)."""
    import shenjing as sj

    def grad(theta):
        t = sj.tensor(theta[None], dtype=sj.float64, requires_grad=True)
        fn(t).sum().backward()
        return t.grad.numpy()[0].copy()

    def traj(cls, **kw):
        return shenjing_trajectory(fn, start, cls, steps, **kw)

    th0 = xp.asarray(start, dtype=xp.float64)
    return _momentum_rows(fn, grad, th0, traj, steps) + _adaptive_rows(fn, grad, th0, traj, steps)


def eps_sweep(fn, start, steps: int, eps_values=(1e-8, 1e-6, 1e-4, 1e-2)) -> dict:
    """Largest |Δθ| between ε inside the root (the notes) and outside (PyTorch) for Adagrad, RMSprop and
    Adam, as ε grows."""
    cases = {"Adagrad": ("Adagrad", {"lr": 0.1}), "RMSprop": ("RMSprop", {"lr": 1e-2}), "Adam": ("Adam", {"lr": 1e-2})}
    out = {}
    for name, (cls, kw) in cases.items():
        out[name] = [float(xp.max(xp.abs(
            shenjing_trajectory(fn, start, cls, steps, eps=e, eps_inside_sqrt=True, **kw)
            - shenjing_trajectory(fn, start, cls, steps, eps=e, **kw)))) for e in eps_values]
    return {"eps": list(eps_values), "max_diff": out}


# ---------------------------------------------------------------------------- the network


def train_network(key: str, lr: float, steps: int, seed: int) -> list[float]:
    """Full-batch training of a 2-16-16-2 tanh MLP on two moons (cross-entropy) with one optimiser."""
    import shenjing as sj
    import shenjing.nn.functional as F
    from shenjing import nn
    from shenjing.data import toy

    X, y = toy.two_moons(256, noise=0.15, seed=seed)
    sj.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))
    _, _, cls, kw, _ = ZOO[key]
    opt = _cls(cls)(model.parameters(), lr=lr, **kw)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        return loss

    losses = []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    with sj.no_grad():
        losses.append(float(F.cross_entropy(model(X), y)))
    return losses


# ---------------------------------------------------------------------------- the experiment


def reduction_factor(start_loss: float, end_loss: float) -> float:
    """start/end loss (0 if the run diverged)."""
    return start_loss / max(float(end_loss), 1e-300) if math.isfinite(end_loss) else 0.0


def on_function(fn, start, lrs: dict, steps: int) -> dict:
    """Every optimiser of the zoo on ``fn`` with its learning rate ``lrs[key]``: trajectories, losses and
    the factor by which each reduced the loss."""
    hist = run_zoo_on(fn, start, {k: [lrs[k]] for k in ZOO}, steps)
    trajs = {k: hist[k][:, 0] for k in ZOO}
    losses = {k: loss_np(fn, trajs[k]) for k in ZOO}
    l0 = float(losses["sgd"][0])
    return {"lrs": lrs, "trajs": trajs, "losses": losses, "start_loss": l0,
            "factors": {k: reduction_factor(l0, losses[k][-1]) for k in ZOO}}


def measure(ctx) -> Measurement:
    steps = 300 if ctx.quick else 1000
    net_steps = 200 if ctx.quick else 500
    cmp_steps = 100 if ctx.quick else 1000
    fn_results = {}
    for i, (fname, (fn, start, *_)) in enumerate(FUNCTIONS.items()):
        if ctx.quick:
            lrs = {k: ZOO[k][4] if ZOO[k][4] is not None else 10.0 ** (TUNED[k][i] / 2) for k in ZOO}
        else:
            lrs = tune(fn, start, steps)
        fn_results[fname] = on_function(fn, start, lrs, steps)
    with xp.errstate(all="ignore"):
        compare = compare_forms(rosenbrock, FUNCTIONS["Rosenbrock"][1], cmp_steps)
        sweep = eps_sweep(rosenbrock, FUNCTIONS["Rosenbrock"][1], cmp_steps)
    net = {k: train_network(k, NET_LR[k], net_steps, ctx.seed) for k in ZOO}
    net_factors = {k: reduction_factor(net[k][0], net[k][-1]) for k in ZOO}
    measured = {
        "loss_reduction_factor_min_over_tasks": {k: min([r["factors"][k] for r in fn_results.values()] + [net_factors[k]]) for k in ZOO},
        "functions": {f: {"start_loss": r["start_loss"], "learning_rates": r["lrs"], "final_loss": {k: float(r["losses"][k][-1]) for k in ZOO},
                          "reduction_factor": r["factors"]} for f, r in fn_results.items()},
        "network": {"start_loss": net["sgd"][0], "final_loss": {k: net[k][-1] for k in ZOO},
                    "reduction_factor": net_factors, "learning_rates": NET_LR},
        "notes_vs_standard_on_rosenbrock": compare,
        "notes_formula_vs_shenjing_option_max_diff": {f"{r['form']} ({r['source']})": r["max_diff_notes_vs_shenjing_option"] for r in compare},
        "eps_inside_vs_outside_on_rosenbrock": sweep,
        "ema_momentum_equals_heavy_ball_with_lr_times_1_minus_rho_max_diff": compare[1]["max_diff_vs_heavy_ball_with_lr_times_1_minus_rho"],
        "pytorch_nesterov_equals_lookahead_shifted_max_diff": compare[2]["max_diff_standard_vs_shifted_notes_theta_minus_eta_mu_m"],
    }
    method = (f"Each of the {len(ZOO)} optimisers runs {steps} steps on Rosenbrock, a rotated quadratic with curvatures 1 and 25, "
              "and Beale's function, each with its best learning rate of the grid 1e-4 … 3.2 (half-decades; the best has the "
              "lowest worst loss over the last 10% of the steps; quick mode uses the rates that grid selects after 300 steps; "
              f"Zeiler's Adadelta keeps lr = 1), and trains a 2-16-16-2 tanh MLP on 256 two-moons points for {net_steps} "
              f"full-batch steps. Each notes formula, transcribed in NumPy, runs {cmp_steps} steps on Rosenbrock next to its "
              "shenjing option and the standard form. The differences between notes and standard forms are reported, not checked.")
    return Measurement(measured, method, data={"fn_results": fn_results, "net": net, "compare": compare, "sweep": sweep,
                                               "steps": steps, "net_steps": net_steps, "cmp_steps": cmp_steps})


def _styles(plt) -> dict:
    """key -> (colour, line style): solid for the standard forms, dashed for the notes' forms, every line its own colour."""
    std_keys = [k for k in ZOO if ZOO[k][1] == "standard"]
    notes_keys = [k for k in ZOO if ZOO[k][1] == "notes"]
    tab, dark = plt.get_cmap("tab10"), plt.get_cmap("Dark2")
    notes_colours = [dark(i) for i in range(8)] + [tab(8), tab(9)]
    style = {k: (tab(i), "-") for i, k in enumerate(std_keys)}
    style.update({k: (notes_colours[i % len(notes_colours)], "--") for i, k in enumerate(notes_keys)})
    return style


def _trajectories_figure(plt, fn_results: dict, steps: int):
    """Per test function: the standard forms' paths, the notes' forms' paths, every loss curve."""
    style = _styles(plt)
    keys = {"standard forms": [k for k in ZOO if ZOO[k][1] == "standard"], "the notes' forms": [k for k in ZOO if ZOO[k][1] == "notes"]}
    fig, axes = plt.subplots(len(FUNCTIONS), 3, figsize=(18, 4.8 * len(FUNCTIONS)), gridspec_kw={"width_ratios": [1, 1, 1.15]})
    for row, (fname, (fn, start, xmin, xr, yr)) in enumerate(FUNCTIONS.items()):
        res = fn_results[fname]
        gx, gy = xp.meshgrid(xp.linspace(*xr, 240), xp.linspace(*yr, 200))
        gz = loss_np(fn, xp.stack([gx, gy], axis=-1))
        levels = xp.geomspace(max(float(gz.min()), 1e-3), float(gz.max()), 18)
        for ax, (what, ks) in zip(axes[row, :2], keys.items()):
            ax.contour(gx, gy, gz, levels=levels, colors="0.75", linewidths=0.6)
            for k in ks:
                t = res["trajs"][k]
                t = t[xp.all(xp.isfinite(t), axis=1)]
                c, ls = style[k]
                ax.plot(t[:, 0], t[:, 1], ls, color=c, lw=1.3, label=f"{ZOO[k][0]} (η={res['lrs'][k]:.3g})")
            ax.plot(*start, "ko", ms=6)
            ax.plot(*xmin, "k*", ms=13)
            ax.set_xlim(*xr)
            ax.set_ylim(*yr)
            ax.set(xlabel="θ₁", ylabel="θ₂", title=f"{fname}: {what}\n({steps} steps; ● start, ★ minimum)")
            ax.legend(fontsize=6.5, loc="best", framealpha=0.85)
        ax = axes[row, 2]
        for k in keys["standard forms"] + keys["the notes' forms"]:
            c, ls = style[k]
            ax.plot(xp.clip(res["losses"][k], 1e-16, None), ls, color=c, lw=1.2, label=ZOO[k][0])
        ax.set_yscale("log")
        ax.set_ylim(1e-16, 10 * res["start_loss"])
        ax.set(xlabel="iteration", ylabel="loss (log scale)", title=f"{fname}: loss\n(solid: standard forms, dashed: the notes' forms)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6, ncol=2, loc="lower left")
    fig.tight_layout()
    return fig


def _network_figure(plt, net: dict, net_steps: int):
    style = _styles(plt)
    fig, ax = plt.subplots(figsize=(13, 5.2))
    for k in sorted(ZOO, key=lambda k: ZOO[k][1] != "standard"):  # the standard forms first
        c, ls = style[k]
        ax.plot(net[k], ls, color=c, lw=1.2, label=f"{ZOO[k][0]} (η={NET_LR[k]:g})")
    ax.set_yscale("log")
    ax.set(xlabel="step (full batch)", ylabel="cross-entropy (log scale)",
           title=f"2-16-16-2 tanh MLP on 256 two-moons points: training loss of every optimiser ({net_steps} steps)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), title="solid: standard, dashed: notes", title_fontsize=8)
    return fig


def _notes_vs_standard_figure(plt, compare: list, sweep: dict, cmp_steps: int):
    fig, axes = plt.subplots(1, 2, figsize=(16, 6.2), gridspec_kw={"width_ratios": [1.5, 1]})
    ax = axes[0]
    y = xp.arange(len(compare))
    floor = 1e-17
    ax.barh(y - 0.2, [max(r["max_diff_notes_vs_shenjing_option"], floor) for r in compare], height=0.4,
            color="tab:green", label="notes formula vs its shenjing option")
    ax.barh(y + 0.2, [max(r["max_diff_notes_vs_standard"], floor) if "standard" in r else 0 for r in compare],
            height=0.4, color="tab:red", label="notes formula vs the standard (PyTorch) form")
    for i, r in enumerate(compare):
        if "standard" not in r:
            ax.text(floor, i + 0.2, "  no PyTorch counterpart", va="center", fontsize=7, color="0.4")
    ax.set_xscale("log")
    ax.set_xlim(floor / 2, 100)
    ax.set_yticks(y, [f"{r['form']} ({r['source']})" for r in compare], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1e-10, color="k", ls=":", lw=1, label="1e-10 (agreement threshold)")
    ax.set(xlabel=f"largest |Δθ| over {cmp_steps} steps on Rosenbrock (log scale; 1e-17 = identical)",
           title="each notes formula (NumPy transcription) vs shenjing's option and vs the standard form")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    ax = axes[1]
    for name, diffs in sweep["max_diff"].items():
        ax.plot(sweep["eps"], [max(v, floor) for v in diffs], "o-", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="ε", ylabel=f"largest |Δθ| over {cmp_steps} steps (log scale)",
           title="ε inside the root (notes) vs outside (PyTorch) on Rosenbrock:\nthe gap grows ∝ ε (small here, where g² ≫ ε)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def figures(ctx, m: Measurement) -> None:
    from shenjing.viz.plots import pyplot

    plt, d = pyplot(), m.data
    ctx.savefig(_trajectories_figure(plt, d["fn_results"], d["steps"]), "trajectories.png")
    ctx.savefig(_network_figure(plt, d["net"], d["net_steps"]), "network.png")
    ctx.savefig(_notes_vs_standard_figure(plt, d["compare"], d["sweep"], d["cmp_steps"]), "notes-vs-standard.png")
