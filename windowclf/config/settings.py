"""Every setting of a tagger in one validated dataclass, recorded in the model file.

Each field is declared in :data:`~windowclf.config.parameters.PARAMETERS` (its type, range or
choices, help and example), which :meth:`Settings.validate` applies, with the rules between
settings (:data:`~windowclf.config.parameters.RULES`).
"""

from __future__ import annotations

import difflib
from dataclasses import MISSING, asdict, dataclass, field, fields

from windowclf._util.arguments import check_strings, kind_of
from windowclf.config.parameters import PARAMETERS, RULES, check_parameter
from windowclf.errors import ConfigError
from windowclf.tags.schemes import one_vs_rest

__all__ = ["DOCUMENT_SENTENCES", "Settings", "check_patience", "entity_tags", "near_names", "unknown_settings"]

# The default block of document_sentences: a few news documents' worth (CoNLL-2003's have a
# median of 11 sentences, 99% at most 60), chosen on the dev sets of docs/presets.md, where blocks
# of 50 beat both the whole unmarked file as one document and no document at all (CHANGELOG).
DOCUMENT_SENTENCES = 50


@dataclass
class Settings:
    """Model and training settings (defaults: the seeds' network plus Collobert's caps feature).

    Each field is described in :data:`~windowclf.config.parameters.PARAMETERS` (``windowclf train
    -h`` prints the same help).

    Model: ``window`` (C, odd), ``dim`` (n, word vector size), ``hidden`` (H), ``activation``,
    ``output`` ("softmax" over the scheme's tags, or "sigmoid" one-vs-rest for ``positive_tag``),
    ``decoder`` ("softmax": each word's argmax; "sll": Collobert et al.'s sentence-level
    log-likelihood, learned tag-transition scores, Viterbi decoding; its batches hold whole
    sentences, about ``batch_size`` words each), ``scheme`` (the tags the network predicts; None:
    the scheme of the training tags, IOB1 as IOB2),
    ``features`` (extra per-token tables, e.g. "caps", "suffix3") of size ``feature_dim``,
    ``char_filters`` (character features: that many convolution filters over each word's
    characters, max-pooled; 0: none) with ``char_dim``-sized character vectors and windows of
    ``char_window`` characters, ``min_count`` / ``max_vocab`` for the word vocabulary,
    ``keep_pretrained_vocab`` (a row for every pretrained word, the default; False: only for the
    training words), ``pretrained_scale`` (pretrained
    vectors are multiplied by it before training), ``lowercase`` / ``digits`` normalization,
    ``dtype``.

    Training: ``optimizer`` ("sgd", "momentum", "adagrad"), ``lr``, ``momentum`` (the
    heavy-ball alpha: phi <- (1 - alpha) phi + alpha grad), ``lr_decay`` (lr / (1 + lr_decay *
    epoch)), ``lr_schedule`` ("inverse": that alone;
    "linear": also times 1 - epoch / epochs, down to lr / epochs in the last epoch),
    ``lr_embeddings`` (separate rate for L; None: lr), ``l2`` (lambda on W1, W2),
    ``dropout_input`` / ``dropout_hidden`` (probability of zeroing an entry of x / of the hidden
    layer while training; 0: none), ``l2_embeddings`` (on the batch's rows of L, towards the
    pretrained vectors when there are some), ``batch_size`` (1: per-example SGD), ``epochs``,
    ``patience`` (early stopping on dev F1), ``freeze_embeddings`` (never train L),
    ``freeze_epochs`` (train L only after this many epochs), ``seed``.

    Decoding: ``doc_vote`` (0: none), the weight of the document vote, which moves each word's
    scores towards those of the same word elsewhere in its document (:meth:`Decoder.voted
    <windowclf.inference.decoding.Decoder.voted>`); dev F1 during training is read through it too.

    Documents: ``document_sentences``, how ``doccase``, the vote and the gazetteer read them
    (:func:`~windowclf.features.documents.document_blocks`): data without document markers as
    blocks of that many consecutive sentences, marked documents cut into such blocks; None: as
    marked, unmarked data one document (how model files from before the setting read them).
    """

    window: int = 3
    dim: int = 50
    hidden: int = 100
    activation: str = "tanh"
    output: str = "softmax"
    decoder: str = "softmax"
    positive_tag: str | None = None
    scheme: str | None = None
    features: list = field(default_factory=lambda: ["caps"])
    feature_dim: int = 5
    char_filters: int = 0
    char_dim: int = 16
    char_window: int = 3
    affix_min_count: int = 2
    min_count: int = 2
    max_vocab: int | None = None
    keep_pretrained_vocab: bool = True
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
    document_sentences: int | None = DOCUMENT_SENTENCES

    def __post_init__(self):
        self.validate()

    def validate(self) -> Settings:
        """Raise ConfigError naming the first invalid setting; values are put in canonical form
        (choices in their own spelling, the feature list parsed)."""
        for name in PARAMETERS:
            setattr(self, name, check_parameter(name, getattr(self, name)))
        for rule in RULES:
            rule(self)
        return self

    def entity_tags(self, tags_list) -> list:
        """Tags as a model with these settings reads entities in them.

        A one-vs-rest model reads them through :func:`~windowclf.tags.schemes.one_vs_rest`, so in a 0/1
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
        tags_list = [
            check_strings(f"tags_list[{i}]", t, what="a sentence's tags") for i, t in enumerate(_sentences(tags_list))
        ]
        return entity_tags(self.output, self.positive_tag, tags_list)

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)

    @classmethod
    def signature(cls, leading=()):
        """An inspect.Signature: ``leading`` positional parameters (the first without a default),
        then every setting as a keyword with its default."""
        import inspect

        leading = check_strings("leading", leading, what="parameter names (str)")
        kind = inspect.Parameter
        params = [
            kind(name, kind.POSITIONAL_OR_KEYWORD, default=kind.empty if i == 0 else None)
            for i, name in enumerate(leading)
        ]
        for f in fields(cls):
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            params.append(kind(f.name, kind.KEYWORD_ONLY, default=default, annotation=f.type))
        return inspect.Signature(params)

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
        """Settings from a dict, ignoring unknown keys from other versions is NOT done: they are errors."""
        if not isinstance(d, dict):
            raise TypeError(f"d must be a dict of settings, got {kind_of(d)}")
        unknown_settings(d, "settings")
        return cls(**d)


def _sentences(tags_list) -> list:
    if isinstance(tags_list, (str, bytes, dict)) or not isinstance(tags_list, (list, tuple)):
        raise TypeError(f"tags_list must be a list of sentences' tags, got {kind_of(tags_list)}")
    return list(tags_list)


def check_patience(patience: int | None, has_dev: bool) -> None:
    """ConfigError when ``patience`` is set without dev data to be patient about."""
    if patience is not None and not has_dev:
        raise ConfigError("patience stops on dev F1: it needs dev data (dev=, or --dev FILE)")


def entity_tags(output: str, positive_tag: str | None, tags_list) -> list:
    """Tags as a model with this ``output`` (and ``positive_tag``) reads entities in them: the one
    definition behind :meth:`Settings.entity_tags` (see there), for models and ensembles alike."""
    if output != "sigmoid" or positive_tag is None:
        return tags_list
    return [one_vs_rest(tags, positive_tag) for tags in tags_list]


def near_names(name: str, names) -> str:
    """``"; did you mean X?"`` for the name among ``names`` nearest to a misspelt ``name`` (difflib),
    or ``""`` when none is near.

    >>> near_names("hiden", ["hidden", "window"]), near_names("colour", ["hidden"])
    ('; did you mean hidden?', '')
    """
    found = difflib.get_close_matches(str(name), list(names), n=1, cutoff=0.6)
    return f"; did you mean {found[0]}?" if found else ""


def unknown_settings(given, where: str) -> None:
    """ConfigError naming the first key of ``given`` that is not a setting, and the setting it
    is nearest to (a typo: ``hiden`` -> ``hidden``)."""
    known = [f.name for f in fields(Settings)]
    unknown = sorted(str(k) for k in set(given) - set(known))
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}{near_names(unknown[0], known)}{more}")
