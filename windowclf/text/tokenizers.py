"""The tokenizers besides the CoNLL-2003 rules: pre-tokenized lines, and social media text.

:mod:`windowclf.text.tokenize` offers three, by name (``tokenizer=`` there, ``--tokenizer`` on the
command line):

- ``conll``: the CoNLL-2003 (Reuters) conventions of :mod:`windowclf.text.tokenize`;
- ``whitespace``: text that is tokenized already: a token is a run of characters without
  whitespace, and every line is a sentence (:func:`whitespace_paragraph`);
- ``social``: the CoNLL rules, but @mentions, #hashtags, emoticons (``:)``, ``;-P``, ``<3``,
  ``^_^``) and emoji (with their skin tones, variation selectors, keycaps, flags and ZWJ
  sequences) are single tokens (:data:`SOCIAL_SHAPES`, tried before the CoNLL rules at every
  position).

Every tokenizer cuts text into tokens that hold no whitespace and, flattened, are the text's
non-whitespace characters in order, so that each token's offsets slice it back out of the text.
"""

from __future__ import annotations

import re

__all__ = ["SOCIAL_SHAPES", "TOKENIZER_NAMES", "whitespace_paragraph"]

TOKENIZER_NAMES = ("conll", "whitespace", "social")
"""The tokenizers by name, the default first."""

# Emoji: the pictographs and symbols of the emoji sets, then what joins them into one picture.
_PICTOGRAPH = (
    "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    "\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934\u2935\u2b05-\u2b07"
    "\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]"
)
# skin tones, the emoji variation selector, the keycap mark, and the tag characters of subdivision flags
_MODIFIER = "[\U0001f3fb-\U0001f3ff\ufe0f\u20e3\U000e0020-\U000e007f]"
_EMOJI = (
    "(?:[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    "|[0-9#*]\ufe0f?\u20e3"  # a keycap: 1️⃣
    f"|{_PICTOGRAPH}{_MODIFIER}*(?:\u200d{_PICTOGRAPH}{_MODIFIER}*)*)"  # ZWJ sequences: 👩‍💻
)

SOCIAL_SHAPES = (
    # (a pattern for re.VERBOSE: its spaces are not part of it, and "#" is written as [#])
    r"""
      [@][^\W]+                                         # @mention (letters, digits, _)
    | [#][^\W]+                                         # #hashtag
    | (?:[<>]?[:;=][-o^'*]?[()\[\]dDpP/\\|*3@$]+        # :) ;-P :'( =D >:( :)))
         | [<]/?3+                                      # <3 </3
         | \^[_.-]?\^ | -_- | [oO]_[oO] | T_T | [xX]D+  # ^_^ ^^ -_- o_O T_T xD
      )(?![^\W_])
    | """
    + _EMOJI
)
"""The shapes the ``social`` tokenizer keeps whole (a regular expression for ``re.VERBOSE``)."""

_SOLID = re.compile(r"\S+")
# every line break str.splitlines knows (as windowclf.text.sentences cuts lines)
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def whitespace_paragraph(text: str, start: int, end: int, base: int):
    """The ``whitespace`` tokenizer's split of the paragraph text[start:end]: tokens are the runs of
    non-whitespace characters, and a sentence starts after every line break.

    Returns ``(texts, starts, ends, firsts)`` (offsets plus ``base``; ``firsts``: the index of each
    sentence's first token) or None when the paragraph holds no token, as the splitters of
    :mod:`windowclf.text.sentences` do.

    >>> whitespace_paragraph("EU rejects German call .\\nPeter Blackburn", 0, 40, 0)[::3]
    (['EU', 'rejects', 'German', 'call', '.', 'Peter', 'Blackburn'], [0, 5])
    """
    spans = [m.span() for m in _SOLID.finditer(text, start, end)]
    if not spans:
        return None
    firsts = [0] + [i for i in range(1, len(spans)) if _LINE_BREAK.search(text, spans[i - 1][1], spans[i][0])]
    return [text[a:b] for a, b in spans], [a + base for a, _ in spans], [b + base for _, b in spans], firsts
