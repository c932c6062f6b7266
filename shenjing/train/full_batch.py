"""Full-batch training (全批量梯度下降): the small loop of the notes' GD demonstrations."""

from __future__ import annotations

from collections.abc import Callable

from ..autograd.tensor import Tensor

__all__ = ["full_batch"]


def full_batch(loss_fn: Callable[[], Tensor], optimizer, steps: int, every: int = 1,
               callback: Callable[[int, float], None] | None = None) -> list[float]:
    """Run ``steps`` updates θ ← optimizer(θ, ∇loss) on the whole data set (Xu eq. 1.40):
    ``zero_grad()``, ``loss_fn().backward()``, ``step()``.

    ``loss_fn()`` computes the loss from the current parameters. Returns the loss before every
    ``every``-th update, as floats; ``callback(step, loss)`` runs after each update."""
    if steps < 0 or every < 1:
        raise ValueError(f"full_batch: steps must be ≥ 0 and every ≥ 1, got steps={steps}, every={every}")
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        value = loss.item()
        if step % every == 0:
            losses.append(value)
        if callback is not None:
            callback(step, value)
    return losses
