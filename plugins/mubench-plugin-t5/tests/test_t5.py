import pytest
import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry


class TestContract(ModelContract):
    name = "t5"
    task = "samsum"


def test_real_scales_are_t5_v1_1_hub_ids():
    spec = registry().get("models", "t5")
    assert spec.scales == {"small": "google/t5-v1_1-small", "base": "google/t5-v1_1-base",
                           "large": "google/t5-v1_1-large", "xl": "google/t5-v1_1-xl", "tiny": None}
    assert spec.serves_task(registry().get("tasks", "samsum"))
    assert not spec.serves_task(registry().get("tasks", "toy_blobs")), "a classification task is not served"


def test_tiny_forward_on_task_batch():
    task = build_task("samsum")
    data = task.load("mini")
    built = build_family("t5").build(task, "tiny", seed=0)
    assert built.model.config.vocab_size == len(built.processor)
    assert built.model.config.decoder_start_token_id == built.processor.pad_token_id
    batch = next(task.encode(data["train"].select(range(4)), built).batches(4))
    out = task.outputs(built.model, batch)
    assert out.values.shape == (*batch["labels"].shape, len(built.processor)) and out.mask.dtype == torch.bool
    ids = task.generate_ids(built.model, batch, task.decoding)
    assert ids.shape[0] == 4 and ids.shape[1] <= task.decoding.max_new_tokens + 1


def test_real_scale_goes_through_from_pretrained(tmp_path, monkeypatch):
    task = build_task("samsum")
    task.load("mini")
    fam = build_family("t5")
    tiny = fam.build(task, "tiny", seed=0)
    tiny.model.save_pretrained(tmp_path)
    tiny.processor.save_pretrained(tmp_path)
    monkeypatch.setitem(fam.spec.scales, "small", str(tmp_path))
    real = fam.build(task, "small", seed=0)
    assert real.info["hub_id"] == str(tmp_path)
    sa, sb = tiny.model.state_dict(), real.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa), "weights must come from the checkpoint"
    assert real.processor("hello there")["input_ids"] == tiny.processor("hello there")["input_ids"]


def test_unknown_init_is_an_error():
    with pytest.raises(ValueError, match="init"):
        build_family("t5").build(build_task("samsum"), "tiny", init="sideways")
