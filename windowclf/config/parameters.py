"""Every setting declared once: its type, range or choices, what it does, and an example.

In the spirit of scikit-learn's ``_parameter_constraints``: :class:`~windowclf.config.settings.Settings`
checks every field against :data:`PARAMETERS` (then the rules between settings, :data:`RULES`), and
the command line makes its ``train`` options, their checks and their help from the same table, so a
new setting is one entry here and one field there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from windowclf._util.arguments import check_number
from windowclf.errors import ConfigError
from windowclf.features.tables import parse_feature_list
from windowclf.nn.functions import ACTIVATIONS, OUTPUTS
from windowclf.nn.optim import OPTIMIZERS

__all__ = [
    "CHOICE_ALIASES",
    "DECODERS",
    "DTYPES",
    "LR_SCHEDULES",
    "PARAMETERS",
    "RULES",
    "SCHEME_NAMES",
    "Param",
    "canonical_choice",
    "check_parameter",
]

SCHEME_NAMES = ("IO", "IOB1", "IOB2", "IOBES")
LR_SCHEDULES = ("inverse", "linear")
DECODERS = ("softmax", "sll")
DTYPES = ("float32", "float64")

# Other names people use for the schemes: BIO is IOB2; BILOU (L for last, U for unit), spaCy's
# BILUO and BIOES are IOBES.
CHOICE_ALIASES = {"scheme": {"BIO": "IOB2", "BILOU": "IOBES", "BILUO": "IOBES", "BIOES": "IOBES"}}


@dataclass(frozen=True)
class Param:
    """One setting's constraints and documentation.

    ``kind`` is ``int``, ``float``, ``bool``, ``str`` (``choices`` for a closed set) or ``list``
    (the feature list); ``low`` / ``high`` bound a number (``low_open`` / ``high_open``: the bound
    itself is excluded); ``optional``: None is allowed (and means what ``help`` says); ``check``: a
    last check of the value, returning it in canonical form; ``must``: how the error phrases the
    range when the generic wording does not fit.
    """

    kind: type
    help: str
    example: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    optional: bool = False
    check: Callable[[str, Any], Any] | None = None
    must: str | None = None

    def expected(self) -> str:
        """What a valid value is, in the words of the error messages."""
        if self.must is not None:
            return self.must
        if self.kind is bool:
            return "true or false"
        if self.kind is int:
            return "an integer >= 1" if self.low == 1 else "an integer >= 0"
        if self.low == 0 and self.low_open and self.high is None:
            return "a positive number"
        if self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"in {left}{self.low:g}, {self.high:g}{right}"
        return "a number >= 0"


def _odd(name: str, value: int) -> int:
    if value % 2 == 0:
        raise ConfigError(f"{name} must be odd (the characters around each one), got {value}")
    return value


def _window(name: str, value: int) -> int:
    if value % 2 == 0:
        raise ConfigError(f"{name} must be an odd integer >= 1 (C = 2h + 1), got {value!r}")
    return value


def _tag(name: str, value: str) -> str:
    if re.search("[\x00-\x20\x7f]", value) or not value:
        raise ConfigError(f"{name} must be a tag (no spaces or control characters), got {value!r}")
    return value


def _features(name: str, value) -> list:
    return parse_feature_list(value)


PARAMETERS: dict[str, Param] = {
    # the network
    "window": Param(
        int,
        "Words in a window, odd (C = 2h + 1)",
        "--window 5",
        low=1,
        check=_window,
        must="an odd integer >= 1 (C = 2h + 1)",
    ),
    "dim": Param(int, "Word vector size n (taken from --embeddings when given)", "--dim 50", low=1),
    "hidden": Param(int, "Hidden layer size H", "--hidden 100", low=1),
    "activation": Param(str, "Hidden activation f", "--activation relu", choices=tuple(sorted(ACTIVATIONS))),
    "output": Param(
        str,
        "softmax over the tags, or sigmoid: a one-vs-rest detector of --positive-tag",
        "--output sigmoid --positive-tag LOC",
        choices=tuple(sorted(OUTPUTS)),
    ),
    "decoder": Param(
        str,
        "softmax: each word's best tag; sll: Collobert et al.'s sentence-level likelihood "
        "with tag transitions and Viterbi decoding",
        "--decoder sll",
        choices=DECODERS,
    ),
    "positive_tag": Param(
        str,
        "The class the sigmoid output detects (a type, or 1 in 0/1 files)",
        "--positive-tag LOC",
        optional=True,
        check=_tag,
        must="a tag (no spaces or control characters)",
    ),
    "scheme": Param(
        str,
        "Tag scheme the model predicts (unset: the scheme of the training tags, IOB1 as IOB2); "
        "input files may use any scheme",
        "--scheme IOB2",
        choices=SCHEME_NAMES,
        optional=True,
    ),
    "features": Param(
        list,
        "Extra per-token feature tables, comma-separated ('' for none)",
        "--features caps,suffix3",
        check=_features,
        must="a list of feature names",
    ),
    "feature_dim": Param(int, "Vector size of each feature table", "--feature-dim 5", low=1),
    "char_filters": Param(
        int,
        "Character features: convolution filters over each word's characters, max-pooled (0: none)",
        "--char-filters 50",
        low=0,
        must="an integer >= 0 (0: no character features)",
    ),
    "char_dim": Param(int, "Vector size of each character (with --char-filters)", "--char-dim 16", low=1),
    "char_window": Param(
        int, "Characters each filter reads, odd (with --char-filters)", "--char-window 3", low=1, check=_odd
    ),
    # the vocabularies
    "affix_min_count": Param(int, "Prefixes and suffixes seen fewer times are unknown", "--affix-min-count 2", low=1),
    "min_count": Param(int, "Words seen fewer times in training are unknown (UUUNKKK)", "--min-count 2", low=1),
    "max_vocab": Param(int, "Keep only this many most frequent words", "--max-vocab 20000", low=1, optional=True),
    "keep_pretrained_vocab": Param(
        bool,
        "Give every --embeddings word a row of L, so that words unseen in training keep their "
        "pretrained vectors (--no-keep-pretrained-vocab: only the training words get one)",
        "--no-keep-pretrained-vocab",
    ),
    "pretrained_scale": Param(
        float,
        "Multiply the --embeddings vectors by this before training",
        "--pretrained-scale 0.1",
        low=0,
        low_open=True,
    ),
    "lowercase": Param(bool, "Look words up lowercased, as CS224d does", "--no-lowercase"),
    "digits": Param(bool, "Fall back to digits written DG (1996 -> DGDGDGDG)", "--no-digits"),
    "dtype": Param(str, "Parameter precision", "--dtype float64", choices=DTYPES),
    # training
    "optimizer": Param(str, "Update rule", "--optimizer momentum", choices=tuple(sorted(OPTIMIZERS))),
    "lr": Param(float, "Learning rate", "--lr 0.05", low=0, low_open=True),
    "momentum": Param(
        float,
        "Momentum alpha in (0, 1]: phi <- (1 - alpha) phi + alpha grad",
        "--optimizer momentum --momentum 0.1",
        low=0,
        high=1,
        low_open=True,
        must="in (0, 1]",
    ),
    "lr_decay": Param(float, "Learning rate decay: lr / (1 + decay * epoch)", "--lr-decay 0.1", low=0),
    "lr_schedule": Param(
        str,
        "inverse: the decay alone; linear: also times 1 - epoch / epochs, so the rate "
        "falls to lr / epochs in the last epoch",
        "--lr-schedule linear",
        choices=LR_SCHEDULES,
    ),
    "lr_embeddings": Param(
        float, "Learning rate of the word vectors L (unset: --lr)", "--lr-embeddings 0.01", low=0, optional=True
    ),
    "l2": Param(float, "L2 weight lambda on W1 and W2: J + lambda/2 (||W1||^2 + ||W2||^2)", "--l2 1e-4", low=0),
    "l2_embeddings": Param(
        float, "L2 on the batch's rows of L (towards the pretrained vectors, if any)", "--l2-embeddings 1e-4", low=0
    ),
    "dropout_input": Param(
        float,
        "Probability of zeroing each entry of the window vector x while training",
        "--dropout-input 0.2",
        low=0,
        high=1,
        high_open=True,
    ),
    "dropout_hidden": Param(
        float,
        "Probability of zeroing each hidden unit while training",
        "--dropout-hidden 0.5",
        low=0,
        high=1,
        high_open=True,
    ),
    "batch_size": Param(
        int,
        "Windows per update (1: per-example SGD); with --decoder sll, whole sentences of at least this many words",
        "--batch-size 64",
        low=1,
    ),
    "epochs": Param(int, "Passes over the training data (with --resume: the new total)", "--epochs 20", low=0),
    "patience": Param(
        int, "Stop after this many epochs without a better dev entity F1", "--patience 3", low=1, optional=True
    ),
    "freeze_embeddings": Param(bool, "Never update the word vectors L", "--freeze-embeddings"),
    "freeze_epochs": Param(int, "Update L only after this many epochs", "--freeze-epochs 2", low=0),
    "seed": Param(int, "Seed of the initialization and the shuffling", "--seed 1", low=0),
    # decoding
    "doc_vote": Param(
        float,
        "Decoding: move each word's scores towards those of the same word elsewhere in its "
        "document, by this weight (0: off)",
        "--doc-vote 2",
        low=0,
    ),
    "document_sentences": Param(
        int,
        "Documents as doccase, the document vote and the gazetteer read them: data without "
        "document markers (no -DOCSTART- lines, JSON lines, raw text) as blocks of this many "
        "consecutive sentences, and longer marked documents cut into such blocks",
        "--document-sentences 20",
        low=1,
        optional=True,
    ),
}


def canonical_choice(name: str, value, options) -> str:
    """``value`` as one of ``options``, compared without case, or through CHOICE_ALIASES; else ConfigError.

    >>> canonical_choice("scheme", "bio", SCHEME_NAMES), canonical_choice("activation", "ReLU", ACTIVATIONS)
    ('IOB2', 'relu')
    """
    if isinstance(value, str):
        key = value.strip().lower()
        for option in options:
            if option.lower() == key:
                return option
        for alias, target in CHOICE_ALIASES.get(name, {}).items():
            if alias.lower() == key:
                return target
    aliases = "".join(f", {a} (= {t})" for a, t in CHOICE_ALIASES.get(name, {}).items())
    raise ConfigError(f"{name} must be one of {', '.join(sorted(options))}{aliases}, got {value!r}")


def check_parameter(name: str, value):
    """``value`` of setting ``name`` checked against its declaration and returned in canonical form
    (a choice in its canonical spelling, an int as int); ConfigError naming the setting otherwise.

    >>> check_parameter("scheme", "bio"), check_parameter("hidden", 200)
    ('IOB2', 200)
    >>> check_parameter("dropout_input", 1.0)
    Traceback (most recent call last):
    ...
    windowclf.errors.ConfigError: dropout_input must be in [0, 1), got 1.0
    """
    p = PARAMETERS[name]
    if value is None and p.optional:
        return None
    if p.choices is not None:
        return canonical_choice(name, value, p.choices)
    fail = ConfigError(f"{name} must be {p.expected()}, got {value!r}")
    if p.kind is bool:
        if not isinstance(value, bool):
            raise fail
    elif p.kind is int:
        if isinstance(value, bool) or not _is_int(value):
            raise fail
        value = int(value)
        if value < p.low:
            raise fail
    elif p.kind is float:
        try:  # the one check of every float (the library's arguments and the command's options too)
            check_number(
                name, value, low=p.low, high=p.high, low_open=p.low_open, high_open=p.high_open, expected=p.expected()
            )
        except (TypeError, ConfigError):
            raise fail from None
    elif p.kind is str and not isinstance(value, str):
        raise fail
    return p.check(name, value) if p.check is not None else value


def _is_int(value) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return isinstance(value, int)
    return isinstance(value, (int, np.integer))


def _sll_needs_softmax(s) -> None:
    if s.decoder == "sll" and s.output != "softmax":
        raise ConfigError("the sll decoder scores tag sequences; it needs output='softmax'")


def _sigmoid_needs_a_class(s) -> None:
    if s.output == "sigmoid" and not s.positive_tag:
        raise ConfigError("the sigmoid output needs positive_tag (the class to detect, e.g. LOC, or 1)")


def _frozen_l_has_no_rate(s) -> None:
    if s.freeze_embeddings and s.lr_embeddings is not None:
        raise ConfigError("lr_embeddings does nothing with freeze_embeddings (L is never trained)")


# The rules between settings, checked after every setting on its own.
RULES: tuple[Callable[[Any], None], ...] = (_sll_needs_softmax, _sigmoid_needs_a_class, _frozen_l_has_no_rate)
