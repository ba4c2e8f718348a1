"""What the command line prints about training and models: epoch lines, the log, model summaries."""

from __future__ import annotations

import json

from .errors import InputError

__all__ = ["scores_dict", "epoch_record", "read_log", "format_epoch", "model_summary", "format_summary"]


def scores_dict(scores) -> dict | None:
    """Precision / recall / F1 as a dict, from a dict or a ``Scores`` named tuple."""
    if scores is None:
        return None
    if hasattr(scores, "_asdict"):
        return {k: float(v) for k, v in scores._asdict().items()}
    return dict(scores)


def epoch_record(result) -> dict:
    """One JSON-ready line of the training log from an :class:`~windowclf.train.EpochResult`."""
    record = result.to_dict()
    if result.dev is not None:
        record["dev"] = scores_dict(result.dev)
    return record


def read_log(path) -> list:
    """The records of a training log (``MODEL.log.jsonl``), checked line by line."""
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                float(record["epoch"]), float(record["train_loss"])
            except (ValueError, KeyError, TypeError):
                raise InputError("expected one JSON object with epoch and train_loss per line "
                                 "(a MODEL.log.jsonl written by train)", path, number) from None
            records.append(record)
    if not records:
        raise InputError("no epochs in the log", path)
    return records


def format_epoch(record: dict, n_epochs: int, best: bool) -> str:
    """``epoch  3/10  loss 0.4123  dev P 71.20 R 65.00 F1 67.96 *  12,345 words/s`` (* marks a new best)."""
    width = len(str(n_epochs))
    line = f"epoch {record['epoch']:>{width}}/{n_epochs}  loss {record['train_loss']:.4f}"
    dev = record.get("dev")
    if dev is not None:
        line += f"  dev P {dev['precision']:6.2f} R {dev['recall']:6.2f} F1 {dev['f1']:6.2f}"
        line += " *" if best else "  "
    return line + f"  {record['words_per_second']:,.0f} words/s"


def model_summary(tagger, path) -> dict:
    """What ``windowclf info`` reports, JSON-ready."""
    s = tagger.settings
    params = tagger.network.params
    history = tagger.history
    best = dict(tagger.best)
    return {
        "path": str(path),
        "tags": list(tagger.tags),
        "scheme": s.scheme,
        "output": s.output,
        "vocabulary": len(tagger.vocab),
        "features": {f: len(v) for f, v in tagger.feature_vocabs.items()},
        "parameters": {name: list(arr.shape) for name, arr in params.items()},
        "n_parameters": int(sum(arr.size for arr in params.values())),
        "pretrained": tagger.initial_vectors is not None,
        "epochs_trained": history[-1]["epoch"] if history else 0,
        "best": best,
        "settings": s.to_dict(),
    }


def format_summary(info: dict) -> str:
    """The human-readable form of :func:`model_summary`."""
    lines = [f"model:       {info['path']}",
             f"tags:        {len(info['tags'])} ({info['scheme']}, {info['output']} output): {' '.join(info['tags'])}",
             f"vocabulary:  {info['vocabulary']:,} words" + (" (from pretrained vectors)" if info["pretrained"] else "")]
    if info["features"]:
        lines.append("features:    " + ", ".join(f"{f} ({n} keys)" for f, n in info["features"].items()))
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
    return "\n".join(lines) + "\n"
