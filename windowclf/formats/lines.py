"""Reading a CoNLL file's lines: decoding, numbering, and refusing binary data or over-long lines.

Every error names the file and the 1-based line; :func:`windowclf.formats.conll.parse_incr` reads through here.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import IO

from windowclf.errors import ConfigError, InputError

# Nothing public but the check of an encoding: windowclf.formats.conll reads its files through these helpers.
__all__ = ["numbered_lines", "text_codec"]

# C0 control characters other than TAB, LF, VT, FF and CR never occur in text files.
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1f]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1f]")
# VT, FF and CR end lines or pad them; inside a line they would end up inside a token, where no
# word-vector file can hold them (export-embeddings could not write the model's vocabulary).
_INLINE_BREAKS = re.compile("[\x0b\x0c\r]")
_BREAK_NAMES = {"\x0b": "a vertical tab (VT)", "\x0c": "a form feed (FF)", "\r": "a carriage return (CR)"}
_LINE_END = " \t\r\n\x0b\x0c"


def numbered_lines(
    file_obj: IO, path, encoding: str, max_line_length: int, first_line: int = 1
) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its end or trailing blanks); the stream's first
    line is number ``first_line`` (a part of a file, read from a line start)."""
    if _is_binary(file_obj):
        yield from _decoded_lines(file_obj, path, encoding, max_line_length, first_line)
        return
    number = first_line - 1
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


def _decoded_lines(
    file_obj: IO, path, encoding: str, max_line_length: int, first_line: int = 1
) -> Iterator[tuple[int, str]]:
    codec = _ascii_compatible_codec(encoding)
    # UTF-8 needs at most 4 bytes a character; 2 more for a CRLF line end.
    byte_limit = 4 * max_line_length + 2
    number = first_line - 1
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
        yield number, _check_inline(text.rstrip(_LINE_END), path, number)


def _check_text(text: str, path, number: int, max_line_length: int) -> None:
    if _BINARY_CHARS.search(text):
        raise InputError("binary data; is this a CoNLL text file?", path=path, line=number)
    if len(text.rstrip("\r\n")) > max_line_length:
        raise _too_long(path, number, max_line_length)
    _check_inline(text.rstrip(_LINE_END), path, number)


def _check_inline(text: str, path, number: int) -> str:
    found = _INLINE_BREAKS.search(text)
    if found:
        hint = "; does the file end its lines with CR alone (old Mac)?" if found.group() == "\r" else ""
        raise InputError(
            f"{_BREAK_NAMES[found.group()]} inside the line (column {found.start() + 1}); "
            f"expected tokens without control characters{hint}",
            path=path,
            line=number,
        )
    return text


# Text an ASCII-compatible encoding writes as ASCII does: line ends, blanks, a long word.
_ASCII_SAMPLE = "\n \tA-z.0,;:'\"" + "a" * 100 + "\r\n"


def text_codec(encoding, *, ascii_compatible: bool = False) -> codecs.CodecInfo:
    """The codec of a text encoding; ConfigError for an unknown one, for a codec that is not a
    text encoding (rot13, base64, zlib: they map str to str or bytes to bytes), and with
    ``ascii_compatible`` for one that does not write newlines, spaces and TABs as ASCII does
    (UTF-16, EBCDIC: lines are found before they are decoded)."""
    try:
        codec = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        raise ConfigError(f"unknown encoding {encoding!r}") from None
    if not getattr(codec, "_is_text_encoding", True):
        raise ConfigError(f"{encoding!r} is a codec but not a text encoding; expected one such as utf-8 or latin-1")
    if ascii_compatible:
        try:
            encoder = codec.incrementalencoder()
            encoder.encode("A")  # a byte-order mark (utf-8-sig) comes first, then plain text
            decoder = codec.incrementaldecoder()
            decoder.decode(encoder.encode("A"))
            same = (
                encoder.encode(_ASCII_SAMPLE) == _ASCII_SAMPLE.encode("ascii")
                and decoder.decode(_ASCII_SAMPLE.encode("ascii"), final=True) == _ASCII_SAMPLE
            )
        except (UnicodeError, ValueError, TypeError, LookupError):
            same = False
        if not same:
            raise ConfigError(f"encoding {encoding!r} is not ASCII-compatible; re-encode the file as UTF-8")
    return codec


def _too_long(path, number: int, max_line_length: int) -> InputError:
    return InputError(
        f"line longer than {max_line_length:,} characters; is this a CoNLL file with one token a line?",
        path=path,
        line=number,
    )


def _ascii_compatible_codec(encoding: str) -> codecs.CodecInfo:
    # Lines are split on b"\n" before decoding, which only works when the newline is one byte.
    return text_codec(encoding, ascii_compatible=True)
