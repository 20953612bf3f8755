import dataclasses

import pytest
import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry

NAME = "distilbert"
EXPECTED_SCALES = {"base": "distilbert/distilbert-base-uncased", "tiny": None}


class TestContract(ModelContract):
    name = NAME
    task = "imdb"


def test_real_scales_map_to_the_papers_hub_ids():
    assert registry().get("models", NAME).scales == EXPECTED_SCALES


def test_serves_text_classification_only():
    spec = registry().get("models", NAME)
    assert spec.serves_task(registry().get("tasks", "imdb"))
    assert not spec.serves_task(registry().get("tasks", "toy_blobs"))


def test_tiny_forward_on_the_tasks_batch():
    task = build_task("imdb")
    data = task.load("mini")
    built = build_family(NAME).build(task, "tiny", seed=0)
    assert built.model.config.vocab_size == len(built.processor)
    rows = task.encode(data["train"].select(range(4)), built)
    batch = task.prepare_batch(next(rows.batches(4)), built)
    logits = task.logits(built.model.eval(), batch)
    assert logits.shape == (4, 2) and torch.isfinite(logits).all()


def test_a_real_scale_loads_through_from_pretrained(tmp_path):
    """Point a scale at a local checkpoint folder (model + tokenizer saved with save_pretrained)."""
    task = build_task("imdb")
    data = task.load("mini")
    spec = registry().get("models", NAME)
    saved = build_family(NAME).build(task, "tiny", seed=5)
    saved.model.save_pretrained(tmp_path / "ckpt")
    saved.processor.save_pretrained(tmp_path / "ckpt")
    family = spec.load()(dataclasses.replace(spec, scales={**spec.scales, "local": str(tmp_path / "ckpt")}))
    built = family.build(task, "local", seed=0)
    loaded, original = built.model.state_dict(), saved.model.state_dict()
    body = [k for k in original if "classifier" not in k and "pre_classifier" not in k]
    assert body and all(torch.equal(loaded[k], original[k]) for k in body), "pretrained body not loaded"
    assert built.processor.get_vocab() == saved.processor.get_vocab()
    rows = task.encode(data["test"].select(range(2)), built)
    with torch.no_grad():
        assert task.logits(built.model.eval(), task.prepare_batch(next(rows.batches(2)), built)).shape == (2, 2)
    with pytest.raises(ValueError, match="no scale"):
        family.build(task, "huge", seed=0)
