"""Optimizers: seed 004's momentum, gradient descent, AdaGrad, sparse row updates."""

import itertools

import numpy as np
import pytest

from windowclf.errors import ConfigError
from windowclf.nn.gradcheck import random_problem
from windowclf.nn.optim import SGD, AdaGrad, Momentum, make_optimizer
from windowclf.nn.rowgrad import RowGrad
from windowclf.training.loop import run_epoch
from windowclf.training.objectives import WindowObjective


def _copy(params):
    return {k: v.copy() for k, v in params.items()}


def test_momentum_with_alpha_one_is_gradient_descent():
    net_a, ids, y = random_problem(vocab_size=9)
    net_b, _, _ = random_problem(vocab_size=9)
    sgd, mom = SGD(0.3), Momentum(0.3, alpha=1.0)
    for _ in range(5):
        sgd.update(net_a.params, net_a.loss_and_grads(ids, y, l2=0.01)[1])
        mom.update(net_b.params, net_b.loss_and_grads(ids, y, l2=0.01)[1])
    for name in net_a.params:
        assert np.array_equal(net_a.params[name], net_b.params[name]), name


def test_momentum_follows_seed_004_recursion():
    theta = {"w": np.array([1.0, -2.0])}
    opt = Momentum(0.5, alpha=0.25)
    g1, g2 = np.array([1.0, 2.0]), np.array([-3.0, 0.5])
    opt.update(theta, {"w": g1})
    phi1 = 0.25 * g1  # phi1 = (1 - a) * 0 + a g1
    np.testing.assert_array_equal(theta["w"], np.array([1.0, -2.0]) - 0.5 * phi1)
    opt.update(theta, {"w": g2})
    phi2 = 0.75 * phi1 + 0.25 * g2
    np.testing.assert_allclose(theta["w"], np.array([1.0, -2.0]) - 0.5 * phi1 - 0.5 * phi2, rtol=0, atol=1e-15)


def test_momentum_keeps_moving_rows_that_left_the_batch():
    theta = {"L": np.zeros((3, 2))}
    opt = Momentum(1.0, alpha=0.5)
    opt.update(theta, {"L": RowGrad(np.array([1]), np.array([[2.0, 2.0]]))})
    opt.update(theta, {"L": RowGrad(np.array([0]), np.array([[0.0, 0.0]]))})
    # row 1: phi = 1 then 0.5 -> theta = -1 - 0.5
    np.testing.assert_array_equal(theta["L"][1], [-1.5, -1.5])
    np.testing.assert_array_equal(theta["L"][2], [0.0, 0.0])


def test_full_batch_gradient_descent_lowers_the_loss_every_step():
    net, ids, y = random_problem(vocab_size=9, batch=20)
    opt = SGD(0.05)
    losses = []
    for _ in range(30):
        J, grads = net.loss_and_grads(ids, y, l2=1e-3)
        losses.append(J)
        opt.update(net.params, grads)
    assert all(b < a for a, b in itertools.pairwise(losses)), losses


def test_sgd_updates_only_the_rows_of_the_batch():
    net, ids, y = random_problem(vocab_size=30)
    before = net.params["L"].copy()
    SGD(0.1).update(net.params, net.loss_and_grads(ids, y)[1])
    changed = np.flatnonzero(np.any(net.params["L"] != before, axis=1))
    assert set(changed.tolist()) <= set(np.unique(ids[0]).tolist())
    untouched = np.setdiff1d(np.arange(30), np.unique(ids[0]))
    assert np.array_equal(net.params["L"][untouched], before[untouched])


def test_adagrad_first_step_moves_each_coordinate_by_lr():
    theta = {"w": np.array([0.0, 0.0]), "L": np.zeros((4, 2))}
    AdaGrad(0.1, eps=0.0).update(
        theta, {"w": np.array([3.0, -0.5]), "L": RowGrad(np.array([2]), np.array([[4.0, -1.0]]))}
    )
    np.testing.assert_allclose(theta["w"], [-0.1, 0.1])
    np.testing.assert_allclose(theta["L"][2], [-0.1, 0.1])
    assert np.all(theta["L"][[0, 1, 3]] == 0)


def test_per_parameter_learning_rate_for_L():
    net, ids, y = random_problem(vocab_size=9)
    before = _copy(net.params)
    SGD(0.1, lr_overrides={"L": 0.0}).update(net.params, net.loss_and_grads(ids, y)[1])
    assert np.array_equal(net.params["L"], before["L"])
    assert not np.array_equal(net.params["W1"], before["W1"])


def test_minibatch_epoch_is_deterministic_given_the_seed():
    results = []
    for _ in range(2):
        net, ids, y = random_problem(vocab_size=9, batch=40)
        _epoch(net, SGD(0.1), ids, y, 7, 5)
        results.append(net.params)
    for name in results[0]:
        assert np.array_equal(results[0][name], results[1][name])


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ConfigError, match="learning rate"):
        make_optimizer("sgd", lr)


def test_unknown_optimizer_is_refused():
    with pytest.raises(ConfigError, match="unknown optimizer"):
        make_optimizer("adam", 0.1)


def _epoch(net, optimizer, ids, y, batch_size, seed):
    objective = WindowObjective(net, ids, y)
    return run_epoch(objective, optimizer, objective.draw_order(np.random.default_rng(seed), batch_size))


@pytest.mark.parametrize(
    "schedule, expected",
    [("inverse", [0.1, 0.1 / 1.5, 0.1 / 2.0, 0.1 / 2.5]), ("linear", [0.1, 0.075 / 1.5, 0.05 / 2.0, 0.025 / 2.5])],
)
def test_each_epoch_trains_at_the_rate_its_schedule_gives(schedule, expected):
    from windowclf.models.tagger import WindowTagger

    sentences, tags = [["Anna", "lives", "in", "Oslo"]] * 8, [["PER", "O", "O", "LOC"]] * 8
    tagger = WindowTagger(epochs=4, lr=0.1, lr_decay=0.5, lr_schedule=schedule, seed=0).fit(sentences, tags)
    assert [h["lr"] for h in tagger.history] == pytest.approx(expected, rel=1e-12)


def test_an_unknown_schedule_is_refused():
    from windowclf.config.settings import Settings

    with pytest.raises(ConfigError, match="lr_schedule"):
        Settings(lr_schedule="cosine")
