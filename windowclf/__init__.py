"""windowclf: window-based word classifiers with hand-derived gradients.

The public API is what ``__all__`` lists; everything else is importable but not promised.
Names are loaded on first use, so ``import windowclf`` (and the command line's start-up, which
sets the BLAS thread count before numpy loads) stays cheap; type checkers and editors read the
imports under ``TYPE_CHECKING`` below, so every public name keeps its real type.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "WindowTagger": "windowclf.models.tagger",
    "Ensemble": "windowclf.models.ensemble",
    "load_any": "windowclf.models.ensemble",
    "Settings": "windowclf.config.settings",
    "WindowNetwork": "windowclf.nn.network",
    "Vocabulary": "windowclf.features.vocab",
    "WordVectors": "windowclf.formats.vectors",
    "load_vectors": "windowclf.formats.vectors",
    "load_cs224d": "windowclf.formats.vectors",
    "save_word2vec_format": "windowclf.formats.vectors",
    "tuned_vectors": "windowclf.models.finetune",
    "vector_changes": "windowclf.models.finetune",
    "nearest_neighbours": "windowclf.models.finetune",
    "finetune_report": "windowclf.models.finetune",
    "export_vectors": "windowclf.models.finetune",
    "Sentence": "windowclf.formats.conll",
    "read_conll": "windowclf.formats.conll",
    "parse_incr": "windowclf.formats.conll",
    "write_conll": "windowclf.formats.conll",
    "entity_spans": "windowclf.tags.entities",
    "Entity": "windowclf.tags.record",
    "convert": "windowclf.tags.schemes",
    "detect_scheme": "windowclf.tags.schemes",
    "count_chunks": "windowclf.tags.conlleval",
    "conlleval_report": "windowclf.tags.conlleval",
    "token_f1": "windowclf.tags.token_metrics",
    "Token": "windowclf.text.tokenize",
    "split_sentences": "windowclf.text.tokenize",
    "iter_sentences": "windowclf.text.tokenize",
    "check_gradients": "windowclf.nn.gradcheck",
    "Callback": "windowclf.training.loop",
    "EpochResult": "windowclf.training.loop",
    "Decoder": "windowclf.inference.decoding",
    "WindowclfError": "windowclf.errors",
    "InputError": "windowclf.errors",
    "ModelFileError": "windowclf.errors",
    "ConfigError": "windowclf.errors",
    "DivergenceError": "windowclf.errors",
}

__all__ = [
    "Callback",
    "ConfigError",
    "Decoder",
    "DivergenceError",
    "Ensemble",
    "Entity",
    "EpochResult",
    "InputError",
    "ModelFileError",
    "Sentence",
    "Settings",
    "Token",
    "Vocabulary",
    "WindowNetwork",
    "WindowTagger",
    "WindowclfError",
    "WordVectors",
    "check_gradients",
    "conlleval_report",
    "convert",
    "count_chunks",
    "detect_scheme",
    "entity_spans",
    "export_vectors",
    "finetune_report",
    "iter_sentences",
    "load_any",
    "load_cs224d",
    "load_vectors",
    "nearest_neighbours",
    "parse_incr",
    "read_conll",
    "save_word2vec_format",
    "split_sentences",
    "token_f1",
    "tuned_vectors",
    "vector_changes",
    "write_conll",
]

if TYPE_CHECKING:
    from windowclf.config.settings import Settings
    from windowclf.errors import ConfigError, DivergenceError, InputError, ModelFileError, WindowclfError
    from windowclf.features.vocab import Vocabulary
    from windowclf.formats.conll import Sentence, parse_incr, read_conll, write_conll
    from windowclf.formats.vectors import WordVectors, load_cs224d, load_vectors, save_word2vec_format
    from windowclf.inference.decoding import Decoder
    from windowclf.models.ensemble import Ensemble, load_any
    from windowclf.models.finetune import (
        export_vectors,
        finetune_report,
        nearest_neighbours,
        tuned_vectors,
        vector_changes,
    )
    from windowclf.models.tagger import WindowTagger
    from windowclf.nn.gradcheck import check_gradients
    from windowclf.nn.network import WindowNetwork
    from windowclf.tags.conlleval import conlleval_report, count_chunks
    from windowclf.tags.entities import entity_spans
    from windowclf.tags.record import Entity
    from windowclf.tags.schemes import convert, detect_scheme
    from windowclf.tags.token_metrics import token_f1
    from windowclf.text.tokenize import Token, iter_sentences, split_sentences
    from windowclf.training.loop import Callback, EpochResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'windowclf' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
