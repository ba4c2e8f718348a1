"""Text from files made safe to print: control characters escaped, undecodable bytes shown.

A tag, a token or a file name can hold ESC, OSC or CSI sequences, a carriage return, bidi
overrides, or (file names) bytes that are not UTF-8. :func:`printable` escapes all of them
the way Python's ``repr`` does; :class:`TerminalStream` applies it to a command's output when
that output is a terminal (data written to files and pipes stays byte for byte what it is).

>>> printable("B-\\x1b]0;pwned\\x07LOC")
'B-\\\\x1b]0;pwned\\\\x07LOC'
>>> printable("two\\nlines"), printable("two\\nlines", keep="\\n")
('two\\\\nlines', 'two\\nlines')
>>> printable("caf\\udce9.npz")  # a file name with the Latin-1 byte 0xe9
'caf\\\\xe9.npz'
>>> file_name("caf\\udce9.npz"), file_name("Zürich.txt")
('caf\\\\xe9.npz', 'Zürich.txt')
"""

from __future__ import annotations

import io
import re

__all__ = ["TerminalStream", "file_name", "printable", "unescaped"]

# C0 and C1 controls and DEL; line and paragraph separators; bidi embeddings, overrides,
# isolates and marks (they reorder what follows on the terminal line); lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match) -> str:
    c = match.group()
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that did not decode (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def printable(text, keep: str = "") -> str:
    """``text`` with every control character escaped as ``repr`` would (``\\x1b``, ``\\u202e``),
    except the characters in ``keep`` (e.g. ``"\\n\\t"`` for multi-line output); bytes that
    did not decode (surrogate escapes) become ``\\xNN``."""
    text = str(text)
    if _UNSAFE.search(text) is None:
        return text
    if not keep:
        return _UNSAFE.sub(_escape, text)
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def file_name(path) -> str:
    """A file name as valid Unicode text (for JSON): undecodable bytes as ``\\xNN``."""
    return _SURROGATE.sub(_escape, str(path))


class TerminalStream(io.TextIOBase):
    """A text stream writing through :func:`printable` (newlines and TABs kept) to ``stream``.

    Installed over ``sys.stdout`` and ``sys.stderr`` when they are terminals; everything else
    passes through.
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._stream.write(printable(text, keep="\n\t"))
        return len(text)

    def flush(self):
        self._stream.flush()

    @property
    def raw(self):
        """The terminal's stream beneath, unescaped: for a progress bar, whose text is the program's
        own numbers and labels (and the cursor movements of its redrawing), never a file's."""
        return self._stream

    def isatty(self):
        return True

    def fileno(self):
        return self._stream.fileno()

    def writable(self):
        return True

    @property
    def encoding(self):  # type: ignore[override]  # the wrapped stream's, read-only as a file's is
        return self._stream.encoding

    @property
    def errors(self):  # type: ignore[override]  # the wrapped stream's, read-only
        return self._stream.errors


def unescaped(stream):
    """The stream beneath ``stream`` when it is a :class:`TerminalStream`, else ``stream``: where a
    progress bar draws (its text is the program's own; its redrawing needs ``\\r``)."""
    return stream.raw if isinstance(stream, TerminalStream) else stream
