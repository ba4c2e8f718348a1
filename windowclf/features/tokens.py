"""Per-token features: a token (original casing) to a string key, looked up in its own small table.

Collobert et al.'s capitalization feature, affix features (``suffix1`` ... ``suffix5``,
``prefix1`` ... ``prefix5``: the last / first k letters, lowercased) and the word's shape.
"""

from __future__ import annotations

__all__ = ["CAPS_KEYS", "FEATURE_EXTRACTORS", "caps_key", "shape_key"]

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
    out: list[str] = []
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
