"""hubert family: contract, a tiny forward pass on Speech Commands batches, the real scales' hub ids and
their loading path through from_pretrained (offline, from a saved tiny checkpoint)."""
from __future__ import annotations

import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry


class TestContract(ModelContract):
    name = "hubert"
    task = "speechcommands"


def test_real_scales_map_to_the_papers_checkpoints():
    spec = registry().get("models", "hubert")
    assert spec.scales == {'base': 'facebook/hubert-base-ls960', 'large': 'facebook/hubert-large-ll60k', 'xlarge': 'facebook/hubert-xlarge-ll60k', 'tiny': None}
    assert not spec.serves_task(registry().get("tasks", "toy_blobs"))  # an unfit pairing


def test_tiny_forward_on_speech_commands():
    task = build_task("speechcommands")
    built = build_family("hubert").build(task, "tiny", seed=0)
    rows = task.encode(task.load("mini")["train"].select(range(4)), built)
    assert "input_values" in rows.columns
    built.model.eval()
    with torch.no_grad():
        logits = task.logits(built.model, next(rows.batches(4)))
    assert logits.shape == (4, task.num_classes) and torch.isfinite(logits).all()
    assert built.model.config.mask_time_prob == 0.0  # no numpy-RNG SpecAugment: seeds reproduce runs


def test_real_scale_builds_through_from_pretrained(tmp_path, monkeypatch):
    task = build_task("speechcommands")
    fam = build_family("hubert")
    tiny = fam.build(task, "tiny", seed=5)
    # the hub checkpoints are bodies without a classification head: save the tiny body alone
    tiny.model.base_model.save_pretrained(tmp_path)
    tiny.processor.save_pretrained(tmp_path)
    monkeypatch.setitem(fam.spec.scales, "base", str(tmp_path))
    built = fam.build(task, "base", seed=0)
    assert built.info["hub_id"] == str(tmp_path) and type(built.processor) is type(tiny.processor)
    loaded, saved = built.model.state_dict(), tiny.model.state_dict()
    body = [k for k in saved if not k.startswith(("classifier", "projector", "layer_weights"))]
    assert body and all(torch.equal(loaded[k], saved[k]) for k in body)  # the pretrained body is loaded
    # the head is fresh and seeded: another seed gives another head
    other = fam.build(task, "base", seed=1).model.state_dict()
    assert not torch.equal(other["classifier.weight"], loaded["classifier.weight"])
