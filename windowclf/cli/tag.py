"""``windowclf predict`` and ``windowclf evaluate``: tag files or text, and score tags."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

import click

from windowclf._util.heap import return_freed_memory
from windowclf._util.printable import printable
from windowclf.batch.processes import available_cores, tag_on_cores
from windowclf.batch.shards import TagOptions, load_model, model_ref
from windowclf.cli.options import (
    Choice,
    Command,
    Number,
    conll_options,
    constrain_option,
    model_option,
    read_kwargs,
    read_tagged,
    reading_options,
)
from windowclf.cli.output_dir import predict_to_dir, scheduler_address
from windowclf.config.parameters import SCHEME_NAMES
from windowclf.errors import InputError
from windowclf.formats.conll import read_conll, repairs_line
from windowclf.formats.hf_datasets import is_saved_dataset
from windowclf.formats.jsonl import looks_like_jsonl
from windowclf.formats.sniff import input_form
from windowclf.formats.writers import WRITERS
from windowclf.models.ensemble import load_any
from windowclf.tags.schemes import split_tag, validate_tags

__all__ = ["calibration_report", "confusion_table", "evaluate", "predict"]


@click.command(cls=Command)
@model_option
@click.argument("inputs", nargs=-1, metavar="[INPUT]...", type=click.Path(allow_dash=True))
@click.option(
    "--input",
    "input_format",
    type=Choice(["auto", "text", "conll", "jsonl"]),
    default="auto",
    show_default=True,
    help="Raw text (split into sentences and tokens), a CoNLL column file, or JSON lines (tokens "
    "and tags, or text and entities, as train reads them); auto: each input's own, from its name "
    "(.jsonl, .json, .ndjson) and first lines (a note on stderr where the lines decide). "
    "Example: --input conll",
)
@click.option(
    "--sentence-per-line",
    "sentence_mode",
    flag_value="sentence-per-line",
    help="Raw text: each line is one sentence. Example: --sentence-per-line",
)
@click.option(
    "--paragraph-per-line",
    "sentence_mode",
    flag_value="paragraph-per-line",
    help="Raw text: each line is a paragraph (line breaks end sentences; lines are split at "
    "sentence ends). Example: --paragraph-per-line",
)
@click.option(
    "--document-per-line",
    "sentence_mode",
    flag_value="document-per-line",
    help="Raw text: each line is a document (for models with document features), split into "
    "sentences as --paragraph-per-line; without it raw text marks no documents, and such a "
    "model reads it as blocks of its document_sentences sentences (a file in pieces of about "
    "130,000 characters). Example: --document-per-line",
)
@click.option(
    "--format",
    "output_format",
    type=Choice(["auto", *WRITERS]),
    default="auto",
    show_default=True,
    help="auto: the input's form (conll for raw text and CoNLL input, jsonl for JSON lines); "
    "conll: token TAB tag (CoNLL input: its columns TAB tag); jsonl: each JSON lines record back "
    "as read, its tags or entities predicted; inline: [PER John Smith] visited; json: one object "
    "per sentence with its entity records; entities: one entity record per line (docs/entities.md); "
    "tokens-json, spans-json: the JSON lines forms train reads. Example: --format json",
)
@click.option(
    "--scheme",
    type=Choice(SCHEME_NAMES, "scheme"),
    help="Tag scheme of the output [default: a tagged input's own (so a scorer of the output "
    "agrees with evaluate), else the model's]. Example: --scheme IOB2",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1, max=sys.maxsize),
    default=1000,
    show_default=True,
    help="Sentences tagged at a time (memory stays flat). Example: --chunk-size 500",
)
@constrain_option
@click.option(
    "--min-confidence",
    type=Number(0, 1),
    default=None,
    help="Drop (tag O) the entities whose probability under the model is below this. Example: --min-confidence 0.5",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Write each INPUT to DIR/NAME.conll (.txt inline, .jsonl json) with a manifest; a rerun "
    "redoes only what is not done. Example: --output-dir tagged/",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Tag on a local Dask cluster of this many worker processes (needs windowclf[dask] and "
    "--output-dir). Example: --workers 2",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    callback=scheduler_address,
    help="Tag on the running Dask cluster of this scheduler (needs --output-dir). "
    "Example: --scheduler tcp://10.0.0.5:8786",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes tagging a file's segments side by side, outputs written in order (files over "
    "a megabyte; Linux) [default: one a core, at most 2]. Example: --jobs 4",
)
@click.option(
    "--block-size",
    type=Number(1, 1 << 20),
    metavar="MB",
    help="With --output-dir: cut files into blocks of about this many megabytes, tagged as separate "
    "tasks [default: in-process one task a file; on Dask about 4 blocks per worker]. "
    "Example: --block-size 64",
)
@conll_options
def predict(
    model_path,
    inputs,
    input_format,
    sentence_mode,
    output_format,
    scheme,
    chunk_size,
    constrain,
    min_confidence,
    output_dir,
    workers,
    scheduler,
    jobs,
    block_size,
    **opts,
):
    """Tag INPUT files (or stdin; a directory: its files) with a trained model.

    Entities are written as one record (docs/entities.md): label, text, sentence, token_start and
    token_end, char_start and char_end, confidence (its probability under the model) and file.
    Character offsets index the input's text as read (raw text; JSON lines: the record's "text"):
    code points of the decoded text, a UTF-8 byte-order mark not counted and CR LF counted as
    two, so Python's open(path, encoding="utf-8-sig", newline="").read()[char_start:char_end] is
    the entity; input that was tokens (CoNLL, JSON lines tokens) has none. A directory is walked:
    its files and those of its subdirectories, in name order, hidden ones (.name) left out.
    Decoding keeps every sentence well formed in the model's tag scheme (--no-constrain: each
    word's best tag, or SLL's unconstrained Viterbi). The model may be an ensemble file (windowclf
    ensemble): its models' outputs averaged.

    \b
    Example:
      windowclf predict -m runs/ner.npz --format inline data/sample/example.txt
      cat news.txt | windowclf predict -m runs/ner.npz --format json
      windowclf predict -m runs/ner.npz dev.conll > pred.conll
      windowclf predict -m runs/hub.npz hub_dev.jsonl > pred.jsonl
      windowclf predict -m runs/ner.npz --output-dir tagged/ news/
    """
    to_dir = output_dir is not None or workers or scheduler
    inputs = _walked(inputs, output_dir)
    if to_dir:  # a missing or corrupt model fails here, before any work starts; a local cluster reads its file
        ref = model_ref(model_path, send="bytes" if scheduler else "path")
        tagger = load_model(ref)
    else:
        tagger = load_any(model_path, training_state=False)  # a model or an ensemble: only the weights
    reading = reading_options(opts, tagger.training_input)
    if input_format == "auto":
        _notes(inputs, reading["encoding"])
    options = TagOptions(
        input_format,
        output_format,
        scheme,
        chunk_size,
        **read_kwargs(opts, tagger.training_input),
        predict=(("constrain", constrain), ("min_confidence", min_confidence)),
        sentence_mode=sentence_mode or "text",
        labels=None if reading["labels"] is None else tuple(reading["labels"]),
        tokenizer=reading["tokenizer"],
    )
    jobs = min(2, available_cores()) if jobs is None else jobs
    return_freed_memory()  # a long run's peak memory is what it holds at once (_util.heap)
    if to_dir:
        return predict_to_dir(
            ref,
            inputs,
            output_dir,
            options,
            workers=workers,
            scheduler=scheduler,
            block_size=block_size,
            jobs=jobs,
        )
    for path in inputs or ("-",):
        repairs: Counter = Counter()
        tag_on_cores(
            tagger, path, sys.stdout, options, jobs, repairs
        )  # each input on its own, as --output-dir writes it
        if repairs:
            click.echo(f"Warning: {printable(repairs_line(repairs, '<stdin>' if path == '-' else path))}", err=True)
    sys.stdout.flush()


def _walked(inputs, output_dir) -> list:
    """The inputs, each directory replaced by its files and those of its subdirectories (name order;
    hidden files and directories, and the output directory, left out)."""
    out = []
    skip = None if output_dir is None else os.path.realpath(output_dir)
    for path in inputs:
        if path == "-" or not os.path.isdir(path):
            out.append(path)
            continue
        if is_saved_dataset(path):  # its files are Arrow tables, not text to tag
            raise click.UsageError(
                f"{printable(path)}: a Hugging Face dataset folder; predict tags text, CoNLL and JSON lines "
                "files (train and evaluate read dataset folders)"
            )
        found: list = []
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and os.path.realpath(os.path.join(folder, d)) != skip
            )
            found.extend(os.path.join(folder, f) for f in sorted(files) if not f.startswith("."))
        found = [f for f in found if os.path.isfile(f)]
        if not found:
            raise click.UsageError(f"{printable(path)}: a directory with no file to tag")
        out.extend(found)
    return out


def _notes(inputs, encoding) -> None:
    """Say on stderr which inputs their first lines show to be structured (a file named .jsonl says so itself)."""
    for path in inputs:
        if path == "-" or not os.path.isfile(path):
            continue
        form = input_form(path, encoding=encoding)
        if form == "conll":
            click.echo(
                f"Note: {printable(path)} looks like a CoNLL column file (word and tag columns); reading it as "
                "--input conll (pass --input text to tag it as raw text)",
                err=True,
            )
        elif form == "jsonl" and not looks_like_jsonl(path):
            click.echo(
                f"Note: {printable(path)} starts with a JSON record; reading it as --input jsonl (pass --input "
                "text to tag it as raw text)",
                err=True,
            )


@click.command(cls=Command)
@click.option(
    "-m",
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="Model (or ensemble) to tag GOLD with. Example: -m runs/ner.npz",
)
@click.argument("gold_path", metavar="[GOLD]", required=False, type=click.Path())
@click.option(
    "--pred",
    "pred_path",
    type=click.Path(dir_okay=False),
    help="Score a file whose last two columns are gold and predicted tags, as conlleval "
    "does (no model). Example: --pred output.conll",
)
@click.option(
    "--token-f1",
    is_flag=True,
    help="Add CS224d's token-level scores (non-O classes, support-weighted). Example: --token-f1",
)
@click.option(
    "--confusion",
    is_flag=True,
    help="Add the token confusion matrix (gold down, predicted across). Example: --confusion",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text. Example: --json")
@click.option(
    "--scheme",
    type=Choice(SCHEME_NAMES, "scheme"),
    help="Refuse tags not written in this scheme [default: accept any scheme's tags]; with -m, "
    "the model's tags are scored in it [default: the scheme GOLD is written in]. "
    "Example: --scheme IOB2",
)
@constrain_option
@click.option(
    "--calibration",
    is_flag=True,
    help="With -m: add the calibration of the entities' confidences (expected calibration "
    "error, 10 bins); always in --json. Example: --calibration",
)
@conll_options
def evaluate(model_path, gold_path, pred_path, token_f1, confusion, as_json, scheme, constrain, calibration, **opts):
    """Score a model on GOLD (a tagged file, or a Hugging Face dataset folder written by
    save_to_disk), or a file of gold and predicted tags, with conlleval's numbers.

    The report is the one the CoNLL conlleval script prints, byte for byte.

    \b
    Example:
      windowclf evaluate -m runs/ner.npz data/sample/dev.conll --token-f1
      windowclf evaluate --pred output.conll
    """
    from windowclf.tags import conlleval, token_metrics

    calibrated = None
    if pred_path:
        if model_path or gold_path:
            raise click.UsageError("--pred FILE takes no model and no GOLD: the file holds both columns")
        if calibration:
            raise click.UsageError("--calibration needs -m MODEL: a file of tags holds no confidences")
        gold, pred = _read_scored(pred_path, opts, scheme)
        counts = conlleval.count_chunks(gold, pred)
    else:
        if not (model_path and gold_path):
            raise click.UsageError("give -m MODEL and GOLD, or --pred FILE")
        model = load_any(model_path, training_state=False)
        sentences, gold, documents = read_tagged(gold_path, opts, scheme, model.training_input)
        result = model.evaluate(sentences, gold, scheme=scheme, constrain=constrain, documents=documents)
        counts, gold, pred, calibrated = result["counts"], result["gold"], result["predicted"], result["calibration"]
    scores = token_metrics.token_f1(gold, pred) if token_f1 else None
    if confusion:
        matrix, labels = confusion_table(gold, pred)
    if as_json:
        report = conlleval.to_json(counts)
        if scores is not None:
            report["token_f1"] = scores._asdict()
        if confusion:
            report["confusion"] = {"labels": labels, "matrix": matrix.tolist()}
        if calibrated is not None:
            report["calibration"] = calibrated
        click.echo(json.dumps(report))
        return
    click.echo(conlleval.conlleval_report(counts), nl=False)
    if calibration and calibrated is not None:
        click.echo("\n" + calibration_report(calibrated), nl=False)
    if scores is not None:
        click.echo("\n" + token_metrics.token_f1_report(scores), nl=False)
    if confusion:
        click.echo("\n" + token_metrics.format_confusion_matrix(matrix, labels), nl=False)


def calibration_report(calibration: dict) -> str:
    """The calibration of entity confidences as text: ECE, then one line per non-empty bin."""
    lines = [
        f"calibration of {calibration['entities']} predicted entities: "
        f"expected calibration error {calibration['ece']:.2f}%"
    ]
    for b in calibration["bins"]:
        if b["entities"]:
            lines.append(
                f"  confidence {b['low']:.1f}-{b['high']:.1f}: {b['entities']:6d} entities, "
                f"mean confidence {100 * b['confidence']:6.2f}%, correct {100 * b['accuracy']:6.2f}%"
            )
    return "\n".join(lines) + "\n"


def confusion_table(gold, pred):
    """Token confusion matrix over O and the entity types seen, and its labels."""
    from windowclf.tags.token_metrics import confusion_matrix

    types = sorted({split_tag(t)[1] for tags in (gold, pred) for seq in tags for t in seq} - {""})
    # confusion_matrix reduces its labels as tags, so each type goes in as I-TYPE (types may hold "-").
    return confusion_matrix(gold, pred, ["O"] + [f"I-{t}" for t in types]), ["O"] + types


def _read_scored(path, opts, scheme):
    """Gold and predicted tags from the last two columns (DOCSTART lines count, as in conlleval)."""
    gold, pred = [], []
    kwargs = {**read_kwargs(opts), "tag_column": -1}
    for s in read_conll(path, docstart=False, require_sentences=True, **kwargs):
        if len(s.columns[0]) < 2:
            raise InputError(
                "one column only; expected gold and predicted tags in the last two columns", path, s.lines[0]
            )
        g, p = [row[-2] for row in s.columns], [row[-1] for row in s.columns]
        validate_tags(g, scheme, path, s.lines)
        validate_tags(p, scheme, path, s.lines)
        gold.append(g)
        pred.append(p)
    return gold, pred
