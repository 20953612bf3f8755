"""Hand checks of the text-to-image primitives: shared noise within a step, frozen parts, corruption."""
from __future__ import annotations

import copy

import pytest
import torch
from pydantic import BaseModel

from mubench_harness.data import Rows
from mubench_harness.generative.diffusion import DiffusionModel, TextToImageTask
from mubench_harness.testing.diffusion import tiny_diffusion_model
from mubench_harness.training import Phase, run_loop


class _Args(BaseModel):
    noise_seed: int = 0


class _Task(TextToImageTask):
    pass


def _model(vae: bool = False) -> DiffusionModel:
    return tiny_diffusion_model(vae=vae)


def _batch(idx, res=8):
    n = len(idx)
    g = torch.Generator().manual_seed(1)
    return {"pixel_values": torch.rand(n, 3, res, res, generator=g) * 2 - 1,
            "input_ids": torch.randint(3, 20, (n, 6), generator=g), "attention_mask": torch.ones(n, 6, dtype=torch.long),
            "labels": torch.arange(n), "idx": torch.tensor(idx)}


def test_noise_is_shared_within_a_step_and_fresh_across_steps():
    """Through the real loop: the frozen teacher speaks first (eval mode, its own batch object), the
    student second, and a copy of the rows with another tensor object third — all in one step."""
    task, student = _Task(_Args()), _model()
    teacher = copy.deepcopy(student).eval()
    rows = Rows({k: v for k, v in _batch([0, 1, 2]).items()})
    seen = []

    def loss(model, batch):
        with torch.no_grad():
            t = task.outputs(teacher, dict(batch)).values
        eps_teacher = task._memo["eps"].clone()
        s = task.outputs(model, batch).values
        copy_of_rows = {k: v.clone() for k, v in batch.items()}  # e.g. SalUn's other conditioning of the row
        task.outputs(model, copy_of_rows)
        seen.append((eps_teacher, task._memo["eps"].clone(), torch.allclose(s, t, atol=1e-5)))
        return (s - t).pow(2).mean() + s.sum() * 0

    torch.manual_seed(0)
    run_loop(student, lambda e: [Phase("p", rows, 3, loss, shuffle=False)], epochs=2,
             optimizer=torch.optim.SGD(student.parameters(), lr=0.0), seed=0)
    (t1, s1, same1), (t2, s2, same2) = seen
    assert torch.equal(t1, s1) and torch.equal(t2, s2), "one step: teacher, student and row copies share ε"
    assert same1 and same2, "with equal weights the teacher and student predict the same noise"
    assert not torch.equal(s1, s2), "the next step draws new noise"
    outside = task.outputs(student.train(), _batch([0, 1, 2]))  # outside the loop: fixed evaluation noise
    assert not torch.equal(task._memo["eps"], s1) and outside.values.shape == (3, 3, 8, 8)


def test_eval_noise_is_fixed_per_sample():
    task, model = _Task(_Args()), _model()
    model.eval()
    first = task.per_sample_loss(model, _batch([4, 5]))
    task.per_sample_loss(model.train(), _batch([4, 5]))  # history in between must not matter
    model.eval()
    again = task.per_sample_loss(model, _batch([4, 5]))
    assert torch.equal(first, again)
    other_seed = _Task(_Args(noise_seed=1)).per_sample_loss(model, _batch([4, 5]))
    assert not torch.equal(first, other_seed)


def test_loss_is_noise_prediction_mse():
    task, model = _Task(_Args()), _model()
    model.eval()
    batch = _batch([0, 1])
    pred = task.outputs(model, batch)
    assert pred.kind == "noise" and pred.values.shape == (2, 3, 8, 8)
    eps = task._memo["eps"]
    expected = (pred.values - eps).pow(2).flatten(1).mean(1)
    assert torch.allclose(task.per_sample_loss(model, batch), expected, atol=1e-6)
    summed = (pred.values - eps).pow(2).flatten(1).sum(1)  # NPO's ℓ: the negative-ELBO term, summed
    assert torch.allclose(task.sequence_nll(model, batch), summed, rtol=1e-5)


def test_only_the_unet_trains_and_frozen_parts_stay_in_eval():
    model = _model(vae=True)
    model.train()
    assert model.unet.training and not model.text_encoder.training and not model.vae.training
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"unet"}
    assert model.resolution == 16 and model.latent_shape == (4, 8, 8)
    latents = model.to_latents(torch.zeros(1, 3, 16, 16))
    assert latents.shape == (1, 4, 8, 8) and model.to_pixels(latents).shape == (1, 3, 16, 16)
    images = model.generate(torch.randint(3, 20, (2, 6)), torch.ones(2, 6, dtype=torch.long), steps=2,
                            guidance_scale=3.0, seeds=[0, 1], uncond_ids=torch.zeros(1, 6, dtype=torch.long),
                            uncond_mask=torch.ones(1, 6, dtype=torch.long))
    assert images.shape == (2, 3, 16, 16) and images.abs().max() <= 1


def test_generation_is_seeded_per_sample():
    model = _model()
    ids, mask = torch.randint(3, 20, (2, 6)), torch.ones(2, 6, dtype=torch.long)
    a = model.generate(ids, mask, steps=2, guidance_scale=1.0, seeds=[0, 1])
    b = model.generate(ids[:1], mask[:1], steps=2, guidance_scale=1.0, seeds=[0])
    assert torch.allclose(a[:1], b, atol=1e-5), "a sample's image must not depend on its batch"


def test_corrupt_swaps_caption_and_class_together():
    task = _Task(_Args())
    captions = torch.tensor([[5, 6], [5, 6], [7, 8], [9, 9]])
    rows = Rows({"input_ids": captions, "attention_mask": torch.ones(4, 2, dtype=torch.long),
                 "labels": torch.tensor([0, 0, 1, 2]), "pixels": torch.zeros(4, 3, 2, 2, dtype=torch.uint8)})
    out = task.corrupt(rows, rows, torch.Generator().manual_seed(0))
    assert (out["input_ids"] != captions).any(1).all() and (out["labels"] != rows["labels"]).all()
    assert torch.equal(out["pixels"], rows["pixels"]), "the image stays; only its caption changes"
    with pytest.raises(ValueError):
        task.corrupt(rows.select([0, 1]), rows.select([0, 1]), torch.Generator().manual_seed(0))


def test_several_images_per_prompt_are_seeded_per_image_and_averaged():
    from mubench_harness.generative.settings import Sampling

    class Args(_Args):
        sampling: Sampling = Sampling(steps=2, images_per_prompt=2, batch_size=3, seed=5)

    class SignOfMean(torch.nn.Module):  # class 1 when the image's mean is positive: a fixed, known judge
        def forward(self, images):
            return torch.stack([-images.mean((1, 2, 3)), images.mean((1, 2, 3))], 1)

    class Judged(_Task):
        def image_classifier(self):
            return SignOfMean()

    task, model = Judged(Args()), _model()
    batch = _batch([3, 8])
    images = task.generate_images(model, batch)
    assert images.shape == (4, 3, 8, 8)
    alone = model.generate(batch["input_ids"][1:], batch["attention_mask"][1:], steps=2, guidance_scale=1.0,
                           seeds=[5 + 8 * 2 + 1])  # image j = 1 of the sample with idx 8
    assert torch.allclose(images[3:], alone, atol=1e-5)
    batch["labels"] = torch.tensor([1, 0])
    per_image = (images.mean((1, 2, 3)) > 0).long() == batch["labels"].repeat_interleave(2)
    assert torch.equal(task.score(model, batch), per_image.float().view(2, 2).mean(1))
    sig = task.signals(model, batch)
    assert torch.equal(sig["score"], task.score(model, batch)) and sig["margin"].shape == (2,)


def test_two_ddim_steps_equal_a_hand_computation():
    """Generation is DDIM with η = 0 from latents seeded per sample: with 2 of 100 steps (t = 50, 0) and
    no guidance, x0 = clip((x_t − √(1−ᾱ_t)·ε)/√ᾱ_t, −1, 1) and x_prev = √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε,
    ᾱ_prev = 1 after the last step; the image is the final x0 (pixel space: no VAE)."""
    from diffusers import DDIMScheduler

    model = _model().eval()
    ids, mask = torch.randint(3, 20, (2, 6), generator=torch.Generator().manual_seed(4)), torch.ones(2, 6, dtype=torch.long)
    images = model.generate(ids, mask, steps=2, guidance_scale=1.0, seeds=[7, 8])

    config = DDIMScheduler.from_config(model.noise_scheduler.config).config
    assert (config.prediction_type, config.clip_sample, config.set_alpha_to_one, config.timestep_spacing) == \
        ("epsilon", True, True, "leading")  # the assumptions of the hand computation below
    abar = model.noise_scheduler.alphas_cumprod
    x = torch.stack([torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(s)) for s in (7, 8)])
    with torch.no_grad():
        cond = model.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        for t, prev in ((50, 0), (0, None)):
            eps = model.unet(x, torch.full((2,), t), encoder_hidden_states=cond).sample
            x0 = ((x - (1 - abar[t]).sqrt() * eps) / abar[t].sqrt()).clamp(-1, 1)
            a_prev = abar[prev] if prev is not None else torch.tensor(1.0)
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    assert torch.allclose(images, x.clamp(-1, 1), atol=1e-5)
    assert images.std() > 0.05  # an image, not a constant the clamp produced


def test_generated_image_depends_on_the_prompt_and_the_guidance():
    model = _model().eval()
    mask = torch.ones(1, 6, dtype=torch.long)
    a, b = torch.tensor([[1, 5, 6, 7, 8, 2]]), torch.tensor([[1, 9, 10, 11, 12, 2]])
    uncond = dict(uncond_ids=torch.tensor([[1, 2, 0, 0, 0, 0]]), uncond_mask=torch.tensor([[1, 1, 0, 0, 0, 0]]))
    gen = lambda ids, g=1.0, **kw: model.generate(ids, mask, steps=3, guidance_scale=g, seeds=[0], **kw)  # noqa: E731
    same_prompt = gen(a)
    assert torch.equal(same_prompt, gen(a))  # deterministic for a seed
    other_prompt = gen(b)
    assert (same_prompt - other_prompt).abs().max() > 1e-3, "the caption conditions the image"
    guided = gen(a, 5.0, **uncond)
    assert (guided - same_prompt).abs().max() > 1e-3, "classifier-free guidance moves the image away from unconditioned"
    # guidance 1 with an unconditioned prompt is plain conditional sampling
    assert torch.allclose(gen(a, 1.0, **uncond), same_prompt, atol=1e-6)
