"""Generated hostile input, through the real command line: every promise holds outside the table.

Each test draws one family of cases (damaged CoNLL files, vector files, model files, raw text
and logs; hostile option values; outputs and standard streams that are traps) and checks the
contract of :mod:`hostile_contract` on each. The seed is fixed (the ``hostile`` profile is
derandomized), so CI tries the same cases every run; ``--hostile-examples N`` sets how many
each test draws (tests/conftest.py; README "Guarantees" says how many a CI run tries). The
fixtures (``world``, ``cli``, ``hostile_examples``) are in tests/hostile/conftest.py.
"""

from __future__ import annotations

import os

import click
import pytest
from hostile_cli import TINY
from hostile_contract import Case, check
from hostile_mutations import bytes_damage, gzip_damage, model_damage, text_damage, vector_header_damage
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.cli.main import main

pytestmark = [
    pytest.mark.slow,  # a warm fork server and hundreds of real processes
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the suite forks real processes (POSIX)"),
]

TRAIN = ["train", "train.conll", "-o", "new.npz", *TINY]


def _run(cli, world, examples, cases):
    """Check every case ``cases`` draws, each in a fresh copy of the world."""

    @settings(settings.get_profile("hostile"), max_examples=examples)
    @given(case=cases)
    def run(case):
        check(cli, world, case)

    run()


def _world_bytes(world, name):
    return (world / name).read_bytes()


# ------------------------------------------------------------------------------- CoNLL


@st.composite
def conll_cases(draw, world):
    target = draw(st.sampled_from(["train.conll", "dev.conll", "pred.conll"]))
    damaged = draw(text_damage(_world_bytes(world, target)))
    commands = {
        "train.conll": [
            TRAIN,
            [*TRAIN, "--dev", "dev.conll"],
            [*TRAIN, "--decoder", "sll", "--scheme", "IOBES"],
            [*TRAIN, "--separator", "tab"],
            [*TRAIN, "--features", "caps,suffix2,shape,prefix1"],
        ],
        "dev.conll": [
            [*TRAIN, "--dev", "dev.conll"],
            ["evaluate", "-m", "model.npz", "dev.conll", "--json"],
            ["predict", "-m", "model.npz", "--input", "conll", "dev.conll"],
            ["predict", "-m", "model.npz", "--input", "conll", "--format", "json", "dev.conll"],
            ["plot", "model.npz.log.jsonl", "-o", "c.png", "--confusion", "model.npz", "dev.conll"],
        ],
        "pred.conll": [
            ["evaluate", "--pred", "pred.conll"],
            ["evaluate", "--pred", "pred.conll", "--token-f1", "--confusion"],
        ],
    }[target]
    args = draw(st.sampled_from(commands))
    return Case(args, {target: damaged})


def test_damaged_conll_files_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, conll_cases(world))


# ----------------------------------------------------------------------------- vectors

VECTOR_FORMATS = {"vec.txt": "word2vec", "glove.txt": "glove", "vec.bin": "word2vec-binary", "vec.txt.gz": "word2vec"}


@st.composite
def vector_cases(draw, world):
    target = draw(st.sampled_from([*VECTOR_FORMATS, "vocab.txt", "wordVectors.txt"]))
    data = _world_bytes(world, target)
    if target == "vec.txt.gz":
        damaged = draw(gzip_damage(_world_bytes(world, "vec.txt")))
    elif target == "vec.txt":
        damaged = draw(st.one_of(text_damage(data), vector_header_damage(data)))
    elif target == "vec.bin":
        damaged = draw(st.one_of(bytes_damage(data), vector_header_damage(data)))
    else:
        damaged = draw(text_damage(data))
    if target in ("vocab.txt", "wordVectors.txt"):
        args = [
            *TRAIN,
            "--embeddings",
            "wordVectors.txt",
            "--embeddings-format",
            "cs224d",
            "--embeddings-vocab",
            "vocab.txt",
        ]
    else:
        fmt = draw(st.sampled_from(["auto", VECTOR_FORMATS[target], "glove", "word2vec-binary"]))
        args = [*TRAIN, "--embeddings", target, "--embeddings-format", fmt]
    if draw(st.booleans()):
        args.append("--keep-pretrained-vocab")
    return Case(args, {target: damaged})


def test_damaged_vector_files_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, vector_cases(world))


# ------------------------------------------------------------------------------ models

MODEL_COMMANDS = [
    ["info", "model.npz"],
    ["info", "--json", "model.npz"],
    ["predict", "-m", "model.npz", "text.txt"],
    ["predict", "-m", "model.npz", "--format", "json", "text.txt"],
    ["predict", "-m", "model.npz", "--format", "inline", "--input", "conll", "dev.conll"],
    ["evaluate", "-m", "model.npz", "dev.conll"],
    ["export-embeddings", "-m", "model.npz", "-o", "out.txt"],
    ["train", "train.conll", "--dev", "dev.conll", "--resume", "model.npz", "--epochs", "3", "--no-progress"],
    [
        "train",
        "train.conll",
        "--dev",
        "dev.conll",
        "--resume",
        "model.npz",
        "-o",
        "new.npz",
        "--epochs",
        "3",
        "--no-progress",
    ],
    *([["export-model", "-m", "model.npz", "-o", "slim.npz"]] if "export-model" in main.commands else []),
]


@st.composite
def model_cases(draw, world):
    args = draw(st.sampled_from(MODEL_COMMANDS))
    damaged = draw(model_damage(_world_bytes(world, "model.npz")))
    return Case(args, {"model.npz": damaged})


def test_damaged_model_files_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, model_cases(world))


# ------------------------------------------------------------------ raw text and logs


@st.composite
def text_and_log_cases(draw, world):
    if draw(st.integers(0, 3)) == 0:
        damaged = draw(text_damage(_world_bytes(world, "model.npz.log.jsonl")))
        return Case(["plot", "model.npz.log.jsonl", "-o", "c.png"], {"model.npz.log.jsonl": damaged})
    damaged = draw(text_damage(_world_bytes(world, "text.txt")))
    fmt = draw(st.sampled_from(["conll", "inline", "json"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16"]))
    if draw(st.booleans()):
        return Case(["predict", "-m", "model.npz", "--format", fmt, "--encoding", encoding], stdin=damaged)
    return Case(
        ["predict", "-m", "model.npz", "--format", fmt, "--encoding", encoding, "text.txt"], {"text.txt": damaged}
    )


def test_damaged_text_and_logs_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, text_and_log_cases(world))


# ----------------------------------------------------------------------------- options

INTS = [
    "-1",
    "0",
    "1",
    "2",
    "3",
    "5",
    "1e30",
    "1000000000000",
    "99999999999999999999999999",
    "nan",
    "",
    " 5",
    "٣",
    "0x10",
    "1_0",
    "+3",
    "-0",
]
FLOATS = [
    "inf",
    "-inf",
    "nan",
    "1e308",
    "1e-320",
    "-0.0",
    "0",
    "1",
    "0.5",
    "0.9999999999",
    "1e30",
    "1e400",
    "abc",
    "",
    "-1",
]
TEXTS = [
    "",
    " ",
    "rot13",
    "base64",
    "zlib",
    "utf-16",
    "utf-7",
    "cp037",
    "latin-1",
    "utf-8-sig",
    "idna",
    "\x1b[31m",
    "caps,shape",
    "caps,,caps",
    "suffix9",
    "x",
    "O",
    "B-LOC",
    "a b",
    "\u2028",
    "-1",
]
# Values that are valid but would make a case take minutes (an epoch count of a billion) are
# not hostile, only slow; these options draw from small ranges.
SLOW = {
    "epochs": ["-1", "0", "1", "2", "nan", "", "1e30", "3.5"],
    "patience": ["-1", "0", "1", "x"],
    "freeze_epochs": ["-1", "0", "1", "99999999999999999999", "x"],
    "batch": ["-1", "0", "1", "6", "1e30", "1000000000000"],
}
# Options the other families cover (paths) or that start services (Dask).
SKIP = {
    "help",
    "version",
    "model_path",
    "out_path",
    "resume_path",
    "dev_path",
    "embeddings_path",
    "embeddings_vocab",
    "output_dir",
    "workers",
    "scheduler",
    "block_size",
    "progress",
    "pred_path",
    "gold_path",
    "log_path",
    "inputs",
    "train_path",
    "allow_new_data",
}
OPTION_COMMANDS = {
    "train": TRAIN,
    "predict": ["predict", "-m", "model.npz", "text.txt"],
    "evaluate": ["evaluate", "-m", "model.npz", "dev.conll"],
    "gradcheck": ["gradcheck"],
    "export-embeddings": ["export-embeddings", "-m", "model.npz", "-o", "out.txt"],
    "info": ["info", "model.npz"],
    "plot": ["plot", "model.npz.log.jsonl", "-o", "c.png"],
}


def _values(param) -> list:
    name = param.name
    if name in SLOW:
        return SLOW[name]
    kind = param.type
    if isinstance(kind, click.Choice):
        return [*kind.choices, "", "IOB9", "\x1b"]
    if isinstance(kind, (click.types.IntParamType, click.IntRange)):
        return INTS
    if isinstance(kind, (click.types.FloatParamType, click.FloatRange)):
        return FLOATS
    return TEXTS


@st.composite
def option_cases(draw):
    command = draw(st.sampled_from(sorted(OPTION_COMMANDS)))
    params = [p for p in main.commands[command].params if isinstance(p, click.Option) and p.name not in SKIP]
    args = list(OPTION_COMMANDS[command])
    for param in draw(st.lists(st.sampled_from(params), min_size=1, max_size=3, unique_by=lambda p: p.name)):
        flag = max(param.opts, key=len)
        if param.is_flag:
            args.append(draw(st.sampled_from(param.opts + param.secondary_opts)))
        elif param.nargs == 1:
            args += [flag, draw(st.sampled_from(_values(param)))]
    return Case(args)


def test_hostile_option_values_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, option_cases())


# ------------------------------------------------------------------- outputs and streams

# Where -o may point: a new name, an existing file, an input, a directory, a FIFO, a device,
# a path under a file, links to an input. The contract lets only a legitimate output change;
# the guard must refuse the traps, or the inputs or the special files would change.
OUTPUT_TARGETS = {
    "new.out": (),
    "runs/deep/new.out": (),
    "model.npz": (),
    "model.npz.log.jsonl": (),
    "train.conll": (),
    "dev.conll": (),
    "adir": (("dir", "adir"),),
    "fifo": (("fifo", "fifo"),),
    "devnull": (("devnull", "devnull"),),
    "train.conll/x.out": (),
    "link": (("symlink", "link", "train.conll"),),
    "hard": (("hardlink", "hard", "dev.conll"),),
}
NOT_FILES = {"adir", "fifo", "devnull", "train.conll/x.out"}
SAME_FILE = {"link": "train.conll", "hard": "dev.conll"}


@st.composite
def output_cases(draw):
    out = draw(st.sampled_from(sorted(OUTPUT_TARGETS)))
    command, inputs = draw(
        st.sampled_from(
            [
                (["train", "train.conll", "--dev", "dev.conll", "-o", out, *TINY], {"train.conll", "dev.conll"}),
                (
                    [
                        "train",
                        "train.conll",
                        "--dev",
                        "dev.conll",
                        "--resume",
                        "model.npz",
                        "-o",
                        out,
                        "--epochs",
                        "3",
                        "--no-progress",
                    ],
                    {"train.conll", "dev.conll"},
                ),  # the resumed model may be the output
                (["export-embeddings", "-m", "model.npz", "-o", out], {"model.npz"}),
                *(
                    [(["export-model", "-m", "model.npz", "-o", out], {"model.npz"})]
                    if "export-model" in main.commands
                    else []
                ),
                (["plot", "model.npz.log.jsonl", "-o", out], {"model.npz.log.jsonl"}),
                (["plot", "model.npz.log.jsonl", "-o", f"{out}.png", "--confusion", "model.npz", "dev.conll"], set()),
            ]
        )
    )
    target = command[command.index("-o") + 1]
    trap = target in NOT_FILES or SAME_FILE.get(target, target) in inputs or target.startswith("train.conll/")
    stdin, stdout, stderr = (draw(st.sampled_from([None, None, "closed"])) for _ in range(3))
    return Case(
        command,
        specials=OUTPUT_TARGETS[out],
        outputs=() if trap else (target,),
        stdin=stdin,
        stdout=stdout or "file",
        stderr=stderr or "file",
    )


def test_outputs_that_are_traps_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, output_cases())


@st.composite
def stream_cases(draw):
    args = draw(
        st.sampled_from(
            [
                ["predict", "-m", "model.npz"],
                ["predict", "-m", "model.npz", "-"],
                ["predict", "-m", "model.npz", "--input", "conll", "-"],
                ["info", "model.npz"],
                ["evaluate", "-m", "model.npz", "dev.conll"],
                ["predict", "-m", "model.npz", "missing.npz"],
                ["info", "fifo"],
                ["predict", "-m", "zero", "text.txt"],
                ["evaluate", "-m", "model.npz", "zero"],
                ["info", "adir"],
                ["train", "zero", "-o", "new.npz", *TINY],
                ["evaluate", "--pred", "zero"],
                [*TRAIN, "--embeddings", "zero"],
                ["plot", "zero", "-o", "c.png"],
                ["export-embeddings", "-m", "zero", "-o", "x.txt"],
            ]
        )
    )
    stdin = draw(st.sampled_from([None, "closed", b"Anna lives in Oslo.\n", b"\xff\xfe\x00"]))
    stdout, stderr = (draw(st.sampled_from(["file", "file", "closed"])) for _ in range(2))
    specials = (("fifo", "fifo"), ("symlink", "zero", "/dev/zero"), ("dir", "adir"))
    return Case(args, stdin=stdin, stdout=stdout, stderr=stderr, specials=specials)


def test_standard_streams_and_special_files_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, stream_cases())
