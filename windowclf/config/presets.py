"""Named settings (presets) and settings files (TOML): the configurations without their flags.

A preset is a TOML settings file shipped inside the package (``windowclf/config/presets/NAME.toml``):
a comment header saying what it is, what it was chosen on and its dev F1s, then its settings.
``windowclf presets`` prints them all, ``windowclf presets NAME`` one as a file ``train --config``
reads. Presets are named for what they are; the names they had before are aliases
(:data:`PRESET_ALIASES`), since model files' provenance and users' scripts name them.

A settings file is TOML: setting names as keys (``hidden = 500``, ``features = ["caps", "shape"]``),
optionally a ``preset = "window-strong"`` key that the file's other keys override, and
optionally a ``[data]`` table that records what a model was made from (``windowclf info --toml``
writes it; reading settings leaves it alone). On the command line, flags override the file, which
overrides the preset. ``windowclf info --toml`` prints a model's settings in the same TOML, so a
model's configuration can start another run.
"""

from __future__ import annotations

import json
import sys
from importlib import resources

from windowclf._util.hashing import open_input
from windowclf.config.settings import Settings, near_names
from windowclf.errors import ConfigError, InputError

__all__ = [
    "DATA_TABLE",
    "MAX_SETTINGS_BYTES",
    "NEEDS_VECTORS",
    "PRESETS",
    "PRESET_ALIASES",
    "canonical_preset",
    "preset",
    "preset_header",
    "preset_text",
    "read_settings_file",
    "to_toml",
    "toml_string",
]

DATA_TABLE = "data"
"""The table of a settings file that records a model's data (files, how they were read): not settings."""
# A settings file holds a few dozen short lines; a larger one is not one.
MAX_SETTINGS_BYTES = 1 << 20

# Old names of presets: (the name now, why the old one still works).
PRESET_ALIASES = {"best-train-only": "window-strong", "best-glove": "window-strong-vectors"}
# Presets that start from pretrained vectors: train refuses them without --embeddings.
NEEDS_VECTORS = frozenset({"window-strong-vectors"})
_ORDER = ("default", "window-strong", "window-strong-vectors")  # how `windowclf presets` lists them


def preset_text(name: str) -> str:
    """The TOML file of preset ``name`` (or an alias; case-insensitive), comment header included."""
    canonical = canonical_preset(name)
    return (
        resources.files("windowclf.config")
        .joinpath("presets")
        .joinpath(f"{canonical}.toml")
        .read_text(encoding="utf-8")
    )


def preset_header(name: str) -> list:
    """The comment header of preset ``name``'s file: its lines without the ``#``."""
    lines = []
    for line in preset_text(name).splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return lines


def canonical_preset(name: str) -> str:
    """The name of preset ``name`` now (case-insensitive; an old name gives the new one).

    >>> canonical_preset("Best-Glove"), canonical_preset("window-strong")
    ('window-strong-vectors', 'window-strong')
    """
    key = str(name).strip().lower()
    key = PRESET_ALIASES.get(key, key)
    if key not in _ORDER:
        names = ", ".join([*_ORDER, *(f"{old} (= {new})" for old, new in PRESET_ALIASES.items())])
        raise ConfigError(f"unknown preset {name!r} (expected one of {names})")
    return key


def _load(name: str) -> dict:
    return _toml().loads(preset_text(name))


def preset(name: str) -> dict:
    """The settings of preset ``name`` (case-insensitive, or an old name), as a new dict.

    >>> preset("window-strong-vectors")["keep_pretrained_vocab"], preset("default")
    (True, {})
    """
    return json.loads(json.dumps(PRESETS[canonical_preset(name)]))  # a deep copy: lists inside stay the caller's


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


# name -> settings, read from the package's TOML files once
PRESETS: dict[str, dict] = {name: _load(name) for name in _ORDER}


def read_settings_file(path) -> dict:
    """Settings from a TOML file: its preset (if it names one) updated with its other keys.

    Every key must be a setting (or ``preset``), every value valid for it; errors name the file.
    """
    tomllib = _toml()
    try:
        with open_input(path, "a TOML settings file") as f:
            raw = f.read(MAX_SETTINGS_BYTES + 1)
    except OSError as err:
        raise InputError(f"cannot read the settings file ({err.strerror})", path) from None
    if len(raw) > MAX_SETTINGS_BYTES:
        raise InputError(f"larger than {MAX_SETTINGS_BYTES:,} bytes; expected a TOML settings file", path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not a TOML settings file ({err})", path) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise InputError("not a TOML settings file (nested too deeply)", path) from None
    if DATA_TABLE in data and not isinstance(data[DATA_TABLE], dict):
        raise InputError(f"{DATA_TABLE} must be a table ([{DATA_TABLE}]) recording the model's data", path)
    data.pop(DATA_TABLE, None)  # what the model was made from: a record, not a setting
    try:
        base = preset(data.pop("preset")) if "preset" in data else {}
    except ConfigError as err:
        raise InputError(str(err), path) from None
    known = set(Settings().to_dict())
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"unknown setting {unknown[0]!r}{near_names(unknown[0], known)} (windowclf train --help lists them)", path
        )
    merged = {**base, **data}
    try:
        Settings.from_dict(merged)
    except ConfigError as err:
        raise InputError(str(err), path) from None
    return merged


def to_toml(settings: dict, data: dict | None = None) -> str:
    """A settings dict as TOML that :func:`read_settings_file` reads back to the same settings, then
    ``data`` (what the model was made from) as a ``[data]`` table that it leaves alone.

    >>> print(to_toml({"window": 5, "features": ["caps", "suffix3"], "max_vocab": None, "lr": 0.1}), end="")
    window = 5
    features = ["caps", "suffix3"]
    # max_vocab: unset
    lr = 0.1
    >>> print(to_toml({"window": 5}, {"train": {"name": "eng.train", "sha256": None}}), end="")
    window = 5
    <BLANKLINE>
    [data]
    train = { name = "eng.train" }
    """
    lines = [_toml_line(name, value) for name, value in settings.items()]
    if data:
        lines += ["", f"[{DATA_TABLE}]"] + [
            _toml_line(name, value) for name, value in data.items() if value is not None
        ]
    return "\n".join(lines) + "\n"


def _toml_line(name: str, value) -> str:
    if value is None:
        return f"# {name}: unset"
    return f"{_toml_key(name)} = {_toml_value(name, value)}"


def _toml_value(name: str, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(name, v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(k, v)}" for k, v in value.items() if v is not None) + " }"
        )
    raise TypeError(f"setting {name} has a value TOML cannot hold: {value!r}")


def _toml_key(name: str) -> str:
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else toml_string(name)


# What a TOML basic string must escape: the quote, the backslash, and every control character but TAB.
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quote, backslash and control characters (DEL and the C0
    controls but TAB) escaped, the rest as it is.

    >>> print(toml_string('a"b\\\\c\\x7f\\x1bé'))
    "a\\"b\\\\c\\u007f\\u001bé"
    """
    out = []
    for c in text:
        if c in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[c])
        elif (ord(c) < 0x20 and c != "\t") or c == "\x7f":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'
