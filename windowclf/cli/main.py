"""The ``windowclf`` command line: click commands adapting the library, nothing more.

Library errors become one-line click errors here: bad input, model files and settings
exit 2, anything else 1; Ctrl-C exits 130 and a closed output pipe exits 141, quietly.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys

# The window network multiplies small matrices, where a second BLAS thread costs more than it
# gives (tens of times slower on a busy 2-core machine). One thread unless the user chose;
# this must happen before numpy loads, which is why windowclf/__init__.py loads nothing eagerly.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import click  # noqa: E402

from windowclf._util.atomic import atomic_writer  # noqa: E402
from windowclf._util.limits import require_memory  # noqa: E402
from windowclf._util.outputs import open_regular  # noqa: E402
from windowclf._util.printable import file_name, printable  # noqa: E402
from windowclf.cli import tag as cli_tag  # noqa: E402
from windowclf.cli.ensemble import ensemble, show_ensemble  # noqa: E402
from windowclf.cli.options import (  # noqa: E402
    DEFAULTS,
    Command,
    Number,
    conll_options,
    given,
    guard_output,
    is_input,
    model_option,
    read_tagged,
    settings_options,
)
from windowclf.cli.presets import presets  # noqa: E402
from windowclf.cli.process import command_process  # noqa: E402
from windowclf.cli.reports import format_summary, model_summary, read_log  # noqa: E402
from windowclf.cli.serve import serve  # noqa: E402
from windowclf.cli.train import train  # noqa: E402
from windowclf.config.settings import Settings  # noqa: E402
from windowclf.errors import ConfigError, InputError, WindowclfError, interruption  # noqa: E402
from windowclf.features.tables import table_name  # noqa: E402
from windowclf.models.ensemble import load_any  # noqa: E402
from windowclf.models.tagger import WindowTagger  # noqa: E402

PLOT_HINT = "matplotlib is needed for plots: pip install 'windowclf[plot]'"
GRADCHECK_TOLERANCE = 1e-6
# A network small enough to difference every weight; an l2 large enough that its gradient shows.
GRADCHECK_DEFAULTS = {"dim": 4, "hidden": 5, "l2": 1e-3}


class BadInput(click.ClickException):
    """Bad input data, model file or setting: one line on stderr, exit 2 like a usage error."""

    exit_code = 2


class _Group(click.Group):
    """Turns library errors, closed pipes, Ctrl-C and SIGTERM into one line and an exit code.

    Every message passes through :func:`~windowclf._util.printable.printable`: one line, whatever
    control characters the file names or file contents it quotes hold. An operating-system error
    about one of the command's inputs (missing, a directory, unreadable, a loop of links) is bad
    input, exit 2; about anything else (an output, its folder removed meanwhile, a full disk) it
    is the environment's, exit 1.
    """

    command_class = Command

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:  # windowclf --bogus: one line too, not click's usage block
            if isinstance(err, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # bare windowclf: the help
                raise
            raise BadInput(printable(err.format_message())) from None

    def invoke(self, ctx):
        with command_process():  # SIGTERM as Ctrl-C, closed standard streams, terminal-safe stdout
            try:
                result = super().invoke(ctx)
                sys.stdout.flush()  # a closed pipe must fail here, inside the handler, not at exit
                return result
            except InputError as err:  # ModelFileError is an InputError
                raise BadInput(printable(err)) from None
            except ConfigError as err:
                raise BadInput(printable(_as_option(str(err)))) from None
            except click.UsageError as err:  # click would add a usage line and a hint: keep errors one line
                raise BadInput(printable(err.format_message())) from None
            except click.ClickException as err:
                err.message = printable(err.message)  # type: ignore[misc]  # click's Final; its text, made safe
                raise
            except WindowclfError as err:
                raise click.ClickException(printable(err)) from None
            except BrokenPipeError:
                _stdout_to_devnull()
                ctx.exit(141)
            except OSError as err:
                if is_input(err.filename):
                    raise BadInput(printable(_os_message(err))) from None
                raise click.ClickException(printable(_os_message(err))) from None
            except MemoryError:  # every size is checked before allocating: this is a bug, said in one line
                raise click.ClickException(
                    "out of memory (an allocation was not checked against the memory available; please report it)"
                ) from None
            except KeyboardInterrupt as err:
                word, code = interruption(err)
                click.echo(f"{word}.", err=True)
                ctx.exit(code)


def _stdout_to_devnull():
    # Python's documented recipe (signal docs, "Note on SIGPIPE"): later flushes go nowhere.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _as_option(message: str) -> str:
    """Name settings as their options: "batch_size must be ..." -> "--batch-size must be ...", and
    any other setting whose name has an underscore ("... with freeze_embeddings" -> "... with
    --freeze-embeddings")."""
    first, space, rest = message.partition(" ")
    if space and first in DEFAULTS:
        message = f"--{first.replace('_', '-')} {rest}"
    return _SETTING_NAME.sub(lambda m: "--" + m.group(0).replace("_", "-"), message)


_SETTING_NAME = re.compile(r"(?<![-\w'])(" + "|".join(n for n in DEFAULTS if "_" in n) + r")(?![\w'])")


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


@main.command()
@settings_options(
    "window",
    "dim",
    "hidden",
    "activation",
    "output",
    "decoder",
    "features",
    "feature_dim",
    "char_filters",
    "char_dim",
    "char_window",
    "l2",
    "dropout_input",
    "dropout_hidden",
    "seed",
    defaults=GRADCHECK_DEFAULTS,
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="Windows in the test batch. Example: --batch 10",
)
@click.option(
    "--eps",
    type=Number(0, 1, low_open=True),
    default=1e-5,
    show_default=True,
    help="Step of the central differences (float64), in (0, 1]. Example: --eps 1e-6",
)
def gradcheck(batch, eps, **opts):
    """Check backpropagation against central finite differences on a small random network.

    Prints each parameter's relative error (float64); exits 1 if any is above 1e-6 or not a
    number. With --decoder sll the objective is the sentence-level likelihood over sentences of
    3, 1 and 3 words, and the transition scores A and A0 are checked too.

    \b
    Example:
      windowclf gradcheck --activation relu --output sigmoid --features caps,suffix3
      windowclf gradcheck --decoder sll --dropout-hidden 0.5
      windowclf gradcheck --char-filters 4 --char-dim 3 --decoder sll
    """
    from windowclf.nn.gradcheck import check_gradients, random_problem, sentence_objective, sentence_problem

    chosen = {**GRADCHECK_DEFAULTS, **given(opts, opts)}
    if chosen.get("output") == "sigmoid":
        chosen["positive_tag"] = "1"
    s = Settings(**chosen)
    require_memory(
        8 * batch * (2 * s.window * (s.dim + len(s.features) * s.feature_dim) + 4 * s.hidden + 16),
        f"a batch of {batch:,} windows",
    )
    tables = [(table_name(f), 6, s.feature_dim) for f in s.features]
    problem = dict(
        dim=s.dim,
        window=s.window,
        hidden=s.hidden,
        batch=batch,
        activation=s.activation,
        extra_tables=tables,
        seed=s.seed,
        char_filters=s.char_filters,
        char_dim=s.char_dim,
        char_window=s.char_window,
    )
    loss_and_grads = None
    if s.decoder == "sll":
        net, ids, y, lengths = sentence_problem(**problem)
        loss_and_grads = sentence_objective(net, ids, y, lengths, l2=s.l2, dropout=(s.dropout_input, s.dropout_hidden))
    else:
        net, ids, y = random_problem(output=s.output, **problem)
    errors = check_gradients(
        net, ids, y, l2=s.l2, dropout=(s.dropout_input, s.dropout_hidden), loss_and_grads=loss_and_grads, eps=eps
    )
    width = max(len(name) for name in errors)
    passed = {name: bool(error <= GRADCHECK_TOLERANCE) for name, error in errors.items()}  # NaN fails
    for name, error in errors.items():
        click.echo(f"{name:<{width}}  relative error {error:.2e}  {'ok' if passed[name] else 'FAIL'}")
    failed = [name for name, ok in passed.items() if not ok]
    if failed:
        raise click.ClickException(
            f"gradient check failed for {', '.join(failed)} (relative error above {GRADCHECK_TOLERANCE:g})"
        )


@main.command("export-embeddings")
@model_option
@click.option(
    "-o",
    "--output",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write (word2vec text format; .gz compresses). Example: -o tuned.txt",
)
@click.option(
    "--changed-only",
    is_flag=True,
    help="Only the words whose pretrained vector training changed. Example: --changed-only",
)
@click.option("--binary", is_flag=True, help="word2vec binary format instead of text. Example: --binary")
def export_embeddings(model_path, out_path, changed_only, binary):
    """Write the model's tuned word vectors L in word2vec format.

    \b
    Example:
      windowclf export-embeddings -m runs/ner.npz -o runs/tuned.txt --changed-only
    """
    from windowclf.models.finetune import export_vectors

    target = guard_output(out_path)
    tagger = WindowTagger.load(model_path)
    if changed_only and not tagger.pretrained:
        raise click.UsageError("--changed-only needs a model trained from --embeddings")
    count = export_vectors(tagger, target, changed_only=changed_only, binary=binary)
    click.echo(printable(f"wrote {count} vectors of dimension {tagger.vectors.shape[1]} to {out_path}"), err=True)


@main.command("export-model")
@model_option
@click.option(
    "-o",
    "--output",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The prediction-only model file to write. Example: -o runs/ner-slim.npz",
)
def export_model(model_path, out_path):
    """Write a prediction-only copy of a model: its best weights, vocabularies and settings, without
    the training state --resume needs or the pretrained vectors fine-tuning started from.

    \b
    Example:
      windowclf export-model -m runs/ner.npz -o runs/ner-slim.npz
    """
    target = guard_output(out_path)
    WindowTagger.load(model_path).save(target, slim=True)
    sizes = [os.path.getsize(p) for p in (model_path, out_path)]
    click.echo(printable(f"wrote {out_path}: {sizes[1]:,} bytes ({model_path}: {sizes[0]:,})"), err=True)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object. Example: --json")
@click.option(
    "--toml",
    "as_toml",
    is_flag=True,
    help="Print the settings as a TOML file `train --config` reads, then a [data] table of what the "
    "model was made from (its files and how they were read; --config leaves it alone). Example: --toml",
)
def info(model_path, as_json, as_toml):
    """Describe a model: sizes, tags, scheme, settings, best dev score, epochs trained (of an
    ensemble: what its models share, then each model).

    \b
    Example:
      windowclf info runs/ner.npz
      windowclf info --toml runs/ner.npz > ner.toml    # then: windowclf train ... --config ner.toml
    """
    from windowclf.models.ensemble import describe_file

    is_ensemble, described = describe_file(model_path)  # metadata and headers: no array read
    if is_ensemble:
        return show_ensemble(model_path, described, as_json, as_toml)
    tagger, shapes, pretrained = described[0]
    if as_toml:
        from windowclf.config.presets import to_toml

        click.echo(to_toml(tagger.settings.to_dict(), _data_table(tagger)), nl=False)
        return
    summary = model_summary(tagger, file_name(model_path), shapes, pretrained)
    click.echo(json.dumps(summary) if as_json else format_summary(summary), nl=as_json)


@main.command()
@click.argument("log_path", metavar="LOG|MODEL", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Image to write (.png, .pdf, .svg). Example: -o runs/curves.png",
)
@click.option(
    "--confusion",
    nargs=2,
    type=click.Path(dir_okay=False),
    metavar="MODEL GOLD",
    help="Add a confusion heat map of MODEL (a model or an ensemble) on GOLD. "
    "Example: --confusion runs/ner.npz dev.conll",
)
@conll_options
def plot(log_path, out_path, confusion, **opts):
    """Plot learning curves (loss, dev F1 per epoch) from a training log, or from a model file's
    own history of the epochs it holds (needs windowclf[plot]).

    \b
    Example:
      windowclf plot runs/ner.npz.log.jsonl -o runs/curves.png --confusion runs/ner.npz dev.conll
      windowclf plot runs/ner.npz -o runs/curves.png
    """
    model_path, gold_path = confusion or (None, None)
    target = guard_output(out_path)
    if _is_zip(log_path):  # a model file: its history (the log's records, without the timings)
        from windowclf.models.files import describe

        records = describe(WindowTagger, log_path)[0].history
        if not records:
            raise InputError("the model holds no trained epoch to plot", log_path)
    else:
        records = read_log(log_path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise click.ClickException(PLOT_HINT) from None
    image_format = os.path.splitext(out_path)[1].lstrip(".").lower()
    formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if image_format not in formats:
        raise click.UsageError(
            f"-o {out_path}: the extension names the image format; expected one of .{', .'.join(sorted(formats))}"
        )
    heat = None
    if confusion:
        sentences, gold, documents = read_tagged(gold_path, opts)
        heat = cli_tag.confusion_table(
            gold, load_any(model_path, training_state=False).predict(sentences, documents=documents)
        )  # or an ensemble
    from windowclf.cli.plots import plot_training

    with atomic_writer(target, "wb") as image:
        plot_training(records, image, heat, format=image_format)
    click.echo(printable(f"wrote {out_path}"), err=True)


_DATA_FILES = ("train", "dev", "vectors", "vectors_vocab", "settings_file")


def _data_table(tagger) -> dict:
    """What ``info --toml`` records in its [data] table: the files the model was made from (name and
    sha256), its preset, and how its training data was read."""
    made = tagger.provenance or {}
    data: dict = {k: made[k] for k in _DATA_FILES if isinstance(made.get(k), dict)}
    if made.get("preset"):
        data["preset"] = made["preset"]
    data.update({k: v for k, v in (tagger.training_input or {}).items() if v is not None})
    return data


def _is_zip(path) -> bool:
    """Whether ``path`` starts as a zip file (an .npz model) does; unreadable paths are the reader's to report."""
    try:
        with open_regular(path, "a training log (MODEL.log.jsonl) or a model file (.npz)") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


main.add_command(train)
main.add_command(cli_tag.predict)
main.add_command(cli_tag.evaluate)
main.add_command(ensemble)
main.add_command(serve)
main.add_command(presets)

if __name__ == "__main__":
    main()
