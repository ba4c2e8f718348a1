"""The training loop: shuffled minibatches, epochs, callbacks, divergence checks."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import DivergenceError
from .fastpath import one_window_sgd

__all__ = ["EpochResult", "Callback", "run_epoch", "check_finite"]

log = logging.getLogger(__name__)


@dataclass
class EpochResult:
    """What one epoch did: mean training loss, dev scores, speed."""

    epoch: int
    train_loss: float
    seconds: float
    windows_per_second: float
    dev: dict | None = None
    lr: float | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready record (one line of the training log)."""
        out = {"epoch": self.epoch, "train_loss": self.train_loss, "seconds": round(self.seconds, 3),
               "words_per_second": round(self.windows_per_second, 1), "lr": self.lr}
        if self.dev is not None:
            out["dev"] = self.dev
        out.update(self.extra)
        return out


class Callback:
    """Hooks the trainer calls; override what you need. Returning True from on_epoch_end stops."""

    def on_batch_end(self, done: int, total: int) -> None:
        """After each batch: ``done`` of ``total`` windows of this epoch processed."""

    def on_epoch_end(self, result: EpochResult) -> bool | None:
        """After each epoch (dev scores filled in when there is a dev set)."""


def check_finite(params: dict, what: str = "parameters") -> None:
    """Raise DivergenceError naming the first parameter holding NaN or inf."""
    for name, arr in params.items():
        if not np.all(np.isfinite(arr)):
            raise DivergenceError(f"{what} {name} hold NaN or inf; lower the learning rate (--lr)")


def run_epoch(network, optimizer, inputs, y, *, batch_size, rng, l2=0.0, train_tables=None,
              l2_tables=None, anchors=None, dropout=None, callback=None, loss_fn=None):
    """One pass over the training windows in a random order; returns the mean batch loss.

    Parameters
    ----------
    network : WindowNetwork
    optimizer : SGD, Momentum or AdaGrad
    inputs : tuple of ndarray of shape (n_windows, C)
        Window ids, one matrix per lookup table.
    y : ndarray of shape (n_windows,)
    batch_size : int
        1 is per-example SGD; n_windows is full-batch gradient descent.
    rng : numpy.random.Generator
        Draws the order of the windows.
    dropout : Dropout, optional
        Dropout on x and on the hidden layer while training (masks drawn from its generator).
    loss_fn : callable, optional
        ``loss_fn(batch_index) -> (J, grads)`` replacing the window loss (used by sentence-level
        training, which batches whole sentences).

    Raises
    ------
    DivergenceError
        When a batch's loss is NaN or inf (the parameters are then no longer trustworthy).
    """
    n = len(y)
    order = rng.permutation(n)
    total_loss = 0.0
    n_batches = 0
    params = network.params
    step = None
    if loss_fn is None:
        # Shuffle once, so that each batch is a slice (a view) instead of a fancy-indexed copy.
        inputs = tuple(ids[order] for ids in inputs)
        y = y[order]
        if batch_size == 1 and dropout is None:
            # per-example SGD in few numpy calls, bit for bit the step below (None: not this case)
            step = one_window_sgd(network, optimizer, inputs, y, l2=l2, train_tables=train_tables,
                                  l2_tables=l2_tables, anchors=anchors)
    # A diverging run overflows before its loss turns non-finite; the check below reports that
    # in one line, so numpy's own overflow warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n, batch_size):
            stop = start + batch_size
            if step is not None:
                J, grads = step(start), None  # the parameters move only when J is finite
            elif loss_fn is None:
                J, grads = network.loss_and_grads(tuple(ids[start:stop] for ids in inputs), y[start:stop], l2=l2,
                                                  train_tables=train_tables, l2_tables=l2_tables,
                                                  anchors=anchors, dropout=dropout)
            else:
                J, grads = loss_fn(order[start:stop])
            if not math.isfinite(J):
                raise DivergenceError(
                    f"training loss became {J} at window {start} of the epoch; lower the learning rate (--lr)")
            if grads is not None:
                optimizer.update(params, grads)
            total_loss += J
            n_batches += 1
            if callback is not None:
                callback.on_batch_end(min(start + batch_size, n), n)
    return total_loss / max(n_batches, 1)
