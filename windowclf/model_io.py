"""A tagger's model file: what :meth:`WindowTagger.save` writes and :meth:`WindowTagger.load` checks."""

from __future__ import annotations

from . import __version__
from .errors import ModelFileError
from .persistence import load_model_file, save_model_file
from .settings import Settings
from .vocab import Vocabulary

__all__ = ["save_tagger", "load_tagger"]

# Timings differ run to run; leaving them out keeps the file byte-identical for a seed.
_TIMING_KEYS = ("seconds", "words_per_second")


def save_tagger(tagger, params: dict, path, *, include_state: bool = True) -> None:
    """Write ``tagger`` with the weights ``params`` to ``path`` (see WindowTagger.save)."""
    arrays = {f"param/{k}": v for k, v in params.items()}
    if tagger.initial_vectors is not None:
        arrays["initial/L"] = tagger.initial_vectors
    meta = {
        "windowclf_version": __version__,
        "settings": tagger.settings.to_dict(),
        "vocabulary": tagger.vocab.to_dict(),
        "feature_vocabularies": {f: v.to_dict() for f, v in tagger.feature_vocabs.items()},
        "tags": tagger.tags,
        "scheme": tagger.settings.scheme,
        "history": [{k: v for k, v in h.items() if k not in _TIMING_KEYS} for h in tagger.history],
        "best": tagger.best,
    }
    if include_state and tagger._state is not None:
        st = tagger._state
        arrays.update({f"state/param/{k}": v for k, v in st["params"].items()})
        arrays.update({f"state/optimizer/{k}": v for k, v in st["optimizer"].items()})
        meta["state"] = {"epoch": st["epoch"], "rng": st["rng"], "bad_epochs": st["bad_epochs"]}
    save_model_file(path, arrays, meta)


def load_tagger(cls, path):
    """A ``cls`` (WindowTagger) read from ``path``, every array's shape checked against the metadata."""
    arrays, meta = load_model_file(path)
    try:
        tagger = cls(Settings.from_dict(meta["settings"]))
        tagger.vocab = Vocabulary.from_dict(meta["vocabulary"])
        tagger.feature_vocabs = {f: Vocabulary.from_dict(v) for f, v in meta["feature_vocabularies"].items()}
        tagger.tags = list(meta["tags"])
        tagger.history = list(meta.get("history", []))
        tagger.best = dict(meta.get("best", {"epoch": None, "f1": None}))
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"metadata is incomplete or malformed ({type(err).__name__}: {err})", path) from None
    if set(tagger.feature_vocabs) != set(tagger.settings.features):
        raise ModelFileError("metadata features and feature vocabularies disagree", path)
    n_outputs = 1 if tagger.settings.output == "sigmoid" else len(tagger.tags)
    tagger.network = tagger._make_network(n_outputs)
    expected = tagger.network.shapes()
    dtype = tagger.network.dtype
    for name, shape in expected.items():
        arr = arrays.get(f"param/{name}")
        if arr is None:
            raise ModelFileError(f"missing array param/{name}", path)
        if arr.shape != shape:
            raise ModelFileError(f"array param/{name} has shape {arr.shape}, expected {shape}", path)
        tagger.network.params[name] = arr.astype(dtype, copy=False)
    known = {f"param/{n}" for n in expected} | {"initial/L"}
    if "initial/L" in arrays:
        if arrays["initial/L"].shape != expected["L"]:
            raise ModelFileError(f"array initial/L has shape {arrays['initial/L'].shape}, expected {expected['L']}", path)
        tagger.initial_vectors = arrays["initial/L"].astype(dtype, copy=False)
    tagger.optimizer = tagger._make_optimizer()
    if "state" in meta:
        st = meta["state"]
        params, opt = {}, {}
        for name, shape in expected.items():
            arr = arrays.get(f"state/param/{name}")
            if arr is None or arr.shape != shape:
                raise ModelFileError(f"training state array state/param/{name} missing or misshapen", path)
            params[name] = arr.astype(dtype)
            known.add(f"state/param/{name}")
        for key, arr in arrays.items():
            if key.startswith("state/optimizer/"):
                name = key[len("state/optimizer/"):]
                if name not in expected or arr.shape != expected[name]:
                    raise ModelFileError(f"optimizer state {key} does not match the model", path)
                opt[name] = arr.astype(dtype)
                known.add(key)
        try:
            tagger._state = {"epoch": int(st["epoch"]), "params": params, "optimizer": opt,
                           "rng": st["rng"], "bad_epochs": int(st["bad_epochs"])}
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"training state is malformed ({err})", path) from None
    unknown = sorted(set(arrays) - known)
    if unknown:
        raise ModelFileError(f"unexpected arrays in model file: {', '.join(unknown)}", path)
    return tagger
