"""Reading a CoNLL file's lines: decoding, numbering, and refusing binary data or over-long lines.

Every error names the file and the 1-based line; :func:`windowclf.conll.parse_incr` reads through here.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import IO, Iterator

from windowclf.errors import ConfigError, InputError

# Nothing public: windowclf.conll reads its files through these helpers.
__all__: list[str] = []

# C0 control characters other than TAB, LF, VT, FF and CR never occur in text files.
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1f]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1f]")
_LINE_END = " \t\r\n"


def _numbered_lines(file_obj: IO, path, encoding: str, max_line_length: int) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its end or trailing blanks)."""
    if _is_binary(file_obj):
        yield from _decoded_lines(file_obj, path, encoding, max_line_length)
        return
    number = 0
    while True:
        try:
            text = file_obj.readline(max_line_length + 2)
        except UnicodeDecodeError as err:
            # A text stream decodes in blocks, so the failing line is only approximately known.
            raise InputError(
                f"cannot decode text ({err.reason}) at or after this line; "
                "open the file in binary mode for an exact position or pass another encoding",
                path=path,
                line=number + 1,
            ) from err
        if not text:
            return
        number += 1
        if number == 1:
            text = text.removeprefix("\ufeff")
        _check_text(text, path, number, max_line_length)
        yield number, text.rstrip(_LINE_END)


def _is_binary(file_obj: IO) -> bool:
    if isinstance(file_obj, io.TextIOBase):
        return False
    return isinstance(file_obj, (io.RawIOBase, io.BufferedIOBase)) or "b" in str(getattr(file_obj, "mode", ""))


def _decoded_lines(file_obj: IO, path, encoding: str, max_line_length: int) -> Iterator[tuple[int, str]]:
    codec = _ascii_compatible_codec(encoding)
    # UTF-8 needs at most 4 bytes a character; 2 more for a CRLF line end.
    byte_limit = 4 * max_line_length + 2
    number = 0
    while True:
        raw = file_obj.readline(byte_limit)
        if not raw:
            return
        number += 1
        if number == 1 and codec.name == "utf-8":
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if _BINARY_BYTES.search(raw):
            raise InputError("binary data; is this a CoNLL text file?", path=path, line=number)
        if len(raw) >= byte_limit and not raw.endswith(b"\n"):
            raise _too_long(path, number, max_line_length)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as err:
            raise InputError(
                f"cannot decode byte {raw[err.start]:#04x} at column {err.start + 1} as {encoding} "
                f"({err.reason}); choose another encoding (encoding=, or --encoding on the command line)",
                path=path,
                line=number,
            ) from err
        if len(text) > max_line_length and len(text.rstrip("\r\n")) > max_line_length:
            raise _too_long(path, number, max_line_length)
        yield number, text.rstrip(_LINE_END)


def _check_text(text: str, path, number: int, max_line_length: int) -> None:
    if _BINARY_CHARS.search(text):
        raise InputError("binary data; is this a CoNLL text file?", path=path, line=number)
    if len(text.rstrip("\r\n")) > max_line_length:
        raise _too_long(path, number, max_line_length)


def _too_long(path, number: int, max_line_length: int) -> InputError:
    return InputError(
        f"line longer than {max_line_length:,} characters; is this a CoNLL file with one token a line?",
        path=path,
        line=number,
    )


def _ascii_compatible_codec(encoding: str) -> codecs.CodecInfo:
    try:
        codec = codecs.lookup(encoding)
    except LookupError as err:
        raise ConfigError(f"unknown encoding {encoding!r}") from err
    # Lines are split on b"\n" before decoding, which only works when the newline is one byte.
    if "\n \t".encode(codec.name) != b"\n \t":
        raise ConfigError(f"encoding {encoding!r} is not ASCII-compatible; re-encode the file as UTF-8")
    return codec
