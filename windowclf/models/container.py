"""Model files: one ``.npz`` (a zip of ``.npy`` arrays) plus a JSON metadata entry.

Saving is atomic (a temporary file in the same directory, then ``os.replace``) and
deterministic (fixed zip timestamps, sorted entries), so the same model gives the same bytes.
Loading never unpickles (object arrays are refused from their header) and is bounded: a
:class:`ModelFile` reads the zip directory, the metadata and every ``.npy`` header, and checks
them all (regular file, zip methods and flags, sizes, JSON limits, shapes against the memory
available and, by the caller, against the metadata) before a single array is read.
"""

from __future__ import annotations

import io
import json
import math
import mmap
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

from windowclf._util.atomic import atomic_writer
from windowclf._util.limits import format_bytes, require_memory
from windowclf._util.outputs import open_regular
from windowclf.errors import DivergenceError, ModelFileError
from windowclf.models.file_bounds import JSON_VALUE_BYTES, SCAN_BYTES, TEXT_COPIES, declared_directory, json_shape

__all__ = [
    "FORMAT_VERSION",
    "MAX_ENTRIES",
    "MAX_JSON_DEPTH",
    "MAX_METADATA_BYTES",
    "METADATA_ENTRY",
    "ModelFile",
    "load_model_file",
    "model_file_bytes",
    "save_model_file",
]

FORMAT_VERSION = 1
METADATA_ENTRY = "metadata.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# A model file holds about 20 arrays and metadata of a few megabytes (the vocabulary), nested 4 deep.
MAX_ENTRIES = 1000
MAX_METADATA_BYTES = 512 * 2**20
MAX_JSON_DEPTH = 64
_MAX_NPY_HEADER = 10_000  # numpy's own limit for .npy headers
_READ_PIECE = 16 * 2**20


def save_model_file(path, arrays: dict, metadata: dict) -> None:
    """Write ``arrays`` (name -> float/int ndarray) and ``metadata`` (JSON-ready) atomically.

    Raises DivergenceError, writing nothing, if a float array holds NaN or inf.
    """
    _check(arrays)
    with atomic_writer(path, "wb") as f:
        _write(f, arrays, metadata)


def model_file_bytes(arrays: dict, metadata: dict) -> bytes:
    """The bytes :func:`save_model_file` writes, in memory (the same checks first)."""
    _check(arrays)
    buf = io.BytesIO()
    _write(buf, arrays, metadata)
    return buf.getvalue()


def _check(arrays: dict) -> None:
    for name, arr in arrays.items():
        if arr.dtype == object:
            raise TypeError(f"array {name} has dtype object; model files hold numbers only")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise DivergenceError(f"refusing to save: {name} holds NaN or inf")


def _write(f, arrays: dict, metadata: dict) -> None:
    """The zip: metadata (deflated), then every array as ``NAME.npy``, streamed into its entry (no
    copy of the array in memory); floating-point arrays are stored, since deflate shrinks trained
    weights by a few percent at the cost of seconds per hundred megabytes, the rest deflated."""
    meta = dict(metadata, format_version=FORMAT_VERSION)
    meta_bytes = json.dumps(meta, sort_keys=True, indent=1).encode("utf-8")
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        info = zipfile.ZipInfo(METADATA_ENTRY, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, meta_bytes)
        for name in sorted(arrays):
            arr = np.ascontiguousarray(arrays[name])
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if arr.dtype.kind == "f" else zipfile.ZIP_DEFLATED
            info.file_size = arr.nbytes + _NPY_HEADER_BOUND  # an upper bound: picks zip64 where needed
            with z.open(info, "w") as entry:
                np.lib.format.write_array(entry, arr, allow_pickle=False)


# np.lib.format pads a .npy header to a multiple of 64 bytes; its dict is far shorter than this.
_NPY_HEADER_BOUND = 4096
# A zip entry's local header (APPNOTE.TXT 4.3.7): its name's and extra field's lengths end it.
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_MAP_BYTES = 16 << 20  # arrays this large (a big vocabulary's L) are mapped from the file, not read
_CHECK_BYTES = 4 << 20  # a mapped array's bytes checked at a time


class _Mapped:
    """An entry's bytes in a private, copy-on-write map of its file, from page-aligned ``base``:
    ``head`` (the ``.npy`` header) and ``data`` (the array's, from offset ``skip`` of the map)."""

    def __init__(self, fileno: int, base: int, start: int, offset: int, n_bytes: int):
        self.skip, self.n_bytes = start - base + offset, n_bytes
        self.map = mmap.mmap(fileno, self.skip + n_bytes, flags=mmap.MAP_PRIVATE, offset=base)
        self.head = self.map[start - base : self.skip]

    def check(self, crc: int, dtype) -> bool:
        """Raise BadZipFile unless the entry's CRC-32 is ``crc``; False if its floats hold NaN or
        inf. A piece at a time, each piece's pages dropped from this process once read (they come
        back, from the file, when a row is read), so that checking does not raise the peak memory."""
        step = _CHECK_BYTES - _CHECK_BYTES % max(dtype.itemsize, 1)
        total, finite = zlib.crc32(self.head), True
        with memoryview(self.map) as whole:
            for at in range(self.skip, self.skip + self.n_bytes, step):
                piece = whole[at : min(at + step, self.skip + self.n_bytes)]
                total = zlib.crc32(piece, total)
                if dtype.kind == "f":
                    finite = finite and bool(np.isfinite(np.frombuffer(piece, dtype=dtype)).all())
                piece.release()
                if hasattr(self.map, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
                    page = at - at % mmap.PAGESIZE
                    self.map.madvise(mmap.MADV_DONTNEED, page, min(at + step, len(self.map)) - page)
        if total != crc:
            raise zipfile.BadZipFile("Bad CRC-32 for a mapped entry")
        return finite


def load_model_file(path, data: bytes | None = None):
    """Read a model file: returns (arrays dict, metadata dict), refusing anything malformed.

    Checks: those of :class:`ModelFile`, then numeric arrays only, finite floats. Shape checks
    against the metadata are the caller's (it knows what the model needs: see
    :meth:`ModelFile.check_entries`). ``data``: the file's bytes, read from memory (``path``
    then only names them in errors).
    """
    with ModelFile(path, data) as model_file:
        return model_file.read_all(), model_file.metadata


class ModelFile:
    """An open model file: its metadata read and checked and every array's header read, no data.

    Opening refuses, before reading any array: anything but a regular file (a FIFO is not
    waited on, a device not read), a zip with more than ``MAX_ENTRIES`` entries, an entry
    compressed otherwise than stored or deflated or flagged encrypted, a duplicate or
    unexpected entry name, metadata over ``MAX_METADATA_BYTES`` or nested deeper than
    ``MAX_JSON_DEPTH``, non-standard JSON (NaN, lone surrogates), an unknown format version,
    an ``.npy`` header that is not format 1.0 or 2.0 of a plain numeric dtype, whose shape's
    size is not exactly the entry's uncompressed size, or whose arrays together would not
    fit in memory. ``headers`` maps each array's name to its (shape, dtype).
    """

    def __init__(self, path, data: bytes | None = None):
        self.path = Path(path)
        self._file = None
        try:
            self._file = io.BytesIO(data) if data is not None else open_regular(path, "a model file (.npz)")
        except FileNotFoundError:
            raise ModelFileError("no such model file", path) from None
        except IsADirectoryError:
            raise ModelFileError("is a directory, expected a model file (.npz)", path) from None
        try:
            self._zip = self._open_zip()
            self.metadata = self._read_metadata()
            self.headers: dict[str, tuple] = {}  # name -> (shape, dtype)
            self._layout: dict[str, tuple] = {}  # name -> (offset, bytes, fortran order)
            for info in self._zip.infolist():
                if info.filename != METADATA_ENTRY:
                    self._read_header(info)
            require_memory(self.array_bytes, "the arrays of this model file", self.path, error=ModelFileError)
        except BaseException:
            self.close()
            raise

    @property
    def array_bytes(self) -> int:
        """The bytes of every array of the file together (what reading them all allocates)."""
        return sum(n_bytes for _, n_bytes, _ in self._layout.values())

    def __enter__(self) -> ModelFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for thing in (getattr(self, "_zip", None), self._file):
            if thing is not None:
                thing.close()

    def _error(self, message: str) -> ModelFileError:
        return ModelFileError(message, self.path)

    def _open_zip(self) -> zipfile.ZipFile:
        expected = "not a windowclf model file (a .npz zip archive expected)"
        try:
            declared = declared_directory(self._file)
            if declared is not None and (declared[0] > MAX_ENTRIES or declared[1] > MAX_ENTRIES * 1024):
                raise self._error(
                    f"the zip directory declares {declared[0]:,} entries "
                    f"({declared[1]:,} bytes); a model file has at most {MAX_ENTRIES}"
                )
            z = zipfile.ZipFile(cast(IO[bytes], self._file))
        except ModelFileError:
            raise
        except MemoryError:
            raise
        except Exception as err:  # the zip parser's many ways of saying "malformed"
            raise self._error(f"{expected}: {err}") from None
        names = z.namelist()
        if len(set(names)) != len(names):
            raise self._error("an entry appears twice in the zip directory")
        for info in z.infolist():
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self._error(
                    f"entry {info.filename!r} is compressed with zip method {info.compress_type}; "
                    "model files hold stored or deflated entries"
                )
            if info.flag_bits & 0x1:
                raise self._error(f"entry {info.filename!r} is encrypted; model files are not")
            if info.filename != METADATA_ENTRY and not info.filename.endswith(".npy"):
                raise self._error(f"unexpected entry {info.filename!r} in model file")
        if METADATA_ENTRY not in names:
            raise self._error(f"no {METADATA_ENTRY} entry; not a windowclf model file")
        return z

    def _read_metadata(self) -> dict:
        info = self._zip.getinfo(METADATA_ENTRY)
        if info.file_size > MAX_METADATA_BYTES:
            raise self._error(f"metadata of {info.file_size:,} bytes; at most {MAX_METADATA_BYTES:,} expected")
        # Its bytes, their text and what scanning them takes, before anything is read (a small
        # file can hold metadata deflated from megabytes of whitespace or repeated entries).
        require_memory(
            TEXT_COPIES * info.file_size + SCAN_BYTES,
            f"the metadata of this model file ({format_bytes(info.file_size)} of JSON)",
            self.path,
            error=ModelFileError,
        )
        try:
            with self._zip.open(info) as f:
                raw = f.read(info.file_size + 1)
            if len(raw) != info.file_size:
                raise self._error(f"metadata entry holds {len(raw):,} bytes, its header says {info.file_size:,}")
            depth, values = json_shape(raw)
            if depth > MAX_JSON_DEPTH:
                raise self._error(f"metadata nested deeper than {MAX_JSON_DEPTH} levels")
            # Python's objects for the JSON values: counted from the text before one is made.
            require_memory(
                TEXT_COPIES * len(raw) + JSON_VALUE_BYTES * values,
                f"the metadata of this model file ({values:,} JSON values)",
                self.path,
                error=ModelFileError,
            )
            text = raw.decode("utf-8")
            meta = json.loads(text, parse_constant=_no_constant)
            if _SURROGATE_ESCAPE.search(raw):  # only an escape can make one: decoded UTF-8 holds none
                json.dumps(meta, ensure_ascii=False).encode("utf-8")  # lone surrogates ("\\ud800") fail here
        except ModelFileError:
            raise
        except (ValueError, RecursionError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise self._error(f"unreadable metadata: {err}") from None
        if not isinstance(meta, dict):
            raise self._error("metadata is not a JSON object")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise self._error("metadata has no format_version")
        if version > FORMAT_VERSION:
            raise self._error(
                f"model file format version {version} is newer than this windowclf reads "
                f"({FORMAT_VERSION}); upgrade windowclf"
            )
        if version < 1:
            raise self._error(f"unknown model file format version {version}")
        return meta

    def _read_header(self, info: zipfile.ZipInfo) -> None:
        entry = info.filename
        try:
            with self._zip.open(info) as f:
                magic = f.read(8)
                if len(magic) < 8 or magic[:6] != b"\x93NUMPY" or magic[6:8] not in (b"\x01\x00", b"\x02\x00"):
                    raise self._error(f"entry {entry!r} is not an .npy array of format 1.0 or 2.0")
                size_bytes = 2 if magic[6] == 1 else 4
                length = f.read(size_bytes)
                n = int.from_bytes(length, "little") if len(length) == size_bytes else -1
                if not 0 < n <= _MAX_NPY_HEADER:
                    raise self._error(
                        f"entry {entry!r} has an .npy header of {n} bytes; at most {_MAX_NPY_HEADER} expected"
                    )
                header = f.read(n)
            read = np.lib.format.read_array_header_1_0 if magic[6] == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(io.BytesIO(length + header))
        except ModelFileError:
            raise
        except (ValueError, SyntaxError, TypeError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise self._error(f"entry {entry!r} has a damaged .npy header ({err})") from None
        if dtype.hasobject or dtype.kind not in "fiub" or dtype.subdtype is not None:
            # numpy's word for this when loading: "Object arrays cannot be loaded when allow_pickle=False"
            raise self._error(f"entry {entry!r} is not a plain numeric array (dtype {dtype})")
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise self._error(f"entry {entry!r} has an invalid shape {shape}")
        n_bytes = math.prod(shape) * dtype.itemsize
        offset = 8 + size_bytes + n
        if info.file_size != offset + n_bytes:
            raise self._error(
                f"entry {entry!r}: its header declares shape {shape} of {dtype} "
                f"({format_bytes(n_bytes)}), but the entry holds {info.file_size - offset:,} bytes of data"
            )
        name = entry[:-4]
        self.headers[name] = (tuple(shape), dtype)
        self._layout[name] = (offset, n_bytes, bool(fortran))

    def check_entries(self, allowed: dict) -> None:
        """Refuse, before reading any data, an array not in ``allowed`` (name -> shape, or None
        for any shape) or of another shape."""
        for name, (shape, _) in self.headers.items():
            if name not in allowed:
                raise self._error(f"unexpected array in model file: {name}")
            if allowed[name] is not None and shape != tuple(allowed[name]):
                raise self._error(f"array {name} has shape {shape}, expected {tuple(allowed[name])}")

    def read(self, name: str) -> np.ndarray:
        """The array ``name``, read into one buffer (a stored entry straight from the file, its
        CRC-32 checked as zipfile checks it; a deflated one in bounded pieces); NaN and inf refused."""
        shape, dtype = self.headers[name]
        offset, n_bytes, fortran = self._layout[name]
        entry = f"{name}.npy"
        out = np.empty(math.prod(shape), dtype=dtype)
        buffer: Any = memoryview(out.view(np.uint8).reshape(-1)) if n_bytes else None  # type: ignore[arg-type]
        try:
            info = self._zip.getinfo(entry)
            mapped = None
            if info.compress_type == zipfile.ZIP_STORED and n_bytes >= _MAP_BYTES:
                mapped = self._map_stored(info, offset, n_bytes)
            if mapped is not None:
                out = np.frombuffer(mapped.map, dtype=dtype, count=math.prod(shape), offset=mapped.skip)
                if not mapped.check(info.CRC, dtype):
                    raise self._error(f"entry {entry!r} holds NaN or inf")
            elif info.compress_type == zipfile.ZIP_STORED:
                self._read_stored(info, offset, n_bytes, buffer)
            else:
                self._read_pieces(entry, offset, n_bytes, buffer)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
            raise self._error(f"entry {entry!r} is damaged (truncated file?): {err}") from None
        arr = out.reshape(shape[::-1]).T if fortran else out.reshape(shape)
        if mapped is None and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise self._error(f"entry {entry!r} holds NaN or inf")
        return arr

    def _map_stored(self, info: zipfile.ZipInfo, offset: int, n_bytes: int):
        """A large stored entry's data mapped from the file (private copy-on-write pages: writable,
        the file never changed); None where the file cannot be mapped (the model came as bytes).
        Only the pages of the rows tagging reads stay in memory, shared with every process that
        maps the file (the workers of batch.processes)."""
        if isinstance(self._file, io.BytesIO) or not hasattr(mmap, "MAP_PRIVATE"):
            return None
        start = self._data_start(info)
        base = (start // mmap.ALLOCATIONGRANULARITY) * mmap.ALLOCATIONGRANULARITY
        try:
            assert self._file is not None  # open while the ModelFile is
            view = _Mapped(self._file.fileno(), base, start, offset, n_bytes)
        except (OSError, ValueError, io.UnsupportedOperation):  # a file system that cannot map: read it
            return None
        return view

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        """Where an entry's bytes start in the file, after its local header."""
        file = self._file
        assert file is not None  # open while the ModelFile is
        file.seek(info.header_offset)
        local = file.read(_LOCAL_HEADER.size)
        if len(local) < _LOCAL_HEADER.size or not local.startswith(b"PK\x03\x04"):
            raise zipfile.BadZipFile("bad local file header")
        name_length, extra_length = _LOCAL_HEADER.unpack(local)[-2:]
        return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length

    def _read_stored(self, info: zipfile.ZipInfo, offset: int, n_bytes: int, buffer) -> None:
        """A stored entry's data read into ``buffer`` with one ``readinto`` (no copy through pieces
        of bytes, whose fresh pages cost more than the read), its CRC-32 checked."""
        file = self._file
        assert file is not None  # open while the ModelFile is
        file.seek(self._data_start(info))
        head = file.read(offset)
        got = file.readinto(buffer) if n_bytes else 0
        if len(head) != offset or got != n_bytes:
            raise EOFError("the entry ends early")
        if zlib.crc32(buffer if n_bytes else b"", zlib.crc32(head)) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")

    def _read_pieces(self, entry: str, offset: int, n_bytes: int, buffer) -> None:
        with self._zip.open(entry) as f:
            f.read(offset)
            done = 0
            while done < n_bytes:
                piece = f.read(min(n_bytes - done, _READ_PIECE))
                if not piece:
                    raise EOFError("the entry ends early")
                buffer[done : done + len(piece)] = piece
                done += len(piece)
            if f.read(1):
                raise self._error(f"entry {entry!r} holds more data than its header declares")

    def read_all(self) -> dict:
        """Every array, by name."""
        return {name: self.read(name) for name in self.headers}


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")
