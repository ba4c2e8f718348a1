"""``windowclf train``: the command, its progress reporter and its resume checks."""

from __future__ import annotations

import json
import sys

import click
import numpy as np

from .cli_options import RESUMABLE, SETTING_OPTIONS, conll_options, given, read_tagged, settings_options, show_default
from .errors import DivergenceError
from .reports import epoch_record, format_epoch
from .settings import Settings
from .tagger import WindowTagger
from .train import Callback

__all__ = ["train"]


class _Reporter(Callback):
    """Progress bar within an epoch, one line after it, the log, and a save after every epoch."""

    def __init__(self, tagger, model_path, log, progress):
        self.tagger, self.model_path, self.log, self.progress = tagger, model_path, log, progress
        self.bar = None
        self.done = 0
        self.epochs_done = 0  # in this run

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
        # Saving every epoch, not only the best ones, lets a killed run resume from its last epoch:
        # the tagger writes its best epoch's weights with this epoch's training state.
        self.tagger.save(self.model_path)
        self.epochs_done += 1
        click.echo(format_epoch(record, self.tagger.settings.epochs, self.tagger.best.get("epoch") == result.epoch))


@click.command()
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
