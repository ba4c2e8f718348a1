"""Words as their characters: what the character features read (see :mod:`windowclf.nn.chars`).

A word is spelled by at most :data:`MAX_CHARS` characters (a longer one keeps its first and last
MAX_CHARS // 2); characters rarer than :data:`CHAR_MIN_COUNT` in training share one unknown row;
each word is padded with :data:`EDGE` symbols, and the sentence-edge padding words ``<s>`` and
``</s>`` are spelled with one symbol each.
"""

from __future__ import annotations

import itertools

import numpy as np

from windowclf.features.vocab import Vocabulary

__all__ = ["CHAR_MIN_COUNT", "EDGE", "MAX_CHARS", "SpellingIds", "Spellings", "build_char_vocab", "spelling"]

EDGE = "<w>"  # the symbol around each word (the convolution's padding)
MAX_CHARS = 30
CHAR_MIN_COUNT = 2


def spelling(token: str) -> str:
    """The characters of ``token`` the features see (at most MAX_CHARS).

    >>> spelling("Oslo"), len(spelling("x" * 40 + "ville"))
    ('Oslo', 30)
    """
    if len(token) <= MAX_CHARS:
        return token
    return token[: MAX_CHARS // 2] + token[len(token) - (MAX_CHARS - MAX_CHARS // 2) :]


def build_char_vocab(sentences) -> Vocabulary:
    """The characters of the training tokens seen at least CHAR_MIN_COUNT times, plus the edge,
    unknown and sentence-edge symbols."""
    chars = Vocabulary.build(
        ([c for token in tokens for c in spelling(token)] for tokens in sentences),
        min_count=CHAR_MIN_COUNT,
        lowercase=False,
        digits=False,
        extra=(EDGE,),
    )
    return chars


class Spellings:
    """Distinct words as character ids: ``ids`` (n_words, MAX_CHARS + 2h'), each word's characters
    after h' edge symbols and edge symbols after them, ``lengths`` (n_words,). The last two words are
    the sentence-edge padding words."""

    def __init__(self, words, vocab: Vocabulary, half: int):
        spelled = [spelling(w) for w in words]
        n = len(spelled)
        self.half = half
        self.lengths = np.array([max(len(s), 1) for s in spelled] + [1, 1], dtype=np.int64)
        self.ids = np.full((n + 2, MAX_CHARS + 2 * half), vocab.key_to_index[EDGE], dtype=np.int64)
        sizes = np.array([len(s) for s in spelled], dtype=np.int64)
        flat = vocab.ids(list(itertools.chain.from_iterable(spelled)))
        rows = np.repeat(np.arange(n), sizes)
        cols = half + np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        self.ids[rows, cols] = flat
        self.ids[np.flatnonzero(sizes == 0), half] = vocab.unk_id  # an empty token: one unknown character
        self.ids[n, half], self.ids[n + 1, half] = vocab.start_id, vocab.end_id
        self.start_id, self.end_id = n, n + 1

    def __len__(self) -> int:
        return len(self.lengths)


class SpellingIds:
    """The word (a row of ``spellings``) of every window slot: ``ids`` of shape (n_windows, C).

    Sliced and indexed like the other tables' id matrices (``inputs[k][start:stop]``), the
    spellings going along."""

    __slots__ = ("ids", "spellings")

    def __init__(self, ids: np.ndarray, spellings: Spellings):
        self.ids, self.spellings = ids, spellings

    def __getitem__(self, key) -> SpellingIds:
        return SpellingIds(self.ids[key], self.spellings)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def shape(self) -> tuple:
        return self.ids.shape
