r"""Functional optimisers (函数式优化器): the update math of ``shenjing.optim``, in the form of
``torch.optim``'s functional API (``torch.optim.adam.adam(params, grads, exp_avgs, ...)``).

Each algorithm is a function over lists — the parameters, their gradients, their state buffers
(Tensors, in ``torch.optim``'s state layout) — with the hyper-parameters as keywords. It updates the
parameters and buffers in place, reading ``t.array`` and writing through ``with t.inplace() as a:``,
so each parameter's version counter moves once per step, as after an in-place op under ``no_grad``;
a diverging run's inf and NaN come silently (``quietly``), as from PyTorch's.
The optimiser classes validate hyper-parameters, keep ``param_groups``/``state`` and call these.

Every function follows PyTorch's algorithm by default, operation for operation (to an ulp where torch
fuses a multiply-add). The lecture notes' forms are options, each documented at its function: ε
inside the root (``eps_inside_sqrt``: Xu eqs 1.49, 1.52, 1.58; Fang Algorithms 4, 5, 7),
exponential-moving-average momentum (``dampening=momentum``, Fang Algorithm 1) from m₀ = 0
(``momentum_init="zeros"``), the look-ahead gradient (:func:`lookahead` + :func:`nesterov_lookahead`:
Xu eq. 1.44, Fang Algorithm 2), the normalised gradient (:func:`normalized_gradient`, Fang
Algorithm 3) and Zeiler's AdaDelta (:func:`adadelta`, Fang Algorithm 6).

The shared pieces act on backend arrays: :func:`gradient`, :func:`decay_gradient`,
:func:`decay_weights_`, :func:`momentum_`, :func:`ema_square_`, :func:`lerp_`, :func:`denominator`;
:func:`zero_buffer`, :func:`new_step` and :func:`bump_step` make and advance the state.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd.tensor import Tensor
from ..backend import ndarray, quietly, xp
from ..creation import as_tensor

__all__ = [
    "sgd", "adam", "rmsprop", "adagrad", "adadelta", "normalized_gradient", "lookahead", "restore", "nesterov_lookahead",
    "gradient", "decay_gradient", "decay_weights_", "momentum_", "ema_square_", "lerp_", "denominator",
    "zero_buffer", "new_step", "bump_step",
]


# ---------------------------------------------------------------------- state
def zero_buffer(p: Tensor) -> Tensor:
    """A zero state buffer shaped, typed and laid out like ``p`` (m₀ = 0, v₀ = 0)."""
    return as_tensor(xp.zeros_like(p.array))


def new_step() -> Tensor:
    """A step counter as PyTorch keeps it: a 0-d float32 tensor holding 0."""
    return as_tensor(xp.zeros((), dtype=xp.float32))


def bump_step(step: Tensor) -> float:
    """t ← t + 1 in the counter tensor; returns the new t."""
    with step.inplace() as s:
        s += 1
    return float(s)


# ---------------------------------------------------------------------- shared pieces (arrays)
def gradient(grad: Tensor, param: Tensor, *, maximize: bool = False) -> ndarray:
    """g, in ``param``'s dtype; −g for ``maximize`` (gradient ascent). May be ``grad``'s own array:
    callers never write into it."""
    g = grad.array
    if g.dtype != param.dtype:
        g = g.astype(param.dtype)
    return -g if maximize else g


def decay_gradient(g: ndarray, theta: ndarray, weight_decay: float) -> ndarray:
    """Weight decay (权重衰减) as an L2 penalty (λ/2)‖θ‖² folded into the gradient: g + λθ (a new
    array; ``g`` itself when λ = 0)."""
    return g + weight_decay * theta if weight_decay != 0 else g


def decay_weights_(theta: ndarray, lr: float, weight_decay: float) -> None:
    """Decoupled weight decay (解耦权重衰减, AdamW): θ ← θ(1 − ηλ), in place."""
    theta *= 1 - lr * weight_decay


def momentum_(buf: ndarray, g: ndarray, momentum: float, dampening: float = 0.0) -> None:
    """Momentum (动量) in place: m ← μ m + (1 − τ) g.

    τ = 0 is the plain sum of Xu eqs 1.41–1.43; τ = μ = ρ is the exponential moving average
    (指数衰减移动平均) of Fang Algorithm 1, m_t = ρ m_{t−1} + (1 − ρ) g_t."""
    buf *= momentum
    if dampening == 0:
        buf += g
    else:
        buf += (1 - dampening) * g


def ema_square_(v: ndarray, g: ndarray, rho: float) -> None:
    """The second moment (二阶动量) in place: v ← ρ v + (1 − ρ) g ⊙ g."""
    v *= rho
    sq = g * (1 - rho)
    sq *= g
    v += sq


def lerp_(a: ndarray, b: ndarray, w: float) -> None:
    """a ← a + w (b − a) in place (the first moment, m ← β₁ m + (1 − β₁) g with w = 1 − β₁), in
    ``torch.lerp_``'s two forms: b − (b − a)(1 − w) when w ≥ 0.5 (torch fuses the multiply-add, so
    the two agree to an ulp)."""
    t = b - a
    if w < 0.5:
        t *= w
        a += t
    else:
        t *= 1 - w
        xp.subtract(b, t, out=a)


def denominator(v: ndarray, eps: float, *, eps_inside_sqrt: bool = False, bias_correction2: float = 1.0) -> ndarray:
    """The adaptive step's denominator (a new array), with v̂ = v / bias_correction2:

    * PyTorch's √v̂ + ε (the default), computed as √v / √bias_correction2 + ε as torch does;
    * the notes' √(v̂ + ε) with ``eps_inside_sqrt`` (Xu eqs 1.49, 1.52, 1.58; Fang Algorithms 4–7).
    """
    if eps_inside_sqrt:
        if bias_correction2 == 1:
            d = v + eps
        else:
            d = v / bias_correction2
            d += eps
        return xp.sqrt(d, out=d)
    d = xp.sqrt(v)
    if bias_correction2 != 1:
        d /= bias_correction2**0.5
    d += eps
    return d


# ---------------------------------------------------------------------- algorithms
@quietly
def sgd(params: Sequence[Tensor], grads: Sequence[Tensor], momentum_buffers: list[Tensor | None], *, lr: float,
        momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
        maximize: bool = False, momentum_init: str = "grad") -> None:
    r"""Gradient descent (梯度下降) / SGD with momentum (动量), ``torch.optim.SGD``'s update::

        g ← g + λθ                           (weight_decay λ)
        m ← g                                 first step, momentum_init="grad" (PyTorch's)
        m ← μ m + (1 − τ) g                   afterwards   (momentum μ, dampening τ)
        d ← g + μ m   if nesterov else  m     (d ← g when μ = 0)
        θ ← θ − η d

    Without momentum, θ_t = θ_{t−1} − η g_t (Xu eq. 1.40; Fang §6.1–6.2). The notes' forms:
    τ = 0 is m_t = μ m_{t−1} + g_t (Xu eqs 1.41–1.43); τ = μ = ρ is the EMA momentum of Fang
    Algorithm 1, m_t = ρ m_{t−1} + (1 − ρ) g_t, and ``momentum_init="zeros"`` starts it from
    m₀ = 0 as the notes write it (m₁ = (1 − τ) g₁; PyTorch's m₁ = g₁ is the same when τ = 0).
    ``nesterov`` is PyTorch's (Sutskever's) reformulation; the notes' look-ahead gradient is
    :func:`lookahead` + :func:`nesterov_lookahead`.

    ``momentum_buffers[i]`` is None before the first step: the new buffer is stored into the list
    (as torch does), for the caller to keep in its state. Unused (all None) when μ = 0.
    """
    if momentum_init not in ("grad", "zeros"):
        raise ValueError(f"momentum_init must be 'grad' or 'zeros', got {momentum_init!r}")
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = decay_gradient(gradient(grad, p, maximize=maximize), p.array, weight_decay)
        if momentum != 0:
            buf_t = momentum_buffers[i]
            if buf_t is None:
                buf = g * (1 - dampening) if momentum_init == "zeros" else g.copy()
                momentum_buffers[i] = as_tensor(buf)
            else:
                with buf_t.inplace() as buf:
                    momentum_(buf, g, momentum, dampening)
            g = g + momentum * buf if nesterov else buf
        with p.inplace() as theta:
            theta -= lr * g


@quietly
def adam(params: Sequence[Tensor], grads: Sequence[Tensor], exp_avgs: Sequence[Tensor], exp_avg_sqs: Sequence[Tensor],
         max_exp_avg_sqs: Sequence[Tensor | None], state_steps: Sequence[Tensor], *, amsgrad: bool, beta1: float,
         beta2: float, lr: float, weight_decay: float, eps: float, maximize: bool = False,
         decoupled_weight_decay: bool = False, eps_inside_sqrt: bool = False) -> None:
    r"""Adam (自适应矩估计): momentum (动量, first moment) with an adaptive learning rate (自适应学习率,
    second moment), both bias-corrected — ``torch.optim.Adam``/``AdamW``'s update::

        g ← g + λθ        (weight_decay λ; decoupled_weight_decay (AdamW): θ ← θ(1 − ηλ) instead)
        m_t = β₁ m_{t−1} + (1 − β₁) g            (一阶动量)
        v_t = β₂ v_{t−1} + (1 − β₂) g ⊙ g        (二阶动量)
        m̂_t = m_t / (1 − β₁ᵗ),   v̂_t = v_t / (1 − β₂ᵗ)
        amsgrad:  v_max = max(v_max, v_t), used in place of v_t (Reddi et al. 2018)
        θ_t = θ_{t−1} − η m̂_t / (√v̂_t + ε)

    ``eps_inside_sqrt`` gives the notes' θ_t = θ_{t−1} − η m̂_t / √(ε + v̂_t) (Xu eqs 1.53–1.58,
    Fang §6.9 Algorithm 7 step 6). Xu names the decay rates μ, ν (eqs 1.54–1.55): β₁ = μ, β₂ = ν.
    ``max_exp_avg_sqs`` entries are used only with ``amsgrad`` (None otherwise).
    """
    for i, p in enumerate(params):
        step = bump_step(state_steps[i])
        g = gradient(grads[i], p, maximize=maximize)
        with p.inplace() as theta, exp_avgs[i].inplace() as m, exp_avg_sqs[i].inplace() as v:
            if weight_decay != 0:
                if decoupled_weight_decay:
                    decay_weights_(theta, lr, weight_decay)
                else:
                    g = decay_gradient(g, theta, weight_decay)
            lerp_(m, g, 1 - beta1)
            ema_square_(v, g, beta2)
            if amsgrad:
                with max_exp_avg_sqs[i].inplace() as v_max:
                    xp.maximum(v_max, v, out=v_max)
                v = v_max
            d = denominator(v, eps, eps_inside_sqrt=eps_inside_sqrt, bias_correction2=1 - beta2**step)
            xp.divide(m, d, out=d)
            d *= lr / (1 - beta1**step)
            theta -= d


@quietly
def rmsprop(params: Sequence[Tensor], grads: Sequence[Tensor], square_avgs: Sequence[Tensor], grad_avgs: Sequence[Tensor | None],
            momentum_buffers: Sequence[Tensor | None], state_steps: Sequence[Tensor], *, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool, maximize: bool = False, eps_inside_sqrt: bool = False) -> None:
    r"""RMSprop (均方根传播): divide g by the root of a moving average of g², ``torch.optim.RMSprop``'s update::

        g ← g + λθ                            (weight_decay λ)
        v_t = α v_{t−1} + (1 − α) g ⊙ g       (α: ν in Xu, ρ in Fang)
        centered:  ḡ_t = α ḡ_{t−1} + (1 − α) g,   v̂ = v_t − ḡ_t²   else  v̂ = v_t
        d = g / (√v̂ + ε)
        momentum μ > 0:  b_t = μ b_{t−1} + d,  θ_t = θ_{t−1} − η b_t   else  θ_t = θ_{t−1} − η d

    ``eps_inside_sqrt`` gives the notes' d = g / √(v̂ + ε): Fang §6.7 Algorithm 5, Xu §1.9.5–1.9.6
    eqs 1.50–1.52. ``grad_avgs`` are used only when ``centered``, ``momentum_buffers`` only when μ > 0.
    """
    for i, p in enumerate(params):
        bump_step(state_steps[i])
        g = decay_gradient(gradient(grads[i], p, maximize=maximize), p.array, weight_decay)
        with square_avgs[i].inplace() as v:
            ema_square_(v, g, alpha)
        if centered:
            with grad_avgs[i].inplace() as g_avg:
                lerp_(g_avg, g, 1 - alpha)
            var = g_avg * g_avg
            xp.subtract(v, var, out=var)
            d = denominator(var, eps, eps_inside_sqrt=eps_inside_sqrt)
        else:
            d = denominator(v, eps, eps_inside_sqrt=eps_inside_sqrt)
        xp.divide(g, d, out=d)
        if momentum > 0:
            with momentum_buffers[i].inplace() as buf:
                momentum_(buf, d, momentum)
            xp.multiply(buf, lr, out=d)
        else:
            d *= lr
        with p.inplace() as theta:
            theta -= d


@quietly
def adagrad(params: Sequence[Tensor], grads: Sequence[Tensor], state_sums: Sequence[Tensor], state_steps: Sequence[Tensor], *,
            lr: float, weight_decay: float, lr_decay: float, eps: float, maximize: bool = False, eps_inside_sqrt: bool = False) -> None:
    r"""AdaGrad (自适应梯度, 自适应学习率): each coordinate's step is divided by the root of its summed
    squared gradients — ``torch.optim.Adagrad``'s update::

        g ← g + λθ                          (weight_decay λ)
        η_t = η / (1 + (t − 1)·lr_decay)
        n_t = n_{t−1} + g ⊙ g              (n_0 = initial_accumulator_value)
        θ_t = θ_{t−1} − η_t g / (√n_t + ε)

    ``eps_inside_sqrt`` gives the notes' θ_t = θ_{t−1} − η g_t / √(ε + n_t) (Xu §1.9.4 eqs 1.47–1.49;
    Fang §6.6 Algorithm 4). n only grows, so the effective learning rate keeps shrinking.
    """
    for i, p in enumerate(params):
        step = bump_step(state_steps[i])
        g = decay_gradient(gradient(grads[i], p, maximize=maximize), p.array, weight_decay)
        with state_sums[i].inplace() as n:
            n += g * g
        d = denominator(n, eps, eps_inside_sqrt=eps_inside_sqrt)
        xp.divide(g, d, out=d)
        d *= lr / (1 + (step - 1) * lr_decay)
        with p.inplace() as theta:
            theta -= d


@quietly
def adadelta(params: Sequence[Tensor], grads: Sequence[Tensor], square_avgs: Sequence[Tensor], acc_deltas: Sequence[Tensor],
             state_steps: Sequence[Tensor], *, lr: float, rho: float, eps: float, weight_decay: float, maximize: bool = False) -> None:
    r"""Zeiler's AdaDelta: the step is the ratio of two running RMS values, so no learning rate is
    needed (无需学习率; the notes' form is lr = 1). Fang §6.8 Algorithm 6, ``torch.optim.Adadelta``::

        g ← g + λθ                                          (weight_decay λ)
        v_t  = ρ v_{t−1} + (1 − ρ) g ⊙ g                    (二阶动量)
        Δθ_t = −√(s_{t−1} + ε) / √(v_t + ε) ⊙ g             (差值更新)
        s_t  = ρ s_{t−1} + (1 − ρ) Δθ_t ⊙ Δθ_t              (累加更新)
        θ_t  = θ_{t−1} + lr · Δθ_t

    ε sits inside both roots, in the notes and in PyTorch alike.
    """
    for i, p in enumerate(params):
        bump_step(state_steps[i])
        g = decay_gradient(gradient(grads[i], p, maximize=maximize), p.array, weight_decay)
        with square_avgs[i].inplace() as v, acc_deltas[i].inplace() as s:
            ema_square_(v, g, rho)
            delta = denominator(s, eps, eps_inside_sqrt=True)
            delta /= denominator(v, eps, eps_inside_sqrt=True)
            delta *= g
            ema_square_(s, delta, rho)
        delta *= lr
        with p.inplace() as theta:
            theta -= delta


@quietly
def normalized_gradient(params: Sequence[Tensor], grads: Sequence[Tensor], *, lr: float, eps: float,
                        weight_decay: float = 0.0, maximize: bool = False) -> None:
    r"""Element-wise normalised gradient descent (梯度归一化), Fang §6.5 Algorithm 3 (no PyTorch counterpart)::

        g ← g + λθ                    (weight_decay λ)
        v_t = g_t ⊙ g_t
        θ_{t+1} = θ_t − α g_t / √(v_t + ε)

    Each coordinate moves by about α·sign(g) whatever the gradient's size; ε keeps g = 0 finite.
    It is RMSprop without memory (α_RMSprop = 0) in the √(v + ε) form, and keeps no state.
    """
    for p, grad in zip(params, grads):
        g = decay_gradient(gradient(grad, p, maximize=maximize), p.array, weight_decay)
        d = denominator(g * g, eps, eps_inside_sqrt=True)
        xp.divide(g, d, out=d)
        d *= lr
        with p.inplace() as theta:
            theta -= d


# ---------------------------------------------------------------------- Nesterov with the look-ahead gradient
@quietly
def lookahead(params: Sequence[Tensor], momentum_buffers: Sequence[Tensor | None], *, lr: float, momentum: float,
              ema: bool = False) -> list[tuple[Tensor, ndarray]]:
    r"""Move to the look-ahead point of Nesterov's method (Nesterov 加速动量法): "先沿原动量方向移动".

    θ ← θ − s·m, with s = ημ (Xu eq. 1.44, g_t = ∇R(θ_{t−1} − ημ m_{t−1})) or, for ``ema``, s = α
    (Fang §6.4 Algorithm 2, g_t = ∇L(φ_t − α m_{t−1})). Parameters without a buffer (m = 0) stay.
    Returns ``(param, saved values)`` pairs for :func:`restore` once the gradient is taken there.
    """
    shift = lr if ema else lr * momentum
    saved: list[tuple[Tensor, ndarray]] = []
    if shift == 0:
        return saved
    for p, buf in zip(params, momentum_buffers):
        if buf is None:
            continue
        saved.append((p, p.array.copy()))
        with p.inplace() as theta:
            theta -= shift * buf.array
    return saved


def restore(saved: Sequence[tuple[Tensor, ndarray]]) -> None:
    """Put back the values that :func:`lookahead` saved."""
    for p, values in saved:
        with p.inplace() as theta:
            theta[...] = values


@quietly
def nesterov_lookahead(params: Sequence[Tensor], grads: Sequence[Tensor], momentum_buffers: list[Tensor | None], *,
                       lr: float, momentum: float, ema: bool = False) -> None:
    r"""The update after the gradient at the :func:`lookahead` point ("再沿该处负梯度移动")::

        m_t = μ m_{t−1} + g_t,             θ_t = θ_{t−1} − η m_t        (Xu eqs 1.44–1.46)
        m_t = ρ m_{t−1} + (1 − ρ) g_t,     φ_{t+1} = φ_t − α m_t        (ema, Fang Algorithm 2)

    from m₀ = 0: a None buffer becomes zeros, stored into the list. PyTorch's ``SGD(nesterov=True)``
    is the equivalent reformulation in the shifted variable, without a second gradient evaluation.
    """
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = gradient(grad, p)
        if momentum_buffers[i] is None:
            momentum_buffers[i] = zero_buffer(p)
        with momentum_buffers[i].inplace() as m:
            momentum_(m, g, momentum, momentum if ema else 0.0)
        with p.inplace() as theta:
            theta -= lr * m
