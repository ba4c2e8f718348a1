"""Per-token features beside the word itself, each with its own small embedding table.

A feature maps a token (original casing) to a string key; a :class:`~windowclf.vocab.Vocabulary`
turns keys into rows of the feature's table, and windows of feature ids are built exactly like
windows of word ids. The word itself is the feature ``"word"`` (table ``L``). The others are
Collobert et al.'s capitalization feature, affix features (``suffix1`` ... ``suffix5``,
``prefix1`` ... ``prefix5``: the last / first k letters, lowercased) and the word's shape;
``doccase`` reads the whole document (below), and ``gazetteer`` the training data's entity strings
(:mod:`windowclf.gazetteer`).
"""

from __future__ import annotations

from .errors import ConfigError
from .vocab import Vocabulary

__all__ = ["FEATURE_EXTRACTORS", "DOCUMENT_FEATURES", "GAZETTEER", "CAPS_KEYS", "caps_key", "shape_key",
           "document_case_keys", "table_name", "parse_feature_list", "build_feature_vocab"]

CAPS_KEYS = ("lower", "Title", "UPPER", "mIxed", "nocase")


def caps_key(token: str) -> str:
    """Collobert et al.'s capitalization class of a token.

    >>> [caps_key(t) for t in ["paris", "Paris", "EU", "iPhone", "1996"]]
    ['lower', 'Title', 'UPPER', 'mIxed', 'nocase']
    """
    if token.islower():
        return "lower"
    if token.isupper():
        return "UPPER"
    if not any(c.isalpha() for c in token):
        return "nocase"
    if token[0].isupper() and token[1:] == token[1:].lower():
        return "Title"
    return "mIxed"


def shape_key(token: str) -> str:
    """The word's shape: upper-case letters to X, lower-case to x, digits to d, other characters
    kept, runs of the same class collapsed to one (Collins-style "short shape").

    >>> [shape_key(t) for t in ["Paris", "EU", "1996-08-28", "U.S.", "McDonald's", "3.5%"]]
    ['Xx', 'X', 'd-d-d', 'X.X.', "XxXx'x", 'd.d%']
    """
    out = []
    for c in token:
        k = "X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c
        if not out or out[-1] != k:
            out.append(k)
    return "".join(out)


def _suffix(k):
    def extract(token: str) -> str:
        return token.lower()[-k:]
    return extract


def _prefix(k):
    def extract(token: str) -> str:
        return token.lower()[:k]
    return extract


# name -> token -> key. "word" is handled by the word vocabulary (table L).
FEATURE_EXTRACTORS = {
    "caps": caps_key,
    "shape": shape_key,
    **{f"suffix{k}": _suffix(k) for k in range(1, 6)},
    **{f"prefix{k}": _prefix(k) for k in range(1, 6)},
}


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
    seen = {}  # (document, word) -> caps class -> occurrences after a sentence's first word
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


# the training data's own entity strings (windowclf.gazetteer): keys from the model's gazetteer
GAZETTEER = "gazetteer"

# name -> (sentences, documents) -> keys of every token: features that read the whole document
DOCUMENT_FEATURES = {"doccase": document_case_keys}
DOCUMENT_KEYS = ("none",) + CAPS_KEYS


def table_name(feature: str) -> str:
    """The parameter name of a feature's table: ``L`` for words, ``E_<feature>`` otherwise."""
    return "L" if feature == "word" else f"E_{feature}"


def parse_feature_list(features) -> list:
    """Validate a feature list (a comma string or a sequence); keep order, drop duplicates."""
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    out = []
    for f in features:
        if f not in FEATURE_EXTRACTORS and f not in DOCUMENT_FEATURES and f != GAZETTEER:
            raise ConfigError(f"unknown feature {f!r}; expected any of "
                              f"{', '.join([*FEATURE_EXTRACTORS, *DOCUMENT_FEATURES, GAZETTEER])}")
        if f not in out:
            out.append(f)
    return out


def build_feature_vocab(feature: str, sentences, min_count: int = 2) -> Vocabulary:
    """The key vocabulary of a feature, from training sentences (lists of original tokens)."""
    if feature in DOCUMENT_FEATURES:
        return Vocabulary(list(DOCUMENT_KEYS), lowercase=False, digits=False)
    extract = FEATURE_EXTRACTORS[feature]
    if feature == "caps":
        return Vocabulary(list(CAPS_KEYS), lowercase=False, digits=False)
    return Vocabulary.build(([extract(t) for t in tokens] for tokens in sentences),
                            min_count=min_count, lowercase=False, digits=False)
