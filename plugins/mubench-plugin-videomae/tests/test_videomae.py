"""VideoMAE family: contract, a tiny forward pass on UCF101 clips, and the real scales' loading path."""
from __future__ import annotations

import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry


class TestContract(ModelContract):
    name = "videomae"
    task = "ucf101"


def test_real_scales_map_to_the_papers_checkpoints():
    spec = registry().get("models", "videomae")
    assert spec.scales == {"base": "MCG-NJU/videomae-base", "large": "MCG-NJU/videomae-large", "tiny": None}
    assert not spec.serves_task(registry().get("tasks", "toy_blobs"))


def test_tiny_forward_on_ucf101_clips():
    task = build_task("ucf101", clips_per_class=4)
    built = build_family("videomae").build(task, "tiny", seed=0)
    rows = task.encode(task.load("mini")["train"].select(range(3)), built)
    assert rows["pixel_values"].shape == (3, 8, 3, 32, 32)
    built.model.eval()
    with torch.no_grad():
        logits = task.logits(built.model, next(rows.batches(3)))
    assert logits.shape == (3, 12) and torch.isfinite(logits).all()


def test_real_scale_builds_through_from_pretrained(tmp_path, monkeypatch):
    task = build_task("ucf101", clips_per_class=4)
    fam = build_family("videomae")
    tiny = fam.build(task, "tiny", seed=3)
    tiny.model.base_model.save_pretrained(tmp_path)  # the hub checkpoints carry no action head
    tiny.processor.save_pretrained(tmp_path)
    monkeypatch.setitem(fam.spec.scales, "base", str(tmp_path))
    built = fam.build(task, "base", seed=0)
    loaded, saved = built.model.state_dict(), tiny.model.state_dict()
    body = [k for k in saved if k.startswith("videomae.")]
    assert body and all(torch.equal(loaded[k], saved[k]) for k in body)
    assert built.model.classifier.out_features == 12
    assert not torch.equal(fam.build(task, "base", seed=1).model.classifier.weight, built.model.classifier.weight)
