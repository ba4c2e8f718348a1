"""A warm ``windowclf`` for the hostile-input suite: import once, fork once per case.

Started as ``python forkserver.py`` with the repository on ``sys.path``; it imports the command
line (numpy, scipy, click, matplotlib: about a second) and then answers one JSON request a line
on stdin: ``{"args": [...], "cwd": DIR, "stdin": PATH or null ("closed" closes fd 0),
"stdout": PATH, "stderr": PATH, "timeout": SECONDS, "memory": BYTES}``. For each it forks a
child that is exactly what ``windowclf ARGS`` would be at its start (fresh standard streams on
the given files, default signal handlers, an address-space limit of its current size plus
``memory`` bytes) and runs the command in it; the answer is one JSON line
``{"code": EXIT or null, "signal": N or null, "timeout": bool, "maxrss": KB, "base_rss": KB}``.

The contract is still checked per case: every case is its own process with its own exit code,
streams and files; only the imports are shared.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys
import time
import traceback


def _warm_imports():
    import windowclf.cli.main  # noqa: F401  (numpy, scipy, click and every module the commands use)
    from windowclf.cli import plots  # noqa: F401
    from windowclf.formats import (
        conll,  # noqa: F401
        vectors,  # noqa: F401
    )
    from windowclf.models import container as persistence  # noqa: F401
    from windowclf.models import finetune  # noqa: F401
    from windowclf.nn import gradcheck  # noqa: F401

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot
    except ImportError:
        pass


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _child(request: dict) -> None:
    """Become ``windowclf ARGS``; never returns."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python itself sets it at startup
        stdin = request.get("stdin")
        if stdin == "closed":
            os.close(0)
        else:
            fd = os.open(stdin or os.devnull, os.O_RDONLY)
            os.dup2(fd, 0)
            os.close(fd)
        for target, name in ((1, "stdout"), (2, "stderr")):
            if request.get(name) == "closed":
                os.close(target)
                continue
            fd = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, target)
            os.close(fd)
        # What Python sets up at startup: stdout block-buffered to a file, stderr line by line.
        sys.stdin = (
            None
            if stdin == "closed"
            else io.TextIOWrapper(
                io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="strict"
            )
        )
        sys.stdout = (
            None
            if request.get("stdout") == "closed"
            else io.TextIOWrapper(
                io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="strict"
            )
        )
        sys.stderr = (
            None
            if request.get("stderr") == "closed"
            else io.TextIOWrapper(
                io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                encoding="utf-8",
                errors="backslashreplace",
                line_buffering=True,
            )
        )
        limit = _status_kb("VmSize:") * 1024 + int(request["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.chdir(request["cwd"])
        sys.argv = ["windowclf", *request["args"]]
        from windowclf.cli.main import main

        code = 0
        try:
            main.main(args=request["args"], prog_name="windowclf")
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except BaseException:  # what the interpreter does with an uncaught exception
            traceback.print_exc()
            code = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                code = code or 120  # Python's exit status when flushing at exit fails
        os._exit(code)
    except BaseException:
        try:
            traceback.print_exc()
        finally:
            os._exit(121)


def serve() -> None:
    _warm_imports()
    base_rss = _status_kb("VmRSS:")
    requests = sys.stdin.buffer
    answers = sys.stdout
    print(json.dumps({"ready": True, "base_rss": base_rss}), file=answers, flush=True)
    while line := requests.readline():
        request = json.loads(line)
        answers.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        deadline = time.monotonic() + float(request.get("timeout", 60))
        timed_out = False
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.002)
        answer = {
            "code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timeout": timed_out,
            "maxrss": usage.ru_maxrss,
            "base_rss": base_rss,
        }
        print(json.dumps(answer), file=answers, flush=True)


if __name__ == "__main__":
    serve()
