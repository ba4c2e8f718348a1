"""The window network: parameters, forward beside backward, and the sparse grad_L.

Notation (../shared/DESIGN.md): for a batch of B windows of C word ids,

    x      = [L[w_1]; ...; L[w_C]; E[c_1]; ...; E[c_C]]   (B, D)   lookup tables, concatenated
    z1     = W1 x + b1                                     (B, H)
    a1     = f(z1)                                         (B, H)
    z2     = W2 a1 + b2                                    (B, K)   K = 1 for the sigmoid output
    J      = mean_i loss(z2_i, y_i) + (l2/2)(||W1||^2 + ||W2||^2)
             [+ (l2_embeddings/2) sum over the batch's distinct rows r of ||L_r - L0_r||^2]

The first table is the word embedding matrix ``L`` (V x n); further tables (capitalization,
suffix, ...) are small embeddings of the same kind, trained by the same sparse update. The
sigmoid output stores seed 003's vector u as the single row of ``W2`` (u = W2[0]).

Regularization convention: lambda/2 ||W||^2 added to the *mean* loss of a batch. The seeds'
other conventions map onto it as: seed 000/002 ``lambda ||W||^2`` is ``l2 = 2 lambda``; seed
003's ``C/(2m) ||W||^2`` on a sum of m per-example losses is ``l2 = C/m`` here, since dividing
the whole objective by m leaves its minimiser unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError
from .functions import ACTIVATIONS, DERIVATIVES, OUTPUTS

__all__ = ["RowGrad", "Forward", "WindowNetwork", "accumulate_rows"]


@dataclass
class RowGrad:
    """A gradient that is zero outside a few rows: ``grad[rows] = values``.

    rows : ndarray of shape (n_rows,), distinct, sorted row indices
    values : ndarray of shape (n_rows, dim)
    """

    rows: np.ndarray
    values: np.ndarray

    def to_dense(self, n_rows_total: int) -> np.ndarray:
        """The full (n_rows_total, dim) gradient (for tests and finite differences)."""
        out = np.zeros((n_rows_total, self.values.shape[1]), dtype=self.values.dtype)
        out[self.rows] = self.values
        return out


def accumulate_rows(ids: np.ndarray, slices: np.ndarray) -> RowGrad:
    """Sum window-slot gradients into the rows of their words, as a scipy sparse product.

    Parameters
    ----------
    ids : ndarray of shape (n_slots,)
        The word (row) id of each window slot, ``ids = word_ids.ravel()``.
    slices : ndarray of shape (n_slots, dim)
        The slice of grad_x belonging to each slot.

    Returns
    -------
    RowGrad
        ``rows`` the distinct ids (sorted) and ``values[k] = sum of slices[j] where ids[j] ==
        rows[k]``, summed in slot order, so the result equals ``np.add.at`` bit for bit.

    Notes
    -----
    The word-by-slot matrix S has one 1 per column (slot j sits in row ``inverse[j]``), so it is
    built directly in CSC form with no sort; ``S @ slices`` touches only the batch's rows, and the
    cost does not depend on the vocabulary size.
    """
    rows, inverse = np.unique(ids, return_inverse=True)
    n_slots = ids.shape[0]
    S = sp.csc_matrix(
        (np.ones(n_slots, dtype=slices.dtype), inverse.ravel(), np.arange(n_slots + 1)),
        shape=(rows.shape[0], n_slots),
    )
    return RowGrad(rows, S @ slices)  # grad_L[r] = sum_{slots j with word r} grad_x slice j


@dataclass
class Forward:
    """What the forward pass keeps for the backward pass (all float arrays)."""

    ids: tuple  # one (B, C) int array per lookup table
    x: np.ndarray  # (B, D)
    z1: np.ndarray  # (B, H)
    a1: np.ndarray  # (B, H)
    z2: np.ndarray  # (B, K)


class WindowNetwork:
    """Parameters of the window network and its exact forward / backward passes.

    Parameters
    ----------
    tables : list of (name, n_rows, dim)
        The lookup tables, in the order their slices appear in x; the first is the word
        embedding matrix, conventionally named ``"L"``.
    window : int
        C, the number of words in a window (odd, >= 1).
    hidden : int
        H, the number of hidden units.
    n_outputs : int
        K, the number of classes for the softmax output; 1 for the sigmoid output.
    activation : {"tanh", "sigmoid", "relu", "hardtanh"}
    output : {"softmax", "sigmoid"}
    dtype : numpy float dtype, default float32
    seed : int or numpy.random.Generator
        Source of the initial weights.
    """

    def __init__(self, tables, window, hidden, n_outputs, activation="tanh", output="softmax",
                 dtype=np.float32, seed=0):
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
        if output not in OUTPUTS:
            raise ConfigError(f"unknown output {output!r}; expected one of {sorted(OUTPUTS)}")
        if output == "sigmoid" and n_outputs != 1:
            raise ConfigError("the sigmoid output has exactly one output unit")
        self.table_names = [name for name, _, _ in tables]
        self.table_dims = [dim for _, _, dim in tables]
        self.window = int(window)
        self.hidden = int(hidden)
        self.n_outputs = int(n_outputs)
        self.activation = activation
        self.output = output
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        D = self.window * sum(self.table_dims)
        self.params = {}
        for name, n_rows, dim in tables:
            self.params[name] = rng.normal(0.0, 1.0 / np.sqrt(dim), size=(n_rows, dim)).astype(self.dtype)
        # Glorot-uniform, as CS224d's random_weight_matrix: eps = sqrt(6) / sqrt(fan_in + fan_out)
        self.params["W1"] = _glorot(rng, self.hidden, D, self.dtype)
        self.params["b1"] = np.zeros(self.hidden, dtype=self.dtype)
        self.params["W2"] = _glorot(rng, self.n_outputs, self.hidden, self.dtype)
        self.params["b2"] = np.zeros(self.n_outputs, dtype=self.dtype)

    # ---------------------------------------------------------------- sizes
    @property
    def input_dim(self) -> int:
        """D = C * (sum of the tables' dimensions)."""
        return self.window * sum(self.table_dims)

    def shapes(self) -> dict:
        """The shape every parameter must have, by name."""
        return {name: arr.shape for name, arr in self.params.items()}

    # -------------------------------------------------------------- forward
    def lookup(self, ids) -> np.ndarray:
        """x for each window: the concatenated table rows, shape (B, D)."""
        parts = [self.params[name][word_ids].reshape(len(word_ids), -1)
                 for name, word_ids in zip(self.table_names, ids)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def forward(self, ids) -> Forward:
        """Run the network on windows ``ids`` (a tuple with one (B, C) int array per table)."""
        p = self.params
        x = self.lookup(ids)
        z1 = x @ p["W1"].T + p["b1"]  # z1 = W1 x + b1
        a1 = ACTIVATIONS[self.activation](z1)  # a1 = f(z1)
        z2 = a1 @ p["W2"].T + p["b2"]  # z2 = W2 a1 + b2
        return Forward(tuple(ids), x, z1, a1, z2)

    def scores(self, ids) -> np.ndarray:
        """Output scores z2 of shape (B, K) (forward only, nothing kept)."""
        return self.forward(ids).z2

    def predict_proba(self, ids) -> np.ndarray:
        """Class probabilities of shape (B, K), or (B, 2) [P(negative), P(positive)] for sigmoid."""
        return OUTPUTS[self.output][1](self.scores(ids))

    # ------------------------------------------------------------- backward
    def backward(self, fw: Forward, delta2: np.ndarray, l2: float = 0.0, train_tables=None):
        """Gradients of J given delta2 = dJ/dz2 of shape (B, K) (already divided by B).

        Returns a dict: dense arrays for W1, b1, W2, b2 and a :class:`RowGrad` for every table
        in ``train_tables`` (default: all tables).
        """
        p = self.params
        grads = {}
        grads["W2"] = delta2.T @ fw.a1  # grad_W2 = delta2 a1^T
        grads["b2"] = delta2.sum(axis=0)  # grad_b2 = delta2
        delta1 = DERIVATIVES[self.activation](fw.z1, fw.a1) * (delta2 @ p["W2"])  # delta1 = f'(z1) * W2^T delta2
        grads["W1"] = delta1.T @ fw.x  # grad_W1 = delta1 x^T
        grads["b1"] = delta1.sum(axis=0)  # grad_b1 = delta1
        if l2:
            grads["W1"] += l2 * p["W1"]  # + lambda W1
            grads["W2"] += l2 * p["W2"]  # + lambda W2
        names = self.table_names if train_tables is None else [n for n in self.table_names if n in train_tables]
        if names:
            grad_x = delta1 @ p["W1"]  # grad_x = W1^T delta1, shape (B, D)
            B = grad_x.shape[0]
            offset = 0
            for name, dim, word_ids in zip(self.table_names, self.table_dims, fw.ids):
                width = self.window * dim
                if name in names:
                    # slice j of the C slices belongs to word_ids[:, j]
                    slices = grad_x[:, offset:offset + width].reshape(B * self.window, dim)
                    grads[name] = accumulate_rows(word_ids.ravel(), slices)
                offset += width
        return grads

    def loss_and_grads(self, ids, y, l2=0.0, train_tables=None, l2_tables=None, anchors=None):
        """J on a batch and its gradients (see the module docstring for J).

        Parameters
        ----------
        ids : tuple of ndarray of shape (B, C)
            Window ids, one matrix per lookup table.
        y : ndarray of shape (B,)
            Class indices (0/1 for the sigmoid output).
        l2 : float
            lambda for W1 and W2.
        train_tables : collection of str, optional
            The tables to compute gradients for (default all; frozen ones are left out).
        l2_tables : dict name -> float, optional
            L2 on the rows of a table that the batch touches, pulling them towards
            ``anchors[name]`` (pretrained values) or towards 0.
        """
        fw = self.forward(ids)
        losses, delta2 = OUTPUTS[self.output][0](fw.z2, y)
        B = len(y)
        delta2 /= B  # J is the batch mean
        J = float(losses.sum()) / B
        if l2:
            J += 0.5 * l2 * (float(np.sum(self.params["W1"] ** 2)) + float(np.sum(self.params["W2"] ** 2)))
        grads = self.backward(fw, delta2, l2=l2, train_tables=train_tables)
        for name, lam in (l2_tables or {}).items():
            if not lam or name not in grads:
                continue
            g = grads[name]
            diff = self.params[name][g.rows]
            if anchors is not None and name in anchors:
                diff = diff - anchors[name][g.rows]
            J += 0.5 * lam * float(np.sum(diff ** 2))
            g.values += lam * diff  # + lambda (L_r - L0_r) on the touched rows
        return J, grads


def _glorot(rng, fan_out, fan_in, dtype):
    eps = np.sqrt(6.0) / np.sqrt(fan_in + fan_out)
    return rng.uniform(-eps, eps, size=(fan_out, fan_in)).astype(dtype)
