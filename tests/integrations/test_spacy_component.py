"""The windowclf_ner spaCy component: found by name through the entry point, tags the Doc's own tokens
as predict tags them, sets doc.ents or a span group with confidences, runs under nlp.pipe with
batches and processes, saves into the pipeline folder, and scores as windowclf evaluate does."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from support import REPO, SPACY_EXTRA, TINY_TAGGER, read_sample

from windowclf import WindowTagger, convert, load_any
from windowclf.errors import ConfigError, ModelFileError

spacy = pytest.importorskip("spacy", reason=SPACY_EXTRA)
from spacy.tokens import Doc, DocBin  # noqa: E402
from spacy.training import Example  # noqa: E402

from windowclf.integrations.spacy_ner import CONFIDENCE, FACTORY, MODEL_FILE  # noqa: E402

TEXT = (
    "Anna Keller flew from Oslo to Lyon on Monday.  The European Union said  Germany would\n\n"
    "join the talks in Brussels. Peter Blackburn of Reuters reported it."
)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    sentences, tags = read_sample("train.conll")
    path = tmp_path_factory.mktemp("spacy") / "ner.npz"
    WindowTagger(epochs=4, **TINY_TAGGER).fit(sentences, tags).save(path)
    return path


def pipeline(model_path, *before, **config):
    nlp = spacy.blank("en")
    for name in before:
        nlp.add_pipe(name)
    nlp.add_pipe(FACTORY, config={"model": str(model_path), **config})
    return nlp


def described(spans) -> list:
    return [(s.start, s.end, s.label_, s._.get(CONFIDENCE)) for s in spans]


def expected_spans(doc, model) -> list:
    """What predict_entities gives for the Doc's sentences (whitespace tokens left out), in Doc indices."""
    parts = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    kept = [[t.i for t in part if not t.is_space] for part in parts]
    found = model.predict_entities([[doc[i].text for i in k] for k in kept])
    return [(k[e.token_start], k[e.token_end - 1] + 1, e.label, e.confidence) for k, es in zip(kept, found) for e in es]


def assert_same_entities(found, expected):
    """The same spans and labels; confidences to float32's rounding (a float32 network's scores of a
    word move in their last bits with the size of the batch it is scored in)."""
    assert [e[:3] for e in found] == [e[:3] for e in expected]
    assert [e[3] for e in found] == pytest.approx([e[3] for e in expected], rel=1e-5)


@pytest.mark.slow
def test_the_entry_point_names_the_factory_and_a_fresh_process_finds_it_by_name(model_path):
    points = {p.name: p.value for p in entry_points(group="spacy_factories")}
    assert points.get(FACTORY) == "windowclf.integrations.spacy_ner:make_windowclf_ner", (
        "the installed windowclf's metadata lacks the spacy_factories entry point: pip install -e ."
    )
    code = (
        "import json, spacy\n"  # nothing of windowclf imported: spaCy finds the factory by its name
        "nlp = spacy.blank('en')\n"
        f"nlp.add_pipe('windowclf_ner', config={{'model': {str(model_path)!r}}})\n"
        f"doc = nlp({TEXT!r})\n"
        "print(json.dumps([[e.start, e.end, e.label_, e._.windowclf_confidence] for e in doc.ents]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    nlp = pipeline(model_path)
    assert [tuple(e) for e in json.loads(result.stdout)] == described(nlp(TEXT).ents)


def test_the_entities_are_predicts_on_the_docs_own_tokens_sentence_by_sentence(model_path):
    model = load_any(model_path, training_state=False)
    for nlp in (pipeline(model_path), pipeline(model_path, "sentencizer")):
        doc = nlp(TEXT)
        assert any(t.is_space for t in doc)  # the double spaces and the blank line are tokens of spaCy's
        found = described(doc.ents)
        assert found and found == expected_spans(doc, model)
        assert all(0 < p <= 1 for *_, p in found)
    # a sentencizer cuts the Doc: the windows at its sentences' edges see padding, as predict's do
    assert len(list(pipeline(model_path, "sentencizer")(TEXT).sents)) == 3


def test_a_pipeline_with_entities_of_its_own_keeps_them_with_a_span_group(model_path):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "CITY", "pattern": "Oslo"}, {"label": "CITY", "pattern": "Lyon"}])
    nlp.add_pipe(FACTORY, config={"model": str(model_path), "spans_key": "windowclf"})
    doc = nlp(TEXT)
    assert [(e.text, e.label_) for e in doc.ents] == [("Oslo", "CITY"), ("Lyon", "CITY")]
    assert described(doc.spans["windowclf"]) == described(pipeline(model_path)(TEXT).ents)


@pytest.mark.slow
def test_without_confidences_the_entities_are_the_same_and_their_confidence_none(model_path, tmp_path):
    sentences, tags = read_sample("train.conll")
    one_vs_rest = tmp_path / "per.npz"  # a sigmoid model: its entities are read from O and its type
    WindowTagger(output="sigmoid", positive_tag="PER", epochs=4, **TINY_TAGGER).fit(sentences, tags).save(one_vs_rest)
    text = " ".join(" ".join(s) for s, t in zip(sentences, tags) if "B-PER" in t)  # names it learned
    for path in (model_path, one_vs_rest):
        everything = described(pipeline(path)(text).ents)
        assert everything
        assert described(pipeline(path, confidences=False)(text).ents) == [(*e[:3], None) for e in everything]
    with pytest.raises(ConfigError, match="min_confidence needs the confidences"):
        pipeline(model_path, confidences=False, min_confidence=0.5)


def test_min_confidence_leaves_out_the_less_likely_entities(model_path):
    everything = described(pipeline(model_path)(TEXT).ents)
    cut = sorted(p for *_, p in everything)[len(everything) // 2]
    assert described(pipeline(model_path, min_confidence=cut)(TEXT).ents) == [e for e in everything if e[3] >= cut]
    with pytest.raises(ConfigError, match="min_confidence must be in"):
        pipeline(model_path, min_confidence=1.5)


@pytest.mark.slow
def test_nlp_pipe_in_batches_and_two_processes_gives_what_one_doc_at_a_time_gives(model_path):
    texts = [TEXT] + [" ".join(s) for s in read_sample("dev.conll")[0][:60]]
    nlp = pipeline(model_path, "sentencizer")
    alone = [described(nlp(text).ents) for text in texts]
    batched = [described(d.ents) for d in nlp.pipe(texts, batch_size=7)]
    in_processes = [described(d.ents) for d in nlp.pipe(texts, batch_size=7, n_process=2)]
    assert in_processes == batched  # the same batches, in two processes: the same bits
    assert len(batched) == len(alone) and sum(map(len, alone)) > 20
    for found, expected in zip(batched, alone):
        assert_same_entities(found, expected)


@pytest.mark.slow
def test_to_disk_holds_the_model_bytes_and_spacy_load_reads_them_without_the_original(model_path, tmp_path):
    own = tmp_path / "ner.npz"
    own.write_bytes(model_path.read_bytes())
    nlp = pipeline(own, "sentencizer")
    expected = described(nlp(TEXT).ents)
    nlp.to_disk(tmp_path / "pipeline")
    saved = tmp_path / "pipeline" / FACTORY / MODEL_FILE
    assert saved.read_bytes()[:4] == b"PK\x03\x04"  # a model file (a zip of arrays and JSON), not a pickle
    own.unlink()
    again = spacy.load(tmp_path / "pipeline")
    assert described(again(TEXT).ents) == expected
    assert described(spacy.blank("en").from_bytes(nlp.to_bytes()) and again(TEXT).ents) == expected
    saved.write_bytes(saved.read_bytes()[:200])  # a damaged copy: the model file's own loader refuses it
    with pytest.raises(ModelFileError, match=MODEL_FILE):
        spacy.load(tmp_path / "pipeline")


def test_a_missing_model_is_named_when_the_component_first_runs(tmp_path):
    nlp = pipeline(tmp_path / "gone.npz")
    with pytest.raises(ModelFileError, match=r"gone\.npz: no such model file"):
        nlp("Anna lives in Oslo.")
    nlp = spacy.blank("en")
    nlp.add_pipe(FACTORY)
    with pytest.raises(ConfigError, match="no model"):
        nlp("Anna lives in Oslo.")


@pytest.mark.slow
def test_spacys_scores_on_a_docbin_corpus_equal_windowclf_evaluate(model_path, tmp_path):
    sentences, tags = read_sample("dev.conll")
    vocab = spacy.blank("en").vocab
    gold = DocBin()
    for tokens, sentence_tags in zip(sentences, tags):
        gold.add(Doc(vocab, words=tokens, ents=convert(sentence_tags, "IOB2")))
    gold.to_disk(tmp_path / "dev.spacy")
    nlp = pipeline(model_path)
    nlp.to_disk(tmp_path / "pipeline")
    nlp = spacy.load(tmp_path / "pipeline")
    docs = list(DocBin().from_disk(tmp_path / "dev.spacy").get_docs(nlp.vocab))
    examples = [
        Example(Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]), d) for d in docs
    ]
    scores = nlp.evaluate(examples)
    ours = load_any(model_path, training_state=False).evaluate(sentences, tags)
    for spacy_key, key in (("ents_p", "precision"), ("ents_r", "recall"), ("ents_f", "f1")):
        assert 100 * scores[spacy_key] == pytest.approx(ours["overall"][key], abs=1e-9), spacy_key
    for label, row in ours["per_type"].items():
        assert 100 * scores["ents_per_type"][label]["f"] == pytest.approx(row["f1"], abs=1e-9), label
    # spaCy's own command on the saved pipeline and the .spacy file (--gold-preproc: the corpus's tokens)
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "evaluate", str(tmp_path / "pipeline"), str(tmp_path / "dev.spacy")]
        + ["--gold-preproc", "--output", str(tmp_path / "metrics.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())  # written rounded to 8 decimals
    for spacy_key, key in (("ents_p", "precision"), ("ents_r", "recall"), ("ents_f", "f1")):
        assert 100 * metrics[spacy_key] == pytest.approx(ours["overall"][key], abs=1e-6), spacy_key
