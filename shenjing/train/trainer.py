"""The fit loop (训练循环): epochs of mini-batch steps, validation, history, checkpoints, guards.

A seeded run repeats bit for bit, and a run resumed from its last checkpoint ends with the same
weights as one never interrupted: the checkpoint holds the model, optimiser, scheduler, every
random generator, the history, the callbacks' state and the run's configuration. After every
epoch the checkpoint is written first, then ``checkpoint.json`` and the history files, so a kill
never leaves the history ahead of the checkpoint; resuming rewrites them from the checkpoint.

Divergence guards (发散): a non-finite loss or gradient, or a loss above ``max_loss_growth`` × the
first step's loss (default 10⁴), stops training with a :class:`DivergenceError` naming the epoch
and step, before the update — the last good checkpoint is kept.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import xp
from ..creation import as_tensor
from ..distributed.ddp import DistributedDataParallel
from ..distributed.group import mean_value
from ..files import atomic_write_bytes, fault_point, remove_leftovers
from ..random import default_generator
from .checkpoint import CheckpointMismatchError, load_checkpoint, save_checkpoint
from .metrics import METRICS

CHECKPOINT = "checkpoint.safetensors"
RUN_FILES = (CHECKPOINT, "checkpoint.json", "history.csv", "history.json")  # what fit writes to out_dir
MAX_LOSS_GROWTH = 1e4


class DivergenceError(RuntimeError):
    """Training diverged (发散): the loss grew past its bound, or a value became NaN or Inf; the
    message names the epoch and step."""


class NonFiniteError(DivergenceError):
    """Training produced NaN or Inf; the message names the step and the layer."""


class Callback:
    """Hooks into the loop; state_dict/load_state_dict make it resumable."""

    def on_train_begin(self, trainer: Trainer) -> None: ...

    def on_after_backward(self, trainer: Trainer) -> None: ...

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs and restore the best weights
    (提前停止, Nelson)."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "min", min_delta: float = 0.0,
                 restore_best_weights: bool = True) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, min_delta
        self.restore_best_weights = restore_best_weights
        self.best, self.best_epoch, self.wait, self.best_state = None, -1, 0, None
        self.stopped_epoch = None

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: metric {self.monitor!r} is not logged; available: {sorted(logs)}")
        value = logs[self.monitor]
        if self._better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = {k: v.array.copy() for k, v in trainer.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                trainer.stop = True

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict({k: as_tensor(v) for k, v in self.best_state.items()})

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "best_state": self.best_state}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        bs = state.get("best_state")
        self.best_state = None if bs is None else {k: v.array if isinstance(v, Tensor) else v for k, v in bs.items()}


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler once per epoch (ReduceLROnPlateau gets ``monitor``), or with
    ``interval="step"`` once per update: update k + 1 uses the scheduler's lr(k)."""

    def __init__(self, scheduler, monitor: str = "val_loss", interval: str = "epoch") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRSchedulerCallback: interval must be 'epoch' or 'step', got {interval!r}")
        self.scheduler, self.monitor, self.interval = scheduler, monitor, interval

    def on_after_backward(self, trainer: Trainer) -> None:
        if self.interval == "step" and trainer.global_step > 0:
            self.scheduler.step()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        if self.interval == "step":
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


class GradientClipping(Callback):
    """Rescale gradients so that their global norm is at most ``max_norm`` (梯度裁剪)."""

    def __init__(self, max_norm: float, norm_type: float = 2.0) -> None:
        self.max_norm, self.norm_type = max_norm, norm_type

    def on_after_backward(self, trainer: Trainer) -> None:
        from ..nn.utils import clip_grad_norm_

        clip_grad_norm_(trainer.model.parameters(), self.max_norm, self.norm_type)


def _first_nonfinite_layer(model, x) -> str:
    """Run ``model(x)`` with hooks and name the first leaf module whose output is not finite."""
    found = []

    def hook(name):
        def f(module, inputs, output):
            if not found and isinstance(output, Tensor) and not xp.isfinite(output.array).all():
                found.append(f"'{name}' ({type(module).__name__})")
        return f

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n and not m._modules]
    try:
        with no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return found[0] if found else "the loss (all layer outputs were finite)"


class Trainer:
    """``Trainer(model, loss_fn, optimizer).fit(train_loader, val_loader, epochs)``.

    ``out_dir`` receives, after every epoch, the checkpoint and history.csv/json; ``fit(...,
    resume=True)`` continues from the checkpoint. ``generators`` lists the shenjing Generators whose
    state belongs to the run (e.g. a DataLoader's); the global generator is always included.
    ``nan_guard`` stops on a NaN/Inf loss or gradient, ``max_loss_growth`` (None or 0: off) on a
    loss above that multiple of the first step's; ``config`` (JSON-like) is stored in the
    checkpoint as the options the run was started with. A DistributedDataParallel model is
    checkpointed as its module; each step's loss is then the mean over the ranks, so that every
    rank sees the same loss and stops at the same step.
    """

    def __init__(self, model, loss_fn, optimizer, *, metrics=("accuracy",), callbacks=(), out_dir=None,
                 progress: bool = True, generators=(), nan_guard: bool = True, max_loss_growth: float | None = MAX_LOSS_GROWTH,
                 config: dict | None = None) -> None:
        if max_loss_growth is not None and not (max_loss_growth >= 0 and math.isfinite(max_loss_growth)):
            raise ValueError(f"Trainer: max_loss_growth must be a finite number ≥ 0 or None, got {max_loss_growth}")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.saved_model = model.module if isinstance(model, DistributedDataParallel) else model
        self.metrics = [m if callable(m) else METRICS[m] for m in metrics]
        self.metric_names = [getattr(m, "__name__", str(m)) if callable(m) else m for m in metrics]
        self.callbacks = list(callbacks)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress, self.generators, self.nan_guard = progress, list(generators), nan_guard
        self.max_loss_growth, self.config = max_loss_growth, config
        self.history: list[dict] = []
        self.epoch = 0
        self.global_step = 0
        self.loss_reference: float | None = None  # the first step's loss, for max_loss_growth
        self.stop = False

    # ------------------------------------------------------------- checkpointing
    def state(self) -> dict:
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": self.saved_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": [default_generator.get_state()] + [g.get_state() for g in self.generators],
            "history": self.history,
            "callbacks": [c.state_dict() for c in self.callbacks],
            "loss_reference": self.loss_reference,
            "config": self.config,
        }

    def load_state(self, state: dict) -> None:
        self.saved_model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        rngs = state["rng"]
        default_generator.set_state(rngs[0])
        for g, s in zip(self.generators, rngs[1:]):
            g.set_state(s)
        self.history = state["history"]
        for c, s in zip(self.callbacks, state["callbacks"]):
            c.load_state_dict(s)
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        self.loss_reference = state.get("loss_reference")

    def restore(self, state: dict) -> None:
        """Continue from a checkpoint's ``state``; with ``out_dir``, rewrite the history files and
        ``checkpoint.json`` from it (a kill may have left them behind the checkpoint). A state that
        does not fit the model or optimiser raises :class:`CheckpointMismatchError`."""
        try:
            self.load_state(state)
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as e:
            why = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
            raise CheckpointMismatchError(f"the checkpoint does not fit this model and optimiser ({type(e).__name__}: {why})") from e
        if self.out_dir is not None:
            self.write_summary(self.out_dir / CHECKPOINT)
            self.write_history()

    def save(self, path=None) -> Path:
        """Write the checkpoint (atomically) to ``path`` (default out_dir/checkpoint.safetensors),
        then ``checkpoint.json`` beside it and, with ``out_dir``, the history files — in this order,
        so that after a kill the history is never ahead of the checkpoint."""
        path = Path(path) if path is not None else self.out_dir / CHECKPOINT
        save_checkpoint(path, self.state())
        self.write_summary(path)
        if self.out_dir is not None:
            self.write_history()
        return path

    def write_summary(self, path: Path) -> None:
        """``checkpoint.json`` beside checkpoint ``path``: epoch, global step and the last history row."""
        summary = {"epoch": self.epoch, "global_step": self.global_step, "last": self.history[-1] if self.history else {}}
        atomic_write_bytes(Path(path).with_suffix(".json"), json.dumps(summary, indent=2).encode())

    # ------------------------------------------------------------- loop
    def _where(self) -> str:
        return f"at epoch {self.epoch + 1}, global step {self.global_step + 1}"

    def _check_loss(self, value: float, x) -> None:
        """The divergence guards on a step's loss, before its update."""
        if self.nan_guard and not math.isfinite(value):
            raise NonFiniteError(f"non-finite loss ({value}) {self._where()}; first non-finite value in "
                                 f"{_first_nonfinite_layer(self.model, x)}. Training stopped; the last good checkpoint is kept.")
        if not self.max_loss_growth:
            return
        if self.loss_reference is None:
            if value > 0:
                self.loss_reference = value
        elif value > self.max_loss_growth * self.loss_reference:
            raise DivergenceError(f"loss {value:.4g} {self._where()} is more than {self.max_loss_growth:g} × the first step's loss "
                                  f"({self.loss_reference:.4g}; a smaller learning rate?). Training stopped; the last good checkpoint is kept.")

    def _step(self, x, y) -> tuple[float, Tensor]:
        out = self.model(x)
        loss = self.loss_fn(out, y)
        value = mean_value(loss.item())  # over the ranks (the value itself in one process)
        self._check_loss(value, x)
        self.optimizer.zero_grad()
        loss.backward()
        if self.nan_guard:
            for name, p in self.model.named_parameters():
                if p.grad is not None and not xp.isfinite(p.grad.array).all():
                    raise NonFiniteError(
                        f"non-finite gradient {self._where()} in parameter '{name}' (shape {tuple(p.shape)}). "
                        "Training stopped; the last good checkpoint is kept."
                    )
        for c in self.callbacks:
            c.on_after_backward(self)
        fault_point("step")
        self.optimizer.step()
        self.global_step += 1
        return value, out

    def evaluate(self, loader, return_outputs: bool = False) -> dict:
        """Mean loss and metrics over ``loader`` in eval mode."""
        was = self.model.training
        self.model.eval()
        total, n, outs, ys = 0.0, 0, [], []
        with no_grad():
            for x, y in loader:
                out = self.model(x)
                b = len(y)
                total += self.loss_fn(out, y).item() * b
                n += b
                outs.append(out.array)
                ys.append(y.array)
        self.model.train(was)
        out, y = xp.concatenate(outs), xp.concatenate(ys)
        res = {"loss": total / max(n, 1)}
        for name, m in zip(self.metric_names, self.metrics):
            res[name] = m(out, y)
        if return_outputs:
            res["outputs"], res["targets"] = out, y
        return res

    def fit(self, train_loader, val_loader=None, epochs: int = 1, resume: bool = False) -> list[dict]:
        """Train for ``epochs`` (counting epochs already done when resuming); returns the history.

        With ``out_dir``, the temporary files of writes a kill interrupted are removed first;
        ``resume=True`` continues from out_dir's checkpoint if there is one (:meth:`restore`)."""
        if resume and self.out_dir is None:
            raise ValueError("fit(resume=True) needs out_dir")
        if self.out_dir is not None:
            remove_leftovers(self.out_dir, RUN_FILES)
            ckpt = self.out_dir / CHECKPOINT
            if resume and ckpt.exists():
                self.restore(load_checkpoint(ckpt))
        for c in self.callbacks:
            c.on_train_begin(self)
        self.stop = False
        while self.epoch < epochs and not self.stop:
            logs = self._train_epoch(train_loader, epochs)
            if val_loader is not None:
                for k, v in self.evaluate(val_loader).items():
                    logs[f"val_{k}"] = v
            for c in self.callbacks:
                c.on_epoch_end(self, self.epoch, logs)
            self.history.append(logs)
            if self.out_dir is not None:
                self.save()
            if self.progress:
                print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items()), flush=True)
        for c in self.callbacks:
            c.on_train_end(self)
        return self.history

    def _train_epoch(self, train_loader, epochs: int) -> dict:
        """One pass over ``train_loader``: the steps, a progress bar, the epoch's training logs."""
        from tqdm import tqdm

        self.model.train()
        t0 = time.perf_counter()
        total, count, correct_sum = 0.0, 0, []
        bar = tqdm(train_loader, desc=f"epoch {self.epoch + 1}/{epochs}", disable=not self.progress,
                   leave=False, dynamic_ncols=True)
        for x, y in bar:
            loss, out = self._step(x, y)
            b = len(y)
            total += loss * b
            count += b
            if self.metrics:
                correct_sum.append(self.metrics[0](out.array, y.array) * b)
            rate = count / (time.perf_counter() - t0)
            post = {"loss": f"{total / count:.4f}", "samples/s": f"{rate:.0f}"}
            if correct_sum:
                post[self.metric_names[0]] = f"{sum(correct_sum) / count:.4f}"
            bar.set_postfix(post, refresh=False)
        self.epoch += 1
        logs = {"epoch": self.epoch, "train_loss": total / max(count, 1),
                "lr": self.optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - t0}
        if correct_sum:
            logs[f"train_{self.metric_names[0]}"] = sum(correct_sum) / count
        return logs

    def write_history(self) -> None:
        """history.csv and history.json, one row per epoch, written atomically."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys)
        w.writeheader()
        w.writerows(self.history)
        atomic_write_bytes(self.out_dir / "history.csv", buf.getvalue().encode())
        atomic_write_bytes(self.out_dir / "history.json", json.dumps(self.history, indent=2).encode())


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs: int = 1, callbacks=(), metrics=("accuracy",),
        out_dir=None, progress: bool = True, resume: bool = False, generators=(),
        max_loss_growth: float | None = MAX_LOSS_GROWTH) -> list[dict]:
    """Functional form of ``Trainer(...).fit(...)``; returns the history (one dict per epoch)."""
    t = Trainer(model, loss_fn, optimizer, metrics=metrics, callbacks=callbacks, out_dir=out_dir,
                progress=progress, generators=generators, max_loss_growth=max_loss_growth)
    return t.fit(train_loader, val_loader, epochs, resume)
