"""Option groups of the ``windowclf`` command, as decorators, and the readers they configure.

Every Settings field becomes a ``train`` option from the one table below, so a new setting is a
new option without further code.
"""

from __future__ import annotations

import click

from .conll import read_conll
from .jsonl import looks_like_jsonl, read_jsonl
from .conll_lines import text_codec
from .errors import ConfigError, InputError
from .functions import ACTIVATIONS, OUTPUTS
from .optim import OPTIMIZERS
from .schemes import validate_tags
from .settings import CHOICE_ALIASES, DECODERS, LR_SCHEDULES, SCHEME_NAMES, Settings, canonical_choice

SEPARATORS = {"auto": None, "tab": "\t", "space": " "}


class Choice(click.Choice):
    """click's Choice without case (``--scheme iobes``, ``--format JSON``) and with the aliases
    of settings.CHOICE_ALIASES (``--scheme BIO`` is IOB2): values come back in canonical spelling."""

    def __init__(self, choices, name: str | None = None):
        self.setting = name
        aliases = list(CHOICE_ALIASES.get(name, {})) if name else []
        super().__init__(list(choices) + aliases, case_sensitive=False)
        self.canonical = list(choices)

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        try:
            return canonical_choice(self.setting or "value", value, self.canonical)
        except ConfigError as err:  # pragma: no cover - super() has accepted it already
            self.fail(str(err), param, ctx)


# Every Settings field as an option: (type, what it does, example). Options not given stay None,
# so the Settings default applies (shown in the help) and --resume keeps the saved value.
SETTING_OPTIONS = {
    "window": (int, "Words in a window, odd (C = 2h + 1)", "--window 5"),
    "dim": (int, "Word vector size n (taken from --embeddings when given)", "--dim 50"),
    "hidden": (int, "Hidden layer size H", "--hidden 100"),
    "activation": (Choice(sorted(ACTIVATIONS), "activation"), "Hidden activation f", "--activation relu"),
    "output": (Choice(sorted(OUTPUTS), "output"), "softmax over the tags, or sigmoid: a one-vs-rest detector "
               "of --positive-tag", "--output sigmoid --positive-tag LOC"),
    "decoder": (Choice(DECODERS, "decoder"), "softmax: each word's best tag; sll: Collobert et al.'s sentence-level "
                "likelihood with tag transitions and Viterbi decoding",
                "--decoder sll"),
    "positive_tag": (str, "The class the sigmoid output detects (a type, or 1 in 0/1 files)", "--positive-tag LOC"),
    "scheme": (Choice(SCHEME_NAMES, "scheme"), "Tag scheme the model predicts; input files may use any scheme",
               "--scheme IOB2"),
    "features": (str, "Extra per-token feature tables, comma-separated ('' for none)", "--features caps,suffix3"),
    "feature_dim": (int, "Vector size of each feature table", "--feature-dim 5"),
    "char_filters": (int, "Character features: convolution filters over each word's characters, max-pooled "
                     "(0: none)", "--char-filters 50"),
    "char_dim": (int, "Vector size of each character (with --char-filters)", "--char-dim 16"),
    "char_window": (int, "Characters each filter reads, odd (with --char-filters)", "--char-window 3"),
    "affix_min_count": (int, "Prefixes and suffixes seen fewer times are unknown", "--affix-min-count 2"),
    "min_count": (int, "Words seen fewer times in training are unknown (UUUNKKK)", "--min-count 2"),
    "max_vocab": (int, "Keep only this many most frequent words", "--max-vocab 20000"),
    "keep_pretrained_vocab": (bool, "Give every --embeddings word a row, not only training words",
                              "--keep-pretrained-vocab"),
    "pretrained_scale": (float, "Multiply the --embeddings vectors by this before training", "--pretrained-scale 0.1"),
    "lowercase": (bool, "Look words up lowercased, as CS224d does", "--no-lowercase"),
    "digits": (bool, "Fall back to digits written DG (1996 -> DGDGDGDG)", "--no-digits"),
    "dtype": (Choice(["float32", "float64"], "dtype"), "Parameter precision", "--dtype float64"),
    "optimizer": (Choice(sorted(OPTIMIZERS), "optimizer"), "Update rule", "--optimizer momentum"),
    "lr": (float, "Learning rate", "--lr 0.05"),
    "momentum": (float, "Momentum alpha in (0, 1]: phi <- (1 - alpha) phi + alpha grad (seed 004)",
                 "--optimizer momentum --momentum 0.1"),
    "lr_decay": (float, "Learning rate decay: lr / (1 + decay * epoch)", "--lr-decay 0.1"),
    "lr_schedule": (Choice(LR_SCHEDULES, "lr_schedule"), "inverse: the decay alone; linear: also times "
                    "1 - epoch / epochs, so the rate falls to lr / epochs in the last epoch", "--lr-schedule linear"),
    "lr_embeddings": (float, "Learning rate of the word vectors L (unset: --lr)", "--lr-embeddings 0.01"),
    "l2": (float, "L2 weight lambda on W1 and W2: J + lambda/2 (||W1||^2 + ||W2||^2)", "--l2 1e-4"),
    "l2_embeddings": (float, "L2 on the batch's rows of L (towards the pretrained vectors, if any)",
                      "--l2-embeddings 1e-4"),
    "dropout_input": (float, "Probability of zeroing each entry of the window vector x while training",
                      "--dropout-input 0.2"),
    "dropout_hidden": (float, "Probability of zeroing each hidden unit while training", "--dropout-hidden 0.5"),
    "batch_size": (int, "Windows per update (1: per-example SGD); with --decoder sll, whole sentences of at "
                   "least this many words", "--batch-size 64"),
    "epochs": (int, "Passes over the training data (with --resume: the new total)", "--epochs 20"),
    "patience": (int, "Stop after this many epochs without a better dev entity F1", "--patience 3"),
    "freeze_embeddings": (bool, "Never update the word vectors L", "--freeze-embeddings"),
    "freeze_epochs": (int, "Update L only after this many epochs", "--freeze-epochs 2"),
    "seed": (int, "Seed of the initialization and the shuffling", "--seed 1"),
    "doc_vote": (float, "Decoding: move each word's scores towards those of the same word elsewhere in its "
                 "document, by this weight (0: off)", "--doc-vote 2"),
}
DEFAULTS = Settings().to_dict()


constrain_option = click.option(
    "--constrain/--no-constrain", default=True, show_default=True,
    help="Keep every sentence well formed in the model's tag scheme (IOB2: no I-X after O; IOBES: every "
         "B-X closed by E-X): Viterbi under the scheme's constraints. Example: --no-constrain")


def show_default(value) -> str:
    if isinstance(value, list):
        return ",".join(value) or "''"
    return "unset" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def settings_options(*names, defaults=None):
    """Decorator adding the options of the named Settings fields (all of them by default)."""
    names = names or tuple(SETTING_OPTIONS)
    defaults = {**DEFAULTS, **(defaults or {})}

    def decorate(f):
        for name in reversed(names):
            kind, text, example = SETTING_OPTIONS[name]
            flag = "--" + name.replace("_", "-")
            help_text = f"{text} [default: {show_default(defaults[name])}]. Example: {example}"
            if kind is bool:
                f = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)(f)
            else:
                f = click.option(flag, name, type=kind, default=None, help=help_text)(f)
        return f
    return decorate


def given(values: dict, names) -> dict:
    return {k: values[k] for k in names if values.get(k) is not None}


def check_encoding(ctx, param, value):
    try:
        text_codec(value, ascii_compatible=True)  # every reader finds lines before it decodes them
    except ConfigError as err:
        raise click.BadParameter(str(err)) from None
    return value


def conll_options(f):
    """Decorator: how to read column files."""
    options = [
        click.option("--word-column", type=int, default=0, show_default=True,
                     help="Field holding the word (negative counts from the end). Example: --word-column 0"),
        click.option("--tag-column", type=int, default=-1, show_default=True,
                     help="Field holding the tag (CoNLL-2003: the last). Example: --tag-column 3"),
        click.option("--encoding", default="utf-8", show_default=True, callback=check_encoding,
                     help="Text encoding of input files. Example: --encoding latin-1"),
        click.option("--separator", type=Choice(list(SEPARATORS)), default="auto", show_default=True,
                     help="Column separator (auto: TAB if the first line has one). Example: --separator tab"),
        click.option("--labels", default=None,
                     help="JSON lines input (.jsonl, .json): the label names of integer ner_tags, in index "
                          "order, comma-separated. Example: --labels O,B-PER,I-PER,B-LOC,I-LOC"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def model_option(f):
    """Decorator: the -m/--model option."""
    return click.option("-m", "--model", "model_path", required=True, type=click.Path(dir_okay=False),
                        help="A model file written by train. Example: -m runs/ner.npz")(f)


def read_kwargs(opts) -> dict:
    return {"word_column": opts["word_column"], "tag_column": opts["tag_column"], "encoding": opts["encoding"],
            "separator": SEPARATORS[opts["separator"]]}


def read_tagged(path, opts, scheme=None):
    """(tokens, tags, documents) of every sentence of a tagged column file, or of a JSON lines file
    (``.jsonl``/``.json``: tokens with ner_tags, or text with entity spans; see jsonl.py), tags
    checked. A column file's documents are separated by ``-DOCSTART-`` lines; a JSON lines file is
    one document."""
    if looks_like_jsonl(path):
        labels = None if not opts.get("labels") else [t.strip() for t in opts["labels"].split(",")]
        tokens, tags, report = read_jsonl(path, labels=labels, encoding=opts["encoding"])
        for sentence_tags in tags:
            validate_tags(sentence_tags, scheme, path)
        if report.unaligned:
            shown = "; ".join(f"line {n}: [{a}, {b}, {label!r}]" for n, a, b, label in report.unaligned_examples)
            click.echo(f"Warning: {path}: {report.unaligned} of {report.unaligned + report.entities} entities do "
                       f"not fall on token boundaries and were left out ({shown})", err=True)
        return tokens, tags, None
    tokens, tags, documents = [], [], []
    for s in read_conll(path, require_sentences=True, **read_kwargs(opts)):
        if s.tags is None:
            raise InputError("only one column; expected words and tags", path, s.lines[0])
        validate_tags(s.tags, scheme, path, s.lines)
        tokens.append(s.tokens)
        tags.append(s.tags)
        documents.append(s.document)
    return tokens, tags, documents
