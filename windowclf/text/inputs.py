"""What the library accepts as sentences and tags, checked where it comes in.

A sentence is a sequence of tokens; a token is a ``str`` (the tokenizer's :class:`Token` is taken as
its text). A string where a list of sentences or a list of tokens belongs is the usual slip
(``predict("Anna lives in Oslo")`` would otherwise tag characters), so it is a TypeError that says
what to pass instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from windowclf.errors import InputError
from windowclf.text.tokenize import Token

__all__ = [
    "DATASET_TAG_COLUMNS",
    "MAX_DOCUMENT_CHARS",
    "bounded_documents",
    "dataset_columns",
    "document_ids",
    "is_dataset",
    "label_names",
    "tagged_pairs",
    "token_lists",
]

MAX_DOCUMENT_CHARS = 1 << 17
"""The most characters of tokens (131,072: about 20,000 words) one document of a file holds for a
model that reads documents: a longer one, as raw text without marks is, goes to the model in
pieces (:func:`bounded_documents`), so that what tagging holds at once is bounded whatever the
file. ``windowclf predict`` and :meth:`~windowclf.inference.prediction.Tagging.tag_text` read
documents through it."""

_HINT = (
    "pass a list of sentences, each a list of tokens, e.g. [['Anna', 'lives', 'in', 'Oslo']]; "
    "for raw text use windowclf.split_sentences(text)"
)


class _Checked(list):
    """Sentences :func:`token_lists` has checked: given back to it (an internal call passing on what
    a public one checked), they are taken as they are, not checked twice."""


def token_lists(sentences, what: str = "sentences") -> list:
    """``sentences`` as lists of token strings; TypeError for anything else.

    >>> token_lists([("Anna", "lives"), []])
    [['Anna', 'lives'], []]
    >>> token_lists("Anna lives")
    Traceback (most recent call last):
    ...
    TypeError: sentences: got a str; pass a list of sentences, each a list of tokens, ...
    """
    if type(sentences) is _Checked:
        return sentences
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
    return _Checked(out)


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
    if isinstance(labels, (str, bytes, dict)) or not isinstance(labels, Iterable):
        raise TypeError(f"labels: got a {type(labels).__name__}; pass the label names as a list, e.g. ['O', 'B-PER']")
    names = list(labels)
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"labels[{k}] is a {type(name).__name__} ({name!r:.40}), not a str")
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise TypeError(f"{what}: got a {type(tags).__name__}; pass one list of tags per sentence")
    out = []
    for i, sentence in enumerate(tags):
        if isinstance(sentence, (str, bytes)) or not isinstance(sentence, Iterable):
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
    ``tags`` None: ``sentences`` is a dataset whose columns hold both (:func:`dataset_columns`;
    its own label names win over ``labels``). Raises TypeError for the wrong shapes and
    InputError naming the sentence for the rest.

    >>> tagged_pairs([["Anna", "sings"]], [[1, 0]], labels=["O", "B-PER"])
    ([['Anna', 'sings']], [['B-PER', 'O']])
    """
    if tags is None:
        sentences, tags, names = dataset_columns(sentences, what)
        labels = names if names is not None else labels
    sentences = token_lists(sentences, what)
    if labels is not None:
        tags = label_names(tags, labels, "tags")
    tags = token_lists(tags, "tags")
    if len(sentences) != len(tags):
        raise InputError(f"{what} holds {len(sentences)} sentences but tags holds {len(tags)} tag sequences")
    for i, (s, t) in enumerate(zip(sentences, tags)):
        if not s:
            raise InputError(f"sentence {i} is empty; every sentence needs at least one token")
        if len(s) != len(t):
            raise InputError(f"sentence {i} has {len(s)} tokens but {len(t)} tags")
    return sentences, tags


def bounded_documents(sentences, documents, limit: int | None = None, pieces: dict | None = None) -> list:
    """Each sentence's document, as (document, piece): a document's sentences after its first
    ``limit`` characters of tokens start its next piece, and so on (a sentence is never cut).

    Parameters
    ----------
    sentences : sequence of list of str
        The sentences, n_i tokens each.
    documents : sequence of hashable
        Each sentence's document (those of a document need not be consecutive).
    limit : int, optional
        Characters of tokens a piece holds before the next sentence starts another (default
        :data:`MAX_DOCUMENT_CHARS`).
    pieces : dict, optional
        Where each document's piece stands: pass the same dict with the next sentences of a
        stream to go on from there.

    Returns
    -------
    list of (hashable, int)

    >>> bounded_documents([["ab", "c"], ["de"], ["f"], ["g"]], [0, 0, 0, 1], limit=4)
    [(0, 0), (0, 0), (0, 1), (1, 0)]
    """
    limit = MAX_DOCUMENT_CHARS if limit is None else limit
    pieces = {} if pieces is None else pieces  # document -> (its current piece, characters in it)
    out = []
    for tokens, doc in zip(sentences, documents):
        piece, size = pieces.get(doc, (0, 0))
        if size >= limit:
            piece, size = piece + 1, 0
        pieces[doc] = (piece, size + sum(map(len, tokens)))
        out.append((doc, piece))
    return out


def document_ids(documents, n_sentences: int, what: str = "documents") -> list:
    """The document of each of ``n_sentences`` sentences, as a list (None: all one document).

    Any hashable values name documents; sentences with equal values are one document.

    >>> document_ids(None, 3), document_ids(("a", "a", "b"), 3)
    ([0, 0, 0], ['a', 'a', 'b'])
    """
    if documents is None:
        return [0] * n_sentences
    if isinstance(documents, (str, bytes, dict)) or not isinstance(documents, Iterable):
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


DATASET_TAG_COLUMNS = ("ner_tags", "tags")
"""The columns of a dataset that hold its tags, in the order they are looked for (JSON lines' keys)."""


def is_dataset(data) -> bool:
    """Whether ``data`` is a table of named columns, as a Hugging Face ``datasets.Dataset`` is
    (``column_names`` and ``features``), rather than a list of sentences."""
    return hasattr(data, "column_names") and hasattr(data, "features") and not isinstance(data, (str, bytes))


def dataset_columns(data, what: str = "dataset") -> tuple:
    """The tokens, tags and label names of a dataset with ``tokens`` and ``ner_tags`` columns.

    Parameters
    ----------
    data : datasets.Dataset or alike
        Any object with ``column_names``, ``features`` (column name -> feature) and columns by
        name (``data["tokens"]``): a Hugging Face ``Dataset`` (one split, not a ``DatasetDict``).
        Its tags are ``ner_tags`` (or ``tags``): strings, or label indices whose names are the
        feature's ``ClassLabel`` names (``List(ClassLabel(names=[...]))``).
    what : str
        What to call ``data`` in errors.

    Returns
    -------
    sentences : list of list of str, length n_rows
    tags : list of list, length n_rows
        As stored (label indices stay indices: :func:`tagged_pairs` names them).
    labels : list of str or None
        The ``ClassLabel`` names of the tags, None where the feature has none.

    Raises TypeError when ``data`` is not such a table, naming the columns it has.
    """
    columns = getattr(data, "column_names", None)
    if isinstance(columns, dict):  # a DatasetDict: its splits' columns
        splits = ", ".join(map(str, columns))
        raise TypeError(f"{what}: a dict of splits ({splits}); pass one split, e.g. dataset[{next(iter(columns))!r}]")
    if not is_dataset(data) or not isinstance(columns, (list, tuple)):
        raise TypeError(
            f"{what}: got a {type(data).__name__} and no tags; pass the tags too, or a dataset with tokens "
            "and ner_tags columns"
        )
    tag_column = next((c for c in DATASET_TAG_COLUMNS if c in columns), None)
    if "tokens" not in columns or tag_column is None:
        raise TypeError(
            f"{what}: columns {', '.join(map(str, columns))}; expected tokens and ner_tags (or tags) columns"
        )
    feature = data.features[tag_column]
    inner = getattr(feature, "feature", None)  # List(...) and Sequence(...) hold their item's feature
    if inner is None and isinstance(feature, (list, tuple)) and len(feature) == 1:
        inner = feature[0]
    names = getattr(inner, "names", None)
    return list(data["tokens"]), list(data[tag_column]), None if names is None else list(names)
