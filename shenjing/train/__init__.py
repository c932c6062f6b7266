"""Training (训练): the fit loop, callbacks, checkpoints, metrics."""

from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import accuracy, confusion_matrix, mae, mse, r2, top_k_accuracy
from .trainer import (
    Callback,
    EarlyStopping,
    GradientClipping,
    LRSchedulerCallback,
    NonFiniteError,
    Trainer,
    fit,
)
