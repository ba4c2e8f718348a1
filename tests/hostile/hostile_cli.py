"""The warm command line of the hostile-input suite: one fork server a session, one fork a case."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from support import REPO

HERE = Path(__file__).resolve().parent
# Memory a case may take beyond the warm process it is forked from (its address-space limit).
MEMORY = 1536 * 2**20
TIMEOUT = 60.0
# A tiny network, so training is a fraction of a second.
TINY = ["--epochs", "1", "--hidden", "4", "--dim", "3", "--min-count", "1", "--no-progress"]


@dataclass
class Result:
    code: int | None
    signal: int | None
    timeout: bool
    stdout: bytes
    stderr: bytes
    rss_growth: int  # bytes above the warm process's resident size


class WarmCli:
    """One fork server for the session; :meth:`run` is one case in a directory of :meth:`new_dir`."""

    def __init__(self):
        self.scratch = Path(tempfile.mkdtemp(prefix="windowclf-hostile-"))
        env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "forkserver.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=self.scratch,
        )
        ready = json.loads(self.proc.stdout.readline())
        assert ready.get("ready"), ready
        self.count = 0

    def new_dir(self) -> Path:
        """A fresh directory for one case."""
        self.count += 1
        where = self.scratch / f"case{self.count}"
        where.mkdir()
        return where

    def run(self, args, cwd: Path, stdin=None, stdout="file", stderr="file") -> Result:
        streams = self.new_dir()
        request = {
            "args": [str(a) for a in args],
            "cwd": str(cwd),
            "timeout": TIMEOUT,
            "memory": MEMORY,
            "stdin": stdin if stdin in (None, "closed") else str(stdin),
            "stdout": "closed" if stdout == "closed" else str(streams / "stdout"),
            "stderr": "closed" if stderr == "closed" else str(streams / "stderr"),
        }
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        read = lambda name: (streams / name).read_bytes() if (streams / name).exists() else b""
        result = Result(
            answer["code"],
            answer["signal"],
            answer["timeout"],
            read("stdout"),
            read("stderr"),
            (answer["maxrss"] - answer["base_rss"]) * 1024,
        )
        shutil.rmtree(streams, ignore_errors=True)
        return result

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.scratch, ignore_errors=True)
