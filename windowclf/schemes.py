"""Tag schemes (IO, IOB1, IOB2, IOBES) as data, conversion between them, and conlleval's chunking.

A tag is ``O`` or ``PREFIX-TYPE``. Reading a tag sequence into entities follows the
``startOfChunk`` / ``endOfChunk`` rules of the CoNLL ``conlleval`` Perl script (version
2004-01-26), written here as tables of (previous prefix, current prefix) pairs, so that
entity counts agree with the script that published CoNLL results were scored with.

Two additions to the Perl rules, both needed to read IOBES and neither reachable from
IO/IOB1/IOB2/IOE input (so on those the reading is the script's, rule for rule):

* ``S-`` marks a chunk of length 1, exactly as the script treats ``[`` and ``]``, and it also
  ends a chunk open before it. The 2004 script has no ``S`` rule: it would read ``S-X S-X``
  as ONE chunk.
* ``E-X`` followed by ``B-X`` ends a chunk and starts another. The script's rules (written
  for IOE, where ``B`` never occurs) continue the chunk.

Writing is table-driven too: each scheme says how the single token of a length-1 entity,
and the first, middle and last tokens of a longer one, are spelled (``_LAYOUTS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import ConfigError, InputError

__all__ = [
    "SCHEMES",
    "check_tag",
    "convert",
    "ends_chunk",
    "entities_to_tags",
    "get_entities",
    "split_tag",
    "starts_chunk",
    "tag_set",
    "validate_tags",
]

OUTSIDE = "O"

# --- reading: conlleval's chunk rules as data -------------------------------------------

# (previous prefix, current prefix) pairs on which conlleval's startOfChunk is true.
_CONLLEVAL_STARTS = frozenset({
    ("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"),
    ("E", "E"), ("E", "I"), ("O", "E"),
})
# (previous prefix, current prefix) pairs on which conlleval's endOfChunk is true.
_CONLLEVAL_ENDS = frozenset({
    ("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"),
    ("E", "E"), ("E", "I"), ("E", "O"),
})
# The IOBES additions (see the module docstring); every pair involves S, or is E then B.
_IOBES_STARTS = frozenset({("E", "B"), ("S", "B"), ("S", "I"), ("S", "E")})
_IOBES_ENDS = frozenset({("E", "B"), ("B", "S"), ("I", "S"), ("E", "S")})

_STARTS = _CONLLEVAL_STARTS | _IOBES_STARTS
_ENDS = _CONLLEVAL_ENDS | _IOBES_ENDS
# Prefixes exempt from the script's "a change of type starts/ends a chunk" rule.
_NOT_IN_CHUNK = frozenset({"O", "."})
# "these chunks are assumed to have length 1" (conlleval, 1998-12-22), plus IOBES's S.
_LENGTH_ONE = frozenset({"[", "]", "S"})
# Hyphen-less tags that conlleval reads as a bare prefix with an empty type.
_BARE_PREFIXES = frozenset({"", "O", "B", "I", "E", "S", "[", "]", "."})

_BOUNDARY = (OUTSIDE, "")


def split_tag(tag: str) -> tuple[str, str]:
    """Split a tag into ``(prefix, type)`` the way conlleval reads it.

    The split is on the first hyphen only, so types may contain hyphens. A hyphen-less
    tag that is not a prefix letter is a bare entity type (CS224d's ``PER ORG LOC MISC O``)
    and reads as ``I-TYPE``: a run of equal bare tags is one entity, as in the IO scheme.
    (``conlleval -r`` would instead make every such token its own chunk.)

    Parameters
    ----------
    tag : str

    Returns
    -------
    (prefix, type) : tuple of str
        ``type`` is ``""`` for ``O`` and for hyphen-less prefix letters such as ``B``.

    Examples
    --------
    >>> split_tag("B-PER"), split_tag("O"), split_tag("PER"), split_tag("I-SUB-TYPE")
    (('B', 'PER'), ('O', ''), ('I', 'PER'), ('I', 'SUB-TYPE'))
    """
    prefix, hyphen, entity_type = tag.partition("-")
    if hyphen:
        return prefix, entity_type
    if tag in _BARE_PREFIXES:
        return tag, ""
    return "I", tag


def starts_chunk(previous: tuple[str, str], current: tuple[str, str]) -> bool:
    """Whether a chunk starts at ``current``, given the token before it (conlleval's startOfChunk).

    Both arguments are ``(prefix, type)`` pairs from :func:`split_tag`; before the first
    token of a sentence, ``previous`` is ``("O", "")``.
    """
    (prev_prefix, prev_type), (prefix, entity_type) = previous, current
    return (
        (prev_prefix, prefix) in _STARTS
        or (prefix not in _NOT_IN_CHUNK and prev_type != entity_type)
        or prefix in _LENGTH_ONE
    )


def ends_chunk(previous: tuple[str, str], current: tuple[str, str]) -> bool:
    """Whether a chunk ends at ``previous``, given the token after it (conlleval's endOfChunk).

    Both arguments are ``(prefix, type)`` pairs from :func:`split_tag`; after the last
    token of a sentence, ``current`` is ``("O", "")``.
    """
    (prev_prefix, prev_type), (prefix, entity_type) = previous, current
    return (
        (prev_prefix, prefix) in _ENDS
        or (prev_prefix not in _NOT_IN_CHUNK and prev_type != entity_type)
        or prev_prefix in _LENGTH_ONE
    )


def get_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of one sentence's tags, read with conlleval's chunk rules.

    An entity starts where :func:`starts_chunk` holds and runs to the last token before
    the next chunk end or start. Any tag is read (conlleval's ``[``, ``]`` and ``.`` too);
    use :func:`validate_tags` to refuse tags outside a scheme.

    Parameters
    ----------
    tags : sequence of str, length n_tokens

    Returns
    -------
    list of (type, start, end)
        ``start`` and ``end`` are token indices, ``end`` inclusive, in sentence order.

    Examples
    --------
    >>> get_entities(['B-PER', 'I-PER', 'O', 'B-LOC'])
    [('PER', 0, 1), ('LOC', 3, 3)]

    ``I-`` after ``O`` or after another type starts an entity; ``B-`` splits a same-type run (IOB1):

    >>> get_entities(['O', 'I-PER', 'I-ORG', 'I-ORG', 'B-ORG'])
    [('PER', 1, 1), ('ORG', 2, 3), ('ORG', 4, 4)]

    IOBES, and CS224d's bare tags (read as IO):

    >>> get_entities(['S-PER', 'S-PER', 'B-LOC', 'E-LOC', 'B-LOC', 'I-LOC', 'E-LOC'])
    [('PER', 0, 0), ('PER', 1, 1), ('LOC', 2, 3), ('LOC', 4, 6)]
    >>> get_entities(['PER', 'PER', 'O', 'LOC'])
    [('PER', 0, 1), ('LOC', 3, 3)]
    """
    entities: list[tuple[str, int, int]] = []
    open_type, open_start = None, -1
    previous = _BOUNDARY
    for i, tag in enumerate(tags):
        current = split_tag(tag)
        started = starts_chunk(previous, current)
        if open_type is not None and (started or ends_chunk(previous, current)):
            entities.append((open_type, open_start, i - 1))
            open_type = None
        if started:
            open_type, open_start = current[1], i
        previous = current
    if open_type is not None:
        entities.append((open_type, open_start, len(tags) - 1))
    return entities


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
    "IOB1": _Layout("I", "I", "I", "I", "B", (),
                    "I-TYPE throughout; B-TYPE only where an entity directly follows one of the same type"),
    "IOB2": _Layout("B", "B", "I", "I", None, (), "an entity is B-TYPE followed by I-TYPE"),
    "IOBES": _Layout("S", "B", "I", "E", None, (),
                     "S-TYPE for one token, else B-TYPE, I-TYPE ..., E-TYPE"),
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
        Non-overlapping, ``end`` inclusive, as :func:`get_entities` returns them.
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
    >>> ents = [('PER', 0, 1), ('PER', 2, 2), ('LOC', 4, 4)]
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
    for entity_type, start, end in sorted(entities, key=lambda e: (e[1], e[2])):
        if not 0 <= start <= end < length:
            raise InputError(f"entity {(entity_type, start, end)!r} is not inside a sentence of {length} tokens")
        if start <= previous_end:
            raise InputError(f"entity {(entity_type, start, end)!r} overlaps the entity before it")
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
    """Rewrite one sentence's tags in ``scheme`` (entities read with :func:`get_entities`).

    Examples
    --------
    >>> convert(['I-ORG', 'I-ORG', 'O', 'I-LOC', 'B-LOC'], 'IOB2')
    ['B-ORG', 'I-ORG', 'O', 'B-LOC', 'B-LOC']
    """
    return entities_to_tags(get_entities(tags), len(tags), scheme)


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
    if scheme is None:
        accepted, what = _ANY_PREFIXES, "a tag of any scheme"
    else:
        accepted = _layout(scheme).accepted
        what = f"an {scheme} tag" if scheme[0] in "AEIOU" else f"a {scheme} tag"
    prefix, hyphen, entity_type = tag.partition("-")
    if hyphen:
        ok = prefix in accepted and prefix != "" and entity_type != ""
    else:
        ok = tag == OUTSIDE or ("" in accepted and tag not in _BARE_PREFIXES)
    if ok:
        return
    raise InputError(f"tag {tag!r} is not {what} (expected {_expected(accepted)})", path, line)


def validate_tags(tags: Sequence[str], scheme: str | None = None, path=None,
                  lines: Sequence[int] | None = None, *, check_sequence: bool = True) -> None:
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
    windowclf.errors.InputError: dev.txt:8: tag 'I-PER' after 'O' is not valid IOB2 (expected 'B-PER': an entity is B-TYPE followed by I-TYPE)
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
            raise InputError(f"tag {tag!r} {where} is not valid {scheme} "
                             f"(expected {expected!r}: {_layout(scheme).rule})", path, line_of(i))


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
