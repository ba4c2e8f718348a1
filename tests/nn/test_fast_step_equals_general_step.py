"""The per-example SGD fast path (windowclf/nn/window_sgd.py) against the general step, bit for bit.

Every configuration trains two copies of one network on the same windows: one through
``one_window_sgd``'s step, one through ``loss_and_grads`` and ``SGD.update``; after every step
the losses and all parameters must be equal to the last bit."""

import dataclasses
import itertools

import numpy as np
import pytest

import windowclf.training.objectives
from windowclf.errors import DivergenceError
from windowclf.nn.network import Dropout, WindowNetwork
from windowclf.nn.optim import SGD, AdaGrad, Momentum
from windowclf.nn.window_sgd import one_window_sgd
from windowclf.training.loop import run_epoch
from windowclf.training.objectives import FAST_STEP_OPTIONS, Options, WindowObjective

START, END = 0, 1  # ids of <s> and </s> in these vocabularies


def _problem(dtype, activation, output, window=3, caps=True, n_windows=60, seed=0, vocab=12):
    tables = [("L", vocab, 4)] + ([("E_caps", 3, 2)] if caps else [])
    K = 1 if output == "sigmoid" else 4
    net = WindowNetwork(tables, window, 6, K, activation=activation, output=output, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, vocab, size=(n_windows, window))
    h = window // 2
    ids[0] = [START] * h + [4] + [END] * h  # <s> w </s>: both paddings distinct from the word
    ids[1, :2] = 3  # "the the": one word in two slots
    ids[2] = 2  # one word in every slot
    ids[3, -1] = ids[3, 0]  # repeats apart
    inputs = (ids,)
    if caps:
        inputs += (rng.integers(0, 3, size=(n_windows, window)),)  # few rows: repeats everywhere
    y = rng.integers(0, 2 if output == "sigmoid" else K, size=n_windows)
    # activations of every kind of value, so relu and hardtanh hit both sides of their kinks
    net.params["W1"] *= 2
    return net, inputs, y


def _clone(net):
    twin = WindowNetwork.__new__(WindowNetwork)
    twin.__dict__.update(net.__dict__)
    twin.params = {k: v.copy() for k, v in net.params.items()}
    return twin


def _assert_same(a, b, where):
    for name in a.params:
        assert a.params[name].dtype == b.params[name].dtype
        assert a.params[name].tobytes() == b.params[name].tobytes(), f"{name} differs {where}"


def _lockstep(net, inputs, y, optimizer_args=(0.1,), optimizer_kwargs=None, **kwargs):
    """Train a fast and a general copy of ``net`` window by window; compare after each step."""
    fast_net, slow_net = _clone(net), _clone(net)
    fast_opt = SGD(*optimizer_args, **(optimizer_kwargs or {}))
    slow_opt = SGD(*optimizer_args, **(optimizer_kwargs or {}))
    step = one_window_sgd(fast_net, fast_opt, inputs, y, **kwargs)
    assert step is not None
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(len(y)):
            J_fast = step(i)
            J_slow, grads = slow_net.loss_and_grads(tuple(ids[i : i + 1] for ids in inputs), y[i : i + 1], **kwargs)
            if not np.isfinite(J_slow):  # run_epoch stops here, before the update
                assert not np.isfinite(J_fast)
                _assert_same(fast_net, slow_net, f"after a non-finite loss at window {i}")
                break
            slow_opt.update(slow_net.params, grads)
            assert np.float64(J_fast).tobytes() == np.float64(J_slow).tobytes(), f"J differs at window {i}"
            _assert_same(fast_net, slow_net, f"after window {i}")
        return i


CONFIGS = list(
    itertools.product([np.float32, np.float64], ["tanh", "sigmoid", "relu", "hardtanh"], ["softmax", "sigmoid"])
)


@pytest.mark.parametrize("dtype,activation,output", CONFIGS)
@pytest.mark.parametrize("caps", [False, True])
@pytest.mark.parametrize("l2", [0.0, 1e-2])
def test_fast_step_equals_general_step_bit_for_bit(dtype, activation, output, caps, l2):
    net, inputs, y = _problem(dtype, activation, output, caps=caps)
    _lockstep(net, inputs, y, l2=l2)


@pytest.mark.parametrize("window", [1, 3, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_sizes_and_words_in_several_slots(window, dtype):
    net, inputs, y = _problem(dtype, "tanh", "softmax", window=window, vocab=5, n_windows=80)
    _lockstep(net, inputs, y, l2=1e-3)


@pytest.mark.parametrize("anchored", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l2_on_the_touched_rows_towards_anchors(anchored, dtype):
    net, inputs, y = _problem(dtype, "tanh", "softmax", window=5, vocab=6)
    anchors = {"L": net.params["L"] + 0.25} if anchored else None
    _lockstep(net, inputs, y, l2=1e-3, l2_tables={"L": 0.1, "E_caps": 0.05}, anchors=anchors)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_frozen_tables_and_learning_rates_per_parameter(dtype):
    net, inputs, y = _problem(dtype, "relu", "softmax")
    _lockstep(net, inputs, y, train_tables={"E_caps"})
    _lockstep(net, inputs, y, train_tables=set())
    _lockstep(net, inputs, y, optimizer_kwargs={"lr_overrides": {"L": 0.05, "W1": 0.0, "b2": 0.7}})
    _lockstep(net, inputs, y, optimizer_kwargs={"lr_overrides": {"L": np.float64(0.05), "W2": np.float32(0.2)}})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "hardtanh"])
def test_signed_zeros_in_weights_inputs_and_gradients(dtype, activation):
    # relu and hardtanh give f'(z1) = 0, so delta1 and grad_W1 hold -0.0 next to +0.0; weights and
    # embeddings holding -0.0 are where a lost + 0.0 would show.
    net, inputs, y = _problem(dtype, activation, "softmax")
    for name in ("W1", "W2", "L", "E_caps", "b1"):
        flat = net.params[name].reshape(-1)
        flat[::3] = -0.0
        flat[1::3] = 0.0
    net.params["W1"][:, :5] = -0.0
    _lockstep(net, inputs, y)
    _lockstep(net, inputs, y, l2=1e-45)  # l2 * W1 underflows to signed zeros


def test_divergence_leaves_the_parameters_alone_as_the_general_step_does():
    net, inputs, y = _problem(np.float32, "tanh", "softmax")
    net.params["W2"][:] = np.inf
    fast_net = _clone(net)
    step = one_window_sgd(fast_net, SGD(0.1), inputs, y)
    with np.errstate(over="ignore", invalid="ignore"):
        J = step(0)
    assert not np.isfinite(J)
    _assert_same(fast_net, net, "after a non-finite loss")


def _chosen_steps(monkeypatch):
    """Record, for each stepper call, whether it made the fast step (True) or the general one."""
    made = []

    def spy(*args, **kwargs):
        made.append(True)
        return one_window_sgd(*args, **kwargs)

    monkeypatch.setattr(windowclf.training.objectives, "one_window_sgd", spy)
    real = WindowObjective.general_step

    def general(self, *args):
        made.append(False)
        return real(self, *args)

    monkeypatch.setattr(WindowObjective, "general_step", general)
    return made


def _general_step_only(monkeypatch):
    monkeypatch.setattr(WindowObjective, "_fast_step_covers", lambda self, optimizer, order: False)


def _epoch(net, optimizer, inputs, y, batch_size, seed, **options):
    objective = WindowObjective(net, inputs, y, Options(**options))
    return run_epoch(objective, optimizer, objective.draw_order(np.random.default_rng(seed), batch_size))


def test_the_fast_path_stands_aside_where_it_does_not_apply(monkeypatch):
    net, inputs, y = _problem(np.float32, "tanh", "softmax")
    made = _chosen_steps(monkeypatch)

    class Sub(SGD):
        pass

    for optimizer, options in [
        (Momentum(0.1), {}),
        (AdaGrad(0.1), {}),
        (SGD(0.1), {"l2": np.float64(0.1)}),
        (Sub(0.1), {}),
        (SGD(0.1), {"dropout": Dropout(0.1, 0.1, np.random.default_rng(1))}),
    ]:
        objective = WindowObjective(net, inputs, y, Options(**options))
        objective.stepper(optimizer, objective.draw_order(np.random.default_rng(0), 1))
    assert made == [False] * 5


def test_every_option_is_reproduced_by_the_fast_step_or_keeps_training_off_it(monkeypatch):
    # An option the fast step does not list must send training to the general step as soon as
    # it is set, so a new option cannot be skipped silently by the fast path.
    net, inputs, y = _problem(np.float32, "tanh", "softmax")
    made = _chosen_steps(monkeypatch)
    for f in dataclasses.fields(Options):
        if f.name in FAST_STEP_OPTIONS:
            continue
        objective = WindowObjective(net, inputs, y, Options(**{f.name: object()}))
        objective.stepper(SGD(0.1), objective.draw_order(np.random.default_rng(0), 1))
        assert made.pop() is False, f.name
    objective = WindowObjective(
        net, inputs, y, Options(l2=1e-3, train_tables={"L"}, l2_tables={"L": 0.1}, anchors={"L": net.params["L"]})
    )
    objective.stepper(SGD(0.1), objective.draw_order(np.random.default_rng(0), 1))
    assert made == [True]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_run_epoch_at_batch_1_equals_the_general_loop(dtype, monkeypatch):
    net, inputs, y = _problem(dtype, "tanh", "softmax", n_windows=200)
    fast_net, slow_net = _clone(net), _clone(net)
    loss_fast = _epoch(fast_net, SGD(0.1), inputs, y, 1, 3, l2=1e-4)
    _general_step_only(monkeypatch)
    loss_slow = _epoch(slow_net, SGD(0.1), inputs, y, 1, 3, l2=1e-4)
    assert loss_fast == loss_slow
    _assert_same(fast_net, slow_net, "after an epoch")


def test_run_epoch_with_dropout_takes_the_general_step(monkeypatch):
    net, inputs, y = _problem(np.float32, "tanh", "softmax")
    made = _chosen_steps(monkeypatch)
    _epoch(net, SGD(0.1), inputs, y, 1, 0, dropout=Dropout(0.1, 0.1, np.random.default_rng(1)))
    assert made == [False]


def test_run_epoch_reports_divergence_at_the_same_window(monkeypatch):
    net, inputs, y = _problem(np.float32, "tanh", "softmax", n_windows=50)
    messages = []
    for fast in (True, False):
        twin = _clone(net)
        if not fast:
            _general_step_only(monkeypatch)
        with pytest.raises(DivergenceError) as err:
            _epoch(twin, SGD(1e30), inputs, y, 1, 0)
        messages.append((str(err.value), {k: v.tobytes() for k, v in twin.params.items()}))
    assert messages[0] == messages[1]


def test_learning_rates_changed_between_steps_are_used_as_the_general_step_uses_them():
    net, inputs, y = _problem(np.float32, "tanh", "softmax")
    fast_net, slow_net = _clone(net), _clone(net)
    fast_opt, slow_opt = SGD(0.1), SGD(0.1)
    step = one_window_sgd(fast_net, fast_opt, inputs, y)
    schedule = [
        (0.1, {}),
        (0.05, {}),
        (0.05, {"L": 0.2}),
        (0.05, {}),
        (0.07, {"W1": np.float64(0.01)}),
        (1, {}),
        (0.07, {"W1": 0.01}),
        (0.07, {}),
    ]
    for i, (lr, overrides) in enumerate(schedule * 3):
        for opt in (fast_opt, slow_opt):  # as a callback between batches would set them
            opt.lr, opt.lr_overrides = lr, dict(overrides)
        step(i)
        slow_opt.update(
            slow_net.params, slow_net.loss_and_grads(tuple(ids[i : i + 1] for ids in inputs), y[i : i + 1])[1]
        )
        _assert_same(fast_net, slow_net, f"after window {i} (lr {lr}, {overrides})")


def test_blas_outer_products_are_the_ones_tested_here():
    # the tests above run the ?gemm outer products; without them the step falls back to numpy's
    from windowclf.nn.window_sgd import _outer_product_gemm

    for dtype in (np.float32, np.float64):
        a, b, out = np.empty((6, 1), dtype), np.empty((1, 4), dtype), np.empty((4, 6), dtype)
        assert _outer_product_gemm(np.dtype(dtype), a, b, out.T) is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_without_blas_outer_products_the_step_is_still_the_general_step(dtype, monkeypatch):
    import windowclf.nn.window_sgd as window_sgd

    monkeypatch.setattr(window_sgd, "_outer_product_gemm", lambda *args: None)
    net, inputs, y = _problem(dtype, "relu", "softmax")
    _lockstep(net, inputs, y, l2=1e-3)
    net.params["W1"][:, ::4] = -0.0
    net.params["W2"][:, ::3] = -0.0
    _lockstep(net, inputs, y)


def test_run_epoch_takes_the_fast_step_at_batch_1(monkeypatch):
    net, inputs, y = _problem(np.float32, "tanh", "softmax")
    made = _chosen_steps(monkeypatch)
    _epoch(net, SGD(0.1), inputs, y, 1, 0, l2=1e-5)
    _epoch(net, SGD(0.1), inputs, y, 2, 0)
    assert made == [True, False]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_one_window_losses_equal_the_batch_losses_bit_for_bit(dtype, output):
    # the per-example step's loss and delta2 against functions.OUTPUTS' batch loss on one row
    from windowclf.nn.functions import ONE_WINDOW_LOSSES, OUTPUTS

    K = 5 if output == "softmax" else 1
    rng = np.random.default_rng(7)
    rows = rng.normal(scale=30, size=(300, K)).astype(dtype)
    rows[:20] = np.round(rows[:20] / 30)  # ties and exact zeros
    rows[20:25] = -0.0
    rows[25:30] = 1e4  # far past exp's range
    labels = rng.integers(0, K if output == "softmax" else 2, size=len(rows))
    one = ONE_WINDOW_LOSSES[output](K, np.dtype(dtype))
    delta2 = np.empty(K, dtype)
    for i, z2 in enumerate(rows):
        J = one(z2, labels, i, delta2)
        losses, expected = OUTPUTS[output][0](z2[None, :], labels[i : i + 1])
        assert np.float64(J).tobytes() == np.float64(float(losses.sum())).tobytes(), i
        assert delta2.tobytes() == expected[0].tobytes(), i
