"""A tagger's model file: what :meth:`WindowTagger.save` writes and :meth:`WindowTagger.load` checks."""

from __future__ import annotations

from contextlib import contextmanager

from windowclf import __version__
from windowclf._util.arguments import check_path
from windowclf._util.limits import require_memory
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError, ModelFileError
from windowclf.features.gazetteer import Gazetteer
from windowclf.features.tables import GAZETTEER, USER_GAZETTEER
from windowclf.features.vocab import Vocabulary
from windowclf.inference.decoding import decoder_bytes
from windowclf.models.container import ModelFile, model_file_bytes, save_model_file
from windowclf.models.metadata import check_metadata
from windowclf.training.resume import TrainingState
from windowclf.training.setup import build_optimizer
from windowclf.training.snapshots import Patch, Snapshot, changed_rows

__all__ = [
    "describe",
    "describe_open",
    "file_contents",
    "load_tagger",
    "open_model_file",
    "read_tagger",
    "reduce_tagger",
    "save_tagger",
]

# Timings differ run to run; leaving them out keeps the file byte-identical for a seed.
_TIMING_KEYS = ("seconds", "words_per_second", "dev_seconds")


def save_tagger(
    tagger, params: dict, path, *, include_state: bool = True, include_initial: bool = True
) -> bytes | None:
    """Write ``tagger`` with the weights ``params`` to ``path`` (see WindowTagger.save); with
    ``path`` None, return the file's bytes instead.

    The pretrained L (``initial_vectors``) is stored as the rows that differ from ``params["L"]``
    (bit for bit; training moves only the rows of training words, a few percent of a
    pretrained vocabulary), from which the loader rebuilds it exactly; so is the last epoch's L of
    the training state (``state/rows/L``, ``state/values/L``): the file holds L once.
    """
    arrays, meta = file_contents(tagger, params, include_state=include_state, include_initial=include_initial)
    if path is None:
        return model_file_bytes(arrays, meta)
    save_model_file(path, arrays, meta)
    return None


def file_contents(tagger, params: dict, *, include_state: bool = True, include_initial: bool = True) -> tuple:
    """(arrays, metadata) of ``tagger``'s model file, as :func:`save_tagger` writes them (an
    ensemble file holds each member's, ``include_state`` and ``include_initial`` False)."""
    arrays = {f"param/{k}": v for k, v in params.items()}
    initial_rows = None
    if include_initial and tagger.initial_patch is not None:
        initial = _against(tagger.initial_patch, params["L"])
        arrays["initial/L_rows"], arrays["initial/L_values"] = initial_rows, _ = initial.rows, initial.values
    meta = {
        "windowclf_version": __version__,
        "settings": tagger.settings.to_dict(),
        "vocabulary": tagger.vocab.to_dict(),
        "feature_vocabularies": {f: v.to_dict() for f, v in tagger.feature_vocabs.items()},
        **({"char_vocabulary": tagger.char_vocab.to_dict()} if tagger.char_vocab is not None else {}),
        **({"gazetteer": tagger.gazetteer.to_dict()} if tagger.gazetteer is not None else {}),
        **({"user_gazetteer": tagger.user_gazetteer.to_dict()} if tagger.user_gazetteer is not None else {}),
        "tags": tagger.tags,
        "scheme": tagger.settings.scheme,
        "history": [{k: v for k, v in h.items() if k not in _TIMING_KEYS} for h in tagger.history],
        "best": tagger.best,
        "data": tagger.data_fingerprints,  # resume.fingerprint of the training and dev data
        "provenance": tagger.provenance,  # how the model was made: see WindowTagger.fit
        "training_input": tagger.training_input,  # how its training data was read (predict reads alike)
    }
    if initial_rows is not None:
        meta["initial_rows"] = len(initial_rows)
    if include_state and tagger.training_state is not None:
        st = tagger.training_state
        snapshot = st.params
        arrays.update({f"state/param/{k}": v for k, v in snapshot.arrays.items()})
        rows = {}
        for name, patch in snapshot.patches.items():
            diff = _against(patch, params[name])
            arrays[f"state/rows/{name}"], arrays[f"state/values/{name}"] = diff.rows, diff.values
            rows[name] = len(diff.rows)
        arrays.update({f"state/optimizer/{k}": v for k, v in st.optimizer.items()})
        meta["state"] = {"epoch": st.epoch, "rng": st.rng, "bad_epochs": st.bad_epochs, "rows": rows}
    return arrays, meta


def load_tagger(cls, path, *, training_state: bool = True):
    """A ``cls`` (WindowTagger) read from ``path`` (or a model file's bytes), every array's shape
    checked against the metadata."""
    with open_model_file(path) as (model_file, path):
        return read_tagger(cls, model_file, path, training_state)


@contextmanager
def open_model_file(path):
    """(the open :class:`~windowclf.models.container.ModelFile`, its name) of a model file's path
    or of its bytes (named ``<model bytes>``): metadata and array headers read and checked, no
    array read yet."""
    data = bytes(path) if isinstance(path, (bytes, bytearray, memoryview)) else None
    name = "<model bytes>" if data is not None else check_path("path", path)
    with ModelFile(name, data) as model_file:
        yield model_file, name


def describe(cls, path):
    """(tagger without a network, {array name: shape}, holds pretrained vectors) from a model
    file's metadata and array headers: what ``windowclf info`` shows, without reading an array."""
    with ModelFile(check_path("path", path)) as model_file:
        return describe_open(cls, model_file, path)


def describe_open(cls, model_file, path):
    """:func:`describe` of an open :class:`~windowclf.models.container.ModelFile` (or an object with
    its ``metadata``, ``headers`` and ``check_entries``: one member of an ensemble file)."""
    meta = model_file.metadata
    tagger = _from_metadata(cls, meta, path)
    try:
        expected = tagger.parameter_shapes()  # the network loading would allocate
    except ConfigError as err:
        raise ModelFileError(str(err), path) from None
    model_file.check_entries(_entries(expected, _initial_rows(meta, expected, path), _state_rows(meta, expected, path)))
    missing = sorted(f"param/{name}" for name in expected if f"param/{name}" not in model_file.headers)
    if missing:
        raise ModelFileError(f"missing array {missing[0]}", path)
    pretrained = any(name.startswith("initial/") for name in model_file.headers)
    return tagger, expected, pretrained


def _initial_rows(meta, expected, path) -> int:
    n = meta.get("initial_rows", 0)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= expected["L"][0]:
        raise ModelFileError(f"metadata field initial_rows must be a row count of L, got {n!r}", path)
    return n


def _state_rows(meta, expected, path) -> dict:
    """name -> rows of the training state's patch of that table (metadata ``state.rows``), checked."""
    rows = (meta.get("state") or {}).get("rows") or {}
    for name, n in rows.items():
        if name not in expected or len(expected[name]) != 2 or not 0 <= n <= expected[name][0]:
            raise ModelFileError(f"metadata field state.rows.{name} must be a row count of a table, got {n!r}", path)
    return rows


def _entries(expected: dict, n_initial: int, state_rows: dict) -> dict:
    """Every array a model file may hold, with its shape."""
    return {
        **{
            f"{kind}/{name}": shape
            for name, shape in expected.items()
            for kind in ("param", "state/param", "state/optimizer")
        },
        "initial/L": expected["L"],
        "initial/L_rows": (n_initial,),
        "initial/L_values": (n_initial, expected["L"][1]),
        **{f"state/rows/{name}": (n,) for name, n in state_rows.items()},
        **{f"state/values/{name}": (n, expected[name][1]) for name, n in state_rows.items()},
    }


def read_tagger(cls, model_file, path, training_state=True):
    """A ``cls`` read from an open :class:`~windowclf.models.container.ModelFile` (or an object with
    its ``metadata``, ``headers``, ``check_entries`` and ``read``: one member of an ensemble file),
    every array's shape checked before it is read."""
    meta = model_file.metadata
    tagger = _from_metadata(cls, meta, path)
    _load_arrays(tagger, model_file, meta, path, training_state)
    return tagger


def _from_metadata(cls, meta, path):
    """A ``cls`` with the settings, vocabularies, tags, history and provenance of ``meta``."""
    if "ensemble" in meta:  # written by windowclf.models.ensemble, whose loader reads it
        members = meta["ensemble"].get("members") if isinstance(meta["ensemble"], dict) else None
        count = f"{len(members)} model{'s' * (len(members) != 1)}" if isinstance(members, list) else "models"
        raise ModelFileError(
            f"an ensemble of {count} (windowclf ensemble), not a single model: predict, evaluate "
            "and info read it; in Python, windowclf.load_any or Ensemble.load",
            path,
        )
    check_metadata(meta, path)
    try:
        tagger = cls(Settings.from_dict(_settings_of(meta["settings"])))
        tagger.vocab = Vocabulary.from_dict(meta["vocabulary"])
        tagger.feature_vocabs = {f: Vocabulary.from_dict(v) for f, v in meta["feature_vocabularies"].items()}
        if tagger.settings.char_filters:
            tagger.char_vocab = Vocabulary.from_dict(meta["char_vocabulary"])
        if GAZETTEER in tagger.settings.features:
            tagger.gazetteer = Gazetteer.from_dict(meta["gazetteer"], path)
        if USER_GAZETTEER in tagger.settings.features:
            tagger.user_gazetteer = Gazetteer.from_dict(meta["user_gazetteer"], path, "user_gazetteer")
        tagger.tags = list(meta["tags"])
        tagger.history = list(meta.get("history", []))
        tagger.best = dict(meta.get("best", {"epoch": None, "f1": None}))
        tagger.data_fingerprints = {"train": None, "dev": None, **meta.get("data", {})}
        tagger.provenance = dict(meta.get("provenance") or {})
        tagger.training_input = dict(meta.get("training_input") or {})
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"metadata is incomplete or malformed ({type(err).__name__}: {err})", path) from None
    if set(tagger.feature_vocabs) != set(tagger.settings.features):
        raise ModelFileError("metadata features and feature vocabularies disagree", path)
    n_tags = 2 if tagger.settings.output == "sigmoid" else len(tagger.tags)
    # the decoder's K x K tables, as the network's sizes are, before anything of them is allocated
    require_memory(decoder_bytes(n_tags), f"decoding its {n_tags:,} tags", path, error=ModelFileError)
    return tagger


def _settings_of(saved: dict) -> dict:
    """The settings a model file holds, with the value a setting newer than the file had then:
    files from before ``document_sentences`` read unmarked data as one document and marked
    documents whole (None), as they were trained."""
    if isinstance(saved, dict) and "document_sentences" not in saved:
        return {**saved, "document_sentences": None}
    return saved


def _load_arrays(tagger, model_file, meta, path, training_state=True):
    """The network allocated (its size checked first) and filled from the file's arrays; without
    ``training_state`` only the weights are read (tagging needs nothing else)."""
    try:
        # its size checked against memory first; no random weights drawn, the file's replace them
        tagger.network = tagger.make_network(initialize=False)
    except ConfigError as err:
        raise ModelFileError(str(err), path) from None
    expected = tagger.network.shapes()
    n_initial = _initial_rows(meta, expected, path)
    state_rows = _state_rows(meta, expected, path)
    model_file.check_entries(_entries(expected, n_initial, state_rows))  # before any array is read
    names = [n for n in model_file.headers if training_state or n.startswith("param/")]
    arrays = {name: model_file.read(name) for name in names}
    dtype = tagger.network.dtype
    for name, shape in expected.items():
        arr = arrays.get(f"param/{name}")
        if arr is None:
            raise ModelFileError(f"missing array param/{name}", path)
        if arr.shape != shape:
            raise ModelFileError(f"array param/{name} has shape {arr.shape}, expected {shape}", path)
        tagger.network.params[name] = arr.astype(dtype, copy=False)
    known = {f"param/{n}" for n in expected} | {"initial/L", "initial/L_rows", "initial/L_values"}
    L = tagger.network.params["L"]
    if "initial/L" in arrays:  # files before 0.2 hold the whole matrix
        if arrays["initial/L"].shape != expected["L"]:
            raise ModelFileError(
                f"array initial/L has shape {arrays['initial/L'].shape}, expected {expected['L']}", path
            )
        tagger.initial_patch = Patch.difference(arrays["initial/L"].astype(dtype, copy=False), L)
    elif "initial/L_rows" in arrays or "initial/L_values" in arrays:
        tagger.initial_patch = _patch(arrays, "initial/L_rows", "initial/L_values", L, n_initial, path)
    tagger.optimizer = build_optimizer(tagger.settings)
    if "state" in meta and training_state:
        st = meta["state"]
        params, patches, opt = {}, {}, {}
        for name, shape in expected.items():
            if name in state_rows:  # the rows where the last epoch differs from the best
                table = tagger.network.params[name]
                patches[name] = _patch(
                    arrays, f"state/rows/{name}", f"state/values/{name}", table, state_rows[name], path
                )
                known.update({f"state/rows/{name}", f"state/values/{name}"})
                continue
            arr = arrays.get(f"state/param/{name}")
            if arr is None or arr.shape != shape:
                raise ModelFileError(f"training state array state/param/{name} missing or misshapen", path)
            params[name] = arr.astype(dtype, copy=False)
            known.add(f"state/param/{name}")
        for key, arr in arrays.items():
            if key.startswith("state/optimizer/"):
                name = key[len("state/optimizer/") :]
                if name not in expected or arr.shape != expected[name]:
                    raise ModelFileError(f"optimizer state {key} does not match the model", path)
                opt[name] = arr.astype(dtype, copy=False)
                known.add(key)
        try:
            tagger.training_state = TrainingState(
                int(st["epoch"]),
                Snapshot.of(params, patches),
                opt,
                st["rng"],
                int(st["bad_epochs"]),
                Settings.from_dict(tagger.settings.to_dict()),  # what resume may change
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"training state is malformed ({err})", path) from None
    unknown = sorted(set(arrays) - known)
    if unknown:
        raise ModelFileError(f"unexpected arrays in model file: {', '.join(unknown)}", path)
    return tagger


def reduce_tagger(tagger):
    """What pickle keeps of a trained tagger: its model file's bytes, read back by ``load``.

    So a tagger travels (to a Dask or Spark worker, a process pool) as its own checked file format,
    never as pickled objects; an untrained one has no model file and refuses.
    """
    if tagger.network is None:
        raise TypeError(
            "an untrained WindowTagger has no model file to pickle; send its settings "
            "(settings.to_dict()), or a trained model's path or bytes"
        )
    return type(tagger).load, (save_tagger(tagger, tagger.weights(), None),)


def _against(patch: Patch, table):
    """The rows of ``patch`` whose values differ from ``table``'s (the rest ``table`` holds)."""
    differ = changed_rows(patch.values, table[patch.rows])
    return Patch(patch.rows[differ], patch.values[differ])


def _patch(arrays, rows_name, values_name, table, n_rows: int, path) -> Patch:
    """A Patch of ``table`` read from the arrays ``rows_name`` and ``values_name`` (checked)."""
    import numpy as np

    rows, values = arrays.get(rows_name), arrays.get(values_name)
    if rows is None or values is None or rows.shape != (n_rows,) or values.shape != (n_rows, table.shape[1]):
        raise ModelFileError(f"arrays {rows_name} and {values_name} are missing or misshapen", path)
    if rows.dtype.kind not in "iu" or (
        n_rows and (rows.min() < 0 or rows.max() >= table.shape[0] or np.any(np.diff(rows) <= 0))
    ):
        raise ModelFileError(f"array {rows_name} must hold ascending row numbers of its table", path)
    return Patch(rows.astype(np.int64), values.astype(table.dtype, copy=False))
