"""What training prints when asked to: the epoch line (``windowclf train``'s and ``fit(verbose=)``'s),
a summary of the data, and a progress bar within each epoch."""

from __future__ import annotations

import sys
import time
from collections import Counter

from windowclf.tags.entities import entity_spans
from windowclf.training.loop import Callback

__all__ = ["ProgressPrinter", "data_line", "format_epoch"]


def format_epoch(record: dict, n_epochs: int, best: bool) -> str:
    """One epoch as a line: ``epoch  3/10  loss 0.4123  dev P  71.20 R  65.00 F1  67.96 *  12,345
    words/s  (train 3.10 s, dev 0.40 s, save 0.10 s)``; ``*`` marks the best dev F1 so far (the
    epoch whose weights are kept).

    ``record`` is a training log record (:meth:`EpochResult.to_dict
    <windowclf.training.loop.EpochResult.to_dict>`, ``save_seconds`` where the command saved).

    >>> format_epoch({"epoch": 3, "train_loss": 0.41234, "words_per_second": 12345.0, "seconds": 3.1}, 10, False)
    'epoch  3/10  loss 0.4123  12,345 words/s  (train 3.10 s)'
    """
    width = len(str(n_epochs))
    line = f"epoch {record['epoch']:>{width}}/{n_epochs}  loss {record['train_loss']:.4f}"
    dev = record.get("dev")
    if dev is not None:
        line += f"  dev P {dev['precision']:6.2f} R {dev['recall']:6.2f} F1 {dev['f1']:6.2f}"
        line += " *" if best else "  "
    line += f"  {record['words_per_second']:,.0f} words/s"
    times = [
        f"{what} {record[key]:.2f} s"
        for what, key in (("train", "seconds"), ("dev", "dev_seconds"), ("save", "save_seconds"))
        if key in record
    ]
    return line + (f"  ({', '.join(times)})" if times else "")


def data_line(what: str, name, sentences, tags) -> str:
    """``training data: train.conll: 14,041 sentences, 203,621 tokens, 23,499 entities (LOC, MISC,
    ORG, PER)`` (``name`` None: no file named).

    >>> data_line("dev data", None, [["Anna", "sings"]], [["B-PER", "O"]])
    'dev data: 1 sentences, 2 tokens, 1 entities (PER)'
    """
    types = Counter(t for seq in tags for t, _, _ in entity_spans(seq))
    names = ", ".join(sorted(types)) or "none"
    where = "" if name is None else f"{name}: "
    return (
        f"{what}: {where}{len(sentences):,} sentences, {sum(map(len, sentences)):,} tokens, "
        f"{sum(types.values()):,} entities ({names})"
    )


class ProgressPrinter(Callback):
    """``fit(verbose=...)``'s output: the data, a progress bar within each epoch, the epoch lines.

    Parameters
    ----------
    tagger : WindowTagger
        The tagger being fitted (its ``best`` epoch marks the lines, its settings give the epochs).
    stream : text stream, optional
        Where to print (default: standard output, looked up when printing, as a notebook swaps it).
    progress : bool or None
        Draw the progress bar (redrawn in place with ``\\r``); None: where the stream can redraw it
        (a terminal, or a Jupyter notebook's output).
    """

    def __init__(self, tagger, stream=None, progress: bool | None = None):
        self.tagger, self._stream, self.progress = tagger, stream, progress
        self.started: float | None = None
        self.drawn = False

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def data(self, sentences, tags, what: str) -> None:
        """Print what ``fit`` is training (or scoring) on."""
        self._print(data_line(what, None, sentences, tags))

    def on_batch_end(self, done: int, total: int) -> None:
        if not self._draws():
            return
        if self.started is None:
            self.started = time.perf_counter()
        width = 30
        filled = width * done // max(total, 1)
        epoch = len(self.tagger.history) + 1
        self.stream.write(f"\repoch {epoch} [{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1)}%")
        self.stream.flush()
        self.drawn = True

    def on_epoch_end(self, result) -> None:
        best = self.tagger.best.get("epoch") == result.epoch
        self._print(format_epoch(result.to_dict(), self.tagger.settings.epochs, best))
        self.started = None

    def _print(self, line: str) -> None:
        if self.drawn:  # the bar's line is cleared, not left beside the epoch line
            self.stream.write("\r" + " " * 60 + "\r")
            self.drawn = False
        self.stream.write(line + "\n")
        self.stream.flush()

    def _draws(self) -> bool:
        if self.progress is not None:
            return self.progress
        stream = self.stream
        try:
            if stream.isatty():
                return True
        except (AttributeError, ValueError, OSError):
            pass
        # a Jupyter kernel's output stream is no terminal but redraws a line on "\r"
        return type(stream).__module__.startswith("ipykernel")
