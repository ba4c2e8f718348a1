"""A word's forms across its document: what the document features and the document vote compare.

Krishnan & Manning (2006), Ratinov & Roth (2009): a document tells what a headline in capitals or a
sentence's first word hides. :func:`document_case_keys` is the ``doccase`` feature;
:func:`vote_key` is how the document vote and the gazetteer compare words.
"""

from __future__ import annotations

import numpy as np

from windowclf.features.tokens import CAPS_KEYS, caps_key

__all__ = [
    "DOCUMENT_KEYS",
    "document_blocks",
    "document_case_indices",
    "document_case_keys",
    "document_chunks",
    "vote_key",
]

DOCUMENT_KEYS = ("none",) + CAPS_KEYS


def document_case_keys(sentences, documents) -> list:
    """How each token's word is written elsewhere in its document, after a sentence's first word.

    Krishnan & Manning (2006), Ratinov & Roth (2009): a document tells what a headline in capitals
    or a sentence's first word hides. For every token: the :func:`caps_key` class most of the
    other occurrences of its word (compared lowercased) have where they are not a sentence's
    first word, in the same document (ties in the order of CAPS_KEYS); ``"none"`` when there is
    no such occurrence. ``documents[i]`` names sentence i's document.

    >>> document_case_keys([["JAPAN", "WIN"], ["Japan", "beat", "Syria"], ["Syria", "lost", "to", "Japan"]], [0, 0, 0])
    [['Title', 'none'], ['Title', 'none', 'none'], ['Title', 'none', 'none', 'none']]
    """
    # (document, word) -> caps class -> occurrences after a sentence's first word
    seen: dict[tuple, dict[str, int]] = {}
    for tokens, doc in zip(sentences, documents):
        for token in tokens[1:]:
            counts = seen.setdefault((doc, token.lower()), {})
            key = caps_key(token)
            counts[key] = counts.get(key, 0) + 1
    out = []
    for tokens, doc in zip(sentences, documents):
        keys = []
        for i, token in enumerate(tokens):
            counts = seen.get((doc, token.lower()), {})
            own = caps_key(token) if i else None  # this occurrence is not "elsewhere"
            best, most = "none", 0
            for key in CAPS_KEYS:
                n = counts.get(key, 0) - (key == own)
                if n > most:
                    best, most = key, n
            keys.append(best)
        out.append(keys)
    return out


def document_case_indices(lower: np.ndarray, caps: np.ndarray, first: np.ndarray, documents: np.ndarray) -> np.ndarray:
    """:func:`document_case_keys` of words given as numbers, as indices into DOCUMENT_KEYS.

    Parameters
    ----------
    lower : ndarray of shape (n_words,), int
        The number of each word's lowercased form (equal forms, equal numbers).
    caps : ndarray of shape (n_words,), int
        Each word's :func:`caps_key` as an index into CAPS_KEYS.
    first : ndarray of shape (n_words,), bool
        Whether the word is its sentence's first.
    documents : ndarray of shape (n_words,), int
        Each word's document number.

    Returns
    -------
    ndarray of shape (n_words,), int
        Index into DOCUMENT_KEYS of each word's key: the same keys as :func:`document_case_keys`.

    The words of :func:`document_case_keys`' example (JAPAN WIN / Japan beat Syria / Syria lost to Japan):

    >>> lower, caps = np.array([0, 1, 0, 2, 3, 3, 4, 5, 0]), np.array([2, 2, 1, 0, 1, 1, 0, 0, 1])
    >>> first = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0], bool)
    >>> [DOCUMENT_KEYS[k] for k in document_case_indices(lower, caps, first, np.zeros(9, int))]
    ['Title', 'none', 'Title', 'none', 'none', 'Title', 'none', 'none', 'none']
    """
    n_caps = len(CAPS_KEYS)
    lower, caps, first, documents = (np.asarray(a) for a in (lower, caps, first, documents))
    if not len(lower):
        return np.zeros(0, dtype=np.int64)
    # one group per (document, lowercased form)
    _, group = np.unique(documents.astype(np.int64) * (int(lower.max()) + 1) + lower, return_inverse=True)
    group = group.ravel()
    later = ~first.astype(bool)
    counts = np.bincount(group[later] * n_caps + caps[later], minlength=(group.max() + 1) * n_caps)
    mine = counts.reshape(-1, n_caps)[group]  # (n_words, n_caps): every occurrence after a sentence's first word
    mine[np.flatnonzero(later), caps[later]] -= 1  # this occurrence is not "elsewhere"
    best = mine.argmax(axis=1)  # ties: the first in CAPS_KEYS
    return np.where(mine[np.arange(len(best)), best] > 0, best + 1, 0)


def document_blocks(documents, size: int | None) -> list:
    """Each sentence's document as a model reads it: its marked document cut into consecutive
    blocks of at most ``size`` sentences.

    The one rule for every reader of documents (``doccase``, the document vote, the gazetteer's
    leave-own-document-out): data without document markers (a CoNLL file without ``-DOCSTART-``
    lines, JSON lines, raw text, ``documents=None`` in the library) is one marked document, so it
    is read as blocks of ``size`` consecutive sentences, and a marked document longer than ``size``
    sentences as blocks of it. A block is the neighbourhood a word is compared with; it is as long
    wherever the data comes from, so training and tagging read the same neighbourhoods, and it
    bounds what a tagger must hold to read a document. ``size`` None: documents as marked, never
    cut (model files from before the rule, which read unmarked data as one document).

    Parameters
    ----------
    documents : sequence of hashable, length n
        Each sentence's marked document; sentences with equal values are one document, and a
        document's sentences are counted in the order given.
    size : int or None
        Sentences a block holds at most (>= 1), or None.

    Returns
    -------
    list of int, length n
        Block numbers from 0, in order of first appearance: equal for the sentences of one block.

    Examples
    --------
    >>> document_blocks([0, 0, 0, 0, 0], 2), document_blocks(["a", "a", "b", "a"], 2), document_blocks([7, 7, 8], None)
    ([0, 0, 1, 1, 2], [0, 0, 1, 2], [0, 0, 1])
    """
    seen: dict = {}  # marked document -> its sentences so far
    numbers: dict = {}  # (marked document, block) -> block number
    out = []
    for doc in documents:
        k = seen.get(doc, 0)
        seen[doc] = k + 1
        key = (doc, 0 if size is None else k // size)
        out.append(numbers.setdefault(key, len(numbers)))
    return out


def document_chunks(items, mark, size: int | None, least: int):
    """``items`` in consecutive lists that end where a block of :func:`document_blocks` ends, each
    of at least ``least`` items but the last: lists a model can read one at a time and read the
    documents it would read in all of them at once (each marked document a contiguous run).

    Parameters
    ----------
    items : iterable
        Sentences (or records of them), in order.
    mark : callable
        An item's marked document.
    size : int or None
        :func:`document_blocks`'s ``size``; None: one list of every item (documents are not cut,
        so none is known to end before the last item).
    least : int
        Items a list holds at least (>= 1), but the last.

    Yields
    ------
    list

    Examples
    --------
    >>> list(document_chunks(range(7), lambda i: 0, 2, 3)), list(document_chunks("aabbb", str, 5, 1))
    ([[0, 1, 2, 3], [4, 5, 6]], [['a', 'a'], ['b', 'b', 'b']])
    """
    chunk: list = []
    previous, k = object(), 0
    for item in items:
        doc = mark(item)
        k = k + 1 if doc == previous else 0
        previous = doc
        if size is not None and len(chunk) >= least and k % size == 0:  # a new block starts here
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def vote_key(word: str) -> str:
    """The form a word votes under in the document vote: as written, except that a word in capitals
    (a headline's) joins its capitalized form; a lowercase word never joins a capitalized one.

    Parameters
    ----------
    word : str
        A token as written.

    Returns
    -------
    str
        The key its document's occurrences are grouped by.

    >>> vote_key("JAPAN"), vote_key("Japan"), vote_key("US"), vote_key("us"), vote_key("A")
    ('Japan', 'Japan', 'Us', 'us', 'A')
    """
    return word.capitalize() if len(word) > 1 and word.isupper() else word
