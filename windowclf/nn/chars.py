"""Character features of words: a convolution over each word's characters, max-pooled (CharWNN).

dos Santos & Zadrozny (2014) and Chiu & Nichols (2016): every word w = c_1 ... c_m (original
casing) gets a vector r_w of ``filters`` numbers computed from its characters, which joins x
beside the word's embedding for every window slot it fills. With a character table Q (one row of
``char_dim`` numbers per character), a window of k = 2h' + 1 characters (``char_window``), and the
word padded with h' edge symbols on each side:

    z_p = [Q[c_{p-h'}]; ...; Q[c_{p+h'}]]     (k * char_dim)   the characters around position p
    u_p = Wc z_p + bc                         (filters)        one convolution step
    r_w = max_{p = 1..m} u_p                  (filters)        max-pooling, unit by unit

Backward, for dJ/dr_w from grad_x's slices of the slots w fills (summed over them):

    dJ/du_p[j] = dJ/dr_w[j] where p is unit j's arg-max, else 0     (max-pooling routes it)
    dJ/dWc += dJ/du_p z_p^T,   dJ/dbc += dJ/du_p,   dJ/dz_p = Wc^T dJ/du_p
    dJ/dQ[c] = the sum of the slices of dJ/dz_p that read character c   (a sparse row update)

A batch computes r once per distinct word (its windows share many), so the cost grows with its
distinct words, not its slots. Words longer than :data:`MAX_CHARS` characters keep their first and
last MAX_CHARS // 2. The sentence-edge padding words ``<s>`` and ``</s>`` are spelled with one
symbol each; characters rarer than :data:`CHAR_MIN_COUNT` in training share one unknown row.
"""

from __future__ import annotations

import numpy as np

from windowclf.features.spellings import MAX_CHARS
from windowclf.nn.functions import glorot_uniform
from windowclf.nn.rowgrad import accumulate_rows

__all__ = ["CHAR_PARAMS", "char_backward", "char_forward", "char_parameter_shapes", "init_char_params"]

CHAR_PARAMS = ("Q", "Wc", "bc")


def char_parameter_shapes(n_chars: int, char_dim: int, char_window: int, filters: int) -> dict:
    """Q (n_chars, char_dim), Wc (filters, char_window * char_dim), bc (filters,)."""
    return {
        "Q": (int(n_chars), int(char_dim)),
        "Wc": (int(filters), int(char_window) * int(char_dim)),
        "bc": (int(filters),),
    }


def init_char_params(params: dict, shapes: dict, rng: np.random.Generator, dtype) -> None:
    """Q ~ N(0, 1/char_dim) as the word tables; Wc Glorot-uniform; bc = 0."""
    char_dim = shapes["Q"][1]
    params["Q"] = rng.normal(0.0, 1.0 / np.sqrt(char_dim), size=shapes["Q"]).astype(dtype)
    filters, width = shapes["Wc"]
    params["Wc"] = glorot_uniform(rng, filters, width, dtype)
    params["bc"] = np.zeros(shapes["bc"], dtype=dtype)


# Words are convolved in blocks of _BLOCK words by M positions, M the first of _POSITIONS that holds
# the word. Every product has one of these few shapes, whatever else is in the batch, since BLAS
# may round a row of a product differently for another number of rows: so a word's r has the same
# bits in any batch, and tagging a file whole or in blocks agree. Short words, most of them, cost
# a short block.
_BLOCK = 32
_POSITIONS = (8, 16, MAX_CHARS)


def char_forward(params: dict, ids: np.ndarray, lengths: np.ndarray, keep: bool = False):
    """r of each word: ``ids`` (n, MAX_CHARS + 2h') character ids, ``lengths`` (n,). Returns
    (R (n, filters), the cache :func:`char_backward` needs, or None)."""
    Q, Wc, bc = params["Q"], params["Wc"], params["bc"]
    char_dim, filters = Q.shape[1], Wc.shape[0]
    k = Wc.shape[1] // char_dim
    R = np.empty((len(ids), filters), dtype=Q.dtype)
    cache = []
    bucket = np.searchsorted(_POSITIONS, lengths)  # the first M >= the word's length
    for b, M in enumerate(_POSITIONS):
        words = np.flatnonzero(bucket == b)
        if not len(words):
            continue
        padded = -(-len(words) // _BLOCK) * _BLOCK  # blocks filled with copies of the first word
        rows = np.concatenate((words, np.repeat(words[:1], padded - len(words))))
        chars = ids[rows, : M + k - 1]  # (padded, M + 2h')
        # z_p for every position: the k characters around it, side by side (padded, M, k * char_dim)
        Z = Q.take(chars, axis=0)
        Zw = (
            np.lib.stride_tricks.sliding_window_view(Z, k, axis=1)
            .transpose(0, 1, 3, 2)
            .reshape(padded, M, k * char_dim)
        )
        U = np.empty((padded, M, filters), dtype=Q.dtype)
        for start in range(0, padded, _BLOCK):  # u_p = Wc z_p + bc, one block at a time
            block = slice(start, start + _BLOCK)
            np.matmul(Zw[block].reshape(_BLOCK * M, -1), Wc.T, out=U[block].reshape(_BLOCK * M, filters))
        U += bc
        U = U[: len(words)]
        U[np.arange(M)[None, :] >= lengths[words, None]] = -np.inf  # past a word's end: never the max
        best = U.argmax(axis=1)  # (words, filters): the position of each unit's max
        R[words] = np.take_along_axis(U, best[:, None, :], axis=1)[:, 0]  # r = max_p u_p
        if keep:
            cache.append((words, chars[: len(words)], Zw[: len(words)], best))
    return R, (cache if keep else None)


def char_backward(params: dict, cache, grad_R: np.ndarray) -> dict:
    """Gradients of Q (a RowGrad), Wc and bc from dJ/dR of shape (n, filters)."""
    Q, Wc = params["Q"], params["Wc"]
    char_dim, filters = Q.shape[1], Wc.shape[0]
    k = Wc.shape[1] // char_dim
    grad_W = np.zeros_like(Wc)
    slot_ids, slot_grads = [], []
    for words, chars, Zw, best in cache:
        n, M = Zw.shape[:2]
        grad_U = np.zeros((n, M, filters), dtype=grad_R.dtype)
        np.put_along_axis(grad_U, best[:, None, :], grad_R[words][:, None, :], axis=1)  # the max routes dJ/dr
        flat_U = grad_U.reshape(n * M, filters)
        grad_W += flat_U.T @ Zw.reshape(n * M, k * char_dim)  # dJ/dWc = sum_p dJ/du_p z_p^T
        grad_Zw = (flat_U @ Wc).reshape(n, M, k, char_dim)  # dJ/dz_p = Wc^T dJ/du_p
        for i in range(k):  # slice i of z_p reads the character at p + i
            slot_ids.append(chars[:, i : i + M].ravel())
            slot_grads.append(grad_Zw[:, :, i].reshape(n * M, char_dim))
    return {
        "bc": grad_R.sum(axis=0),  # dJ/dbc = sum_p dJ/du_p: one position per unit
        "Wc": grad_W,
        "Q": accumulate_rows(np.concatenate(slot_ids), np.concatenate(slot_grads)),
    }
