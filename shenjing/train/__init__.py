"""Training (训练): the fit loop, callbacks, checkpoints, metrics."""

from .checkpoint import CheckpointMismatchError, load_checkpoint, save_checkpoint
from .full_batch import full_batch
from .metrics import accuracy, confusion_matrix, mae, mse, r2, top_k_accuracy
from .trainer import (
    Callback,
    DivergenceError,
    EarlyStopping,
    GradientClipping,
    LRSchedulerCallback,
    NonFiniteError,
    Trainer,
    fit,
)
