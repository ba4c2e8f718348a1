"""What the command line writes: tagged sentences (CoNLL, inline, JSON lines), epoch lines,
model summaries and plots. The library never prints; these turn its results into text.

>>> import io
>>> out = io.StringIO()
>>> s = Tagged(["John", "Smith", "visited", "Paris", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"])
>>> write_inline(out, s)
>>> out.getvalue()
'[PER John Smith] visited [LOC Paris] .\\n'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Sequence
from typing import IO, Iterator

from .errors import InputError
from .schemes import OUTSIDE, get_entities
from .tokenize import iter_sentence_spans

__all__ = ["Tagged", "Offsets", "text_sentences", "entities", "write_conll", "write_inline", "write_json", "WRITERS",
           "scores_dict", "epoch_record", "read_log", "format_epoch", "model_summary", "format_summary",
           "plot_training"]


@dataclass
class Tagged:
    """One predicted sentence and what is known about where it came from.

    Attributes
    ----------
    tokens : list of str, length n_tokens
    tags : list of str, length n_tokens
        Predicted tags.
    offsets : sequence of (int, int), optional
        Character offsets of each token into the input file's text (raw text input): a list,
        or an :class:`Offsets` (as :func:`text_sentences` gives them).
    text : str, optional
        The sentence as written in the input, from its first token's start to its last's end.
    columns : list of list of str, optional
        The input file's fields of each token (CoNLL input); written before the predicted tag.
    probabilities : list of float, optional
        P(positive class) per token (sigmoid output).
    negative : str
        The tag that means "no entity" (``O``, or ``0`` for a 0/1 detector).
    file : str, optional
        Where the sentence came from.
    """

    tokens: list
    tags: list
    offsets: list | None = None
    text: str | None = None
    columns: list | None = None
    probabilities: list | None = None
    negative: str = OUTSIDE
    file: str | None = None


def text_sentences(stream: IO[str], name: str | None = None) -> Iterator[Tagged]:
    """Sentences of raw text, read in blocks, each with its token offsets and its original text.

    Offsets count characters of the decoded stream (open files with ``newline=""`` so that
    ``\\r\\n`` counts as two). Only the text that later sentences may still need is held, and
    what they no longer need until it is most of what is held.

    >>> [(s.tokens, s.offsets[-1], s.text) for s in text_sentences(io.StringIO("Oslo is cold.  Rome too."))]
    [(['Oslo', 'is', 'cold', '.'], (12, 13), 'Oslo is cold.'), (['Rome', 'too', '.'], (23, 24), 'Rome too.')]
    """
    text = _TextWindow(stream, name)
    for tokens, starts, ends in iter_sentence_spans(text.pieces()):
        yield Tagged(tokens, None, offsets=Offsets(starts, ends), text=text.take(starts[0], ends[-1]), file=name)


class Offsets(Sequence):
    """The (start, end) character offsets of a sentence's tokens, made into pairs when read.

    A sequence of tuples, equal to the list of them; it holds the two lists of numbers, so that
    a tagged file's sentences need no tuple per token unless a writer asks for the offsets.

    >>> Offsets([0, 5], [4, 7]) == [(0, 4), (5, 7)], Offsets([0, 5], [4, 7])[-1]
    (True, (5, 7))
    """

    __slots__ = ("starts", "ends")

    def __init__(self, starts: list, ends: list):
        self.starts, self.ends = starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(zip(self.starts[index], self.ends[index]))
        return self.starts[index], self.ends[index]

    def __iter__(self):
        return zip(self.starts, self.ends)

    def __eq__(self, other) -> bool:
        if isinstance(other, Offsets):
            return self.starts == other.starts and self.ends == other.ends
        return isinstance(other, Sequence) and list(self) == [tuple(pair) for pair in other]

    __hash__ = None

    def __repr__(self) -> str:
        return repr(list(self))


def _undecodable_line(raw, start: int, encoding: str) -> int | None:
    """1-based line, counted from byte ``start``, of the first line ``encoding`` cannot decode."""
    try:
        raw.seek(start)
        for number, line in enumerate(raw, 1):
            line.decode(encoding)
    except UnicodeDecodeError:
        return number
    except (OSError, LookupError, ValueError):
        pass
    return None


class _TextWindow:
    """The text read from a stream that sentences still to come may need."""

    def __init__(self, stream, name):
        self.stream, self.name = stream, name
        self.buf, self.base = "", 0
        # A text stream decodes in blocks, so its errors do not say which line failed; when its bytes
        # can be read again (a file), a rescan on the error path finds the line.
        raw = getattr(stream, "buffer", None)
        self.raw_start = raw.tell() if raw is not None and raw.seekable() else None

    def pieces(self) -> Iterator[str]:
        while True:
            try:
                block = self.stream.read(1 << 16)
            except UnicodeDecodeError as err:
                encoding = getattr(self.stream, "encoding", None) or "the given encoding"
                raise InputError(f"cannot decode the text as {encoding} ({err.reason}); pass --encoding",
                                 self.name, self._undecodable_line(encoding)) from None
            if not block:
                return
            self.buf += block
            yield block

    def _undecodable_line(self, encoding: str) -> int | None:
        if self.raw_start is None:
            return None
        return _undecodable_line(self.stream.buffer, self.raw_start, encoding)

    def take(self, start: int, end: int) -> str:
        """text[start:end], forgetting everything before ``end`` (sentences come in order)."""
        piece = self.buf[start - self.base:end - self.base]
        # Drop the text before ``end`` once it is most of the buffer: dropping it at every
        # sentence would copy the rest of the block each time.
        if 2 * (end - self.base) > len(self.buf):
            self.buf, self.base = self.buf[end - self.base:], end
        return piece


def entities(tags: Sequence[str], negative: str = OUTSIDE) -> list:
    """(type, first token, last token) of each entity, read with conlleval's rules.

    >>> entities(["0", "1", "1", "0"], negative="0")
    [('1', 1, 2)]
    """
    if negative != OUTSIDE:
        tags = [OUTSIDE if t == negative else t for t in tags]
    return get_entities(tags)


def write_conll(out: IO[str], s: Tagged) -> None:
    """``token TAB tag`` (or the input's fields TAB tag), a blank line after the sentence."""
    if s.columns is None:
        out.write("".join([token + "\t" + tag + "\n" for token, tag in zip(s.tokens, s.tags)]) + "\n")
        return
    out.write("".join("\t".join(row) + "\t" + tag + "\n" for row, tag in zip(s.columns, s.tags)))
    out.write("\n")


def write_inline(out: IO[str], s: Tagged) -> None:
    """One line a sentence, entities bracketed with their type: ``[PER John Smith] visited``."""
    words = list(s.tokens)
    for etype, first, last in entities(s.tags, s.negative):
        words[first] = f"[{etype} {words[first]}"
        words[last] = f"{words[last]}]"
    out.write(" ".join(words) + "\n")


def write_json(out: IO[str], s: Tagged) -> None:
    """One JSON object a line; see :func:`sentence_json`."""
    out.write(json.dumps(sentence_json(s), ensure_ascii=False) + "\n")


def sentence_json(s: Tagged) -> dict:
    """A sentence as a JSON-ready dict.

    Keys: ``tokens``, ``tags``, ``entities`` (``type``, token ``start``/``end`` with ``end``
    exclusive, ``char_start``/``char_end``, ``text``), ``text`` (the sentence), and for raw
    text input ``file``, ``start``/``end`` and per-token ``offsets``. Character offsets index
    the input file's text for raw input (so ``file_text[char_start:char_end]`` is the entity),
    and the sentence's ``text`` (tokens joined by single spaces) for CoNLL input. With a
    sigmoid model, ``probabilities`` holds P(positive) per token.
    """
    if s.offsets is None:
        text = " ".join(s.tokens)
        offsets, cursor = [], 0
        for token in s.tokens:
            offsets.append((cursor, cursor + len(token)))
            cursor += len(token) + 1
        base = 0
    else:
        offsets = [tuple(o) for o in s.offsets]
        base, text = offsets[0][0], s.text
    spans = []
    for etype, first, last in entities(s.tags, s.negative):
        char_start, char_end = offsets[first][0], offsets[last][1]
        spans.append({"type": etype, "start": first, "end": last + 1, "char_start": char_start,
                      "char_end": char_end, "text": text[char_start - base:char_end - base]})
    record = {}
    if s.file is not None:
        record["file"] = s.file
    record["text"] = text
    if s.offsets is not None:
        record.update(start=offsets[0][0], end=offsets[-1][1], offsets=[list(o) for o in offsets])
    record.update(tokens=list(s.tokens), tags=list(s.tags), entities=spans)
    if s.probabilities is not None:
        record["probabilities"] = [round(float(p), 6) for p in s.probabilities]
    return record


WRITERS = {"conll": write_conll, "inline": write_inline, "json": write_json}


# ------------------------------------------------------------------------------ training


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


# ------------------------------------------------------------------------------ info


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


# ------------------------------------------------------------------------------ plots


def plot_training(records: list, path, confusion=None) -> None:
    """Learning curves (train loss; dev P / R / F1 per epoch), and a confusion heat map.

    Parameters
    ----------
    records : list of dict
        Lines of a training log (``epoch``, ``train_loss``, optional ``dev``).
    path : str
        Image file; the format follows its extension (``.png``, ``.pdf``, ``.svg``).
    confusion : (ndarray of shape (K, K), list of str), optional
        Token counts, gold classes down, predicted across, and the class names.

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    n_axes = 2 + (confusion is not None)
    fig, axes = plt.subplots(1, n_axes, figsize=(5 * n_axes, 4))
    epochs = [r["epoch"] for r in records]
    axes[0].plot(epochs, [r["train_loss"] for r in records], marker="o")
    axes[0].set(title="training loss", xlabel="epoch", ylabel="mean loss")
    dev = [(r["epoch"], r["dev"]) for r in records if r.get("dev")]
    if dev:
        for key in ("precision", "recall", "f1"):
            axes[1].plot([e for e, _ in dev], [d[key] for _, d in dev], marker="o", label=key)
        axes[1].legend()
    else:
        axes[1].text(0.5, 0.5, "no dev scores\n(trained without --dev)", ha="center", va="center")
    axes[1].set(title="dev entity scores (conlleval)", xlabel="epoch", ylabel="percent")
    if confusion is not None:
        matrix, labels = confusion
        ax = axes[2]
        # Row-normalized, so rare classes are as readable as O; the counts are written in the cells.
        totals = matrix.sum(axis=1, keepdims=True)
        shares = matrix / totals.clip(min=1)
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        fig.colorbar(image, ax=ax, fraction=0.046)
        ax.set_xticks(range(len(labels)), labels, rotation=45)
        ax.set_yticks(range(len(labels)), labels)
        ax.set(title="confusion (share of gold row)", xlabel="predicted", ylabel="gold")
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center",
                        color="white" if shares[i, j] > 0.5 else "black", fontsize=8)
    for ax in axes[:2]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
