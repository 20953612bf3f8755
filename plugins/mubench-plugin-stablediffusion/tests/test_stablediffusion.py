from mubench_harness.specs import TaskSpec
import json

import pytest

from mubench_harness.testing import ModelContract, build_family, build_task, params_equal, registry


class TestContract(ModelContract):
    name = "stablediffusion"
    task = "tinyimagenet"


def test_real_scale_is_v1_4_and_serves_text_to_image_only():
    spec = registry().get("models", "stablediffusion")
    assert spec.scales == {"v1-4": "CompVis/stable-diffusion-v1-4", "tiny": None}
    assert spec.given == ("v1-4",), "the paper unlearns from the released v1.4; the tiny pipeline is trained here"
    assert spec.serves_task(registry().get("tasks", "tinyimagenet"))
    assert not spec.serves_task(TaskSpec(name="a_seq2seq_task", factory="m:a", summary="", kind="seq2seq", modality="text"))


def test_tiny_model_trains_only_the_unet_and_denoises_a_task_batch():
    task = build_task("tinyimagenet", n_per_class=5, n_test_per_class=2)
    data = task.load("mini")
    built = build_family("stablediffusion").build(task, "tiny", seed=0)
    model = built.model
    assert {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad} == {"unet"}
    assert built.info["resolution"] == task.args.image_size and built.info["trainable"] < built.info["parameters"]
    batch = task.prepare_batch(next(task.encode(data["train"], built).batches(4)), built)
    assert batch["pixel_values"].shape == (4, 3, 16, 16) and batch["pixel_values"].abs().max() <= 1
    loss = task.per_sample_loss(model, batch)
    loss.mean().backward()
    assert model.unet.conv_in.weight.grad is not None
    assert all(p.grad is None for p in model.text_encoder.parameters())


def _save_clip_tokenizer(folder):
    folder.mkdir()
    # a minimal CLIP BPE vocabulary: enough for from_pretrained to build the real tokenizer class
    (folder / "vocab.json").write_text(json.dumps({"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2}))
    (folder / "merges.txt").write_text("#version: 0.2\n")


def test_real_scale_goes_through_from_pretrained(tmp_path, monkeypatch):
    from diffusers import AutoencoderKL

    task = build_task("tinyimagenet", n_per_class=5, n_test_per_class=2)
    task.load("mini")
    fam = build_family("stablediffusion")
    tiny = fam.build(task, "tiny", seed=0).model
    tiny.unet.save_pretrained(tmp_path / "unet")
    tiny.text_encoder.save_pretrained(tmp_path / "text_encoder")
    tiny.noise_scheduler.save_pretrained(tmp_path / "scheduler")
    AutoencoderKL(in_channels=3, out_channels=3, latent_channels=3, block_out_channels=(8, 8), norm_num_groups=4,
                  down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2
                  ).save_pretrained(tmp_path / "vae")
    _save_clip_tokenizer(tmp_path / "tokenizer")
    monkeypatch.setitem(fam.spec.scales, "v1-4", str(tmp_path))
    real = fam.build(task, "v1-4", seed=0)
    assert type(real.processor).__name__.startswith("CLIPTokenizer")
    assert params_equal(real.model.unet, tiny.unet) and params_equal(real.model.text_encoder, tiny.text_encoder)
    assert real.model.vae is not None and real.info["resolution"] == 2 * tiny.unet.config.sample_size
    fresh = fam.build(task, "v1-4", init="random", seed=5)
    assert not params_equal(fresh.model.unet, tiny.unet), "Bad-T's teacher: a re-initialised UNet"
    assert params_equal(fresh.model.text_encoder, tiny.text_encoder), "the frozen parts stay pretrained"
    with pytest.raises(ValueError, match="init"):
        fam.build(task, "tiny", init="sideways")
