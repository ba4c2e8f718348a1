"""Copies of a network's weights that hold only what training can change.

Training keeps the best epoch's weights, the last epoch's (for ``--resume``) and, with pretrained
vectors, L as it started. A lookup table's rows change only where a training window holds them
(SGD and AdaGrad update a batch's rows and nothing else), so for a pretrained L of 400,000 words of
which training sees 20,000 a copy of those rows is all a snapshot needs: every other row keeps its
value for the whole run. A :class:`Patch` is such a copy of some rows; a :class:`Snapshot` holds a
patch for each such table and a whole copy of every other parameter.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Patch", "Snapshot", "changed_rows"]


def changed_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``b`` that differ from ``a`` in any bit, ascending (int64).

    >>> changed_rows(np.zeros((3, 2)), np.array([[0.0, 0.0], [0.0, -0.0], [1.0, 0.0]])).tolist()
    [1, 2]
    """
    bits = np.dtype(f"u{b.dtype.itemsize}")
    return np.flatnonzero(np.any(a.view(bits) != b.view(bits), axis=1)).astype(np.int64)


class Patch:
    """Some rows of a table: ``rows`` (ascending, distinct) and their ``values``; the table they
    belong to is the same as another (the base) everywhere else."""

    def __init__(self, rows: np.ndarray, values: np.ndarray):
        self.rows, self.values = np.asarray(rows, dtype=np.int64), values

    @classmethod
    def take(cls, table: np.ndarray, rows: np.ndarray) -> Patch:
        """A copy of ``table``'s ``rows`` (ascending, distinct)."""
        return cls(rows, table[rows])

    @classmethod
    def difference(cls, table: np.ndarray, base: np.ndarray) -> Patch:
        """The rows of ``table`` that differ from ``base``: ``table`` is ``base`` with this patch."""
        rows = changed_rows(base, table)
        return cls(rows, table[rows])

    def apply(self, table: np.ndarray) -> None:
        """Write the patch's rows into ``table``."""
        table[self.rows] = self.values

    def applied(self, base: np.ndarray) -> np.ndarray:
        """A new array: ``base`` with the patch's rows."""
        out = base.copy()
        out[self.rows] = self.values
        return out

    def holds(self, table: np.ndarray) -> bool:
        """Whether ``table`` has the patch's values at its rows, bit for bit."""
        return len(changed_rows(self.values, table[self.rows])) == 0

    def extended(self, table: np.ndarray, rows: np.ndarray) -> Patch:
        """This patch, plus ``rows`` of ``table`` where it has none (their values taken from it)."""
        new = np.setdiff1d(rows, self.rows)
        if not len(new):
            return self
        order = np.argsort(np.concatenate((self.rows, new)), kind="stable")
        rows = np.concatenate((self.rows, new))[order]
        return Patch(rows, np.concatenate((self.values, table[new]))[order])

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        """The patch's values of ``rows`` (each must be one of its rows): what an L2 pull towards
        the patch reads (``anchors`` of :func:`windowclf.nn.network.row_penalty`)."""
        where = np.searchsorted(self.rows, rows)
        if np.any(where >= len(self.rows)) or np.any(self.rows[np.minimum(where, len(self.rows) - 1)] != rows):
            raise KeyError("rows outside the patch")
        return self.values[where]

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.values.nbytes


class Snapshot:
    """A copy of a network's parameters: a :class:`Patch` of ``rows[name]`` for the tables named in
    ``rows`` (the rows training can change), a whole copy of every other parameter.

    Restoring it, or reading its arrays, is right for any state of the same run, since rows outside
    a patch are the same in every one of them.
    """

    def __init__(self, params: dict, rows: dict | None = None):
        rows = rows or {}
        self.arrays = {name: arr.copy() for name, arr in params.items() if name not in rows}
        self.patches = {name: Patch.take(params[name], r) for name, r in rows.items()}

    def restore(self, params: dict) -> None:
        """Write the snapshot into ``params`` (in place)."""
        for name, arr in self.arrays.items():
            params[name][...] = arr
        for name, patch in self.patches.items():
            patch.apply(params[name])

    def full(self, params: dict) -> dict:
        """The snapshot as whole arrays, given the run's live ``params``: a table whose patched
        rows the live one already holds is the live array itself (no copy)."""
        out = dict(self.arrays)
        for name, patch in self.patches.items():
            out[name] = params[name] if patch.holds(params[name]) else patch.applied(params[name])
        return out

    @classmethod
    def of(cls, arrays: dict, patches: dict) -> Snapshot:
        """A snapshot from whole ``arrays`` and ``patches`` (a model file's training state)."""
        snap = cls({})
        snap.arrays, snap.patches = dict(arrays), dict(patches)
        return snap

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values()) + sum(p.nbytes for p in self.patches.values())
