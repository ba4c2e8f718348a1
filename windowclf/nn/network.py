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

import math
from dataclasses import dataclass

import numpy as np

from windowclf._util.arguments import (
    check_bool,
    check_float_dtype,
    check_int,
    check_number,
    check_str,
    check_strings,
    kind_of,
)
from windowclf._util.limits import require_memory
from windowclf.errors import ConfigError
from windowclf.features.spellings import SpellingIds
from windowclf.nn.chars import char_backward, char_forward, char_parameter_shapes, init_char_params
from windowclf.nn.functions import ACTIVATIONS, DERIVATIVES, OUTPUTS, glorot_uniform
from windowclf.nn.rowgrad import accumulate_rows

__all__ = ["Dropout", "Forward", "WindowNetwork", "layers", "parameter_shapes", "row_penalty", "weight_penalty"]


# Training holds the weights about four times (the live ones, the best epoch's, the last epoch's
# for --resume, the optimizer's state): a network must fit that often to be made.
_COPIES = 4
_INIT_ROWS = 1 << 16  # rows of a lookup table drawn at a time


class Dropout:
    """Training-time dropout on x (``p_input``) and on the hidden layer a1 (``p_hidden``).

    Parameters
    ----------
    p_input, p_hidden : float in [0, 1)
        Probability that an entry is zeroed (to the nearest multiple of 2^-16: see :meth:`mask`);
        kept entries are scaled by one over the probability of keeping them.
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
        """A scaled mask: 0 with probability k/65536 (k = p * 65536 rounded), else 65536/(65536 - k);
        None when p is 0. Each entry takes 16 random bits (a quarter of a float64's)."""
        if not p:
            return None
        k = min(round(p * 65536), 65535)
        bits = np.frombuffer(self.rng.bytes(2 * math.prod(shape)), dtype="<u2").reshape(shape)
        return np.multiply(bits >= k, dtype.type(65536 / (65536 - k)), dtype=dtype)

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
    chars: tuple | None = None  # character features: (slot -> distinct word (B, C), chars.char_forward's cache)


def parameter_shapes(tables, window: int, hidden: int, n_outputs: int, dtype=np.float32, chars=None) -> dict:
    """The shape of every parameter of a window network, by name, after checking that the
    network fits in memory (the sizes may come from a model file's metadata). ``chars``:
    (n_chars, char_dim, char_window, filters) of the character features, or None.

    >>> parameter_shapes([("L", 10, 3)], 3, 4, 5)
    {'L': (10, 3), 'W1': (4, 9), 'b1': (4,), 'W2': (5, 4), 'b2': (5,)}
    """
    D = int(window) * (sum(dim for _, _, dim in tables) + (0 if chars is None else int(chars[3])))
    shapes: dict[str, tuple[int, ...]] = {name: (int(n), int(dim)) for name, n, dim in tables}
    shapes.update(W1=(int(hidden), D), b1=(int(hidden),), W2=(int(n_outputs), int(hidden)), b2=(int(n_outputs),))
    if chars is not None:
        shapes.update(char_parameter_shapes(*chars))
    n_params = sum(math.prod(shape) for shape in shapes.values())
    require_memory(
        _COPIES * n_params * np.dtype(dtype).itemsize,
        f"a network of {n_params:,} parameters (hidden {hidden}, window {window}, n_outputs {n_outputs}, "
        f"tables {', '.join(f'{name} {n:,}x{dim}' for name, n, dim in tables)})",
    )
    return shapes


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
    initialize : bool, default True
        False leaves the parameters unwritten (``np.empty``), for a loader that fills them.
    chars : (n_chars, char_dim, char_window, filters), optional
        Character features (:mod:`windowclf.nn.chars`): their r joins x after the tables' rows, and
        the last input of every call is then a :class:`~windowclf.features.spellings.SpellingIds`.
    """

    def __init__(
        self,
        tables,
        window,
        hidden,
        n_outputs,
        activation="tanh",
        output="softmax",
        dtype=np.float32,
        seed=0,
        initialize=True,
        chars=None,
    ):
        tables = _checked_tables(tables)
        window = check_int("window", window, low=1)
        if window % 2 == 0:
            raise ConfigError(f"window must be odd (C = 2h + 1), got {window}")
        hidden, n_outputs = check_int("hidden", hidden, low=1), check_int("n_outputs", n_outputs, low=1)
        initialize = check_bool("initialize", initialize)
        if not isinstance(seed, np.random.Generator):
            seed = check_int("seed", seed, low=0)
        if check_float_dtype("dtype", dtype).itemsize not in (4, 8):
            raise ConfigError(f"dtype must be float32 or float64, got {dtype!r:.60}")
        if chars is not None and (
            not isinstance(chars, (tuple, list)) or len(chars) != 4 or not all(isinstance(v, int) for v in chars)
        ):
            raise TypeError(f"chars must be (n_chars, char_dim, char_window, filters), four ints, got {chars!r:.60}")
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
        if not isinstance(output, str) or output not in OUTPUTS:
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
        self.chars = None if chars is None else tuple(int(v) for v in chars)
        self.char_filters = 0 if self.chars is None else self.chars[3]
        # Sizes come from settings or a model file's metadata: checked before anything is allocated.
        shapes = parameter_shapes(tables, self.window, self.hidden, self.n_outputs, self.dtype, self.chars)
        if not initialize:  # a model file's arrays replace these (np.empty touches no page of memory)
            self.params = {name: np.empty(shape, dtype=self.dtype) for name, shape in shapes.items()}
            return
        rng = np.random.default_rng(seed)
        self.params = {}
        for name, _, dim in tables:
            table = self.params[name] = np.empty(shapes[name], dtype=self.dtype)
            # drawn a block of rows at a time: the same numbers as one draw (the generator's stream
            # is sequential), without a float64 copy of a table of a million words
            for start in range(0, table.shape[0], _INIT_ROWS):
                block = table[start : start + _INIT_ROWS]
                block[...] = rng.normal(0.0, 1.0 / np.sqrt(dim), size=block.shape)
        # Glorot-uniform, as CS224d's random_weight_matrix: eps = sqrt(6) / sqrt(fan_in + fan_out)
        self.params["W1"] = glorot_uniform(rng, shapes["W1"][0], shapes["W1"][1], self.dtype)
        self.params["b1"] = np.zeros(shapes["b1"], dtype=self.dtype)
        self.params["W2"] = glorot_uniform(rng, shapes["W2"][0], shapes["W2"][1], self.dtype)
        self.params["b2"] = np.zeros(shapes["b2"], dtype=self.dtype)
        if self.chars is not None:  # drawn last: a network without them draws what it always drew
            init_char_params(self.params, shapes, rng, self.dtype)

    # ---------------------------------------------------------------- sizes
    @property
    def input_dim(self) -> int:
        """D = C * (sum of the tables' dimensions, plus the character features' filters)."""
        return self.window * (sum(self.table_dims) + self.char_filters)

    @property
    def slot_dims(self) -> list:
        """The width of each slice of x, in order: the tables', then the character features'."""
        return self.table_dims + ([self.char_filters] if self.chars is not None else [])

    def shapes(self) -> dict:
        """The shape every parameter must have, by name."""
        return {name: arr.shape for name, arr in self.params.items()}

    def checked_ids(self, ids, name: str = "ids", *, bounds: bool = False) -> tuple:
        """``ids`` as the network takes them: one (B, C) integer array per lookup table (then the
        SpellingIds of the words, with character features), B the same for all; TypeError or
        ValueError naming ``name`` otherwise. With ``bounds`` every id is checked against its
        table's rows too (else an id past them is found where it is read)."""
        name, bounds = check_str("name", name), check_bool("bounds", bounds)
        n = len(self.table_names)
        wanted = n + (self.chars is not None)
        if isinstance(ids, np.ndarray) or not isinstance(ids, (tuple, list)) or len(ids) != wanted:
            raise TypeError(
                f"{name} must be a tuple of {wanted} window-id arrays (one per lookup table: "
                f"{', '.join(self.table_names)}{', then the spellings' if self.chars is not None else ''}), "
                f"got {kind_of(ids)}"
            )
        rows = None
        for k, arr in enumerate(ids[:n]):
            if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.dtype.kind not in "iu":
                raise TypeError(f"{name}[{k}] must be an integer array of shape (B, {self.window}), got {kind_of(arr)}")
            if arr.shape[1] != self.window or arr.shape[0] != (arr.shape[0] if rows is None else rows):
                raise ValueError(f"{name}[{k}] has shape {arr.shape}; expected ({rows or 'B'}, {self.window})")
            rows = arr.shape[0]
            table_rows = self.params[self.table_names[k]].shape[0]
            if bounds and arr.size and (arr.min() < 0 or arr.max() >= table_rows):
                raise ValueError(
                    f"{name}[{k}] holds ids outside the {table_rows:,} rows of table {self.table_names[k]}"
                )
        if self.chars is not None and not isinstance(ids[-1], SpellingIds):
            raise TypeError(f"{name}[{n}] must be the SpellingIds of the words, got {kind_of(ids[-1])}")
        return tuple(ids)

    # -------------------------------------------------------------- forward
    def lookup(self, ids, out=None, parts=None, mode: str = "raise", char_table=None) -> np.ndarray:
        """x for each window: the concatenated table rows, shape (B, D).

        With ``out`` (B, D) the rows are gathered into it (and, for several tables, first into
        ``parts``, one (>= B*C, dim) buffer per table); ``mode="clip"`` gathers without
        numpy's buffering, for ids already known to be in range. With character features the last
        ids index ``char_table``, the r of some words (:meth:`char_table`).
        """
        if self.chars is not None and char_table is None:
            raise ConfigError("a network with character features looks its ids up with char_table= (char_table())")
        if mode != "clip":  # "clip" is the tagging fast path's, for ids it made itself
            ids = self.checked_ids(ids) if self.chars is None else ids
        try:
            return self._gather(ids, out, parts, mode, char_table)
        except IndexError as err:  # an id past its table: the caller's windows are not this network's
            raise ValueError(f"ids hold a window id outside its lookup table ({err})") from None

    def _gather(self, ids, out, parts, mode, char_table) -> np.ndarray:
        tables = [self.params[name] for name in self.table_names] + ([char_table] if self.chars else [])
        B = len(ids[0])
        if out is None:
            rows = [table.take(word_ids.ravel(), axis=0).reshape(B, -1) for table, word_ids in zip(tables, ids)]
            # one table: its rows already are x, no concatenate copy
            return rows[0] if len(rows) == 1 else np.concatenate(rows, axis=1)
        n_slots = B * self.window
        if len(tables) == 1:
            tables[0].take(ids[0].ravel(), 0, out.reshape(n_slots, -1), mode)
            return out
        for table, word_ids, part in zip(tables, ids, parts):
            table.take(word_ids.ravel(), 0, part[:n_slots], mode)
        return np.concatenate([part[:n_slots].reshape(B, -1) for part in parts], axis=1, out=out)

    def char_table(self, spelled, keep: bool = False):
        """r of the distinct words of ``spelled`` (a SpellingIds): (table, slot ids into it, cache)."""
        if self.chars is None:
            raise ConfigError("this network has no character features (chars=None): it has no char_table")
        if not isinstance(spelled, SpellingIds):
            raise TypeError(f"spelled must be the SpellingIds of an encoding, got {kind_of(spelled)}")
        keep = check_bool("keep", keep)
        words, slots = np.unique(spelled.ids, return_inverse=True)
        table, cache = char_forward(self.params, spelled.spellings.ids[words], spelled.spellings.lengths[words], keep)
        return table, slots.reshape(spelled.ids.shape), cache

    def forward(self, ids, dropout: Dropout | None = None) -> Forward:
        """Run the network on windows ``ids`` (a tuple with one (B, C) int array per table).

        ``dropout`` (training only) draws fresh masks for x and a1; without it nothing is masked.
        """
        ids = self.checked_ids(ids)
        if dropout is not None and not isinstance(dropout, Dropout):
            raise TypeError(f"dropout must be a Dropout or None, got {kind_of(dropout)}")
        chars = None
        if self.chars is not None:  # r once per distinct word of the batch, then gathered like a table
            table, slots, cache = self.char_table(ids[-1], keep=True)
            ids, chars = tuple(ids[:-1]) + (slots,), (slots, cache)
            x = self.lookup(ids, char_table=table)
        else:
            x = self.lookup(ids)
        x_mask, h_mask = None, None
        B = x.shape[0]
        if dropout is not None:
            x, x_mask = dropout.apply(x, dropout.p_input)  # m_x * x
            h_mask = dropout.mask(dropout.p_hidden, (B, self.hidden), self.dtype)
        z1 = np.empty((B, self.hidden), dtype=self.dtype)
        a1 = np.empty_like(z1)
        z2 = np.empty((B, self.n_outputs), dtype=self.dtype)
        h = layers(self.params, self.activation, x, z1, a1, z2, h_mask, None if h_mask is None else np.empty_like(a1))
        return Forward(tuple(ids), x, z1, a1, z2, h, x_mask, h_mask, chars)

    def scores(self, ids) -> np.ndarray:
        """Output scores z2 of shape (B, K) (forward only, nothing kept)."""
        return self.forward(self.checked_ids(ids, bounds=True)).z2

    def predict_proba(self, ids) -> np.ndarray:
        """Class probabilities of shape (B, K), or (B, 2) [P(negative), P(positive)] for sigmoid."""
        return OUTPUTS[self.output][1](self.scores(ids))

    # ------------------------------------------------------------- backward
    def backward(self, fw: Forward, delta2: np.ndarray, l2: float = 0.0, train_tables=None):
        """Gradients of J given delta2 = dJ/dz2 of shape (B, K) (already divided by B).

        Returns a dict: dense arrays for W1, b1, W2, b2 and a :class:`RowGrad` for every table
        in ``train_tables`` (default: all tables).
        """
        if not isinstance(fw, Forward):
            raise TypeError(f"fw must be what forward() returned, got {kind_of(fw)}")
        if not isinstance(delta2, np.ndarray) or delta2.shape != fw.z2.shape or delta2.dtype.kind != "f":
            raise TypeError(f"delta2 must be a float array of shape {fw.z2.shape} (dJ/dz2), got {kind_of(delta2)}")
        l2 = check_number("l2", l2, low=0)
        train_tables = check_strings("train_tables", train_tables, optional=True, what="a collection of table names")
        p = self.params
        grads: dict = {}
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
        if names or fw.chars is not None:
            grad_x = delta1 @ p["W1"]  # grad_x = W1^T delta1, shape (B, D)
            if fw.x_mask is not None:
                grad_x *= fw.x_mask  # through x -> m_x * x
            B = grad_x.shape[0]
            offset = 0
            for name, dim, word_ids in zip(self.table_names + ["r"], self.slot_dims, fw.ids):
                width = self.window * dim
                # slice j of the C slices belongs to word_ids[:, j]
                slices = grad_x[:, offset : offset + width].reshape(B * self.window, dim)
                if name in names:
                    grads[name] = accumulate_rows(word_ids.ravel(), slices)
                elif name == "r" and fw.chars is not None:  # dJ/dr of each distinct word, then into Q, Wc, bc
                    grad_r = accumulate_rows(word_ids.ravel(), slices).values
                    grads.update(char_backward(p, fw.chars[1], grad_r))
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
        l2 = check_number("l2", l2, low=0)
        for name, value in (("l2_tables", l2_tables), ("anchors", anchors)):
            if value is not None and (not isinstance(value, dict) or not set(value) <= set(self.table_names)):
                raise TypeError(f"{name} must be None or a dict by table name ({', '.join(self.table_names)})")
        for table, weight in (l2_tables or {}).items():
            check_number(f"l2_tables[{table!r}]", weight, low=0)
        fw = self.forward(ids, dropout)
        classes = 2 if self.output == "sigmoid" else self.n_outputs
        if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (fw.z2.shape[0],)) or (
            len(y) and (y.min() < 0 or y.max() >= classes)
        ):
            raise ValueError(f"y must be an integer array of shape ({fw.z2.shape[0]},) of classes 0 to {classes - 1}")
        losses, delta2 = OUTPUTS[self.output][0](fw.z2, y)
        B = len(y)
        delta2 /= B  # J is the batch mean
        J = float(losses.sum()) / B
        if l2:
            J += weight_penalty(self.params, l2)
        grads = self.backward(fw, delta2, l2=l2, train_tables=train_tables)
        return row_penalty(J, self.params, grads, l2_tables, anchors), grads


def _checked_tables(tables) -> list:
    """``tables`` as (name, rows, dim) triples of a str and two positive ints; TypeError naming them."""
    if isinstance(tables, (str, bytes, dict)) or not isinstance(tables, (list, tuple)) or not tables:
        raise TypeError(f"tables must be a non-empty list of (name, n_rows, dim), got {kind_of(tables)}")
    out = []
    for i, table in enumerate(tables):
        if not isinstance(table, (tuple, list)) or len(table) != 3 or not isinstance(table[0], str):
            raise TypeError(f"tables[{i}] must be (name, n_rows, dim), got {table!r:.60}")
        out.append(
            (table[0], check_int(f"tables[{i}] rows", table[1], low=1), check_int(f"tables[{i}] dim", table[2], low=1))
        )
    return out


def layers(params, activation, x, z1, a1, z2, h_mask=None, h=None):
    """The one forward pass of the layers, into the given arrays; returns what W2 saw.

    z1 = W1 x + b1, a1 = f(z1), z2 = W2 (m_h * a1) + b2 for x (B, D), z1 and a1 (B, H), z2 (B, K)
    (or x (D,), z1 and a1 (H,), z2 (K,) for one window: the same BLAS call, tests/test_fastpath.py).
    Training (:meth:`WindowNetwork.forward`), the per-example SGD step and chunked scoring all
    compute their forward pass here. ``a1`` may be ``z1`` (in place, when nothing needs z1 after);
    with a hidden dropout mask ``h_mask``, m_h * a1 goes into ``h`` and is returned, else a1.
    """
    W1, W2 = params["W1"], params["W2"]
    window = x.ndim == 1  # one window: W @ x, the same ?gemv as x @ W^T on a row, without matmul's dispatch
    if window:
        np.dot(W1, x, z1)
    else:
        np.matmul(x, W1.T, z1)
    np.add(z1, params["b1"], z1)  # z1 = W1 x + b1
    ACTIVATIONS[activation](z1, a1)  # a1 = f(z1)
    if h_mask is not None:
        a1 = np.multiply(a1, h_mask, h)  # m_h * a1
    if window:
        np.dot(W2, a1, z2)
    else:
        np.matmul(a1, W2.T, z2)
    np.add(z2, params["b2"], z2)  # z2 = W2 a1 + b2
    return a1


def weight_penalty(params, l2: float, squares=(None, None)) -> float:
    """(lambda/2)(||W1||^2 + ||W2||^2), each sum as ``np.sum(W ** 2)``; ``squares`` may hold
    buffers of W1's and W2's shapes for the squares."""
    sum_W1 = float(np.add.reduce(np.square(params["W1"], out=squares[0]), None))
    sum_W2 = float(np.add.reduce(np.square(params["W2"], out=squares[1]), None))
    return 0.5 * l2 * (sum_W1 + sum_W2)


def row_penalty(J: float, params, grads, l2_tables, anchors) -> float:
    """J plus the L2 terms on the touched rows of tables, whose RowGrads in ``grads`` gain them.

    For each table named in ``l2_tables`` (name -> lambda) that has a gradient: J +=
    (lambda/2) sum_r ||L_r - L0_r||^2 over its gradient's rows r (L0: ``anchors[name]``, the
    pretrained values, or 0), and grad_L_r += lambda (L_r - L0_r).
    """
    for name, lam in (l2_tables or {}).items():
        if not lam or name not in grads:
            continue
        g = grads[name]
        diff = params[name][g.rows]
        if anchors is not None and name in anchors:
            diff = diff - anchors[name][g.rows]
        J += 0.5 * lam * float(np.sum(diff**2))
        g.values += lam * diff  # + lambda (L_r - L0_r) on the touched rows
    return J


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
