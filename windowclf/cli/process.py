"""The command's process: SIGTERM handled as Ctrl-C, closed standard streams, safe terminal output.

:func:`command_process` wraps one command of the ``windowclf`` group:

- SIGTERM raises :class:`~windowclf.errors.Terminated` (a KeyboardInterrupt) in the main
  thread, so everything Ctrl-C does happens for it too: training keeps its best model, atomic
  writes remove their temporary file, and the command exits 143 with one line.
- A closed standard stream (``<&-``, ``>&-``, ``2>&-``) is reopened on ``/dev/null`` so no
  file the command opens can take its descriptor. Reading a closed stdin is an InputError (one
  line, exit 2); writing to a closed stdout is a write error (one line, exit 1), as for the
  coreutils (a closed pipe is another matter: it ends the command quietly, exit 141); what goes
  to a closed stderr goes nowhere.
- Output that cannot be encoded (a file name's undecodable bytes) is written escaped, not an
  error. Every line to a terminal, on stdout and on stderr, passes through the one escape,
  :func:`windowclf._util.printable.printable` (a progress bar, whose text is the command's own
  numbers, writes to the terminal beneath: :attr:`TerminalStream.raw
  <windowclf._util.printable.TerminalStream.raw>`); the library's log records (a duplicate
  word in a vector file, a job waiting for another) become ``Warning:`` lines through it too.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import signal
import sys
import threading

from windowclf._util.printable import TerminalStream, printable
from windowclf.errors import InputError, Terminated

__all__ = ["command_process"]


class _ClosedInput(io.RawIOBase):
    """What stdin reads when it was closed: an InputError, not a traceback or silent emptiness."""

    def readable(self):
        return True

    def readinto(self, b):
        raise InputError("standard input is closed; give INPUT files or pipe text in", "<stdin>")


class _ClosedOutput(io.TextIOBase):
    """What stdout is when it was closed: every write a write error (EBADF), as the coreutils say it."""

    encoding = "utf-8"
    errors = "strict"

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            raise OSError(errno.EBADF, "write error: standard output is closed (Bad file descriptor)", "<stdout>")
        return 0


class _Warnings(logging.Handler):
    """The library's log records of WARNING and above as ``Warning:`` lines on stderr, made safe."""

    def emit(self, record):
        try:
            sys.stderr.write(f"Warning: {printable(record.getMessage())}\n")
            sys.stderr.flush()
        except Exception:  # logging's own rule: a handler never raises, it reports
            self.handleError(record)


def _terminate(signum, frame):
    # One SIGTERM stops the command; more while it saves its best model and cleans up would
    # only cut that short, so they are ignored until the command is done.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


@contextlib.contextmanager
def command_process():
    """Run one command with the handling above; the previous handlers and streams come back after."""
    _fill_closed_descriptors()
    saved = sys.stdin, sys.stdout, sys.stderr
    if sys.stdin is None:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedInput()))
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - stands in for the stream for good
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="backslashreplace")
    for name in ("stdout", "stderr"):
        if _isatty(getattr(sys, name)):
            setattr(sys, name, TerminalStream(getattr(sys, name)))
    handler = _Warnings(logging.WARNING)
    library = logging.getLogger("windowclf")
    library.addHandler(handler)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        yield
    finally:
        library.removeHandler(handler)
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, TerminalStream):
                with contextlib.suppress(Exception):
                    stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _fill_closed_descriptors() -> None:
    """Open /dev/null on any of descriptors 0, 1, 2 that is closed."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:  # a lower descriptor was free after all: put it where it belongs
                os.dup2(opened, fd)
                os.close(opened)
