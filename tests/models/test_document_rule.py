"""Documents only where they exist: one rule (Settings.document_sentences) for the library, the
command, Dask and resume, and model files from before it read as they were trained."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from windowclf import Ensemble, WindowTagger, read_conll
from windowclf.cli.main import main
from windowclf.errors import ConfigError
from windowclf.features.documents import document_blocks

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
TRAIN = list(read_conll(SAMPLE / "train.conll"))
DEV = list(read_conll(SAMPLE / "dev.conll"))
SENTENCES, TAGS = [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
DEV_SENTENCES, DEV_TAGS = [s.tokens for s in DEV], [s.tags for s in DEV]
BLOCK = 7  # small, so that the sample holds many blocks
READS = dict(features=["caps", "doccase", "gazetteer"], doc_vote=1.5, document_sentences=BLOCK)


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def small(**settings) -> WindowTagger:
    return WindowTagger(**{"window": 3, "hidden": 12, "epochs": 2, "seed": 0, **READS, **settings})


@pytest.fixture(scope="module")
def model():
    return small().fit(SENTENCES, TAGS, dev=(DEV_SENTENCES, DEV_TAGS))


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("rule") / "m.npz"
    model.save(path)
    return path


def blocks_of(n, size=BLOCK) -> list:
    return [i // size for i in range(n)]


def test_unmarked_training_data_is_read_as_blocks_the_same_given_or_not(model):
    # documents=None, one marked document, and the blocks themselves train the same model
    for documents in ([0] * len(SENTENCES), blocks_of(len(SENTENCES))):
        same = small().fit(SENTENCES, TAGS, dev=(DEV_SENTENCES, DEV_TAGS), documents=documents)
        for name, value in model.network.params.items():
            assert np.array_equal(value, same.network.params[name]), name
    # another neighbourhood is another model: the rule is what reads the documents
    other = small(document_sentences=BLOCK + 4).fit(SENTENCES, TAGS, dev=(DEV_SENTENCES, DEV_TAGS))
    assert not np.array_equal(other.network.params["W1"], model.network.params["W1"])


def test_every_reader_of_documents_reads_the_blocks(model):
    n = len(DEV_SENTENCES)
    assert model.documents_as_read(None, n) == blocks_of(n)
    assert model.documents_as_read(["a"] * 3 + ["b"] * 9, 12) == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2]
    tags = model.predict(DEV_SENTENCES)
    assert tags == model.predict(DEV_SENTENCES, documents=blocks_of(n))
    assert model.predict(DEV_SENTENCES, documents=[0] * n) == tags  # one marked document: blocks too
    alone = model.predict(DEV_SENTENCES, documents=list(range(n)))  # each sentence its own document
    assert tags != alone, "the sample must show what documents change"
    # the gazetteer leaves each training block's entities out, as it leaves a document's out
    column = [t[0] for t in model.lookup_tables()].index("gazetteer")
    left_out = model.encode(SENTENCES, own_tags=TAGS)[column]
    assert np.array_equal(left_out, model.encode(SENTENCES, blocks_of(len(SENTENCES)), own_tags=TAGS)[column])
    assert (
        model.evaluate(DEV_SENTENCES, DEV_TAGS)["overall"]
        == model.evaluate(DEV_SENTENCES, DEV_TAGS, documents=blocks_of(n))["overall"]
    )


def test_the_command_reads_files_by_the_models_rule(model, model_file, tmp_path):
    n = len(DEV_SENTENCES)
    # a CoNLL file without -DOCSTART- lines: evaluate reads it as the library reads documents=None
    out = cli("evaluate", "-m", model_file, SAMPLE / "dev.conll", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["f1"] == pytest.approx(model.evaluate(DEV_SENTENCES, DEV_TAGS)["overall"]["f1"])
    # marked documents are read as marked, cut into blocks
    marked = tmp_path / "marked.conll"
    starts = {0, 3, 20}
    with open(marked, "w", encoding="utf-8") as f:
        for i, s in enumerate(DEV):
            if i in starts:
                f.write("-DOCSTART- O\n\n")
            f.write("".join(f"{w} {t}\n" for w, t in zip(s.tokens, s.tags)) + "\n")
    docs = np.cumsum([i in starts for i in range(n)]).tolist()
    out = cli("predict", "-m", model_file, "--input", "conll", marked)
    assert [line.split()[-1] for line in out.stdout.splitlines() if line.strip()] == [
        t for tags in model.predict(DEV_SENTENCES, documents=docs) for t in tags
    ]
    # raw text marks no documents: blocks of the model's size from the input's start, whatever the chunks
    text = tmp_path / "dev.txt"
    text.write_text("\n".join(" ".join(s) for s in DEV_SENTENCES) + "\n", encoding="utf-8")
    expected = [t for tags in model.predict(DEV_SENTENCES) for t in tags]
    for chunk in ("1000", "3", "1"):
        out = cli("predict", "-m", model_file, "--sentence-per-line", "--chunk-size", chunk, text)
        assert out.exit_code == 0, out.output
        assert [line.split("\t")[-1] for line in out.stdout.splitlines() if line.strip()] == expected, chunk


def test_train_says_what_documents_it_read(tmp_path):
    out = cli(
        "train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--epochs", "1", "--hidden", "5",
        "--features", "caps,doccase", "--document-sentences", "50", "--no-progress",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    first = out.stdout.splitlines()[0]
    assert first.endswith(f"; no document markers, read as {-(-len(SENTENCES) // 50)} blocks of at most 50 sentences")
    marked = tmp_path / "marked.conll"
    marked.write_text("-DOCSTART- O\n\n" + "".join(f"{w} {t}\n" for w, t in zip(*[TRAIN[0].tokens, TRAIN[0].tags])))
    out = cli("train", marked, "-o", tmp_path / "n.npz", "--epochs", "1", "--hidden", "5", "--no-progress")
    assert out.stdout.splitlines()[0].endswith("; 1 document (-DOCSTART- lines)"), out.stdout


def test_a_resumed_fit_reads_documents_by_the_models_rule(tmp_path):
    one = small(epochs=1).fit(SENTENCES, TAGS)
    one.save(tmp_path / "one.npz")
    resumed = WindowTagger.load(tmp_path / "one.npz")
    resumed.set_params(epochs=2)
    resumed.fit(SENTENCES, TAGS, resume=True)  # the same unmarked data: the same fingerprint
    straight = small(epochs=2).fit(SENTENCES, TAGS)
    assert np.array_equal(resumed.network.params["W1"], straight.network.params["W1"])
    # the rule is part of what the weights were trained on: a resume may not change it
    out = cli(
        "train", SAMPLE / "train.conll", "--resume", tmp_path / "one.npz", "--epochs", "2",
        "--document-sentences", BLOCK + 1,
    )  # fmt: skip
    assert out.exit_code == 2 and "--document-sentences" in out.stderr, out.output


def _without_the_rule(path: Path, out: Path) -> None:
    """A copy of a model file as written before document_sentences existed."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "metadata.json":
                meta = json.loads(data)
                del meta["settings"]["document_sentences"]
                data = json.dumps(meta).encode("utf-8")
            dst.writestr(info, data)


def test_model_files_from_before_the_rule_read_unmarked_data_as_one_document(model_file, tmp_path):
    old = tmp_path / "old.npz"
    _without_the_rule(model_file, old)
    tagger = WindowTagger.load(old)
    assert tagger.settings.document_sentences is None
    n = len(DEV_SENTENCES)
    assert tagger.documents_as_read(None, n) == [0] * n
    assert tagger.predict(DEV_SENTENCES) == tagger.predict(DEV_SENTENCES, documents=[0] * n)
    assert document_blocks(["x", "x", "y"], tagger.settings.document_sentences) == [0, 0, 1]
    out = cli(
        "predict", "-m", old, "--sentence-per-line", "--chunk-size", "2", input="\n".join(map(" ".join, DEV_SENTENCES))
    )
    assert [line.split("\t")[-1] for line in out.stdout.splitlines() if line.strip()] == [
        t for tags in tagger.predict(DEV_SENTENCES) for t in tags
    ]


def test_an_ensembles_vote_needs_members_that_read_documents_alike(model):
    other = small(document_sentences=BLOCK + 2, seed=1).fit(SENTENCES, TAGS)
    with pytest.raises(ConfigError, match="document_sentences"):
        Ensemble([model, other])
    mixed = Ensemble([model, small(seed=2, doc_vote=1.5).fit(SENTENCES, TAGS)])
    assert mixed.document_size == BLOCK
    no_vote = [small(doc_vote=0.0, document_sentences=size, seed=3).fit(SENTENCES, TAGS) for size in (BLOCK, 11)]
    assert Ensemble(no_vote).document_size is None  # no common block: tagged whole
    assert Ensemble(no_vote).predict(DEV_SENTENCES) == Ensemble(no_vote).predict(
        DEV_SENTENCES, documents=[0] * len(DEV)
    )


def test_dask_bags_read_documents_by_the_models_rule(model_file, model):
    pytest.importorskip("distributed", reason="dask[distributed] is not installed: pip install 'windowclf[dask]'")
    import dask
    import dask.bag

    from windowclf.batch.on_dask import tag_bag

    with dask.config.set(scheduler="synchronous"):
        bag = dask.bag.from_sequence(DEV_SENTENCES, npartitions=1)
        assert tag_bag(bag, model_file, chunk_size=3).compute() == model.predict(DEV_SENTENCES)
        docs = [DEV_SENTENCES[:30], DEV_SENTENCES[30:]]
        tagged = tag_bag(dask.bag.from_sequence(docs, npartitions=2), model_file, documents=True).compute()
        assert tagged == [model.predict(d) for d in docs]
        assert tagged[0] == model.predict(DEV_SENTENCES[:30], documents=[0] * 30)
