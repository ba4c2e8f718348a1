"""Bad input at the command line: one line, exit 2, the file and line named, nothing written.

Every malformed input below goes through the real CLI (click's CliRunner) and must give exit
code 2, exactly one line on stderr starting with ``Error:`` that names the file and line (where
there is one) and what was expected, no traceback, and leave every file in the working
directory (an existing model at the ``-o`` path included) byte for byte and mtime unchanged.
A byte-order mark and CRLF line ends are not errors: they train the same model as plain files.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from support import run

# Words the vector files below use ("the", "oslo") occur in GOOD, so the vector reader parses
# their lines instead of skipping them as unwanted.
GOOD = (
    "Anna B-PER\nlives O\nin O\nOslo B-LOC\n. O\n\n"
    "The O\nbank O\nof O\nNorway B-ORG\nis O\nin O\nOslo B-LOC\n. O\n\n"
    "Anna B-PER\nSmith I-PER\nmet O\nthe O\nking O\n. O\n"
)
TINY = ["--epochs", "1", "--hidden", "5", "--dim", "3", "--window", "3", "--seed", "0", "--no-progress"]
TRAIN = ["train", "good.conll", "-o", "out.npz", *TINY]
CS224D = [*TRAIN, "--embeddings", "wordVectors.txt", "--embeddings-format", "cs224d", "--embeddings-vocab", "vocab.txt"]
DIRECTORY = object()  # a files value: make a directory there
FIFO = object()  # a files value: make a FIFO (named pipe) there


class Link(str):
    """A files value: a symbolic link to this target."""


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    """The bytes of a small valid model trained on GOOD."""
    where = tmp_path_factory.mktemp("model")
    (where / "good.conll").write_text(GOOD)
    result = run("train", where / "good.conll", "-o", where / "m.npz", *TINY, reraise=False)
    assert result.exit_code == 0, result.output
    return (where / "m.npz").read_bytes()


# ------------------------------------------------------------------ model-file builders


def _rewrite_model(model: bytes, replace: dict, drop=()) -> bytes:
    """The model zip with some entries replaced (name -> bytes) and some dropped."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name not in drop and name not in replace:
                dst.writestr(name, src.read(name))
        for name, data in replace.items():
            dst.writestr(name, data)
    return out.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _metadata(model: bytes, **changes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(model)) as z:
        meta = json.loads(z.read("metadata.json"))
    meta.update(changes)
    return json.dumps(meta).encode()


class _CreatesFile:
    """Unpickling this creates a file: the proof that something was unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _pickle_bomb(marker: Path) -> bytes:
    arr = np.empty(1, dtype=object)
    arr[0] = _CreatesFile(marker)
    return _npy(arr)


def _model_with_pickle(model, tmp):
    return _rewrite_model(model, {"param/W1.npy": _pickle_bomb(tmp / "UNPICKLED")})


def _model_with_wrong_shape(model, tmp):
    return _rewrite_model(model, {"param/W1.npy": _npy(np.zeros((2, 2), dtype=np.float32))})


def _model_with_nan(model, tmp):
    with zipfile.ZipFile(io.BytesIO(model)) as z:
        W1 = np.lib.format.read_array(io.BytesIO(z.read("param/W1.npy")))
    W1.flat[0] = np.nan
    return _rewrite_model(model, {"param/W1.npy": _npy(W1)})


def _model_from_the_future(model, tmp):
    return _rewrite_model(model, {"metadata.json": _metadata(model, format_version=99)})


def _model_without_metadata(model, tmp):
    return _rewrite_model(model, {}, drop={"metadata.json"})


def _model_with_incomplete_metadata(model, tmp):
    return _rewrite_model(model, {"metadata.json": b'{"format_version": 1}'})


def _truncated_model(model, tmp):
    return model[: len(model) // 2]


def _good_model(model, tmp):
    return model


def _binary_vectors_truncated(model, tmp):
    vector = np.ones(3, dtype="<f4").tobytes()
    return b"2 3\nthe " + vector + b"\noslo " + vector[:5]


def _patch_zip_headers(model: bytes, local_at: int, central_at: int, value: bytes) -> bytes:
    """Set a field of every local (PK\\3\\4) and central (PK\\1\\2) zip header to ``value``."""
    out = bytearray(model)
    for signature, at in ((b"PK\x03\x04", local_at), (b"PK\x01\x02", central_at)):
        i = out.find(signature)
        while i >= 0:
            out[i + at : i + at + len(value)] = value
            i = out.find(signature, i + 4)
    return bytes(out)


def _model_with_compression_method_14(model, tmp):  # LZMA: zipfile would decompress it
    return _patch_zip_headers(model, 8, 10, (14).to_bytes(2, "little"))


def _model_flagged_encrypted(model, tmp):
    return _patch_zip_headers(model, 6, 8, (1).to_bytes(2, "little"))


def _npy_header(shape, descr="<f4") -> bytes:
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1")


def _model_declaring_10_to_7_squared(model, tmp):
    return _rewrite_model(model, {"param/W1.npy": _npy_header((10**7, 10**7))})


def _model_with_300mb_zero_entry(model, tmp):
    out = io.BytesIO(_rewrite_model(model, {}))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z, z.open("param/Z.npy", "w", force_zip64=True) as f:
        f.write(_npy_header((300 * 2**20,), "|u1"))
        for _ in range(300):
            f.write(bytes(2**20))
    return out.getvalue()


def _model_asking_hidden_10_to_8(model, tmp):
    with zipfile.ZipFile(io.BytesIO(model)) as z:
        meta = json.loads(z.read("metadata.json"))
    meta["settings"]["hidden"] = 10**8
    return _rewrite_model(model, {"metadata.json": json.dumps(meta).encode()})


def _model_with_deep_json(model, tmp):
    return _rewrite_model(model, {"metadata.json": b"[" * 200_000 + b"]" * 200_000})


def _model_with_field(path, value):
    def build(model, tmp):
        with zipfile.ZipFile(io.BytesIO(model)) as z:
            meta = json.loads(z.read("metadata.json"))
        holder = meta
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
        return _rewrite_model(model, {"metadata.json": json.dumps(meta).encode()})

    return build


def _gzip_vectors(damage):
    def build(model, tmp):
        packed = gzip.compress(b"2 3\nthe 1 2 3\noslo 4 5 6\n", mtime=0)
        return damage(bytearray(packed))

    return build


def _flip(at):
    def damage(data):
        data[at] ^= 0x55
        return bytes(data)

    return damage


# ------------------------------------------------------------------------------ the table


@dataclass
class Case:
    """One malformed input: the files to create, the command line, and what the error says."""

    id: str
    files: dict
    args: list
    where: str | None  # "file:LINE:" (or "file:" when the problem has no line); None: no file
    expected: str  # the key phrase saying what was expected or wrong
    stdin: bytes | None = None
    extra_files: dict = field(default_factory=dict)
    after_reading: bool = False  # found once the data are read: stdout may hold train's data summary
    needs: str | None = None  # an optional package the command needs to get as far as the error


CASES = [
    # ---- CoNLL files
    Case(
        "conll-empty-file",
        {"bad.conll": b""},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll: ",
        "no sentences found; expected word/tag lines",
    ),
    Case(
        "conll-only-docstart",
        {"bad.conll": b"-DOCSTART- -X- O O\n\n-DOCSTART- -X- O O\n\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll: ",
        "no sentences found",
    ),
    Case(
        "conll-binary-garbage",
        {"bad.conll": bytes(range(256)) * 64},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:1:",
        "binary data",
    ),
    Case(
        "conll-inconsistent-columns",
        {"bad.conll": b"EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:4:",
        "expected 3 columns like line 1, found 2",
    ),
    Case(
        "conll-tab-file-line-without-a-tab",
        {"bad.conll": b"EU\tB-ORG\nrejects O\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:2:",
        "this line has no TAB",
    ),
    Case(
        "conll-invalid-utf8",
        {"bad.conll": b"Paris B-LOC\n\nZ\xfcrich B-LOC\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:3:",
        "cannot decode byte 0xfc",
    ),
    Case(
        "conll-10mb-single-line",
        {"bad.conll": b"a" * 10_000_000},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:1:",
        "line longer than 1,000,000 characters",
    ),
    Case(
        "conll-words-without-tags",
        {"bad.conll": b"Paris\nis\nnice\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:1:",
        "expected words and tags",
    ),
    Case(
        "conll-empty-field",
        {"bad.conll": b"Paris\t\tB-LOC\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:1:",
        "empty field in column 2",
    ),
    Case(
        "conll-malformed-tag",
        {"bad.conll": b"Paris B-LOC\nis O\n\nRome B-\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:4:",
        "B-",
    ),
    Case(
        "conll-tag-column-out-of-range",
        {},
        [*TRAIN, "--tag-column", "7"],
        "good.conll:1:",
        "tag_column=7 is out of range for a file with 2 columns",
    ),
    Case(
        "conll-bad-dev-file",
        {"dev.conll": b"Paris B-LOC\nis\n"},
        [*TRAIN, "--dev", "dev.conll"],
        "dev.conll:2:",
        "expected 2 columns like line 1, found 1",
    ),
    Case("conll-encoding-not-ascii-compatible", {}, [*TRAIN, "--encoding", "utf-16"], None, "ASCII-compatible"),
    Case("conll-unknown-encoding", {}, [*TRAIN, "--encoding", "klingon"], None, "unknown encoding 'klingon'"),
    Case(  # a folder may be a dataset written by save_to_disk: train reads it to say which it is not
        "conll-directory-as-file",
        {"adir": DIRECTORY},
        ["train", "adir", "-o", "out.npz", *TINY],
        "adir: ",
        "a folder, not a tagged file nor a dataset saved with save_to_disk",
    ),
    Case(
        "conll-missing-file",
        {},
        ["train", "nope.conll", "-o", "out.npz", *TINY],
        "nope.conll",
        "No such file or directory",
    ),
    Case(
        "conll-bad-predict-input",
        {"bad.conll": b"Paris B-LOC\nis O extra\n"},
        ["predict", "-m", "model.npz", "--input", "conll", "bad.conll"],
        "bad.conll:2:",
        "expected 2 columns like line 1, found 3",
    ),
    # ---- evaluate
    Case(
        "evaluate-tag-outside-the-scheme",
        {"gold.conll": b"Oslo B-LOC\nis O\n\nRome S-LOC\n"},
        ["evaluate", "-m", "model.npz", "gold.conll", "--scheme", "IOB2"],
        "gold.conll:4:",
        "S-LOC",
    ),
    Case(
        "evaluate-pred-file-with-one-column",
        {"pred.conll": b"Oslo\nis\n"},
        ["evaluate", "--pred", "pred.conll"],
        "pred.conll:1:",
        "expected gold and predicted tags in the last two columns",
    ),
    # ---- CS224d vocabulary files
    Case(
        "vocab-empty-file",
        {"vocab.txt": b"", "wordVectors.txt": b"1 2 3\n"},
        CS224D,
        "vocab.txt: ",
        "empty file; expected one word a line",
    ),
    Case(
        "vocab-blank-line",
        {"vocab.txt": b"UUUNKKK\n\nthe\n", "wordVectors.txt": b"0 0 0\n1 2 3\n4 5 6\n"},
        CS224D,
        "vocab.txt:2:",
        "empty line; expected one word a line",
    ),
    Case(
        "vocab-invalid-utf8",
        {"vocab.txt": b"UUUNKKK\nz\xfcrich\n", "wordVectors.txt": b"0 0 0\n1 2 3\n"},
        CS224D,
        "vocab.txt:2:",
        "cannot decode the word as utf-8",
    ),
    Case(
        "vocab-more-words-than-vectors",
        {"vocab.txt": b"UUUNKKK\nthe\noslo\n", "wordVectors.txt": b"0 0 0\n1 2 3\n"},
        CS224D,
        "wordVectors.txt: ",
        "2 lines of vectors but 3 words",
    ),
    Case(
        "vocab-fewer-words-than-vectors",
        {"vocab.txt": b"UUUNKKK\nthe\n", "wordVectors.txt": b"0 0 0\n1 2 3\n4 5 6\n"},
        CS224D,
        "wordVectors.txt:3:",
        "more lines than the 2 words",
    ),
    Case(
        "vocab-ragged-vectors",
        {"vocab.txt": b"UUUNKKK\nthe\n", "wordVectors.txt": b"0 0 0\n1 2\n"},
        CS224D,
        "wordVectors.txt:2:",
        "expected 3 values",
    ),
    # ---- word-vector files
    Case(
        "vectors-wrong-dimension",
        {"vec.txt": b"3 4\nthe 1 2 3 4\noslo 1 2 3\nanna 1 2 3 4\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:3:",
        "expected 4 values after the word, found 3",
    ),
    Case(
        "vectors-nan",
        {"vec.txt": b"the 0.1 nan 0.3\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:1:",
        "non-finite value 'nan'",
    ),
    Case(
        "vectors-inf",
        {"vec.txt": b"2 3\nthe 1 2 3\noslo 1 -inf 2\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:3:",
        "non-finite value '-inf'",
    ),
    Case(
        "vectors-non-numeric",
        {"vec.txt": b"the 1 2 3\noslo 1 x 3\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:2:",
        "non-numeric value 'x'",
    ),
    Case(
        "vectors-header-count-too-large",
        {"vec.txt": b"5 3\nthe 1 2 3\noslo 1 2 3\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:3:",
        "is the count in the header wrong",
    ),
    Case(
        "vectors-header-count-too-small",
        {"vec.txt": b"1 3\nthe 1 2 3\noslo 1 2 3\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:3:",
        "more vectors than the header's count 1",
    ),
    Case(
        "vectors-empty-file",
        {"vec.txt": b""},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:1:",
        "empty file; expected word vectors",
    ),
    Case(
        "vectors-word-without-values",
        {"vec.txt": b"the\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:1:",
        "expected a word followed by its values",
    ),
    Case(
        "vectors-binary-truncated",
        {"vec.bin": _binary_vectors_truncated},
        [*TRAIN, "--embeddings", "vec.bin", "--embeddings-format", "word2vec-binary"],
        "vec.bin: ",
        "vector 2 of 2",
    ),
    # ---- model files
    Case(
        "model-truncated-npz",
        {"bad.npz": _truncated_model},
        ["predict", "-m", "bad.npz"],
        "bad.npz: ",
        "a .npz zip archive expected",
        stdin=b"Hello.\n",
    ),
    Case(
        "model-object-array-is-never-unpickled",
        {"bad.npz": _model_with_pickle},
        ["predict", "-m", "bad.npz"],
        "bad.npz: ",
        "not a plain numeric array",
        stdin=b"Hello.\n",
    ),
    Case(
        "model-newer-format-version",
        {"bad.npz": _model_from_the_future},
        ["info", "bad.npz"],
        "bad.npz: ",
        "format version 99 is newer than this windowclf reads",
    ),
    Case(
        "model-wrong-array-shape",
        {"bad.npz": _model_with_wrong_shape},
        ["evaluate", "-m", "bad.npz", "good.conll"],
        "bad.npz: ",
        "param/W1 has shape (2, 2), expected",
    ),
    Case(
        "model-missing-metadata",
        {"bad.npz": _model_without_metadata},
        ["predict", "-m", "bad.npz"],
        "bad.npz: ",
        "no metadata.json entry",
        stdin=b"Hello.\n",
    ),
    Case(
        "model-incomplete-metadata",
        {"bad.npz": _model_with_incomplete_metadata},
        ["info", "bad.npz"],
        "bad.npz: ",
        "metadata is incomplete",
    ),
    Case(
        "model-holding-nan",
        {"bad.npz": _model_with_nan},
        ["export-embeddings", "-m", "bad.npz", "-o", "x.txt"],
        "bad.npz: ",
        "holds NaN or inf",
    ),
    Case(
        "model-not-a-zip",
        {"bad.npz": b"not a model\n"},
        ["predict", "-m", "bad.npz"],
        "bad.npz: ",
        "a .npz zip archive expected",
        stdin=b"Hello.\n",
    ),
    Case(
        "model-missing-file", {}, ["predict", "-m", "nope.npz"], "nope.npz: ", "no such model file", stdin=b"Hello.\n"
    ),
    Case(
        "model-directory-as-file",
        {"adir": DIRECTORY},
        ["predict", "-m", "adir"],
        None,
        "File 'adir' is a directory",
        stdin=b"Hello.\n",
    ),
    Case(
        "model-resume-from-a-damaged-file",
        {"bad.npz": _truncated_model},
        ["train", "good.conll", "--resume", "bad.npz", "-o", "out.npz", "--epochs", "3", "--no-progress"],
        "bad.npz: ",
        "a .npz zip archive expected",
    ),
    # ---- raw text
    Case(
        "text-not-utf8",
        {"latin1.txt": "Oslo is cold.\n\nZürich is in Switzerland.\n".encode("latin-1")},
        ["predict", "-m", "model.npz", "latin1.txt"],
        "latin1.txt:3:",
        "cannot decode the text as utf-8",
    ),
    Case(
        "text-not-utf8-on-stdin",
        {},
        ["predict", "-m", "model.npz"],
        "<stdin>",
        "pass --encoding",
        stdin="Zürich is in Switzerland.\n".encode("latin-1"),
    ),
    # ---- outputs that would destroy an input or a special file (issue 14, class 1)
    Case(
        "output-is-the-training-file",
        {},
        ["train", "good.conll", "-o", "good.conll", *TINY],
        "good.conll: ",
        "is the input TRAIN",
    ),
    Case(
        "output-is-the-dev-file",
        {"dev.conll": GOOD.encode()},
        ["train", "good.conll", "--dev", "dev.conll", "-o", "dev.conll", *TINY],
        "dev.conll: ",
        "is the input --dev",
    ),
    Case(
        "output-links-to-the-training-file",
        {"link.npz": Link("good.conll")},
        ["train", "good.conll", "-o", "link.npz", *TINY],
        "link.npz: ",
        "is the input TRAIN",
    ),
    Case(
        "export-output-is-the-model",
        {},
        ["export-embeddings", "-m", "model.npz", "-o", "model.npz"],
        "model.npz: ",
        "is the input -m",
    ),
    Case("output-is-a-fifo", {"fifo": FIFO}, [*TRAIN[:3], "fifo", *TINY], "fifo: ", "is a FIFO (named pipe)"),
    Case(
        "output-under-a-file",
        {},
        [*TRAIN[:3], "good.conll/out.npz", *TINY],
        "good.conll/out.npz: ",
        "a parent of this path is a file",
    ),
    Case(
        "plot-output-is-the-log",
        {},
        ["plot", "out.npz.log.jsonl", "-o", "out.npz.log.jsonl"],
        "out.npz.log.jsonl: ",
        "is the input LOG",
    ),
    Case(
        "plot-output-of-an-unknown-format",
        {},
        ["plot", "out.npz.log.jsonl", "-o", "curves.xyz"],
        None,
        "the extension names the image format",
        needs="matplotlib",
    ),
    # ---- sizes from headers and options, checked before allocating (class 2)
    Case(
        "model-npy-header-declares-10^7-x-10^7",
        {"bad.npz": _model_declaring_10_to_7_squared},
        ["info", "bad.npz"],
        "bad.npz: ",
        "declares shape (10000000, 10000000)",
    ),
    Case(
        "model-with-a-300mb-zero-entry",
        {"bad.npz": _model_with_300mb_zero_entry},
        ["info", "bad.npz"],
        "bad.npz: ",
        "unexpected array in model file: param/Z",
    ),
    Case(
        "model-metadata-asks-hidden-10^8",
        {"bad.npz": _model_asking_hidden_10_to_8},
        ["info", "bad.npz"],
        "bad.npz: ",
        "of memory;",
    ),
    Case(
        "vectors-header-2-by-10^11",
        {"vec.txt": b"2 100000000000\nthe 1 2\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:1:",
        "would need 745.1 GiB of memory",
    ),
    Case(
        "option-hidden-10^7-with-dim-1000",
        {},
        [*TRAIN, "--hidden", "10000000", "--dim", "1000"],
        None,
        "would need",
        after_reading=True,
    ),
    Case("gradcheck-batch-10^12", {}, ["gradcheck", "--batch", "1000000000000"], None, "would need"),
    # ---- the model loader (class 3)
    Case(
        "model-entry-compressed-with-method-14",
        {"bad.npz": _model_with_compression_method_14},
        ["info", "bad.npz"],
        "bad.npz: ",
        "compressed with zip method 14",
    ),
    Case(
        "model-entry-flagged-encrypted",
        {"bad.npz": _model_flagged_encrypted},
        ["info", "bad.npz"],
        "bad.npz: ",
        "is encrypted",
    ),
    Case(
        "model-metadata-200k-deep",
        {"bad.npz": _model_with_deep_json},
        ["info", "bad.npz"],
        "bad.npz: ",
        "nested deeper than 64",
    ),
    Case(
        "model-best-f1-is-a-string",
        {"bad.npz": _model_with_field(("best", "f1"), "abc")},
        ["info", "bad.npz"],
        "bad.npz: ",
        "best.f1 must be a finite number or null",
    ),
    Case(
        "model-history-of-strings",
        {"bad.npz": _model_with_field(("history",), ["x"])},
        ["info", "bad.npz"],
        "bad.npz: ",
        "history[0] must be a JSON object",
    ),
    Case(
        "model-malformed-random-state-on-resume",
        {"bad.npz": _model_with_field(("state", "rng", "state"), "x")},
        ["train", "good.conll", "--resume", "bad.npz", "--epochs", "3", "--no-progress"],
        "bad.npz: ",
        "state.rng must be a random state",
    ),
    Case(
        "model-tags-with-escape-sequences",
        {"bad.npz": _model_with_field(("tags", 0), "B-\x1b]0;pwned\x07PER")},
        ["predict", "-m", "bad.npz", "--format", "inline"],
        "bad.npz: ",
        "tags[0] must be",
        stdin=b"Anna.\n",
    ),
    Case(
        "model-is-a-fifo",
        {"fifo.npz": FIFO},
        ["predict", "-m", "fifo.npz"],
        "fifo.npz: ",
        "is a FIFO (named pipe); expected a model file",
        stdin=b"Anna.\n",
    ),
    Case(
        "model-links-to-dev-zero",
        {"zero.npz": Link("/dev/zero")},
        ["info", "zero.npz"],
        "zero.npz: ",
        "is a character device; expected a model file",
    ),
    # ---- write-only states, compression, logs (classes 5, 6, 8)
    Case(
        "vectors-header-dimension-0",
        {"vec.txt": b"2 0\nthe\noslo\n"},
        [*TRAIN, "--embeddings", "vec.txt"],
        "vec.txt:1:",
        "declares dimension 0",
    ),
    Case(
        "conll-vertical-tab-inside-a-token",
        {"bad.conll": b"An\x0bna B-PER\nlives O\n"},
        ["train", "bad.conll", "-o", "out.npz", *TINY],
        "bad.conll:1:",
        "a vertical tab (VT) inside the line",
    ),
    Case(
        "vectors-corrupt-gzip",
        {"vec.gz": _gzip_vectors(_flip(20))},
        [*TRAIN, "--embeddings", "vec.gz"],
        "vec.gz:",
        "damaged or truncated gzip data",
    ),
    Case(
        "vectors-truncated-gzip",
        {"vec.gz": _gzip_vectors(lambda data: bytes(data[:25]))},
        [*TRAIN, "--embeddings", "vec.gz"],
        "vec.gz:",
        "damaged or truncated gzip data",
    ),
    # (a model file is plotted from its own history: tests/system/test_practitioner.py)
    Case(
        "plot-of-a-binary-file",
        {"image.bin": b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary"},
        ["plot", "image.bin", "-o", "curves.png"],
        "image.bin:1:",
        "not UTF-8 text",
    ),
    # ---- options
    Case("option-seed-negative", {}, [*TRAIN, "--seed", "-1"], None, "--seed must be an integer >= 0"),
    Case("option-hidden-1e30", {}, [*TRAIN, "--hidden", "1e30"], None, "'1e30' is not a valid integer"),
    Case(
        "option-chunk-size-10^30",
        {},
        ["predict", "-m", "model.npz", "--chunk-size", "1" + "0" * 30],
        None,
        "--chunk-size",
    ),
    Case("option-encoding-rot13", {}, [*TRAIN, "--encoding", "rot13"], None, "'rot13' is a codec but not a text"),
    Case(
        "option-positive-tag-with-a-space",
        {},
        [*TRAIN, "--output", "sigmoid", "--positive-tag", "B LOC"],
        None,
        "--positive-tag must be a tag",
    ),
    # ---- options
    Case("option-window-even", {}, [*TRAIN, "--window", "4"], None, "window"),
    Case("option-window-zero", {}, [*TRAIN, "--window", "0"], None, "window"),
    Case("option-negative-learning-rate", {}, [*TRAIN, "--lr", "-0.1"], None, "lr must be a positive number"),
    Case("option-nan-learning-rate", {}, [*TRAIN, "--lr", "nan"], None, "lr must be a positive number"),
    Case("option-negative-l2", {}, [*TRAIN, "--l2", "-1e-4"], None, "l2 must be a number >= 0"),
    Case("option-unknown-activation", {}, [*TRAIN, "--activation", "swish"], None, "'swish' is not one of"),
    Case("option-batch-size-zero", {}, [*TRAIN, "--batch-size", "0"], None, "--batch-size must be an integer >= 1"),
    Case("option-dropout-one", {}, [*TRAIN, "--dropout-hidden", "1"], None, "--dropout-hidden must be in [0, 1)"),
    Case("option-momentum-zero", {}, [*TRAIN, "--momentum", "0"], None, "momentum"),
    Case("option-unknown-feature", {}, [*TRAIN, "--features", "caps,shoe-size"], None, "shoe-size"),
    Case("option-sigmoid-without-positive-tag", {}, [*TRAIN, "--output", "sigmoid"], None, "--positive-tag"),
    Case("option-chunk-size-zero", {}, ["predict", "-m", "model.npz", "--chunk-size", "0"], None, "--chunk-size"),
    Case(
        "option-resume-changes-the-window",
        {},
        [
            "train",
            "good.conll",
            "--resume",
            "model.npz",
            "-o",
            "out.npz",
            "--epochs",
            "3",
            "--window",
            "5",
            "--no-progress",
        ],
        None,
        "--window cannot change when resuming",
    ),
]


def _snapshot(root: Path) -> dict:
    """Every path under root: bytes and mtime of regular files, the target of links, the kind of others."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            out[str(path.relative_to(root))] = ("link", os.readlink(path))
        elif path.is_file():
            out[str(path.relative_to(root))] = (path.read_bytes(), st.st_mtime_ns)
        else:
            out[str(path.relative_to(root))] = oct(stat.S_IFMT(st.st_mode))
    return out


def _make_files(tmp: Path, files: dict, model: bytes) -> None:
    (tmp / "good.conll").write_text(GOOD)
    (tmp / "out.npz").write_bytes(model)  # an existing model at the -o path must survive
    (tmp / "out.npz.log.jsonl").write_text('{"epoch": 1, "train_loss": 0.5}\n')  # and its log
    (tmp / "model.npz").write_bytes(model)
    for name, content in files.items():
        if content is DIRECTORY:
            (tmp / name).mkdir()
            (tmp / name / "inside.conll").write_text(GOOD)
        elif content is FIFO:
            os.mkfifo(tmp / name)
        elif isinstance(content, Link):
            os.symlink(str(content), tmp / name)
        else:
            (tmp / name).write_bytes(content(model, tmp) if callable(content) else content)


def test_the_table_has_at_least_30_distinct_cases():
    assert len({c.id for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_naming_file_and_line_and_changes_no_file(
    case, model_bytes, tmp_path, monkeypatch
):
    if case.needs is not None:
        pytest.importorskip(case.needs, reason=f"{case.needs} is not installed: the command stops before this error")
    monkeypatch.chdir(tmp_path)  # relative names, so the message holds exactly "name:LINE:"
    _make_files(tmp_path, case.files, model_bytes)
    before = _snapshot(tmp_path)

    result = run(*case.args, input=case.stdin, reraise=False)

    detail = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}\n{result.exc_info}"
    assert result.exit_code == 2, detail
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), detail
    assert result.stdout == "" or case.after_reading, detail
    assert "Traceback" not in result.output, detail
    if case.where is not None:
        assert lines[0].startswith(f"Error: {case.where}"), detail
    assert case.expected in lines[0], detail
    assert _snapshot(tmp_path) == before, "a file was created, changed or touched"
    assert not (tmp_path / "UNPICKLED").exists()


def test_the_pickle_payload_would_run_if_unpickled(tmp_path):
    """The object-array case above can fail: its payload does create the marker when unpickled."""
    np.lib.format.read_array(io.BytesIO(_pickle_bomb(tmp_path / "UNPICKLED")), allow_pickle=True)
    assert (tmp_path / "UNPICKLED").exists()


# ------------------------------------------------------------------ not errors: BOM and CRLF


def _bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


PLAIN = {
    "good.conll": GOOD.encode(),
    "vec.txt": b"2 3\nthe 0.1 0.2 0.3\noslo -0.1 0.5 1.5\n",
    "vocab.txt": b"UUUNKKK\nthe\noslo\n",
    "wordVectors.txt": b"0 0 0\n0.1 0.2 0.3\n-0.1 0.5 1.5\n",
}
DECORATED = [
    ("conll", "bom", ["good.conll"], []),
    ("conll", "crlf", ["good.conll"], []),
    ("conll", "bom+crlf", ["good.conll"], []),
    ("word2vec", "bom+crlf", ["vec.txt"], ["--embeddings", "vec.txt"]),
    (
        "cs224d",
        "bom+crlf",
        ["vocab.txt", "wordVectors.txt"],
        ["--embeddings", "wordVectors.txt", "--embeddings-format", "cs224d", "--embeddings-vocab", "vocab.txt"],
    ),
]


@pytest.mark.parametrize(
    "kind, decoration, names, options", DECORATED, ids=[f"{kind}-{decoration}" for kind, decoration, _, _ in DECORATED]
)
def test_bom_and_crlf_train_the_same_model_as_plain_files(kind, decoration, names, options, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    models = {}
    for variant in ("plain", decoration):
        for name, data in PLAIN.items():
            if name in names and "bom" in variant:
                data = _bom(data)
            if name in names and "crlf" in variant:
                data = _crlf(data)
            Path(name).write_bytes(data)
        result = run("train", "good.conll", "-o", f"{variant}.npz", *TINY, *options, reraise=False)
        assert result.exit_code == 0, result.output
        models[variant] = _without_provenance(f"{variant}.npz")
    assert models[decoration] == models["plain"]


def _without_provenance(path) -> tuple:
    """A model file's every array and its metadata but the provenance (which records the
    training file's sha256, and a BOM changes the file's bytes)."""
    from windowclf.models.container import load_model_file

    arrays, meta = load_model_file(path)
    meta.pop("provenance", None)
    return {name: arr.tobytes() for name, arr in arrays.items()}, json.dumps(meta, sort_keys=True)
