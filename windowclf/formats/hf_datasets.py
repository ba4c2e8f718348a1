"""Hugging Face datasets saved with ``save_to_disk``: a folder read as a tagged corpus.

A ``datasets.Dataset`` saved with ``dataset.save_to_disk(path)`` is a folder holding
``dataset_info.json``, ``state.json`` and Arrow files; a ``DatasetDict`` saved so is a folder of
one such folder per split beside ``dataset_dict.json``. :func:`read_dataset` reads one split's
``tokens`` and ``ner_tags`` columns with its ``ClassLabel`` names
(:func:`~windowclf.text.inputs.dataset_columns`), so no ``--labels`` is needed. The ``datasets``
library is imported only here, when such a folder is read (``pip install 'windowclf[datasets]'``).
"""

from __future__ import annotations

import os

from windowclf.errors import InputError
from windowclf.formats.fields import check_field
from windowclf.text.inputs import dataset_columns, label_names

__all__ = ["DATASETS_HINT", "is_saved_dataset", "read_dataset"]

DATASETS_HINT = "reading it needs the datasets library: pip install 'windowclf[datasets]'"
"""What to install to read a saved dataset."""

_DATASET_FILES = ("dataset_info.json", "state.json")  # what Dataset.save_to_disk writes beside its Arrow files
_DICT_FILE = "dataset_dict.json"  # what DatasetDict.save_to_disk writes beside its splits' folders


def is_saved_dataset(path) -> bool:
    """Whether ``path`` is a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    if not os.path.isdir(path):
        return False
    return os.path.isfile(os.path.join(path, _DICT_FILE)) or all(
        os.path.isfile(os.path.join(path, name)) for name in _DATASET_FILES
    )


def read_dataset(path, *, labels=None) -> tuple:
    """The tokens and tags (names) of a dataset folder, and the label names they were read with.

    Parameters
    ----------
    path : str or path-like
        A folder written by ``Dataset.save_to_disk`` (a ``DatasetDict``'s: one split's folder
        inside it).
    labels : sequence of str, optional
        Names of integer tags, used only where the dataset's tag feature has no ``ClassLabel`` names.

    Returns
    -------
    sentences : list of list of str, length n_rows
    tags : list of list of str, length n_rows
    labels : list of str or None
        The names integer tags were read with (None: the tags were strings).

    Raises
    ------
    InputError
        Naming the folder (and the row, 0-based as ``dataset[row]``) for a folder that is no
        dataset, a ``DatasetDict`` (which split?), a missing ``datasets`` library, columns other
        than ``tokens`` and ``ner_tags``, an empty row, a tag index outside the labels, or a token
        or tag that is not one field of a column file.
    """
    if not is_saved_dataset(path):
        raise InputError(
            "a folder, not a tagged file nor a dataset saved with save_to_disk (no dataset_info.json and state.json)",
            path,
        )
    if os.path.isfile(os.path.join(path, _DICT_FILE)):
        splits = sorted(e.name for e in os.scandir(path) if e.is_dir() and is_saved_dataset(e.path))
        example = os.path.join(str(path), splits[0]) if splits else os.path.join(str(path), "train")
        raise InputError(
            f"a DatasetDict of splits {', '.join(splits) or '(none)'}; give one split's folder, e.g. {example}", path
        )
    try:
        import datasets
    except ImportError:
        raise InputError(f"a Hugging Face dataset saved with save_to_disk; {DATASETS_HINT}", path) from None
    shown = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # the command prints one line about what it read, not a bar per shard
    try:
        data = datasets.load_from_disk(os.fspath(path))
    except (OSError, ValueError, KeyError, TypeError) as err:  # damaged folders raise any of these
        raise InputError(f"cannot read the saved dataset: {type(err).__name__}: {err}", path) from None
    finally:
        if shown:
            datasets.enable_progress_bars()
    try:
        sentences, tags, names = dataset_columns(data, "dataset")
    except TypeError as err:
        raise InputError(str(err).removeprefix("dataset: "), path) from None
    names = names if names is not None else (None if labels is None else list(labels))
    for row, (tokens, row_tags) in enumerate(zip(sentences, tags)):
        where = f"row {row}: "
        try:
            if not tokens:
                raise InputError("no tokens; every sentence needs at least one")
            if len(tokens) != len(row_tags):
                raise InputError(f"{len(tokens)} tokens but {len(row_tags)} tags")
            if names is not None:
                [row_tags] = label_names([row_tags], names)
            for token in tokens:
                check_field(token, "token")
            for tag in row_tags:
                if not isinstance(tag, str):
                    raise InputError(f"tag {tag!r} is a label index; the dataset names no labels: give --labels")
                check_field(tag, "tag")
        except InputError as err:
            raise InputError(where + err.message.replace("tags[0][", "tags["), path) from None
        sentences[row], tags[row] = list(tokens), row_tags
    if not sentences:
        raise InputError("no rows; expected a dataset of tokens and ner_tags", path)
    return sentences, tags, names
