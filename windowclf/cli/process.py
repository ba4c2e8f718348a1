"""The command's process: SIGTERM handled as Ctrl-C, closed standard streams, safe terminal output.

:func:`command_process` wraps one command of the ``windowclf`` group:

- SIGTERM raises :class:`~windowclf.errors.Terminated` (a KeyboardInterrupt) in the main
  thread, so everything Ctrl-C does happens for it too: training keeps its best model, atomic
  writes remove their temporary file, and the command exits 143 with one line.
- A closed standard stream (``<&-``, ``>&-``, ``2>&-``) is reopened on ``/dev/null`` so no
  file the command opens can take its descriptor; reading a closed stdin is an InputError
  (one line, exit 2), output to a closed stdout or stderr goes nowhere.
- Output that cannot be encoded (a file name's undecodable bytes) is written escaped, not an
  error; output to a terminal passes through :func:`windowclf._util.printable.printable`.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading

from windowclf._util.printable import TerminalStream
from windowclf.errors import InputError, Terminated

__all__ = ["command_process"]


class _ClosedInput(io.RawIOBase):
    """What stdin reads when it was closed: an InputError, not a traceback or silent emptiness."""

    def readable(self):
        return True

    def readinto(self, b):
        raise InputError("standard input is closed; give INPUT files or pipe text in", "<stdin>")


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
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - stands in for the stream for good
        elif isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="backslashreplace")
        setattr(sys, name, stream)
    if _isatty(sys.stdout):
        sys.stdout = TerminalStream(sys.stdout)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        yield
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if isinstance(sys.stdout, TerminalStream):
            with contextlib.suppress(Exception):
                sys.stdout.flush()
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
