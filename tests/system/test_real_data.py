"""The shared data sets read back with the figures their README states.

Every expected number here is copied from ../shared/data/README.md or
embeddings/glove.6B.50d/README.md; none was produced by this code.
"""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

from windowclf.formats.conll import Sentence, read_conll
from windowclf.formats.vectors import load_cs224d, load_vectors

pytestmark = pytest.mark.slow  # reading the real data sets and GloVe

GLOVE_SUBSET = "embeddings/glove.6B.50d/glove.6B.50d.conll03-train-dev.txt"
GLOVE_FULL = "embeddings/glove.6B.50d/glove.6B.50d.txt.gz"

SPLITS = {
    # file: (sentences, tokens)
    "conll2003/eng.train": (14041, 203621),
    "conll2003/eng.testa": (3250, 51362),
    "cs224d_ner/train": (14041, 203621),
    "cs224d_ner/dev": (3250, 51362),
}

TAG_COUNTS = {
    "conll2003/eng.train": {
        "O": 169578,
        "I-PER": 11128,
        "I-ORG": 10001,
        "I-LOC": 8286,
        "I-MISC": 4556,
        "B-MISC": 37,
        "B-ORG": 24,
        "B-LOC": 11,
    },
    "conll2003/eng.testa": {"O": 42759, "I-PER": 3149, "I-LOC": 2094, "I-ORG": 2092, "I-MISC": 1264, "B-MISC": 4},
    "cs224d_ner/train": {"O": 169578, "PER": 11128, "ORG": 10025, "LOC": 8297, "MISC": 4593},
    "cs224d_ner/dev": {"O": 42759, "PER": 3149, "LOC": 2094, "ORG": 2092, "MISC": 1268},
}

ENTITY_TOTALS = {"conll2003/eng.train": 23499, "conll2003/eng.testa": 5942}
ENTITY_COUNTS = {
    "conll2003/eng.train": {"LOC": 7140, "MISC": 3438, "ORG": 6321, "PER": 6600},
    "conll2003/eng.testa": {"LOC": 1837, "MISC": 922, "ORG": 1341, "PER": 1842},
}

# The CS224d files are CoNLL-2003 with the IOB prefix dropped.
CS224D_SOURCE = {"cs224d_ner/train": "conll2003/eng.train", "cs224d_ner/dev": "conll2003/eng.testa"}


@pytest.fixture(scope="module")
def corpus(data_dir):
    """Every split, read once: file name -> list of Sentence."""
    return {name: list(read_conll(data_dir / name)) for name in SPLITS}


@pytest.fixture(scope="module")
def train_word_counts(corpus):
    return collections.Counter(token.lower() for s in corpus["conll2003/eng.train"] for token in s.tokens)


def entity_counts(sentences) -> dict[str, int]:
    from windowclf.tags.entities import entity_spans

    return dict(collections.Counter(kind for s in sentences for kind, _, _ in entity_spans(s.tags)))


@pytest.mark.parametrize("name", SPLITS)
def test_sentence_and_token_counts_match_the_readme(corpus, name):
    sentences = corpus[name]
    assert (len(sentences), sum(len(s) for s in sentences)) == SPLITS[name]


@pytest.mark.parametrize("name", SPLITS)
def test_tag_counts_match_the_readme(corpus, name):
    assert collections.Counter(tag for s in corpus[name] for tag in s.tags) == TAG_COUNTS[name]


@pytest.mark.parametrize("name", ENTITY_COUNTS)
def test_conll2003_entity_counts_match_the_readme(corpus, name):
    counts = entity_counts(corpus[name])
    assert counts == ENTITY_COUNTS[name]
    assert sum(counts.values()) == ENTITY_TOTALS[name]


@pytest.mark.parametrize("name", CS224D_SOURCE)
def test_cs224d_is_conll2003_without_prefixes_so_its_entities_are_io_chunks(corpus, name):
    cs224d, conll = corpus[name], corpus[CS224D_SOURCE[name]]
    assert [s.tokens for s in cs224d] == [s.tokens for s in conll]
    assert [s.tags for s in cs224d] == [[tag.split("-")[-1] for tag in s.tags] for s in conll]
    # Without B- an entity directly after one of its type merges with it: IO chunks, fewer than IOB1's.
    io_counts = entity_counts(cs224d)
    assert io_counts == entity_counts([Sentence(s.tokens, [t.replace("B-", "I-") for t in s.tags]) for s in conll])
    assert all(io_counts[kind] <= n for kind, n in ENTITY_COUNTS[CS224D_SOURCE[name]].items())


def test_conll2003_and_cs224d_keep_their_layouts(corpus):
    assert corpus["conll2003/eng.train"][0].columns[0] == ["EU", "NNP", "I-NP", "I-ORG"]
    assert corpus["cs224d_ner/train"][0].columns[0] == ["EU", "ORG"]
    assert corpus["conll2003/eng.train"][0].lines[0] == 3


# --- GloVe ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def glove_subset(data_dir):
    return load_vectors(data_dir / GLOVE_SUBSET)


@pytest.fixture(scope="module")
def cs224d_vocab(data_dir):
    return (data_dir / "cs224d_ner/vocab.txt").read_text(encoding="utf-8").splitlines()


def digits_to_zero(word: str) -> str:
    return re.sub(r"\d", "0", word)


@pytest.fixture(scope="module")
def glove_full(data_dir, corpus, cs224d_vocab):
    """The 400,000-word gzip, streamed and filtered to the words the tests ask about."""
    words = {
        token.lower()
        for name in ("conll2003/eng.train", "conll2003/eng.testa")
        for s in corpus[name]
        for token in s.tokens
    }
    return load_vectors(data_dir / GLOVE_FULL, vocabulary=words | set(cs224d_vocab), normalize=[digits_to_zero])


def test_glove_subset_is_the_documented_size(glove_subset):
    assert glove_subset.vectors.shape == (20719, 50)
    assert glove_subset.index_to_key[0] == "the"
    assert glove_subset.vectors[0, :3].tolist() == np.array([0.418, 0.24968, -0.41242], dtype=np.float32).tolist()


def test_glove_subset_covers_train_as_documented(glove_subset, train_word_counts):
    coverage = glove_subset.coverage(train_word_counts, normalize=())
    assert coverage == (21009, 18415, 203621, 198989)


def test_full_glove_filtered_by_vocabulary_covers_train_as_documented(glove_full, train_word_counts):
    assert glove_full.coverage(train_word_counts, normalize=()) == (21009, 18415, 203621, 198989)


def test_full_glove_filtered_equals_the_subset_file_bit_for_bit(glove_full, glove_subset):
    rows = [glove_full.key_to_index[word] for word in glove_subset.index_to_key]
    np.testing.assert_array_equal(glove_full.vectors[rows].view(np.uint32), glove_subset.vectors.view(np.uint32))


def test_digit_fallback_finds_the_documented_extra_train_types(glove_full, train_word_counts):
    assert glove_full.coverage(train_word_counts, normalize=[digits_to_zero]).types_found == 18521


def test_cs224d_vocabulary_coverage_in_glove_is_as_documented(glove_full, cs224d_vocab):
    assert len(cs224d_vocab) == 100232
    assert glove_full.coverage(cs224d_vocab, normalize=()).types_found == 99955


def test_cs224d_vocab_pairs_line_by_line_with_a_vectors_file(data_dir, tmp_path):
    # wordVectors.txt itself is not in the data (README: too large), so pair vocab.txt with line numbers.
    vectors_path = tmp_path / "wordVectors.txt"
    vectors_path.write_text("".join(f"{i} {-i}\n" for i in range(100232)))
    wv = load_cs224d(data_dir / "cs224d_ner/vocab.txt", vectors_path)
    assert len(wv) == 100232
    assert wv.index_to_key[:4] == ["UUUNKKK", "the", ",", "."]
    # README: <s> is line 31 and </s> line 32, so rows 30 and 31.
    assert wv.key_to_index["<s>"] == 30 and wv.key_to_index["</s>"] == 31
    np.testing.assert_array_equal(wv.get("</s>"), [31, -31])
