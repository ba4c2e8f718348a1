"""The training loop: shuffled minibatches, epochs, callbacks, divergence checks."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from windowclf.errors import DivergenceError

__all__ = ["Callback", "CallbackList", "EpochResult", "check_finite", "run_epoch"]

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
        out: dict = {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "seconds": round(self.seconds, 3),
            "words_per_second": round(self.windows_per_second, 1),
            "lr": self.lr,
        }
        if self.dev is not None:
            out["dev"] = self.dev
        out.update({k: round(v, 3) if isinstance(v, float) else v for k, v in self.extra.items()})
        return out


class Callback:
    """Hooks the trainer calls: subclass and override what you need, or pass any object with either
    method (both are optional). Returning True from ``on_epoch_end`` stops training.

    >>> class Stop(Callback):
    ...     def on_epoch_end(self, result):
    ...         return result.dev is not None and result.dev["f1"] > 90
    """

    def on_batch_end(self, done: int, total: int) -> None:
        """After each batch: ``done`` of ``total`` windows of this epoch processed."""

    def on_epoch_end(self, result: EpochResult) -> bool | None:
        """After each epoch (dev scores filled in when there is a dev set)."""


class CallbackList(Callback):
    """Several callbacks as one, each called where it defines the method; stops when any asks to."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)
        self._batch = [cb.on_batch_end for cb in self.callbacks if callable(getattr(cb, "on_batch_end", None))]
        self._epoch = [cb.on_epoch_end for cb in self.callbacks if callable(getattr(cb, "on_epoch_end", None))]

    def on_batch_end(self, done, total):
        for hook in self._batch:
            hook(done, total)

    def on_epoch_end(self, result) -> bool:
        stops = [bool(hook(result)) for hook in self._epoch]  # every callback hears of every epoch
        return any(stops)


def check_finite(params: dict, what: str = "parameters") -> None:
    """Raise DivergenceError naming the first parameter holding NaN or inf."""
    for name, arr in params.items():
        if not np.all(np.isfinite(arr)):
            raise DivergenceError(f"{what} {name} hold NaN or inf; lower the learning rate (--lr)")


def run_epoch(objective, optimizer, order, *, callback=None) -> float:
    """One pass over an epoch's batches, in ``order``; returns the mean batch loss.

    Parameters
    ----------
    objective : WindowObjective or SentenceObjective
        Gives each batch's loss and gradients, and the step that applies them
        (``objective.stepper``: the per-example fast step where it applies).
    optimizer : SGD, Momentum or AdaGrad
    order : WindowOrder or SentenceOrder
        This epoch's batches, as ``objective.draw_order(rng, batch_size)`` drew them.
    callback : Callback, optional
        ``on_batch_end(done, total)`` after every batch.

    Raises
    ------
    DivergenceError
        When a batch's loss is NaN or inf; the step moved no parameter on that batch.
    """
    step = objective.stepper(optimizer, order)
    total_loss = 0.0
    n_batches = 0
    # A diverging run overflows before its loss turns non-finite; the check below reports that
    # in one line, so numpy's own overflow warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for position, batch in enumerate(order.batches):
            J = step(batch)  # the parameters move only when J is finite
            if not math.isfinite(J):
                raise DivergenceError(
                    f"training loss became {J} at {order.where(position, batch)} of the epoch; "
                    "lower the learning rate (--lr)"
                )
            total_loss += J
            n_batches += 1
            if callback is not None:
                callback.on_batch_end(order.done(position, batch), order.total)
    return total_loss / max(n_batches, 1)
