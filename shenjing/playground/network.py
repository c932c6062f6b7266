"""The playground's network: input features of (x₁, x₂), hidden layers with an activation each,
optional batch norm, dropout and residual connections, one output (tanh for classification, as
TensorFlow Playground; linear for regression); the update rules and their formulas."""

from __future__ import annotations

from .. import nn, optim
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from .config import Config

ACTIVATION_MODULES = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "linear": nn.Identity, "step": nn.Step, "sign": nn.Sign,
    "arctan": nn.Arctan, "leakyrelu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "selu": nn.SELU, "softplus": nn.Softplus,
    "silu": nn.SiLU, "gelu": nn.GELU, "sin": nn.Sin, "polynomial": nn.Polynomial,
}

FEATURE_FUNCTIONS = {
    "x": lambda a, b: a, "y": lambda a, b: b, "xSquared": lambda a, b: a * a, "ySquared": lambda a, b: b * b,
    "xTimesY": lambda a, b: a * b, "sinX": lambda a, b: xp.sin(a), "sinY": lambda a, b: xp.sin(b),
    "cosX": lambda a, b: xp.cos(a), "cosY": lambda a, b: xp.cos(b),
}


def features(cfg: Config, points) -> Tensor:
    """The enabled input features (x₁, x₂, x₁², …) of points (n, 2), as a (n, k) float32 Tensor."""
    a, b = points[:, 0], points[:, 1]
    return as_tensor(xp.stack([FEATURE_FUNCTIONS[f](a, b) for f in cfg.features], 1).astype(xp.float32))


class PlaygroundNet(nn.Module):
    """Hidden layers h_l = φ_l(BN(W_l h_{l−1} + b_l)) (+ h_{l−1} with residual connections of equal
    width), dropout after each; output tanh(w·h + b) or w·h + b."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        sizes = [len(cfg.features), *cfg.networkShape]
        self.layers = nn.ModuleList([nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:])])
        self.norms = nn.ModuleList([nn.BatchNorm1d(o) if cfg.batchNorm else nn.Identity() for o in sizes[1:]])
        self.acts = nn.ModuleList([ACTIVATION_MODULES[a]() for a in cfg.layer_activations()])
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(sizes[-1], 1)
        self.residual, self.tanh_output = cfg.residual, cfg.problem == "classification"
        init_weights(self, cfg)

    def forward(self, x: Tensor, keep: list | None = None) -> Tensor:
        h = x
        for layer, norm, act in zip(self.layers, self.norms, self.acts):
            z = act(norm(layer(h)))
            h = h + z if self.residual and z.shape == h.shape else z
            if keep is not None:
                keep.append(h)
            h = self.drop(h)
        y = self.out(h).reshape(-1)
        return y.tanh() if self.tanh_output else y


def init_weights(net: PlaygroundNet, cfg: Config) -> None:
    """TF Playground's init (weights uniform in [−0.5, 0.5], biases 0.1), zeros (the symmetry
    problem), LeCun, Xavier (Glorot) or Kaiming (He), each times ``initScale`` (small: condensation)."""
    for m in [*net.layers, net.out]:
        if cfg.init == "playground":
            nn.init.uniform_(m.weight, -0.5, 0.5)
            nn.init.constant_(m.bias, 0.1)
        elif cfg.init == "zeros":
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
        else:
            {"lecun": lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear"), "xavier": nn.init.xavier_normal_,
             "kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")}[cfg.init](m.weight)
            nn.init.zeros_(m.bias)
        with m.weight.inplace() as w:
            w *= cfg.initScale


def make_optimizer(cfg: Config, params):
    lr, mu = cfg.learningRate, cfg.momentum
    return {
        "sgd": lambda: optim.SGD(params, lr=lr),
        "momentum": lambda: optim.SGD(params, lr=lr, momentum=mu),
        "momentum-ema": lambda: optim.SGD(params, lr=lr, momentum=mu, dampening=mu),
        "nesterov": lambda: optim.NesterovLookahead(params, lr=lr, momentum=mu),
        "adagrad": lambda: optim.Adagrad(params, lr=lr, eps_inside_sqrt=cfg.epsInside),
        "rmsprop": lambda: optim.RMSprop(params, lr=lr, eps_inside_sqrt=cfg.epsInside),
        "adam": lambda: optim.Adam(params, lr=lr, eps_inside_sqrt=cfg.epsInside),
        "adamw": lambda: optim.AdamW(params, lr=lr),
    }[cfg.optimizer]()


#: the update rule of each optimiser as the notes write it, and where (docs/SOURCES.md)
FORMULAS = {
    "sgd": ("θ ← θ − η ∇L(θ)", "Xu eq. 1.40; Fang §6.1–6.2"),
    "momentum": ("m ← μ m + ∇L;  θ ← θ − η m", "Xu §1.9.2; PyTorch's form"),
    "momentum-ema": ("m ← ρ m + (1 − ρ) ∇L;  θ ← θ − η m", "Fang §6.3, Algorithm 1"),
    "nesterov": ("g = ∇L(θ − η μ m);  m ← μ m + g;  θ ← θ − η m", "Xu §1.9.3 eqs 1.44–1.46; Fang §6.4, Algorithm 2"),
    "adagrad": ("n ← n + g²;  θ ← θ − η g / (√n + ε)", "Xu §1.9.4 eqs 1.47–1.49; Fang §6.6, Algorithm 4"),
    "rmsprop": ("n ← ν n + (1 − ν) g²;  θ ← θ − η g / (√n + ε)", "Xu §1.9.5–1.9.6; Fang §6.7, Algorithm 5"),
    "adam": ("m ← μ m + (1 − μ) g;  n ← ν n + (1 − ν) g²;  θ ← θ − η m̂ / (√n̂ + ε)", "Xu §1.9.7 eqs 1.53–1.58; Fang §6.9, Algorithm 7"),
    "adamw": ("Adam's step, then θ ← θ − η λ θ (decoupled weight decay)", "Loshchilov & Hutter 2019; PyTorch's AdamW"),
}


def formula(cfg: Config) -> dict:
    text, source = FORMULAS[cfg.optimizer]
    if cfg.epsInside and cfg.optimizer in ("adagrad", "rmsprop", "adam"):
        text = text.replace("(√n + ε)", "√(n + ε)").replace("(√n̂ + ε)", "√(n̂ + ε)")
    reg = {"L1": " + λ Σ|w|", "L2": " + λ Σ w²/2"}.get(cfg.regularization, "")
    loss = ("L = ½ mean (tanh(ŷ) − y)²" if cfg.problem == "classification" else "L = ½ mean (ŷ − y)²") + reg
    return {"update": text, "loss": loss, "source": source}
