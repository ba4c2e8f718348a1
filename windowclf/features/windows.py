"""Sentences to windows: an integer matrix of shape (n_windows, C), padded at sentence edges."""

from __future__ import annotations

import itertools

import numpy as np

from windowclf._util.limits import require_memory
from windowclf.errors import ConfigError
from windowclf.features.spellings import SpellingIds, Spellings

__all__ = ["check_window", "encode_windows", "window_ids", "window_ids_flat"]


def check_window(window) -> int:
    """Return ``window`` as an int after checking it is odd and >= 1 (C = 2h + 1)."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1 or window % 2 == 0:
        raise ConfigError(f"window must be an odd integer >= 1 (C = 2h + 1), got {window!r}")
    return int(window)


def window_ids(sentences, window: int, start_id: int, end_id: int) -> np.ndarray:
    """The window of every word of every sentence.

    Parameters
    ----------
    sentences : list of ndarray of shape (n_words_i,)
        Word ids, one array per sentence.
    window : int
        C, odd.
    start_id, end_id : int
        Ids of the ``<s>`` and ``</s>`` padding tokens (h = C // 2 of them at each edge).

    Returns
    -------
    ndarray of shape (n_windows, C), dtype int32 (int64 for ids past 2**31 - 1)
        Row t holds ``w[t-h] ... w[t+h]`` with padding only beyond the sentence's edges.

    >>> window_ids([np.array([7, 8]), np.array([9])], 3, 0, 1).tolist()
    [[0, 7, 8], [7, 8, 1], [0, 9, 1]]
    """
    lengths = np.array([len(s) for s in sentences], dtype=np.int64)
    flat = (
        np.concatenate([np.asarray(s, dtype=np.int64) for s in sentences]) if sentences else np.zeros(0, dtype=np.int64)
    )
    return window_ids_flat(flat, lengths, window, start_id, end_id)


def window_ids_flat(word_ids: np.ndarray, lengths, window: int, start_id: int, end_id: int) -> np.ndarray:
    """:func:`window_ids` for sentences given back to back.

    Parameters
    ----------
    word_ids : ndarray of shape (n_words,)
        The ids of every sentence's words, one sentence after another.
    lengths : sequence of int
        The length of each sentence; they sum to n_words.

    >>> window_ids_flat(np.array([7, 8, 9]), [2, 1], 3, 0, 1).tolist()
    [[0, 7, 8], [7, 8, 1], [0, 9, 1]]
    """
    C = check_window(window)
    h = C // 2
    lengths = np.asarray(lengths, dtype=np.int64)
    n_windows = int(lengths.sum())
    largest = max(start_id, end_id, int(np.max(word_ids)) if len(word_ids) else 0)
    dtype = np.int32 if largest < 2**31 else np.int64  # half the memory of int64 for every real vocabulary
    if n_windows == 0:
        return np.zeros((0, C), dtype=dtype)
    require_memory(
        (8 + np.dtype(dtype).itemsize) * n_windows * C, f"the windows of {n_windows:,} words (window {C})"
    )  # index and result
    # One flat array: [<s>]*h + sentence + [</s>]*h for each sentence, back to back.
    padded_lengths = lengths + 2 * h
    flat = np.empty(int(padded_lengths.sum()), dtype=dtype)
    starts = np.concatenate(([0], np.cumsum(padded_lengths)[:-1]))
    is_left = np.zeros(flat.shape[0], dtype=bool)
    is_token = np.zeros(flat.shape[0], dtype=bool)
    for offset in range(h):
        is_left[starts + offset] = True
    token_pos = np.repeat(starts + h, lengths) + _ranges(lengths)
    is_token[token_pos] = True
    flat[is_left] = start_id
    flat[~is_left & ~is_token] = end_id
    flat[token_pos] = word_ids
    return flat[token_pos[:, None] + np.arange(-h, h + 1)[None, :]]


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """[0..l0-1, 0..l1-1, ...] for the given lengths."""
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.arange(total) - np.repeat(ends - lengths, lengths)


def encode_windows(sentences, lookups, window: int) -> tuple:
    """Window id matrices of ``sentences`` (lists of tokens): one (n_windows, C) per lookup.

    ``lookups`` holds a (key, vocabulary) pair per lookup table: ``key(token)`` is the string the
    vocabulary looks up (None: the token itself), or a list of every token's key in order (a
    feature of the token's place, not of its text). Each distinct token is looked up once per table,
    since text repeats its words a lot. A (None, character vocabulary, h') triple gives the
    character features' input instead: a :class:`~windowclf.features.spellings.SpellingIds` over the distinct
    tokens, spelled with h' edge symbols around each.
    """
    # codes number the distinct tokens in order of appearance (dict.fromkeys keeps it)
    flat = list(itertools.chain.from_iterable(sentences))
    codes = {token: code for code, token in enumerate(dict.fromkeys(flat))}
    token_codes = np.fromiter(map(codes.__getitem__, flat), dtype=np.int64, count=len(flat))
    distinct = list(codes)
    lengths = [len(tokens) for tokens in sentences]
    out: list = []  # id matrices, and SpellingIds for the characters
    for key, vocab, *half in lookups:
        if half:
            spellings = Spellings(distinct, vocab, half[0])
            out.append(
                SpellingIds(
                    window_ids_flat(token_codes, lengths, window, spellings.start_id, spellings.end_id), spellings
                )
            )
            continue
        if isinstance(key, list):  # every token's key given (a document feature): looked up as it is
            ids = vocab.ids(key)
        else:
            ids = vocab.ids(distinct if key is None else [key(token) for token in distinct])[token_codes]
        out.append(window_ids_flat(ids, lengths, window, vocab.start_id, vocab.end_id))
    return tuple(out)
