"""The window network: parameters, forward beside backward, and the sparse grad_L.

Notation (../shared/DESIGN.md): for a batch of B windows of C word ids,

    x      = [L[w_1]; ...; L[w_C]; E[c_1]; ...; E[c_C]]   (B, D)   lookup tables, concatenated
    z1     = W1 x + b1                                     (B, H)
    a1     = f(z1)                                         (B, H)
    z2     = W2 a1 + b2                                    (B, K)   K = 1 for the sigmoid output
    J      = mean_i loss(z2_i, y_i) + (l2/2)(||W1||^2 + ||W2||^2)
             [+ (l2_embeddings/2) sum over the batch's distinct rows r of ||L_r - L0_r||^2]

While training, dropout (optional) multiplies x and a1 by masks m_x, m_h whose entries are 0
with probability p and 1/(1-p) otherwise (inverted dropout): z1 = W1 (m_x * x) + b1 and
z2 = W2 (m_h * a1) + b2. Prediction uses no masks, so its expected pre-activations match.

The first table is the word embedding matrix ``L`` (V x n); further tables (capitalization,
suffix, ...) are small embeddings of the same kind, trained by the same sparse update. The
sigmoid output stores seed 003's vector u as the single row of ``W2`` (u = W2[0]).

Regularization convention: lambda/2 ||W||^2 added to the *mean* loss of a batch. The seeds'
other conventions map onto it as: seed 000/002 ``lambda ||W||^2`` is ``l2 = 2 lambda``; seed
003's ``C/(2m) ||W||^2`` on a sum of m per-example losses is ``l2 = C/m`` here, since dividing
the whole objective by m leaves its minimiser unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError
from .functions import ACTIVATIONS, DERIVATIVES, OUTPUTS

__all__ = ["RowGrad", "Forward", "Dropout", "WindowNetwork", "accumulate_rows"]


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
    cost does not depend on the vocabulary size. S is given n_slots rows (an upper bound on the
    number of distinct words, the rows past it stay empty) so that its shape, ``indptr`` and
    ``data`` depend on n_slots alone and come from one validated template per size.
    """
    template = _slot_matrix_template(ids.shape[0], np.dtype(slices.dtype))
    rows, inverse = _distinct_rows(ids, template.indices.dtype)
    S = _slot_matrix(template, inverse)
    # grad_L[r] = sum_{slots j with word r} grad_x slice j
    return RowGrad(rows, (S @ slices)[:rows.shape[0]])


# Up to this many slots Python's set and sort beat numpy's per-call overhead (a window or two).
_FEW_SLOTS = 16


def _distinct_rows(ids: np.ndarray, index_dtype):
    """``np.unique(ids, return_inverse=True)``, with less overhead for the few ids of a batch."""
    if ids.shape[0] <= _FEW_SLOTS:
        id_list = ids.tolist()
        row_list = sorted(set(id_list))
        position = {row: k for k, row in enumerate(row_list)}
        return (np.array(row_list, dtype=ids.dtype),
                np.array([position[i] for i in id_list], dtype=index_dtype))
    sorted_ids = np.sort(ids)
    is_first = np.empty(sorted_ids.shape[0], dtype=bool)
    is_first[:1] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=is_first[1:])
    rows = sorted_ids[is_first]
    inverse = rows.searchsorted(ids)  # inverse[j] = position of ids[j] among the rows
    return rows, inverse.astype(index_dtype, copy=False)


@functools.lru_cache(maxsize=64)
def _slot_matrix_template(n_slots: int, dtype: np.dtype) -> sp.csc_matrix:
    """An (n_slots, n_slots) CSC matrix with one 1 per column, through scipy's checked constructor."""
    return sp.csc_matrix(
        (np.ones(n_slots, dtype=dtype), np.zeros(n_slots, dtype=np.int64), np.arange(n_slots + 1)),
        shape=(n_slots, n_slots),
    )


def _slot_matrix(template: sp.csc_matrix, inverse: np.ndarray) -> sp.csc_matrix:
    """The word-by-slot matrix S: column j holds a 1 in row ``inverse[j]``.

    scipy's constructor re-validates every array on each call, which cost more than the rest of
    a per-example SGD step; here every field comes from a template that went through it, and only
    ``indices`` (the row of each column's 1, always < n_slots, in the template's dtype) is replaced.
    """
    if set(template.__dict__) != _KNOWN_CSC_FIELDS:
        # a scipy whose matrices hold other state: take the checked constructor, slower but safe
        return sp.csc_matrix((template.data, inverse, template.indptr), shape=template.shape)
    S = object.__new__(type(template))
    S.__dict__.update(template.__dict__)
    S.indices = inverse
    return S


# The fields of a scipy 1.x CSC matrix; the template copy above is only valid for exactly these.
_KNOWN_CSC_FIELDS = {"_shape", "data", "indices", "indptr", "maxprint"}


class Dropout:
    """Training-time dropout on x (``p_input``) and on the hidden layer a1 (``p_hidden``).

    Parameters
    ----------
    p_input, p_hidden : float in [0, 1)
        Probability that an entry is zeroed; kept entries are scaled by 1/(1-p).
    rng : numpy.random.Generator
        Draws the masks (the training loop's generator, so a resumed run draws the same masks).
    """

    def __init__(self, p_input: float, p_hidden: float, rng: np.random.Generator):
        for name, p in (("p_input", p_input), ("p_hidden", p_hidden)):
            if not 0.0 <= p < 1.0:
                raise ConfigError(f"dropout {name} must be in [0, 1), got {p!r}")
        self.p_input = float(p_input)
        self.p_hidden = float(p_hidden)
        self.rng = rng

    def mask(self, p: float, shape, dtype) -> np.ndarray | None:
        """A scaled mask: 0 with probability p, else 1/(1-p); None when p is 0."""
        if not p:
            return None
        keep = self.rng.random(shape, dtype=np.float64) >= p
        return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))

    def apply(self, values: np.ndarray, p: float):
        """(m * values, m) for a fresh mask m of ``values``' shape, or (values, None) when p is 0."""
        m = self.mask(p, values.shape, values.dtype)
        return (values, None) if m is None else (values * m, m)


@dataclass
class Forward:
    """What the forward pass keeps for the backward pass (all float arrays)."""

    ids: tuple  # one (B, C) int array per lookup table
    x: np.ndarray  # (B, D), after the input dropout mask
    z1: np.ndarray  # (B, H)
    a1: np.ndarray  # (B, H)
    z2: np.ndarray  # (B, K)
    h: np.ndarray | None = None  # (B, H) m_h * a1, what W2 saw (None: a1 itself)
    x_mask: np.ndarray | None = None  # (B, D) scaled input dropout mask, or None
    h_mask: np.ndarray | None = None  # (B, H) scaled hidden dropout mask, or None


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
        parts = [self.params[name].take(word_ids.ravel(), axis=0).reshape(len(word_ids), -1)
                 for name, word_ids in zip(self.table_names, ids)]
        # one table: its rows already are x, no concatenate copy
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def forward(self, ids, dropout: Dropout | None = None) -> Forward:
        """Run the network on windows ``ids`` (a tuple with one (B, C) int array per table).

        ``dropout`` (training only) draws fresh masks for x and a1; without it nothing is masked.
        """
        p = self.params
        x, x_mask = self.lookup(ids), None
        if dropout is not None:
            x, x_mask = dropout.apply(x, dropout.p_input)  # m_x * x
        z1 = x @ p["W1"].T
        z1 += p["b1"]  # z1 = W1 x + b1
        a1 = ACTIVATIONS[self.activation](z1)  # a1 = f(z1)
        h, h_mask = a1, None
        if dropout is not None:
            h, h_mask = dropout.apply(a1, dropout.p_hidden)  # m_h * a1
        z2 = h @ p["W2"].T
        z2 += p["b2"]  # z2 = W2 a1 + b2
        return Forward(tuple(ids), x, z1, a1, z2, h, x_mask, h_mask)

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
        h = fw.a1 if fw.h is None else fw.h
        grads["W2"] = _batch_outer(delta2, h)  # grad_W2 = delta2 a1^T
        grads["b2"] = delta2.sum(axis=0)  # grad_b2 = delta2
        grad_h = delta2 @ p["W2"]  # W2^T delta2
        if fw.h_mask is not None:
            grad_h *= fw.h_mask  # through a1 -> m_h * a1
        delta1 = DERIVATIVES[self.activation](fw.z1, fw.a1) * grad_h  # delta1 = f'(z1) * W2^T delta2
        grads["W1"] = _batch_outer(delta1, fw.x)  # grad_W1 = delta1 x^T
        grads["b1"] = delta1.sum(axis=0)  # grad_b1 = delta1
        if l2:
            grads["W1"] += l2 * p["W1"]  # + lambda W1
            grads["W2"] += l2 * p["W2"]  # + lambda W2
        names = self.table_names if train_tables is None else [n for n in self.table_names if n in train_tables]
        if names:
            grad_x = delta1 @ p["W1"]  # grad_x = W1^T delta1, shape (B, D)
            if fw.x_mask is not None:
                grad_x *= fw.x_mask  # through x -> m_x * x
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

    def loss_and_grads(self, ids, y, l2=0.0, train_tables=None, l2_tables=None, anchors=None, dropout=None):
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
        dropout : Dropout, optional
            Masks for x and a1 drawn for this batch (training only).
        """
        fw = self.forward(ids, dropout)
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


def _batch_outer(delta: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``delta.T @ a``: the sum over the batch of the outer products delta_i a_i^T.

    For one window numpy's matmul with an inner dimension of 1 is about 3x slower than the
    broadcast product. It computes each entry as 0 + delta_i a_j, so the + 0.0 below gives the
    same bits, down to the sign of zero products.
    """
    if delta.shape[0] != 1:
        return delta.T @ a
    out = delta.T * a
    out += 0.0
    return out


def _glorot(rng, fan_out, fan_in, dtype):
    eps = np.sqrt(6.0) / np.sqrt(fan_in + fan_out)
    return rng.uniform(-eps, eps, size=(fan_out, fan_in)).astype(dtype)
