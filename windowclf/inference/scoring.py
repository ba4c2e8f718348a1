"""Tagging's forward pass: the network's scores of many windows, on threads, and what a tagging
session keeps from call to call.

Two passes compute the same scores. :func:`chunked_scores` is the general one, the network's own
forward pass (:func:`windowclf.nn.network.layers`) chunk by chunk: training's dev scoring and any
network that is not a plain :class:`~windowclf.nn.network.WindowNetwork` run it, and it is the
reference the other is tested against. Tagging runs the per-token projections of
:mod:`windowclf.nn.projections` (:meth:`Tagging.scores
<windowclf.inference.prediction.Tagging.scores>` chooses). Within a :func:`tagging_session` a model
keeps its distinct tokens and their projections from call to call (bounded:
:data:`~windowclf.features.token_table.MAX_TOKENS`, :data:`~windowclf.nn.projections.CACHE_BYTES`),
so tagging a file in pieces looks each token up and projects it once; outside one, each call starts
afresh (a caller may change the weights between calls).
"""

from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager

import numpy as np

from windowclf.nn.network import WindowNetwork, layers

__all__ = ["TaggingState", "chunked_scores", "forget", "restart_projections", "session_state", "tagging_session"]

_SESSION: contextvars.ContextVar[dict | None] = contextvars.ContextVar("windowclf_tagging_session", default=None)


@contextmanager
def tagging_session():
    """A context in which models keep what they compute per distinct token from call to call.

    The caller promises that no model's weights or vocabularies change inside it (tagging a file
    does not change them). Sessions nest (the inner one starts empty) and belong to their thread
    or task (a ``contextvars`` variable).
    """
    token = _SESSION.set({})
    try:
        yield
    finally:
        _SESSION.reset(token)


def session_state(owner, make):
    """What ``owner`` keeps in the current session: ``make()`` the first time (and every time
    outside a session)."""
    states = _SESSION.get()
    if states is None:
        return make()
    kept = states.get(id(owner))
    if kept is None or kept[0] is not owner:
        kept = states[id(owner)] = (owner, make())  # the owner held too, so its id is not reused
    return kept[1]


class TaggingState:
    """What a model keeps for a tagging session: its token table (made once) and its projector
    (made when first asked for, and again after :func:`restart_projections`).

    Parameters
    ----------
    make_table : callable
        Returns a new, empty :class:`~windowclf.features.token_table.TokenTable`.
    make_projector : callable or None
        Returns a new :class:`~windowclf.nn.projections.Projector` (None: the model has none).
    """

    def __init__(self, make_table, make_projector=None):
        self.table = make_table()
        self._make_projector = make_projector
        self._projector = None

    @property
    def projector(self):
        """The projector, made now if there is none."""
        if self._projector is None and self._make_projector is not None:
            self._projector = self._make_projector()
        return self._projector

    def restart(self) -> None:
        """Drop the projector (its cache and what it computed), keeping the token table."""
        self._projector = None


def restart_projections() -> None:
    """Start every model's projections afresh in the current session (its token tables kept): what
    is computed from here on depends on the calls from here on only (a segment of a file)."""
    for _, state in (_SESSION.get() or {}).values():
        state.restart()


def forget(owner) -> None:
    """Drop what ``owner`` keeps in the current session (its weights are about to change)."""
    states = _SESSION.get()
    if states is not None:
        states.pop(id(owner), None)


def chunked_scores(network: WindowNetwork, inputs, chunk: int, threads: int = 1) -> np.ndarray:
    """``network.scores`` of windows ``inputs``, chunk by chunk, into one (n_windows, K) array.

    Rows ``k * chunk`` to ``(k + 1) * chunk`` come from the same numpy and BLAS calls on the same
    shapes as ``network.scores(tuple(ids[k * chunk:(k + 1) * chunk] for ids in inputs))``: the
    chunks are not resized (BLAS may sum a product in another order for another number of rows),
    only computed into buffers reused from chunk to chunk (a1 in z1's place), by the one forward
    pass :func:`windowclf.nn.network.layers`, and on ``threads`` threads, each with its own buffers.
    numpy lets go of the GIL in BLAS and in its loops, so the threads run at once; each chunk is
    one thread's work, so its bits do not depend on them.

    Parameters
    ----------
    network : WindowNetwork
    inputs : tuple of ndarray of shape (n_windows, C)
        Window ids, one matrix per lookup table.
    chunk : int
        Windows per forward pass.
    threads : int
        Threads to share the chunks among (one: this thread only).
    """
    n = len(inputs[0])
    out = np.empty((n, network.n_outputs), dtype=network.dtype)
    starts = list(range(0, n, chunk))
    if n == 0:
        return out
    if type(network) is not WindowNetwork:  # a subclass may compute its scores otherwise
        for start in starts:
            out[start : start + chunk] = network.scores(tuple(ids[start : start + chunk] for ids in inputs))
        return out
    char_table = None
    if network.chars is not None:  # r of every distinct word once, then gathered like a table's rows
        char_table, slots, _ = network.char_table(inputs[-1])
        inputs = tuple(inputs[:-1]) + (slots,)
    inputs = tuple(np.ascontiguousarray(ids) for ids in inputs)
    tables: list = [network.params[name] for name in network.table_names]
    if char_table is not None:
        tables.append(char_table)
    # take(mode="clip") gathers without buffering; it agrees with the default mode for ids in range
    in_range = all(ids.size == 0 or (ids.min() >= 0 and ids.max() < len(table)) for ids, table in zip(inputs, tables))
    mode = "clip" if in_range else "raise"
    threads = max(1, min(int(threads), len(starts)))
    if threads == 1:
        _score_chunks(network, inputs, mode, starts, chunk, out, char_table)
        return out
    errors = []

    def work(my_starts):
        try:
            _score_chunks(network, inputs, mode, my_starts, chunk, out, char_table)
        except BaseException as err:
            errors.append(err)

    helpers = [threading.Thread(target=work, args=(starts[k::threads],), daemon=True) for k in range(1, threads)]
    for helper in helpers:
        helper.start()
    try:
        _score_chunks(network, inputs, mode, starts[0::threads], chunk, out, char_table)
    finally:
        for helper in helpers:
            helper.join()
    if errors:
        raise errors[0]
    return out


def _score_chunks(network, inputs, mode, starts, chunk, out, char_table):
    """WindowNetwork.forward(...).z2 of the chunks beginning at ``starts``, into out's rows."""
    dtype, n = network.dtype, len(out)
    m = min(chunk, n)
    x = np.empty((m, network.input_dim), dtype)
    parts = [np.empty((m * network.window, dim), dtype) for dim in network.slot_dims]
    z1 = np.empty((m, network.hidden), dtype)
    for start in starts:
        stop = min(start + chunk, n)
        rows = stop - start
        xc = network.lookup(
            tuple(ids[start:stop] for ids in inputs), out=x[:rows], parts=parts, mode=mode, char_table=char_table
        )
        zc = z1[:rows]
        layers(network.params, network.activation, xc, zc, zc, out[start:stop])  # a1 = f(z1) in place
