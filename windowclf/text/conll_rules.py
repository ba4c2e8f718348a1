"""The rules of the ``conll`` tokenizer (the CoNLL-2003 Reuters conventions,
:mod:`windowclf.text.tokenize`) as data: what a token is (:data:`TOKEN_RE`), which characters and
abbreviations may end a sentence, which quotes and brackets close or open one, and which words
open a new sentence after an acronym or an abbreviation."""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "ALL_TERMINATORS",
    "CJK_TERMINATORS",
    "CLOSERS",
    "ENDABLE_WORDS",
    "ENDING_CHARS",
    "ENDING_CODES",
    "OPENERS",
    "SENTENCE_OPENERS",
    "TERMINATOR_CHARS",
    "TOKEN_RE",
]

# Punctuation and symbol blocks: ASCII punctuation, Latin-1 punctuation and signs,
# general punctuation, currency signs, arrows to miscellaneous symbols, CJK punctuation,
# small and fullwidth forms, emoji.
_NON_WORD_RANGES = (
    (0x21, 0x2F),
    (0x3A, 0x40),
    (0x5B, 0x60),
    (0x7B, 0x7E),
    (0xA1, 0xBF),
    (0xD7, 0xD7),
    (0xF7, 0xF7),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2190, 0x2BFF),
    (0x3000, 0x303F),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE4F),
    (0xFF01, 0xFF0F),
    (0xFF1A, 0xFF20),
    (0xFF3B, 0xFF40),
    (0xFF5B, 0xFF65),
    (0x1F000, 0x1FAFF),
)


def _word_character_class() -> str:
    """A regex class: not whitespace, not in _NON_WORD_RANGES, but every alphanumeric.

    A negated class rather than \\w, so that combining marks and the vowel signs of
    Indic scripts (not "alphanumeric" to Python) stay inside their word. The blocks'
    letters and digits (e.g. the CJK iteration mark, circled digits) are carved out, so
    that every character \\w calls alphanumeric is a word character here too.
    """
    excluded = [chr(c) for low, high in _NON_WORD_RANGES for c in range(low, high + 1) if not chr(c).isalnum()]
    runs: list[list[str]] = []
    for char in excluded:
        if runs and ord(char) == ord(runs[-1][1]) + 1:
            runs[-1][1] = char
        else:
            runs.append([char, char])
    spans = "".join(re.escape(a) if a == b else f"{re.escape(a)}-{re.escape(b)}" for a, b in runs)
    return rf"[^\s{spans}]"


_W = _word_character_class()


_APOS = "['\u2019]"


_CLITIC = r"(?:[sSmMdD]|re|RE|ve|VE|ll|LL)"


_UPPER = "[A-Z\u00c0-\u00d6\u00d8-\u00de]"


# Period-final abbreviations that are never split; the first group may also end a
# sentence (ENDABLE_WORDS), the titles, months and "vs." never do.
_ENDING_ABBREVIATIONS = ("Inc", "Corp", "Ltd", "Co", "Cos", "Bros", "Plc", "Pty", "etc", "Jr", "Sr")


_TITLE_ABBREVIATIONS = (
    "Mr",
    "Mrs",
    "Ms",
    "Messrs",
    "Mme",
    "Mlle",
    "Dr",
    "Prof",
    "Rev",
    "Hon",
    "Pres",
    "Gov",
    "Sen",
    "Rep",
    "Gen",
    "Lt",
    "Col",
    "Maj",
    "Capt",
    "Sgt",
    "Cpl",
    "Adm",
    "Cmdr",
    "St",
    "Mt",
    "Ft",
    "Ave",
    "Blvd",
    "Rd",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
    "Calif",
    "Fla",
    "Ariz",
    "Colo",
    "Conn",
    "Mich",
    "Minn",
    "Tenn",
    "vs",
    "approx",
    "est",
    "dept",
    "fig",
    "vol",
    "pp",
    "cf",
    "Ph\\.D",
)


_ABBREVIATIONS = "|".join(sorted(_ENDING_ABBREVIATIONS + _TITLE_ABBREVIATIONS, key=len, reverse=True))


# Order matters: at each position the first alternative that matches wins, so the
# special shapes come before the general word and the one-character fallback is last.
# The two fast paths in front take only what the later rules would take anyway (a
# word no joint or special shape can extend, a punctuation mark no rule starts with);
# they exist because trying every rule at every token is several times slower.
TOKEN_RE = re.compile(
    rf"""
      [^\W_]+(?!{_W}|[.@$'\u2019&+-]|[,:/]\d|:/)      # fast path: a plain word or number
    | [,;:()"%$/\[\]{{}}<>|] | \.(?![.\d]) | -(?!-)       # fast path: punctuation no rule joins
    | (?:https?://|ftp://|www\.)[^\s<>"'()\[\]{{}}]*[^\s<>"'()\[\]{{}}.,;:!?]  # URL
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{{2,}}(?![\w-])                    # e-mail
    | (?<![^\n])\d{{1,3}}\.(?=\s)                      # list marker at a line start: "1."
    | [A-Za-z](?:\.[A-Za-z])+\.?(?!{_W})(?:-{_W}+)*     # acronym: U.S. a.m. U.S.-led
    | (?:{_ABBREVIATIONS})\.(?!{_W})(?:-{_W}+)*        # Mr. Inc. vs. Calif.-based
    | [Nn]o\.(?:\d+(?!{_W})|(?=\s*\d))                 # "No. 3", "No.2", but not a final "no."
    | \d{{1,2}}\.[A-Z]{{3}}\.\d{{2,4}}(?!{_W})             # Reuters dates: 24.SEP.96
    | {_UPPER}\.(?=\s*{_UPPER})                        # initial before a name: "J. Smith"
    | [A-Z]{{1,3}}\$                                   # currency prefix: US$ C$
    | {_W}+?(?=[nN]{_APOS}[tT](?!{_W}))                # "do" of "don't", "ca" of "can't"
    | {_APOS}{_CLITIC}(?!{_W}) | [nN]{_APOS}[tT](?!{_W}) # 's 're 'll n't
    | (?:\+(?=\d))?{_W}+                               # word or number, then its joints:
      (?: (?: -                                        #   hyphen: year-ago, 1996-08-28
            | (?<=\d)[.,:/](?=\d)                       #   1,000.5  2:29.34  1/2
            | (?<=[A-Z])&(?=[A-Z])                      #   S&P
            | {_APOS}(?!{_CLITIC}(?!{_W}))              #   O'Brien (but not Germany's)
            | (?<=[a-z])\.(?=(?:[a-z0-9-]+\.)*(?:com|org|net|edu|gov|int|info|biz|io|uk)(?!\w|\.\w))
          ) {_W}+ )*                                   #   reuters.com
      (?:-(?=\s)|(?<=[A-Z])\+(?!\S))?                  # "32- and 35-inch", "AA+"
    | (?<!\S)\.\d+                                     # .576
    | \.{{2,}} | -{{2,}} | \*{{2,}} | ={{2,}} | _{{2,}} | [!?]+  # ellipsis, rules, "?!"
    | \S                                               # any other single character
    """,
    re.VERBOSE,
)
"""What a token is: at each position the first alternative that matches."""

TERMINATOR_CHARS = frozenset("!?")
"""Besides ``.``: the characters of which a token that may end a sentence is made (``!``, ``?``, ``?!``)."""

# The ideographic full stop and the full-width ! and ?: text without spaces or case (Chinese,
# Japanese) ends its sentences there, whatever follows.
CJK_TERMINATORS = frozenset("\u3002\uff01\uff1f")
"""The ideographic full stop and the full-width ``!`` and ``?``."""

ALL_TERMINATORS = TERMINATOR_CHARS | CJK_TERMINATORS
"""Every terminator character: :data:`TERMINATOR_CHARS` and :data:`CJK_TERMINATORS`."""

ENDING_CHARS = frozenset(".!?") | CJK_TERMINATORS  # a token ending in one may end a sentence
"""The characters a token that may end a sentence ends in."""

ENDING_CODES = np.array(sorted(map(ord, ENDING_CHARS)), dtype=np.uint32)
"""The code points of :data:`ENDING_CHARS`, sorted (uint32), for numpy's searches."""

CLOSERS = frozenset(
    ['"', "'", ")", "]", "}", "\u201d", "\u2019", "\u00bb", "''", "\u300d", "\u300f", "\uff09", "\u3011"]
)  # 」 』 ） 】
"""Closing quotes and brackets: after a terminator they stay with its sentence."""

OPENERS = frozenset(['"', "'", "(", "[", "{", "\u201c", "\u2018", "\u00ab", "`", "``"])
"""Opening quotes and brackets: after a terminator they start the next sentence."""

ENDABLE_WORDS = frozenset(a + "." for a in _ENDING_ABBREVIATIONS)
"""Company and name-suffix abbreviations (``Inc.``, ``Jr.``) that may end a sentence."""

SENTENCE_OPENERS = frozenset(
    [
        "A",
        "An",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "There",
        "It",
        "Its",
        "He",
        "She",
        "His",
        "Her",
        "They",
        "Their",
        "We",
        "Our",
        "I",
        "You",
        "But",
        "And",
        "Yet",
        "So",
        "However",
        "Meanwhile",
        "In",
        "On",
        "At",
        "For",
        "From",
        "After",
        "Before",
        "When",
        "While",
        "If",
        "As",
        "Shares",
        "Analysts",
        "Officials",
    ]
)
"""Common sentence openers: after an acronym, an initial or :data:`ENDABLE_WORDS`, they start a new sentence."""
