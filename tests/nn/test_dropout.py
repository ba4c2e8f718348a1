"""Dropout on x and on the hidden layer: exact gradients, the right masks, training only."""

import numpy as np
import pytest
from support import sentence_problem, synthetic_task

from windowclf.errors import ConfigError
from windowclf.models.tagger import WindowTagger
from windowclf.nn import sll
from windowclf.nn.functions import ACTIVATIONS, OUTPUTS
from windowclf.nn.gradcheck import check_gradients, random_problem
from windowclf.nn.network import Dropout

ACTIVATION_NAMES = sorted(ACTIVATIONS)
OUTPUT_NAMES = sorted(OUTPUTS)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("output", OUTPUT_NAMES)
@pytest.mark.parametrize("p_input, p_hidden", [(0.3, 0.0), (0.0, 0.5), (0.25, 0.4)])
def test_backprop_through_dropout_matches_finite_differences(activation, output, p_input, p_hidden):
    net, ids, y = random_problem(activation=activation, output=output, extra_tables=[("E_caps", 4, 2)], seed=3)
    errors = check_gradients(net, ids, y, l2=1e-3, dropout=(p_input, p_hidden))
    assert set(errors) == {"L", "E_caps", "W1", "b1", "W2", "b2"}
    assert max(errors.values()) < 1e-6, errors


def test_sentence_objective_through_dropout_matches_finite_differences():
    net, ids, y, lengths, _ = sentence_problem(seed=2)

    def loss_and_grads():
        masks = Dropout(0.3, 0.5, np.random.default_rng(7))  # the same masks at every evaluation
        return sll.sentence_loss_and_grads(net, ids, y, lengths, l2=0.03, dropout=masks)

    errors = check_gradients(net, ids, y, loss_and_grads=loss_and_grads, eps=1e-5)
    assert set(errors) == {"L", "E_caps", "W1", "b1", "W2", "b2", "A", "A0"}
    assert max(errors.values()) < 1e-6, errors


def test_masks_drop_a_fraction_p_and_scale_the_rest_by_one_over_one_minus_p():
    masks = Dropout(0.3, 0.0, np.random.default_rng(0))
    m = masks.mask(0.3, (400, 500), np.dtype(np.float32))
    assert m.dtype == np.float32
    k = round(0.3 * 65536)  # p to the nearest 2^-16, the scale exactly one over the chance of keeping
    assert set(np.unique(m).tolist()) == {0.0, np.float32(65536 / (65536 - k))}
    assert abs(np.mean(m == 0) - 0.3) < 0.005
    assert masks.mask(0.0, (3, 4), np.dtype(np.float64)) is None


def test_forward_drops_the_masked_inputs_and_hidden_units():
    net, ids, _ = random_problem(seed=1)
    masks = Dropout(0.5, 0.5, np.random.default_rng(0))
    fw = net.forward(ids, masks)
    plain = net.forward(ids)
    assert np.array_equal(fw.x, plain.x * fw.x_mask)
    assert np.allclose(fw.z1, fw.x @ net.params["W1"].T + net.params["b1"])
    assert np.array_equal(fw.h, fw.a1 * fw.h_mask)
    assert np.allclose(fw.z2, fw.h @ net.params["W2"].T + net.params["b2"])
    assert np.any(fw.x_mask == 0) and np.any(fw.h_mask == 0)


def test_zero_probabilities_change_nothing_to_the_last_bit():
    net, ids, y = random_problem(extra_tables=[("E_caps", 4, 2)], seed=4)
    J0, g0 = net.loss_and_grads(ids, y, l2=1e-3)
    J1, g1 = net.loss_and_grads(ids, y, l2=1e-3, dropout=Dropout(0.0, 0.0, np.random.default_rng(0)))
    assert J0 == J1
    for name, g in g0.items():
        a, b = (g.values, g1[name].values) if hasattr(g, "values") else (g, g1[name])
        assert np.array_equal(a, b), name


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_probabilities_outside_zero_to_one_are_refused(p):
    with pytest.raises(ConfigError, match="dropout_hidden must be"):
        WindowTagger(dropout_hidden=p)
    with pytest.raises(ConfigError, match="p_input must be"):
        Dropout(p, 0.0, np.random.default_rng(0))


def test_dropout_is_training_only_and_resume_draws_the_same_masks(tmp_path):
    sentences, tags = synthetic_task(80)
    dev = synthetic_task(20, seed=1)
    common = dict(hidden=6, dim=4, seed=5, lr=0.05, dropout_input=0.2, dropout_hidden=0.3)
    straight = WindowTagger(epochs=4, **common).fit(sentences, tags, dev=dev)
    plain = WindowTagger(epochs=4, **dict(common, dropout_input=0.0, dropout_hidden=0.0)).fit(sentences, tags, dev=dev)
    assert straight.history[0]["train_loss"] != plain.history[0]["train_loss"]  # masks were applied
    # predictions use no masks: twice the same answer, and the network's unmasked scores
    assert straight.predict_proba(dev[0])[0].tolist() == straight.predict_proba(dev[0])[0].tolist()
    first = WindowTagger(epochs=2, **common).fit(sentences, tags, dev=dev)
    first.save(tmp_path / "half.npz")
    resumed = WindowTagger.load(tmp_path / "half.npz")
    assert resumed.settings.dropout_hidden == 0.3
    resumed.settings.epochs = 4
    resumed.fit(sentences, tags, dev=dev, resume=True)
    for name in straight.network.params:
        assert np.array_equal(resumed.network.params[name], straight.network.params[name]), name
