"""The window network's math: finite differences, the sparse grad_L, a hand-worked example."""

import math
import warnings

import numpy as np
import pytest

from windowclf.nn.functions import ACTIVATIONS, OUTPUTS, log_softmax, logsumexp, sigmoid, softmax, softplus
from windowclf.nn.gradcheck import check_gradients, random_problem
from windowclf.nn.network import WindowNetwork
from windowclf.nn.rowgrad import accumulate_rows

ACTIVATION_NAMES = sorted(ACTIVATIONS)
OUTPUT_NAMES = sorted(OUTPUTS)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("output", OUTPUT_NAMES)
def test_backprop_matches_finite_differences_for_every_parameter(activation, output):
    net, ids, y = random_problem(activation=activation, output=output, vocab_size=9, extra_tables=[("E_caps", 5, 2)])
    errors = check_gradients(net, ids, y, l2=0.1)
    assert set(errors) == {"L", "E_caps", "W1", "b1", "W2", "b2"}
    assert max(errors.values()) < 1e-6, errors


def test_l2_on_embedding_rows_matches_finite_differences():
    net, ids, y = random_problem(vocab_size=9)
    anchors = {"L": np.full_like(net.params["L"], 0.25)}
    errors = check_gradients(net, ids, y, l2=0.05, l2_tables={"L": 0.3}, anchors=anchors)
    assert max(errors.values()) < 1e-6, errors


def test_problem_repeats_a_word_within_and_across_windows():
    _, ids, _ = random_problem()
    words = ids[0]
    assert np.all(words[0] == words[0, 0])  # several slots of one window
    assert np.sum(np.any(words == words[0, 0], axis=1)) > 1  # several windows


def test_grad_x_is_W1_transpose_delta_slice_by_slice():
    net, ids, y = random_problem(vocab_size=9, window=5, dim=3)
    fw = net.forward(ids)
    _, delta2 = OUTPUTS["softmax"][0](fw.z2, y)
    delta2 /= len(y)
    grads = net.backward(fw, delta2)
    delta1 = (1 - fw.a1**2) * (delta2 @ net.params["W2"])
    n = net.params["L"].shape[1]
    expected = np.zeros_like(net.params["L"])
    for i in range(len(y)):
        grad_x = net.params["W1"].T @ delta1[i]  # grad_x = W1^T delta1, one window at a time
        for j in range(net.window):
            expected[ids[0][i, j]] += grad_x[j * n : (j + 1) * n]
    np.testing.assert_allclose(grads["L"].to_dense(len(expected)), expected, rtol=1e-12, atol=1e-15)


def test_sparse_accumulation_equals_np_add_at_to_the_last_bit():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 50, size=600)
    ids[:40] = 7  # one word in many slots
    slices = rng.normal(size=(600, 5))
    got = accumulate_rows(ids, slices)
    reference = np.zeros((50, 5))
    np.add.at(reference, ids, slices)
    assert np.array_equal(got.to_dense(50), reference)
    assert np.array_equal(got.rows, np.unique(ids))


def test_grad_L_touches_only_the_batch_rows():
    net, ids, y = random_problem(vocab_size=40)
    _, grads = net.loss_and_grads(ids, y)
    assert set(grads["L"].rows.tolist()) == set(np.unique(ids[0]).tolist())


def test_hand_worked_example():
    # V = 3 words, n = 2, C = 3, H = 2, K = 2, tanh, softmax, no regularization.
    # L = [[1, 0], [0, 1], [1, 1]]; the window is words [0, 2, 0] (word 0 fills two slots), so
    #   x = [L0; L2; L0] = [1, 0, 1, 1, 1, 0].
    # W1 row 0 = [.5, 0, 0, 0, 0, 0], row 1 = [0, 0, 0, 0, -1, 0]; b1 = [0, .5]
    #   z1 = W1 x + b1 = [.5, -1 + .5] = [.5, -.5];  a1 = tanh(z1) = [t, -t],  t = tanh(.5)
    # W2 = I, b2 = 0:  z2 = [t, -t];  yhat = softmax(z2) = [s, 1 - s],  s = sigmoid(2t)
    # gold class y = 1:  J = -log(1 - s) = log(1 + e^{2t})
    # delta2 = yhat - e_y = [s, -s]
    # grad_W2 = delta2 a1^T = [[s t, -s t], [-s t, s t]];  grad_b2 = [s, -s]
    # W2^T delta2 = [s, -s];  f'(z1) = 1 - t^2;  delta1 = [d, -d] with d = s (1 - t^2)
    # grad_W1 = delta1 x^T = [d x; -d x];  grad_b1 = [d, -d]
    # grad_x = W1^T delta1 = d W1[0] - d W1[1] = [.5 d, 0, 0, 0, d, 0]
    #   slot 0 (word 0): [.5 d, 0];  slot 1 (word 2): [0, 0];  slot 2 (word 0): [d, 0]
    # grad_L: row 0 = [.5 d + d, 0] = [1.5 d, 0]; row 2 = [0, 0]; row 1 not in the batch.
    net = WindowNetwork([("L", 3, 2)], window=3, hidden=2, n_outputs=2, dtype=np.float64)
    net.params["L"] = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net.params["W1"] = np.array([[0.5, 0, 0, 0, 0, 0], [0, 0, 0, 0, -1.0, 0]])
    net.params["b1"] = np.array([0.0, 0.5])
    net.params["W2"] = np.eye(2)
    net.params["b2"] = np.zeros(2)
    J, g = net.loss_and_grads((np.array([[0, 2, 0]]),), np.array([1]))

    t = math.tanh(0.5)
    s = 1 / (1 + math.exp(-2 * t))
    d = s * (1 - t * t)
    x = np.array([1.0, 0, 1, 1, 1, 0])
    assert pytest.approx(math.log(1 + math.exp(2 * t)), abs=1e-12) == J
    np.testing.assert_allclose(g["W2"], [[s * t, -s * t], [-s * t, s * t]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g["b2"], [s, -s], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g["W1"], np.stack([d * x, -d * x]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(g["b1"], [d, -d], rtol=0, atol=1e-12)
    assert g["L"].rows.tolist() == [0, 2]
    np.testing.assert_allclose(g["L"].values, [[1.5 * d, 0], [0, 0]], rtol=0, atol=1e-12)


def test_l2_adds_lambda_W_and_half_lambda_norm():
    net, ids, y = random_problem()
    J0, g0 = net.loss_and_grads(ids, y, l2=0.0)
    J1, g1 = net.loss_and_grads(ids, y, l2=0.2)
    W1, W2 = net.params["W1"], net.params["W2"]
    assert pytest.approx(0.1 * (np.sum(W1**2) + np.sum(W2**2)), rel=1e-12) == J1 - J0
    np.testing.assert_allclose(g1["W1"] - g0["W1"], 0.2 * W1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(g1["b1"], g0["b1"], rtol=0, atol=0)  # biases are not regularized


@pytest.mark.parametrize("z", [1000.0, -1000.0])
def test_outputs_are_stable_at_large_scores(z):
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        scores = np.array([[z, 0.0, -z]])
        assert np.all(np.isfinite(softmax(scores)))
        assert np.all(np.isfinite(log_softmax(scores)))
        assert np.isfinite(logsumexp(scores))
        assert np.isfinite(sigmoid(np.array([z]))).all()
        assert np.isfinite(softplus(np.array([z, -z]))).all()
        for name in OUTPUTS:
            z2 = scores[:, :1] if name == "sigmoid" else scores
            losses, delta2 = OUTPUTS[name][0](z2, np.array([0]))
            assert np.all(np.isfinite(losses)) and np.all(np.isfinite(delta2))


def test_logistic_loss_at_large_margin_is_exact():
    losses, _ = OUTPUTS["sigmoid"][0](np.array([[-1000.0], [1000.0]]), np.array([1, 1]))
    assert losses[0] == pytest.approx(1000.0)  # -log sigmoid(-1000) = 1000 + log(1 + e^-1000)
    assert losses[1] == 0.0


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_forward_shapes(activation):
    net, ids, y = random_problem(activation=activation, window=5, hidden=3)
    fw = net.forward(ids)
    assert fw.x.shape == (len(y), 5 * 3)
    assert fw.z1.shape == fw.a1.shape == (len(y), 3)
    assert fw.z2.shape == (len(y), 5)
    np.testing.assert_allclose(net.predict_proba(ids).sum(axis=1), 1.0)


def test_sparse_accumulation_falls_back_to_scipys_constructor_for_unknown_matrix_layouts(monkeypatch):
    import windowclf.nn.rowgrad as rowgrad

    monkeypatch.setattr(rowgrad, "_KNOWN_CSC_FIELDS", set())
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 20, size=90)
    slices = rng.normal(size=(90, 3))
    reference = np.zeros((20, 3))
    np.add.at(reference, ids, slices)
    assert np.array_equal(accumulate_rows(ids, slices).to_dense(20), reference)
