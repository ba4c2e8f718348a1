"""windowclf: window-based word classifiers with hand-derived gradients.

The public API is what ``__all__`` lists; everything else is importable but not promised.
Names are loaded on first use, so ``import windowclf`` (and the command line's start-up, which
sets the BLAS thread count before numpy loads) stays cheap.
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "WindowTagger": "tagger",
    "Ensemble": "ensemble",
    "load_any": "ensemble",
    "Settings": "settings",
    "WindowNetwork": "network",
    "Vocabulary": "vocab",
    "WordVectors": "vectors",
    "load_vectors": "vectors",
    "load_cs224d": "vectors",
    "save_word2vec_format": "vectors",
    "tuned_vectors": "finetune",
    "vector_changes": "finetune",
    "nearest_neighbours": "finetune",
    "finetune_report": "finetune",
    "export_vectors": "finetune",
    "Sentence": "conll",
    "read_conll": "conll",
    "parse_incr": "conll",
    "write_conll": "conll",
    "entity_spans": "chunks",
    "convert": "schemes",
    "count_chunks": "metrics",
    "conlleval_report": "metrics",
    "token_f1": "token_metrics",
    "Token": "tokenize",
    "split_sentences": "tokenize",
    "iter_sentences": "tokenize",
    "check_gradients": "gradcheck",
    "Callback": "train",
    "EpochResult": "train",
    "Decoder": "decoding",
    "detect_scheme": "schemes",
    "WindowclfError": "errors",
    "InputError": "errors",
    "ModelFileError": "errors",
    "ConfigError": "errors",
    "DivergenceError": "errors",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'windowclf' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
