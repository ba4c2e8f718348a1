"""The ``windowclf`` command line: click commands adapting the library, nothing more.

Library errors become one-line click errors here: bad input, model files and settings
exit 2, anything else 1; Ctrl-C exits 130 and a closed output pipe exits 141, quietly.
"""

from __future__ import annotations

import io
import json
import os
import sys

# The window network multiplies small matrices, where a second BLAS thread costs more than it
# gives (tens of times slower on a busy 2-core machine). One thread unless the user chose;
# this must happen before numpy loads, which is why windowclf/__init__.py loads nothing eagerly.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import click  # noqa: E402

from .cli_options import DEFAULTS, conll_options, given, model_option, read_tagged, settings_options  # noqa: E402
from . import cli_tag  # noqa: E402
from .cli_train import train  # noqa: E402
from .errors import ConfigError, InputError, WindowclfError  # noqa: E402
from .features import table_name  # noqa: E402
from .reports import format_summary, model_summary, read_log  # noqa: E402
from .settings import Settings  # noqa: E402
from .tagger import WindowTagger  # noqa: E402

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
    from .finetune import export_vectors

    tagger = WindowTagger.load(model_path)
    if changed_only and tagger.initial_vectors is None:
        raise click.UsageError("--changed-only needs a model trained from --embeddings")
    count = export_vectors(tagger, out_path, changed_only=changed_only, binary=binary)
    click.echo(f"wrote {count} vectors of dimension {tagger.vectors.shape[1]} to {out_path}", err=True)


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
        heat = cli_tag.confusion_table(gold, WindowTagger.load(model_path).predict(sentences))
    from .plots import plot_training

    plot_training(records, out_path, heat)
    click.echo(f"wrote {out_path}", err=True)


main.add_command(train)
main.add_command(cli_tag.predict)
main.add_command(cli_tag.evaluate)

if __name__ == "__main__":
    main()
