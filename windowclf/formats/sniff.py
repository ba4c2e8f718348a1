"""Which form an input is in: JSON lines, CoNLL columns or raw text, from its name and first bytes.

Structured input is never taken for prose: a file named ``.jsonl`` / ``.json`` / ``.ndjson``, or
whose first non-blank line is a JSON object (or array), is JSON lines (read as such, or refused
with the line that is not a record); a file whose first lines are word and tag columns is CoNLL;
anything else is raw text.

>>> input_form("x.txt", head=b'\\xef\\xbb\\xbf{"tokens": ["a"], "ner_tags": ["O"]}\\n')
'jsonl'
>>> input_form("x.txt", head=b"EU B-ORG\\nrejects O\\nGerman B-MISC\\ncall O\\n.  O\\n\\n")
'conll'
>>> input_form("x.txt", head=b"[Reuters] EU rejects German call.\\n")
'text'
"""

from __future__ import annotations

import codecs
import json
from collections import Counter

from windowclf.formats.jsonl import looks_like_jsonl
from windowclf.tags.entities import split_tag

__all__ = ["FORMS", "HEAD_BYTES", "input_form", "read_head"]

FORMS = ("text", "conll", "jsonl")
"""The forms an input can be in."""

HEAD_BYTES = 1 << 16
"""How much of an input's start :func:`input_form` looks at."""


def read_head(path) -> bytes:
    """The first :data:`HEAD_BYTES` of the file ``path`` (b"" where it cannot be read: reading it
    later names the problem)."""
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError:
        return b""


def input_form(name, *, head: bytes | None = None, encoding: str = "utf-8") -> str:
    """``"jsonl"``, ``"conll"`` or ``"text"``: the form of the input named ``name`` whose first
    bytes are ``head`` (None: read from the file ``name``).

    Parameters
    ----------
    name : str or path-like
        The input's name (its suffix can say JSON lines).
    head : bytes, optional
        Its first bytes (up to :data:`HEAD_BYTES`; standard input passes what it peeked).
    encoding : str
        How to decode them.
    """
    if looks_like_jsonl(name):
        return "jsonl"
    if head is None:
        head = read_head(name)
    if codecs.lookup(encoding).name == "utf-8":
        head = head.removeprefix(codecs.BOM_UTF8)
    text = head.decode(encoding, errors="replace")
    lines = text.splitlines()
    complete = lines[:-1] if len(head) >= HEAD_BYTES else lines  # the last line may be cut short
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("{") or (first.startswith("[") and _is_json(first)):
        return "jsonl"
    return "conll" if _looks_like_columns(complete) else "text"


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _looks_like_columns(lines: list) -> bool:
    """Whether the first lines are word and tag columns: most of them the same number of fields (at
    least two), and the last field a tag (``O``, or a B-/I-/E-/S- prefixed type) or one of a few values."""
    rows = [line.split() for line in lines if line.strip() and not line.startswith("-DOCSTART-")][:50]
    if len(rows) < 3:
        return False
    width, count = Counter(len(fields) for fields in rows).most_common(1)[0]
    last = [fields[-1] for fields in rows if len(fields) == width]
    tagged = sum(t == "O" or (split_tag(t)[0] in "BIES" and "-" in t) for t in last)
    return (
        width >= 2
        and count >= 0.9 * len(rows)
        and "O" in last
        and (tagged >= 0.9 * len(last) or len(set(last)) <= max(2, len(last) // 4))
    )
