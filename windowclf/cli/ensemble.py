"""``windowclf ensemble``: models into one ensemble file; and what ``info`` shows of one."""

from __future__ import annotations

import json
import math
import os

import click

from windowclf._util.limits import require_memory
from windowclf._util.printable import file_name, printable
from windowclf.cli.options import Command, guard_output
from windowclf.cli.reports import format_summary, model_summary
from windowclf.errors import InputError
from windowclf.models.container import ModelFile
from windowclf.models.ensemble import Ensemble, averaging, disagreement, load_any

__all__ = ["ensemble", "ensemble_summary", "show_ensemble"]


@click.command(cls=Command)
@click.argument("model_paths", metavar="MODEL...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The ensemble file to write (never one of the MODELs). Example: -o runs/ensemble.npz",
)
def ensemble(model_paths, out_path):
    """Join trained models into one ensemble file, which predict, evaluate and info read as a model:
    it tags with the mean of its models' probabilities (softmax and one-vs-rest models), or of their
    emission and transition scores (SLL models).

    The models must predict the same tags with the same scheme, output and decoder; their
    vocabularies, windows, features and sizes may differ. A MODEL that is an ensemble adds its
    models. The file holds each model's prediction-only part (as export-model writes it).

    \b
    Example:
      windowclf ensemble -o runs/ensemble.npz runs/seed0.npz runs/seed1.npz runs/seed2.npz
      windowclf evaluate -m runs/ensemble.npz data/sample/dev.conll
    """
    target = guard_output(out_path)
    # Each file's arrays are checked against memory as it is read; all of them together, here,
    # from their headers, before the first is read.
    total = 0
    for path in model_paths:
        with ModelFile(path) as model_file:
            total += model_file.array_bytes
    require_memory(total, f"the arrays of {len(model_paths)} model files together")
    models = [load_any(path, training_state=False) for path in model_paths]
    for path, model in zip(model_paths[1:], models[1:]):
        differs = disagreement(models[0], model)
        if differs is not None:
            raise InputError(
                f"differs from {file_name(model_paths[0])} in {differs}; an ensemble's models "
                "must predict the same tags the same way",
                path,
            )
    joined = Ensemble(models)
    joined.save(target)
    click.echo(
        printable(
            f"wrote {out_path}: an ensemble of {len(joined.members)} model{'s' * (len(joined.members) != 1)}, "
            f"{os.path.getsize(target):,} bytes"
        ),
        err=True,
    )


def show_ensemble(model_path, described: list, as_json: bool, as_toml: bool) -> None:
    """``windowclf info`` of an ensemble file: what its models share, then each model's summary.

    ``described``: (model without a network, shapes, pretrained) per member, as
    :func:`windowclf.models.ensemble.describe_file` gives them.
    """
    if as_toml:
        raise click.UsageError(
            f"--toml: {file_name(model_path)} is an ensemble of {len(described)} models, each "
            "with settings of its own (info without --toml shows them)"
        )
    summary = ensemble_summary(model_path, described)
    members = summary["members"]
    if as_json:
        click.echo(json.dumps(summary))
        return
    lines = [
        f"ensemble:    {summary['path']}: {len(members)} models, tagging with the {summary['averaging']}",
        f"tags:        {len(summary['tags'])} ({summary['scheme']}, {summary['output']} output, "
        f"{summary['decoder']} decoder): {' '.join(summary['tags'])}",
        f"parameters:  {summary['n_parameters']:,} in all",
    ]
    best = [m["best"]["f1"] for m in members if m["best"].get("f1") is not None]
    if best:
        lines.append(
            f"best dev F1: {min(best):.2f} to {max(best):.2f} (each model's own; mean "
            f"{math.fsum(best) / len(best):.2f})"
        )
    for i, member in enumerate(members):
        lines.append(f"member {i}:")
        lines.extend("  " + line for line in format_summary(member).splitlines())
    click.echo("\n".join(lines))


def ensemble_summary(model_path, described: list) -> dict:
    """What ``windowclf info --json`` prints for an ensemble file (``described`` as in
    :func:`show_ensemble`): what its models share and each model's summary."""
    name = file_name(model_path)
    members = [
        model_summary(model, f"{name} [member {i}]", shapes, pretrained)
        for i, (model, shapes, pretrained) in enumerate(described)
    ]
    first = described[0][0]
    return {
        "path": name,
        "ensemble": True,
        "members": members,
        "averaging": averaging(first.settings),
        "tags": list(first.tags),
        "scheme": first.settings.scheme,
        "output": first.settings.output,
        "decoder": first.settings.decoder,
        "n_parameters": sum(m["n_parameters"] for m in members),
    }
