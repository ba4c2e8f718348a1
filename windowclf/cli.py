"""The ``windowclf`` command line: click commands adapting the library, nothing more.

Library errors become one-line click errors here: bad input, model files and settings
exit 2, anything else 1; Ctrl-C exits 130 and a closed output pipe exits 141, quietly.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
from itertools import islice

# The window network multiplies small matrices, where a second BLAS thread costs more than it
# gives (tens of times slower on a busy 2-core machine). One thread unless the user chose;
# this must happen before numpy loads, which is why windowclf/__init__.py loads nothing eagerly.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import click  # noqa: E402
import numpy as np  # noqa: E402

from .conll import parse_incr, read_conll
from .errors import ConfigError, DivergenceError, InputError, WindowclfError
from .features import table_name
from .output import (WRITERS, Tagged, epoch_record, format_epoch, format_summary, model_summary,
                     plot_training, read_log, text_sentences)
from .schemes import split_tag, validate_tags
from .settings import SCHEME_NAMES, Settings
from .tagger import WindowTagger
from .train import Callback
from .cli_options import (DEFAULTS, RESUMABLE, SETTING_OPTIONS, conll_options, given,
                          model_option, read_kwargs, read_tagged, settings_options, show_default)

PLOT_HINT = "matplotlib is needed for plots: pip install 'windowclf[plot]'"
GRADCHECK_TOLERANCE = 1e-6
# A network small enough to difference every weight; an l2 large enough that its gradient shows.
GRADCHECK_DEFAULTS = {"dim": 4, "hidden": 5, "l2": 1e-3}


class BadInput(click.ClickException):
    """Bad input data, model file or setting: one line on stderr, exit 2 like a usage error."""

    exit_code = 2


class _Group(click.Group):
    """Turns library errors, closed pipes and Ctrl-C into one line and an exit code."""

    def invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe must fail here, inside the handler, not at exit
            return result
        except InputError as err:  # ModelFileError is an InputError
            raise BadInput(str(err)) from None
        except ConfigError as err:
            raise BadInput(_as_option(str(err))) from None
        except click.UsageError as err:  # click would add a usage line and a hint: keep errors one line
            raise BadInput(err.format_message()) from None
        except WindowclfError as err:
            raise click.ClickException(str(err)) from None
        except BrokenPipeError:
            _stdout_to_devnull()
            ctx.exit(141)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as err:
            raise BadInput(_os_message(err)) from None
        except OSError as err:
            raise click.ClickException(_os_message(err)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


def _stdout_to_devnull():
    # Python's documented recipe (signal docs, "Note on SIGPIPE"): later flushes go nowhere.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _as_option(message: str) -> str:
    """Name a setting as its option: "batch_size must be ..." -> "--batch-size must be ..."."""
    first, space, rest = message.partition(" ")
    if space and first in DEFAULTS:
        return f"--{first.replace('_', '-')} {rest}"
    return message


def _os_message(err: OSError) -> str:
    return f"{err.filename}: {err.strerror}" if err.filename else str(err)


# ------------------------------------------------------------------------------ commands


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="windowclf", message="windowclf %(version)s")
def main():
    """Train and run window-based word classifiers (Collobert et al.; CS224d's NER network).

    \b
    Example:
      windowclf train data/sample/train.conll --dev data/sample/dev.conll -o runs/ner.npz
      windowclf evaluate -m runs/ner.npz data/sample/dev.conll
      echo "John Smith visited Paris." | windowclf predict -m runs/ner.npz --format inline
    """


class _Reporter(Callback):
    """Progress bar within an epoch, one line after it, the log, and a save after every epoch."""

    def __init__(self, tagger, model_path, log, progress):
        self.tagger, self.model_path, self.log, self.progress = tagger, model_path, log, progress
        self.bar = None
        self.done = 0
        self.epochs_done = 0  # in this run
        # a resumed model holds its best epoch's weights
        self.best_params = None if tagger.network is None else _copy(tagger.network.params)

    def on_batch_end(self, done, total):
        if not self.progress:
            return
        if self.bar is None:
            label = f"epoch {len(self.tagger.history) + 1}"
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()
            self.done = 0
        self.bar.update(done - self.done)
        self.done = done

    def close_bar(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def on_epoch_end(self, result):
        self.close_bar()
        record = epoch_record(result)
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()
        best = self.tagger.best.get("epoch") == result.epoch
        if best:
            self.best_params = _copy(self.tagger.network.params)
        self._save()
        self.epochs_done += 1
        click.echo(format_epoch(record, self.tagger.settings.epochs, best))

    def _save(self):
        """Write the best epoch's weights with this epoch's training state (what --resume needs)."""
        # Saving every epoch, not only the best ones, lets a killed run resume from its last epoch.
        params = self.tagger.network.params
        current = _copy(params)
        try:
            for name, arr in self.best_params.items():
                params[name][...] = arr
            self.tagger.save(self.model_path)
        finally:
            for name, arr in current.items():
                params[name][...] = arr


def _copy(params) -> dict:
    return {name: arr.copy() for name, arr in params.items()}


@main.command()
@click.argument("train_path", metavar="TRAIN", type=click.Path(dir_okay=False))
@click.option("--dev", "dev_path", type=click.Path(dir_okay=False),
              help="Tagged file scored after each epoch; the best epoch by entity F1 is kept. "
                   "Example: --dev data/sample/dev.conll")
@click.option("-o", "--model", "model_path", type=click.Path(dir_okay=False),
              help="Model file to write (with --resume: default the resumed file); the log goes "
                   "beside it as MODEL.log.jsonl. Example: -o runs/ner.npz")
@click.option("--resume", "resume_path", type=click.Path(dir_okay=False),
              help="Continue training a saved model on the same data, up to --epochs. "
                   "Example: --resume runs/ner.npz --epochs 20")
@click.option("--embeddings", "embeddings_path", type=click.Path(dir_okay=False),
              help="Pretrained word vectors to start L from. Example: --embeddings glove.6B.50d.txt")
@click.option("--embeddings-format", type=click.Choice(["auto", "word2vec", "glove", "word2vec-binary", "cs224d"]),
              default="auto", show_default=True,
              help="Format of --embeddings (cs224d: wordVectors.txt, with --embeddings-vocab). "
                   "Example: --embeddings-format glove")
@click.option("--embeddings-vocab", type=click.Path(dir_okay=False),
              help="CS224d's vocab.txt, line i naming row i of --embeddings. "
                   "Example: --embeddings-format cs224d --embeddings-vocab vocab.txt")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar within each epoch on stderr [default: when stderr is a terminal]. "
                   "Example: --no-progress")
@conll_options
@settings_options()
@click.pass_context
def train(ctx, train_path, dev_path, model_path, resume_path, embeddings_path, embeddings_format,
          embeddings_vocab, progress, **opts):
    """Train a tagger on TRAIN (a CoNLL column file; tags in any scheme).

    Prints one line per epoch (loss, dev precision / recall / F1, speed), saves the model after
    every epoch (the best epoch's weights by dev F1, and the state --resume continues from), and
    logs every epoch to MODEL.log.jsonl. Ctrl-C stops and keeps the best model so far (exit 130).

    \b
    Example:
      windowclf train data/sample/train.conll --dev data/sample/dev.conll -o runs/ner.npz \\
          --epochs 10 --lr 0.1 --window 5 --patience 3
    """
    settings = given(opts, SETTING_OPTIONS)
    model_path = model_path or resume_path
    if model_path is None:
        raise click.UsageError("give the model file to write: -o MODEL")
    if embeddings_vocab and embeddings_format != "cs224d":
        raise click.UsageError("--embeddings-vocab goes with --embeddings-format cs224d")
    sentences, tags = read_tagged(train_path, opts)
    dev = read_tagged(dev_path, opts) if dev_path else None
    if resume_path:
        if embeddings_path:
            raise click.UsageError("--embeddings cannot be used with --resume: the model holds its vectors")
        tagger = _resumable(resume_path, settings)
    else:
        tagger = WindowTagger(**settings)
    embeddings = _load_embeddings(embeddings_path, embeddings_format, embeddings_vocab, tagger.settings,
                                  sentences) if embeddings_path else None
    if progress is None:
        progress = sys.stderr.isatty()
    log_path = f"{model_path}.log.jsonl"
    with open(log_path, "a" if resume_path else "w", encoding="utf-8") as log:
        reporter = _Reporter(tagger, model_path, log, progress)
        try:
            # Divergence is caught by the trainer's finite checks; numpy's overflow warnings would
            # only add lines of noise to the one error line.
            with np.errstate(all="ignore"):
                tagger.fit(sentences, tags, dev=dev, embeddings=embeddings, callbacks=[reporter],
                           resume=bool(resume_path))
        except KeyboardInterrupt:
            reporter.close_bar()
            click.echo(f"Interrupted: {_keep(tagger, model_path, reporter.epochs_done)}", err=True)
            ctx.exit(130)
        except DivergenceError as err:
            reporter.close_bar()
            raise click.ClickException(f"{err}; {_keep(tagger, model_path, reporter.epochs_done)}") from None
    tagger.save(model_path)  # the best weights, with the last epoch's state for --resume
    best = tagger.best
    score = f"best dev F1 {best['f1']:.2f} at epoch {best['epoch']}; " if best.get("f1") is not None else ""
    click.echo(f"{score}model saved to {model_path} (log: {log_path})")


def _keep(tagger, model_path, epochs_done) -> str:
    """Save what training got to (the tagger has restored its best weights) and say so."""
    if not epochs_done:  # nothing new: a file there (the resumed model, say) stays as it was
        return "no epoch finished, so no model was saved"
    tagger.save(model_path)
    best = tagger.best
    score = f" (dev F1 {best['f1']:.2f})" if best.get("f1") is not None else ""
    return f"the best model so far, epoch {best['epoch']}{score}, is saved in {model_path}"


def _resumable(path, settings):
    tagger = WindowTagger.load(path)
    saved = tagger.settings.to_dict()
    for name, value in settings.items():
        if name not in RESUMABLE and value != saved[name]:
            flag = "--" + name.replace("_", "-")
            raise click.UsageError(f"{flag} cannot change when resuming (the model has {show_default(saved[name])})")
    tagger.settings = Settings.from_dict({**saved, **settings})
    done = tagger.history[-1]["epoch"] if tagger.history else 0
    if done >= tagger.settings.epochs:
        raise click.UsageError(f"{path} has trained {done} epochs already; pass a larger --epochs to continue")
    # Epochs since the best are the trainer's count of epochs without improvement: a run that
    # patience stopped stays stopped, as it would have in one go.
    patience, best = tagger.settings.patience, tagger.best.get("epoch")
    if patience is not None and best is not None and done - best >= patience:
        raise click.UsageError(f"{path} stopped early: no better dev F1 for {done - best} epochs "
                               f"(--patience {patience}); pass a larger --patience to continue")
    return tagger


def _load_embeddings(path, fmt, vocab_path, settings, sentences):
    from .vectors import load_cs224d, load_vectors
    from .vocab import Vocabulary

    if fmt == "cs224d":
        if not vocab_path:
            raise click.UsageError("--embeddings-format cs224d needs --embeddings-vocab VOCAB")
        return load_cs224d(vocab_path, path, dtype=settings.dtype)
    wanted = None
    if not settings.keep_pretrained_vocab:
        probe = Vocabulary([], lowercase=settings.lowercase, digits=settings.digits)
        wanted = {probe.normalize(word) for tokens in sentences for word in tokens}
    return load_vectors(path, format=fmt, vocabulary=wanted, dtype=settings.dtype)


@main.command()
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


@main.command()
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
        matrix, labels = _confusion(gold, pred)
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


def _confusion(gold, pred):
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


@main.command()
@settings_options("window", "dim", "hidden", "activation", "output", "features", "feature_dim", "l2",
                  "dropout_input", "dropout_hidden", "seed", defaults=GRADCHECK_DEFAULTS)
@click.option("--batch", type=click.IntRange(min=1), default=6, show_default=True,
              help="Windows in the test batch. Example: --batch 10")
@click.option("--eps", type=click.FloatRange(min=0, min_open=True), default=1e-5, show_default=True,
              help="Step of the central differences (float64). Example: --eps 1e-6")
def gradcheck(batch, eps, **opts):
    """Check backpropagation against central finite differences on a small random network.

    Prints each parameter's relative error (float64); exits 1 if any is above 1e-6.

    \b
    Example:
      windowclf gradcheck --activation relu --output sigmoid --features caps,suffix3
    """
    from .gradcheck import check_gradients, random_problem

    chosen = {**GRADCHECK_DEFAULTS, **given(opts, opts)}
    if chosen.get("output") == "sigmoid":
        chosen["positive_tag"] = "1"
    s = Settings(**chosen)
    tables = [(table_name(f), 6, s.feature_dim) for f in s.features]
    net, ids, y = random_problem(dim=s.dim, window=s.window, hidden=s.hidden, batch=batch,
                                 activation=s.activation, output=s.output, extra_tables=tables, seed=s.seed)
    errors = check_gradients(net, ids, y, l2=s.l2, dropout=(s.dropout_input, s.dropout_hidden), eps=eps)
    width = max(len(name) for name in errors)
    for name, error in errors.items():
        click.echo(f"{name:<{width}}  relative error {error:.2e}  {'ok' if error <= GRADCHECK_TOLERANCE else 'FAIL'}")
    failed = [name for name, error in errors.items() if error > GRADCHECK_TOLERANCE]
    if failed:
        raise click.ClickException(f"gradient check failed for {', '.join(failed)} "
                                   f"(relative error above {GRADCHECK_TOLERANCE:g})")


@main.command("export-embeddings")
@model_option
@click.option("-o", "--output", "out_path", required=True, type=click.Path(dir_okay=False),
              help="File to write (word2vec text format; .gz compresses). Example: -o tuned.txt")
@click.option("--changed-only", is_flag=True,
              help="Only the words whose pretrained vector training changed. Example: --changed-only")
@click.option("--binary", is_flag=True, help="word2vec binary format instead of text. Example: --binary")
def export_embeddings(model_path, out_path, changed_only, binary):
    """Write the model's tuned word vectors L in word2vec format.

    \b
    Example:
      windowclf export-embeddings -m runs/ner.npz -o runs/tuned.txt --changed-only
    """
    from .vectors import save_word2vec_format

    tagger = WindowTagger.load(model_path)
    keys, vectors = tagger.vocab.index_to_key, tagger.vectors
    if changed_only:
        if tagger.initial_vectors is None:
            raise click.UsageError("--changed-only needs a model trained from --embeddings")
        rows = np.flatnonzero(np.any(vectors != tagger.initial_vectors, axis=1))
        keys, vectors = [keys[i] for i in rows], vectors[rows]
    save_word2vec_format(out_path, (keys, vectors), binary=binary)
    click.echo(f"wrote {len(keys)} vectors of dimension {vectors.shape[1]} to {out_path}", err=True)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object. Example: --json")
def info(model_path, as_json):
    """Describe a model: sizes, tags, scheme, settings, best dev score, epochs trained.

    \b
    Example:
      windowclf info runs/ner.npz
    """
    summary = model_summary(WindowTagger.load(model_path), model_path)
    click.echo(json.dumps(summary) if as_json else format_summary(summary), nl=as_json)


@main.command()
@click.argument("log_path", metavar="LOG", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Image to write (.png, .pdf, .svg). Example: -o runs/curves.png")
@click.option("--confusion", nargs=2, type=click.Path(dir_okay=False), metavar="MODEL GOLD",
              help="Add a confusion heat map of MODEL on GOLD. Example: --confusion runs/ner.npz dev.conll")
@conll_options
def plot(log_path, out_path, confusion, **opts):
    """Plot learning curves (loss, dev F1 per epoch) from a training log (needs windowclf[plot]).

    \b
    Example:
      windowclf plot runs/ner.npz.log.jsonl -o runs/curves.png --confusion runs/ner.npz dev.conll
    """
    records = read_log(log_path)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException(PLOT_HINT) from None
    heat = None
    if confusion:
        model_path, gold_path = confusion
        sentences, gold = read_tagged(gold_path, opts)
        heat = _confusion(gold, WindowTagger.load(model_path).predict(sentences))
    plot_training(records, out_path, heat)
    click.echo(f"wrote {out_path}", err=True)


if __name__ == "__main__":
    main()
