"""The checks of arguments at the public edge: each error names the argument and what was expected.

Every public function and method checks what it is given here, before it does anything with it,
so that a wrong argument is one TypeError (a value of the wrong kind) or ConfigError (a
ValueError: a value of the right kind out of its range, NaN or infinite) that names it, never an
AttributeError, a KeyError or a numpy error from deep inside. :func:`check_number` is the one
check of a floating-point value: the settings (``config.parameters``), the command line's float
options and the library's float arguments all go through it, so NaN and infinity are refused
everywhere alike.

>>> check_number("min_confidence", 0.5, low=0, high=1)
0.5
>>> check_number("min_confidence", float("nan"), low=0, high=1)
Traceback (most recent call last):
...
windowclf.errors.ConfigError: min_confidence must be in [0, 1], got nan
>>> check_strings("vocabulary", "the")
Traceback (most recent call last):
...
TypeError: vocabulary must be a collection of str (a list or a set), got a str; wrap a single one in a list
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

from windowclf.errors import ConfigError

__all__ = [
    "check_bool",
    "check_callable",
    "check_float_dtype",
    "check_int",
    "check_number",
    "check_path",
    "check_str",
    "check_strings",
    "describe_range",
    "iter_string_lists",
    "kind_of",
]


def kind_of(value) -> str:
    """The type of ``value`` in an error message: "a str", "None", "a list"."""
    if value is None:
        return "None"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def describe_range(low=None, high=None, *, low_open: bool = False, high_open: bool = False, integer=False) -> str:
    """A range in the words of the error messages.

    >>> describe_range(0, low_open=True), describe_range(0, 1, high_open=True), describe_range(1, integer=True)
    ('a positive number', 'in [0, 1)', 'an integer >= 1')
    """
    if integer:
        if high is not None:
            return f"an integer in [{low}, {high}]"
        return f"an integer >= {low}" if low is not None else "an integer"
    if low == 0 and low_open and high is None:
        return "a positive number"
    if high is not None and low is not None:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        return f"in {left}{_number(low)}, {_number(high)}{right}"
    if high is not None:
        return f"a number {'<' if high_open else '<='} {_number(high)}"
    if low is not None:
        return f"a number {'>' if low_open else '>='} {_number(low)}"
    return "a finite number"


def _number(x) -> str:
    """A bound as a person writes it: 1 and 1048576, not 1.0 or 1.04858e+06; 1e-05 as 1e-05."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


@overload
def check_number(
    name: str,
    value,
    *,
    low=...,
    high=...,
    low_open: bool = ...,
    high_open: bool = ...,
    optional: Literal[False] = ...,
    expected: str | None = ...,
) -> float: ...
@overload
def check_number(
    name: str,
    value,
    *,
    low=...,
    high=...,
    low_open: bool = ...,
    high_open: bool = ...,
    optional: bool,
    expected: str | None = ...,
) -> float | None: ...
def check_number(
    name: str,
    value,
    *,
    low=None,
    high=None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    expected: str | None = None,
) -> float | None:
    """``value`` as a float: a real number (not a bool), finite, in the range; else TypeError for
    another kind of value and ConfigError naming ``name`` for NaN, infinity or a value outside the
    range (``expected``: how the message phrases the range)."""
    if value is None and optional:
        return None
    what = expected or describe_range(low, high, low_open=low_open, high_open=high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number ({what}), got {kind_of(value)} ({_short(value)})")
    number = float(value)
    if (
        not math.isfinite(number)
        or (low is not None and (number < low or (low_open and number == low)))
        or (high is not None and (number > high or (high_open and number == high)))
    ):
        raise ConfigError(f"{name} must be {what}, got {_short(value)}")
    return number


def check_int(name: str, value, *, low=None, high=None, optional: bool = False, expected: str | None = None) -> Any:
    """``value`` as an int: an integer (Python's or numpy's, not a bool) in the range; else
    TypeError for another kind of value and ConfigError naming ``name`` outside the range."""
    if value is None and optional:
        return None
    what = expected or describe_range(low, high, integer=True)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}, got {kind_of(value)} ({_short(value)})")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(f"{name} must be {what}, got {number}")
    return number


def check_bool(name: str, value) -> bool:
    """``value`` as a bool (Python's or numpy's); TypeError naming ``name`` otherwise (no truthiness:
    ``constrain="no"`` is a mistake, not True)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {kind_of(value)} ({_short(value)})")


def check_str(name: str, value, *, optional: bool = False, nonempty: bool = False) -> Any:
    """``value`` itself when it is a str (non-empty with ``nonempty``); TypeError or ConfigError naming ``name``."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {kind_of(value)} ({_short(value)})")
    if nonempty and not value:
        raise ConfigError(f"{name} must not be empty")
    return value


def check_path(name: str, value) -> str:
    """A file name: a str or an os.PathLike, non-empty, without NUL; returned as a str."""
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {kind_of(value)} ({_short(value)})")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a path given as text, got {kind_of(path)}")
    if not path:
        raise ConfigError(f"{name} must not be empty")
    if "\x00" in path:
        raise ConfigError(f"{name} holds a NUL character; no file name can")
    return path


def check_strings(
    name: str,
    value,
    *,
    optional: bool = False,
    what: str = "a collection of str (a list or a set)",
    mapping_keys: bool = False,
):
    """``value`` as a list of str: any iterable of str but a str itself (``vocabulary="the"`` would
    be its letters) or a mapping (unless ``mapping_keys``: then its keys); TypeError naming
    ``name`` (and the item) otherwise."""
    if value is None and optional:
        return None
    if isinstance(value, (str, bytes, bytearray)):
        raise TypeError(f"{name} must be {what}, got {kind_of(value)}; wrap a single one in a list")
    if (isinstance(value, Mapping) and not mapping_keys) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be {what}, got {kind_of(value)}")
    items = list(value)
    if set(map(type, items)) <= {str}:  # the common case, at C speed (a sentence's tags, many times)
        return items
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a str, got {kind_of(item)} ({_short(item)})")
    return items


def iter_string_lists(name: str, value, *, what: str = "a sentence's tags (a sequence of str)"):
    """The items of ``value`` (an iterable of sequences of str: sentences of tokens or tags), each
    checked as :func:`check_strings` checks it, lazily (a generator over a large file stays one);
    TypeError naming ``name`` at once when ``value`` is a str or not iterable, and ``name[i]``
    for an item that is not a sequence of str."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be an iterable of sentences, each {what}, got {kind_of(value)}")
    return (check_strings(f"{name}[{i}]", item, what=what) for i, item in enumerate(value))


def check_float_dtype(name: str, value):
    """``value`` as a numpy floating dtype (float32, float64, ...); TypeError naming ``name`` for what
    numpy cannot read as a dtype, ConfigError for one that is not floating."""
    import warnings

    import numpy as np

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's deprecation notes on odd aliases ("a"): refused below anyway
            dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{name} must be a floating dtype (float32, float64), got {value!r:.60}") from None
    if dtype.kind != "f":
        raise ConfigError(f"{name} must be a floating dtype (float32, float64), not {dtype}")
    return dtype


def check_callable(name: str, value, *, optional: bool = False):
    """``value`` itself when it can be called; TypeError naming ``name`` otherwise."""
    if value is None and optional:
        return None
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {kind_of(value)} ({_short(value)})")
    return value


def _short(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
