"""A tagging job: many input files into one directory, in shards, on any engine.

Output ``i`` is named after input ``i`` (``news.txt`` -> ``DIR/news.txt.conll``, ``.txt`` for
inline, ``.jsonl`` for JSON and for JSON lines input written back in its form). A file larger than
a block is cut into blocks (runs of its segments, :func:`windowclf.batch.shards.plan_blocks`) whose
parts are joined in order (:func:`~windowclf.batch.shards.join_parts`); every file is written
atomically, so a file is either its whole output or absent. ``DIR/manifest.json`` records for each
output its input (path, size, modification time), the model's sha256, the options, tokens,
sentences and the output's sha256: a rerun skips the files whose record, model, options and
output still agree, and redoes the rest. The engine only runs :func:`windowclf.batch.shards.tag_shard`
on the job's tasks (a loop here, Dask in :mod:`windowclf.batch.on_dask`, Spark in the README).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
from typing import NamedTuple

from windowclf._util.atomic import atomic_writer
from windowclf._util.hashing import file_sha256
from windowclf._util.outputs import check_output
from windowclf.batch.segments import SEGMENT_BYTES
from windowclf.batch.shards import (
    ModelRef,
    TagOptions,
    join_parts,
    load_model,
    model_options,
    output_suffix,
    plan_blocks,
    tag_shard,
)
from windowclf.errors import ConfigError

__all__ = ["MANIFEST", "Job", "Task", "run_in_process", "run_tasks"]

MANIFEST = "manifest.json"
PARTS = ".windowclf-parts"
_MANIFEST_VERSION = 1
_TASKS_PER_WORKER = 4  # blocks per worker when the block size is left to the job


class Task(NamedTuple):
    """Shard ``order`` of the job: block (or whole file) ``source`` of input ``file``, into ``output``."""

    order: int
    file: int
    source: object
    output: str


class Job:
    """The files still to tag and the tasks that tag them; see the module docstring.

    Checks everything it can before any task runs: the inputs exist and are files, no two outputs
    collide, the options are valid. ``model`` is a :class:`~windowclf.batch.shards.ModelRef` (so the
    model was loaded once already). ``block_bytes``: block size (None: about ``workers`` x 4
    blocks over the job, at least one segment each; 0: one task per file).
    """

    def __init__(
        self, inputs, out_dir, model: ModelRef, options: TagOptions, *, block_bytes: int | None = None, workers: int = 1
    ):
        self.inputs = [os.fspath(p) for p in inputs]
        if not self.inputs:
            raise ConfigError("no input files: name the files to tag into the output directory")
        self.out_dir, self.model = os.fspath(out_dir), model
        self.options = model_options(options, load_model(model))  # what the options leave to the model
        options = self.options
        names: dict[str, int] = {}
        for path in self.inputs:
            if path == "-":
                raise ConfigError("stdin cannot be tagged into an output directory; name files")
            if not os.path.isfile(path):
                os.stat(path)  # FileNotFoundError / PermissionError, named as predict names them
                raise IsADirectoryError(21, "Is a directory, expected a file", path)
            name = os.path.basename(path) + output_suffix(options, path)
            if name in names:
                raise ConfigError(
                    f"{names[name]} and {path} would both be written to {name}; "
                    "tag files of the same name into different directories"
                )
            names[name] = path
        self.names = list(names)
        self.outputs = [os.path.join(self.out_dir, name) for name in self.names]
        for output in [*self.outputs, os.path.join(self.out_dir, MANIFEST)]:  # never an input, a directory, a device
            check_output(output, {path: path for path in self.inputs})
        os.makedirs(self.out_dir, exist_ok=True)
        self.records = _read_manifest(os.path.join(self.out_dir, MANIFEST))
        self.skipped = [i for i in range(len(self.inputs)) if self._is_done(i)]
        todo = [i for i in range(len(self.inputs)) if i not in self.skipped]
        if block_bytes is None:
            total = sum(os.path.getsize(self.inputs[i]) for i in todo)
            block_bytes = max(SEGMENT_BYTES, total // max(1, workers * _TASKS_PER_WORKER))
        self._clean(todo)
        self.tasks: list = []
        self._pending: dict = {}
        self._reports: dict = {}
        for i in todo:
            blocks = plan_blocks(self.inputs[i], options, block_bytes or None)
            if len(blocks) == 1:
                self.tasks.append(Task(len(self.tasks), i, self.inputs[i], self.outputs[i]))
            else:
                os.makedirs(self._parts_dir(), exist_ok=True)
                for block in blocks:
                    part = os.path.join(self._parts_dir(), f"{self.names[i]}.{block.index:05d}")
                    self.tasks.append(Task(len(self.tasks), i, block, part))
            self._pending[i] = sum(1 for t in self.tasks if t.file == i)

    def _parts_dir(self) -> str:
        return os.path.join(self.out_dir, PARTS)

    def _stat(self, i: int) -> dict:
        st = os.stat(self.inputs[i])
        return {
            "input": self.inputs[i],
            "input_bytes": st.st_size,
            "input_mtime_ns": st.st_mtime_ns,
            "model_sha256": self.model.sha256,
            "options": self.options.to_dict(),
        }

    def _is_done(self, i: int) -> bool:
        record = self.records.get(self.names[i])
        if not record or any(record.get(k) != v for k, v in self._stat(i).items()):
            return False
        return _output_sha256(self.outputs[i]) == record.get("sha256")

    def finished(self, task: Task, report: dict) -> dict | None:
        """Record a task's report; when it was its file's last, join the parts and return the file's record."""
        self._reports.setdefault(task.file, []).append((task.order, report))
        self._pending[task.file] -= 1
        if self._pending[task.file]:
            return None
        reports = [r for _, r in sorted(self._reports.pop(task.file), key=lambda pair: pair[0])]
        i = task.file
        if len(reports) > 1:
            with atomic_writer(self.outputs[i], "wb") as out:
                sha256, size = join_parts(reports, out, self.options, self.inputs[i])
            for r in reports:
                os.unlink(r["output"])
        else:
            sha256, size = reports[0]["sha256"], reports[0]["bytes"]
        record = {
            **self._stat(i),
            "output": self.names[i],
            "blocks": len(reports),
            "tokens": sum(r["tokens"] for r in reports),
            "sentences": sum(r["sentences"] for r in reports),
            "seconds": sum(r["seconds"] for r in reports),
            "bytes": size,
            "sha256": sha256,
        }
        self.records[self.names[i]] = record
        with atomic_writer(os.path.join(self.out_dir, MANIFEST), "w", encoding="utf-8") as f:
            json.dump({"version": _MANIFEST_VERSION, "files": self.records}, f, indent=1, sort_keys=True)
            f.write("\n")
        return record

    def close(self) -> None:
        """Remove what tasks leave behind: parts, and temporary files of a task killed while writing."""
        self._clean(range(len(self.inputs)))

    def _clean(self, files) -> None:
        for i in files:
            name = glob.escape(self.names[i])
            for stale in glob.glob(os.path.join(glob.escape(self.out_dir), f".{name}.*.tmp")):
                _unlink(stale)
            parts = os.path.join(glob.escape(self._parts_dir()), "")
            for stale in glob.glob(parts + f"{name}.*") + glob.glob(parts + f".{name}.*.tmp"):
                _unlink(stale)
        with contextlib.suppress(OSError):  # absent, or another job's parts are in it
            os.rmdir(self._parts_dir())

    def result(self) -> list:
        """One record per input, in input order (from the manifest), each with ``skipped``: whether
        this run found it done and left it."""
        return [
            None if self.records.get(name) is None else {**self.records[name], "skipped": i in self.skipped}
            for i, name in enumerate(self.names)
        ]


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _read_manifest(path: str) -> dict:
    """The manifest's records; a missing or unreadable manifest records nothing (all is redone)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        files = data["files"] if data.get("version") == _MANIFEST_VERSION else {}
        return {k: v for k, v in files.items() if isinstance(v, dict)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _output_sha256(path: str) -> str | None:
    """The sha256 of an output, None when it cannot be read (then it is not done)."""
    try:
        return file_sha256(path)
    except OSError:
        return None


def run_tasks(job: Job, results, progress=None) -> list:
    """Drive ``job`` with ``results``: (task, report or exception) pairs as tasks finish, in any order.

    Raises the error of the first failing task in input order (what tagging the files one after
    another would raise first) once the tasks before it are done; files finished by then keep
    their outputs and records. ``progress(done, total, tokens)`` is called after every task.
    Returns :meth:`Job.result`.
    """
    first_error, done, tokens = None, 0, 0
    try:
        for task, outcome in results:
            done += 1
            if isinstance(outcome, BaseException):
                if first_error is None or task.order < first_error[0]:
                    first_error = (task.order, outcome)
                continue
            tokens += outcome["tokens"]
            if first_error is None or task.order < first_error[0]:
                job.finished(task, outcome)
            if progress is not None:
                progress(done, len(job.tasks), tokens)
    finally:
        job.close()
    if first_error is not None:
        raise first_error[1]
    return job.result()


def run_in_process(job: Job, progress=None) -> list:
    """Run the job's tasks here, one after another (stopping at the first error)."""

    def results():
        for task in job.tasks:
            try:
                report = tag_shard(job.model, task.source, task.output, job.options)
            except Exception as err:
                yield task, err
                return
            yield task, report

    return run_tasks(job, results(), progress)
