"""Named settings (presets) and settings files (TOML): the configurations without their flags.

A preset is a dict of Settings fields; ``best-train-only`` and ``best-glove`` are the best
configurations of the README's results (``scripts/reproduce_conll2003`` trains them from here).
A settings file is TOML: setting names as keys (``hidden = 500``, ``features = ["caps", "shape"]``),
optionally a ``preset = "best-train-only"`` key that the file's other keys override, and
optionally a ``[data]`` table that records what a model was made from (``windowclf info --toml``
writes it; reading settings leaves it alone). On the command line, flags override the file, which
overrides the preset. ``windowclf info --toml`` prints a model's settings in the same TOML, so a
model's configuration can start another run.
"""

from __future__ import annotations

import json
import sys

from windowclf._util.hashing import open_input
from windowclf.config.settings import Settings, near_names
from windowclf.errors import ConfigError, InputError

__all__ = ["DATA_TABLE", "MAX_SETTINGS_BYTES", "PRESETS", "preset", "read_settings_file", "to_toml", "toml_string"]

DATA_TABLE = "data"
"""The table of a settings file that records a model's data (files, how they were read): not settings."""
# A settings file holds a few dozen short lines; a larger one is not one.
MAX_SETTINGS_BYTES = 1 << 20

_COLLOBERT = {
    # Collobert et al.'s window network (hardtanh, as theirs) with SLL over IOBES tags, plus affix and
    # shape features, each word's characters (50 filters), how it is written elsewhere in its
    # document, and the training file's own gazetteer (its entity strings, each training document's
    # own left out while training); dropout on x and on the hidden layer lets a higher learning
    # rate and more epochs pay off instead of overfitting, and a linear schedule takes the rate to 0
    # by the last epoch. 20 epochs: alone on the slower of the 2-core machines it was timed on, a
    # run took 459 s; 32, the number before it, gave 0.11 more dev F1 in 12 to 15 minutes there
    # side by side, the best epoch at 14 to 27 of 32.
    "window": 5,
    "hidden": 500,
    "activation": "hardtanh",
    "decoder": "sll",
    "scheme": "IOBES",
    "features": ["caps", "shape", "suffix3", "prefix3", "doccase", "gazetteer"],
    "char_filters": 50,
    "min_count": 2,
    "dropout_input": 0.2,
    "dropout_hidden": 0.5,
    "batch_size": 60,
    "lr": 0.3,
    "lr_schedule": "linear",
    "epochs": 20,
}

PRESETS: dict[str, dict] = {
    "default": {},  # the seeds' network: window 3, hidden 100, tanh, softmax over the data's scheme, caps
    # plus the document vote: each word's scores moved towards those of the same word elsewhere in
    # its document, weight 2 (on the three seeds' models of the 36-epoch preset, decoded again: +0.50
    # to +0.77 dev F1, the best of weights 1, 2, 3, 4 and 6 for each, before words in capitals voted
    # with their capitalized form, which added 0.04 to 0.13 on each of the six 32-epoch models)
    "best-train-only": {**_COLLOBERT, "doc_vote": 2.0},
    # the same network started from pretrained vectors (--embeddings), every vector a row, so words
    # unseen in training keep their pretrained vectors; a lighter vote (weight 1.5: +0.03 to +0.28 on
    # each of six models, three seeds at 32 and 36 epochs; weight 2 lost on two of them); 18 epochs,
    # as loading and matching the 400,000 vectors costs time too: at 20 a run took 500 s alone on
    # the slower machine (the README's Results give the dev F1 at 18 and 20)
    "best-glove": {**_COLLOBERT, "keep_pretrained_vocab": True, "doc_vote": 1.5, "epochs": 18},
}


def preset(name: str) -> dict:
    """The settings of preset ``name`` (case-insensitive), as a new dict.

    >>> preset("BEST-GLOVE")["keep_pretrained_vocab"], preset("default")
    (True, {})
    """
    for key, values in PRESETS.items():
        if key == str(name).strip().lower():
            return json.loads(json.dumps(values))  # a deep copy: lists inside stay the caller's own
    raise ConfigError(f"unknown preset {name!r} (expected one of {', '.join(PRESETS)})")


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


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
