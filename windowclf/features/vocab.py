"""Vocabulary: CS224d word normalization, one UNK token, sentence-boundary padding tokens.

The data model is gensim's: ``index_to_key`` (list) and ``key_to_index`` (dict).
"""

from __future__ import annotations

import codecs
import io
import re
from collections import Counter
from collections.abc import Collection

import numpy as np

from windowclf._util.arguments import (
    check_bool,
    check_int,
    check_path,
    check_str,
    check_strings,
    iter_string_lists,
    kind_of,
)
from windowclf._util.hashing import open_input
from windowclf.errors import ConfigError, InputError

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
        self.index_to_key = check_strings("index_to_key", index_to_key, what="a list of words (str)")
        lowercase, digits = check_bool("lowercase", lowercase), check_bool("digits", digits)
        unk, start, end = (check_str(n, v, nonempty=True) for n, v in (("unk", unk), ("start", start), ("end", end)))
        self.key_to_index: dict[str, int] = dict(zip(self.index_to_key, range(len(self.index_to_key))))
        if len(self.key_to_index) < len(self.index_to_key):  # a word twice: its first row is its id
            self.key_to_index = {}
            for i, key in enumerate(self.index_to_key):
                self.key_to_index.setdefault(key, i)
        for special in (unk, start, end):
            if special not in self.key_to_index:
                self.key_to_index[special] = len(self.index_to_key)
                self.index_to_key.append(special)
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
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {kind_of(word)}")
        key = word.lower() if self.lowercase else word
        return canonicalize_digits(key) if self.digits else key

    def lookup(self, word: str) -> int:
        """Row id of ``word``: its (lowercased) form, else its digit form, else UNK."""
        try:  # the type is checked where a word is not found at once: the common case costs nothing more
            key = word.lower() if self.lowercase else word
            index = self.key_to_index.get(key)
        except (AttributeError, TypeError):
            index = None
        if index is None:
            if not isinstance(word, str):
                raise TypeError(f"word must be a str, got {kind_of(word)}")
            if self.digits:
                index = self.key_to_index.get(canonicalize_digits(key))
        return self.unk_id if index is None else index

    def ids(self, words) -> np.ndarray:
        """Row ids of a sequence of words, shape (len(words),), dtype int64."""
        if isinstance(words, (str, bytes)) or not isinstance(words, Collection):
            raise TypeError(f"words must be a sequence of str (a list), got {kind_of(words)}")
        lookup = self.lookup
        try:
            return np.fromiter((lookup(w) for w in words), dtype=np.int64, count=len(words))
        except TypeError:
            items = list(words)
            bad = next(i for i, w in enumerate(items) if not isinstance(w, str))
            raise TypeError(f"words[{bad}] must be a str, got {kind_of(items[bad])}") from None

    @classmethod
    def build(cls, sentences, *, min_count=1, max_size=None, lowercase=True, digits=True, extra=()):
        """Count normalized words over ``sentences`` (lists of tokens) and keep the frequent ones.

        Words seen fewer than ``min_count`` times map to UNK; the ``max_size`` most frequent are
        kept (ties broken by first appearance, so the result is deterministic). ``extra`` words
        (e.g. a pretrained file's) are added after them.
        """
        probe = cls([], lowercase=lowercase, digits=digits)
        min_count = check_int("min_count", min_count, low=1)
        max_size = check_int("max_size", max_size, low=1, optional=True)
        extra = check_strings("extra", extra, what="a list of words (str)")
        counts: Counter[str] = Counter()
        for tokens in iter_string_lists("sentences", sentences, what="a list of tokens (str)"):
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
        path = check_path("path", path)
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError, ValueError):
            raise ConfigError(f"unknown encoding {encoding!r}") from None
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
        if not isinstance(d, dict):
            raise TypeError(f"d must be the dict of to_dict(), got {kind_of(d)}")
        missing = sorted({"index_to_key", "lowercase", "digits", "unk", "start", "end"} - set(d))
        if missing:
            raise ConfigError(f"d must be the dict of to_dict(); it lacks {', '.join(missing)}")
        return cls(
            d["index_to_key"],
            lowercase=d["lowercase"],
            digits=d["digits"],
            unk=d["unk"],
            start=d["start"],
            end=d["end"],
        )
