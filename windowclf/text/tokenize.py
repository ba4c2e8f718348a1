"""Raw text -> sentences -> tokens with character offsets, in the CoNLL-2003 (Reuters) style.

Tokens follow the conventions of the CoNLL-2003 English data: punctuation is split off
(``"`` ``(`` ``)`` ``,`` ``%`` ``$``), while numbers (``1,000.5``, ``3-1``, ``1996-08-28``,
``2:29.34``), hyphenated words (``year-ago``), acronyms (``U.S.``, ``U.S.-led``),
known abbreviations (``Mr.``, ``Inc.``, ``vs.``), initials before a name (``J. Smith``),
currency prefixes (``US$``), ellipses, URLs and e-mail addresses stay whole. Clitics
are split the Penn Treebank way: ``don't`` -> ``do n't``, ``can't`` -> ``ca n't``,
``Germany's`` -> ``Germany 's``, and the plural possessive ``Farmers'`` -> ``Farmers '``.

Every token carries ``start``/``end`` character offsets with ``text[start:end] ==
token.text``. Because a token is always a slice of the input, a sentence-final
abbreviation keeps its one period (``... in the U.S.`` ends with the token ``U.S.``):
there is no second period to split off.

A sentence ends at a blank line, and at ``.``, ``!`` or ``?`` (plus the closing quotes
or brackets after it: touching it, or standing free as in pre-tokenized text) when
whitespace and then a capital letter, digit, opening quote or bracket, or the end of
the paragraph follow. Abbreviations keep their
period inside the token, so they never end a sentence, except that an acronym, initial
or company abbreviation (``U.S.``, ``Inc.``, ``Corp.``) followed by a common sentence
opener (``The``, ``He``, ``But``, ...) does. A numbered-list marker at the start of a line
(``1. Jan Ullrich``) is one token and starts a new sentence.

The paragraphs of a string or a stream are fed through :mod:`windowclf.text.sentences`. These are
the rules of the ``conll`` tokenizer (as data: :mod:`windowclf.text.conll_rules`); ``tokenizer=``
picks another of :data:`TOKENIZERS` (see :mod:`windowclf.text.tokenizers`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from windowclf._util.arguments import check_int, kind_of
from windowclf.errors import ConfigError
from windowclf.text.conll_rules import (
    ALL_TERMINATORS,
    CJK_TERMINATORS,
    CLOSERS,
    ENDABLE_WORDS,
    ENDING_CHARS,
    ENDING_CODES,
    OPENERS,
    SENTENCE_OPENERS,
    TERMINATOR_CHARS,
    TOKEN_RE,
)
from windowclf.text.sentences import mode_splitting, sentences_of_text, stream_sentences
from windowclf.text.tokenizers import SOCIAL_SHAPES, TOKENIZER_NAMES, whitespace_paragraph

__all__ = [
    "MAX_PARAGRAPH_CHARS",
    "TOKENIZERS",
    "Token",
    "check_tokenizer",
    "iter_sentence_spans",
    "iter_sentences",
    "split_sentences",
    "tokenize",
]

TOKENIZERS = TOKENIZER_NAMES
"""The tokenizers ``tokenizer=`` names: ``conll`` (the default), ``whitespace``, ``social``."""

MAX_PARAGRAPH_CHARS = 100_000
"""Default cap on the text iter_sentences holds at once within one paragraph."""


class Token(NamedTuple):
    """One token: its text and its character offsets into the original text.

    ``original[start:end] == text`` always holds. A named tuple rather than a frozen
    dataclass: tokens are made by the hundred thousand, and a tuple is made three times faster.
    """

    text: str
    start: int
    end: int


def tokenize(text: str, *, tokenizer: str = "conll") -> list[Token]:
    """Split raw text into CoNLL-2003-style tokens (or another ``tokenizer``'s) with character offsets.

    Parameters
    ----------
    text : str
        Raw text, any length; blank lines separate paragraphs.
    tokenizer : {"conll", "whitespace", "social"}
        Which rules (:data:`TOKENIZERS`).

    Returns
    -------
    list of Token
        In text order, non-overlapping, none containing whitespace; concatenated they
        give ``text`` with its whitespace removed.

    Examples
    --------
    >>> [t.text for t in tokenize("Germany's year-ago profit: $1,000.5 (3.5%), Mr. Smith said.")]
    ['Germany', "'s", 'year-ago', 'profit', ':', '$', '1,000.5', '(', '3.5', '%', ')', ',', 'Mr.', 'Smith', 'said', '.']
    >>> [t.text for t in tokenize("The U.S.-led talks don't end in the U.S.")]
    ['The', 'U.S.-led', 'talks', 'do', "n't", 'end', 'in', 'the', 'U.S.']
    >>> tokenize("Oslo won")[1]
    Token(text='won', start=5, end=8)
    """
    _check_text(text)
    split = _splitter(tokenizer)
    return [token for sentence in sentences_of_text(text, split, _token_sentence) for token in sentence]


def split_sentences(text: str, mode: str = "text", *, tokenizer: str = "conll") -> list[list[Token]]:
    """Split raw text into sentences of tokens (offsets into ``text``).

    Parameters
    ----------
    text : str
        Raw text; a blank line always ends a sentence.
    mode : {"text", "paragraph-per-line", "sentence-per-line", "document-per-line"}
        Running text (line breaks do not end sentences), one paragraph per line (every line
        break ends a sentence too), or one sentence per line (lines are not split further).
        ``document-per-line`` splits as ``paragraph-per-line``; ``windowclf predict`` also makes
        each line a document.
    tokenizer : {"conll", "whitespace", "social"}
        Which rules (:data:`TOKENIZERS`); ``whitespace`` also ends a sentence at every line break.

    Returns
    -------
    list of list of Token
        Non-empty sentences in text order; flattened they equal ``tokenize(text, tokenizer=...)``.

    Examples
    --------
    >>> text = 'Dr. J. Smith joined Acme Inc. in Oslo. "It works!" he said. The end'
    >>> [" ".join(t.text for t in s) for s in split_sentences(text)]
    ['Dr. J. Smith joined Acme Inc. in Oslo .', '" It works ! " he said .', 'The end']
    """
    _check_text(text)
    split, breaks = mode_splitting(mode, _splitter(tokenizer))
    return list(sentences_of_text(text, split, _token_sentence, breaks))


def iter_sentences(
    lines_or_file,
    *,
    offset_base: int = 0,
    max_chars: int = MAX_PARAGRAPH_CHARS,
    mode: str = "text",
    tokenizer: str = "conll",
) -> Iterator[list[Token]]:
    """Read a text stream paragraph by paragraph and yield its sentences as they complete.

    Parameters
    ----------
    lines_or_file : text file, iterable of str, or str
        The stream. A file object is read in blocks with ``read`` (so one huge line does
        not have to fit in memory); an iterable yields pieces of text (lines, or chunks
        cut anywhere) that concatenate to the stream. Open files in text mode; pass
        ``newline=""`` if offsets must count ``\\r\\n`` as two characters, as the file has them.
    offset_base : int, default 0
        Added to every offset, for a stream that starts part-way into a larger text.
    mode : {"text", "paragraph-per-line", "sentence-per-line", "document-per-line"}
        As for :func:`split_sentences`.
    tokenizer : {"conll", "whitespace", "social"}
        As for :func:`split_sentences`.
    max_chars : int, default MAX_PARAGRAPH_CHARS
        Bound on the text held at once inside one paragraph. When a paragraph grows past
        it, the sentences already complete are yielded and dropped; only a sentence
        that, with the whitespace after it and the next word, is longer than ``max_chars``
        is broken, at whitespace. (Memory also holds the longest whitespace-free run.)

    Yields
    ------
    list of Token
        Sentences in stream order. Offsets are character (code point) offsets into the
        decoded text of the whole stream, plus ``offset_base``. Unless a sentence has to
        be broken (see ``max_chars``), the sentences equal ``split_sentences`` of the
        whole stream's text, however the stream is cut into pieces; the tokens always
        equal ``tokenize`` of it.

    Raises
    ------
    InputError
        If the stream yields something other than text (bytes: open the file in text mode).
    ConfigError
        If ``max_chars`` is not positive (raised at the call, not at the first ``next``).

    Examples
    --------
    >>> pieces = ["Oslo is cold. It", " snows.\\n", "\\n", "Rome is warm.\\n"]
    >>> [[t.text for t in s] for s in iter_sentences(pieces)]
    [['Oslo', 'is', 'cold', '.'], ['It', 'snows', '.'], ['Rome', 'is', 'warm', '.']]
    """
    if isinstance(lines_or_file, (bytes, bytearray)) or not (
        isinstance(lines_or_file, str) or hasattr(lines_or_file, "read") or isinstance(lines_or_file, Iterable)
    ):
        raise TypeError(
            f"lines_or_file must be a text stream, an iterable of str or a str, got {kind_of(lines_or_file)}"
        )
    offset_base = check_int("offset_base", offset_base, low=0)
    max_chars = check_int("max_chars", max_chars, low=1)
    split, breaks = mode_splitting(mode, _splitter(tokenizer))
    return stream_sentences(lines_or_file, offset_base, max_chars, split, _token_sentence, breaks)


def iter_sentence_spans(
    lines_or_file,
    *,
    offset_base: int = 0,
    max_chars: int = MAX_PARAGRAPH_CHARS,
    mode: str = "text",
    tokenizer: str = "conll",
) -> Iterator[tuple[list, list, list]]:
    """:func:`iter_sentences` with each sentence as three lists: token texts, starts and ends.

    The same sentences, tokens and offsets, without a :class:`Token` per token: for
    pipelines that tag whole files, where making a tuple per token is a good part of the cost.

    Examples
    --------
    >>> list(iter_sentence_spans(["Oslo is cold. Rome too."]))
    [(['Oslo', 'is', 'cold', '.'], [0, 5, 8, 12], [4, 7, 12, 13]), (['Rome', 'too', '.'], [14, 19, 22], [18, 22, 23])]
    """
    split, breaks = mode_splitting(mode, _splitter(tokenizer))
    return stream_sentences(lines_or_file, offset_base, max_chars, split, _span_sentence, breaks)


def check_tokenizer(tokenizer) -> str:
    """``tokenizer`` if it names one of :data:`TOKENIZERS`, else ConfigError saying which there are.

    >>> check_tokenizer("social")
    'social'
    """
    if not isinstance(tokenizer, str) or tokenizer not in TOKENIZERS:
        raise ConfigError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {tokenizer!r}")
    return tokenizer


def _splitter(tokenizer):
    """The paragraph splitter of the tokenizer named ``tokenizer`` (see windowclf.text.sentences)."""
    return _SPLITTERS[check_tokenizer(tokenizer)]


def _check_text(text) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {kind_of(text)}")


def _token_sentence(paragraph, first: int, stop: int) -> list[Token]:
    """Tokens first..stop-1 of a split paragraph, as Token tuples."""
    texts, starts, ends, _ = paragraph
    return list(map(Token, texts[first:stop], starts[first:stop], ends[first:stop]))


def _span_sentence(paragraph, first: int, stop: int) -> tuple[list, list, list]:
    """Tokens first..stop-1 of a split paragraph, as (texts, starts, ends) lists."""
    texts, starts, ends, _ = paragraph
    return texts[first:stop], starts[first:stop], ends[first:stop]


# Below this many characters a paragraph's offsets come from the matches themselves; above it,
# from the positions of its non-space characters (see _token_offsets), which costs numpy calls
# but no Python work per token.
_VECTOR_CHARS = 2000


def _split_paragraph(text: str, start: int, end: int, base: int, token_re: re.Pattern = TOKEN_RE):
    """(texts, starts, ends, firsts) of text[start:end], or None when it holds no token.

    Offsets have ``base`` added; ``firsts`` holds the index of each sentence's first token,
    ascending, from 0. ``token_re`` finds the tokens (the CoNLL rules, or the social tokenizer's
    shapes before them); every non-space character starts one of its matches and none holds a space.
    """
    offsets = None
    if end - start >= _VECTOR_CHARS:
        texts = token_re.findall(text, start, end)
        if not texts:
            return None
        offsets = _token_offsets(text, start, end, texts, base)
    if offsets is None:
        spans = [m.span() for m in token_re.finditer(text, start, end)]
        if not spans:
            return None
        texts = [text[a:b] for a, b in spans]
        offsets = (
            [a + base for a, _ in spans],
            [b + base for _, b in spans],
            [i for i, t in enumerate(texts) if t[-1] in ENDING_CHARS],
        )
    starts, ends, ending = offsets
    n_tokens = len(texts)
    breaks = []  # index of the first token of each sentence after the first
    for index in ending:
        word = texts[index]
        if CJK_TERMINATORS & set(word) and ALL_TERMINATORS.issuperset(word):  # 。 ！？ ！！
            after = index + 1
            while after < n_tokens and texts[after] in CLOSERS and starts[after] == ends[after - 1]:
                after += 1
            if after < n_tokens:
                breaks.append(after)
        elif word == "." or TERMINATOR_CHARS.issuperset(word):
            after = index + 1
            while after < n_tokens and texts[after] in CLOSERS and _closes(starts, ends, after):
                after += 1
            if after < n_tokens:
                following = texts[after]
                first = following[0]
                if starts[after] > ends[after - 1] and (
                    first.isupper() or first.isdigit() or following in OPENERS or first in OPENERS
                ):
                    breaks.append(after)
        elif word[:-1].isdigit():
            if index:
                breaks.append(index)
        elif (
            index + 1 < n_tokens
            and _is_endable(word)
            and texts[index + 1] in SENTENCE_OPENERS
            and starts[index + 1] > ends[index]
        ):
            breaks.append(index + 1)
    return texts, starts, ends, [0] + sorted(set(breaks))


@functools.lru_cache(maxsize=1)
def _space_table() -> np.ndarray:
    """is_space[c] for every code point c <= U+3001 (the last whitespace character is U+3000)."""
    return np.array([chr(c).isspace() for c in range(0x3002)])


def _token_offsets(text: str, start: int, end: int, texts: list, base: int):
    """Start and end offsets of ``texts``, the tokens of text[start:end], and which end in . ! ?

    The tokens are the paragraph's non-space characters, in order, cut into pieces: every
    non-space character starts a match (the last alternative of TOKEN_RE is any one), and no
    token holds a space. So token k is the run of non-space characters after the first
    ``len(texts[0]) + ... + len(texts[k - 1])`` of them. (None if the counts disagreed, which
    would mean TOKEN_RE broke that rule: the caller then takes the offsets from the matches.)
    """
    codes = np.frombuffer(text[start:end].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    solid = np.flatnonzero(~_space_table()[np.minimum(codes, 0x3001)])  # index of each non-space character
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts))
    last = np.cumsum(lengths) - 1  # each token's last character, counted among the non-space ones
    if last[-1] != len(solid) - 1:
        return None
    last_char = solid[last]
    end_code = codes[last_char]
    ending = np.flatnonzero(np.isin(end_code, ENDING_CODES))  # . ! ? and the CJK ones
    offset = start + base
    return ((solid[last - lengths + 1] + offset).tolist(), (last_char + (offset + 1)).tolist(), ending.tolist())


def _closes(starts: list, ends: list, index: int) -> bool:
    # A quote or bracket after a terminator closes the sentence when it touches the
    # terminator ('said."') or stands free (' . " ' in pre-tokenized text); one that
    # touches only the next word ('said. "Next') opens the next sentence.
    return starts[index] == ends[index - 1] or index + 1 == len(starts) or starts[index + 1] > ends[index]


def _is_endable(word: str) -> bool:
    # Acronyms (U.S.) and initials (J.) have a letter before every period.
    return word in ENDABLE_WORDS or (len(word) >= 2 and word[-2].isalpha() and word[-3:-2] in ("", "."))


# The social tokenizer: its shapes first, then the CoNLL rules, at every position.
_SOCIAL_RE = re.compile(SOCIAL_SHAPES + "\n|" + TOKEN_RE.pattern, re.VERBOSE)

_SPLITTERS = {
    "conll": _split_paragraph,
    "whitespace": whitespace_paragraph,
    "social": functools.partial(_split_paragraph, token_re=_SOCIAL_RE),
}
