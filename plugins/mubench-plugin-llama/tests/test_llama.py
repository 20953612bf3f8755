from mubench_harness.specs import TaskSpec
import pytest
import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry


class TestContract(ModelContract):
    name = "llama"
    task = "biofact"


def test_real_scales_are_alpaca_and_vicuna():
    spec = registry().get("models", "llama")
    assert spec.scales == {"alpaca-7b": "chavinlo/alpaca-native", "alpaca-13b": "chavinlo/alpaca-13b",
                           "vicuna-7b": "lmsys/vicuna-7b-v1.3", "vicuna-13b": "lmsys/vicuna-13b-v1.3", "tiny": None}
    assert spec.given == ("alpaca-7b", "alpaca-13b", "vicuna-7b", "vicuna-13b"), "the paper unlearns from them as given"
    assert spec.serves_task(registry().get("tasks", "biofact"))
    assert not spec.serves_task(TaskSpec(name="a_seq2seq_task", factory="m:a", summary="", kind="seq2seq", modality="text")), "seq2seq is T5's, not LLaMA's"


def _setup():
    task = build_task("biofact")
    data = task.load("mini")
    built = build_family("llama").build(task, "tiny", seed=0)
    return task, built, task.encode(data["train"].select(range(6)), built)


def test_left_padding_does_not_change_a_sample_loss():
    """Position ids follow the attention mask: a prompt's loss is the same alone or padded in a batch."""
    task, built, rows = _setup()
    built.model.eval()
    batch = dict(rows.columns)
    with torch.no_grad():
        together = task.per_sample_loss(built.model, batch)
        for i in range(len(rows)):
            one = {k: v[i : i + 1] for k, v in batch.items()}
            keep = one["prompt_mask"][0].bool()
            one["prompt_ids"], one["prompt_mask"] = one["prompt_ids"][:, keep], one["prompt_mask"][:, keep]
            assert task.per_sample_loss(built.model, one).item() == pytest.approx(together[i].item(), rel=1e-4, abs=1e-5)


def test_generation_is_batched_and_starts_after_the_prompt():
    task, built, rows = _setup()
    batch = dict(rows.columns)
    ids = task.generate_ids(built.model, batch, task.decoding)
    assert ids.shape[0] == len(rows) and ids.shape[1] <= task.decoding.max_new_tokens
    texts = task.generate_texts(built.model, batch)
    assert texts == task.generate_texts(built.model, batch), "greedy decoding is deterministic"


def test_real_scale_goes_through_from_pretrained(tmp_path, monkeypatch):
    task, tiny, _ = _setup()
    tiny.model.save_pretrained(tmp_path)
    tiny.processor.save_pretrained(tmp_path)
    fam = build_family("llama")
    monkeypatch.setitem(fam.spec.scales, "vicuna-7b", str(tmp_path))
    real = fam.build(task, "vicuna-7b", seed=0)
    sa, sb = tiny.model.state_dict(), real.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert real.processor.pad_token is not None
