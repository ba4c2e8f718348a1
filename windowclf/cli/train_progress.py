"""What ``windowclf train`` does as the epochs go: the progress bar within an epoch, the line
after it, the training log (``MODEL.log.jsonl``, :class:`TrainingLog`) and a save after every
better epoch (:class:`Reporter`)."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

import click

from windowclf._util.atomic import atomic_writer
from windowclf._util.outputs import open_regular
from windowclf._util.printable import unescaped
from windowclf.cli.reports import epoch_record
from windowclf.errors import InputError
from windowclf.training.loop import Callback
from windowclf.training.progress import format_epoch

__all__ = ["Reporter", "TrainingLog"]


class TrainingLog:
    """MODEL.log.jsonl, following the model file: nothing is written before an epoch is done.

    The first record replaces the log atomically, after the records of the epochs the resumed
    model holds (read from the resumed model's log, if it has one); later records are appended.
    A run that fails before its first epoch (a bad option, divergence, Ctrl-C) leaves the log
    as it was, as it leaves the model.
    """

    def __init__(self, target, resumed_log=None, epochs_kept: int = 0):
        self.target, self.resumed_log, self.epochs_kept = target, resumed_log, epochs_kept
        self.file: TextIO | None = None

    def write(self, record: dict) -> None:
        if self.file is None:
            self.start([json.dumps(record) + "\n"])
        else:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()

    def start(self, first=()) -> None:
        """Replace the log with the kept records and ``first``, then keep it open for appending."""
        if self.file is not None:
            return
        with atomic_writer(self.target, "w", encoding="utf-8") as f:
            f.writelines(self._kept() + list(first))
        self.file = open(self.target, "a", encoding="utf-8")  # noqa: SIM115 - the log stays open; close() closes it

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def _kept(self) -> list:
        """Lines of the resumed model's log for the epochs the model holds (not any after them)."""
        if self.resumed_log is None or not self.epochs_kept:
            return []
        kept = []
        try:
            with open_regular(self.resumed_log, "a training log") as f:
                while line := f.readline(_MAX_LOG_LINE):
                    try:
                        record = json.loads(line)
                        if 1 <= record["epoch"] <= self.epochs_kept:
                            kept.append(line.decode("utf-8").rstrip("\n") + "\n")
                    except (ValueError, KeyError, TypeError, RecursionError):
                        continue
        except (OSError, InputError):  # no log, or not one: the records start again
            return []
        return kept


_MAX_LOG_LINE = 1 << 20


class Reporter(Callback):
    """Progress bar within an epoch, one line after it, the log, and a save after every better epoch."""

    def __init__(self, tagger, model_path, log, progress, slim=False):
        self.tagger, self.model_path, self.log, self.progress = tagger, model_path, log, progress
        self.slim = slim  # prediction-only saves (--slim)
        self.bar = None
        self.done = 0
        self.epochs_done = 0  # in this run

    def on_batch_end(self, done, total):
        if not self.progress:
            return
        if self.bar is None:
            label = f"epoch {len(self.tagger.history) + 1}"
            # the bar's own text (a label and numbers) goes to the terminal beneath the escaping stream
            self.bar = click.progressbar(length=total, label=label, file=unescaped(sys.stderr))
            self.bar.__enter__()
            self.done = 0
        self.bar.update(done - self.done)
        self.done = done

    def close_bar(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def on_epoch_end(self, result):
        self.close_bar()
        record = epoch_record(result)
        # The model is saved when the epoch is the best so far (every epoch without --dev), with
        # that epoch's training state: a killed run resumes from there and replays the epochs
        # after it exactly (same state, same random numbers), and an epoch that did not improve
        # costs no save. The command saves once more at the end, with the last epoch's state.
        if self.tagger.best.get("epoch") == result.epoch:
            t0 = time.perf_counter()
            self.tagger.save(self.model_path, slim=self.slim)
            record["save_seconds"] = round(time.perf_counter() - t0, 3)
        self.log.write(record)
        self.epochs_done += 1
        click.echo(format_epoch(record, self.tagger.settings.epochs, self.tagger.best.get("epoch") == result.epoch))
