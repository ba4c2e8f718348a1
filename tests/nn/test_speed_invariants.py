"""What the fast paths must keep: float32 stays float32, a step touches only the batch's rows,
and every shortcut gives the same bits as the plain formula. Nothing here is timed."""

import numpy as np
import pytest
from support import REPO

from windowclf.nn.functions import ACTIVATIONS, OUTPUTS
from windowclf.nn.gradcheck import random_problem
from windowclf.nn.network import WindowNetwork, _batch_outer
from windowclf.nn.optim import SGD, AdaGrad, Momentum
from windowclf.nn.rowgrad import RowGrad, accumulate_rows
from windowclf.training.loop import run_epoch
from windowclf.training.objectives import WindowObjective


def _float32_problem(activation, output):
    net, ids, y = random_problem(activation=activation, output=output, vocab_size=9, extra_tables=[("E_caps", 5, 2)])
    net32 = WindowNetwork(
        [("L", 9, net.table_dims[0]), ("E_caps", 5, 2)],
        window=net.window,
        hidden=net.hidden,
        n_outputs=net.n_outputs,
        activation=activation,
        output=output,
        dtype=np.float32,
        seed=0,
    )
    return net32, ids, y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_float32_network_keeps_float32_in_every_intermediate(activation, output):
    net, ids, y = _float32_problem(activation, output)
    fw = net.forward(ids)
    for name in ("x", "z1", "a1", "z2"):
        assert getattr(fw, name).dtype == np.float32, name
    losses, delta2 = OUTPUTS[output][0](fw.z2, y)
    assert losses.dtype == np.float32 and delta2.dtype == np.float32
    assert net.predict_proba(ids).dtype == np.float32
    anchors = {"L": np.zeros_like(net.params["L"])}
    J, grads = net.loss_and_grads(ids, y, l2=0.1, l2_tables={"L": 0.2, "E_caps": 0.1}, anchors=anchors)
    assert isinstance(J, float)
    for name, g in grads.items():
        values = g.values if isinstance(g, RowGrad) else g
        assert values.dtype == np.float32, name
    for optimizer in (SGD(0.1), Momentum(0.1, alpha=0.5), AdaGrad(0.1)):
        optimizer.update(net.params, grads)
    for name, param in net.params.items():
        assert param.dtype == np.float32, name


class _WatchedTable(np.ndarray):
    """A lookup table that records every ufunc, reduction or copy that sees all of its rows."""

    def __array_finalize__(self, obj):
        self.whole_table_passes = getattr(obj, "whole_table_passes", [])
        self.n_rows = getattr(obj, "n_rows", self.shape[0] if self.ndim else 0)

    def _sees_all_rows(self, arr):
        return isinstance(arr, _WatchedTable) and arr.ndim == 2 and arr.shape[0] == self.n_rows

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out", ())
        if any(self._sees_all_rows(a) for a in inputs + tuple(out)):
            self.whole_table_passes.append(f"{ufunc.__name__}.{method}")
        plain = [a.view(np.ndarray) if isinstance(a, _WatchedTable) else a for a in inputs]
        if out:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _WatchedTable) else o for o in out)
        return getattr(ufunc, method)(*plain, **kwargs)

    def copy(self, *args, **kwargs):
        self.whole_table_passes.append("copy")
        return self.view(np.ndarray).copy(*args, **kwargs)

    def take(self, *args, **kwargs):
        return self.view(np.ndarray).take(*args, **kwargs)

    def __getitem__(self, key):
        return self.view(np.ndarray)[key]


def _step_on_a_million_word_table(optimizer):
    V = 1_000_000
    net = WindowNetwork([("L", 4, 3)], window=3, hidden=4, n_outputs=3, dtype=np.float32, seed=0)
    rng = np.random.default_rng(0)
    table = rng.normal(size=(V, 3)).astype(np.float32)
    before = table.copy()
    net.params["L"] = table.view(_WatchedTable)
    ids = (rng.integers(0, V, size=(32, 3)),)
    ids[0][:4] = 7  # one word in several windows and slots
    y = rng.integers(0, 3, size=32)
    optimizer.update(net.params, net.loss_and_grads(ids, y)[1])
    return net.params["L"], before, ids[0]


def test_sgd_step_at_a_million_words_changes_only_the_batch_rows_without_a_dense_pass():
    table, before, ids = _step_on_a_million_word_table(SGD(0.5))
    assert table.whole_table_passes == []
    changed = np.flatnonzero(np.any(table.view(np.ndarray) != before, axis=1))
    assert len(changed) > 0
    assert set(changed.tolist()) <= set(np.unique(ids).tolist())


def test_the_dense_pass_detector_sees_a_momentum_step():
    # Momentum's velocity decays every row each step (seed 004), so it must pass over all of L.
    table, _, _ = _step_on_a_million_word_table(Momentum(0.5, alpha=0.5))
    assert table.whole_table_passes != []


@pytest.mark.parametrize("n_slots", [1, 3, 15, 16, 17, 96, 384])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_accumulation_equals_np_add_at_to_the_last_bit_for_every_batch_size(n_slots, dtype):
    rng = np.random.default_rng(n_slots)
    ids = rng.integers(0, max(2, n_slots // 2), size=n_slots)  # many repeats
    ids[0] = ids[-1]
    slices = rng.normal(size=(n_slots, 5)).astype(dtype)
    slices[0, :2] = -0.0
    got = accumulate_rows(ids, slices)
    reference = np.zeros((ids.max() + 1, 5), dtype=dtype)
    np.add.at(reference, ids, slices)
    assert got.values.dtype == dtype
    assert np.array_equal(got.rows, np.unique(ids))
    assert got.to_dense(len(reference)).tobytes() == reference.tobytes()


@pytest.mark.parametrize("batch", [1, 2, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_outer_product_is_the_matmul_to_the_last_bit(batch, dtype):
    rng = np.random.default_rng(batch)
    delta = rng.normal(size=(batch, 6)).astype(dtype)
    a = rng.normal(size=(batch, 9)).astype(dtype)
    delta[0, :2] = [0.0, -0.0]
    a[0, :3] = [-0.0, 0.0, -1.0]  # products of signed zeros: -0.0 * 1 and 0.0 * -1
    assert _batch_outer(delta, a).tobytes() == (delta.T @ a).tobytes()


def test_epoch_of_shuffled_views_equals_fancy_indexed_batches():
    net_a, ids, y = random_problem(vocab_size=9, batch=40)
    net_b, _, _ = random_problem(vocab_size=9, batch=40)
    _epoch(net_a, SGD(0.1), ids, y, 7, 5)
    # the same epoch, batch by batch, from the same permutation
    order = np.random.default_rng(5).permutation(len(y))
    opt = SGD(0.1)
    for start in range(0, len(y), 7):
        batch = order[start : start + 7]
        opt.update(net_b.params, net_b.loss_and_grads(tuple(i[batch] for i in ids), y[batch])[1])
    for name in net_a.params:
        assert net_a.params[name].tobytes() == net_b.params[name].tobytes(), name


def test_command_line_runs_blas_single_threaded_unless_told_otherwise():
    import os
    import subprocess
    import sys

    code = (
        "import sys, os, windowclf; assert 'numpy' not in sys.modules; "
        "import windowclf.cli.main; print(os.environ['OPENBLAS_NUM_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "2"


def _epoch(net, optimizer, ids, y, batch_size, seed):
    objective = WindowObjective(net, ids, y)
    return run_epoch(objective, optimizer, objective.draw_order(np.random.default_rng(seed), batch_size))
