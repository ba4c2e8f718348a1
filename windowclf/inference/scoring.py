"""Tagging's forward pass: the network's scores of many windows, chunk by chunk, on threads."""

from __future__ import annotations

import threading

import numpy as np

from windowclf.nn.network import WindowNetwork, layers

__all__ = ["chunked_scores"]


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
