"""Contract tests shared by every model family built on :class:`mubench_harness.hf.HFFamily`.

    class TestContract(HFFamilyContract):
        name, task = "resnet", "cifar100"
        hub_ids = {"18": "microsoft/resnet-18", ..., "tiny": None}

Text classification families add :class:`TextFamilyContract`; audio classification families, whose hub
checkpoints are bodies without a head, use :class:`AudioFamilyContract`.
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

    def save_checkpoint(self, model, folder) -> None:
        """Save ``model`` as the hub checkpoints hold it (default: the whole model, head included)."""
        model.save_pretrained(folder)

    def is_head(self, key: str) -> bool:
        """Whether a state-dict key belongs to the task head, which a real scale builds fresh."""
        return any(w in key for w in HEAD_WORDS)

    def _batch(self, task, built, split: str = "train", n: int = 4):
        rows = task.encode(task.load("mini")[split].select(range(n)), built)
        return task.prepare_batch(next(rows.batches(n)), built)

    def _build_from_local_checkpoint(self, tmp_path):
        """Save a tiny build (seed 5) as a local checkpoint and build a ``local`` scale pointed at it:
        (task, family with that scale, the saved build, the loaded build at seed 0)."""
        task = build_task(self.task)
        spec = registry().get("models", self.name)
        saved = build_family(self.name).build(task, "tiny", seed=5)
        folder = tmp_path / "ckpt"
        self.save_checkpoint(saved.model, folder)
        processor = self.local_processor() or saved.processor
        if processor is not None:
            processor.save_pretrained(folder)
        family = spec.load()(dataclasses.replace(spec, scales={**spec.scales, "local": str(folder)}))
        built = family.build(task, "local", seed=0)
        assert built.info["hub_id"] == str(folder)
        loaded, original = built.model.state_dict(), saved.model.state_dict()
        body = [k for k in original if not self.is_head(k)]
        assert body and all(torch.equal(loaded[k], original[k]) for k in body), "pretrained body not loaded"
        return task, family, saved, built

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
        task, family, _, built = self._build_from_local_checkpoint(tmp_path)
        with torch.no_grad():
            loss = task.per_sample_loss(built.model.eval(), self._batch(task, built, "test", 2))
        assert loss.shape == (2,) and torch.isfinite(loss).all()
        with pytest.raises(ValueError, match="no scale"):
            family.build(task, "huge", seed=0)


class TextFamilyContract(HFFamilyContract):
    """Text classification families (BERT, DistilBERT, ELECTRA): the tiny scale's embedding table is
    sized to the offline tokenizer fitted on the task's mini corpus."""

    task = "imdb"

    def test_tiny_vocabulary_matches_the_offline_tokenizer(self):
        task = build_task(self.task)
        task.load("mini")
        built = build_family(self.name).build(task, "tiny", seed=0)
        assert built.model.config.vocab_size == len(built.processor)


class AudioFamilyContract(HFFamilyContract):
    """Audio classification families on Speech Commands. Their hub checkpoints are bodies without a
    classification head, so the local checkpoint is the tiny body alone (:meth:`save_checkpoint`)."""

    task = "speechcommands"
    #: the column of model inputs the family's feature extractor makes
    feature_column: ClassVar[str] = "input_values"

    def save_checkpoint(self, model, folder) -> None:
        model.base_model.save_pretrained(folder)

    def is_head(self, key: str) -> bool:
        return key.startswith(("classifier", "projector", "layer_weights"))

    def test_tiny_forward_on_the_tasks_batch(self):
        super().test_tiny_forward_on_the_tasks_batch()
        task = build_task(self.task)
        built = build_family(self.name).build(task, "tiny", seed=0)
        rows = task.encode(task.load("mini")["train"].select(range(4)), built)
        assert self.feature_column in rows.columns
        with torch.no_grad():
            logits = task.logits(built.model.eval(), next(rows.batches(4)))
        assert logits.shape == (4, task.num_classes) and torch.isfinite(logits).all()
        assert built.model.config.mask_time_prob == 0.0  # no numpy-RNG SpecAugment: seeds reproduce runs

    def test_a_real_scale_builds_the_processor_and_a_fresh_seeded_head(self, tmp_path):
        task, family, saved, built = self._build_from_local_checkpoint(tmp_path)
        assert type(built.processor) is type(saved.processor)
        # the head is fresh and seeded: another seed gives another head
        other = family.build(task, "local", seed=1).model.state_dict()
        assert not torch.equal(other["classifier.weight"], built.model.state_dict()["classifier.weight"])
