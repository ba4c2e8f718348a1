"""Vocabulary: CS224d word normalization, one UNK token, sentence-boundary padding tokens.

The data model is gensim's: ``index_to_key`` (list) and ``key_to_index`` (dict).
"""

from __future__ import annotations

import io
import re
from collections import Counter

import numpy as np

from windowclf._util.hashing import open_input
from windowclf.errors import InputError

__all__ = ["END", "START", "UNK", "Vocabulary", "canonicalize_digits", "normalize_word"]

UNK = "UUUNKKK"  # CS224d's unknown-word token (first line of its vocab.txt)
START = "<s>"
END = "</s>"

_DIGIT = re.compile(r"\d")


def canonicalize_digits(word: str) -> str:
    """Digits to ``DG`` in words without letters, as CS224d does; thousands commas dropped.

    >>> canonicalize_digits("1,000.5"), canonicalize_digits("1996"), canonicalize_digits("b52")
    ('DGDGDGDG.DG', 'DGDGDGDG', 'b52')
    """
    if any(c.isalpha() for c in word):
        return word
    word = _DIGIT.sub("DG", word)
    if word.startswith("DG"):
        word = word.replace(",", "")
    return word


def normalize_word(word: str) -> str:
    """CS224d's canonical form: lowercase, then digits to ``DG`` (see canonicalize_digits).

    >>> normalize_word("Paris"), normalize_word("12")
    ('paris', 'DGDG')
    """
    return canonicalize_digits(word.lower())


class Vocabulary:
    """Words to row ids, with an UNK token and the ``<s>``/``</s>`` padding tokens.

    Parameters
    ----------
    index_to_key : list of str
        The words, in row order. The special tokens are appended when missing.
    lowercase : bool, default True
        Look words up lowercased (CS224d); the original casing stays available to features.
    digits : bool, default True
        Fall back to the digit-normalized form (``1996`` -> ``DGDGDGDG``).
    unk, start, end : str
        The special tokens.
    """

    def __init__(self, index_to_key, *, lowercase=True, digits=True, unk=UNK, start=START, end=END):
        self.index_to_key = list(index_to_key)
        for special in (unk, start, end):
            if special not in self.index_to_key:
                self.index_to_key.append(special)
        self.key_to_index: dict[str, int] = {}
        for i, key in enumerate(self.index_to_key):
            self.key_to_index.setdefault(key, i)
        self.lowercase = bool(lowercase)
        self.digits = bool(digits)
        self.unk, self.start, self.end = unk, start, end
        self.unk_id = self.key_to_index[unk]
        self.start_id = self.key_to_index[start]
        self.end_id = self.key_to_index[end]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        return self.lookup(word) != self.unk_id or word == self.unk

    def normalize(self, word: str) -> str:
        """The key a word is counted under when a vocabulary is built."""
        key = word.lower() if self.lowercase else word
        return canonicalize_digits(key) if self.digits else key

    def lookup(self, word: str) -> int:
        """Row id of ``word``: its (lowercased) form, else its digit form, else UNK."""
        key = word.lower() if self.lowercase else word
        index = self.key_to_index.get(key)
        if index is None and self.digits:
            index = self.key_to_index.get(canonicalize_digits(key))
        return self.unk_id if index is None else index

    def ids(self, words) -> np.ndarray:
        """Row ids of a sequence of words, shape (len(words),), dtype int64."""
        lookup = self.lookup
        return np.fromiter((lookup(w) for w in words), dtype=np.int64, count=len(words))

    @classmethod
    def build(cls, sentences, *, min_count=1, max_size=None, lowercase=True, digits=True, extra=()):
        """Count normalized words over ``sentences`` (lists of tokens) and keep the frequent ones.

        Words seen fewer than ``min_count`` times map to UNK; the ``max_size`` most frequent are
        kept (ties broken by first appearance, so the result is deterministic). ``extra`` words
        (e.g. a pretrained file's) are added after them.
        """
        probe = cls([], lowercase=lowercase, digits=digits)
        counts: Counter[str] = Counter()
        for tokens in sentences:
            counts.update(probe.normalize(w) for w in tokens)
        words = [w for w, c in counts.most_common() if c >= min_count]
        if max_size is not None:
            words = words[:max_size]
        seen = set(words)
        for w in extra:
            if w not in seen:
                seen.add(w)
                words.append(w)
        return cls(words, lowercase=lowercase, digits=digits)

    @classmethod
    def from_file(cls, path, *, encoding="utf-8", **kwargs):
        """Load a one-word-a-line file (CS224d's ``vocab.txt``); line i is row i - 1."""
        words = []
        try:
            with io.TextIOWrapper(open_input(path), encoding=encoding, newline=None) as f:
                for number, line in enumerate(f, 1):
                    word = line.rstrip("\r\n").lstrip("\ufeff") if number == 1 else line.rstrip("\r\n")
                    word = word.strip()
                    if not word or any(c.isspace() for c in word):
                        raise InputError(f"expected one word per line, found {line.rstrip()!r}", path, number)
                    words.append(word)
        except UnicodeDecodeError as err:
            raise InputError(f"not valid {encoding} text ({err.reason})", path) from None
        if not words:
            raise InputError("empty vocabulary file; expected one word per line", path)
        return cls(words, **kwargs)

    def to_dict(self) -> dict:
        """JSON-ready settings and words (for model files)."""
        return {
            "index_to_key": self.index_to_key,
            "lowercase": self.lowercase,
            "digits": self.digits,
            "unk": self.unk,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["index_to_key"],
            lowercase=d["lowercase"],
            digits=d["digits"],
            unk=d["unk"],
            start=d["start"],
            end=d["end"],
        )
