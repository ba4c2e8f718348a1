"""The rules of a resumed fit, one set for the library and the command line.

A resumed fit continues the epochs of a saved model: the same network, optimizer state and random
state, and the same data. What may change is the training schedule (``RESUMABLE``); a setting given
again with the value it has is not a change. The model records a fingerprint of the sentences it was
trained and selected on (:func:`fingerprint`), so other data is refused unless asked for
(``allow_new_data``); a model whose best epoch was chosen on dev data keeps being chosen on dev
data, so its best epoch and F1 survive the resume.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.training.snapshots import Snapshot

__all__ = ["RESUMABLE", "ResumeError", "TrainingState", "check_resume", "fingerprint", "resumed_settings"]

# What a resume may change: the rest is the shape of the network or its optimizer's state.
RESUMABLE = frozenset(
    {
        "lr",
        "lr_decay",
        "lr_schedule",
        "lr_embeddings",
        "l2",
        "l2_embeddings",
        "dropout_input",
        "dropout_hidden",
        "batch_size",
        "epochs",
        "patience",
        "freeze_embeddings",
        "freeze_epochs",
    }
)


@dataclass
class TrainingState:
    """Where a fit stopped, so that another can go on from there: the last completed epoch's
    weights, optimizer state and random state, the epochs since the best, and the settings they
    belong to (what a resume may not change but for ``RESUMABLE``)."""

    epoch: int
    params: Snapshot
    optimizer: dict  # name -> the optimizer's state array for that parameter
    rng: dict  # numpy's bit_generator.state
    bad_epochs: int
    settings: Settings


class ResumeError(ConfigError):
    """A resume the rules refuse; ``setting`` names the setting when one is at fault."""

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


def fingerprint(sentences, tags, documents=None) -> str:
    """sha256 of the sentences' tokens and tags (the text, not the file: BOM and CRLF do not count),
    and of where their documents change when ``documents`` (one name per sentence) is given: for
    a model whose features read documents, they are part of its data. Documents that never change
    leave the fingerprint as without them.

    >>> fingerprint([["Anna", "lives"]], [["PER", "O"]]) == fingerprint([("Anna", "lives")], [("PER", "O")])
    True
    >>> fingerprint([["Anna"]], [["PER"]]) == fingerprint([["Anna"]], [["LOC"]])
    False
    >>> fingerprint([["a"], ["b"]], [["O"], ["O"]], [0, 0]) == fingerprint([["a"], ["b"]], [["O"], ["O"]])
    True
    >>> fingerprint([["a"], ["b"]], [["O"], ["O"]], [0, 1]) == fingerprint([["a"], ["b"]], [["O"], ["O"]])
    False
    """
    h = hashlib.sha256()
    for i, (tokens, sentence_tags) in enumerate(zip(sentences, tags)):
        if documents is not None and i and documents[i] != documents[i - 1]:
            h.update(b"\x1c")  # a new document starts here
        h.update("\x1f".join(tokens).encode("utf-8", "surrogatepass"))
        h.update(b"\x1d")
        h.update("\x1f".join(sentence_tags).encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.hexdigest()


def resumed_settings(saved: Settings, changes: dict) -> Settings:
    """``saved`` with ``changes`` applied, refusing a change to anything outside RESUMABLE.

    Values are compared after validation, so ``features="caps,suffix3"`` equals the saved
    ``["caps", "suffix3"]``.
    """
    merged = Settings.from_dict({**saved.to_dict(), **changes})
    _refuse_changes(saved, merged)
    return merged


def _refuse_changes(saved: Settings, settings: Settings) -> None:
    before, after = saved.to_dict(), settings.to_dict()
    for name, value in after.items():
        if name not in RESUMABLE and value != before[name]:
            shown = ",".join(before[name]) if isinstance(before[name], list) else before[name]
            raise ResumeError(f"{name} cannot change when resuming (the model has {shown})", name)


def check_resume(
    state: TrainingState | None,
    settings: Settings,
    best: dict,
    recorded: dict,
    train_print: str,
    dev_print: str | None,
    allow_new_data: bool,
) -> TrainingState:
    """The model's training state, checked: :class:`ResumeError` unless a model (loaded from a
    file) may resume on this data.

    ``state`` is its training state, ``settings`` the settings asked for now, ``best`` its best
    epoch (``{"epoch", "f1"}``), ``recorded`` the fingerprints of the data it was trained and
    chosen on (``{"train", "dev"}``); ``train_print`` and ``dev_print`` are the fingerprints of
    the data passed to fit now.
    """
    if state is None:
        raise ResumeError("nothing to resume: this model holds no training state")
    _refuse_changes(state.settings, settings)
    s = settings
    done = state.epoch
    if done >= s.epochs:
        raise ResumeError(f"the model has trained {done} epochs already; ask for more epochs to continue", "epochs")
    # Epochs since the best are the trainer's count of epochs without improvement: a run that
    # patience stopped stays stopped, as it would have in one go.
    best_epoch = best.get("epoch")
    if s.patience is not None and best_epoch is not None and done - best_epoch >= s.patience:
        raise ResumeError(
            f"the model stopped early: no better dev F1 for {done - best_epoch} epochs "
            f"(patience {s.patience}); raise patience to continue",
            "patience",
        )
    if best.get("f1") is not None and dev_print is None:
        raise ResumeError(
            "the model's best epoch was chosen by dev F1; resume it with the same dev data "
            "(dev=, or --dev), or its best epoch would be replaced by the last one"
        )
    if allow_new_data:
        return state
    if recorded.get("train") is not None and recorded["train"] != train_print:
        raise ResumeError(
            "the training data differ from the data the model was trained on; pass "
            "allow_new_data=True (--allow-new-data) to continue on other data"
        )
    if recorded.get("dev") is not None and dev_print is not None and recorded["dev"] != dev_print:
        raise ResumeError(
            "the dev data differ from the data the best epoch was chosen on; pass "
            "allow_new_data=True (--allow-new-data) to rescore the best epoch on them and go on"
        )
    return state
