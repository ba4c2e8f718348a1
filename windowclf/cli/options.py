"""Option groups of the ``windowclf`` command, as decorators, and the readers they configure.

Every setting becomes a ``train`` option from its declaration in
:data:`~windowclf.config.parameters.PARAMETERS`, so a new setting is a new option without further code.
"""

from __future__ import annotations

import os

import click

from windowclf._util.arguments import check_number
from windowclf._util.outputs import check_output
from windowclf._util.printable import printable
from windowclf.config.parameters import CHOICE_ALIASES, PARAMETERS, Param, canonical_choice
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.formats import tagged
from windowclf.formats.lines import text_codec
from windowclf.text.tokenize import TOKENIZERS

SEPARATORS = {"auto": None, "tab": "\t", "space": " "}
# The parameters that name what a command writes; every other file parameter names an input.
OUTPUT_PARAMS = ("out_path", "output_dir")
_INPUTS = "windowclf.inputs"  # the key of the running command's inputs in click's shared ctx.meta


class Command(click.Command):
    """A ``windowclf`` command: every file it reads is known before it runs.

    Each parameter of type ``click.Path`` names a file the command reads, but those listed in
    ``outputs`` (what it writes). :meth:`invoke` records them (:func:`command_inputs`), so that every
    output is checked against every input (:func:`guard_output`: a config file, a vocabulary, a
    resumed model, an ensemble's members, as well as the data) and an error about a file is told
    apart: about an input it is bad input (exit 2), about anything else the environment (exit 1).
    """

    def __init__(self, *args, outputs=OUTPUT_PARAMS, **kwargs):
        super().__init__(*args, **kwargs)
        self.outputs = tuple(outputs)

    def invoke(self, ctx):
        ctx.meta[_INPUTS] = _file_parameters(ctx, self)
        return super().invoke(ctx)


def _file_parameters(ctx, command: Command) -> dict:
    """label -> path of every input the command was given (``-`` for stdin left out)."""
    found = {}
    for param in command.params:
        value = ctx.params.get(param.name)
        if param.name in command.outputs or not isinstance(param.type, click.Path) or value is None:
            continue
        values = list(value) if isinstance(value, (tuple, list)) else [value]
        if isinstance(param, click.Option):
            names = [param.opts[0]] * len(values)
            if param.nargs > 1 and param.metavar:
                names = [f"{param.opts[0]} {part}" for part in param.metavar.split()]
        else:
            base = (param.metavar or param.name or "").strip("[].").upper()
            names = [f"{base} {i}" for i in range(1, len(values) + 1)] if param.nargs == -1 else [base]
        for name, path in zip(names, values):
            if path != "-":
                found[name] = path
    return found


def command_inputs() -> dict:
    """label -> path of the running command's inputs (``TRAIN``, ``--dev``, ``-m``, ``INPUT 2``)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if _INPUTS in ctx.meta:
            return dict(ctx.meta[_INPUTS])
        ctx = ctx.parent
    return {}


def is_input(filename) -> bool:
    """Whether ``filename`` (of an OSError) is one of the running command's inputs, or inside one."""
    if filename is None:
        return False
    name = os.path.abspath(os.fsdecode(filename) if isinstance(filename, bytes) else str(filename))
    for path in command_inputs().values():
        given = os.path.abspath(os.fspath(path))
        if name == given or name.startswith(os.path.join(given, "")):
            return True
    return False


def guard_output(path, extra: dict | None = None, *, allowed=()):
    """:func:`~windowclf._util.outputs.check_output` of ``path`` against every input of the running
    command and ``extra`` ones (label -> path), but those labelled in ``allowed`` (train's resumed
    model may be its output: it is read whole before the first save)."""
    inputs = {**command_inputs(), **(extra or {})}
    return check_output(path, {label: p for label, p in inputs.items() if label not in allowed})


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


class Number(click.ParamType):
    """A float option, checked by :func:`~windowclf._util.arguments.check_number` as every float
    setting and argument is: NaN and infinity refused, the range kept, the option named.

    click's ``FloatRange`` lets NaN through (no comparison with it is false) and ``inf`` past an
    open top; every float option of the command line is a Number instead.
    """

    name = "number"

    def __init__(self, low=None, high=None, *, low_open: bool = False, high_open: bool = False):
        self.bounds = {"low": low, "high": high, "low_open": low_open, "high_open": high_open}

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        try:
            return check_number("the value", value, **self.bounds)
        except (TypeError, ConfigError) as err:
            self.fail(str(err).replace("the value must be", "expected"), param, ctx)

    def get_metavar(self, param, ctx=None):
        return "NUMBER"


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
        warn(warning)
    return corpus


def warn(message) -> None:
    """One ``Warning:`` line on stderr, its text made safe (a file name's control characters
    escaped, its line breaks too: a warning is one line, and never looks like an error line)."""
    click.echo(f"Warning: {printable(message)}", err=True)
