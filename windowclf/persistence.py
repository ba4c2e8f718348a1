"""Model files: one ``.npz`` (a zip of ``.npy`` arrays) plus a JSON metadata entry.

Saving is atomic (a temporary file in the same directory, then ``os.replace``) and
deterministic (fixed zip timestamps, sorted entries), so the same model gives the same bytes.
Loading never unpickles: arrays are read with ``allow_pickle=False`` and object arrays are
refused.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_writer
from .errors import DivergenceError, ModelFileError

__all__ = ["FORMAT_VERSION", "METADATA_ENTRY", "save_model_file", "load_model_file"]

FORMAT_VERSION = 1
METADATA_ENTRY = "metadata.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def save_model_file(path, arrays: dict, metadata: dict) -> None:
    """Write ``arrays`` (name -> float/int ndarray) and ``metadata`` (JSON-ready) atomically.

    Raises DivergenceError, writing nothing, if a float array holds NaN or inf.
    """
    for name, arr in arrays.items():
        if arr.dtype == object:
            raise TypeError(f"array {name} has dtype object; model files hold numbers only")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise DivergenceError(f"refusing to save: {name} holds NaN or inf")
    meta = dict(metadata, format_version=FORMAT_VERSION)
    meta_bytes = json.dumps(meta, sort_keys=True, indent=1).encode("utf-8")

    with atomic_writer(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            info = zipfile.ZipInfo(METADATA_ENTRY, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, meta_bytes)
            for name in sorted(arrays):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, buf.getvalue())


def load_model_file(path):
    """Read a model file: returns (arrays dict, metadata dict), refusing anything malformed.

    Checks: a readable zip with a JSON metadata entry, a format version this windowclf reads,
    numeric arrays only (object arrays are refused without unpickling), finite floats.
    Shape checks against the metadata are the caller's (it knows what the model needs).
    """
    path = Path(path)
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ModelFileError("no such model file", path) from None
    except IsADirectoryError:
        raise ModelFileError("is a directory, expected a model file (.npz)", path) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise ModelFileError(f"not a windowclf model file (a .npz zip archive expected): {err}", path) from None
    with z:
        names = z.namelist()
        if METADATA_ENTRY not in names:
            raise ModelFileError(f"no {METADATA_ENTRY} entry; not a windowclf model file", path)
        try:
            meta = json.loads(z.read(METADATA_ENTRY).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, EOFError, OSError) as err:
            raise ModelFileError(f"unreadable metadata: {err}", path) from None
        if not isinstance(meta, dict):
            raise ModelFileError("metadata is not a JSON object", path)
        version = meta.get("format_version")
        if not isinstance(version, int):
            raise ModelFileError("metadata has no format_version", path)
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"model file format version {version} is newer than this windowclf reads "
                f"({FORMAT_VERSION}); upgrade windowclf", path)
        if version < 1:
            raise ModelFileError(f"unknown model file format version {version}", path)
        arrays = {}
        for entry in names:
            if entry == METADATA_ENTRY:
                continue
            if not entry.endswith(".npy"):
                raise ModelFileError(f"unexpected entry {entry!r} in model file", path)
            try:
                with z.open(entry) as f:
                    arr = np.lib.format.read_array(io.BytesIO(f.read()), allow_pickle=False)
            except ValueError as err:
                # numpy's message for object arrays: "Object arrays cannot be loaded when allow_pickle=False"
                raise ModelFileError(f"entry {entry!r} is not a plain numeric array ({err})", path) from None
            except (zipfile.BadZipFile, EOFError, OSError) as err:
                raise ModelFileError(f"entry {entry!r} is damaged (truncated file?): {err}", path) from None
            if arr.dtype.kind not in "fiub":
                raise ModelFileError(f"entry {entry!r} has dtype {arr.dtype}; numeric arrays expected", path)
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise ModelFileError(f"entry {entry!r} holds NaN or inf", path)
            arrays[entry[:-4]] = arr
    return arrays, meta
