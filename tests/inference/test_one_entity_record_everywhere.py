"""The four entity shapes reduced to one: the library's methods, every --format of predict, ensembles
and Dask give the same Entity record (docs/entities.md) for the same entity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from windowclf import Ensemble, Entity, WindowTagger, read_conll, split_sentences
from windowclf.cli.main import main
from windowclf.tags.record import ENTITY_FIELDS

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
TEXT = "Anna Keller flew from Oslo to Lyon.\r\n\r\nPeter Berg works for Siemens in Munich. Maria Lopez is in Madrid."


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    train = list(read_conll(SAMPLE / "train.conll"))
    tagger = WindowTagger(dim=20, hidden=30, epochs=4, seed=0).fit([s.tokens for s in train], [s.tags for s in train])
    path = tmp_path_factory.mktemp("model") / "m.npz"
    tagger.save(path)
    return tagger, path


def key(e: Entity) -> tuple:
    """An entity without its confidence (which the command line rounds) and file."""
    return e.sentence, e.label, e.text, e.token_start, e.token_end, e.char_start, e.char_end


def predict_cli(path, *args, input=None) -> str:
    result = CliRunner().invoke(main, ["predict", "-m", str(path), *map(str, args)], input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_library_surface_gives_the_same_record(model):
    tagger, _ = model
    found = tagger.tag_text(TEXT)
    assert found and all(isinstance(e, Entity) for e in found)
    assert all(TEXT[e.char_start : e.char_end] == e.text for e in found)
    assert tagger(TEXT) == found == next(tagger.pipe([TEXT]))
    one = Ensemble([tagger]).tag_text(TEXT)  # log of a mean of one softmax: the same, to rounding
    assert [key(e) for e in one] == [key(e) for e in found]
    assert all(abs(a.confidence - b.confidence) <= 1e-12 for a, b in zip(one, found))
    sentences = [[t.text for t in s] for s in split_sentences(TEXT)]
    by_sentence = tagger.predict_entities(sentences)
    with_tags = [entities for _, entities in tagger.predict(sentences, confidences=True)]
    assert by_sentence == with_tags
    # the same entities, without character offsets where the input was tokens
    assert [(e.sentence, e.label, e.token_start, e.token_end, e.confidence) for s in by_sentence for e in s] == [
        (e.sentence, e.label, e.token_start, e.token_end, e.confidence) for e in found
    ]
    assert all(
        e.char_start is None and e.text == " ".join(sentences[e.sentence][e.token_start : e.token_end])
        for s in by_sentence
        for e in s
    )


def test_every_format_of_predict_writes_the_same_record(model, tmp_path):
    tagger, path = model
    text_file = tmp_path / "news.txt"
    text_file.write_bytes(TEXT.encode("utf-8"))
    library = [key(e) for e in tagger.tag_text(TEXT)]
    entities = [json.loads(line) for line in predict_cli(path, "--format", "entities", text_file).splitlines()]
    sentences = [json.loads(line) for line in predict_cli(path, "--format", "json", text_file).splitlines()]
    nested = [e for s in sentences for e in s["entities"]]
    assert entities == nested  # one record, nested or a line each
    assert all(list(e) == list(ENTITY_FIELDS) and e["file"] == str(text_file) for e in entities)
    assert [tuple(e[f] for f in ENTITY_FIELDS[1:-1]) for e in entities] == library
    assert [e["confidence"] for e in entities] == [round(e.confidence, 6) for e in tagger.tag_text(TEXT)]
    assert [s["sentence"] for s in sentences] == list(range(len(sentences)))
    spans = [json.loads(line) for line in predict_cli(path, "--format", "spans-json", text_file).splitlines()]
    assert [(i, label, s["text"][a:b]) for i, s in enumerate(spans) for a, b, label in s["entities"]] == [
        (e[0], e[1], e[2]) for e in library
    ]
    inline = predict_cli(path, "--format", "inline", text_file)
    assert re.findall(r"\[(\w+) ([^\]]+)\]", inline) == [(e[1], e[2]) for e in library]
    # CoNLL input: token offsets and the sentence index place every entity; no character offsets
    conll = tmp_path / "dev.conll"
    conll.write_bytes((SAMPLE / "dev.conll").read_bytes())
    dev = [s.tokens for s in read_conll(conll)]
    from_file = [json.loads(line) for line in predict_cli(path, "--format", "entities", conll).splitlines()]
    assert [
        (e["sentence"], e["label"], e["text"], e["token_start"], e["token_end"], e["char_start"]) for e in from_file
    ] == [
        (e.sentence, e.label, e.text, e.token_start, e.token_end, None) for s in tagger.predict_entities(dev) for e in s
    ]


def test_dask_bags_give_the_same_records():
    dask_bag = pytest.importorskip("dask.bag", reason="dask is not installed: pip install 'windowclf[dask]'")
    from windowclf.batch.on_dask import tag_bag

    train = list(read_conll(SAMPLE / "train.conll"))
    tagger = WindowTagger(dim=10, hidden=12, epochs=2, seed=0).fit([s.tokens for s in train], [s.tags for s in train])
    sentences = [s.tokens for s in train[:40]]
    expected = tagger.predict_entities(sentences)
    bag = dask_bag.from_sequence(sentences, npartitions=3)
    got = tag_bag(bag, tagger, entities=True).compute(scheduler="sync")
    assert [[key(e) for e in found] for found in got] == [[(0, *key(e)[1:]) for e in s] for s in expected]
    documents = dask_bag.from_sequence([sentences[:25], sentences[25:]], npartitions=2)
    whole = tag_bag(documents, tagger, documents=True, entities=True).compute(scheduler="sync")
    assert whole == [
        [e for s in tagger.predict_entities(sentences[:25]) for e in s],
        [e for s in tagger.predict_entities(sentences[25:]) for e in s],
    ]


@pytest.mark.slow
def test_dask_tag_files_writes_the_records_predict_writes(model, tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] is not installed: pip install 'windowclf[dask]'"
    )
    from windowclf.batch.on_dask import tag_files

    _, path = model
    inputs = []
    for i, text in enumerate((TEXT, TEXT.replace("Oslo", "Bergen") * 3)):
        inputs.append(tmp_path / f"doc{i}.txt")
        inputs[-1].write_text(text, encoding="utf-8")
    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        records = tag_files(inputs, tmp_path / "out", path, client, output_format="entities", timeout=120)
    for source, record in zip(inputs, records):
        written = (tmp_path / "out" / record["output"]).read_text(encoding="utf-8")
        assert written == predict_cli(path, "--format", "entities", source)
        assert all(json.loads(line)["file"] == str(source) for line in written.splitlines())
