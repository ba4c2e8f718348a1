"""Where ``windowclf train``'s settings come from: the preset, updated by the settings file,
updated by the flags; and errors that name each setting by where it was set (its flag, the
settings file, or the preset)."""

from __future__ import annotations

import json
import re

import click

from windowclf._util.printable import printable
from windowclf.config.parameters import PARAMETERS
from windowclf.config.presets import PRESET_ALIASES, canonical_preset
from windowclf.errors import ConfigError, InputError

__all__ = ["chosen_settings", "current_preset", "set_where", "settings_error"]


def set_where(sources, name: str, value, rest: str) -> Exception:
    """The error "``name`` = ``value`` ``rest``" naming where the setting was set: its flag
    (``--epochs 0 trains nothing``), the settings file (``cfg.toml: epochs = 0 trains nothing``),
    or the preset."""
    kind, where = sources.get(name, ("flag", None))
    shown = json.dumps(value) if isinstance(value, (bool, str)) else str(value)
    if kind == "file":
        return InputError(f"{name} = {shown} {rest}", where)
    if kind == "preset":
        return click.UsageError(f"--preset {where}: {name} = {shown} {rest}")
    flag = "--" + name.replace("_", "-")
    return click.UsageError(f"{flag} {rest}" if isinstance(value, bool) else f"{flag} {shown} {rest}")


def settings_error(err: ConfigError, sources) -> Exception:
    """A settings error, each setting it names by where it was set: a flag as the flag
    (``--hidden 10000000``), a setting of the settings file as itself, in an error naming the
    file (the first such setting decides); ``sources`` as :func:`chosen_settings` gives them."""
    message = str(err)
    named = [m.group(m.lastindex or 0) for m in _NAMED.finditer(message)]
    in_file = next((sources[n][1] for n in named if sources.get(n, ("",))[0] == "file"), None)

    def rename(m):
        name = m.group(m.lastindex or 0)
        return name if sources.get(name, ("flag",))[0] != "flag" else "--" + name.replace("_", "-")

    text = _NAMED.sub(rename, message)
    if in_file is not None:
        return InputError(text, in_file)
    return ConfigError(text)


# A setting named in a message: its first word, any setting with an underscore in its name, or one
# followed by its value or its rule ("hidden 10000000, window 3", "lr must be").
_SPELLED = "|".join(sorted(PARAMETERS, key=len, reverse=True))


_NAMED = re.compile(
    rf"^({_SPELLED})(?= )"
    rf"|(?<![-\w'])({'|'.join(n for n in PARAMETERS if '_' in n)})(?![\w'])"
    rf"|(?<![-\w'])({_SPELLED})(?= \d| must| =|[,;)])"
)


def current_preset(name: str) -> str:
    """The preset's name now; an old name works, with a note on stderr."""
    canonical = canonical_preset(name)
    if name.strip().lower() in PRESET_ALIASES:
        click.echo(f"Note: preset {printable(name)} is now named {canonical}", err=True)
    return canonical


def chosen_settings(preset_name, config_path, flags) -> tuple:
    """The settings given: the preset, updated by the settings file, updated by the flags; and
    where each was set (name -> ("preset", NAME), ("file", PATH) or ("flag", None))."""
    from windowclf.config.presets import preset, read_settings_file

    chosen = preset(preset_name) if preset_name else {}
    sources = dict.fromkeys(chosen, ("preset", preset_name))
    if config_path:
        from_file = read_settings_file(config_path)
        chosen.update(from_file)
        sources.update(dict.fromkeys(from_file, ("file", config_path)))
    chosen.update(flags)
    sources.update(dict.fromkeys(flags, ("flag", None)))
    return chosen, sources
