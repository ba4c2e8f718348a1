"""Every setting of a tagger in one validated dataclass, recorded in the model file."""

from __future__ import annotations

import re
from dataclasses import MISSING, asdict, dataclass, field, fields

import numpy as np

from .errors import ConfigError
from .features import parse_feature_list
from .functions import ACTIVATIONS, OUTPUTS
from .optim import OPTIMIZERS
from .schemes import one_vs_rest
from .windows import check_window

__all__ = ["Settings", "SCHEME_NAMES", "LR_SCHEDULES", "DECODERS", "CHOICE_ALIASES", "canonical_choice"]

SCHEME_NAMES = ("IO", "IOB1", "IOB2", "IOBES")
LR_SCHEDULES = ("inverse", "linear")
DECODERS = ("softmax", "sll")


@dataclass
class Settings:
    """Model and training settings (defaults: the seeds' network plus Collobert's caps feature).

    Model: ``window`` (C, odd), ``dim`` (n, word vector size), ``hidden`` (H), ``activation``,
    ``output`` ("softmax" over the scheme's tags, or "sigmoid" one-vs-rest for ``positive_tag``),
    ``decoder`` ("softmax": each word's argmax; "sll": Collobert et al.'s sentence-level
    log-likelihood, learned tag-transition scores, Viterbi decoding; its batches hold whole
    sentences, about ``batch_size`` words each), ``scheme`` (the tags the network predicts), ``features`` (extra per-token tables, e.g.
    "caps", "suffix3") of size ``feature_dim``, ``char_filters`` (character features: that many
    convolution filters over each word's characters, max-pooled; 0: none) with ``char_dim``-sized
    character vectors and windows of ``char_window`` characters, ``min_count`` / ``max_vocab`` for the word
    vocabulary, ``keep_pretrained_vocab`` (a row for every pretrained word), ``pretrained_scale``
    (pretrained vectors are multiplied by it before training), ``lowercase`` / ``digits`` normalization, ``dtype``.

    Training: ``optimizer`` ("sgd", "momentum", "adagrad"), ``lr``, ``momentum`` (seed 004's alpha),
    ``lr_decay`` (lr / (1 + lr_decay * epoch)), ``lr_schedule`` ("inverse": that alone; "linear":
    also times 1 - epoch / epochs, down to lr / epochs in the last epoch), ``lr_embeddings`` (separate rate for L; None: lr),
    ``l2`` (lambda on W1, W2), ``dropout_input`` / ``dropout_hidden`` (probability of zeroing an
    entry of x / of the hidden layer while training; 0: none), ``l2_embeddings`` (on the batch's
    rows of L, towards the pretrained vectors when there are some), ``batch_size`` (1: per-example
    SGD), ``epochs``, ``patience``
    (early stopping on dev F1), ``freeze_embeddings`` (never train L), ``freeze_epochs`` (train L
    only after this many epochs), ``seed``.

    Decoding: ``doc_vote`` (0: none), the weight of the document vote, which moves each word's
    scores towards those of the same word elsewhere in its document (:meth:`Decoder.voted
    <windowclf.decoding.Decoder.voted>`); dev F1 during training is read through it too.
    """

    window: int = 3
    dim: int = 50
    hidden: int = 100
    activation: str = "tanh"
    output: str = "softmax"
    decoder: str = "softmax"
    positive_tag: str | None = None
    scheme: str = "IO"
    features: list = field(default_factory=lambda: ["caps"])
    feature_dim: int = 5
    char_filters: int = 0
    char_dim: int = 16
    char_window: int = 3
    affix_min_count: int = 2
    min_count: int = 2
    max_vocab: int | None = None
    keep_pretrained_vocab: bool = False
    pretrained_scale: float = 1.0
    lowercase: bool = True
    digits: bool = True
    dtype: str = "float32"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.1
    lr_decay: float = 0.0
    lr_schedule: str = "inverse"
    lr_embeddings: float | None = None
    l2: float = 1e-5
    l2_embeddings: float = 0.0
    dropout_input: float = 0.0
    dropout_hidden: float = 0.0
    batch_size: int = 32
    epochs: int = 10
    patience: int | None = None
    freeze_embeddings: bool = False
    freeze_epochs: int = 0
    seed: int = 0
    doc_vote: float = 0.0

    def __post_init__(self):
        self.validate()

    def validate(self) -> "Settings":
        """Raise ConfigError naming the first invalid setting."""
        check_window(self.window)
        self.features = parse_feature_list(self.features)
        _positive_int("dim", self.dim)
        _positive_int("hidden", self.hidden)
        _positive_int("feature_dim", self.feature_dim)
        if isinstance(self.char_filters, bool) or not isinstance(self.char_filters, (int, np.integer)) \
                or self.char_filters < 0:
            raise ConfigError(f"char_filters must be an integer >= 0 (0: no character features), got {self.char_filters!r}")
        _positive_int("char_dim", self.char_dim)
        _positive_int("char_window", self.char_window)
        if self.char_window % 2 == 0:
            raise ConfigError(f"char_window must be odd (the characters around each one), got {self.char_window}")
        _positive_int("batch_size", self.batch_size)
        _positive_int("min_count", self.min_count)
        _positive_int("affix_min_count", self.affix_min_count)
        if self.max_vocab is not None:
            _positive_int("max_vocab", self.max_vocab)
        if not isinstance(self.epochs, (int, np.integer)) or self.epochs < 0:
            raise ConfigError(f"epochs must be an integer >= 0, got {self.epochs!r}")
        if self.patience is not None:
            _positive_int("patience", self.patience)
        if not isinstance(self.freeze_epochs, (int, np.integer)) or self.freeze_epochs < 0:
            raise ConfigError(f"freeze_epochs must be an integer >= 0, got {self.freeze_epochs!r}")
        self.activation = canonical_choice("activation", self.activation, ACTIVATIONS)
        self.output = canonical_choice("output", self.output, OUTPUTS)
        self.decoder = canonical_choice("decoder", self.decoder, DECODERS)
        if self.decoder == "sll" and self.output != "softmax":
            raise ConfigError("the sll decoder scores tag sequences; it needs output='softmax'")
        _positive_float("pretrained_scale", self.pretrained_scale)
        self.scheme = canonical_choice("scheme", self.scheme, SCHEME_NAMES)
        self.optimizer = canonical_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.lr_schedule = canonical_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        self.dtype = canonical_choice("dtype", self.dtype, ("float32", "float64"))
        _positive_float("lr", self.lr)
        if self.lr_embeddings is not None:
            _nonnegative_float("lr_embeddings", self.lr_embeddings)
        for name in ("l2", "l2_embeddings", "lr_decay", "doc_vote"):
            _nonnegative_float(name, getattr(self, name))
        for name in ("dropout_input", "dropout_hidden"):
            value = getattr(self, name)
            _nonnegative_float(name, value)
            if value >= 1:
                raise ConfigError(f"{name} must be in [0, 1), got {value!r}")
        if not 0 < self.momentum <= 1:
            raise ConfigError(f"momentum (seed 004's alpha) must be in (0, 1], got {self.momentum}")
        if self.output == "sigmoid" and not self.positive_tag:
            raise ConfigError("the sigmoid output needs positive_tag (the class to detect, e.g. LOC, or 1)")
        if self.positive_tag is not None and (not isinstance(self.positive_tag, str)
                                              or re.search("[\x00-\x20]", self.positive_tag)):
            raise ConfigError(f"positive_tag must be a tag (no spaces or control characters), got {self.positive_tag!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("keep_pretrained_vocab", "lowercase", "digits", "freeze_embeddings"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        return self

    def entity_tags(self, tags_list) -> list:
        """Tags as a model with these settings reads entities in them.

        A one-vs-rest model reads them through :func:`~windowclf.schemes.one_vs_rest`, so in a 0/1
        file ``0`` is no entity and each run of ``1`` is one; other models as given. Its training
        labels and the entities its gazetteer holds and leaves out come from this view.

        Parameters
        ----------
        tags_list : list of list of str
            One list of tags per sentence, n_i tags for sentence i.

        Returns
        -------
        list of list of str
            The same shape: n_i tags per sentence (``tags_list`` itself for a softmax model).

        Examples
        --------
        >>> Settings(output="sigmoid", positive_tag="1").entity_tags([["0", "1", "1", "0"]])
        [['O', '1', '1', 'O']]
        """
        if self.output != "sigmoid":
            return tags_list
        return [one_vs_rest(tags, self.positive_tag) for tags in tags_list]

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)

    @classmethod
    def signature(cls, leading=()):
        """An inspect.Signature: ``leading`` positional parameters (the first without a default),
        then every setting as a keyword with its default."""
        import inspect

        kind = inspect.Parameter
        params = [kind(name, kind.POSITIONAL_OR_KEYWORD, default=kind.empty if i == 0 else None)
                  for i, name in enumerate(leading)]
        for f in fields(cls):
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            params.append(kind(f.name, kind.KEYWORD_ONLY, default=default, annotation=f.type))
        return inspect.Signature(params)

    @classmethod
    def from_dict(cls, d: dict) -> "Settings":
        """Settings from a dict, ignoring unknown keys from other versions is NOT done: they are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(unknown)}")
        return cls(**d)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


def _positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")


def _nonnegative_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}")


# Other names people use for the schemes: BIO is IOB2 and BILOU (L for last, U for unit) is IOBES.
CHOICE_ALIASES = {"scheme": {"BIO": "IOB2", "BILOU": "IOBES"}}


def canonical_choice(name, value, options):
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
