"""Contract tests shared by every model family built on :class:`mubench_harness.hf.HFFamily`.

    class TestContract(HFFamilyContract):
        name, task = "resnet", "cifar100"
        hub_ids = {"18": "microsoft/resnet-18", ..., "tiny": None}
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
import torch

from . import ModelContract, build_family, build_task, registry

HEAD_WORDS = ("classifier", "head", "score")


class HFFamilyContract(ModelContract):
    #: every scale and the hub id it loads (``None``: built offline)
    hub_ids: ClassVar[dict[str, str | None]]

    def local_processor(self) -> Any:
        """A processor to save beside a local checkpoint when the tiny build has none (image
        families save their image processor here); ``None``: save the built one, if any."""
        return None

    def _batch(self, task, built, split: str = "train", n: int = 4):
        rows = task.encode(task.load("mini")[split].select(range(n)), built)
        return task.prepare_batch(next(rows.batches(n)), built)

    def test_real_scales_map_to_the_papers_hub_ids(self):
        assert registry().get("models", self.name).scales == self.hub_ids

    def test_tiny_forward_on_the_tasks_batch(self):
        task = build_task(self.task)
        built = build_family(self.name).build(task, "tiny", seed=0)
        with torch.no_grad():
            loss = task.per_sample_loss(built.model.eval(), self._batch(task, built))
        assert loss.shape == (4,) and torch.isfinite(loss).all()

    def test_a_real_scale_loads_through_from_pretrained(self, tmp_path):
        """Point a scale at a local folder saved with ``save_pretrained``: ``build`` goes through
        ``from_pretrained``, the body is the saved one and the head is fresh."""
        task = build_task(self.task)
        spec = registry().get("models", self.name)
        saved = build_family(self.name).build(task, "tiny", seed=5)
        folder = tmp_path / "ckpt"
        saved.model.save_pretrained(folder)
        processor = self.local_processor() or saved.processor
        if processor is not None:
            processor.save_pretrained(folder)
        family = spec.load()(dataclasses.replace(spec, scales={**spec.scales, "local": str(folder)}))
        built = family.build(task, "local", seed=0)
        assert built.info["hub_id"] == str(folder)
        loaded, original = built.model.state_dict(), saved.model.state_dict()
        body = [k for k in original if not any(w in k for w in HEAD_WORDS)]
        assert body and all(torch.equal(loaded[k], original[k]) for k in body), "pretrained body not loaded"
        with torch.no_grad():
            loss = task.per_sample_loss(built.model.eval(), self._batch(task, built, "test", 2))
        assert loss.shape == (2,) and torch.isfinite(loss).all()
        with pytest.raises(ValueError, match="no scale"):
            family.build(task, "huge", seed=0)
