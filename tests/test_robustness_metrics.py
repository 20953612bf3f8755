"""The robustness attacks (quantisation, relearning) on the toy task, with real trained models: the
attacks change a copy and never the model, 8 bits barely moves the original, an untouched original has
nothing to relearn, and a model retrained without Df stays below the original after the relearning attack."""
from __future__ import annotations

import pytest

import functools

import numpy as np
import torch

from mubench_harness.metrics import Evaluation, ModelAccess
from mubench_harness.metrics.builtin import RelearnArgs
from mubench_harness.metrics.robustness import Quantization, Relearning, quantize_weights_
from mubench_harness.signals import SignalCache, weights_hash
from conftest import memorising_toy

# the original memorises its training set, so Df (10 %) scores ~1 on it while a model retrained on Dr
# alone scores clearly lower there (the gap the relearning attack could close)
@functools.lru_cache(maxsize=1)
def toy():
    task, built, rows, original, (retrain,) = memorising_toy(n_test=400)
    splits = {name: rows[name] for name in ("test", "forget", "retain")}
    return task, built, splits, original, retrain


def evaluation(model) -> Evaluation:
    task, built, splits, original, _ = toy()
    cache = SignalCache()
    sig, orig = cache.splits(task, model, splits, built), cache.splits(task, original, splits, built)
    return Evaluation(sig, orig, num_classes=task.num_classes, seed=0,
                      models=ModelAccess(model=model, original=original, task=task, built=built, splits=splits))


def test_quantisation_changes_a_copy_and_never_the_model():
    _, _, _, original, _ = toy()
    before = weights_hash(original)
    q = quantize_weights_(__import__("copy").deepcopy(original), 4)
    assert weights_hash(q) != before  # 4-bit rounding moved the weights of the copy
    ev = evaluation(original)
    out = Quantization(None).compute(ev)
    assert weights_hash(original) == before  # ...and the metric left the model itself alone
    df = float(np.mean(ev.signals["forget"]["score"]))
    assert df > 0.95, df  # the original memorised Df
    assert abs(out["robust/df_score_int8"] - df) <= 0.05, (out, df)  # 8 bits: ≤ 2 of 40 Df rows change
    assert 0 <= out["robust/df_score_int4"] <= 1


def test_quantised_weights_lie_on_the_grid():
    layer = torch.nn.Linear(8, 8)
    w = layer.weight.detach().clone()
    quantize_weights_(layer, 4)
    step = w.abs().max() / 7
    levels = layer.weight.detach() / step
    assert torch.allclose(levels, levels.round(), atol=1e-4) and levels.abs().max() <= 7 + 1e-4
    assert (layer.weight - w).abs().max() <= step / 2 + 1e-6  # round to nearest
    assert not torch.equal(layer.weight.detach(), w)


def test_untouched_original_relearns_nothing():
    _, _, _, original, _ = toy()
    before = weights_hash(original)
    out = Relearning(RelearnArgs()).compute(evaluation(original))
    assert weights_hash(original) == before
    # its held-out Df half is already at ~1: fine-tuning on the other half can return at most a row or two
    assert out["robust/relearn_df_score_before"] > 0.95
    assert abs(out["robust/relearn_return"]) <= 0.05, out


def test_retrained_model_stays_below_the_original_after_relearning():
    _, _, _, original, retrain = toy()
    orig_out = Relearning(RelearnArgs()).compute(evaluation(original))
    out = Relearning(RelearnArgs()).compute(evaluation(retrain))
    assert out["robust/relearn_df_score_before"] < orig_out["robust/relearn_df_score_before"]
    assert out["robust/relearn_df_score"] < orig_out["robust/relearn_df_score"], (out, orig_out)


def test_without_models_the_attacks_are_na_with_a_reason():
    ev = evaluation(toy()[3])
    ev.models = None
    out = {**Quantization(None).compute(ev), **Relearning(RelearnArgs()).compute(ev)}
    assert all(v is None for v in out.values()) and "robust/relearn_return" in ev.na_reasons


@pytest.mark.needs_shipped_plugins
def test_attacks_are_opt_in():
    from pathlib import Path

    from mubench_harness.config import validate

    root = Path(__file__).resolve().parents[1] / "benchmarks"
    assert not {"quantization", "relearning"} & set(validate(root / "toy.yaml").metric_names)  # names no metrics
    assert {"quantization", "relearning"} <= set(validate(root / "analyses" / "robustness-mini.yaml").metric_names)
