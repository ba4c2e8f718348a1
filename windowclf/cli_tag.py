"""``windowclf predict`` and ``windowclf evaluate``: tag files or text, and score tags."""

from __future__ import annotations

import codecs
import io
import json
import sys
from itertools import islice

import click

from .cli_options import conll_options, model_option, read_kwargs, read_tagged
from .conll import parse_incr, read_conll
from .errors import InputError
from .schemes import split_tag, validate_tags
from .settings import SCHEME_NAMES
from .tagger import WindowTagger
from .writers import WRITERS, Tagged, text_sentences

__all__ = ["predict", "evaluate", "confusion_table"]


@click.command()
@model_option
@click.argument("inputs", nargs=-1, metavar="[INPUT]...", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--input", "input_format", type=click.Choice(["text", "conll"]), default="text", show_default=True,
              help="Raw text (split into sentences and tokens), or a CoNLL column file. Example: --input conll")
@click.option("--format", "output_format", type=click.Choice(list(WRITERS)), default="conll", show_default=True,
              help="conll: token TAB tag (CoNLL input: its columns TAB tag); inline: [PER John Smith] "
                   "visited; json: one object per sentence with entity offsets. Example: --format json")
@click.option("--scheme", type=click.Choice(SCHEME_NAMES),
              help="Tag scheme of the output [default: the model's]. Example: --scheme IOB2")
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Sentences tagged at a time (memory stays flat). Example: --chunk-size 500")
@conll_options
def predict(model_path, inputs, input_format, output_format, scheme, chunk_size, **opts):
    """Tag INPUT files (or stdin) with a trained model.

    In JSON output, character offsets index the input file's text (raw input), so
    text[char_start:char_end] is the entity; for CoNLL input they index the sentence's
    "text" (its tokens joined by spaces).

    \b
    Example:
      windowclf predict -m runs/ner.npz --format inline data/sample/example.txt
      cat news.txt | windowclf predict -m runs/ner.npz --format json
      windowclf predict -m runs/ner.npz --input conll dev.conll > pred.conll
    """
    tagger = WindowTagger.load(model_path)
    sigmoid = tagger.settings.output == "sigmoid"
    negative = tagger.tags[0] if sigmoid else "O"
    paths = inputs or ("-",)
    read = _text_sentences if input_format == "text" else _conll_sentences
    sentences = (s for path in paths for s in read(path, opts))
    write = WRITERS[output_format]
    out = sys.stdout
    while chunk := list(islice(sentences, chunk_size)):
        token_lists = [s.tokens for s in chunk]
        predicted = tagger.predict(token_lists, scheme=scheme)
        probabilities = tagger.predict_proba(token_lists) if sigmoid and output_format == "json" else None
        for i, (s, tags) in enumerate(zip(chunk, predicted)):
            s.tags, s.negative = tags, negative
            if probabilities is not None:
                s.probabilities = probabilities[i][:, 1].tolist()
            write(out, s)
    out.flush()


def _text_sentences(path, opts):
    encoding = opts["encoding"]
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # a byte-order mark is not text
    if path == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding=encoding, newline="")
        try:
            yield from text_sentences(stream, "<stdin>")
        finally:
            stream.detach()  # leave stdin open
    else:
        with open(path, encoding=encoding, newline="") as stream:  # newline="": offsets count \r\n as 2
            yield from text_sentences(stream, path)


def _conll_sentences(path, opts):
    if path == "-":
        sentences = parse_incr(sys.stdin.buffer, path="<stdin>", **read_kwargs(opts))
    else:
        sentences = read_conll(path, **read_kwargs(opts))
    for s in sentences:
        yield Tagged(s.tokens, None, columns=s.columns, file=s.path)


@click.command()
@click.option("-m", "--model", "model_path", type=click.Path(dir_okay=False),
              help="Model to tag GOLD with. Example: -m runs/ner.npz")
@click.argument("gold_path", metavar="[GOLD]", required=False, type=click.Path(dir_okay=False))
@click.option("--pred", "pred_path", type=click.Path(dir_okay=False),
              help="Score a file whose last two columns are gold and predicted tags, as conlleval "
                   "does (no model). Example: --pred output.conll")
@click.option("--token-f1", is_flag=True,
              help="Add CS224d's token-level scores (non-O classes, support-weighted). Example: --token-f1")
@click.option("--confusion", is_flag=True,
              help="Add the token confusion matrix (gold down, predicted across). Example: --confusion")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text. Example: --json")
@click.option("--scheme", type=click.Choice(SCHEME_NAMES),
              help="Refuse tags not written in this scheme [default: accept any scheme's tags]. "
                   "Example: --scheme IOB2")
@conll_options
def evaluate(model_path, gold_path, pred_path, token_f1, confusion, as_json, scheme, **opts):
    """Score a model on GOLD, or a file of gold and predicted tags, with conlleval's numbers.

    The report is the one the CoNLL conlleval script prints, byte for byte.

    \b
    Example:
      windowclf evaluate -m runs/ner.npz data/sample/dev.conll --token-f1
      windowclf evaluate --pred output.conll
    """
    from . import metrics

    if pred_path:
        if model_path or gold_path:
            raise click.UsageError("--pred FILE takes no model and no GOLD: the file holds both columns")
        gold, pred = _read_scored(pred_path, opts, scheme)
    else:
        if not (model_path and gold_path):
            raise click.UsageError("give -m MODEL and GOLD, or --pred FILE")
        sentences, gold = read_tagged(gold_path, opts, scheme)
        pred = WindowTagger.load(model_path).predict(sentences)
    counts = metrics.count_chunks(gold, pred)
    report = metrics.to_json(counts) if as_json else metrics.conlleval_report(counts)
    scores = metrics.token_f1(gold, pred) if token_f1 else None
    if confusion:
        matrix, labels = confusion_table(gold, pred)
    if as_json:
        if scores is not None:
            report["token_f1"] = scores._asdict()
        if confusion:
            report["confusion"] = {"labels": labels, "matrix": matrix.tolist()}
        click.echo(json.dumps(report))
        return
    click.echo(report, nl=False)
    if scores is not None:
        click.echo("\n" + metrics.token_f1_report(scores), nl=False)
    if confusion:
        click.echo("\n" + metrics.format_confusion_matrix(matrix, labels), nl=False)


def confusion_table(gold, pred):
    """Token confusion matrix over O and the entity types seen, and its labels."""
    from .metrics import confusion_matrix

    types = sorted({split_tag(t)[1] for tags in (gold, pred) for seq in tags for t in seq} - {""})
    # confusion_matrix reduces its labels as tags, so each type goes in as I-TYPE (types may hold "-").
    return confusion_matrix(gold, pred, ["O"] + [f"I-{t}" for t in types]), ["O"] + types


def _read_scored(path, opts, scheme):
    """Gold and predicted tags from the last two columns (DOCSTART lines count, as in conlleval)."""
    gold, pred = [], []
    kwargs = {**read_kwargs(opts), "tag_column": -1}
    for s in read_conll(path, docstart=False, require_sentences=True, **kwargs):
        if len(s.columns[0]) < 2:
            raise InputError("one column only; expected gold and predicted tags in the last two columns",
                             path, s.lines[0])
        g, p = [row[-2] for row in s.columns], [row[-1] for row in s.columns]
        validate_tags(g, scheme, path, s.lines)
        validate_tags(p, scheme, path, s.lines)
        gold.append(g)
        pred.append(p)
    return gold, pred
