"""Character features: gradients by finite differences, exact batching, and the model's round trip."""

from __future__ import annotations

import numpy as np
import pytest

from windowclf import WindowTagger
from windowclf.features.spellings import EDGE, MAX_CHARS, Spellings, build_char_vocab, spelling
from windowclf.inference.scoring import chunked_scores
from windowclf.nn.chars import char_forward
from windowclf.nn.gradcheck import check_gradients, random_problem, sentence_objective, sentence_problem

SENTS = [["Anna", "Keller", "lives", "in", "Oslo", "."], ["Lyon", "is", "far", "from", "Oslo", "."]] * 6
TAGS = [["B-PER", "I-PER", "O", "O", "B-LOC", "O"], ["B-LOC", "O", "O", "O", "B-LOC", "O"]] * 6


@pytest.mark.parametrize("activation", ["tanh", "relu", "hardtanh"])
@pytest.mark.parametrize("char_window", [1, 3, 5])
def test_every_parameter_gradient_with_character_features_matches_finite_differences(activation, char_window):
    net, ids, y = random_problem(
        char_filters=4,
        char_dim=3,
        char_window=char_window,
        activation=activation,
        batch=9,
        extra_tables=[("E_caps", 5, 2)],
    )
    errors = check_gradients(net, ids, y, l2=0.01, dropout=(0.2, 0.3))
    assert {"Q", "Wc", "bc"} <= set(errors)
    assert max(errors.values()) < 1e-7, errors


def test_the_sentence_objective_with_character_features_matches_finite_differences():
    net, ids, y, lengths = sentence_problem(char_filters=3, char_dim=2, batch=7)
    errors = check_gradients(net, ids, y, loss_and_grads=sentence_objective(net, ids, y, lengths, l2=0.01))
    assert {"Q", "Wc", "bc", "A", "A0"} <= set(errors)
    assert max(errors.values()) < 1e-7, errors


def test_a_words_features_have_the_same_bits_whatever_else_is_in_the_batch():
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcXYZ"), size=n)) for n in rng.integers(1, 40, size=300)]
    vocab = build_char_vocab([words])
    spellings = Spellings(words, vocab, 1)
    params = {
        "Q": rng.normal(size=(len(vocab), 4)).astype(np.float32),
        "Wc": rng.normal(size=(7, 12)).astype(np.float32),
        "bc": rng.normal(size=7).astype(np.float32),
    }
    alone, _ = char_forward(params, spellings.ids, spellings.lengths)
    for take in (np.arange(5), rng.permutation(len(spellings))[:77], np.array([3, 3, 250])):
        some, _ = char_forward(params, spellings.ids[take], spellings.lengths[take])
        assert some.tobytes() == alone[take].tobytes()


def test_spellings_keep_a_long_words_ends_and_mark_unknown_characters():
    assert spelling("a" * 20 + "b" * 20) == "a" * 15 + "b" * 15 and len(spelling("x" * 99)) == MAX_CHARS
    vocab = build_char_vocab([["aa", "bb"]])
    spellings = Spellings(["ab", "aé", ""], vocab, 1)
    edge, unk = vocab.key_to_index[EDGE], vocab.unk_id
    assert spellings.ids[1, :4].tolist() == [edge, vocab.key_to_index["a"], unk, edge]
    assert spellings.ids[2, 1] == unk and spellings.lengths.tolist() == [2, 2, 1, 1, 1]


def test_a_tagger_with_character_features_trains_saves_loads_and_scores_chunks_exactly(tmp_path):
    tagger = WindowTagger(char_filters=8, char_dim=5, hidden=10, epochs=3, seed=0, decoder="sll", scheme="IOBES")
    tagger.fit(SENTS, TAGS)
    tagger.save(tmp_path / "m.npz")
    back = WindowTagger.load(tmp_path / "m.npz")
    test = [["Keller", "flew", "to", "Lyonnais", "Xyzzy", "."], ["Oslo"]]
    assert back.predict(test) == tagger.predict(test)
    assert back.char_vocab.index_to_key == tagger.char_vocab.index_to_key
    ids = tagger.encode(SENTS + test)
    whole = chunked_scores(tagger.network, ids, 7, threads=2)
    for start in range(0, len(ids[0]), 7):
        part = tagger.network.scores(tuple(x[start : start + 7] for x in ids))
        assert part.tobytes() == whole[start : start + 7].tobytes()


def test_character_settings_are_checked():
    from windowclf.errors import ConfigError

    for bad in ({"char_filters": -1}, {"char_window": 4}, {"char_dim": 0}, {"char_filters": 2.5}):
        with pytest.raises(ConfigError):
            WindowTagger(**bad)
