"""The playground's configuration: the URL hash with TensorFlow Playground's keys (and a few more),
validated; every range is declared once, in ``FIELDS``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from urllib.parse import parse_qsl

from .datasets import CLASSIFICATION, REGRESSION

#: the activations of the notes (Xu §1.5, Nelson) offered per layer; TF Playground has the first four
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "step", "sign", "arctan", "leakyrelu", "elu", "selu", "softplus", "silu",
               "gelu", "sin", "polynomial")
OPTIMIZERS = ("sgd", "momentum", "momentum-ema", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
INITS = ("playground", "zeros", "lecun", "xavier", "kaiming")
FEATURES = ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY", "cosX", "cosY")
MAX_LAYERS, MAX_NEURONS = 8, 16


class ConfigError(ValueError):
    """A configuration value out of range or unknown (the message names the key)."""


@dataclass
class Config:
    dataset: str = "circle"
    problem: str = "classification"
    networkShape: list = field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    activations: list = field(default_factory=list)  # per hidden layer; empty: `activation` everywhere
    learningRate: float = 0.03
    regularization: str = "none"
    regularizationRate: float = 0.0
    batchSize: int = 10
    noise: int = 0  # percent, 0–50
    percTrainData: int = 50
    seed: int = 0
    x: bool = True
    y: bool = True
    xSquared: bool = False
    ySquared: bool = False
    xTimesY: bool = False
    sinX: bool = False
    sinY: bool = False
    cosX: bool = False
    cosY: bool = False
    showTestData: bool = False
    optimizer: str = "sgd"
    momentum: float = 0.9
    epsInside: bool = False
    init: str = "playground"
    initScale: float = 1.0
    dropout: float = 0.0
    batchNorm: bool = False
    residual: bool = False
    lang: str = "en"

    @property
    def features(self) -> list[str]:
        return [f for f in FEATURES if getattr(self, f)]

    def layer_activations(self) -> list[str]:
        return list(self.activations) if self.activations else [self.activation] * len(self.networkShape)

    def to_hash(self) -> str:
        """The configuration as a URL hash (TF Playground's spelling)."""
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, list):
                v = ",".join(map(str, v))
            elif isinstance(v, float):
                v = f"{v:g}"
            parts.append(f"{f.name}={v}")
        return "&".join(parts)


#: key → (kind, allowed values or (low, high))
FIELDS = {
    "dataset": ("choice", CLASSIFICATION + REGRESSION + ("csv",)), "problem": ("choice", ("classification", "regression")),
    "activation": ("choice", ACTIVATIONS), "regularization": ("choice", ("none", "L1", "L2")),
    "optimizer": ("choice", OPTIMIZERS), "init": ("choice", INITS), "lang": ("choice", ("en", "zh")),
    "learningRate": ("float", (1e-5, 10.0)), "regularizationRate": ("float", (0.0, 10.0)), "momentum": ("float", (0.0, 0.999)),
    "initScale": ("float", (1e-4, 10.0)), "dropout": ("float", (0.0, 0.9)),
    "batchSize": ("int", (1, 100)), "noise": ("int", (0, 50)), "percTrainData": ("int", (10, 90)), "seed": ("int", (0, 2**31 - 1)),
    **{f: ("bool", None) for f in (*FEATURES, "showTestData", "epsInside", "batchNorm", "residual")},
}


def _value(key: str, text: str):
    kind, allowed = FIELDS[key]
    if kind == "choice":
        if text not in allowed:
            raise ConfigError(f"{key}: {text!r} is not one of {', '.join(allowed)}")
        return text
    if kind == "bool":
        if text not in ("true", "false"):
            raise ConfigError(f"{key}: expected true or false, got {text!r}")
        return text == "true"
    try:
        v = float(text) if kind == "float" else int(float(text))
    except ValueError:
        raise ConfigError(f"{key}: expected a number, got {text!r}") from None
    lo, hi = allowed
    if not lo <= v <= hi:
        raise ConfigError(f"{key}: {text} is outside [{lo:g}, {hi:g}]")
    return v


def _layers(text: str) -> list[int]:
    shape = [] if text.strip() == "" else text.split(",")
    if len(shape) > MAX_LAYERS:
        raise ConfigError(f"networkShape: at most {MAX_LAYERS} hidden layers, got {len(shape)}")
    try:
        sizes = [int(s) for s in shape]
    except ValueError:
        raise ConfigError(f"networkShape: expected numbers separated by commas, got {text!r}") from None
    if any(not 1 <= s <= MAX_NEURONS for s in sizes):
        raise ConfigError(f"networkShape: each layer has 1 to {MAX_NEURONS} neurons, got {text!r}")
    return sizes


def parse(hash_text: str) -> Config:
    """A Config from a URL hash (``#`` optional); unknown keys (TF Playground's other options,
    e.g. ``discretize``) are ignored, a bad value raises ConfigError naming its key."""
    cfg = Config()
    pairs = parse_qsl(hash_text.lstrip("#"), keep_blank_values=True)
    if len(hash_text) > 4096:
        raise ConfigError("the configuration is longer than 4096 characters")
    for key, text in pairs:
        if key == "networkShape":
            cfg.networkShape = _layers(text)
        elif key == "activations":
            cfg.activations = [_value("activation", a) for a in text.split(",")] if text else []
        elif key in FIELDS:
            setattr(cfg, key, _value(key, text))
    if cfg.dataset in REGRESSION:
        cfg.problem = "regression"
    elif cfg.dataset in CLASSIFICATION:
        cfg.problem = "classification"
    if cfg.activations and len(cfg.activations) != len(cfg.networkShape):
        raise ConfigError(f"activations: {len(cfg.activations)} given for {len(cfg.networkShape)} hidden layers")
    if not cfg.features:
        raise ConfigError("features: turn on at least one input feature")
    return cfg
