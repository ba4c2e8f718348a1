"""data/sample: the checked-in corpus is what scripts/make_sample makes, and is usable."""

from __future__ import annotations

import doctest
import importlib.machinery
import importlib.util
import subprocess
import sys
from collections import Counter

import pytest
from support import REPO, SAMPLE

from windowclf.text.tokenize import split_sentences, tokenize

SCRIPT = REPO / "scripts" / "make_sample"


def load_script():
    # The script has no .py suffix, so it is loaded from its path explicitly.
    loader = importlib.machinery.SourceFileLoader("make_sample", str(SCRIPT))
    spec = importlib.util.spec_from_loader("make_sample", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_sample():
    return load_script()


@pytest.fixture(scope="module")
def source_sentences(make_sample):
    return make_sample.read_source(SAMPLE / "source.txt")


def read_split(name):
    sentences, current = [], []
    for line in (SAMPLE / name).read_text(encoding="utf-8").splitlines():
        if line:
            word, tag = line.split(" ")
            current.append((word, tag))
        elif current:
            sentences.append(current)
            current = []
    assert not current, f"{name} must end with a blank line"
    return sentences


def test_checked_in_splits_equal_what_the_script_builds(make_sample):
    for name, text in make_sample.build(SAMPLE / "source.txt").items():
        assert (SAMPLE / name).read_text(encoding="utf-8") == text, f"{name} is stale: run scripts/make_sample"


def test_script_run_writes_the_same_files_into_a_fresh_directory(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out-dir", str(tmp_path)], capture_output=True, text=True, check=True
    )
    for name in ("train.conll", "dev.conll"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes()
    assert result.stdout.startswith("| split | sentences |")


def test_readme_quotes_the_counts_the_script_prints(make_sample):
    assert make_sample.summary(SAMPLE / "source.txt") in (SAMPLE / "README.md").read_text(encoding="utf-8")


def test_every_entity_type_appears_at_least_80_times():
    chunks = Counter(
        tag[2:]
        for name in ("train.conll", "dev.conll")
        for s in read_split(name)
        for _, tag in s
        if tag.startswith("B-")
    )
    assert min(chunks[t] for t in ("PER", "ORG", "LOC", "MISC")) >= 80, chunks


def test_every_entity_type_appears_in_dev():
    chunks = Counter(tag[2:] for s in read_split("dev.conll") for _, tag in s if tag.startswith("B-"))
    assert min(chunks[t] for t in ("PER", "ORG", "LOC", "MISC")) >= 15, chunks


def test_at_least_360_sentences_split_about_80_20():
    n_train, n_dev = len(read_split("train.conll")), len(read_split("dev.conll"))
    assert n_train + n_dev >= 360
    assert 0.15 <= n_dev / (n_train + n_dev) <= 0.25


def test_no_sentence_is_in_both_splits():
    train = {tuple(s) for s in read_split("train.conll")}
    dev = {tuple(s) for s in read_split("dev.conll")}
    assert not {tuple(w for w, _ in s) for s in train} & {tuple(w for w, _ in s) for s in dev}


def test_tags_are_valid_iob2():
    for name in ("train.conll", "dev.conll"):
        for sentence in read_split(name):
            previous = "O"
            for word, tag in sentence:
                assert tag == "O" or (tag[:2] in ("B-", "I-") and tag[2:] in ("PER", "ORG", "LOC", "MISC")), (
                    name,
                    word,
                    tag,
                )
                if tag.startswith("I-"):
                    assert previous[2:] == tag[2:], (name, sentence)
                previous = tag


def test_source_tokens_are_what_the_project_tokenizer_makes(source_sentences):
    # The corpus claims CoNLL-2003 tokenization; re-tokenizing a line must not change it.
    for sentence in source_sentences:
        words = [word for word, _ in sentence]
        assert [t.text for t in tokenize(" ".join(words))] == words


def test_each_source_line_is_one_sentence(source_sentences):
    for sentence in source_sentences:
        assert len(split_sentences(" ".join(word for word, _ in sentence))) == 1, sentence


def test_example_paragraph_has_three_to_four_sentences():
    assert 3 <= len(split_sentences((SAMPLE / "example.txt").read_text(encoding="utf-8"))) <= 4


@pytest.mark.parametrize(
    "line, message",
    [
        ("[PER Anna Keller joined .", "never closed"),
        ("[XYZ Anna] joined .", "unknown entity type"),
        ("[PER Anna [ORG Keller]] .", "opens an entity inside"),
        ("Anna  joined .", "single spaces"),
        ("Anna jo]ined .", "stray bracket"),
    ],
    ids=["unclosed", "unknown-type", "nested", "double-space", "stray-bracket"],
)
def test_script_rejects_malformed_source_lines(make_sample, line, message):
    with pytest.raises(make_sample.SourceError, match=message):
        make_sample.parse_line(line, "source.txt:7")


def test_script_rejects_a_repeated_sentence_naming_both_lines(make_sample, tmp_path):
    source = tmp_path / "source.txt"
    source.write_text("# heading\n[LOC Oslo] won .\n\n[LOC Oslo] won .\n", encoding="utf-8")
    with pytest.raises(make_sample.SourceError, match=r"source.txt:4: same sentence as line 2"):
        make_sample.read_source(source)


def test_script_check_mode_reports_stale_files(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--out-dir", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "out of date" in result.stderr


def test_script_docstring_examples_hold(make_sample):
    result = doctest.testmod(make_sample)
    assert result.attempted > 0 and result.failed == 0
