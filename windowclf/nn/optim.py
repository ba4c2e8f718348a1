"""Optimizers: tiny classes with one ``update(params, grads)`` method.

``grads`` maps a parameter name to a dense array or to a :class:`~windowclf.nn.rowgrad.RowGrad`
(the lookup tables); a RowGrad updates only its rows, so a step costs the same for any
vocabulary size. Per-example SGD, minibatch SGD and full-batch gradient descent are the same
:class:`SGD` fed batches of 1, of b, or of every window.
"""

from __future__ import annotations

import numpy as np

from windowclf.errors import ConfigError
from windowclf.nn.rowgrad import RowGrad

__all__ = ["OPTIMIZERS", "SGD", "AdaGrad", "Momentum", "Optimizer", "learning_rate_scale", "make_optimizer"]


class Optimizer:
    """Learning rate per parameter: ``lr``, or ``lr_overrides[name]`` where given."""

    name = ""
    batch_rows_only = True  # a step changes only the rows of a lookup table that its batch holds

    def __init__(self, lr: float, lr_overrides: dict | None = None):
        if not np.isfinite(lr) or lr <= 0:
            raise ConfigError(f"learning rate must be a positive number, got {lr}")
        for key, value in (lr_overrides or {}).items():
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"learning rate for {key} must be >= 0, got {value}")
        self.lr = float(lr)
        self.lr_overrides = dict(lr_overrides or {})
        self.state: dict[str, np.ndarray] = {}

    def lr_for(self, name: str) -> float:
        return self.lr_overrides.get(name, self.lr)

    def state_arrays(self) -> dict:
        """The optimizer's state (for saving and resuming), name -> array."""
        return dict(self.state)

    def load_state(self, arrays: dict) -> None:
        """Restore state saved by :meth:`state_arrays`."""
        self.state = {k: np.array(v) for k, v in arrays.items()}


class SGD(Optimizer):
    """theta <- theta - lr * grad."""

    name = "sgd"

    def update(self, params: dict, grads: dict) -> None:
        lr_overrides, default_lr = self.lr_overrides, self.lr
        for name, g in grads.items():
            lr = lr_overrides.get(name, default_lr)
            if isinstance(g, RowGrad):
                theta = params[name]
                # rows are distinct, so one gather and one fancy assignment are exact; take()
                # gathers rows faster than theta[rows]
                theta[g.rows] = theta.take(g.rows, axis=0) - lr * g.values
            else:
                params[name] -= lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum exactly as seed 004 writes it.

        phi   <- (1 - alpha) phi + alpha grad
        theta <- theta - gamma phi          (gamma = lr)

    alpha = 1 is plain gradient descent. The velocity of a lookup table is dense: a row keeps
    moving after its word leaves the batch, as the formula says, so a momentum step touches
    the whole table; use SGD or AdaGrad when the vocabulary is large.
    """

    name = "momentum"
    batch_rows_only = False

    def __init__(self, lr: float, alpha: float = 0.1, lr_overrides: dict | None = None):
        super().__init__(lr, lr_overrides)
        if not 0 < alpha <= 1:
            raise ConfigError(f"momentum alpha must be in (0, 1], got {alpha}")
        self.alpha = float(alpha)

    def update(self, params: dict, grads: dict) -> None:
        a = self.alpha
        for name, g in grads.items():
            theta = params[name]
            phi = self.state.get(name)
            if phi is None:
                phi = self.state[name] = np.zeros_like(theta)
            phi *= 1 - a  # phi <- (1 - alpha) phi ...
            if isinstance(g, RowGrad):
                phi[g.rows] += a * g.values  # ... + alpha grad (zero outside the rows)
            else:
                phi += a * g
            theta -= self.lr_for(name) * phi  # theta <- theta - gamma phi


class AdaGrad(Optimizer):
    """AdaGrad: G <- G + grad^2; theta <- theta - lr grad / (sqrt(G) + eps).

    The state of a lookup table is kept per row and only the batch's rows are read or written.
    """

    name = "adagrad"

    def __init__(self, lr: float, eps: float = 1e-8, lr_overrides: dict | None = None):
        super().__init__(lr, lr_overrides)
        self.eps = float(eps)

    def update(self, params: dict, grads: dict) -> None:
        for name, g in grads.items():
            theta = params[name]
            G = self.state.get(name)
            if G is None:
                G = self.state[name] = np.zeros_like(theta)
            lr = self.lr_for(name)
            if isinstance(g, RowGrad):
                G_rows = G[g.rows] + g.values * g.values
                G[g.rows] = G_rows
                theta[g.rows] -= lr * g.values / (np.sqrt(G_rows) + self.eps)
            else:
                G += g * g
                theta -= lr * g / (np.sqrt(G) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad}


def make_optimizer(name: str, lr: float, momentum: float = 0.1, lr_overrides: dict | None = None):
    """Build an optimizer by name ("sgd", "momentum", "adagrad")."""
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
    if name == "momentum":
        return Momentum(lr, alpha=momentum, lr_overrides=lr_overrides)
    return OPTIMIZERS[name](lr, lr_overrides=lr_overrides)


def learning_rate_scale(epoch: int, lr_decay: float, schedule: str, epochs: int) -> float:
    """The learning rate of epoch ``epoch`` (from 0) over the base rate: 1 / (1 + lr_decay * epoch),
    times 1 - epoch / epochs for the ``"linear"`` schedule (``"inverse"``: the decay alone).

    >>> learning_rate_scale(3, 0.0, "linear", 4), learning_rate_scale(2, 0.5, "inverse", 4)
    (0.25, 0.5)
    """
    scale = 1.0 / (1.0 + lr_decay * epoch)
    if schedule == "linear":
        scale *= 1.0 - epoch / epochs
    return scale
