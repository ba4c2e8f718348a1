"""The project's error types: each names where the problem is and what was expected."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DivergenceError",
    "InputError",
    "ModelFileError",
    "Terminated",
    "WindowclfError",
    "interruption",
]


class WindowclfError(Exception):
    """Base class of every error windowclf raises on purpose."""


class InputError(WindowclfError, ValueError):
    """Malformed input data: names the path, the line (1-based) and what was expected.

    ``str(err)`` is one line: ``path:line: message`` (``path: message`` with no line).
    """

    def __init__(self, message: str, path=None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self._format())

    def __reduce__(self):
        # Raised on a Dask or Spark worker, it travels back as its parts, not as its one-line text.
        return type(self), (self.message, self.path, self.line)

    def _format(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class ModelFileError(InputError):
    """A model file that cannot be loaded: wrong format, version, shape or content."""


class ConfigError(WindowclfError, ValueError):
    """An invalid setting (hyperparameter, option value)."""


class DivergenceError(WindowclfError, ArithmeticError):
    """Training produced a non-finite loss or parameter."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the command line's handler and handled as Ctrl-C is
    (a KeyboardInterrupt, so whatever cleans up after Ctrl-C cleans up after it too)."""


def interruption(err: KeyboardInterrupt) -> tuple[str, int]:
    """What to say about an interruption and the exit code: 128 plus the signal's number.

    >>> interruption(KeyboardInterrupt()), interruption(Terminated())
    (('Interrupted', 130), ('Terminated', 143))
    """
    return ("Terminated", 143) if isinstance(err, Terminated) else ("Interrupted", 130)
