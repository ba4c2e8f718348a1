"""Sentence-level log-likelihood: forward algorithm, Viterbi and gradients against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import sentence_problem

from windowclf.models.tagger import WindowTagger
from windowclf.nn import chain, chain_batches, sll
from windowclf.nn.gradcheck import check_gradients


def _brute_force(E, A, A0):
    """Every path of one sentence (E of shape (T, K)) with its score."""
    T, K = E.shape
    out = []
    for path in itertools.product(range(K), repeat=T):
        s = A0[path[0]] + sum(E[t, path[t]] for t in range(T)) + sum(A[path[t - 1], path[t]] for t in range(1, T))
        out.append((s, path))
    return out


def _tiny_batch(seed, lengths=(1, 2, 3, 4), K=3):
    rng = np.random.default_rng(seed)
    lengths = np.array(lengths)
    E, mask = chain_batches.pad(rng.normal(0, 2, size=(int(lengths.sum()), K)), lengths)
    A, A0 = rng.normal(0, 2, size=(K, K)), rng.normal(0, 2, size=K)
    return E, mask, A, A0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_Z_equals_brute_force_logsumexp_over_all_paths(seed):
    E, mask, A, A0 = _tiny_batch(seed)
    _, _, log_Z = chain.forward_backward(E, mask, A, A0)
    for b in range(E.shape[0]):
        scores = np.array([s for s, _ in _brute_force(E[b, mask[b]], A, A0)])
        expected = np.log(np.sum(np.exp(scores - scores.max()))) + scores.max()
        assert log_Z[b] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_forward_algorithm_is_stable_for_huge_scores():
    E, mask, A, A0 = _tiny_batch(0)
    _, _, log_Z = chain.forward_backward(E * 1e4, mask, A, A0)
    assert np.all(np.isfinite(log_Z))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_viterbi_equals_brute_force_argmax(seed):
    E, mask, A, A0 = _tiny_batch(seed, lengths=(1, 2, 3, 5), K=3)
    paths = chain.viterbi(E, mask, A, A0)
    for b in range(E.shape[0]):
        best = max(_brute_force(E[b, mask[b]], A, A0))[1]
        assert paths[b, mask[b]].tolist() == list(best)


def test_decode_matches_viterbi_in_input_order():
    rng = np.random.default_rng(5)
    lengths = np.array([3, 1, 4, 2, 3])
    scores = rng.normal(size=(int(lengths.sum()), 4))
    A, A0 = rng.normal(size=(4, 4)), rng.normal(size=4)
    E, mask = chain_batches.pad(scores, lengths)
    expected = chain.viterbi(E, mask, A, A0)[mask]
    assert chain_batches.decode(scores, lengths, A, A0, batch=2).tolist() == expected.tolist()


def test_marginals_sum_to_one_and_match_brute_force():
    E, mask, A, A0 = _tiny_batch(3)
    p = chain_batches.marginals(E, mask, A, A0)
    b = 3  # the 4-word sentence
    paths = _brute_force(E[b, mask[b]], A, A0)
    weights = np.exp(np.array([s for s, _ in paths]))
    weights /= weights.sum()
    expected = np.zeros((4, 3))
    for w, (_, path) in zip(weights, paths):
        expected[np.arange(4), list(path)] += w
    np.testing.assert_allclose(p[b, :4], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=2), mask.astype(float), rtol=1e-12)


def test_sll_gradients_match_finite_differences_on_scores_and_transitions():
    E, mask, A, A0 = _tiny_batch(7)
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, size=mask.shape)
    _, grad_E, grad_A, grad_A0 = sll.sll_loss_and_grads(E, mask, y, A, A0)
    eps = 1e-6
    for theta, grad in ((E, grad_E), (A, grad_A), (A0, grad_A0)):
        for i in np.ndindex(theta.shape):
            old = theta[i]
            theta[i] = old + eps
            plus = sll.sll_loss_and_grads(E, mask, y, A, A0)[0]
            theta[i] = old - eps
            minus = sll.sll_loss_and_grads(E, mask, y, A, A0)[0]
            theta[i] = old
            numeric = (plus - minus) / (2 * eps)
            assert abs(numeric - grad[i]) <= 1e-6 * max(abs(numeric) + abs(grad[i]), 1e-8) + 1e-9
    assert np.all(grad_E[~mask] == 0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_every_parameter_gradient_of_the_sentence_objective_matches_finite_differences(activation):
    net, ids, y, lengths, rng = sentence_problem(activation)
    anchors = {"L": rng.normal(size=net.params["L"].shape)}

    def loss_and_grads():
        return sll.sentence_loss_and_grads(net, ids, y, lengths, l2=0.03, l2_tables={"L": 0.2}, anchors=anchors)

    # eps 1e-5: the SLL objective is a mean over words, so some entries are ~1e-5 and
    # eps 1e-6 lets float64 round-off (~1e-16 / eps) reach a 1e-6 relative error on them.
    errors = check_gradients(net, ids, y, loss_and_grads=loss_and_grads, eps=1e-5)
    assert set(errors) == {"L", "E_caps", "W1", "b1", "W2", "b2", "A", "A0"}
    assert max(errors.values()) < 1e-6, errors


def test_sll_tagger_learns_a_transition_only_pattern_and_survives_save_load(tmp_path):
    # "x" is PER after "Mr" only through the tags: with window 1 the emission cannot see "Mr",
    # the transition I-PER -> I-PER can.
    sents = [["Mr", "x", "runs"], ["the", "x", "runs"]] * 30
    tags = [["I-PER", "I-PER", "O"], ["O", "O", "O"]] * 30
    tagger = WindowTagger(window=1, decoder="sll", epochs=40, lr=0.5, batch_size=4, seed=0).fit(sents, tags)
    assert tagger.predict([["Mr", "x", "runs"]]) == [["B-PER", "I-PER", "O"]]  # IOB1 tags: an IOB2 model
    path = tmp_path / "m.npz"
    tagger.save(path)
    loaded = WindowTagger.load(path)
    assert loaded.settings.decoder == "sll"
    np.testing.assert_array_equal(loaded.network.params["A"], tagger.network.params["A"])
    assert loaded.predict([["Mr", "x", "runs"], ["the", "x", "runs"]]) == tagger.predict(
        [["Mr", "x", "runs"], ["the", "x", "runs"]]
    )


def test_loading_a_model_with_misshapen_transitions_fails(tmp_path):
    from windowclf.errors import ModelFileError
    from windowclf.models.container import load_model_file, save_model_file

    sents, tags = [["Anna", "runs"]] * 5, [["PER", "O"]] * 5
    tagger = WindowTagger(decoder="sll", epochs=1).fit(sents, tags)
    path = tmp_path / "m.npz"
    tagger.save(path)
    arrays, meta = load_model_file(path)
    arrays["param/A"] = np.zeros((3, 3), dtype=np.float32)
    save_model_file(path, arrays, meta)
    with pytest.raises(ModelFileError, match="param/A"):
        WindowTagger.load(path)


def test_sll_tagger_probabilities_are_the_posterior_marginals_of_each_word():
    sents, tags = [["Anna", "lives", "in", "Oslo"], ["Bob", "runs"]] * 5, [["PER", "O", "O", "LOC"], ["PER", "O"]] * 5
    tagger = WindowTagger(decoder="sll", epochs=3, seed=0).fit(sents, tags)
    probs = tagger.predict_proba([["Anna", "runs"], ["Oslo"]])
    assert [p.shape for p in probs] == [(2, len(tagger.tags)), (1, len(tagger.tags))]
    np.testing.assert_allclose(np.concatenate(probs).sum(axis=1), 1.0, rtol=1e-5)


def test_sll_needs_the_softmax_output():
    from windowclf.errors import ConfigError

    with pytest.raises(ConfigError, match="sll"):
        WindowTagger(decoder="sll", output="sigmoid", positive_tag="LOC")


def test_sentence_batches_hold_whole_sentences_of_about_batch_size_words_each_once():
    lengths = np.array([5, 1, 7, 2, 2, 9, 3, 1])
    groups = sll.sentence_batches(lengths, 6, np.random.default_rng(0))
    assert sorted(np.concatenate(groups).tolist()) == list(range(8))
    assert all(lengths[g].sum() >= 6 for g in groups[:-1])
    assert all(lengths[g[:-1]].sum() < 6 for g in groups)  # no batch is longer than it needs to be


def test_posteriors_equal_marginals_in_input_order():
    rng = np.random.default_rng(6)
    lengths = np.array([3, 1, 4, 2])
    scores = rng.normal(size=(int(lengths.sum()), 3))
    A, A0 = rng.normal(size=(3, 3)), rng.normal(size=3)
    E, mask = chain_batches.pad(scores, lengths)
    np.testing.assert_allclose(
        chain_batches.posteriors(scores, lengths, A, A0, batch=3),
        chain_batches.marginals(E, mask, A, A0)[mask],
        rtol=1e-12,
    )


def test_sentence_batches_hold_sentences_of_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = np.minimum(rng.geometric(1 / 14, size=3000), 120)  # long-tailed, as in news text
    groups = sll.sentence_batches(lengths, 60, rng)
    padded = sum(len(g) * lengths[g].max() for g in groups)
    assert padded <= 1.1 * lengths.sum()  # random batches of the same size pad about twice that
    assert sorted(np.concatenate(groups).tolist()) == list(range(3000))
