"""What the command line prints about training and models: what train read (its data, documents,
tag scheme and vectors), epoch lines, the log, model summaries."""

from __future__ import annotations

import json
import math
from collections import Counter

from windowclf.errors import InputError
from windowclf.tags.schemes import learned_scheme

__all__ = [
    "coverage_line",
    "documents_note",
    "epoch_record",
    "format_summary",
    "model_summary",
    "read_log",
    "scheme_line",
    "scores_dict",
]


def scores_dict(scores) -> dict | None:
    """Precision / recall / F1 as a dict, from a dict or a ``Scores`` named tuple."""
    if scores is None:
        return None
    if hasattr(scores, "_asdict"):
        return {k: float(v) for k, v in scores._asdict().items()}
    return dict(scores)


def epoch_record(result) -> dict:
    """One JSON-ready line of the training log from an :class:`~windowclf.training.loop.EpochResult`."""
    record = result.to_dict()
    if result.dev is not None:
        record["dev"] = scores_dict(result.dev)
    return record


_MAX_LOG_LINE = 1 << 20  # a log line is a few hundred bytes


def read_log(path) -> list:
    """The records of a training log (``MODEL.log.jsonl``), checked line by line: UTF-8 JSON
    objects with a number ``epoch`` and ``train_loss`` and, if there, a ``dev`` object of numbers
    (anything else, a model file or an image say, is an InputError naming the line)."""
    records = []
    expected = "expected one JSON object with epoch and train_loss per line (a MODEL.log.jsonl written by train)"
    with open(path, "rb") as f:
        number = 0
        while raw := f.readline(_MAX_LOG_LINE + 1):
            number += 1
            if len(raw) > _MAX_LOG_LINE:
                raise InputError(f"line longer than {_MAX_LOG_LINE:,} bytes; {expected}", path, number)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"not UTF-8 text; {expected}", path, number) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                _numbers(record, ("epoch", "train_loss"))
                if record.get("dev") is not None:
                    _numbers(record["dev"], ("precision", "recall", "f1"))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                raise InputError(expected, path, number) from None
            records.append(record)
    if not records:
        raise InputError("no epochs in the log", path)
    return records


def _numbers(record: dict, keys) -> None:
    for key in keys:
        value = record[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{key} is not a finite number")


def model_summary(tagger, path, shapes=None, pretrained=None) -> dict:
    """What ``windowclf info`` reports, JSON-ready; ``shapes`` (name -> shape) and ``pretrained``
    stand in for a network that was not loaded (model_io.describe reads only the file's headers)."""
    s = tagger.settings
    if shapes is None:
        shapes = {name: arr.shape for name, arr in tagger.network.params.items()}
        pretrained = tagger.pretrained
    history = tagger.history
    best = dict(tagger.best)
    return {
        "path": str(path),
        "tags": list(tagger.tags),
        "scheme": s.scheme,
        "output": s.output,
        "vocabulary": len(tagger.vocab),
        "features": {f: len(v) for f, v in tagger.feature_vocabs.items()},
        "characters": None if getattr(tagger, "char_vocab", None) is None else len(tagger.char_vocab),
        "gazetteer": None if getattr(tagger, "gazetteer", None) is None else len(tagger.gazetteer.counts),
        "user_gazetteer": None
        if getattr(tagger, "user_gazetteer", None) is None
        else {"strings": len(tagger.user_gazetteer.counts), "types": list(tagger.user_gazetteer.types)},
        "parameters": {name: list(shape) for name, shape in shapes.items()},
        "n_parameters": int(sum(math.prod(shape) for shape in shapes.values())),
        "pretrained": bool(pretrained),
        "epochs_trained": history[-1]["epoch"] if history else 0,
        "best": best,
        "settings": s.to_dict(),
        "training_input": dict(getattr(tagger, "training_input", {}) or {}),
        "provenance": dict(getattr(tagger, "provenance", {}) or {}),
    }


def format_summary(info: dict) -> str:
    """The human-readable form of :func:`model_summary`."""
    read = info.get("training_input") or {}
    trained_on = f"; trained on {read['scheme']} tags" if read.get("scheme") else ""
    lines = [
        f"model:       {info['path']}",
        f"tags:        {len(info['tags'])} ({info['scheme']}{trained_on}, {info['output']} output): "
        f"{' '.join(info['tags'])}",
        f"vocabulary:  {info['vocabulary']:,} words" + (" (from pretrained vectors)" if info["pretrained"] else ""),
    ]
    if info["features"]:
        lines.append("features:    " + ", ".join(f"{f} ({n} keys)" for f, n in info["features"].items()))
    if info.get("characters"):
        lines.append(
            f"characters:  {info['characters']:,} (a convolution of {info['settings']['char_filters']} "
            f"filters over {info['settings']['char_window']} characters of {info['settings']['char_dim']})"
        )
    if info.get("gazetteer") is not None:
        lines.append(f"gazetteer:   {info['gazetteer']:,} entity strings of the training data")
    if info.get("user_gazetteer") is not None:
        user = info["user_gazetteer"]
        lines.append(
            f"gazetteer:   {user['strings']:,} entity strings of the user's lists ({', '.join(user['types'])})"
        )
    shapes = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in info["parameters"].items())
    lines.append(f"parameters:  {info['n_parameters']:,} ({shapes})")
    lines.append(f"epochs:      {info['epochs_trained']} trained")
    best = info["best"]
    if best.get("f1") is not None:
        lines.append(f"best dev F1: {best['f1']:.2f} (epoch {best['epoch']})")
    else:
        lines.append("best dev F1: none (trained without --dev)")
    lines.append("settings:")
    width = max(len(k) for k in info["settings"])
    for key, value in info["settings"].items():
        if isinstance(value, list):
            value = ",".join(map(str, value)) or "(none)"
        lines.append(f"  {key:<{width}}  {value}")
    shown = {k: v for k, v in read.items() if k != "scheme" and v is not None}
    if shown:
        lines.append("training data read as:")
        for key, value in shown.items():
            if isinstance(value, list):
                value = ",".join(map(str, value))
            lines.append(f"  {key:<{width}}  {value!r}" if key == "separator" else f"  {key:<{width}}  {value}")
    if info.get("provenance"):
        lines.append("made from:")
        for key, value in info["provenance"].items():
            if isinstance(value, dict):
                value = f"{value.get('name')} (sha256 {str(value.get('sha256'))[:16]}...)"
            lines.append(f"  {key:<{width}}  {value}")
    return "\n".join(lines) + "\n"


def scheme_line(detected, asked) -> str:
    """What the model will predict and why: ``tags: IOB1; the model predicts IOB2 (--scheme to choose)``."""
    written = f"tags: written in {detected}" if detected else "tags: written in no single scheme"
    if asked:
        return f"{written}; the model predicts {asked} (--scheme)"
    return f"{written}; the model predicts {learned_scheme(detected)} (--scheme to choose another)"


def documents_note(documents, sentences, tagger) -> str:
    """``; 946 documents (-DOCSTART- lines), read as 1,003 of at most 50 sentences``: the documents
    the file marks, and (for a model whose features or vote read documents) the documents the model
    reads in it (:meth:`~windowclf.inference.prediction.Tagging.documents_as_read`)."""
    n_marked = 0 if documents is None else len(set(documents))
    marked = f"{n_marked:,} document{'s' * (n_marked != 1)} (-DOCSTART- lines)" if n_marked else "no document markers"
    if tagger.reads_documents:
        size = tagger.settings.document_sentences
        read = len(set(tagger.documents_as_read(documents, len(sentences))))
        if size is None:
            marked += f", read as {read:,} document{'s' * (read != 1)}"
        else:
            unit = "sentences" if size != 1 else "sentence"
            marked += f", read as {read:,} {'of' if documents is not None else 'blocks of'} at most {size:,} {unit}"
    return f"; {marked}"


def coverage_line(embeddings, settings, normalize, sentences, dev, seconds) -> str:
    """How many vectors were loaded, and which share of the training (and dev) words they cover,
    each word spelled as ``normalize`` (a function) spells it for the model's vocabulary."""
    kept = "" if settings.keep_pretrained_vocab else " (those of the training words)"
    line = f"{len(embeddings):,} vectors{kept} of dimension {embeddings.vectors.shape[1]} in {seconds:.1f} s"
    for what, data in (("training", sentences), ("dev", dev and dev[0])):
        if data:
            words = Counter(normalize(w) for s in data for w in s)
            c = embeddings.coverage(words)
            line += f"; {what} words covered: {100 * c.type_ratio:.1f}% of types, {100 * c.token_ratio:.1f}% of tokens"
    return line
