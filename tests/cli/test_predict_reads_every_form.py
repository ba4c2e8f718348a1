"""Every form train reads, predict and evaluate read too, and the output keeps it; tags follow the
input's scheme; the model remembers how its data were read; directories, help texts, progress."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from windowclf.batch.jobs import Job, run_in_process
from windowclf.batch.segments import SEGMENT_BYTES
from windowclf.batch.shards import TagOptions, join_parts, model_ref, plan_blocks, tag_shard
from windowclf.cli.main import main
from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
TINY = ["--dim", "20", "--hidden", "30", "--seed", "0", "--epochs", "3", "--no-progress"]
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def run(*args, input=None, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, result.output
    return result


def to_iob1(tags):
    """IOB2 tags as IOB1 writes them: I- but where an entity follows one of its type."""
    out = []
    for i, t in enumerate(tags):
        if t.startswith("B-") and not (i and out[-1] != "O" and out[-1][2:] == t[2:]):
            t = "I-" + t[2:]
        out.append(t)
    return out


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The sample as a dataset hub exports it (integer tags, an id), and a model trained on it."""
    where = tmp_path_factory.mktemp("hub")
    for split in ("train", "dev"):
        with open(where / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for i, s in enumerate(read_conll(SAMPLE / f"{split}.conll")):
                record = {"id": f"{split}-{i}", "tokens": s.tokens, "ner_tags": [LABELS.index(t) for t in s.tags]}
                f.write(json.dumps(record) + "\n")
    model = where / "hub.npz"
    run("train", where / "train.jsonl", "--labels", ",".join(LABELS), "-o", model, *TINY)
    return where, model


@pytest.fixture(scope="module")
def conll_model(tmp_path_factory):
    model = tmp_path_factory.mktemp("conll") / "m.npz"
    run("train", SAMPLE / "train.conll", "-o", model, *TINY)
    return model


def test_a_json_lines_file_of_integer_tags_round_trips_through_predict(hub):
    where, model = hub
    out = run("predict", "-m", model, where / "dev.jsonl").stdout  # no --labels: the model remembers them
    records = [json.loads(line) for line in out.splitlines()]
    dev = [json.loads(line) for line in (where / "dev.jsonl").read_text().splitlines()]
    assert len(records) == len(dev)
    assert [(r["id"], r["tokens"], list(r)) for r in records] == [(d["id"], d["tokens"], list(d)) for d in dev]
    assert all(isinstance(t, int) for r in records for t in r["ner_tags"])
    tagger = WindowTagger.load(model)
    predicted = tagger.predict([d["tokens"] for d in dev])
    assert [[LABELS[i] for i in r["ner_tags"]] for r in records] == predicted
    # the output reads back as training data of the same form, and scores as evaluate scores
    scored = run("evaluate", "-m", model, where / "dev.jsonl").stdout
    assert scored == run("evaluate", "-m", model, SAMPLE / "dev.conll").stdout


def test_spans_records_are_written_back_as_spans_of_their_own_text(conll_model, tmp_path):
    text = ["Anna Keller flew from Oslo to Lyon. Peter Berg stayed.", "", "Siemens hired Maria Lopez in Madrid."]
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t, "entities": [], "n": i}) + "\n" for i, t in enumerate(text)))
    records = [json.loads(line) for line in run("predict", "-m", conll_model, path).stdout.splitlines()]
    assert [(r["text"], r["n"]) for r in records] == [(t, i) for i, t in enumerate(text)]
    tagger = WindowTagger.load(conll_model)
    for record, t in zip(records, text):
        assert record["entities"] == [[e.char_start, e.char_end, e.label] for e in tagger.tag_text(t)]
    entities = [
        json.loads(line) for line in run("predict", "-m", conll_model, "--format", "entities", path).stdout.splitlines()
    ]
    assert [e["sentence"] for e in entities] == sorted(e["sentence"] for e in entities)
    assert all(text[0][e["char_start"] : e["char_end"]] == e["text"] for e in entities if e["sentence"] < 2)


def test_input_that_looks_structured_is_never_tagged_as_prose(hub, tmp_path):
    where, model = hub
    renamed = tmp_path / "hub_dev.txt"
    renamed.write_bytes((where / "dev.jsonl").read_bytes())
    result = run("predict", "-m", model, renamed)
    assert "starts with a JSON record" in result.stderr
    assert result.stdout == run("predict", "-m", model, where / "dev.jsonl").stdout
    assert result.stdout == run("predict", "-m", model, input=renamed.read_bytes()).stdout  # stdin too
    broken = tmp_path / "broken.txt"
    broken.write_text('{"tokens": ["a"], "ner_tags": [0]}\n{"tokens": oops}\n', encoding="utf-8")
    failed = run("predict", "-m", model, broken, code=2)
    assert failed.stderr.strip().splitlines()[-1].startswith(f"Error: {broken}:2: not a JSON record")
    assert '"tokens"' not in failed.stdout  # not a word of it tagged as text
    prose = run("predict", "-m", model, "--input", "text", renamed).stdout  # unless asked
    assert prose.startswith("{\t")


@pytest.mark.slow
def test_a_json_lines_file_cut_into_blocks_joins_to_what_predict_writes(hub, tmp_path):
    where, model = hub
    one = (where / "dev.jsonl").read_bytes()
    path = tmp_path / "big.jsonl"
    path.write_bytes(one * (int(1.3 * SEGMENT_BYTES) // len(one) + 1))
    for fmt in ("auto", "entities"):
        expected = run("predict", "-m", model, "--format", fmt, path).stdout_bytes
        options = TagOptions(output_format=fmt, labels=tuple(LABELS))
        blocks = plan_blocks(path, options, 1)
        assert len(blocks) > 1 and all(b.input_format == "jsonl" for b in blocks)
        assert all(
            s.start == 0 or path.read_bytes()[s.start - 1 : s.start] == b"\n" for b in blocks for s in b.segments
        )
        reports = [tag_shard(model, b, tmp_path / f"part{b.index}", options) for b in blocks]
        joined = io.BytesIO()
        join_parts(reports, joined, options, path)
        assert joined.getvalue() == expected
    records = run_in_process(Job([str(path)], tmp_path / "out", model_ref(model), TagOptions(), block_bytes=1))
    assert records[0]["blocks"] > 1 and records[0]["output"] == "big.jsonl.jsonl"
    assert (tmp_path / "out" / "big.jsonl.jsonl").read_bytes() == run("predict", "-m", model, path).stdout_bytes


@pytest.mark.parametrize("scheme", ["IOB2", "IOBES"])
def test_predictions_for_a_tagged_file_are_written_in_its_scheme_so_scorers_agree(tmp_path, scheme):
    iob1 = tmp_path / "dev.iob1"
    with open(iob1, "w", encoding="utf-8") as f:
        for s in read_conll(SAMPLE / "dev.conll"):
            f.write("".join(f"{w} {t}\n" for w, t in zip(s.tokens, to_iob1(s.tags))) + "\n")
    model = tmp_path / "m.npz"
    run("train", SAMPLE / "train.conll", "-o", model, "--scheme", scheme, *TINY)
    out = tmp_path / "pred.conll"
    out.write_text(run("predict", "-m", model, "--input", "conll", iob1).stdout, encoding="utf-8")
    written = [t for s in read_conll(out) for t in s.tags]
    assert any(t.startswith("I-") for t in written) and not any(t[:2] in ("S-", "E-") for t in written)
    assert all(t.startswith("I-") or t == "O" or t.startswith("B-") for t in written)
    # conlleval's reading of the output (gold, predicted columns) gives evaluate's numbers
    assert run("evaluate", "--pred", out).stdout == run("evaluate", "-m", model, iob1).stdout
    asked = run("predict", "-m", model, "--input", "conll", "--scheme", "IOBES", iob1).stdout
    assert any(line.endswith(("S-PER", "S-LOC", "E-PER", "E-ORG")) for line in asked.splitlines())


def test_the_model_remembers_the_encoding_and_columns_it_was_trained_on(tmp_path):
    for split in ("train", "dev"):
        lines = (SAMPLE / f"{split}.conll").read_text(encoding="utf-8").splitlines()
        rows = [f"{line.split()[0]}é\tNN\t{line.split()[1]}" if line else "" for line in lines]
        (tmp_path / f"{split}.tsv").write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    model = tmp_path / "m.npz"
    run("train", tmp_path / "train.tsv", "-o", model, "--encoding", "latin-1", "--tag-column", "2", *TINY)
    info = run("info", model).stdout
    assert "latin-1" in info and "tag_column" in info
    scored = run("evaluate", "-m", model, tmp_path / "dev.tsv")  # no --encoding, no --tag-column
    assert "FB1" in scored.stdout
    run("evaluate", "-m", model, tmp_path / "dev.tsv", "--encoding", "utf-8", code=2)  # a flag still overrides
    assert run("predict", "-m", model, tmp_path / "dev.tsv").stdout.split("\n", 1)[0].split("\t")[:2] == ["FCé", "NN"]


def test_train_says_which_scheme_the_model_predicts_and_info_names_it(tmp_path):
    bio = tmp_path / "bio.conll"
    bio.write_bytes((SAMPLE / "train.conll").read_bytes())
    model = tmp_path / "m.npz"
    said = run("train", bio, "-o", model, *TINY).stdout
    assert "tags: written in IOB2; the model predicts IOB2" in said
    assert WindowTagger.load(model).settings.scheme == "IOB2"  # BIO training tags: no silent IO model
    assert "(IOB2; trained on IOB2 tags" in run("info", model).stdout
    assert 'scheme = "IOBES"' in run("info", "--toml", run_model(tmp_path, "--scheme", "BILUO")).stdout


def run_model(tmp_path, *args):
    model = tmp_path / "other.npz"
    run("train", SAMPLE / "train.conll", "-o", model, *TINY, *args)
    return model


def test_a_directory_is_walked_in_name_order_hidden_files_left_out(conll_model, tmp_path):
    news = tmp_path / "news"
    (news / "b").mkdir(parents=True)
    (news / ".git").mkdir()
    (news / "a.txt").write_text("Anna Keller flew to Oslo.\n", encoding="utf-8")
    (news / "b" / "c.txt").write_text("Peter Berg lives in Lyon.\n", encoding="utf-8")
    (news / ".hidden.txt").write_text("Not this.\n", encoding="utf-8")
    (news / ".git" / "x.txt").write_text("Nor this.\n", encoding="utf-8")
    walked = run("predict", "-m", conll_model, news).stdout
    assert walked == run("predict", "-m", conll_model, news / "a.txt", news / "b" / "c.txt").stdout
    out = tmp_path / "out"
    first = run("predict", "-m", conll_model, "--output-dir", out, news)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt.conll", "c.txt.conll", "manifest.json"]
    assert "\r" not in first.stderr and "skipped" not in first.stderr  # a log, not a terminal: no bar frames
    again = run("predict", "-m", conll_model, "--output-dir", out, news)
    assert (
        "2 files in" in again.stderr
        and f"2 skipped, done already: {news / 'a.txt'}, {news / 'b' / 'c.txt'}" in again.stderr
    )
    (news / "empty").mkdir()
    assert "no file to tag" in run("predict", "-m", conll_model, news / "empty", code=2).stderr


def test_predict_splits_raw_text_with_the_tokenizer_asked_for(conll_model):
    tweet = "@anna_k loves #Oslo :)\n"
    tokens = [
        line.split("\t")[0]
        for line in run("predict", "-m", conll_model, "--tokenizer", "social", input=tweet).stdout.splitlines()
        if line
    ]
    assert tokens == ["@anna_k", "loves", "#Oslo", ":)"]
    plain = [line.split("\t")[0] for line in run("predict", "-m", conll_model, input=tweet).stdout.splitlines() if line]
    assert plain[:2] == ["@", "anna"]


def _commands(group, path=()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


@pytest.mark.parametrize(
    "names", [names for names, _ in _commands(main)] + [()], ids=lambda n: " ".join(n) or "windowclf"
)
def test_every_commands_help_renders_cleanly(names):
    text = run(*names, "--help").stdout
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", text), repr(
        text
    )  # no CR, ESC, ...: a docstring's "\r\n" once garbled it
    assert all(len(line) <= 100 for line in text.splitlines())


def test_the_tokenizer_that_split_the_training_texts_splits_raw_text_by_default(tmp_path):
    texts = [
        ("@anna_k flies to #Oslo :)", [[0, 7, "PER"], [17, 22, "LOC"]]),
        ("#Lyon with @peter_b <3", [[0, 5, "LOC"], [11, 19, "PER"]]),
    ] * 30
    path = tmp_path / "tweets.jsonl"
    path.write_text("".join(json.dumps({"text": t, "entities": e}) + "\n" for t, e in texts), encoding="utf-8")
    model = tmp_path / "m.npz"
    said = run("train", path, "-o", model, "--tokenizer", "social", *TINY)
    assert "Warning" not in said.stderr  # every span falls on the social tokens' boundaries
    assert WindowTagger.load(model).training_input["tokenizer"] == "social"
    assert "tokenizer" in run("info", model).stdout
    tokens = [
        line.split("\t")[0]
        for line in run("predict", "-m", model, input="@maria_l in #Rome ;)\n").stdout.splitlines()
        if line
    ]
    assert tokens == ["@maria_l", "in", "#Rome", ";)"]
    assert WindowTagger.load(model).tag_text("@maria_l in #Rome")[0].text in ("@maria_l", "#Rome")
    assert "FB1" in run("evaluate", "-m", model, path).stdout  # its texts split the same way
