"""``windowclf predict --output-dir DIR``: files into a directory, here or on a Dask cluster.

One output per input, a manifest so that a rerun does only what is not done (:mod:`windowclf.batch.jobs`),
a progress bar over the tasks on stderr (redrawn in place on a terminal; elsewhere, as a log, nothing
but the closing summary, which says what a rerun skipped); ``--workers N`` starts a local Dask
cluster of N worker processes on 127.0.0.1, ``--scheduler ADDRESS`` uses a running one
(``windowclf[dask]``).
"""

from __future__ import annotations

import logging
import sys
import time

import click

from windowclf._util.printable import printable
from windowclf.batch.jobs import Job, run_in_process
from windowclf.batch.shards import ModelRef, TagOptions

__all__ = ["DASK_HINT", "predict_to_dir"]

DASK_HINT = "Dask is needed for --workers and --scheduler: pip install 'windowclf[dask]'"


class _Progress:
    """``tasks 3/8, 1,204,550 tokens, 512,330 tokens/s`` on one stderr line, redrawn in place on a
    terminal; a stream that is not one (a log file, a pipe) gets no frames (``\r`` redraws would
    pile up there as one endless line)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
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
    ref: ModelRef, inputs, out_dir, options: TagOptions, *, workers=None, scheduler=None, block_size=None, progress=True
) -> list:
    """What ``predict --output-dir`` does with the model ``ref`` (:func:`~windowclf.batch.shards.model_ref`,
    checked before); returns the job's records, one per input."""
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
            job = Job(inputs, out_dir, ref, options, block_bytes=block_bytes if block_bytes is not None else 0)
            records = run_in_process(job, bar)
        else:
            records = _on_dask(inputs, out_dir, ref, options, workers, scheduler, block_bytes, bar)
    finally:
        if bar is not None:
            bar.close()
    skipped = [r["input"] for r in records if r.get("skipped")]
    tokens = sum(r["tokens"] for r in records)
    line = f"{len(records)} files in {out_dir}: {tokens:,} tokens (manifest: {out_dir}/manifest.json)"
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
            with Client(scheduler, timeout="30s") as client:
                return tag_files(inputs, out_dir, ref, client, options=options, block_bytes=block_bytes, progress=bar)
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            return tag_files(inputs, out_dir, ref, client, options=options, block_bytes=block_bytes, progress=bar)
