"""Pretrained word vectors: the WordVectors model, vocabulary look-up, and loading and saving files.

Files are word2vec (text and binary), GloVe or CS224d in, word2vec out; the parsers are in
:mod:`windowclf.formats.vector_files`.  The data model is gensim's: ``index_to_key`` (row -> word),
``key_to_index`` (word -> row) and ``vectors`` (one row a word).  Files are streamed line by
line; given a ``vocabulary``, only the wanted words' numbers are parsed and kept.

Looking a word up (:func:`match_vocabulary`, :meth:`WordVectors.coverage`, and the
``vocabulary`` filter of :func:`load_vectors`) tries the word itself first, then each
``normalize`` form in order (default: the lowercased word).  An exact match always
wins: ``"Apple"`` takes the vector of ``"Apple"`` when the file has both ``"Apple"``
and ``"apple"``.

>>> wv = WordVectors(["the", "paris"], np.array([[0.5, 1.0], [2.0, -1.0]]))
>>> found, rows = match_vocabulary(wv, ["<unk>", "Paris", "the"])
>>> found.tolist(), rows.tolist()
([1, 2], [[2.0, -1.0], [0.5, 1.0]])
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from windowclf._util.arguments import (
    check_bool,
    check_callable,
    check_float_dtype,
    check_int,
    check_path,
    check_strings,
    kind_of,
)
from windowclf._util.atomic import atomic_writer
from windowclf.errors import ConfigError, InputError
from windowclf.formats.lines import text_codec
from windowclf.formats.vector_files import (
    WORD_BREAKS,
    detect_format,
    open_binary,
    read_binary,
    read_cs224d,
    read_text_vectors,
)

__all__ = [
    "FORMATS",
    "Coverage",
    "WordVectors",
    "load_cs224d",
    "load_vectors",
    "match_rows",
    "match_vocabulary",
    "save_word2vec_format",
]

logger = logging.getLogger(__name__)

FORMATS = ("auto", "word2vec", "glove", "word2vec-binary")


class Coverage(NamedTuple):
    """How many words (types) and occurrences (tokens) found a pretrained vector."""

    types: int
    types_found: int
    tokens: int
    tokens_found: int

    @property
    def type_ratio(self) -> float:
        return self.types_found / self.types if self.types else 0.0

    @property
    def token_ratio(self) -> float:
        return self.tokens_found / self.tokens if self.tokens else 0.0


def cosine_top(vectors: np.ndarray, query: np.ndarray, k: int, exclude: int | None = None) -> list:
    """(row, cosine similarity) of the ``k`` rows of ``vectors`` closest to ``query``, best first
    (ties in row order; zero rows have similarity 0; row ``exclude`` left out)."""
    v = vectors.astype(np.float64, copy=False)
    norms = np.linalg.norm(v, axis=1)
    norms[norms == 0] = 1.0
    q = np.asarray(query, dtype=np.float64)
    cos = (v @ q) / (norms * (np.linalg.norm(q) or 1.0))
    if exclude is not None:
        cos[exclude] = -np.inf
    top = np.argsort(-cos, kind="stable")[:k]
    return [(int(j), float(cos[j])) for j in top if np.isfinite(cos[j])]


@dataclass(repr=False)
class WordVectors:
    """Words and their vectors; row i of ``vectors`` belongs to ``index_to_key[i]``.

    Attributes
    ----------
    index_to_key : list of str, length n_words
    vectors : ndarray of shape (n_words, dim)
    key_to_index : dict of str to int
        Built from ``index_to_key`` when not given (or empty).
    """

    index_to_key: list[str]
    vectors: np.ndarray
    key_to_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.index_to_key = check_strings("index_to_key", self.index_to_key, what="a list of words (str)")
        if not isinstance(self.vectors, np.ndarray) or self.vectors.ndim != 2 or self.vectors.dtype.kind not in "fiu":
            raise InputError("vectors must be a 2-d array of numbers, shape (n_words, dim)")
        if not isinstance(self.key_to_index, dict):
            raise TypeError(f"key_to_index must be a dict (or left out), got {kind_of(self.key_to_index)}")
        if self.vectors.shape[0] != len(self.index_to_key):
            raise InputError(
                f"index_to_key holds {len(self.index_to_key)} words but vectors {self.vectors.shape[0]} rows"
            )
        if not self.key_to_index:
            self.key_to_index = {}
            for i, key in enumerate(self.index_to_key):
                if self.key_to_index.setdefault(key, i) != i:
                    raise InputError(f"word {key!r} appears twice (rows {self.key_to_index[key]} and {i})")
        elif any(self.key_to_index.get(key) != i for i, key in enumerate(self.index_to_key)) or len(
            self.key_to_index
        ) != len(self.index_to_key):
            raise InputError("key_to_index does not invert index_to_key")

    @property
    def dim(self) -> int:
        """Number of values per word."""
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        return word in self.key_to_index

    def get(self, word: str, default=None):
        """The vector of ``word`` (exact match), shape (dim,), or ``default``."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {kind_of(word)}")
        i = self.key_to_index.get(word)
        return default if i is None else self.vectors[i]

    def __getitem__(self, word: str) -> np.ndarray:
        """``kv["paris"]``: the vector of ``word``, shape (dim,) (a view); KeyError if absent."""
        i = self.key_to_index.get(word)
        if i is None:
            raise KeyError(f"{word!r} is not one of the {len(self)} words")
        return self.vectors[i]

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, dim {self.dim}, {self.vectors.dtype})"

    def most_similar(self, word_or_vector, topn: int = 10) -> list:
        """The ``topn`` words closest by cosine similarity, as (word, similarity) pairs, best first.

        ``word_or_vector`` is a word (left out of its own list) or a vector of shape (dim,).

        >>> kv = WordVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
        >>> [w for w, _ in kv.most_similar("a", topn=2)], kv.most_similar(np.array([0.0, 2.0]), topn=1)[0][0]
        (['b', 'c'], 'c')
        """
        topn = check_int("topn", topn, low=1)
        if isinstance(word_or_vector, str):
            i = self.key_to_index.get(word_or_vector)
            if i is None:
                raise KeyError(f"{word_or_vector!r} is not one of the {len(self)} words")
            query, exclude = self.vectors[i], i
        else:
            if not isinstance(word_or_vector, np.ndarray) or word_or_vector.dtype.kind not in "fiu":
                raise TypeError(f"word_or_vector must be a word or a vector (ndarray), got {kind_of(word_or_vector)}")
            query, exclude = word_or_vector.astype(np.float64), None
            if query.shape != (self.dim,) or not np.all(np.isfinite(query)):
                raise ValueError(f"word_or_vector must be a finite vector of shape ({self.dim},), got {query.shape}")
        return [(self.index_to_key[j], c) for j, c in cosine_top(self.vectors, query, topn, exclude)]

    def save_word2vec_format(self, path, *, binary: bool = False) -> None:
        """Write these vectors as word2vec text (or ``binary``); :func:`save_word2vec_format`."""
        save_word2vec_format(path, self, binary=binary)

    def coverage(self, words: Iterable[str] | Mapping[str, int], *, normalize=None) -> Coverage:
        """Count the words that find a vector (exactly, else through ``normalize``).

        ``words`` is a collection of word types, or a mapping word -> count (such as
        ``collections.Counter`` of a corpus's tokens) to count tokens as well; without
        counts every word counts once.

        >>> wv = WordVectors(["a"], np.zeros((1, 3)))
        >>> wv.coverage({"a": 5, "A": 2, "b": 3})
        Coverage(types=3, types_found=2, tokens=10, tokens_found=7)
        """
        normalizers = _normalizers(normalize)
        if isinstance(words, Mapping):
            counts = words
            check_strings("words", words, mapping_keys=True)
            for word, count in words.items():
                check_int(f"words[{word!r}]", count, low=0)
        else:
            counts = dict.fromkeys(check_strings("words", words, what="a collection of words (str)"), 1)
        types = types_found = tokens = tokens_found = 0
        for word, count in counts.items():
            types += 1
            tokens += count
            if _lookup(self.key_to_index, word, normalizers) is not None:
                types_found += 1
                tokens_found += count
        return Coverage(types, types_found, tokens, tokens_found)


def match_vocabulary(wv: WordVectors, words: Iterable[str], *, normalize=None) -> tuple[np.ndarray, np.ndarray]:
    """Find pretrained vectors for a vocabulary, to initialise rows of an embedding matrix.

    Parameters
    ----------
    wv : WordVectors
    words : iterable of str, length n_words
        The vocabulary in row order (e.g. ``Vocabulary.index_to_key``).
    normalize : callable, sequence of callables, or None
        Fallback forms tried in order after the exact word; None means ``str.lower``;
        ``()`` means exact matches only.

    Returns
    -------
    found : ndarray of int of shape (n_found,)
        Positions in ``words`` that found a vector.
    rows : ndarray of shape (n_found, dim)
        Their vectors, so that ``L[found] = rows`` initialises those rows of L.
    """
    found, ids = match_rows(wv, words, normalize=normalize)
    return found, wv.vectors[ids]


def match_rows(wv: WordVectors, words: Iterable[str], *, normalize=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`match_vocabulary` as indices: ``found`` and the row of ``wv.vectors`` of each (no copy
    of the vectors, for a caller that copies them a block at a time)."""
    normalizers = _normalizers(normalize)
    found, ids = [], []
    for position, word in enumerate(words):
        i = _lookup(wv.key_to_index, word, normalizers)
        if i is not None:
            found.append(position)
            ids.append(i)
    return np.asarray(found, dtype=np.intp), np.asarray(ids, dtype=np.intp)


def load_vectors(
    path, *, format="auto", vocabulary=None, dtype=np.float32, encoding="utf-8", normalize=None
) -> WordVectors:
    """Load word vectors, streaming the file and keeping only wanted words.

    Parameters
    ----------
    path : str or os.PathLike
        Plain or gzip-compressed (recognised by its magic bytes, whatever its name).
    format : {"auto", "word2vec", "glove", "word2vec-binary"}
        "word2vec": text with a ``count dim`` header; "glove": the same without
        header; "word2vec-binary": header, then each word, a space and dim
        little-endian float32.  "auto" reads the first lines to tell them apart (a
        GloVe file whose first line is two integers must be given as "glove").
    vocabulary : collection of str, optional
        Keep only file words equal to a vocabulary word or to one of its
        ``normalize`` forms; the numbers of other lines are not parsed (nor checked).
    dtype : numpy floating dtype
        Of the returned matrix.  Text is parsed as float64 first, which for float32
        is exact for every decimal that is the shortest form of a float32.
    encoding : str
        Of the words.
    normalize : callable, sequence of callables, or None
        Fallback forms of vocabulary words (see :func:`match_vocabulary`).

    Returns
    -------
    WordVectors
        ``vectors`` of shape (n_kept, dim), in file order.

    Raises
    ------
    InputError
        Wrong number of values, non-numeric or non-finite values, a header count the
        lines disagree with, undecodable words, an empty file; with path and line.
    """
    path = check_path("path", path)
    if not isinstance(format, str) or format not in FORMATS:
        raise ConfigError(f"unknown vectors format {format!r}; expected one of {', '.join(FORMATS)}")
    dtype = _float_dtype(dtype)
    vocabulary = check_strings("vocabulary", vocabulary, optional=True, mapping_keys=True, what="a collection of words")
    normalizers = _normalizers(normalize)
    keep = None
    if vocabulary is not None:
        keep = set(vocabulary)
        keep.update(form(word) for word in list(keep) for form in normalizers)
    text_codec(encoding)
    with open_binary(path) as stream:
        if format == "auto":  # the same stream, its first lines replayed: a pipe is read once
            format, stream = detect_format(stream, path, encoding)
        with stream:
            if format == "word2vec-binary":
                wv = WordVectors(*read_binary(stream, path, keep, dtype, encoding))
            else:
                wv = WordVectors(*read_text_vectors(stream, path, format == "word2vec", keep, dtype, encoding))
    logger.info("loaded %d vectors of dimension %d from %s (%s)", len(wv), wv.dim, path, format)
    return wv


def load_cs224d(vocab_path, vectors_path, *, dtype=np.float32, encoding="utf-8") -> WordVectors:
    """Load CS224d's pair: ``vocab.txt`` (one word a line) and ``wordVectors.txt``.

    Line i of the vectors file (space-separated numbers, no word) is the vector of
    line i of the vocabulary.  A repeated word keeps its first row (with a warning).

    Returns
    -------
    WordVectors
        ``vectors`` of shape (n_words, dim).
    """
    vocab_path, vectors_path = check_path("vocab_path", vocab_path), check_path("vectors_path", vectors_path)
    text_codec(encoding)
    return WordVectors(*read_cs224d(vocab_path, vectors_path, _float_dtype(dtype), encoding))


def save_word2vec_format(path, wv_or_keys_and_vectors, *, binary=False, encoding="utf-8") -> None:
    """Write vectors in word2vec format (header ``count dim``), atomically.

    Text numbers are the shortest decimals that read back as the same value, so
    :func:`load_vectors` with the same dtype returns the array bit for bit.  Binary
    stores float32 (the format's type); float64 values that float32 cannot hold
    exactly are rounded, with a warning.  A path ending in ``.gz`` is gzip-compressed.

    Parameters
    ----------
    path : str or os.PathLike
    wv_or_keys_and_vectors : WordVectors or (sequence of str, ndarray of shape (n_words, dim))
    binary : bool
    """
    path = check_path("path", path)
    binary = check_bool("binary", binary)
    text_codec(encoding)
    if isinstance(wv_or_keys_and_vectors, WordVectors):
        wv = wv_or_keys_and_vectors
    elif isinstance(wv_or_keys_and_vectors, (tuple, list)) and len(wv_or_keys_and_vectors) == 2:
        try:
            wv = WordVectors(*wv_or_keys_and_vectors)
        except (TypeError, ValueError) as err:
            raise type(err)(f"wv_or_keys_and_vectors: {err}") from None
    else:
        raise TypeError(
            "wv_or_keys_and_vectors must be WordVectors or a (words, vectors) pair, "
            f"got {kind_of(wv_or_keys_and_vectors)}"
        )
    vectors = wv.vectors
    _float_dtype(vectors.dtype)
    for key in wv.index_to_key:  # exactly what the readers cannot give back (NBSP, U+2028 they can)
        if not key or WORD_BREAKS.search(key):
            raise InputError(f"cannot save word {key!r}: words must be non-empty, without spaces, TABs or line breaks")
    bad = np.argwhere(~np.isfinite(vectors))
    if len(bad):
        raise InputError(f"cannot save non-finite value in the row of {wv.index_to_key[bad[0][0]]!r}")
    if binary:
        rows = vectors.astype("<f4")
        if not np.array_equal(rows, vectors):
            logger.warning("word2vec binary stores float32: values were rounded from %s", vectors.dtype)
    path = os.fspath(path)
    with atomic_writer(path, "wb") as raw:
        out = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") if path.endswith(".gz") else raw
        out.write(f"{len(wv)} {wv.dim}\n".encode("ascii"))
        for i, key in enumerate(wv.index_to_key):
            if binary:
                out.write(key.encode(encoding) + b" " + rows[i].tobytes() + b"\n")
            else:
                out.write(f"{key} {_format_row(vectors[i])}\n".encode(encoding))
        if out is not raw:
            out.close()


def _format_row(row: np.ndarray) -> str:
    # Python's repr of a float, and numpy's str of a smaller float, are the shortest round-trip decimals.
    if row.dtype == np.float64:
        return " ".join(map(repr, row.tolist()))
    return " ".join(map(str, row))


def _normalizers(normalize) -> tuple[Callable[[str], str], ...]:
    if normalize is None:
        return (str.lower,)
    if callable(normalize):
        return (normalize,)
    if isinstance(normalize, (str, bytes, dict)) or not isinstance(normalize, Iterable):
        raise TypeError(f"normalize must be None, a function or a sequence of functions, got {kind_of(normalize)}")
    forms = tuple(normalize)
    for i, form in enumerate(forms):
        check_callable(f"normalize[{i}]", form)
    return forms


def _lookup(key_to_index: dict[str, int], word: str, normalizers) -> int | None:
    i = key_to_index.get(word)
    for form in normalizers:
        if i is not None:
            break
        i = key_to_index.get(form(word))
    return i


def _float_dtype(dtype) -> np.dtype:
    return check_float_dtype("dtype", dtype)
