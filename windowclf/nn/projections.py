"""Tagging's forward pass by per-token projections: W1 x as a sum over the window's slots.

x concatenates the C slots' pieces (each lookup table's row, and the character features' r), so

    W1 x = sum over tables k and slots s of W1[:, cols(k, s)] row_k(s)

Most tables are read per token (the word, its capitalization, shape and affixes, its characters:
a slot's piece depends on its token alone). For those, the piece of token t,
e(t) = [L[w(t)]; E_caps[c(t)]; ...; r(t)] (d numbers), is projected once for every slot,

    P[t, s] = W1_s e(t)         (H,)   W1_s: W1's columns of slot s of the per-token tables,

and the few tables that read a word's place (document features, the gazetteer) are small enough to
be projected whole: Q[k, s] = W1_s' E'[k] for every combination k of their rows. A window of
tokens t_1 .. t_C and positional rows k_1 .. k_C then takes

    z1 = b1 + sum_s (P[t_s, s] + Q[k_s, s])        (W1 x + b1, summed in another order)
    a1 = f(z1),   z2 = W2 a1 + b2

2C vector additions of length H instead of an H x D product; a token's projections, one row of a
(d) x (C H) product, serve every window that holds it, and are kept from call to call within a
memory bound (Devlin et al. 2014 precompute a network's first layer this way).

Bits: every product has one of a few fixed shapes (P: blocks of _TOKEN_BLOCK tokens, padded; Q:
the whole table; the second layer: blocks of _WINDOW_BLOCK windows, padded) and the sums run in a
fixed order, so the same call on the same words gives the same bits, whatever the threads. A row's
bits may depend on its place in a block (OpenBLAS's float32 kernels round the rows of a block
differently), so what a call computes depends on its words and on what the projector computed
before: ``windowclf predict`` starts a projector afresh at every segment of a file, whose output
then depends on the segment's bytes alone (:mod:`windowclf.batch.segments`). The bits are not those
of :meth:`WindowNetwork.scores <windowclf.nn.network.WindowNetwork.scores>`, which sums W1 x in
BLAS's order: the tests hold the two within rounding, and their tags equal on real data.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from windowclf.features.token_table import PAD_END, PAD_START
from windowclf.features.windows import window_ids_flat
from windowclf.nn.chars import char_forward
from windowclf.nn.functions import ACTIVATIONS

__all__ = ["CACHE_BYTES", "Projector"]

CACHE_BYTES = 24 << 20
"""Memory the projections of a network's tokens may take (about 2,500 tokens of the strong presets'
network, 20,000 of the default one)."""

_TOKEN_BLOCK = 32  # tokens projected by one product
_WINDOW_BLOCK = 256  # windows whose second layer is one product (and whose sums fit the CPU's caches)
_MAX_COMBINATIONS = 4096  # positional tables' row combinations projected together
_PASS_WINDOWS = 1 << 14  # windows scored per pass (their tokens' projections all in the cache)
_PROJECT_TOKENS = 512  # tokens taken through the character features at a time


class Projector:
    """The per-token projections of one network, and the windows' scores from them.

    Parameters
    ----------
    network : WindowNetwork
        The trained network (its weights must not change while the projector is used).
    token_tables : collection of str
        The tables (of ``network.table_names``, and ``"r"`` for the character features) whose
        rows depend on the token alone; the others are read per word (:class:`TokenWindows
        <windowclf.features.token_table.TokenWindows>`' ``positional``).
    cache_bytes : int
        Memory for the projections kept from call to call.
    """

    def __init__(self, network, token_tables, cache_bytes: int = CACHE_BYTES):
        p = network.params
        self.network = network
        C, H, dtype = network.window, network.hidden, network.dtype
        names = network.table_names + (["r"] if network.chars is not None else [])
        offsets = np.concatenate(([0], np.cumsum([C * dim for dim in network.slot_dims])))
        columns = {
            name: [np.arange(offsets[k] + s * dim, offsets[k] + (s + 1) * dim) for s in range(C)]
            for k, (name, dim) in enumerate(zip(names, network.slot_dims))
        }
        self.token_names = [n for n in names if n in token_tables]
        self.positional_names = [n for n in names if n not in token_tables]
        if "r" in self.positional_names:
            raise ValueError("the character features are read per token")
        W1 = p["W1"]
        # W1_s of the per-token pieces, slot after slot: e(t) @ W_tokens = [P[t, 0], ..., P[t, C-1]]
        cols = [np.concatenate([columns[n][s] for n in self.token_names]) for s in range(C)]
        self.W_tokens = np.ascontiguousarray(np.concatenate([W1[:, c].T for c in cols], axis=1), dtype)
        self.Q, self.radix = self._positional(p, columns, C, H, dtype)
        # rows of P at most; it grows to them as a call needs (a short call holds a short table)
        self.capacity = max(2 * _TOKEN_BLOCK + 8, int(cache_bytes) // (C * H * dtype.itemsize))
        self.P = np.empty((0, H), dtype)  # row r * C + s: P[token of row r, s]
        self._code_of_row = np.full(0, -1, np.int64)
        self._last_used = np.full(0, -1, np.int64)
        self._row_of = np.full(0, -1, np.int64)  # code -> row of P, or -1
        self._generation = None
        self._clock = 0

    def _positional(self, p, columns, C, H, dtype):
        """Q of the positional tables: (combinations * C, H) and the radix of each table's id in
        a combination, or a list of per-table Q when the combinations are too many."""
        names = self.positional_names
        if not names:
            return None, None
        W1 = p["W1"]
        per_table = []
        for name in names:  # Q_k[row, s] = W1_s' E_k[row]: the whole table, one product a slot
            table = p[name]
            Qk = np.empty((len(table), C, H), dtype)
            for s in range(C):
                Qk[:, s] = table @ W1[:, columns[name][s]].T
            per_table.append(Qk)
        sizes = [len(Qk) for Qk in per_table]
        if math.prod(sizes) > _MAX_COMBINATIONS:
            return [Qk.reshape(-1, H) for Qk in per_table], None
        radix = [math.prod(sizes[k + 1 :]) for k in range(len(sizes))]
        combos = np.arange(math.prod(sizes))
        Q = per_table[0][combos // radix[0] % sizes[0]]
        for k in range(1, len(names)):  # summed table by table, in the network's order
            Q += per_table[k][combos // radix[k] % sizes[k]]
        return [Q.reshape(-1, H)], radix

    # ------------------------------------------------------------------ projections
    def _rows(self, table, needed: np.ndarray) -> np.ndarray:
        """Rows of P holding the projections of the codes ``needed`` (distinct), computed where missing."""
        if self._generation != table.generation:  # the table started afresh: its codes mean other tokens
            self._row_of = np.full(0, -1, np.int64)
            self._code_of_row[:] = -1
            self._last_used[:] = -1
            self._generation = table.generation
        if len(self._row_of) < len(table):
            grown = np.full(max(len(table), 2 * len(self._row_of)), -1, np.int64)
            grown[: len(self._row_of)] = self._row_of
            self._row_of = grown
        self._clock += 1
        rows = self._row_of[needed]  # needed in order of first appearance: the order they are projected in
        missing = needed[rows < 0]
        free = int(np.count_nonzero(self._code_of_row < 0))
        if len(missing) > free and len(self._code_of_row) < self.capacity:
            self._grow(
                min(self.capacity, max(2 * len(self._code_of_row), len(self._code_of_row) - free + len(missing)))
            )
        if len(missing):
            # the rows no code of this pass needs, least recently used first (free ones at -1)
            self._last_used[rows[rows >= 0]] = self._clock
            idle = np.flatnonzero(self._last_used < self._clock)
            take = idle[np.argsort(self._last_used[idle], kind="stable")[: len(missing)]]
            old = self._code_of_row[take]
            self._row_of[old[old >= 0]] = -1
            self._code_of_row[take] = missing
            self._row_of[missing] = take
            self._project(table, missing, take)
            rows = self._row_of[needed]
        self._last_used[rows] = self._clock
        return rows

    def _grow(self, rows: int) -> None:
        """Room for ``rows`` tokens' projections (the ones held kept where they are)."""
        C = self.network.window
        P = np.empty((rows * C, self.P.shape[1]), self.P.dtype)
        P[: len(self.P)] = self.P
        self.P = P
        grown = len(self._code_of_row)
        self._code_of_row = np.concatenate((self._code_of_row, np.full(rows - grown, -1, np.int64)))
        self._last_used = np.concatenate((self._last_used, np.full(rows - grown, -1, np.int64)))

    def _project(self, table, codes: np.ndarray, rows: np.ndarray) -> None:
        """P[code, s] for every slot s into ``rows``: e(t) @ W_tokens, _TOKEN_BLOCK tokens at a time
        (and _PROJECT_TOKENS at a time through the character features, to bound the memory)."""
        for start in range(0, len(codes), _PROJECT_TOKENS):
            self._project_some(table, codes[start : start + _PROJECT_TOKENS], rows[start : start + _PROJECT_TOKENS])

    def _project_some(self, table, codes: np.ndarray, rows: np.ndarray) -> None:
        p, C, H = self.network.params, self.network.window, self.network.hidden
        n = len(codes)
        padded = -(-n // _TOKEN_BLOCK) * _TOKEN_BLOCK  # the last block filled with copies of the first code
        block_codes = np.concatenate((codes, np.repeat(codes[:1], padded - n)))
        pieces = []
        for k, name in enumerate(self.token_names):
            if name == "r":  # r once per token (chars.char_forward: fixed shapes too)
                R, _ = char_forward(p, table.spelled[block_codes], table.spelled_lengths[block_codes])
                pieces.append(R)
            else:
                pieces.append(p[name].take(table.ids[k][block_codes], axis=0))  # "r" is last: k is the lookup
        e = np.concatenate(pieces, axis=1) if len(pieces) > 1 else pieces[0]
        out = np.empty((_TOKEN_BLOCK, C * H), self.W_tokens.dtype)
        P = self.P.reshape(len(self._code_of_row), C * H)
        for start in range(0, padded, _TOKEN_BLOCK):
            np.matmul(e[start : start + _TOKEN_BLOCK], self.W_tokens, out=out)
            m = min(_TOKEN_BLOCK, n - start)
            P[rows[start : start + m]] = out[:m]

    # ------------------------------------------------------------------ scores
    def scores(self, tokens, threads: int = 1) -> np.ndarray:
        """z2 of every word of ``tokens`` (a TokenWindows), shape (n_words, K).

        Parameters
        ----------
        tokens : TokenWindows
            Codes of the sentences' words (their windows are made here) and their positional ids.
        threads : int
            Threads sharing the windows' blocks (the bits do not depend on them).
        """
        net = self.network
        C, n = net.window, len(tokens.codes)
        out = np.empty((n, net.n_outputs), net.dtype)
        if n == 0:
            return out
        windows = window_ids_flat(tokens.codes, tokens.lengths, C, PAD_START, PAD_END)
        positional = None
        if self.Q is not None:
            wins = [
                window_ids_flat(ids, tokens.lengths, C, vocab.start_id, vocab.end_id)
                for ids, vocab in zip(tokens.positional, tokens.positional_vocabs)
            ]
            if self.radix is not None:  # one combined table: the combination of the tables' rows
                combo = wins[0] * self.radix[0]
                for win, r in zip(wins[1:], self.radix[1:]):
                    combo += win * r
                wins = [combo]
            positional = [win * C + np.arange(C) for win in wins]  # row * C + s: Q[row, s]
        # a pass's windows read its words, C // 2 on either side and the padding: all in the cache at once
        step = min(_PASS_WINDOWS, self.capacity - C - 2)
        for start in range(0, n, step):
            stop = min(n, start + step)
            near = np.concatenate(([PAD_START, PAD_END], tokens.codes[max(0, start - C // 2) : stop + C // 2]))
            _, first = np.unique(near, return_index=True)
            self._rows(tokens.table, near[np.sort(first)])  # in order of appearance, whatever the codes
            index = self._row_of[windows[start:stop]] * C + np.arange(C)  # P[t, s] is row t * C + s
            pos = None if positional is None else [q[start:stop] for q in positional]
            self._second_layer(index, pos, out[start:stop], threads)
        return out

    def _second_layer(self, index, positional, out, threads: int) -> None:
        n = len(index)
        starts = list(range(0, n, _WINDOW_BLOCK))
        threads = max(1, min(int(threads), len(starts)))
        if threads == 1:
            self._blocks(index, positional, out, starts)
            return
        errors: list = []

        def work(mine):
            try:
                self._blocks(index, positional, out, mine)
            except BaseException as err:  # raised again by the calling thread
                errors.append(err)

        helpers = [threading.Thread(target=work, args=(starts[k::threads],), daemon=True) for k in range(1, threads)]
        for helper in helpers:
            helper.start()
        try:
            self._blocks(index, positional, out, starts[0::threads])
        finally:
            for helper in helpers:
                helper.join()
        if errors:
            raise errors[0]

    def _blocks(self, index, positional, out, starts) -> None:
        """z2 of the windows of blocks ``starts`` (each _WINDOW_BLOCK windows, the last padded)."""
        p, net = self.network.params, self.network
        B, C = _WINDOW_BLOCK, net.window
        dtype = net.dtype
        z1 = np.empty((B, net.hidden), dtype)
        term = np.empty_like(z1)
        z2 = np.empty((B, net.n_outputs), dtype)
        idx = np.empty((B, C), np.intp)
        pos_idx = [np.empty((B, C), np.intp) for _ in positional or ()]
        b1, W2T, b2 = p["b1"], p["W2"].T, p["b2"]
        activation = ACTIVATIONS[net.activation]
        for start in starts:
            stop = min(start + B, len(index))
            m = stop - start
            idx[:m] = index[start:stop]
            idx[m:] = idx[0]  # padding rows: any valid window
            for q, mine in zip(positional or (), pos_idx):
                mine[:m] = q[start:stop]
                mine[m:] = mine[0]
            np.copyto(z1, b1)
            for s in range(C):  # z1 = b1 + sum_s (P[t_s, s] + Q[k_s, s])
                np.take(self.P, idx[:, s], axis=0, out=term, mode="clip")
                np.add(z1, term, out=z1)
                for Q, mine in zip(self.Q or (), pos_idx):
                    np.take(Q, mine[:, s], axis=0, out=term, mode="clip")
                    np.add(z1, term, out=z1)
            activation(z1, z1)  # a1 = f(z1)
            np.matmul(z1, W2T, out=z2)  # z2 = W2 a1 + b2
            np.add(z2, b2, out=z2)
            out[start:stop] = z2[:m]
