"""``windowclf train``: the command, the options it refuses, its resume checks and how it reads
the vectors and the user's gazetteer."""

from __future__ import annotations

import os
import sys
import time

import click
import numpy as np

from windowclf._util.hashing import recorded_reads
from windowclf._util.printable import printable
from windowclf.cli.options import (
    Choice,
    Command,
    conll_options,
    given,
    guard_output,
    read_tagged,
    reading_options,
    settings_options,
)
from windowclf.cli.reports import coverage_line, documents_note, scheme_line
from windowclf.cli.settings_sources import chosen_settings, current_preset, set_where, settings_error
from windowclf.cli.train_progress import Reporter, TrainingLog
from windowclf.config.parameters import PARAMETERS
from windowclf.config.presets import NEEDS_VECTORS
from windowclf.config.settings import Settings, check_patience
from windowclf.errors import ConfigError, DivergenceError, InputError, interruption
from windowclf.features.tables import USER_GAZETTEER, parse_feature_list
from windowclf.models.tagger import WindowTagger
from windowclf.training.progress import data_line
from windowclf.training.resume import ResumeError, check_resume, fingerprint, resumed_settings

__all__ = ["train"]


@click.command(cls=Command, outputs=("model_path",))
@click.argument("train_path", metavar="TRAIN", type=click.Path())
@click.option(
    "--dev",
    "dev_path",
    type=click.Path(),
    help="Tagged file (or dataset folder) scored after each epoch; the best epoch by entity F1 is kept. "
    "Example: --dev data/sample/dev.conll",
)
@click.option(
    "-o",
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="Model file to write (with --resume: default the resumed file); the log goes "
    "beside it as MODEL.log.jsonl. Example: -o runs/ner.npz",
)
@click.option(
    "--resume",
    "resume_path",
    type=click.Path(dir_okay=False),
    help="Continue training a saved model on the same data (and the same --dev, if it was "
    "trained with one), up to --epochs. Example: --resume runs/ner.npz --epochs 20",
)
@click.option(
    "--allow-new-data",
    is_flag=True,
    help="With --resume: continue on training or dev data other than the model's (its best "
    "epoch is rescored on the new --dev). Example: --allow-new-data",
)
@click.option(
    "--embeddings",
    "embeddings_path",
    type=click.Path(dir_okay=False),
    help="Pretrained word vectors to start L from. Example: --embeddings glove.6B.50d.txt",
)
@click.option(
    "--embeddings-format",
    type=Choice(["auto", "word2vec", "glove", "word2vec-binary", "cs224d"]),
    default="auto",
    show_default=True,
    help="Format of --embeddings (cs224d: wordVectors.txt, with --embeddings-vocab). "
    "Example: --embeddings-format glove",
)
@click.option(
    "--embeddings-vocab",
    type=click.Path(dir_okay=False),
    help="CS224d's vocab.txt, line i naming row i of --embeddings. "
    "Example: --embeddings-format cs224d --embeddings-vocab vocab.txt",
)
@click.option(
    "--gazetteer",
    "gazetteer_path",
    type=click.Path(dir_okay=False),
    help="Your own lists of entity strings, one a line as TYPE<TAB>entity (LOC<TAB>New York): one more "
    "feature table (user_gazetteer) saying which listed string of which type covers each word. "
    "Example: --gazetteer names.tsv",
)
@click.option(
    "--preset",
    "preset_name",
    metavar="NAME",
    help="Start from named settings: default, window-strong, window-strong-vectors (with --embeddings; "
    "`windowclf presets` prints them; best-train-only and best-glove are their old names); --config and "
    "flags override them. Example: --preset window-strong",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help='A TOML settings file (setting = value lines, optionally preset = "NAME"), as '
    "`windowclf info --toml MODEL` prints; flags override it. Example: --config ner.toml",
)
@click.option(
    "--slim",
    is_flag=True,
    help="Write a prediction-only model (no training state, no pretrained vectors): smaller, "
    "but --resume cannot continue it. Example: --slim",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar within each epoch on stderr [default: when stderr is a terminal]. Example: --no-progress",
)
@conll_options
@settings_options()
@click.pass_context
def train(
    ctx,
    train_path,
    dev_path,
    model_path,
    resume_path,
    allow_new_data,
    embeddings_path,
    embeddings_format,
    embeddings_vocab,
    gazetteer_path,
    preset_name,
    config_path,
    slim,
    progress,
    **opts,
):
    """Train a tagger on TRAIN (a CoNLL column file, JSON lines, or a Hugging Face dataset folder
    written by save_to_disk, its ClassLabel names read from it; tags in any scheme).

    Prints what it read, the tag scheme the model will predict (unless --scheme says otherwise, the
    training tags' own, IOB1 as IOB2) and one line per epoch (loss, dev precision / recall / F1, a
    * where dev F1 is the best so far, speed, where the time went), saves the model after every
    epoch that improves dev F1 (its weights, and the state --resume continues from) and once more
    at the end (with the last epoch's state), and logs every epoch to MODEL.log.jsonl. The model
    remembers how TRAIN was read (encoding, columns, labels, tokenizer): predict and evaluate read
    other files the same way unless told otherwise. Ctrl-C stops and keeps the best model so far
    (exit 130).

    \b
    Example:
      windowclf train data/sample/train.conll --dev data/sample/dev.conll -o runs/ner.npz \\
          --epochs 10 --lr 0.1 --window 5 --patience 3
    """
    # Every file read from here on is hashed as it is read: the provenance records those bytes.
    reads = ctx.with_resource(recorded_reads())
    model_path = model_path or resume_path
    if model_path is None:
        raise click.UsageError("give the model file to write: -o MODEL")
    # Before anything is read: the outputs must not be inputs (every file the command reads: the
    # data, the vectors and their vocabulary, the settings file, the resumed model's log),
    # directories or devices. The resumed model may be the model's output and its log the log's:
    # each is read whole before it is first written.
    resumed_log = {"the log of --resume": f"{resume_path}.log.jsonl"} if resume_path else {}
    model_target = guard_output(model_path, resumed_log, allowed=("--resume",))
    log_path = f"{model_path}.log.jsonl"
    log_target = guard_output(log_path, {**resumed_log, "-o": model_path}, allowed=tuple(resumed_log))
    if preset_name:
        preset_name = current_preset(preset_name)
        if preset_name in NEEDS_VECTORS and not (embeddings_path or resume_path):
            raise click.UsageError(f"--preset {preset_name} starts from pretrained vectors: give --embeddings FILE")
    settings, sources = chosen_settings(preset_name, config_path, given(opts, PARAMETERS))
    _refuse_ignored_options(settings, sources, dev_path, embeddings_path, resume_path)
    if embeddings_vocab and embeddings_format != "cs224d":
        raise click.UsageError("--embeddings-vocab goes with --embeddings-format cs224d")
    corpus = read_tagged(train_path, opts)
    sentences, tags, documents = corpus
    dev = tuple(read_tagged(dev_path, opts)) if dev_path else None  # (sentences, tags, documents)
    lists = None
    if gazetteer_path:
        if resume_path:
            raise click.UsageError("--gazetteer cannot be used with --resume: the model holds its gazetteer")
        lists = _read_gazetteer(gazetteer_path, reading_options(opts)["encoding"])
        features = parse_feature_list(settings.get("features", Settings().features))
        settings["features"] = features if USER_GAZETTEER in features else [*features, USER_GAZETTEER]
    if resume_path:
        if embeddings_path:
            raise click.UsageError("--embeddings cannot be used with --resume: the model holds its vectors")
        tagger = _resumable(resume_path, settings, corpus, train_path, dev, allow_new_data)
    elif allow_new_data:
        raise click.UsageError("--allow-new-data goes with --resume")
    else:
        try:
            tagger = WindowTagger(**settings)
        except ConfigError as err:
            raise settings_error(err, sources) from None
    # What train reads goes to stdout, beside the epoch lines, once every input has been read
    # and checked (bad input prints one error line and nothing else).
    notes = [
        printable(data_line("training data", train_path, sentences, tags))
        + documents_note(documents, sentences, tagger)
    ]
    if dev is not None:
        notes.append(
            printable(data_line("dev data", dev_path, dev[0], dev[1])) + documents_note(dev[2], dev[0], tagger)
        )
    if not resume_path:
        notes.append(scheme_line(corpus.scheme, settings.get("scheme")))
        tagger.training_input = _training_input(corpus, opts)
    if progress is None:
        progress = sys.stderr.isatty()
    embeddings = None
    if embeddings_path:
        if progress:  # a terminal hears that the wait is the vectors (a file of 400k words takes a while)
            click.echo(f"loading vectors from {printable(embeddings_path)} ...", err=True)
        t0 = time.perf_counter()
        embeddings = _load_embeddings(embeddings_path, embeddings_format, embeddings_vocab, tagger.settings, sentences)
        notes.append(
            coverage_line(
                embeddings, tagger.settings, _normalizer(tagger.settings), sentences, dev, time.perf_counter() - t0
            )
        )
        if "dim" in settings and settings["dim"] != embeddings.vectors.shape[1]:
            click.echo(
                f"Warning: --dim {settings['dim']} is ignored: the vectors have "
                f"{embeddings.vectors.shape[1]} dimensions",
                err=True,
            )
    click.echo("\n".join(notes))
    tagger.provenance.update(
        _provenance(
            preset_name,
            {
                "settings_file": config_path,
                "train": train_path,
                "dev": dev_path,
                "vectors": embeddings_path,
                "vectors_vocab": embeddings_vocab,
                "gazetteer": gazetteer_path,
            },
            reads,
        )
    )
    done = tagger.history[-1]["epoch"] if resume_path and tagger.history else 0
    log = TrainingLog(log_target, f"{resume_path}.log.jsonl" if resume_path else None, done)
    reporter = Reporter(tagger, model_target, log, progress, slim)
    handed = [embeddings]  # fit takes the only reference: the vectors go once copied into L
    del embeddings
    try:
        # Divergence is caught by the trainer's finite checks; numpy's overflow warnings would
        # only add lines of noise to the one error line.
        with np.errstate(all="ignore"):
            tagger.fit(
                sentences,
                tags,
                dev=dev,
                documents=documents,
                embeddings=handed.pop(),
                gazetteer=lists,
                callbacks=[reporter],
                resume=bool(resume_path),
                allow_new_data=allow_new_data,
            )
        tagger.save(model_target, slim=slim)  # the best weights, with the last epoch's state for --resume
        log.start()  # even after no epoch (--epochs 0): the log describes the model beside it
    except KeyboardInterrupt as err:
        reporter.close_bar()
        word, code = interruption(err)
        click.echo(
            printable(f"{word}: {_keep(tagger, model_target, model_path, reporter.epochs_done, slim)}"), err=True
        )
        ctx.exit(code)
    except DivergenceError as err:
        reporter.close_bar()
        raise click.ClickException(
            f"{err}; {_keep(tagger, model_target, model_path, reporter.epochs_done, slim)}"
        ) from None
    except ConfigError as err:  # a network too large for the memory, say: named as it was set
        raise settings_error(err, sources) from None
    finally:
        log.close()
    if tagger.stopped_early:
        click.echo(f"stopped early after epoch {tagger.history[-1]['epoch']}: {tagger.stopped_early}")
    best = tagger.best
    score = f"best dev F1 {best['f1']:.2f} at epoch {best['epoch']}; " if best.get("f1") is not None else ""
    click.echo(f"{score}model saved to {model_path} (log: {log_path})")


def _provenance(preset_name, files, reads) -> dict:
    """The preset and the files a model is trained from: each one's name as given and the sha256
    of the bytes read (``reads``, a ReadLedger: never read again by name; None for a pipe or a
    dataset folder)."""
    out = {"preset": preset_name} if preset_name else {}
    for key, path in files.items():
        if path:  # a dataset folder has no one file's digest
            out[key] = {"name": printable(str(path)), "sha256": None if os.path.isdir(path) else reads.sha256(path)}
    return out


def _refuse_ignored_options(settings, sources, dev_path, embeddings_path, resume_path):
    """Options that would do nothing are errors, not silence; each names where it was set. (A
    settings file's or preset's ``keep_pretrained_vocab`` is not an option given: `info --toml`
    prints it for every model.)"""
    try:
        check_patience(settings.get("patience"), bool(dev_path))
    except ConfigError as err:
        raise settings_error(err, sources) from None
    if sources.get("keep_pretrained_vocab", ("",))[0] == "flag" and not (embeddings_path or resume_path):
        flag = "--keep-pretrained-vocab" if settings["keep_pretrained_vocab"] else "--no-keep-pretrained-vocab"
        raise click.UsageError(f"{flag} chooses which words of --embeddings get a row: give --embeddings FILE")
    if settings.get("epochs") == 0 and not resume_path:
        raise set_where(sources, "epochs", 0, "trains nothing; give at least 1")


def _training_input(corpus, opts) -> dict:
    """How TRAIN was read, for the model to remember (WindowTagger.training_input)."""
    reading = reading_options(opts)
    out = {"format": corpus.form, "scheme": corpus.scheme, "encoding": reading["encoding"]}
    if corpus.form == "conll":
        out.update({k: reading[k] for k in ("word_column", "tag_column", "separator")})
    else:
        out["labels"] = corpus.labels if corpus.labels is not None else reading["labels"]
    if corpus.tokenizer is not None or opts.get("tokenizer") is not None:  # it split the texts, or was named
        out["tokenizer"] = reading["tokenizer"]
    return out


def _keep(tagger, target, model_path, epochs_done, slim=False) -> str:
    """Save what training got to (the tagger has restored its best weights) and say so."""
    if not epochs_done:  # nothing new: a file there (the resumed model, say) stays as it was
        return "no epoch finished, so no model was saved"
    tagger.save(target, slim=slim)
    best = tagger.best
    score = f" (dev F1 {best['f1']:.2f})" if best.get("f1") is not None else ""
    return f"the best model so far, epoch {best['epoch']}{score}, is saved in {model_path}"


def _resumable(path, settings, corpus, train_path, dev, allow_new_data):
    """The model at ``path`` with the given settings, checked by the library's resume rules
    (resume.py) before anything is loaded or trained, each error naming its flag, or the file
    and line of a training sentence the model cannot learn from."""
    sentences, tags, documents = corpus
    tagger = WindowTagger.load(path)
    try:
        tagger.settings = resumed_settings(tagger.settings, settings)
        read = tagger.reads_documents  # then the documents are part of the data
        check_resume(
            tagger.training_state,
            tagger.settings,
            tagger.best,
            tagger.data_fingerprints,
            fingerprint(sentences, tags, documents if read else None),
            dev and fingerprint(dev[0], dev[1], dev[2] if read else None),
            allow_new_data,
        )
    except ResumeError as err:
        message = str(err)
        if err.setting is not None:
            flag = "--" + err.setting.replace("_", "-")
            message = flag + message[len(err.setting) :] if message.startswith(err.setting) else f"{message} ({flag})"
        raise click.UsageError(f"{path}: {message}") from None
    unknown = tagger.unknown_tag(tags)  # with --allow-new-data: tags the model never predicted
    if unknown is not None:
        i, tag = unknown
        raise InputError(
            f"tag {tag!r} is not one the resumed model {path} predicts ({', '.join(tagger.tags)}); "
            "train a new model for these tags",
            train_path,
            corpus.lines[i] if corpus.lines else None,
        )
    return tagger


def _read_gazetteer(path, encoding):
    """The user's gazetteer file as a Gazetteer; strings too long to match said on stderr."""
    from windowclf.features.gazetteer import MAX_WORDS, Gazetteer
    from windowclf.formats.gazetteers import read_gazetteer

    found = read_gazetteer(path, max_words=MAX_WORDS, encoding=encoding)
    if found.too_long:
        click.echo(
            f"Warning: {printable(path)}: {found.too_long:,} entity strings of more than {MAX_WORDS} words "
            "left out (a gazetteer matches at most that many)",
            err=True,
        )
    return Gazetteer.from_entries(found.entries)


def _normalizer(settings):
    """How the model's vocabulary will spell a word (lowercasing, digits), as a function."""
    from windowclf.features.vocab import Vocabulary

    return Vocabulary([], lowercase=settings.lowercase, digits=settings.digits).normalize


def _load_embeddings(path, fmt, vocab_path, settings, sentences):
    from windowclf.formats.vectors import load_cs224d, load_vectors

    if fmt == "cs224d":
        if not vocab_path:
            raise click.UsageError("--embeddings-format cs224d needs --embeddings-vocab VOCAB")
        return load_cs224d(vocab_path, path, dtype=settings.dtype)
    wanted = None
    if not settings.keep_pretrained_vocab:
        normalize = _normalizer(settings)
        wanted = {normalize(word) for tokens in sentences for word in tokens}
    return load_vectors(path, format=fmt, vocabulary=wanted, dtype=settings.dtype)
