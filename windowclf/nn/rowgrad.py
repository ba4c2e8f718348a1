"""The gradient of a lookup table, nonzero only on the rows a batch touches, and its sparse sum.

scipy is imported when a sum is first made, so the optimizers (and the settings that name them)
load without it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["RowGrad", "accumulate_rows"]


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
    return RowGrad(rows, (S @ slices)[: rows.shape[0]])


# Up to this many slots Python's set and sort beat numpy's per-call overhead (a window or two).
_FEW_SLOTS = 16


def _distinct_rows(ids: np.ndarray, index_dtype):
    """``np.unique(ids, return_inverse=True)``, with less overhead for the few ids of a batch."""
    if ids.shape[0] <= _FEW_SLOTS:
        id_list = ids.tolist()
        row_list = sorted(set(id_list))
        position = {row: k for k, row in enumerate(row_list)}
        return (np.array(row_list, dtype=ids.dtype), np.array([position[i] for i in id_list], dtype=index_dtype))
    sorted_ids = np.sort(ids)
    is_first = np.empty(sorted_ids.shape[0], dtype=bool)
    is_first[:1] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=is_first[1:])
    rows = sorted_ids[is_first]
    inverse = rows.searchsorted(ids)  # inverse[j] = position of ids[j] among the rows
    return rows, inverse.astype(index_dtype, copy=False)


@functools.lru_cache(maxsize=64)
def _slot_matrix_template(n_slots: int, dtype: np.dtype):
    """An (n_slots, n_slots) CSC matrix with one 1 per column, through scipy's checked constructor."""
    import scipy.sparse as sp

    return sp.csc_matrix(
        (np.ones(n_slots, dtype=dtype), np.zeros(n_slots, dtype=np.int64), np.arange(n_slots + 1)),
        shape=(n_slots, n_slots),
    )


def _slot_matrix(template, inverse: np.ndarray):
    """The word-by-slot matrix S: column j holds a 1 in row ``inverse[j]``.

    scipy's constructor re-validates every array on each call, which cost more than the rest of
    a per-example SGD step; here every field comes from a template that went through it, and only
    ``indices`` (the row of each column's 1, always < n_slots, in the template's dtype) is replaced.
    """
    if set(template.__dict__) != _KNOWN_CSC_FIELDS:
        # a scipy whose matrices hold other state: take the checked constructor, slower but safe
        return type(template)((template.data, inverse, template.indptr), shape=template.shape)
    S = object.__new__(type(template))
    S.__dict__.update(template.__dict__)
    S.indices = inverse
    return S


# The fields of a scipy 1.x CSC matrix; the template copy above is only valid for exactly these.
_KNOWN_CSC_FIELDS = {"_shape", "data", "indices", "indptr", "maxprint"}
