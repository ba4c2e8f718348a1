"""Tag schemes (IO, IOB1, IOB2, IOBES) as data: spelling entities in a scheme, converting, checking tags.

Entities are read from tags by :func:`windowclf.tags.entities.entity_spans` (conlleval's rules).
Writing is table-driven: each scheme says how the single token of a length-1 entity, and the
first, middle and last tokens of a longer one, are spelled (``_LAYOUTS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise, product

from windowclf.errors import ConfigError, InputError
from windowclf.tags.entities import BARE_PREFIXES, OUTSIDE, entity_spans, split_tag

__all__ = [
    "SCHEMES",
    "SchemeDetector",
    "check_tag",
    "convert",
    "detect_scheme",
    "entities_to_tags",
    "learned_scheme",
    "one_vs_rest",
    "output_scheme",
    "tag_set",
    "transition_constraints",
    "validate_tags",
]


# --- writing: each scheme's spelling as data --------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """How a scheme spells an entity: the prefix of each position ("" writes the bare type)."""

    single: str  # the token of a length-1 entity
    first: str
    middle: str
    last: str
    after_same: str | None  # first (or single) token of an entity right after one of its type
    also_read: tuple[str, ...]  # prefixes accepted on input beyond those written
    rule: str  # one line for error messages

    @property
    def written(self) -> tuple[str, ...]:
        """Prefixes this scheme writes, in the order tag_set lists them."""
        order = (self.first, self.middle, self.last, self.single, self.after_same)
        return tuple(dict.fromkeys(p for p in order if p is not None))

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.written + self.also_read))


_LAYOUTS = {
    # IO is CS224d's 5-class setting: bare types (I-TYPE where a bare one would misread),
    # and adjacent same-type entities merge.
    "IO": _Layout("", "", "", "", None, ("I",), "every entity token is TYPE"),
    "IOB1": _Layout(
        "I",
        "I",
        "I",
        "I",
        "B",
        (),
        "I-TYPE throughout; B-TYPE only where an entity directly follows one of the same type",
    ),
    "IOB2": _Layout("B", "B", "I", "I", None, (), "an entity is B-TYPE followed by I-TYPE"),
    "IOBES": _Layout("S", "B", "I", "E", None, (), "S-TYPE for one token, else B-TYPE, I-TYPE ..., E-TYPE"),
}

SCHEMES: tuple[str, ...] = tuple(_LAYOUTS)
"""The scheme names: ``("IO", "IOB1", "IOB2", "IOBES")``."""


def _layout(scheme: str) -> _Layout:
    try:
        return _LAYOUTS[scheme]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown tag scheme {scheme!r} (expected one of {', '.join(SCHEMES)})") from None


def _join(prefix: str, entity_type: str) -> str:
    if not prefix:
        # A bare type that would read back as something else (``SUB-TYPE``, ``B``) keeps its I-.
        return entity_type if split_tag(entity_type) == ("I", entity_type) else f"I-{entity_type}"
    return f"{prefix}-{entity_type}"


def entities_to_tags(entities: Iterable[tuple[str, int, int]], length: int, scheme: str) -> list[str]:
    """Spell entities as the tags of a sentence in ``scheme``.

    Parameters
    ----------
    entities : iterable of (type, start, end)
        Non-overlapping, ``end`` exclusive, as :func:`~windowclf.tags.entities.entity_spans`
        returns them.
    length : int
        Number of tokens in the sentence.
    scheme : {"IO", "IOB1", "IOB2", "IOBES"}

    Returns
    -------
    list of str, length ``length``

    Raises
    ------
    InputError
        An entity outside the sentence, empty, or overlapping another.
    ConfigError
        An unknown scheme.

    Notes
    -----
    IO has no way to mark where an entity ends, so two adjacent entities of the same type
    are written as one run and read back as one entity: that is the scheme's nature.

    Examples
    --------
    >>> ents = [('PER', 0, 2), ('PER', 2, 3), ('LOC', 4, 5)]
    >>> entities_to_tags(ents, 5, 'IOB1')
    ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC']
    >>> entities_to_tags(ents, 5, 'IOB2')
    ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC']
    >>> entities_to_tags(ents, 5, 'IOBES')
    ['B-PER', 'E-PER', 'S-PER', 'O', 'S-LOC']
    >>> entities_to_tags(ents, 5, 'IO')
    ['PER', 'PER', 'PER', 'O', 'LOC']
    """
    layout = _layout(scheme)
    tags = [OUTSIDE] * length
    previous_type, previous_end = None, -2
    for entity_type, start, stop in sorted(entities, key=lambda e: (e[1], e[2])):
        if not 0 <= start < stop <= length:
            raise InputError(f"entity {(entity_type, start, stop)!r} is not inside a sentence of {length} tokens")
        if start <= previous_end:
            raise InputError(f"entity {(entity_type, start, stop)!r} overlaps the entity before it")
        end = stop - 1  # the entity's last token
        follows_same = start == previous_end + 1 and entity_type == previous_type
        begin = layout.after_same if follows_same and layout.after_same is not None else None
        if start == end:
            tags[start] = _join(begin or layout.single, entity_type)
        else:
            tags[start] = _join(begin or layout.first, entity_type)
            for i in range(start + 1, end):
                tags[i] = _join(layout.middle, entity_type)
            tags[end] = _join(layout.last, entity_type)
        previous_type, previous_end = entity_type, end
    return tags


def convert(tags: Sequence[str], scheme: str) -> list[str]:
    """Rewrite one sentence's tags in ``scheme`` (entities read with :func:`~windowclf.tags.entities.entity_spans`).

    Examples
    --------
    >>> convert(['I-ORG', 'I-ORG', 'O', 'I-LOC', 'B-LOC'], 'IOB2')
    ['B-ORG', 'I-ORG', 'O', 'B-LOC', 'B-LOC']
    """
    return entities_to_tags(entity_spans(tags), len(tags), scheme)


# --- validation -----------------------------------------------------------------------


def _expected(prefixes: Iterable[str]) -> str:
    names = ["O"] + [_join(p, "TYPE") for p in prefixes]
    return ", ".join(names[:-1]) + " or " + names[-1]


_ANY_PREFIXES = ("", "B", "I", "E", "S")


def check_tag(tag: str, scheme: str | None = None) -> None:
    """Raise :class:`InputError` unless ``tag`` is a tag of ``scheme`` (of any scheme if None).

    A tag is ``O`` or ``PREFIX-TYPE`` with a non-empty type and a prefix the scheme uses;
    IO also takes bare ``TYPE``. ``scheme=None`` accepts ``O``, ``TYPE`` and B-, I-, E-, S-TYPE.

    Examples
    --------
    >>> check_tag('B-PER', 'IOB2')
    >>> check_tag('S-PER', 'IOB2')
    Traceback (most recent call last):
    ...
    windowclf.errors.InputError: <input>: tag 'S-PER' is not an IOB2 tag (expected O, B-TYPE or I-TYPE)
    """
    _check_tag(tag, scheme, None, None)


def _check_tag(tag: str, scheme: str | None, path, line: int | None) -> None:
    accepted: tuple[str, ...]
    if scheme is None:
        accepted, what = _ANY_PREFIXES, "a tag of any scheme"
    else:
        accepted = _layout(scheme).accepted
        what = f"an {scheme} tag" if scheme[0] in "AEIOU" else f"a {scheme} tag"
    prefix, hyphen, entity_type = tag.partition("-")
    if hyphen:
        ok = prefix in accepted and prefix != "" and entity_type != ""
    else:
        ok = tag == OUTSIDE or ("" in accepted and tag not in BARE_PREFIXES)
    if ok:
        return
    raise InputError(f"tag {tag!r} is not {what} (expected {_expected(accepted)})", path, line)


def validate_tags(
    tags: Sequence[str],
    scheme: str | None = None,
    path=None,
    lines: Sequence[int] | None = None,
    *,
    check_sequence: bool = True,
) -> None:
    """Raise :class:`InputError` at the first tag of a sentence that ``scheme`` does not allow.

    Each tag must pass :func:`check_tag`. With a scheme and ``check_sequence``, the sentence
    must also be spelled as the scheme spells its own entities (``convert(tags, scheme)``
    gives it back, reading bare IO tags as ``I-TYPE``): IOB2 refuses ``I-PER`` after ``O``,
    IOB1 refuses ``B-PER`` that does not follow a PER entity, IOBES refuses a ``B-`` with
    no ``E-``.

    Parameters
    ----------
    tags : sequence of str, length n_tokens
        One sentence.
    scheme : {"IO", "IOB1", "IOB2", "IOBES"} or None
    path : str or path-like, optional
        Named in the error.
    lines : sequence of int, length n_tokens, optional
        The 1-based line number of each token, named in the error.
    check_sequence : bool, default True

    Examples
    --------
    >>> validate_tags(['O', 'I-PER'], 'IOB2', path='dev.txt', lines=[7, 8])
    Traceback (most recent call last):
    ...
    windowclf.errors.InputError: dev.txt:8: tag 'I-PER' after 'O' is not valid IOB2 (expected 'B-PER': ...)
    """

    def line_of(i):
        return None if lines is None else lines[i]

    for i, tag in enumerate(tags):
        _check_tag(tag, scheme, path, line_of(i))
    if scheme is None or not check_sequence:
        return
    for i, (tag, expected) in enumerate(zip(tags, convert(tags, scheme))):
        if split_tag(tag) != split_tag(expected):
            where = "at the start of a sentence" if i == 0 else f"after {tags[i - 1]!r}"
            raise InputError(
                f"tag {tag!r} {where} is not valid {scheme} (expected {expected!r}: {_layout(scheme).rule})",
                path,
                line_of(i),
            )


def tag_set(types: Iterable[str], scheme: str) -> list[str]:
    """Every tag of ``scheme`` for the entity ``types``.

    Order: ``O``, then the types sorted, each with the scheme's prefixes in the order
    IO: TYPE; IOB1: I, B; IOB2: B, I; IOBES: B, I, E, S.

    Examples
    --------
    >>> tag_set(['PER', 'LOC', 'PER'], 'IOB2')
    ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']
    >>> tag_set(['PER', 'ORG', 'LOC', 'MISC'], 'IO')
    ['O', 'LOC', 'MISC', 'ORG', 'PER']
    """
    prefixes = _layout(scheme).written
    return [OUTSIDE] + [_join(p, t) for t in sorted(set(types)) for p in prefixes]


_DETECTION_ORDER = ("IOBES", "IOB2", "IOB1", "IO")


class SchemeDetector:
    """The schemes sentences are written in, fed one sentence at a time, in memory that does not
    grow with the sentences (the distinct tags and tag pairs seen).

    A sentence is valid in a scheme exactly when each of its tags is (:func:`check_tag`) and its
    first tag, every pair of neighbours and its last tag are allowed there (validity is
    first-order: :func:`transition_constraints`), so what is kept is the set of distinct tags,
    first tags, last tags and pairs.

    >>> detector = SchemeDetector()
    >>> detector.add(["I-PER", "O", "I-LOC"])
    >>> detector.candidates, detector.scheme
    (('IOB1', 'IO'), 'IOB1')
    >>> detector.add(["B-PER", "I-PER"])
    >>> detector.candidates
    ()
    """

    def __init__(self):
        self.tags: set = set()
        self.starts: set = set()
        self.ends: set = set()
        self.pairs: set = set()

    def add(self, tags: Sequence[str]) -> None:
        """Take one sentence's tags (an empty sentence is valid in every scheme)."""
        if not tags:
            return
        self.tags.update(tags)
        self.starts.add(tags[0])
        self.ends.add(tags[-1])
        self.pairs.update(pairwise(tags))

    @property
    def candidates(self) -> tuple:
        """Every scheme each sentence so far is valid in, in the order IOBES, IOB2, IOB1, IO."""
        return tuple(scheme for scheme in _DETECTION_ORDER if not self.violations(scheme))

    @property
    def scheme(self) -> str | None:
        """The first of :attr:`candidates` (the most specific name), or None."""
        found = self.candidates
        return found[0] if found else None

    def ranking(self) -> list:
        """Every scheme with its :meth:`violations`, fewest first (ties in the order of
        :attr:`candidates`); [] when no tag has been seen."""
        if not self.tags:
            return []
        return sorted(((scheme, self.violations(scheme)) for scheme in _DETECTION_ORDER), key=lambda pair: pair[1])

    def violations(self, scheme: str) -> int:
        """In how many distinct ways the sentences break ``scheme``'s rules: tags it does not
        have, and first tags, neighbour pairs and last tags it does not allow (0: valid)."""
        bad = 0
        for tag in self.tags:
            try:
                _check_tag(tag, scheme, None, None)
            except InputError:
                bad += 1
        bad += sum(not _allowed_at_start(scheme, split_tag(t)[0]) for t in self.starts)
        bad += sum(not _allowed_at_end(scheme, split_tag(t)[0]) for t in self.ends)
        return bad + sum(not _allowed_pair(scheme, *_pair(a, b)) for a, b in self.pairs)


def _pair(first: str, second: str) -> tuple:
    (a, type_a), (b, type_b) = split_tag(first), split_tag(second)
    return a, b, type_a == type_b


def detect_scheme(tag_lists: Iterable[Sequence[str]]) -> str | None:
    """The scheme the sentences are written in: the first of IOBES, IOB2, IOB1, IO that spells
    every sentence as it spells its own entities (:func:`validate_tags`), or None.

    Tags valid in several schemes read as the same entities in each; the order only picks the
    most specific name (all-``O`` text is IOBES).

    Examples
    --------
    >>> detect_scheme([['B-PER', 'I-PER', 'O']]), detect_scheme([['I-PER', 'O', 'I-LOC']])
    ('IOB2', 'IOB1')
    >>> detect_scheme([['S-PER', 'O']]), detect_scheme([['PER', 'O']]), detect_scheme([['O', 'I-PER', 'B-LOC']])
    ('IOBES', 'IO', None)
    """
    detector = SchemeDetector()
    for tags in tag_lists:
        detector.add(tags)
    return detector.scheme


def learned_scheme(detected: str | None) -> str:
    """The scheme a model learns when its training tags are written in ``detected`` and no scheme
    is asked for: the training data's own, but IOB2 for IOB1 and for tags of no single scheme.

    IOB1 writes ``B-`` only where an entity follows one of its type, so most entities start with
    ``I-`` and its ``B-`` is rare: the same entities in IOB2 give every entity a first-token tag
    to learn, and IOB2 is what every scorer reads alike (conlleval reads both the same way).

    >>> learned_scheme("IOB1"), learned_scheme("IOBES"), learned_scheme("IO"), learned_scheme(None)
    ('IOB2', 'IOBES', 'IO', 'IOB2')
    """
    return "IOB2" if detected in (None, "IOB1") else detected


def output_scheme(ranking: Sequence[tuple], model_scheme: str) -> str:
    """The scheme to write predictions for a tagged file in, from its tags' :meth:`SchemeDetector.ranking`:
    the model's own when the file's tags are valid in it (a file without entities fits every
    scheme), else the scheme the file breaks in the fewest ways (its own, where it has one; CoNLL-2003's
    eng.train, IOB1 but for one ``B-MISC`` after ``O``, gives IOB1); the model's for a file without tags.

    Written in its file's scheme, a prediction reads as the file's tags read in any scorer (as
    conlleval, which misreads IOBES's ``S-``), so the scores agree with ``windowclf evaluate``.

    >>> output_scheme([("IOB1", 0), ("IO", 0), ("IOB2", 3), ("IOBES", 5)], "IOBES")
    'IOB1'
    >>> output_scheme([(s, 0) for s in SCHEMES], "IOBES"), output_scheme([], "IOB2")
    ('IOBES', 'IOB2')
    """
    if not ranking or dict(ranking).get(model_scheme) == 0:
        return model_scheme
    return ranking[0][0]


def one_vs_rest(tags: Sequence[str], positive: str) -> list[str]:
    """One sentence's tags as a one-vs-rest model sees them: ``positive`` or ``O``, token by token.

    A token is positive when its tag is ``positive`` or its entity type is (``B-LOC``, ``LOC``,
    ``I-LOC`` for ``LOC``; ``1`` for ``1``); positives are written as the bare type (``LOC``), so a
    run of them reads as one entity. Training labels, predictions and gold tags are all
    read through this one definition before entities are counted, so a one-vs-rest model is
    scored on the entities of its own class: runs of positive tokens.

    Examples
    --------
    >>> one_vs_rest(['B-LOC', 'I-LOC', 'O', 'B-PER'], 'LOC')
    ['LOC', 'LOC', 'O', 'O']
    >>> one_vs_rest(['0', '1', '1', '0'], '1')
    ['O', '1', '1', 'O']
    """
    name = split_tag(positive)[1] or positive  # the class as a bare type: B-LOC and LOC both read LOC
    return [name if (t == positive or split_tag(t)[1] in (positive, name)) else OUTSIDE for t in tags]


def transition_constraints(tags: Sequence[str], scheme: str):
    """Which tag sequences ``scheme`` allows, as first-order constraints over ``tags``.

    Returns ``(start, pairs, end)``: boolean arrays of shapes (K,), (K, K), (K,), K = len(tags),
    saying which tag may begin a sentence, which tag j may follow tag i (``pairs[i, j]``), and
    which may end one. They come from :func:`validate_tags`, the one definition of a well-formed
    sentence: a pair is allowed when some valid sentence has it (IOB2: no ``I-X`` after ``O`` or
    another type; IOBES also no ``B-X``/``I-X`` followed by anything but ``I-X``/``E-X``). For
    these schemes validity is first-order, so a sentence is valid exactly when its start, every
    pair and its end are allowed (tests/test_decoding.py checks this against validate_tags).

    Examples
    --------
    >>> start, pairs, end = transition_constraints(['O', 'B-PER', 'I-PER'], 'IOB2')
    >>> start.tolist(), pairs.astype(int).tolist(), end.tolist()
    ([True, True, False], [[1, 1, 0], [1, 1, 1], [1, 1, 1]], [True, True, True])
    """
    import numpy as np

    _layout(scheme)
    pieces = [split_tag(t) for t in tags]
    start = np.array([_allowed_at_start(scheme, p) for p, _ in pieces], dtype=bool)
    end = np.array([_allowed_at_end(scheme, p) for p, _ in pieces], dtype=bool)
    pairs = np.array([[_allowed_pair(scheme, a, b, ta == tb) for b, tb in pieces] for a, ta in pieces], dtype=bool)
    return start, pairs, end


# Validity depends on a tag's prefix and on whether neighbouring types are equal, so it is worked
# out once per scheme on stand-in tags of two types, X and Y, by validate_tags on short sentences.
_STAND_INS = ("X", "Y")


def _stand_in(prefix: str, entity_type: str) -> str:
    return OUTSIDE if prefix == OUTSIDE else _join(prefix, entity_type)


@cache
def _valid(scheme: str, sentence: tuple) -> bool:
    try:
        validate_tags(list(sentence), scheme)
    except InputError:
        return False
    return True


@cache
def _stand_in_tags(scheme: str) -> tuple:
    prefixes = _layout(scheme).written
    return (OUTSIDE,) + tuple(_join(p, t) for t in _STAND_INS for p in prefixes)


@cache
def _read_prefixes(scheme: str) -> frozenset:
    """The prefixes split_tag reads from the scheme's tags (IO's bare TYPE reads as I), and O."""
    return frozenset({OUTSIDE} | {split_tag(_join(p, "X"))[0] for p in _layout(scheme).accepted})


def _contexts(scheme: str) -> list:
    return [()] + [(t,) for t in _stand_in_tags(scheme)]


@cache
def _allowed_at_start(scheme: str, prefix: str) -> bool:
    if prefix not in _read_prefixes(scheme):
        return False
    tag = _stand_in(prefix, "X")
    return any(_valid(scheme, (tag,) + after) for after in _contexts(scheme))


@cache
def _allowed_at_end(scheme: str, prefix: str) -> bool:
    if prefix not in _read_prefixes(scheme):
        return False
    tag = _stand_in(prefix, "X")
    return any(_valid(scheme, before + (tag,)) for before in _contexts(scheme))


@cache
def _allowed_pair(scheme: str, first: str, second: str, same_type: bool) -> bool:
    if first not in _read_prefixes(scheme) or second not in _read_prefixes(scheme):
        return False
    a, b = _stand_in(first, "X"), _stand_in(second, "X" if same_type else "Y")
    return any(_valid(scheme, before + (a, b) + after) for before, after in product(_contexts(scheme), repeat=2))
