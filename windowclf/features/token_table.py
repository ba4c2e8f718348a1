"""The distinct tokens a tagger has met, numbered once, with what each per-token table holds for them.

Most of what a window's slot holds depends on its token alone: the word's row of L, its
capitalization, shape and affix keys, its characters. Text repeats its words, so a
:class:`TokenTable` looks each distinct token up once (and keeps it, from call to call, while a
tagging session lasts: :mod:`windowclf.inference.scoring`), and a batch of sentences becomes one
code per word (:class:`TokenWindows`). Tagging's per-token projections
(:mod:`windowclf.nn.projections`) are computed once per code; the features that read the word's
place (its document, the gazetteer) are kept apart, one id per word.

Codes 0 and 1 are the sentence-edge padding words ``<s>`` and ``</s>``; a table that grows past
:data:`MAX_TOKENS` tokens starts afresh at the next call (``generation`` counts the fresh starts),
so its memory is bounded whatever the text.

>>> from windowclf.features.vocab import Vocabulary
>>> table = TokenTable([(None, Vocabulary(["oslo", "is"]))])
>>> table.codes(["Oslo", "is", "oslo", "Oslo"]).tolist(), table.ids[0][: len(table)].tolist()
([2, 3, 4, 2], [3, 4, 0, 1, 0])
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from windowclf.features.documents import vote_key
from windowclf.features.spellings import EDGE, MAX_CHARS, spelling
from windowclf.features.tokens import CAPS_KEYS, caps_key

__all__ = ["MAX_TOKENS", "PAD_END", "PAD_START", "TokenTable", "TokenWindows"]

PAD_START = 0  # the code of the padding word before a sentence (<s>)
PAD_END = 1  # after it (</s>)
MAX_TOKENS = 1 << 17
"""Distinct tokens a table holds before it starts afresh (about 30 MB with characters)."""

_CAPS_INDEX = {key: i for i, key in enumerate(CAPS_KEYS)}


class _Interned:
    """Strings numbered in order of first appearance."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.strings: list[str] = []

    def ids(self, strings) -> np.ndarray:
        index = self.index
        for s in strings:
            if s not in index:
                index[s] = len(index)
                self.strings.append(s)
        return np.fromiter(map(index.__getitem__, strings), dtype=np.int64, count=len(strings))


# Columns computed on demand for every token: the caps class (an index into CAPS_KEYS), the
# lowercased form and the form the document vote and the gazetteer compare (each numbered).
_COLUMNS = {
    "caps": lambda tokens, _: np.fromiter((_CAPS_INDEX[caps_key(t)] for t in tokens), np.int64, count=len(tokens)),
    "lower": lambda tokens, interned: interned.ids([t.lower() for t in tokens]),
    "vote": lambda tokens, interned: interned.ids([vote_key(t) for t in tokens]),
}


class TokenTable:
    """Distinct tokens, numbered in order of first appearance after the two padding codes.

    Parameters
    ----------
    lookups : list of (key, Vocabulary)
        The per-token lookup tables, in the network's order: ``key(token)`` is the string the
        vocabulary looks up (None: the token itself).
    chars : (Vocabulary, int), optional
        The character vocabulary and h' (edge symbols on each side) of character features.

    Attributes
    ----------
    ids : list of ndarray of shape (capacity,)
        Row of each code in each lookup table (``ids[k][:len(table)]``; codes 0 and 1 hold the
        tables' ``<s>`` and ``</s>`` rows).
    spelled : ndarray of shape (capacity, MAX_CHARS + 2h') or None
        Each code's characters as :class:`~windowclf.features.spellings.Spellings` writes them.
    spelled_lengths : ndarray of shape (capacity,) or None
    generation : int
        How many times the table started afresh: a code means the same token only within one.
    """

    def __init__(self, lookups, chars=None):
        self.lookups = list(lookups)
        self.chars = chars
        self.generation = 0
        self._reset()

    def _reset(self) -> None:
        self.index: dict[str, int] = {}
        self.tokens: list = [None, None]  # the padding codes have no text
        self._size = 2
        self._capacity = capacity = 1024
        self.ids = [np.empty(capacity, np.int64) for _ in self.lookups]
        for ids, (_, vocab) in zip(self.ids, self.lookups):
            ids[:2] = vocab.start_id, vocab.end_id
        self.spelled = self.spelled_lengths = None
        if self.chars is not None:
            vocab, half = self.chars
            self.spelled = np.empty((capacity, MAX_CHARS + 2 * half), np.int32)
            self.spelled_lengths = np.empty(capacity, np.int64)
            self.spelled[:2] = vocab.key_to_index[EDGE]
            self.spelled[0, half], self.spelled[1, half] = vocab.start_id, vocab.end_id
            self.spelled_lengths[:2] = 1
        self._columns: dict[str, np.ndarray] = {}
        self._interned: dict[str, _Interned] = {}
        self._computed: dict = {}  # the callers' columns: name -> function of a list of tokens

    def __len__(self) -> int:
        return self._size

    def start_call(self) -> None:
        """Start afresh if the table has grown past MAX_TOKENS (between calls: codes handed out
        during a call stay valid until it ends)."""
        if self._size > MAX_TOKENS:
            self.generation += 1
            self._reset()

    def codes(self, flat) -> np.ndarray:
        """The code of each token of ``flat`` (a list of str), shape (len(flat),), new tokens added."""
        index = self.index
        new = [t for t in dict.fromkeys(flat) if t not in index]
        if new:
            self._add(new)
        return np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat))

    def _add(self, new: list) -> None:
        start, stop = self._size, self._size + len(new)
        self._grow(stop)
        for code, token in enumerate(new, start):
            self.index[token] = code
        self.tokens.extend(new)
        for ids, (key, vocab) in zip(self.ids, self.lookups):
            ids[start:stop] = vocab.ids(new if key is None else [key(t) for t in new])
        if self.chars is not None:
            self._spell(new, start, stop)
        for name, column in self._columns.items():
            column[start:stop] = self._compute(name, new)
        self._size = stop

    def _grow(self, size: int) -> None:
        if size <= self._capacity:
            return
        self._capacity = capacity = max(2 * self._capacity, size)
        self.ids = [_resized(ids, capacity) for ids in self.ids]
        self._columns = {name: _resized(c, capacity) for name, c in self._columns.items()}
        if self.spelled is not None and self.spelled_lengths is not None:
            self.spelled = _resized(self.spelled, capacity)
            self.spelled_lengths = _resized(self.spelled_lengths, capacity)

    def _spell(self, new: list, start: int, stop: int) -> None:
        """Each new token's characters, as :class:`~windowclf.features.spellings.Spellings` spells them."""
        assert self.chars is not None and self.spelled is not None and self.spelled_lengths is not None
        vocab, half = self.chars
        spelled = [spelling(t) for t in new]
        sizes = np.fromiter(map(len, spelled), dtype=np.int64, count=len(spelled))
        block = self.spelled[start:stop]
        block[...] = vocab.key_to_index[EDGE]
        flat = vocab.ids(list(itertools.chain.from_iterable(spelled)))
        rows = np.repeat(np.arange(len(new)), sizes)
        cols = half + np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        block[rows, cols] = flat
        block[np.flatnonzero(sizes == 0), half] = vocab.unk_id  # an empty token: one unknown character
        self.spelled_lengths[start:stop] = np.maximum(sizes, 1)

    def column(self, name: str, compute=None) -> np.ndarray:
        """Per-code values of ``name``, computed once per token: ``caps`` (an index into CAPS_KEYS),
        ``lower`` (the lowercased form's number), ``vote`` (the number of the form :func:`vote_key`
        gives), or any other name with ``compute``, a function of a list of tokens returning one
        value each; codes 0 and 1 hold -1 (0 for ``compute``'s columns)."""
        if name not in self._columns:
            if compute is not None:
                self._computed[name] = compute
            elif name not in _COLUMNS:
                raise KeyError(f"no column {name!r}")
            else:
                self._interned[name] = _Interned()
            made = self._compute(name, self.tokens[2 : self._size])
            column = np.empty(self._capacity, made.dtype)
            column[:2] = 0 if compute is not None else -1
            column[2 : self._size] = made
            self._columns[name] = column
        return self._columns[name]

    def _compute(self, name: str, tokens: list) -> np.ndarray:
        if name in self._computed:
            return np.asarray(self._computed[name](tokens))
        return _COLUMNS[name](tokens, self._interned.get(name))

    def forms(self, name: str) -> list:
        """The strings numbered by column ``name`` (``lower`` or ``vote``), in number order (the
        table's own list: it grows with the table)."""
        self.column(name)
        return self._interned[name].strings


def _resized(array: np.ndarray, capacity: int) -> np.ndarray:
    out = np.empty((capacity,) + array.shape[1:], array.dtype)
    out[: len(array)] = array
    return out


class TokenWindows(NamedTuple):
    """Sentences as codes of a :class:`TokenTable`: what the per-token projections read.

    ``codes`` (n_words,) the words' codes back to back, ``lengths`` (n_sentences,), ``positional``
    one (n_words,) id array per table that reads a word's place (document features, gazetteer),
    in the network's order, with those tables' vocabularies (for their padding rows).
    """

    table: TokenTable
    codes: np.ndarray
    lengths: np.ndarray
    positional: tuple
    positional_vocabs: tuple

    def __len__(self) -> int:
        return len(self.codes)
