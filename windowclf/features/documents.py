"""A word's forms across its document: what the document features and the document vote compare.

Krishnan & Manning (2006), Ratinov & Roth (2009): a document tells what a headline in capitals or a
sentence's first word hides. :func:`document_case_keys` is the ``doccase`` feature;
:func:`vote_key` is how the document vote and the gazetteer compare words.
"""

from __future__ import annotations

from windowclf.features.tokens import CAPS_KEYS, caps_key

__all__ = ["DOCUMENT_KEYS", "document_case_keys", "vote_key"]

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
