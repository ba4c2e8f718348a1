"""Decoding under the scheme's constraints, and entity confidences, against brute force over all paths."""

import itertools

import numpy as np
import pytest

from windowclf.errors import InputError
from windowclf.inference.decoding import Decoder, expected_calibration_error
from windowclf.tags.entities import entity_spans
from windowclf.tags.schemes import SCHEMES, tag_set, transition_constraints, validate_tags


def _valid(tags, scheme):
    try:
        validate_tags(list(tags), scheme)
    except InputError:
        return False
    return True


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_sentence_is_valid_exactly_when_its_start_pairs_and_end_are_allowed(scheme):
    tags = tag_set(["X", "Y"], scheme)
    start, pairs, end = transition_constraints(tags, scheme)
    for n in range(1, 5):
        for path in itertools.product(range(len(tags)), repeat=n):
            local = start[path[0]] and end[path[-1]] and all(pairs[a, b] for a, b in itertools.pairwise(path))
            assert local == _valid([tags[i] for i in path], scheme), [tags[i] for i in path]


def _all_paths(decoder, z2):
    """Every path's tags and probability under the decoder's chain, by enumeration."""
    E = decoder.log_scores(z2)
    T, K = E.shape
    paths, scores = [], []
    for path in itertools.product(range(K), repeat=T):
        s = decoder.A0[path[0]] + E[0, path[0]] + decoder.end[path[-1]]
        s += sum(decoder.A[a, b] + E[t + 1, b] for t, (a, b) in enumerate(itertools.pairwise(path)))
        paths.append(path)
        scores.append(s)
    scores = np.array(scores)
    finite = np.isfinite(scores)
    p = np.zeros(len(scores))
    p[finite] = np.exp(scores[finite] - scores[finite].max())
    return paths, scores, p / p.sum()


def _decoders(scheme, rng, constrain):
    tags = tag_set(["X", "Y"], scheme)
    K = len(tags)
    yield Decoder(tags, scheme, constrain=constrain)  # softmax: independent words
    yield Decoder(tags, scheme, constrain=constrain, transitions=(rng.normal(size=(K, K)), rng.normal(size=K)))  # SLL


@pytest.mark.parametrize("constrain", [True, False])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_decoding_is_the_best_path_and_confidence_the_probability_of_the_entity(scheme, constrain):
    rng = np.random.default_rng(SCHEMES.index(scheme))
    for decoder in _decoders(scheme, rng, constrain):
        K = len(decoder.chunk_tags)
        for T in (1, 2, 4):
            z2 = rng.normal(scale=2.0, size=(T, K))
            paths, scores, p = _all_paths(decoder, z2)
            best = decoder.decode(z2, [T])
            assert scores[paths.index(tuple(best.tolist()))] == pytest.approx(scores.max(), abs=1e-9)
            if constrain:
                assert _valid([decoder.chunk_tags[i] for i in best], scheme)
            for entity_type, s, e, confidence in decoder.entities(z2, [T], best)[0]:
                expected = sum(
                    q
                    for path, q in zip(paths, p)
                    if (entity_type, s, e) in entity_spans([decoder.chunk_tags[i] for i in path])
                )
                assert confidence == pytest.approx(expected, rel=1e-9, abs=1e-12)
            marginals = decoder.marginals(z2, [T])
            for t in range(T):
                for j in range(K):
                    expected = sum(q for path, q in zip(paths, p) if path[t] == j)
                    assert marginals[t, j] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "IOBES"])
def test_constrained_predictions_are_well_formed_on_long_sentences(scheme):
    rng = np.random.default_rng(3)
    tags = tag_set(["PER", "LOC", "ORG", "MISC"], scheme)
    lengths = [1, 2, 7, 40, 120]
    z2 = rng.normal(scale=3.0, size=(sum(lengths), len(tags)))
    for transitions in (None, (rng.normal(size=(len(tags),) * 2), rng.normal(size=len(tags)))):
        free = Decoder(tags, scheme, transitions=transitions, constrain=False).decode(z2, lengths)
        bound = Decoder(tags, scheme, transitions=transitions).decode(z2, lengths)
        cuts = np.cumsum(lengths)[:-1]
        assert all(_valid([tags[i] for i in c], scheme) for c in np.split(bound, cuts))
        assert not all(_valid([tags[i] for i in c], scheme) for c in np.split(free, cuts))


def test_unconstrained_softmax_decoding_is_each_words_argmax():
    rng = np.random.default_rng(0)
    tags = tag_set(["PER", "LOC"], "IOBES")
    z2 = rng.normal(size=(50, len(tags))).astype(np.float32)
    assert np.array_equal(Decoder(tags, "IOBES", constrain=False).decode(z2, [50]), np.argmax(z2, axis=1))
    # IO has no constraint, so constraining changes nothing there
    io = tag_set(["PER", "LOC"], "IO")
    z2 = rng.normal(size=(50, len(io)))
    assert np.array_equal(Decoder(io, "IO").decode(z2, [50]), np.argmax(z2, axis=1))


def test_expected_calibration_error():
    rng = np.random.default_rng(0)
    conf = rng.uniform(size=20000)
    calibrated = rng.uniform(size=conf.size) < conf
    assert expected_calibration_error(conf, calibrated)["ece"] < 2.0
    overconfident = expected_calibration_error(np.full(100, 0.9), np.arange(100) < 50)
    assert overconfident["ece"] == pytest.approx(40.0)
    assert overconfident["bins"][9]["entities"] == 100
    assert expected_calibration_error([1.0], [True])["bins"][9]["entities"] == 1  # 1 falls in the last bin
