"""Optimisers (优化器), learning-rate schedules and weight penalties — ``torch.optim``'s API.

Standard algorithms follow PyTorch step for step (SGD/GD, Adagrad, RMSprop, Adadelta, Adam, AdamW);
the lecture notes' forms are options or their own classes: EMA momentum ``SGD(momentum=ρ,
dampening=ρ)`` (Fang Alg. 1), ``NesterovLookahead`` (Xu eq. 1.44, Fang Alg. 2),
``NormalizedGradient`` (Fang Alg. 3), ``eps_inside_sqrt=True`` for the √(v + ε) form (Xu
§1.9, Fang ch. 6). ``functional`` holds the update math the classes call (``torch.optim``'s functional
form: ``functional.adam(params, grads, exp_avgs, ...)``), ``lr_scheduler`` the schedules,
``regularizers`` the ridge/lasso/elastic-net penalties.
"""

from . import functional, lr_scheduler, regularizers
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .nesterov import NesterovLookahead
from .normalized import NormalizedGradient
from .optimizer import Optimizer, required
from .rmsprop import RMSprop
from .sgd import GD, SGD

__all__ = [
    "Optimizer",
    "required",
    "SGD",
    "GD",
    "NesterovLookahead",
    "NormalizedGradient",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "functional",
    "lr_scheduler",
    "regularizers",
]
