"""Option groups of the ``windowclf`` command, as decorators, and the readers they configure.

Every setting becomes a ``train`` option from its declaration in
:data:`~windowclf.config.parameters.PARAMETERS`, so a new setting is a new option without further code.
"""

from __future__ import annotations

import click

from windowclf.config.parameters import CHOICE_ALIASES, PARAMETERS, Param, canonical_choice
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.formats import tagged
from windowclf.formats.lines import text_codec
from windowclf.text.tokenize import TOKENIZERS

SEPARATORS = {"auto": None, "tab": "\t", "space": " "}
# How files are read when neither an option nor the model says otherwise.
READING_DEFAULTS = {
    "word_column": 0,
    "tag_column": -1,
    "encoding": "utf-8",
    "separator": None,
    "labels": None,
    "tokenizer": "conll",
}


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


DEFAULTS = Settings().to_dict()


def _option_type(name: str, param: Param):
    """The click type of a setting's option: a Choice for closed sets; numbers and strings are
    checked by Settings itself (with the setting's own words), so the option only parses them."""
    if param.choices is not None:
        return Choice(param.choices, name)
    return {int: int, float: float}.get(param.kind, str)


constrain_option = click.option(
    "--constrain/--no-constrain",
    default=True,
    show_default=True,
    help="Keep every sentence well formed in the model's tag scheme (IOB2: no I-X after O; IOBES: every "
    "B-X closed by E-X): Viterbi under the scheme's constraints. Example: --no-constrain",
)


def show_default(value) -> str:
    if isinstance(value, list):
        return ",".join(value) or "''"
    return "unset" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def settings_options(*names, defaults=None):
    """Decorator adding the options of the named settings (all of them by default), made from their
    declarations (:data:`~windowclf.config.parameters.PARAMETERS`). Options not given stay None, so
    the Settings default applies (shown in the help) and --resume keeps the saved value."""
    names = names or tuple(PARAMETERS)
    defaults = {**DEFAULTS, **(defaults or {})}

    def decorate(f):
        for name in reversed(names):
            param = PARAMETERS[name]
            flag = "--" + name.replace("_", "-")
            help_text = f"{param.help} [default: {show_default(defaults[name])}]. Example: {param.example}"
            if param.kind is bool:
                f = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)(f)
            else:
                f = click.option(flag, name, type=_option_type(name, param), default=None, help=help_text)(f)
        return f

    return decorate


def given(values: dict, names) -> dict:
    return {k: values[k] for k in names if values.get(k) is not None}


def check_encoding(ctx, param, value):
    if value is None:
        return value
    try:
        text_codec(value, ascii_compatible=True)  # every reader finds lines before it decodes them
    except ConfigError as err:
        raise click.BadParameter(str(err)) from None
    return value


def conll_options(f):
    """Decorator: how to read input files (each option unset: the model's training data's way, for
    ``predict`` and ``evaluate``; else the default in its help)."""
    options = [
        click.option(
            "--word-column",
            type=int,
            default=None,
            help="Field holding the word (negative counts from the end) [default: the model's "
            "training file's, else 0]. Example: --word-column 0",
        ),
        click.option(
            "--tag-column",
            type=int,
            default=None,
            help="Field holding the tag (CoNLL-2003: the last) [default: the model's training "
            "file's, else -1]. Example: --tag-column 3",
        ),
        click.option(
            "--encoding",
            default=None,
            callback=check_encoding,
            help="Text encoding of input files [default: the model's training file's, else utf-8]. "
            "Example: --encoding latin-1",
        ),
        click.option(
            "--separator",
            type=Choice(list(SEPARATORS)),
            default=None,
            help="Column separator (auto: TAB if the first line has one) [default: the model's "
            "training file's, else auto]. Example: --separator tab",
        ),
        click.option(
            "--labels",
            default=None,
            help="JSON lines input (.jsonl, .json): the label names of integer ner_tags, in index "
            "order, comma-separated [default: the model's]. Example: --labels O,B-PER,I-PER,B-LOC,I-LOC",
        ),
        click.option(
            "--tokenizer",
            type=Choice(TOKENIZERS),
            default=None,
            help="How raw text and JSON lines texts are split into tokens: conll (CoNLL-2003 "
            "newswire), whitespace (pre-tokenized: tokens between spaces, a sentence a line), social "
            "(@mentions, #hashtags, URLs, emoticons and emoji whole) [default: the one the model was "
            "trained with, else conll]. Example: --tokenizer social",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def model_option(f):
    """Decorator: the -m/--model option."""
    return click.option(
        "-m",
        "--model",
        "model_path",
        required=True,
        type=click.Path(dir_okay=False),
        help="A model file written by train. Example: -m runs/ner.npz",
    )(f)


def reading_options(opts, model_input=None) -> dict:
    """How to read input files: each option given, else what the model's training data was read
    with (``WindowTagger.training_input``), else :data:`READING_DEFAULTS`. Keys: word_column,
    tag_column, encoding, separator (the character, or None: found from the file), labels (a
    list or None), tokenizer."""
    given = {k: opts.get(k) for k in READING_DEFAULTS if opts.get(k) is not None}
    if "separator" in given:
        given["separator"] = SEPARATORS[given["separator"]]
    if "labels" in given:
        given["labels"] = [t.strip() for t in given["labels"].split(",")]
    model = {k: v for k, v in (model_input or {}).items() if k in READING_DEFAULTS and v is not None}
    if (model_input or {}).get("format") != "conll":  # the column layout of a JSON lines model says nothing
        for key in ("word_column", "tag_column", "separator"):
            model.pop(key, None)
    return {**READING_DEFAULTS, **model, **given}


def read_kwargs(opts, model_input=None) -> dict:
    """:func:`reading_options` for a column file (read_conll's keywords)."""
    reading = reading_options(opts, model_input)
    return {k: reading[k] for k in ("word_column", "tag_column", "encoding", "separator")}


def read_tagged(path, opts, scheme=None, model_input=None) -> tagged.TaggedCorpus:
    """:func:`windowclf.formats.tagged.read_tagged` with the options of :func:`conll_options` (unset:
    ``model_input``'s, see :func:`reading_options`); its warnings to stderr. The corpus unpacks as
    (sentences, tags, documents)."""
    reading = reading_options(opts, model_input)
    corpus = tagged.read_tagged(path, scheme=scheme, **reading)
    for warning in corpus.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return corpus
