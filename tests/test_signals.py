"""Signals: one forward pass per (model weights, split), cached in memory and on disk."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from mubench_harness import testing
from mubench_harness.data import Rows
from mubench_harness.metrics import Evaluation
from mubench_harness.signals import SIGNALS, SignalCache, compute_signals, count_forward, rows_hash, weights_hash


def _all_metrics(ev: Evaluation) -> dict:
    out = {}
    for spec in testing.registry().specs("metrics"):
        out.update(spec.load()(spec.args()).compute(ev))
    return out


def test_one_forward_pass_per_weights_and_split(tmp_path):
    st = testing.setting()
    model = copy.deepcopy(st.original)
    cache = SignalCache(tmp_path, batch_size=256)
    splits = {"test": st.test, "forget": st.forget, "retain": st.retain}
    batches = sum(rows.num_batches(256) for rows in splits.values())
    with count_forward(model) as calls:
        first = cache.splits(st.task, model, splits, st.built)
        # several metrics read them, as original, unlearned and retrained model alike, and the cache is asked again
        ev = Evaluation(first, first, retrain=first, chance=0.25)
        _all_metrics(ev)
        _all_metrics(ev.as_model("original"))
        again = cache.splits(st.task, model, splits, st.built)
        for name, rows in splits.items():
            cache.get(st.task, model, rows, st.built)
    assert calls[0] == batches, "exactly one batched pass per (weights, split)"
    assert cache.passes == len(splits)
    assert all(again[k] is first[k] for k in splits)

    # a new cache over the same folder (a rerun, the next cell of the sweep) reads the files: no pass at all
    reread = SignalCache(tmp_path)
    with count_forward(model) as calls:
        disk = reread.splits(st.task, model, splits, st.built)
    assert calls[0] == 0 and reread.passes == 0 and reread.hits == len(splits)
    for name in splits:
        for s in (*SIGNALS, "idx"):
            np.testing.assert_array_equal(disk[name][s], first[name][s])


def test_new_weights_get_their_own_pass(tmp_path):
    st = testing.setting()
    model = copy.deepcopy(st.original)
    cache = SignalCache(tmp_path)
    before = cache.get(st.task, model, st.forget, st.built)
    with torch.no_grad():
        model.classifier.bias.add_(1.0)
    with count_forward(model) as calls:
        after = cache.get(st.task, model, st.forget, st.built)
    assert calls[0] == st.forget.num_batches(256) and cache.passes == 2
    assert not np.array_equal(before["loss"], after["loss"])


def test_lookup_without_model(tmp_path):
    st = testing.setting()
    cache = SignalCache(tmp_path)
    h = weights_hash(st.original)
    assert cache.lookup(st.task, h, st.forget) is None
    sig = cache.get(st.task, st.original, st.forget, st.built, model_hash=h)
    assert SignalCache(tmp_path).lookup(st.task, h, st.forget)["loss"].tolist() == sig["loss"].tolist()


def test_other_task_settings_never_read_these_signals(tmp_path):
    """Same weights, same rows, another evaluation setting (e.g. decoding): a fresh pass, not the cache."""
    st = testing.setting()
    cache = SignalCache(tmp_path)
    cache.get(st.task, st.original, st.forget, st.built)
    other = copy.copy(st.task)
    other.args = st.task.args.model_copy(update={"spread": st.task.args.spread + 1.0})
    assert cache.lookup(other, weights_hash(st.original), st.forget) is None
    cache.get(other, st.original, st.forget, st.built)
    assert cache.passes == 2 and len(list(tmp_path.glob("*.npz"))) == 2


def test_corrupt_or_stale_cache_file_is_recomputed(tmp_path):
    st = testing.setting()
    cache = SignalCache(tmp_path)
    cache.get(st.task, st.original, st.forget, st.built)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a numpy file")
    fresh = SignalCache(tmp_path)
    sig = fresh.get(st.task, st.original, st.forget, st.built)
    assert fresh.passes == 1 and len(sig["loss"]) == len(st.forget)
    # a file of another signal version is not trusted either
    with np.load(path, allow_pickle=False) as data:
        stale = {k: data[k] for k in data.files}
    stale["_version"] = np.array(0)
    np.savez(path, **stale)
    assert SignalCache(tmp_path).lookup(st.task, weights_hash(st.original), st.forget) is None


def test_signals_match_the_task_primitives():
    st = testing.setting()
    sig = compute_signals(st.task, st.original, st.test, st.built, batch_size=100)
    batch = next(st.test.batches(len(st.test)))
    with torch.no_grad():
        loss = st.task.per_sample_loss(st.original, batch).numpy()
        score = st.task.score(st.original, batch).numpy()
    np.testing.assert_allclose(sig["loss"], loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(sig["score"], score)
    np.testing.assert_allclose(sig["p_true"], np.exp(-loss), rtol=1e-5)
    np.testing.assert_array_equal(sig["idx"], st.test["idx"].numpy())
    assert (sig["entropy"] >= 0).all()


def test_cached_signals_are_read_only(tmp_path):
    st = testing.setting()
    sig = SignalCache(tmp_path).get(st.task, st.original, st.forget, st.built)
    with pytest.raises(ValueError):
        sig["loss"][0] = 0.0


def test_eval_mode_during_pass_and_mode_restored():
    st = testing.setting()
    model = copy.deepcopy(st.original).train()
    modes = []
    model.register_forward_hook(lambda m, a, o: modes.append(m.training))
    compute_signals(st.task, model, st.forget, st.built)
    assert modes and not any(modes) and model.training


def test_rows_hash_sees_inputs_not_only_ids_and_labels():
    x = torch.arange(12.0).reshape(6, 2)
    a = Rows({"x": x, "labels": torch.zeros(6, dtype=torch.long)})
    b = Rows({"x": x + 1, "labels": torch.zeros(6, dtype=torch.long)})
    c = Rows({"x": x.clone(), "labels": torch.zeros(6, dtype=torch.long)})
    assert rows_hash(a) != rows_hash(b) and rows_hash(a) == rows_hash(c)
    assert rows_hash(a) != rows_hash(a.replace(labels=torch.ones(6, dtype=torch.long)))


def test_task_returning_wrong_shapes_is_a_clear_error():
    st = testing.setting()

    class BadTask(type(st.task)):
        def signals(self, model, batch):
            out = super().signals(model, batch)
            return dict(out, loss=out["loss"][:, None])

    with pytest.raises(ValueError, match="one value per sample"):
        compute_signals(BadTask(st.task.args), st.original, st.forget, st.built)


class _RandomInEval(torch.nn.Module):
    """A model that draws from torch's RNG in eval mode too, as ViLT does when it samples image patches."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        out = self.inner(x)
        return type(out)(out.logits + torch.rand_like(out.logits))


def test_signals_do_not_depend_on_what_drew_from_the_rng_before():
    st = testing.setting()
    model = _RandomInEval(copy.deepcopy(st.original))
    torch.manual_seed(1)
    first = compute_signals(st.task, model, st.test, st.built)
    torch.rand(1000)  # another cell, another task: the global RNG has moved on
    again = compute_signals(st.task, model, st.test, st.built)
    for name in SIGNALS:
        np.testing.assert_array_equal(first[name], again[name])
    after = torch.rand(3)
    torch.manual_seed(1)
    torch.rand(1000)
    assert torch.equal(after, torch.rand(3)), "the caller's RNG stream is left as it was"
