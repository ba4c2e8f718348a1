"""``windowclf predict --output-dir DIR``: files into a directory, here or on a Dask cluster.

One output per input, a manifest so that a rerun does only what is not done (:mod:`windowclf.batch.jobs`),
a progress bar over the tasks on stderr (redrawn in place on a terminal; elsewhere, as a log, nothing
but the closing summary, which says what a rerun skipped); ``--workers N`` starts a local Dask
cluster of N worker processes on 127.0.0.1, ``--scheduler ADDRESS`` uses a running one
(``windowclf[dask]``).
"""

from __future__ import annotations

import logging
import re
import sys
import time

import click

from windowclf._util.printable import printable, unescaped
from windowclf.batch.jobs import Job
from windowclf.batch.processes import can_fork, run_on_cores
from windowclf.batch.shards import ModelRef, TagOptions
from windowclf.cli.options import command_inputs

__all__ = ["DASK_HINT", "predict_to_dir", "scheduler_address"]

DASK_HINT = "Dask is needed for --workers and --scheduler: pip install 'windowclf[dask]'"
# A running scheduler's address as Dask writes it: a protocol that reaches another process (not
# inproc://, which names one inside this process), a host name or IP (IPv6 in brackets), a port.
_ADDRESS = re.compile(
    r"(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9._-]*):(?P<port>[0-9]{1,5})"
)


def scheduler_address(ctx, param, value):
    """The ``--scheduler`` option's value checked before anything connects: a BadParameter naming it
    for what no scheduler can be at (Dask's own parser raises a traceback's worth of ValueError)."""
    if value is None:
        return None
    found = _ADDRESS.fullmatch(value.strip())
    if found is None or not 1 <= int(found["port"]) <= 65535:
        raise click.BadParameter(
            f"{value!r} is not a scheduler's address; expected PROTOCOL://HOST:PORT with the protocol "
            "tcp, tls, ws, wss or ucx (tcp:// when left out) and a port from 1 to 65535, "
            "e.g. tcp://10.0.0.5:8786",
            ctx,
            param,
        )
    return value.strip() if found["scheme"] else f"tcp://{value.strip()}"


class _Progress:
    """``tasks 3/8, 1,204,550 tokens, 512,330 tokens/s`` on one stderr line, redrawn in place on a
    terminal; a stream that is not one (a log file, a pipe) gets no frames (``\r`` redraws would
    pile up there as one endless line)."""

    def __init__(self, stream=None):
        self.stream = stream or unescaped(sys.stderr)  # its text is its own numbers
        self.start = time.perf_counter()
        self.drawn = False
        try:
            self.live = bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            self.live = False

    def __call__(self, done: int, total: int, tokens: int) -> None:
        if not self.live:
            return
        seconds = max(time.perf_counter() - self.start, 1e-9)
        width = 24
        filled = width * done // max(total, 1)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] tasks {done}/{total}, {tokens:,} tokens, "
            f"{tokens / seconds:,.0f} tokens/s"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def predict_to_dir(
    ref: ModelRef,
    inputs,
    out_dir,
    options: TagOptions,
    *,
    workers=None,
    scheduler=None,
    block_size=None,
    progress=True,
    jobs: int = 1,
) -> list:
    """What ``predict --output-dir`` does with the model ``ref`` (:func:`~windowclf.batch.shards.model_ref`,
    checked before); returns the job's records, one per input. Without Dask, ``jobs`` processes tag
    the files' segments (:func:`~windowclf.batch.processes.run_on_cores`)."""
    if out_dir is None:
        raise click.UsageError("--workers and --scheduler write files: give --output-dir DIR")
    if workers and scheduler:
        raise click.UsageError("give --workers N (a local cluster) or --scheduler ADDRESS, not both")
    if not inputs:
        raise click.UsageError("--output-dir needs INPUT files (stdin cannot be split into files)")
    bar = _Progress() if progress else None
    block_bytes = None if block_size is None else int(block_size * (1 << 20))
    try:
        if not (workers or scheduler):
            # one task a file, or on several processes one a segment (none when they cannot be forked)
            whole = 1 if jobs > 1 and can_fork() else 0
            job = Job(
                inputs,
                out_dir,
                ref,
                options,
                block_bytes=block_bytes if block_bytes is not None else whole,
                protect=command_inputs(),
            )
            records = run_on_cores(job, jobs, bar)
        else:
            records = _on_dask(inputs, out_dir, ref, options, workers, scheduler, block_bytes, bar)
    finally:
        if bar is not None:
            bar.close()
    skipped = [r["input"] for r in records if r.get("skipped")]
    tokens = sum(r["tokens"] for r in records)
    files = f"{len(records)} file{'s' * (len(records) != 1)}"
    line = f"{files} in {out_dir}: {tokens:,} tokens (manifest: {out_dir}/manifest.json)"
    if skipped:  # a rerun: what the manifest showed done, and was left as it was
        shown = ", ".join(skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        line += f"; {len(skipped)} skipped, done already: {shown}"
    click.echo(printable(line), err=True)
    return records


def _on_dask(inputs, out_dir, ref, options, workers, scheduler, block_bytes, bar):
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise click.ClickException(DASK_HINT) from None
    from windowclf.batch.on_dask import tag_files, tagging_config

    with dask.config.set(tagging_config()):
        if scheduler:
            try:
                client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError) as err:  # nothing there, or not a scheduler: the environment's
                raise click.ClickException(f"cannot reach the scheduler at {scheduler} ({err})") from None
            with client:
                return tag_files(
                    inputs,
                    out_dir,
                    ref,
                    client,
                    options=options,
                    block_bytes=block_bytes,
                    progress=bar,
                    protect=command_inputs(),
                )
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
                silence_logs=logging.CRITICAL,  # a task's failure reaches the client as its exception: one line
            ) as cluster,
            Client(cluster) as client,
        ):
            return tag_files(
                inputs,
                out_dir,
                ref,
                client,
                options=options,
                block_bytes=block_bytes,
                progress=bar,
                protect=command_inputs(),
            )
