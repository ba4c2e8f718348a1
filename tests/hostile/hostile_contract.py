"""One hostile case and the contract every command keeps on it, whatever the input.

A :class:`Case` is a command line, the files it finds (the world's valid files, some replaced
by damaged ones, plus FIFOs, links and directories where it asks), what it reads on stdin and
which paths it may write. :func:`check` runs it and asserts the README's promises:

- it ends by itself (no hang: a timeout fails) with exit 0, 1 or 2, not killed by a signal;
- no traceback and no Python warning on stderr; at most one ``Error:`` line, and for exit 2
  exactly one, the last; the error is never "out of memory" (every size is checked first);
- stdout and stderr are valid UTF-8, and JSON output is JSON of valid Unicode;
- no file that was there changes (bytes, mtime, kind), unless it is one of the case's outputs
  and the command succeeded (or, exit 1, saved what it had); no new file but those outputs;
  no temporary file is left; nothing outside the case's directory changes;
- memory stays bounded: the address space is limited and the peak resident size is checked.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from hostile_cli import MEMORY

# What warnings.warn prints ("file.py:12: RuntimeWarning: overflow"), not a command's own notices.
PYTHON_WARNING = re.compile(r"\b[A-Z]\w*Warning: ")


@dataclass
class Case:
    args: list
    files: dict = field(default_factory=dict)  # name -> bytes, written over the world's copy
    outputs: tuple | None = None  # paths the command may create or replace [default: its -o, or --resume]
    stdin: bytes | str | None = None  # bytes to read, "closed", or None (/dev/null)
    stdout: str = "file"  # or "closed"
    stderr: str = "file"
    specials: tuple = ()  # ("fifo", name) ("dir", name) ("symlink", name, target) ("hardlink", name, target)
    #                       ("devnull", name): a character device

    def describe(self) -> str:
        damaged = {name: (len(data), data[:120]) for name, data in self.files.items()}
        return (
            f"windowclf {' '.join(map(repr, self.args))}\n  damaged files: {damaged}\n  specials: {self.specials}"
            f"\n  stdin: {self.stdin if not isinstance(self.stdin, bytes) else self.stdin[:120]!r}"
            f"  stdout: {self.stdout}  stderr: {self.stderr}"
        )


def prepare(world: Path, where: Path, case: Case) -> Path:
    """The case's directory: a copy of the world, the damaged files, the special files."""
    cwd = where / "cwd"
    shutil.copytree(world, cwd)
    for name, data in case.files.items():
        (cwd / name).write_bytes(data)
    for kind, name, *target in case.specials:
        path = cwd / name
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dir":
            path.mkdir()
            (path / "inside.txt").write_text("x")
        elif kind == "symlink":
            os.symlink(target[0], path)
        elif kind == "hardlink":
            os.link(cwd / target[0], path)
        elif kind == "devnull":
            # A character device to write at. Never the machine's /dev/null: run as root (a CI
            # container), a command that wrongly replaced it would break the machine, not a test.
            if os.geteuid() == 0:
                os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            else:
                os.symlink(os.devnull, path)  # not root: /dev/null cannot be replaced
    return cwd


def snapshot(root: Path) -> dict:
    """Every path under root: its kind, and for files a hash of the bytes and the mtime."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = os.lstat(path)
            key = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                out[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_ino)
            elif stat.S_ISDIR(st.st_mode):
                out[key] = ("dir",)
            else:
                out[key] = (oct(stat.S_IFMT(st.st_mode)),)
    return out


def outputs_of(args) -> tuple:
    """What a command line writes: its ``-o``, or for ``train --resume`` without one the resumed model."""
    if "-o" in args[:-1]:
        return (args[args.index("-o") + 1],)
    if args and args[0] == "train" and "--resume" in args[:-1]:
        return (args[args.index("--resume") + 1],)
    return ()


def _json_out(args) -> bool:
    """The command prints JSON lines: ``--format json``, or ``--json`` and no other format."""
    pairs = set(itertools.pairwise(args))
    return ("--format", "json") in pairs or ("--json" in args and "--toml" not in args and "--format" not in args)


def _allowed(key: str, outputs) -> bool:
    """``key`` is an output, the log beside a model output, or a directory holding one."""
    return any(key in (output, f"{output}.log.jsonl") or output.startswith(key + os.sep) for output in outputs)


def check(cli, world: Path, case: Case) -> None:
    """Run ``case`` in a fresh copy of ``world`` and assert the contract; the copy is removed after."""
    where = cli.new_dir()
    cwd = prepare(world, where, case)
    stdin = case.stdin
    if isinstance(stdin, bytes):
        (where / "stdin").write_bytes(stdin)
        stdin = where / "stdin"
    before = snapshot(where)
    devnull = os.stat(os.devnull)

    result = cli.run(case.args, cwd, stdin=stdin, stdout=case.stdout, stderr=case.stderr)

    after = snapshot(where)
    err = result.stderr.decode("utf-8", "backslashreplace")
    detail = (
        f"\n{case.describe()}\nexit {result.code} signal {result.signal} timeout {result.timeout} "
        f"rss +{result.rss_growth / 2**20:.0f} MiB\nstderr: {err[-3000:]}\nstdout: {result.stdout[:500]!r}"
    )
    assert not result.timeout, "the command hung" + detail
    assert result.signal is None and result.code in (0, 1, 2), "exit status outside 0, 1, 2" + detail
    assert "Traceback" not in err and not PYTHON_WARNING.search(err), "a traceback or a Python warning" + detail
    for stream in (result.stdout, result.stderr):
        stream.decode("utf-8")  # raises on invalid UTF-8
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) <= 1, "more than one Error line" + detail
    if result.code == 2 and case.stderr != "closed":
        assert errors and lines[-1] == errors[0], "exit 2 without one Error line at the end" + detail
    assert not any("out of memory" in line for line in errors), "an allocation was not checked" + detail
    assert result.rss_growth <= MEMORY, "memory beyond the limit" + detail
    if result.code == 0 and _json_out(case.args) and result.stdout:
        for line in result.stdout.decode("utf-8").strip("\n").split("\n"):  # JSON lines: U+2028 is not an end
            json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")  # valid Unicode only
    # Files: the world's files unchanged unless they are outputs of a command that wrote them.
    may_write = result.code in (0, 1)
    outputs = outputs_of(case.args) if case.outputs is None else case.outputs
    # An output that is a symbolic link is written where it points, as the shell's > would.
    outputs += tuple(
        before[f"cwd{os.sep}{out}"][1] for out in outputs if before.get(f"cwd{os.sep}{out}", ("",))[0] == "link"
    )
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    for key in sorted(changed):
        inside = key[len("cwd" + os.sep) :] if key.startswith("cwd" + os.sep) else None
        assert inside is not None and may_write and _allowed(inside, outputs), (
            f"{key} changed: {before.get(key)} -> {after.get(key)}" + detail
        )
    assert not [key for key in after if key.endswith(".tmp")], "a temporary file was left" + detail
    now = os.stat(os.devnull)
    assert (now.st_ino, stat.S_ISCHR(now.st_mode)) == (devnull.st_ino, True), "/dev/null changed" + detail
    shutil.rmtree(where, ignore_errors=True)
