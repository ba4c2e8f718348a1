"""Column files as they come: the column rule of windowclf.formats.conll, counted in one line,
while truly malformed lines keep their one-line error."""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from windowclf.cli.main import main
from windowclf.errors import InputError
from windowclf.formats.conll import parse, parse_incr, read_conll, repairs_line
from windowclf.formats.tagged import read_tagged

REPO = Path(__file__).resolve().parents[2]


def read(data: bytes, **kwargs):
    repairs: Counter = Counter()
    sentences = list(parse_incr(io.BytesIO(data), path="f.conll", repairs=repairs, **kwargs))
    return [(s.tokens, s.tags) for s in sentences], repairs


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.mark.parametrize(
    "data, sentences, counts",
    [
        # a token with a trailing space before the TAB (BTC's "MH17 \tO"), and one before the tag
        (b"MH17 \tO\nPray\t B-PER\n", [(["MH17", "Pray"], ["O", "B-PER"])], {"spaces": 2}),
        # spaces inside the word of a TAB-separated line: one token, its spaces no-break spaces
        (b"ke s\tO\nRome\tB-LOC\n", [(["ke\u00a0s", "Rome"], ["O", "B-LOC"])], {"inner": 1}),
        (b"a  b c\tO\n", [(["a\u00a0\u00a0b\u00a0c"], ["O"])], {"inner": 1}),
        # an empty word, bare or as a space: no word to tag, the line left out
        (b"a\tO\n\tO\n \tO\nb\tO\n", [(["a", "b"], ["O", "O"])], {"empty": 2, "spaces": 1}),
        # a sentence of nothing else is no sentence at all
        (b"a\tO\n\n\tO\n\nb\tO\n", [(["a"], ["O"]), (["b"], ["O"])], {"empty": 1}),
        # TABs among the spaces of a space-separated file (and at its ends) separate as spaces do
        (
            b"EU NNP B-ORG\nrejects\tVBZ   O\n\tPeter NNP B-PER\t\n",
            [(["EU", "rejects", "Peter"], ["B-ORG", "O", "B-PER"])],
            {"tabs": 2},
        ),
        # four columns, TAB-separated, spaces around the middle ones
        (b"EU\t NNP \tI-NP\tB-ORG\n", [(["EU"], ["B-ORG"])], {"spaces": 1}),
        # a clean file is read as before, nothing counted
        (b"EU\tB-ORG\nrejects\tO\n", [(["EU", "rejects"], ["B-ORG", "O"])], {}),
    ],
)
def test_the_column_rule_reads_and_counts(data, sentences, counts):
    found, repairs = read(data)
    assert found == sentences
    assert dict(repairs) == counts


@pytest.mark.parametrize(
    "data, line, message",
    [
        (b"EU\tB-ORG\nrejects O\n", 2, "expected 2 columns like line 1, found 1; this line has no TAB"),
        (b"EU\tNNP\tB-ORG\nrejects\t\tO\n", 2, "empty field in column 2"),  # an empty field that is not the word
        (b"EU\tB-ORG\nrejects\tO\tX\n", 2, "expected 2 columns like line 1, found 3"),
        (b"EU B-ORG\nrejects VBZ O\n", 2, "expected 2 columns like line 1, found 3"),
        (b"EU\tB-ORG\n\tO\tX\n", 2, "expected 2 columns like line 1, found 3"),  # an empty word on a malformed line
        (b"EU\tB-ORG\nrejects\tB ORG\n", 2, "a space inside the field in column 2"),  # only a word may hold one
    ],
)
def test_malformed_lines_keep_their_one_line_error(data, line, message):
    with pytest.raises(InputError) as caught:
        read(data)
    assert caught.value.line == line and message in str(caught.value)


def test_the_count_is_one_line_from_the_library_and_from_the_command(tmp_path, caplog):
    path = tmp_path / "tweets.conll"
    path.write_bytes(b"MH17 \tO\nke s\tO\n\tO\n\nRT\tO\n@user\tB-PER\n\n" * 3)
    with caplog.at_level("INFO", logger="windowclf.formats.conll"):
        corpus = read_tagged(path)
    line = (
        f"{path}: read by the column rule: 3 lines with spaces around a field (taken off), "
        "3 with a space inside the token (one token, its spaces no-break spaces), 3 with an empty token (left out)"
    )
    assert corpus.warnings == [line]
    assert [r.getMessage() for r in caplog.records] == [line]
    assert [len(s) for s in corpus.sentences] == [2, 2] * 3
    out = cli("train", path, "-o", tmp_path / "m.npz", "--epochs", "1", "--hidden", "4", "--no-progress")
    assert out.exit_code == 0, out.output
    assert out.stderr.splitlines() == [f"Warning: {line}"]
    # predict reads CoNLL input by the same rule and says so; the tokens keep their columns
    pred = cli("predict", "-m", tmp_path / "m.npz", "--input", "conll", path)
    assert pred.exit_code == 0 and pred.stderr.splitlines() == [f"Warning: {line}"], pred.output
    rows = [r.split("\t") for r in pred.stdout.splitlines() if r]
    assert [r[0] for r in rows[:2]] == ["MH17", "ke\u00a0s"] and len(rows) == 12
    # and what predict writes reads back as it was written, with nothing left for the rule
    again: Counter = Counter()
    back = list(parse_incr(io.StringIO(pred.stdout), repairs=again))
    assert [s.tokens for s in back] == corpus.sentences and not again


def test_a_column_file_with_a_tab_where_a_space_separates_used_to_fail_and_now_reads(tmp_path):
    assert parse("-DOCSTART- O\n\nEU ORG\nrejects\tO\n")[0].tokens == ["EU", "rejects"]


def test_the_published_btc_files_load_unchanged():
    root = Path(os.environ.get("WINDOWCLF_DATA", REPO.parent / "shared" / "data")) / "btc"
    if not (root / "btc.train").is_file():
        pytest.skip(f"the Broad Twitter Corpus is not at {root} (set WINDOWCLF_DATA to the shared data folder)")
    counts = {}
    for name in ("btc.train", "btc.dev"):
        repairs: Counter = Counter()
        sentences = list(read_conll(root / name, repairs=repairs))
        counts[name] = (len(sentences), sum(map(len, sentences)), dict(repairs))
    # the corpus's README: 6,338 and 1,001 tweets, 99,933 and 15,027 tokens; btc.dev has four lines of
    # no token (one a tweet of nothing else) and four tokens with a space inside
    assert counts["btc.train"] == (6338, 99933, {"spaces": 17})
    assert counts["btc.dev"] == (1000, 15023, {"spaces": 1, "inner": 4, "empty": 4})
    assert repairs_line(Counter(counts["btc.dev"][2]), "btc.dev") == (
        "btc.dev: read by the column rule: 1 line with spaces around a field (taken off), "
        "4 with a space inside the token (one token, its spaces no-break spaces), 4 with an empty token (left out)"
    )
