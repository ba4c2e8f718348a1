"""Hypothesis strategies that damage valid files: bytes, lines, headers, zips, npy arrays, JSON.

Each strategy takes the valid bytes of a file and draws a damaged version of them. They know
the formats just well enough to lie inside them (a header that declares the wrong count, a zip
entry flagged encrypted, an .npy header declaring 10^7 x 10^7 floats, a metadata field of the
wrong type), so that the damage reaches the parsers behind the first check.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import warnings
import zipfile

from hypothesis import strategies as st

# Bytes that break parsers and terminals: controls, escape sequences, line ends of every kind,
# Unicode spaces and separators, bidi overrides, a BOM, invalid and truncated UTF-8, numbers
# that overflow, and long runs.
NASTY_TEXT = [
    "\x00",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x9b2J",
    "\r",
    "\r\n",
    "\x0b",
    "\x0c",
    "\x7f",
    "\x85",
    "\xa0",
    "\u2028",
    "\u2029",
    "\u202e",
    "\ufeff",
    "\t",
    " ",
    "\n",
    "\n\n",
    "-DOCSTART-",
    "B-",
    "I-\x1bX",
    "O O O",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "99999999999999999999",
    "-1",
    "0",
    "\ud83d\ude00",
]
NASTY_BYTES = [t.encode("utf-8", "surrogatepass") for t in NASTY_TEXT] + [
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x1f\x8b",
    b"PK\x03\x04",
    b"\x93NUMPY",
]
HUGE_NUMBERS = [0, 1, 2, 3, 7, 2**31, 2**32 - 1, 2**63, 10**11, 10**30]


def nasty_bytes():
    return st.one_of(
        st.sampled_from(NASTY_BYTES),
        st.binary(min_size=1, max_size=12),
        st.builds(
            lambda b, n: b * n, st.sampled_from([b"a", b"1 ", b"\n", b"["]), st.sampled_from([100, 5000, 70_000])
        ),
    )


@st.composite
def bytes_damage(draw, data: bytes) -> bytes:
    """One to three of: flip bits, truncate, insert nasty bytes, delete or repeat a slice."""
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "repeat"]))
        if not data:
            op = "insert"
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif op == "truncate":
            data = data[:at]
        elif op == "insert":
            data = data[:at] + draw(nasty_bytes()) + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        else:
            data = data[:at] + data[at : at + draw(st.integers(1, 64))] * draw(st.integers(2, 50)) + data[at:]
    return data


@st.composite
def line_damage(draw, data: bytes) -> bytes:
    """Damage within lines: a field replaced or given nasty characters, a line added or removed."""
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["field", "append", "new_line", "drop", "columns"]))
        fields = lines[i].split(b" ")
        j = draw(st.integers(0, len(fields) - 1))
        if op == "field":
            fields[j] = draw(nasty_bytes())
        elif op == "append":
            fields[j] += draw(nasty_bytes())
        elif op == "columns":
            fields = fields + [draw(nasty_bytes())] if draw(st.booleans()) else fields[:-1]
        if op == "new_line":
            lines.insert(i, draw(nasty_bytes()))
        elif op == "drop":
            del lines[i]
        else:
            lines[i] = b" ".join(fields)
        if not lines:
            lines = [b""]
    return b"\n".join(lines)


def text_damage(data: bytes):
    return st.one_of(bytes_damage(data), line_damage(data))


@st.composite
def vector_header_damage(draw, data: bytes) -> bytes:
    """A word2vec file whose header lies: counts and dimensions too large, zero, negative, text."""
    values = st.one_of(st.sampled_from(HUGE_NUMBERS).map(str), st.sampled_from(["-1", "x", "3.0", "", "1e3", "٣"]))
    header = f"{draw(values)} {draw(values)}".encode()
    rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
    return header + b"\n" + rest


@st.composite
def gzip_damage(draw, text: bytes) -> bytes:
    """gzip of (perhaps damaged) text, then perhaps truncated or with bytes flipped."""
    inner = draw(st.one_of(st.just(text), text_damage(text)))
    packed = gzip.compress(inner, mtime=0)
    return draw(
        st.one_of(st.just(packed), bytes_damage(packed), st.integers(0, len(packed) - 1).map(lambda n: packed[:n]))
    )


# ------------------------------------------------------------------------------ model files


def _entries(model: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(model)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _zip(entries: list) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        warnings.simplefilter("ignore")  # "Duplicate name": a duplicate is the point
        for name, data in entries:
            z.writestr(name, data)
    return out.getvalue()


def _npy_header(shape, descr: str, fortran: bool, version=(1, 0)) -> bytes:
    header = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (descr, fortran, tuple(shape))
    header += " " * ((64 - (12 + len(header) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H" if version[0] == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + size + header.encode("latin-1")


SHAPES = [(), (0,), (1,), (3, 3), (5, 4), (10**7, 10**7), (2**40,), (2**62, 2), (-1, 3), (1, 1, 1, 1)]
DTYPES = ["<f4", "<f8", ">f4", "<f2", "<i8", "|b1", "|u1", "|O", "<c8", "|V8", "<U4", "<M8[D]", "<f16"]


@st.composite
def npy_damage(draw, npy: bytes) -> bytes:
    """An .npy array whose header lies about its shape, dtype, order or version, or whose data
    is cut or padded."""
    data = npy[npy.index(b"\n") + 1 :] if b"\n" in npy[:200] else npy
    shape = draw(st.sampled_from(SHAPES))
    header = _npy_header(
        shape,
        draw(st.sampled_from(DTYPES)),
        draw(st.booleans()),
        draw(st.sampled_from([(1, 0), (1, 0), (2, 0), (3, 0), (9, 9)])),
    )
    body = draw(st.sampled_from(["same", "cut", "pad", "none"]))
    if body == "cut":
        data = data[: len(data) // 2]
    elif body == "pad":
        data = data + bytes(draw(st.sampled_from([1, 4, 1000])))
    elif body == "none":
        data = b""
    return header + data


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from(HUGE_NUMBERS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.sampled_from(["a", "B-", "O", " ", "\x1b", "\x00", "\u2028", "\ud800", "é"]), max_size=6).map(
            "".join
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["epoch", "f1", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)
RAW_JSON = [b"NaN", b"Infinity", b"1e999", b"[" * 100_000 + b"]" * 100_000, b'"\\ud800"', b"9" * 5000, b"{" * 70]


def _exists(meta, path) -> bool:
    value = meta
    for key in path:
        if (isinstance(value, dict) and key in value) or (
            isinstance(value, list) and isinstance(key, int) and key < len(value)
        ):
            value = value[key]
        else:
            return False
    return True


@st.composite
def _path(draw, meta: dict) -> tuple:
    """A path into the metadata (keys and indices): a top-level field, then deeper with
    probability one half at each level (so best.f1 is as likely as a word of the vocabulary)."""
    path, value = (), meta
    while isinstance(value, (dict, list)) and value and (not path or draw(st.booleans())):
        key = draw(
            st.sampled_from(sorted(value)) if isinstance(value, dict) else st.integers(0, min(len(value), 3) - 1)
        )
        path, value = path + (key,), value[key]
    return path


# Fields whose type the loader must check, by where they are used: info prints best and
# history, predict the tags, --resume the state and its random state, every command the
# vocabularies and settings.
FIELDS = [
    ("best", "f1"),
    ("best", "epoch"),
    ("best",),
    ("history",),
    ("history", 0),
    ("history", 0, "epoch"),
    ("history", 0, "train_loss"),
    ("history", 0, "dev"),
    ("history", 0, "dev", "f1"),
    ("history", 0, "lr"),
    ("state",),
    ("state", "rng"),
    ("state", "rng", "state"),
    ("state", "rng", "state", "state"),
    ("state", "rng", "state", "inc"),
    ("state", "rng", "bit_generator"),
    ("state", "rng", "has_uint32"),
    ("state", "epoch"),
    ("state", "bad_epochs"),
    ("tags",),
    ("tags", 0),
    ("tags", 1),
    ("scheme",),
    ("vocabulary",),
    ("vocabulary", "index_to_key"),
    ("vocabulary", "index_to_key", 0),
    ("vocabulary", "unk"),
    ("vocabulary", "lowercase"),
    ("feature_vocabularies",),
    ("feature_vocabularies", "caps"),
    ("feature_vocabularies", "caps", "index_to_key"),
    ("settings",),
    ("settings", "features"),
    ("settings", "positive_tag"),
    ("settings", "output"),
    ("settings", "seed"),
    ("settings", "lowercase"),
    ("settings", "momentum"),
    ("data",),
    ("data", "train"),
    ("windowclf_version",),
    ("format_version",),
]
_KINDS = {
    type(None): st.none(),
    bool: st.booleans(),
    int: st.sampled_from([0, -1, 1, 2**31, 10**30, -(10**30)]),
    float: st.sampled_from([0.5, -1e308, 1e308, 1e-320]),
    str: st.sampled_from(["", "abc", "x y", "\x1b[2J", "B-\u2028", "\ud800", "1"]),
    list: st.sampled_from([[], ["x"], [1, 2], [None], [[]], [{"epoch": "x"}]]),
    dict: st.sampled_from([{}, {"x": 1}, {"epoch": None, "f1": "abc"}, {"bit_generator": "MT19937"}]),
}


def confused(value):
    """A JSON value of another type than ``value`` (bool and int count as different)."""
    return st.one_of(*[strategy for kind, strategy in _KINDS.items() if type(value) is not kind])


@st.composite
def metadata_damage(draw, meta_bytes: bytes) -> bytes:
    """The metadata with one field replaced, removed, or given raw non-JSON, or whole garbage."""
    meta = json.loads(meta_bytes)
    how = draw(st.sampled_from(["replace", "replace", "replace", "size", "delete", "raw", "bytes"]))
    if how == "bytes":
        return draw(bytes_damage(meta_bytes))
    known = [field for field in FIELDS if _exists(meta, field)]
    path = draw(st.one_of(st.sampled_from(known), _path(meta)) if known else _path(meta))
    holder = meta
    for key in path[:-1]:
        holder = holder[key]
    if how == "delete":
        del holder[path[-1]]
        return json.dumps(meta).encode()
    if how == "size":  # a network size a file could ask for: huge, zero, negative (of a member's, in an ensemble)
        settings = meta["settings"] if "settings" in meta else meta["ensemble"]["members"][0]["settings"]
        settings[draw(st.sampled_from(["hidden", "dim", "window", "feature_dim"]))] = draw(
            st.sampled_from([0, -1, 2, 10**6 + 1, 10**8, 10**12])
        )
        return json.dumps(meta).encode()
    marker = "@@RAW@@"
    holder[path[-1]] = marker if how == "raw" else draw(st.one_of(confused(holder[path[-1]]), JSON_VALUES))
    text = json.dumps(meta).encode()
    return text.replace(json.dumps(marker).encode(), draw(st.sampled_from(RAW_JSON))) if how == "raw" else text


def _patch_headers(data: bytes, field: str, value: int) -> bytes:
    """Set one field of every local and central zip header (the offsets of APPNOTE 4.3.7 / 4.3.12)."""
    offsets = {
        "flags": (6, 8, 2),
        "method": (8, 10, 2),
        "crc": (14, 16, 4),
        "csize": (18, 20, 4),
        "usize": (22, 24, 4),
    }[field]
    out = bytearray(data)
    for signature, at in ((b"PK\x03\x04", offsets[0]), (b"PK\x01\x02", offsets[1])):
        i = out.find(signature)
        while i >= 0:
            start = i + at
            out[start : start + offsets[2]] = (value % 2 ** (8 * offsets[2])).to_bytes(offsets[2], "little")
            i = out.find(signature, i + 4)
    return bytes(out)


@st.composite
def model_damage(draw, model: bytes) -> bytes:
    """A model file damaged at one level: its bytes, its zip structure, an .npy entry, the JSON."""
    level = draw(st.sampled_from(["bytes", "zip", "zip", "npy", "npy", "json", "json", "json", "json"]))
    if level == "bytes":
        return draw(bytes_damage(model))
    if level == "zip":
        field = draw(st.sampled_from(["flags", "method", "crc", "csize", "usize", "entries"]))
        if field == "entries":
            entries = list(_entries(model).items())
            op = draw(st.sampled_from(["drop", "duplicate", "extra", "rename"]))
            i = draw(st.integers(0, len(entries) - 1))
            if op == "drop":
                del entries[i]
            elif op == "duplicate":
                entries.append(entries[i])
            elif op == "extra":
                entries.append(
                    (
                        draw(
                            st.sampled_from(
                                ["x.pkl", "../up.npy", "param/Z.npy", "state/param/Q.npy", "initial/L.npy", "dir/"]
                            )
                        ),
                        entries[i][1],
                    )
                )
            else:
                entries[i] = (entries[i][0] + draw(st.sampled_from(["x", ".npy", "\x1b"])), entries[i][1])
            return _zip(entries)
        values = {
            "flags": [1, 8, 0x41, 0x800, 0xFFFF],
            "method": [1, 6, 9, 12, 14, 93, 99, 0],
            "crc": [0, 1, 2**32 - 1],
            "csize": [0, 1, 2**32 - 1, 10**6],
            "usize": [0, 1, 2**32 - 1, 10**9],
        }
        return _patch_headers(model, field, draw(st.sampled_from(values[field])))
    entries = _entries(model)
    if level == "npy":
        name = draw(st.sampled_from(sorted(n for n in entries if n.endswith(".npy"))))
        entries[name] = draw(npy_damage(entries[name]))
    else:
        entries["metadata.json"] = draw(metadata_damage(entries["metadata.json"]))
    return _zip(list(entries.items()))
