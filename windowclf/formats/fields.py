"""What a token or a tag may hold: one field of a column file, whatever format it was read from.

A CoNLL file cannot give a token or tag with a space, a TAB or a line end inside (they separate
fields and lines), nor one with another C0 control character (the reader refuses those lines as
binary data). Every other reader (JSON lines, the library's ``fit``) checks its tokens and tags
with :func:`check_field`, so that whatever any reader accepts is what a column file can hold: the
model trained on it saves, loads, and writes its vocabulary and tags back out (``predict``,
``export-embeddings``, ``info``).

>>> check_field("New York", "token", "hub.jsonl", 3)
Traceback (most recent call last):
...
windowclf.errors.InputError: hub.jsonl:3: token 'New York' holds a space; expected a single field of a column ...
"""

from __future__ import annotations

import re

from windowclf.errors import InputError

__all__ = ["NOT_IN_A_FIELD", "check_field"]

NOT_IN_A_FIELD = re.compile("[\x00-\x20]")
"""The characters no token or tag holds: space, TAB, line ends and the other C0 controls."""

_NAMES = {" ": "a space", "\t": "a TAB", "\n": "a line feed", "\r": "a carriage return", "\x1b": "an ESC"}


def check_field(value, what: str, path=None, line: int | None = None) -> str:
    """``value`` if it is a non-empty string with none of :data:`NOT_IN_A_FIELD`; else InputError
    naming ``what`` (``"token"``, ``"tag"``, ``"label"``), the file and the line."""
    if not isinstance(value, str) or not value:
        raise InputError(f"{what} {value!r} is not a non-empty string", path, line)
    found = NOT_IN_A_FIELD.search(value)
    if found is not None:
        char = found.group()
        name = _NAMES.get(char, f"the control character {char!r}")
        raise InputError(
            f"{what} {value!r} holds {name}; expected a single field of a column file "
            "(no space, TAB or control character)",
            path,
            line,
        )
    return value
