"""What the library accepts as sentences and tags, checked where it comes in.

A sentence is a sequence of tokens; a token is a ``str`` (the tokenizer's :class:`Token` is taken as
its text). A string where a list of sentences or a list of tokens belongs is the usual slip
(``predict("Anna lives in Oslo")`` would otherwise tag characters), so it is a TypeError that says
what to pass instead.
"""

from __future__ import annotations

from windowclf.errors import InputError
from windowclf.text.tokenize import Token

__all__ = ["document_ids", "label_names", "tagged_pairs", "token_lists"]

_HINT = (
    "pass a list of sentences, each a list of tokens, e.g. [['Anna', 'lives', 'in', 'Oslo']]; "
    "for raw text use windowclf.split_sentences(text)"
)


def token_lists(sentences, what: str = "sentences") -> list:
    """``sentences`` as lists of token strings; TypeError for anything else.

    >>> token_lists([("Anna", "lives"), []])
    [['Anna', 'lives'], []]
    >>> token_lists("Anna lives")
    Traceback (most recent call last):
    ...
    TypeError: sentences: got a str; pass a list of sentences, each a list of tokens, ...
    """
    if isinstance(sentences, (str, bytes)):
        raise TypeError(f"{what}: got a {type(sentences).__name__}; {_HINT}")
    try:
        items = list(sentences)
    except TypeError:
        raise TypeError(f"{what}: got a {type(sentences).__name__}; {_HINT}") from None
    out = []
    for i, sentence in enumerate(items):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(
                f"{what}[{i}] is a {type(sentence).__name__} ({sentence[:40]!r}), not a list of tokens; {_HINT}"
            )
        try:
            tokens = sentence if type(sentence) is list else list(sentence)
        except TypeError:
            raise TypeError(f"{what}[{i}] is a {type(sentence).__name__}, not a list of tokens; {_HINT}") from None
        if set(map(type, tokens)) - {str}:
            tokens = [_token(token, what, i, j) for j, token in enumerate(tokens)]
        out.append(tokens)
    return out


def _token(token, what, i, j) -> str:
    if isinstance(token, Token):
        return token.text
    if isinstance(token, str):
        return str(token)
    hint = "; integer tags need labels=[...], their names in index order" if what.endswith("tags") else ""
    if _is_integer(token) and hint:
        raise TypeError(f"{what}[{i}][{j}] is a label index ({token!r}){hint}")
    raise TypeError(f"{what}[{i}][{j}] is a {type(token).__name__} ({token!r:.40}), not a str token{hint}")


def _is_integer(value) -> bool:
    return not isinstance(value, bool) and hasattr(value, "__index__")


def label_names(tags, labels, what: str = "tags") -> list:
    """Integer tags (Python or numpy integers) as the names ``labels`` gives them; str tags as they are.

    >>> label_names([[0, 2, "O"]], ["O", "B-PER", "I-PER"])
    [['O', 'I-PER', 'O']]
    """
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"labels: got a {type(labels).__name__}; pass the label names as a list, e.g. ['O', 'B-PER']")
    names = list(labels)
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"labels[{k}] is a {type(name).__name__} ({name!r:.40}), not a str")
    if isinstance(tags, (str, bytes)):
        raise TypeError(f"{what}: got a {type(tags).__name__}; pass one list of tags per sentence")
    out = []
    for i, sentence in enumerate(tags):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"{what}[{i}] is a {type(sentence).__name__}, not a list of tags")
        row = []
        for j, tag in enumerate(sentence):
            if _is_integer(tag):
                index = int(tag.__index__())
                if not 0 <= index < len(names):
                    raise InputError(f"{what}[{i}][{j}] is label index {index}, outside the {len(names)} labels")
                tag = names[index]
            row.append(tag)
        out.append(row)
    return out


def tagged_pairs(sentences, tags, what: str = "sentences", labels=None):
    """Sentences and their tags as lists, of equal lengths, no sentence empty.

    ``labels`` names integer tags (tag ``i`` is ``labels[i]``: a dataset hub's label indices).
    Raises TypeError for the wrong shapes and InputError naming the sentence for the rest.

    >>> tagged_pairs([["Anna", "sings"]], [[1, 0]], labels=["O", "B-PER"])
    ([['Anna', 'sings']], [['B-PER', 'O']])
    """
    sentences = token_lists(sentences, what)
    if labels is not None:
        tags = label_names(tags, labels, "tags")
    tags = token_lists(tags, "tags")
    if len(sentences) != len(tags):
        raise InputError(f"{len(sentences)} sentences but {len(tags)} tag sequences")
    for i, (s, t) in enumerate(zip(sentences, tags)):
        if not s:
            raise InputError(f"sentence {i} is empty; every sentence needs at least one token")
        if len(s) != len(t):
            raise InputError(f"sentence {i} has {len(s)} tokens but {len(t)} tags")
    return sentences, tags


def document_ids(documents, n_sentences: int, what: str = "documents") -> list:
    """The document of each of ``n_sentences`` sentences, as a list (None: all one document).

    Any hashable values name documents; sentences with equal values are one document.

    >>> document_ids(None, 3), document_ids(("a", "a", "b"), 3)
    ([0, 0, 0], ['a', 'a', 'b'])
    """
    if documents is None:
        return [0] * n_sentences
    if isinstance(documents, (str, bytes)):
        raise TypeError(f"{what}: got a {type(documents).__name__}; pass one document name or number per sentence")
    out = list(documents)
    if len(out) != n_sentences:
        raise InputError(f"{len(out)} {what} for {n_sentences} sentences; give one per sentence")
    for i, doc in enumerate(out):
        try:
            hash(doc)
        except TypeError:
            raise TypeError(
                f"{what}[{i}] is a {type(doc).__name__}; documents are named by numbers or strings"
            ) from None
    return out
