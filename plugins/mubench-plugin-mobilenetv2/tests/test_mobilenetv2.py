import dataclasses

import pytest
import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry

NAME = "mobilenetv2"
EXPECTED_SCALES = {"1.0-224": "google/mobilenet_v2_1.0_224", "tiny": None}


class TestContract(ModelContract):
    name = NAME
    task = "cifar100"


def test_real_scales_map_to_the_papers_hub_ids():
    assert registry().get("models", NAME).scales == EXPECTED_SCALES


def test_tiny_forward_on_the_tasks_batch():
    task = build_task("cifar100")
    built = build_family(NAME).build(task, "tiny", seed=0)
    rows = task.encode(task.load("mini")["train"].select(range(4)), built)
    batch = task.prepare_batch(next(rows.batches(4)), built)
    assert batch["pixel_values"].shape == (4, 3, 32, 32)
    built.model.eval()
    logits = task.logits(built.model, batch)
    assert logits.shape == (4, 100) and torch.isfinite(logits).all()


def test_a_real_scale_loads_through_from_pretrained(tmp_path):
    """Point a scale at a local checkpoint folder: build goes through from_pretrained and the image
    processor found there drives the task's per-batch resizing."""
    from transformers import MobileNetV2ImageProcessorPil as Processor

    task = build_task("cifar100")
    spec = registry().get("models", NAME)
    saved = build_family(NAME).build(task, "tiny", seed=5).model
    saved.save_pretrained(tmp_path / "ckpt")
    Processor(size={"shortest_edge": 48}).save_pretrained(tmp_path / "ckpt")
    family = spec.load()(dataclasses.replace(spec, scales={**spec.scales, "local": str(tmp_path / "ckpt")}))
    built = family.build(task, "local", seed=0)
    assert built.info["hub_id"] == str(tmp_path / "ckpt")
    loaded, original = built.model.state_dict(), saved.state_dict()
    body = [k for k in original if "classifier" not in k and "head" not in k]
    assert body and all(torch.equal(loaded[k], original[k]) for k in body), "pretrained body not loaded"
    rows = task.encode(task.load("mini")["test"].select(range(2)), built)
    batch = task.prepare_batch(next(rows.batches(2)), built)
    assert batch["pixel_values"].shape[-2:] == (48, 48)
    with torch.no_grad():
        assert task.logits(built.model.eval(), batch).shape == (2, 100)
    with pytest.raises(ValueError, match="no scale"):
        family.build(task, "huge", seed=0)
