"""Named settings (presets) and settings files (TOML): the configurations without their flags.

A preset is a dict of Settings fields; ``best-train-only`` and ``best-glove`` are the best
configurations of the README's results (``scripts/reproduce_conll2003`` trains them from here).
A settings file is TOML: setting names as keys (``hidden = 500``, ``features = ["caps", "shape"]``),
optionally a ``preset = "best-train-only"`` key that the file's other keys override. On the
command line, flags override the file, which overrides the preset. ``windowclf info`` prints a
model's settings in the same TOML, so a model's configuration can start another run.
"""

from __future__ import annotations

import json
import sys

from windowclf._util.hashing import open_input
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError, InputError

__all__ = ["MAX_SETTINGS_BYTES", "PRESETS", "preset", "read_settings_file", "to_toml"]

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
    "default": {},  # the seeds' network: window 3, hidden 100, tanh, softmax over IO tags, caps
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
    try:
        base = preset(data.pop("preset")) if "preset" in data else {}
    except ConfigError as err:
        raise InputError(str(err), path) from None
    known = set(Settings().to_dict())
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown setting {unknown[0]!r} (settings are {', '.join(sorted(known))})", path)
    merged = {**base, **data}
    try:
        Settings.from_dict(merged)
    except ConfigError as err:
        raise InputError(str(err), path) from None
    return merged


def to_toml(settings: dict) -> str:
    """A settings dict as TOML that :func:`read_settings_file` reads back to the same settings.

    >>> print(to_toml({"window": 5, "features": ["caps", "suffix3"], "max_vocab": None, "lr": 0.1}), end="")
    window = 5
    features = ["caps", "suffix3"]
    # max_vocab: unset
    lr = 0.1
    """
    lines = []
    for name, value in settings.items():
        if value is None:
            lines.append(f"# {name}: unset")
        elif isinstance(value, bool):
            lines.append(f"{name} = {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            lines.append(f"{name} = {value!r}")
        elif isinstance(value, str):
            lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}")  # a TOML basic string too
        elif isinstance(value, list):
            lines.append(f"{name} = [{', '.join(json.dumps(str(v), ensure_ascii=False) for v in value)}]")
        else:
            raise TypeError(f"setting {name} has a value TOML cannot hold: {value!r}")
    return "\n".join(lines) + "\n"
