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

What a job writes and removes is its own:

- The input's size and modification time are taken before any of it is read, and recorded with
  its output: an input changed while it was tagged no longer matches its record, so the next run
  tags it again (and this one says so in a warning).
- Tasks write into the job's own folder, ``DIR/.windowclf-parts/job-*``, and a finished output is
  moved into place from there; the job removes that folder, and nothing else, when it ends (a
  run killed outright leaves it, and the next job into ``DIR`` removes it). Files of the user's
  in ``DIR`` are never touched, whatever their names.
- Two jobs into one folder do not run at once: a job holds a lock on the folder itself (``flock``
  on the directory, so no lock file is left behind) from its first look at the manifest to its
  end; a second job waits for the first, saying so in a warning, and then skips what the first
  did.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from typing import NamedTuple

from windowclf._util.atomic import atomic_writer
from windowclf._util.hashing import file_sha256
from windowclf._util.outputs import check_output, open_regular
from windowclf._util.printable import printable
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
from windowclf.errors import ConfigError, InputError

__all__ = ["MANIFEST", "PARTS", "Job", "Task", "run_in_process", "run_tasks"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PARTS = ".windowclf-parts"
_JOB_PREFIX = "job-"  # the jobs' own folders inside PARTS
_MANIFEST_VERSION = 1
_MAX_MANIFEST_BYTES = 256 * 2**20  # a record is a few hundred bytes: a million files
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
    collide, no output is an input (of the job, or among ``protect``: label -> path of other files
    the caller read, such as the model), the options are valid. ``model`` is a
    :class:`~windowclf.batch.shards.ModelRef` (so the model was loaded once already). ``block_bytes``:
    block size (None: about ``workers`` x 4 blocks over the job, at least one segment each; 0: one
    task per file). Holds the folder's lock until :meth:`close` (which :func:`run_tasks` calls).
    """

    def __init__(
        self,
        inputs,
        out_dir,
        model: ModelRef,
        options: TagOptions,
        *,
        block_bytes: int | None = None,
        workers: int = 1,
        protect: dict | None = None,
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
        guarded = {**{path: path for path in self.inputs}, **(protect or {})}
        if model.path is not None:
            guarded.setdefault("the model", model.path)
        for output in [*self.outputs, os.path.join(self.out_dir, MANIFEST)]:  # never an input, a directory, a device
            check_output(output, guarded)
        os.makedirs(self.out_dir, exist_ok=True)
        self._lock = _FolderLock(self.out_dir)
        self._own: str | None = None
        try:
            self._start(block_bytes, workers)
        except BaseException:
            self.close()
            raise

    def _start(self, block_bytes, workers) -> None:
        self._remove_stale_parts()  # under the lock: no other job is running, what is there is a dead job's
        # What is read is what was there now: an input changed from here on is tagged again next time.
        self._seen = [self._stat(i) for i in range(len(self.inputs))]
        self.records = _read_manifest(os.path.join(self.out_dir, MANIFEST))
        self.skipped = [i for i in range(len(self.inputs)) if self._is_done(i)]
        todo = [i for i in range(len(self.inputs)) if i not in self.skipped]
        if block_bytes is None:
            total = sum(self._seen[i]["input_bytes"] for i in todo)
            block_bytes = max(SEGMENT_BYTES, total // max(1, workers * _TASKS_PER_WORKER))
        self.tasks: list = []
        self._pending: dict = {}
        self._reports: dict = {}
        if todo:
            os.makedirs(self._parts_dir(), exist_ok=True)
            self._own = tempfile.mkdtemp(prefix=_JOB_PREFIX, dir=self._parts_dir())
        for i in todo:
            blocks = plan_blocks(self.inputs[i], self.options, block_bytes or None)
            own = self._own or ""
            if len(blocks) == 1:
                self.tasks.append(Task(len(self.tasks), i, self.inputs[i], os.path.join(own, self.names[i])))
            else:
                for block in blocks:
                    part = os.path.join(own, f"{self.names[i]}.{block.index:05d}")
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
        if not record or any(record.get(k) != v for k, v in self._seen[i].items()):
            return False
        return _output_sha256(self.outputs[i]) == record.get("sha256")

    def finished(self, task: Task, report: dict) -> dict | None:
        """Record a task's report; when it was its file's last, put the file's output in place (its
        parts joined) and return the file's record."""
        self._reports.setdefault(task.file, []).append((task.order, report))
        self._pending[task.file] -= 1
        if self._pending[task.file]:
            return None
        reports = [r for _, r in sorted(self._reports.pop(task.file), key=lambda pair: pair[0])]
        i = task.file
        if len(reports) > 1:
            joined = os.path.join(self._own or "", self.names[i])
            with open(joined, "wb") as out:
                sha256, size = join_parts(reports, out, self.options, self.inputs[i])
                out.flush()
                os.fsync(out.fileno())
            for r in reports:
                os.unlink(r["output"])
        else:
            joined, sha256, size = reports[0]["output"], reports[0]["sha256"], reports[0]["bytes"]
        os.replace(joined, self.outputs[i])  # the job's folder is inside DIR: one file system, atomic
        record = {
            **self._seen[i],
            "output": self.names[i],
            "blocks": len(reports),
            "tokens": sum(r["tokens"] for r in reports),
            "sentences": sum(r["sentences"] for r in reports),
            "seconds": sum(r["seconds"] for r in reports),
            "bytes": size,
            "sha256": sha256,
        }
        now = self._stat(i)
        if (now["input_bytes"], now["input_mtime_ns"]) != (record["input_bytes"], record["input_mtime_ns"]):
            log.warning(
                "%s changed while it was tagged; the next run tags it again",
                printable(self.inputs[i]),
            )
        self.records[self.names[i]] = record
        with atomic_writer(os.path.join(self.out_dir, MANIFEST), "w", encoding="utf-8") as f:
            json.dump({"version": _MANIFEST_VERSION, "files": self.records}, f, indent=1, sort_keys=True)
            f.write("\n")
        return record

    def close(self) -> None:
        """Remove the job's own folder (parts, and temporary files of a task killed while writing)
        and let go of the folder's lock; nothing else in the folder is touched."""
        try:
            if self._own is not None:
                shutil.rmtree(self._own, ignore_errors=True)
                self._own = None
            with contextlib.suppress(OSError):  # absent, or not empty
                os.rmdir(self._parts_dir())
        finally:
            self._lock.release()

    def __del__(self):  # a job made and never run (its tasks only looked at) lets go of the folder too
        with contextlib.suppress(Exception):
            if getattr(self, "_lock", None) is not None:
                self.close()

    def _remove_stale_parts(self) -> None:
        """The folders of jobs killed outright (SIGKILL, a power cut) before they could remove them."""
        with contextlib.suppress(OSError):
            for entry in os.scandir(self._parts_dir()):
                if entry.name.startswith(_JOB_PREFIX) and entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)

    def result(self) -> list:
        """One record per input, in input order (from the manifest), each with ``skipped``: whether
        this run found it done and left it."""
        return [
            None if self.records.get(name) is None else {**self.records[name], "skipped": i in self.skipped}
            for i, name in enumerate(self.names)
        ]


class _FolderLock:
    """An exclusive ``flock`` on the folder ``path`` itself, held until :meth:`release` (or until the
    lock is garbage, as a Job never run is); a job that finds it held by another process says so
    (a warning) and waits. A second job of the same process into the same folder is refused
    instead (waiting for itself would never end). Where ``flock`` does not exist, no lock."""

    def __init__(self, path: str):
        self.fd: int | None = None
        self.key = os.path.realpath(path)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            return
        if self.key in _HELD:
            raise ConfigError(
                f"{printable(path)}: a job of this process is writing into this folder; run or close it first"
            )
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        _HELD.add(self.key)
        try:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.warning("%s: another job is writing into this folder; waiting for it to end", printable(path))
                fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor lets go of the lock
            self.fd = None
            _HELD.discard(self.key)

    def __del__(self):
        self.release()


_HELD: set = set()  # the folders this process's jobs hold


def _read_manifest(path: str) -> dict:
    """The manifest's records; a missing, unreadable or malformed manifest records nothing (all is
    redone), and one that is there but unreadable or malformed is said so in a warning. A file that
    is not a regular one is never read (a FIFO would block)."""
    if not os.path.lexists(path):
        return {}
    why = "not the JSON of a manifest"
    try:
        with open_regular(path, "a manifest (manifest.json)") as f:
            raw = f.read(_MAX_MANIFEST_BYTES + 1)
        if len(raw) > _MAX_MANIFEST_BYTES:
            why = f"larger than {_MAX_MANIFEST_BYTES:,} bytes"
        else:
            data = json.loads(raw.decode("utf-8"))
            files = data.get("files") if isinstance(data, dict) and data.get("version") == _MANIFEST_VERSION else None
            if isinstance(files, dict):
                return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, dict)}
            why = f"not a version {_MANIFEST_VERSION} manifest"
    except RecursionError:
        why = "nested too deeply"
    except (OSError, InputError) as err:
        why = str(err)
    except (ValueError, KeyError, TypeError):
        pass
    log.warning("%s: %s; every input is tagged again", printable(path), why)
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
