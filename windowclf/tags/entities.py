"""Reading tags into entities with the chunk rules of the CoNLL ``conlleval`` script, plus IOBES's two.

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
"""

from __future__ import annotations

from collections.abc import Sequence

from windowclf._util.arguments import check_strings

__all__ = ["BARE_PREFIXES", "OUTSIDE", "ends_chunk", "entity_spans", "split_tag", "starts_chunk"]

OUTSIDE = "O"

# (previous prefix, current prefix) pairs on which conlleval's startOfChunk is true.
_CONLLEVAL_STARTS = frozenset(
    {
        ("B", "B"),
        ("I", "B"),
        ("O", "B"),
        ("O", "I"),
        ("E", "E"),
        ("E", "I"),
        ("O", "E"),
    }
)
# (previous prefix, current prefix) pairs on which conlleval's endOfChunk is true.
_CONLLEVAL_ENDS = frozenset(
    {
        ("B", "B"),
        ("B", "O"),
        ("I", "B"),
        ("I", "O"),
        ("E", "E"),
        ("E", "I"),
        ("E", "O"),
    }
)
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
BARE_PREFIXES = frozenset({"", "O", "B", "I", "E", "S", "[", "]", "."})

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
    if tag in BARE_PREFIXES:
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


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of one sentence's tags, read with conlleval's chunk rules: the one reading of tags
    into entities in windowclf.

    An entity starts where :func:`starts_chunk` holds and runs to the last token before the
    next chunk end or start. Any tag is read (conlleval's ``[``, ``]`` and ``.`` too); use
    :func:`~windowclf.tags.schemes.validate_tags` to refuse tags outside a scheme.

    Parameters
    ----------
    tags : sequence of str, length n_tokens

    Returns
    -------
    list of (type, start, end)
        Token indices with ``end`` exclusive, so that ``tokens[start:end]`` is the entity, in
        sentence order.

    Examples
    --------
    >>> entity_spans(['B-PER', 'I-PER', 'O', 'B-LOC'])
    [('PER', 0, 2), ('LOC', 3, 4)]

    ``I-`` after ``O`` or after another type starts an entity; ``B-`` splits a same-type run (IOB1):

    >>> entity_spans(['O', 'I-PER', 'I-ORG', 'I-ORG', 'B-ORG'])
    [('PER', 1, 2), ('ORG', 2, 4), ('ORG', 4, 5)]

    IOBES, and CS224d's bare tags (read as IO):

    >>> entity_spans(['S-PER', 'S-PER', 'B-LOC', 'E-LOC', 'B-LOC', 'I-LOC', 'E-LOC'])
    [('PER', 0, 1), ('PER', 1, 2), ('LOC', 2, 4), ('LOC', 4, 7)]
    >>> entity_spans(['PER', 'PER', 'O', 'LOC'])
    [('PER', 0, 2), ('LOC', 3, 4)]
    """
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Sequence):
        tags = check_strings("tags", tags, what="one sentence's tags (a sequence of str)")  # or raises, naming it
    entities: list[tuple[str, int, int]] = []
    open_type, open_start = None, -1
    previous = _BOUNDARY
    try:  # a tag of another type fails in split_tag: then the check says which (the common case costs nothing)
        for i, tag in enumerate(tags):
            current = split_tag(tag)
            started = starts_chunk(previous, current)
            if open_type is not None and (started or ends_chunk(previous, current)):
                entities.append((open_type, open_start, i))
                open_type = None
            if started:
                open_type, open_start = current[1], i
            previous = current
    except (AttributeError, TypeError):
        check_strings("tags", tags, what="one sentence's tags (a sequence of str)")
        raise
    if open_type is not None:
        entities.append((open_type, open_start, len(tags)))
    return entities
