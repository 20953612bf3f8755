import numpy as np
import pytest
import torch

from mubench_harness.metrics import Evaluation
from mubench_harness.testing import TaskContract, build_family, build_task, check_mini_builder_is_deterministic, fit_on_mini, registry


class TestContract(TaskContract):
    name = "ddi2013"
    model = "bert"


def test_hub_source_maps_the_processed_corpus_schema_and_marks_the_pair(tmp_path):
    """A local copy in OpenMed/DDI-Corpus-Processed's schema (sentence, drug1, drug2, relation, ...)."""
    from datasets import Dataset, DatasetDict

    rows = {
        "sentence": ["Ketoconazole inhibits the metabolism of warfarin.", "Aspirin and ibuprofen were given."],
        "drug1": ["Ketoconazole", "aspirin"], "drug2": ["warfarin", "Ibuprofen"],
        "relation": ["MECHANISM", "NONE"], "source_file": ["a.xml", "b.xml"], "sentence_id": ["s0", "s1"],
        "pair_id": ["p0", "p1"],
    }
    DatasetDict({"train": Dataset.from_dict(rows), "test": Dataset.from_dict(rows)}).save_to_disk(str(tmp_path / "ddi"))
    data = build_task("ddi2013", path=str(tmp_path / "ddi")).load("hub")
    assert data["train"]["sentence"] == ["@DRUG$ inhibits the metabolism of @DRUG$.", "@DRUG$ and @DRUG$ were given."]
    assert data["train"]["label"] == [1, 0]
    assert data["train"].features["label"].names == ["false", "mechanism", "effect", "advise", "int"]


def test_hub_source_reads_blurb_style_rows_with_ddi_labels(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = {"text": ["@DRUG$ should not be given with @DRUG$ .", "@DRUG$ interacts with @DRUG$ ."],
            "label": ["DDI-advise", "DDI-int"]}
    DatasetDict({"train": Dataset.from_dict(rows), "test": Dataset.from_dict(rows)}).save_to_disk(str(tmp_path / "blurb"))
    assert build_task("ddi2013", path=str(tmp_path / "blurb")).load("hub")["test"]["label"] == [3, 4]
    bad = {"text": ["@DRUG$ x @DRUG$"], "label": ["DDI-maybe"]}
    DatasetDict({"train": Dataset.from_dict(bad), "test": Dataset.from_dict(bad)}).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="unknown relation 'DDI-maybe'"):
        build_task("ddi2013", path=str(tmp_path / "bad")).load("hub")
    unmarked = {"text": ["two drugs, no marks"], "label": [0]}
    DatasetDict({"train": Dataset.from_dict(unmarked), "test": Dataset.from_dict(unmarked)}).save_to_disk(str(tmp_path / "nomark"))
    with pytest.raises(ValueError, match="neither drug1/drug2"):
        build_task("ddi2013", path=str(tmp_path / "nomark")).load("hub")


def test_mini_has_five_imbalanced_types_and_marked_pairs():
    data = build_task("ddi2013").load("mini")
    counts = np.bincount(data["train"]["label"], minlength=5)
    assert (counts > 0).all() and counts[0] == counts.max() and counts[4] == counts.min()
    assert all(s.count("@DRUG$") >= 2 for s in data["train"]["sentence"])


def test_macro_f1_leaves_out_the_negative_class():
    from mubench_ddi2013.metric import macro_f1

    labels = [0, 0, 1, 1, 2, 3, 4]
    preds = [1, 0, 1, 1, 2, 3, 0]
    # per positive class F1: mechanism 2/2.5=0.8, effect 1, advise 1, int 0 -> mean 0.7
    assert macro_f1(labels, preds) == pytest.approx(0.7)
    assert build_task("ddi2013").corpus_metrics(labels, preds) == {"accuracy": pytest.approx(5 / 7), "macro_f1": pytest.approx(0.7)}


def test_signals_carry_pred_and_label_for_the_macro_f1_metric():
    task = build_task("ddi2013")
    data = task.load("mini")
    built = build_family("bert").build(task, "tiny", seed=0)
    rows = task.encode(data["test"].select(range(16)), built)
    batch = task.prepare_batch(next(rows.batches(16)), built)
    with torch.no_grad():
        sig = task.signals(built.model.eval(), batch)
        logits = task.logits(built.model, batch)
    assert torch.equal(sig["pred"], logits.argmax(-1).float()) and torch.equal(sig["label"], batch["labels"].float())
    spec = registry().get("metrics", "ddi_macro_f1")
    metric = spec.load()(spec.args())
    signals = {"test": {k: v.numpy() for k, v in sig.items()}}
    out = metric.compute(Evaluation(signals=signals, original=signals))
    assert out["test/macro_f1"] == pytest.approx(task.corpus_metrics(sig["label"].numpy(), sig["pred"].numpy())["macro_f1"])
    assert metric.compute(Evaluation(signals={"test": {"score": np.ones(3)}}, original={})) == {}


def test_tiny_bert_learns_mini_well_above_chance_and_overfits():
    fit = fit_on_mini("ddi2013", "bert")
    assert fit.test_accuracy > fit.task.chance(fit.test) + 0.25, fit.accuracies
    assert fit.train_accuracy > fit.test_accuracy + 0.05, fit.accuracies


def test_mini_generation_is_deterministic_without_the_in_process_cache():
    from mubench_ddi2013.task import _mini_dataset

    check_mini_builder_is_deterministic(_mini_dataset, (100, 50, 0.1, 0), (100, 50, 0.1, 1), ("sentence", "label"))
