"""``windowclf presets``: the named settings, what each is and what it was chosen on."""

from __future__ import annotations

import click

from windowclf.cli.options import Command
from windowclf.config.presets import PRESET_ALIASES, PRESETS, canonical_preset, preset_text

__all__ = ["presets"]


@click.command(cls=Command)
@click.argument("name", required=False, metavar="[NAME]")
def presets(name):
    """Print every preset: its name (and old name), what it is, what it was chosen on, its dev F1s
    and its settings; with NAME, that preset alone as a TOML settings file that `train --config`
    reads (old names work too).

    \b
    Example:
      windowclf presets
      windowclf presets window-strong > strong.toml
      windowclf train train.conll --dev dev.conll -o ner.npz --config strong.toml
    """
    if name is not None:
        click.echo(preset_text(canonical_preset(name)), nl=False)
        return
    old = {new: old for old, new in PRESET_ALIASES.items()}
    blocks = []
    for preset_name in PRESETS:
        title = f"== {preset_name}" + (f" (old name: {old[preset_name]})" if preset_name in old else "")
        blocks.append(f"{title}\n{preset_text(preset_name)}")
    click.echo("\n".join(blocks), nl=False)
