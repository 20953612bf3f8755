"""ViLT family: contract, a tiny forward pass on NLVR2 batches, and the real scale's loading path."""
from __future__ import annotations

import torch

from mubench_harness.testing import ModelContract, build_family, build_task, registry


class TestContract(ModelContract):
    name = "vilt"
    task = "nlvr2"


def test_real_scale_is_the_nlvr2_finetuned_checkpoint():
    spec = registry().get("models", "vilt")
    assert spec.scales == {"b32-nlvr2": "dandelin/vilt-b32-finetuned-nlvr2", "tiny": None}
    assert spec.given == ("b32-nlvr2",), "the paper takes the NLVR2 fine-tuned checkpoint as the original"
    assert spec.serves_task(registry().get("tasks", "nlvr2"))
    assert not spec.serves_task(registry().get("tasks", "toy_blobs"))  # an unfit pairing


def test_tiny_forward_on_two_images_and_a_statement():
    task = build_task("nlvr2", n_train=40, n_test=20)
    built = build_family("vilt").build(task, "tiny", seed=0)
    assert built.model.config.num_images == 2 and built.model.config.modality_type_vocab_size == 3
    rows = task.encode(task.load("mini")["train"].select(range(6)), built)
    assert rows["pixel_values"].shape == (6, 2, 3, 32, 32) and rows["pixel_values"].dtype == torch.uint8
    # one patch per cell of the mini scenes: an object is never split across patches
    from mubench_nlvr2 import mini

    assert built.model.config.image_size == mini.SIZE and built.model.config.patch_size == mini.CELL
    assert (rows["input_ids"][:, 0] == built.processor.cls_token_id).all()
    batch = next(rows.batches(6))
    inputs = task.model_inputs(batch)
    assert inputs["pixel_values"].dtype == torch.float32 and inputs["pixel_values"].abs().max() <= 1.0
    built.model.eval()
    with torch.no_grad():
        logits = task.logits(built.model, batch)
    assert logits.shape == (6, 2) and torch.isfinite(logits).all()


def test_real_scale_builds_through_from_pretrained(tmp_path, monkeypatch):
    """Without network: save a small ViLT checkpoint + processor in the hub layout and point the real
    scale at it; ``build`` must load the checkpoint's weights, not a fresh init."""
    from transformers import BertTokenizerFast, ViltImageProcessor, ViltProcessor

    task = build_task("nlvr2", n_train=40, n_test=20)
    fam = build_family("vilt")
    source = fam.build(task, "tiny", seed=7).model
    source.save_pretrained(tmp_path)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "left", "image"]))
    ViltProcessor(ViltImageProcessor(), BertTokenizerFast(vocab_file=str(vocab))).save_pretrained(tmp_path)
    monkeypatch.setitem(fam.spec.scales, "b32-nlvr2", str(tmp_path))
    built = fam.build(task, "b32-nlvr2", seed=0)
    assert built.info["hub_id"] == str(tmp_path)
    loaded, saved = built.model.state_dict(), source.state_dict()
    assert all(torch.equal(loaded[k], saved[k]) for k in saved)  # the given checkpoint, head included
    assert isinstance(built.processor, ViltProcessor)
    rows = task.encode(task.load("mini")["test"].select(range(2)), built)
    assert rows["pixel_values"].shape[-1] == built.model.config.image_size
