"""The type of every field of a model file's metadata, checked before any of it is used.

A model file's JSON can say anything: ``best.f1: "abc"``, ``history: ["x"]``, a random state
that is not one. :func:`check_metadata` refuses each with a ModelFileError naming the field,
so that what :func:`windowclf.models.files.load_tagger` builds from the metadata is built from
values of the right kind (the settings' own values are checked by ``Settings``).

>>> check_metadata({"best": {"epoch": 2, "f1": "abc"}}, "m.npz")
Traceback (most recent call last):
...
windowclf.errors.ModelFileError: m.npz: metadata field best.f1 must be a finite number or null, got 'abc'
"""

from __future__ import annotations

import math
import re

import numpy as np

from windowclf.errors import ModelFileError
from windowclf.tags.schemes import SCHEMES
from windowclf.text.tokenize import TOKENIZERS

__all__ = ["check_metadata"]

# A tag is one field of a column file: no space, TAB, line end or other C0 control character
# (the CoNLL reader never gives one; Settings refuses them in positive_tag).
_NOT_IN_A_FIELD = re.compile("[\x00-\x20]")


def check_metadata(meta: dict, path) -> None:
    """Raise ModelFileError naming the first field of ``meta`` that has the wrong type or value.

    Fields absent here are the loader's to report (missing ones are "incomplete" metadata).
    """
    check = _Checker(path)
    check.kind(meta.get("windowclf_version"), "windowclf_version", str, optional=True)
    check.kind(meta.get("settings"), "settings", dict, optional=True)
    if "vocabulary" in meta:
        check.vocabulary(meta["vocabulary"], "vocabulary")
    if "feature_vocabularies" in meta:
        features = check.kind(meta["feature_vocabularies"], "feature_vocabularies", dict)
        for name, vocab in features.items():
            check.vocabulary(vocab, f"feature_vocabularies.{name}")
    if "tags" in meta:
        tags = check.kind(meta["tags"], "tags", list)
        if not tags:
            raise check.error("tags", "must list at least one tag", tags)
        for i, tag in enumerate(tags):
            check.field(tag, f"tags[{i}]")
        if len(set(tags)) != len(tags):
            raise check.error("tags", "must not repeat a tag", tags)
    if "char_vocabulary" in meta:
        check.vocabulary(meta["char_vocabulary"], "char_vocabulary")
    check.kind(meta.get("scheme"), "scheme", str, optional=True)
    if "history" in meta:
        for i, record in enumerate(check.kind(meta["history"], "history", list)):
            check.record(record, f"history[{i}]")
    if "best" in meta:
        best = check.kind(meta["best"], "best", dict)
        if not {"epoch", "f1"} <= set(best):
            raise check.error("best", "must hold epoch and f1", best)
        check.integer(best.get("epoch"), "best.epoch", minimum=1, optional=True)
        check.number(best.get("f1"), "best.f1", optional=True)
    if meta.get("data") is not None:
        for key, value in check.kind(meta["data"], "data", dict).items():
            check.kind(value, f"data.{key}", str, optional=True)
    if meta.get("provenance") is not None:
        for key, value in check.kind(meta["provenance"], "provenance", dict).items():
            if isinstance(value, dict):  # the files: name -> {"name", "sha256"}
                for inner, text in value.items():
                    check.kind(text, f"provenance.{key}.{inner}", str, optional=True)
            elif isinstance(value, list):
                for i, text in enumerate(value):
                    check.kind(text, f"provenance.{key}[{i}]", str)
            else:
                check.kind(value, f"provenance.{key}", str, optional=True)
    if meta.get("training_input") is not None:
        check.training_input(check.kind(meta["training_input"], "training_input", dict))
    if "state" in meta:
        state = check.kind(meta["state"], "state", dict)
        check.integer(state.get("epoch"), "state.epoch", minimum=0)
        check.integer(state.get("bad_epochs"), "state.bad_epochs", minimum=0)
        check.random_state(state.get("rng"), "state.rng")
        if state.get("rows") is not None:  # tables saved as their rows that differ from the best epoch's
            for name, n in check.kind(state["rows"], "state.rows", dict).items():
                check.integer(n, f"state.rows.{name}", minimum=0)


class _Checker:
    def __init__(self, path):
        self.path = path

    def error(self, where: str, expected: str, value) -> ModelFileError:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ModelFileError(f"metadata field {where} {expected}, got {shown}", self.path)

    def kind(self, value, where: str, kind: type, *, optional: bool = False):
        if value is None and optional:
            return value
        if not isinstance(value, kind):
            raise self.error(where, f"must be a JSON {_JSON_NAMES[kind]}", value)
        return value

    def integer(self, value, where: str, *, minimum: int, optional: bool = False) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(where, f"must be an integer >= {minimum}" + (" or null" if optional else ""), value)

    def number(self, value, where: str, *, optional: bool = False) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(where, "must be a finite number" + (" or null" if optional else ""), value)

    def field(self, value, where: str) -> None:
        if not isinstance(value, str) or not value or _NOT_IN_A_FIELD.search(value):
            raise self.error(where, "must be a non-empty string without spaces or control characters", value)

    def vocabulary(self, vocab, where: str) -> None:
        vocab = self.kind(vocab, where, dict)
        words = self.kind(vocab.get("index_to_key"), f"{where}.index_to_key", list)
        for i, word in enumerate(words):
            if not isinstance(word, str):
                raise self.error(f"{where}.index_to_key[{i}]", "must be a string", word)
        for key in ("lowercase", "digits"):
            self.kind(vocab.get(key), f"{where}.{key}", bool)
        for key in ("unk", "start", "end"):
            self.kind(vocab.get(key), f"{where}.{key}", str)

    def record(self, record, where: str) -> None:
        record = self.kind(record, where, dict)
        self.integer(record.get("epoch"), f"{where}.epoch", minimum=1)
        self.number(record.get("train_loss"), f"{where}.train_loss")
        for key in ("lr", "seconds", "words_per_second"):
            self.number(record.get(key), f"{where}.{key}", optional=True)
        if record.get("dev") is not None:
            for key, value in self.kind(record["dev"], f"{where}.dev", dict).items():
                self.number(value, f"{where}.dev.{key}", optional=True)

    def training_input(self, given: dict) -> None:
        """How the training data was read (``WindowTagger.training_input``): each field of its kind."""
        for key, value in given.items():
            where = f"training_input.{key}"
            if value is None:
                continue
            if key in ("word_column", "tag_column"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise self.error(where, "must be an integer or null", value)
            elif key == "labels":
                for i, label in enumerate(self.kind(value, where, list)):
                    self.field(label, f"{where}[{i}]")
            elif key == "scheme" and value not in SCHEMES:
                raise self.error(where, f"must be one of {', '.join(SCHEMES)} or null", value)
            elif key == "tokenizer" and value not in TOKENIZERS:
                raise self.error(where, f"must be one of {', '.join(TOKENIZERS)} or null", value)
            elif key == "separator" and value not in ("\t", " "):
                raise self.error(where, "must be a TAB, a space or null", value)
            else:
                self.kind(value, where, str)

    def random_state(self, value, where: str) -> None:
        """A numpy bit generator state that the generator the tagger trains with accepts."""
        state = self.kind(value, where, dict)
        try:
            generator = np.random.default_rng(0).bit_generator
            if state.get("bit_generator") != type(generator).__name__:
                raise ValueError(f"bit_generator must be {type(generator).__name__!r}")
            generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            raise self.error(where, f"must be a random state of numpy's default generator ({err})", state) from None


_JSON_NAMES = {dict: "object", list: "array", str: "string", bool: "true or false"}
