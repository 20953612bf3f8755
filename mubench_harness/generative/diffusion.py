"""Text-to-image diffusion: the model wrapper methods train, and the task base with its primitives.

:class:`DiffusionModel` wraps a pipeline's parts in ONE ``nn.Module`` whose trainable part is the UNet
(text encoder and VAE frozen and kept in eval mode), so the shared loop, deep copies, LoRA and SalUn
masks work on it unchanged. Without a VAE it denoises in pixel space (the tiny scale: a random,
untrained VAE would make generated images meaningless).

Noise: inside a training step of the loop (:data:`~mubench_harness.training.CURRENT_STEP`) the
x_t, t and ε of a row are drawn from a generator seeded by a per-step base (fresh from torch's global
RNG, seeded per run by the caller) and the row's ``idx``, so every term of one step shares them —
the student's loss, a frozen teacher's or reference's outputs (whatever order or mode they are
called in), and another conditioning of the same row (SalUn's redirect) — while the next step draws
new noise. Outside a step (signals, scoring, saliency) the base is the task's ``noise_seed``: the
noise is fixed per sample, so evaluation is deterministic and comparable across models.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..contracts import Outputs, Task
from ..data import Rows
from ..training import CURRENT_STEP
from .settings import Sampling
from .text import swap_targets


class DiffusionModel(nn.Module):
    def __init__(self, unet: nn.Module, text_encoder: nn.Module, noise_scheduler, vae: nn.Module | None = None):
        super().__init__()
        self.unet, self.text_encoder, self.vae = unet, text_encoder, vae
        self.noise_scheduler = noise_scheduler  # a plain object: copied with the module, never trained
        self.text_encoder.requires_grad_(False)
        if vae is not None:
            vae.requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.text_encoder.eval()  # frozen parts never switch to training behaviour (dropout)
        if self.vae is not None:
            self.vae.eval()
        return self

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        c = self.unet.config
        return (c.in_channels, c.sample_size, c.sample_size)

    @property
    def resolution(self) -> int:
        factor = 1 if self.vae is None else 2 ** (len(self.vae.config.block_out_channels) - 1)
        return self.unet.config.sample_size * factor

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def to_latents(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if self.vae is None:
            return pixel_values
        with torch.no_grad():  # the posterior mean: deterministic latents for a given image
            return self.vae.encode(pixel_values).latent_dist.mean * self.vae.config.scaling_factor

    def to_pixels(self, latents: torch.Tensor) -> torch.Tensor:
        if self.vae is not None:
            latents = self.vae.decode(latents / self.vae.config.scaling_factor).sample
        return latents.clamp(-1, 1)

    def forward(self, noisy_latents, timesteps, encoder_hidden_states, encoder_attention_mask=None):
        """Predicted noise ε̂(x_t, t, c). Stable Diffusion attends over the whole padded caption (its
        text encoder's causal attention already summarises the caption into the later positions)."""
        return self.unet(noisy_latents, timesteps, encoder_hidden_states=encoder_hidden_states,
                         encoder_attention_mask=encoder_attention_mask).sample

    @torch.no_grad()
    def generate(self, input_ids, attention_mask, *, steps: int, guidance_scale: float, seeds: list[int],
                 uncond_ids=None, uncond_mask=None) -> torch.Tensor:
        """Images in [-1, 1] by DDIM; sample i starts from latents drawn with seed ``seeds[i]``."""
        from diffusers import DDIMScheduler

        scheduler = DDIMScheduler.from_config(self.noise_scheduler.config)
        scheduler.set_timesteps(steps)
        device = input_ids.device
        latents = torch.stack([torch.randn(self.latent_shape, generator=torch.Generator().manual_seed(s))
                               for s in seeds]).to(device)
        cond = self.encode_text(input_ids, attention_mask)
        guided = guidance_scale > 1.0 and uncond_ids is not None
        if guided:
            uncond = self.encode_text(uncond_ids.expand_as(input_ids), uncond_mask.expand_as(attention_mask))
        for t in scheduler.timesteps:
            tt = t.expand(len(latents)).to(device)
            if guided:
                eps_u, eps_c = self(torch.cat([latents, latents]), torch.cat([tt, tt]), torch.cat([uncond, cond])).chunk(2)
                eps = eps_u + guidance_scale * (eps_c - eps_u)
            else:
                eps = self(latents, tt, cond)
            latents = scheduler.step(eps, t, latents).prev_sample
        return self.to_pixels(latents)


class TextToImageTask(Task):
    """Rows: ``pixels`` uint8 [B, 3, R, R], ``input_ids`` / ``attention_mask`` (the caption), ``labels``
    (the class the caption names). :meth:`prepare_batch` adds ``pixel_values`` in [-1, 1] at the
    model's resolution. Subclasses implement ``load``, :meth:`captions` and :meth:`image_classifier`."""

    kind = "text_to_image"

    def __init__(self, args):
        super().__init__(args)
        self.tokenizer = None
        self.resolution: int | None = None
        self._memo: dict = {}

    @property
    def sampling(self) -> Sampling:
        return getattr(self.args, "sampling", None) or Sampling()

    # -- data -----------------------------------------------------------------------------------
    def images_and_labels(self, dataset) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images [N, 3, R, R] and class ids [N]."""
        raise NotImplementedError

    def captions(self, labels: torch.Tensor) -> list[str]:
        raise NotImplementedError

    def image_classifier(self) -> nn.Module:
        """The fixed classifier that checks generated images: maps [B, 3, r, r] in [-1, 1] to logits."""
        raise NotImplementedError

    def tokenizer_corpus(self, source):
        labels = self.images_and_labels(self.load(source)["train"])[1]
        return self.captions(torch.unique(labels)) + [""]

    def encode(self, dataset, built):
        if built.processor is None:
            raise ValueError(f"{type(self).__name__} needs a tokenizer: the model family built none")
        self.tokenizer, self.resolution = built.processor, built.info.get("resolution")
        pixels, labels = self.images_and_labels(dataset)
        tok = self.tokenizer(self.captions(labels), padding="max_length", truncation=True,
                             max_length=getattr(self.args, "max_caption_tokens", 16), return_tensors="pt")
        return Rows({"pixels": pixels, "input_ids": tok["input_ids"], "attention_mask": tok["attention_mask"],
                     "labels": labels})

    def prepare_batch(self, batch, built):
        if built is not None:
            self.tokenizer, self.resolution = built.processor, built.info.get("resolution", self.resolution)
        if "pixel_values" in batch:
            return batch
        x = batch["pixels"].float() / 127.5 - 1.0
        if self.resolution and x.shape[-1] != self.resolution:
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear", align_corners=False)
        return {**batch, "pixel_values": x}

    def model_inputs(self, batch):
        return {k: batch[k] for k in ("pixel_values", "input_ids", "attention_mask")}

    def chance(self, rows: Rows) -> float:
        """No chance level for generation: the metrics report the original model's Df score instead."""
        return 0.0

    # -- noise shared within a step -------------------------------------------------------------
    def noise(self, model: DiffusionModel, batch, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(ε, t) for the batch's rows (see the module docstring)."""
        step = CURRENT_STEP.get()
        if step is None:
            base = int(getattr(self.args, "noise_seed", 0))
        elif self._memo.get("step") == step:
            base = self._memo["base"]
        else:
            base = int(torch.randint(0, 2**31, (1,)))
            self._memo = {"step": step, "base": base}
        key = (base, tuple(batch["idx"].tolist()))
        if self._memo.get("key") != key:
            steps = model.noise_scheduler.config.num_train_timesteps
            eps, ts = [], []
            for i in key[1]:
                g = torch.Generator().manual_seed(base * 1_000_003 + i)
                ts.append(torch.randint(0, steps, (1,), generator=g))
                eps.append(torch.randn(latents.shape[1:], generator=g))
            self._memo.update(key=key, eps=torch.stack(eps), t=torch.cat(ts))
        return self._memo["eps"].to(latents.device, latents.dtype), self._memo["t"].to(latents.device)

    def _predict(self, model, batch):
        latents = model.to_latents(batch["pixel_values"])
        eps, t = self.noise(model, batch, latents)
        noisy = model.noise_scheduler.add_noise(latents, eps, t)
        pred = model(noisy, t, model.encode_text(batch["input_ids"], batch["attention_mask"]))
        return pred, eps

    # -- primitives -----------------------------------------------------------------------------
    def per_sample_loss(self, model, batch):
        """Noise-prediction MSE per sample [B] (ε-prediction, as Stable Diffusion v1)."""
        pred, eps = self._predict(model, batch)
        return (pred.float() - eps.float()).pow(2).flatten(1).mean(1)

    def sequence_nll(self, model, batch):
        """NPO's ℓ for diffusion: the denoising error SUMMED over the latent's entries, ‖ε − ε̂(x_t, t, c)‖²
        — the per-sample term of the negative ELBO, up to the timestep weight and constants — the
        counterpart of the summed target-token NLL of a language model."""
        pred, eps = self._predict(model, batch)
        return (pred.float() - eps.float()).pow(2).flatten(1).sum(1)

    def outputs(self, model, batch):
        return Outputs(self._predict(model, batch)[0], kind="noise")

    def corrupt(self, forget, pool, generator, include_true=False):
        """Each Df image gets another sample's caption (and its class) from the pool."""
        return swap_targets(forget, pool, generator, key="input_ids",
                            columns=("input_ids", "attention_mask", "labels"), include_true=include_true)

    # -- generation and scoring -----------------------------------------------------------------
    def generate_images(self, model: DiffusionModel, batch) -> torch.Tensor:
        """``images_per_prompt`` = k images per sample in [-1, 1], sample-major [B·k, 3, R, R]: image j of
        sample i starts from latents seeded ``seed + idx·k + j``, so it does not depend on the batch."""
        from tqdm.auto import tqdm

        s, k = self.sampling, self.sampling.images_per_prompt
        ids = batch["input_ids"].repeat_interleave(k, 0)
        mask = batch["attention_mask"].repeat_interleave(k, 0)
        all_seeds = [s.seed + int(i) * k + j for i in batch["idx"] for j in range(k)]
        uncond_ids = uncond_mask = None
        if s.guidance_scale > 1.0:
            tok = self.tokenizer([""], padding="max_length", truncation=True, max_length=ids.shape[1], return_tensors="pt")
            uncond_ids, uncond_mask = tok["input_ids"].to(ids.device), tok["attention_mask"].to(ids.device)
        was_training = model.training
        model.eval()
        out = []
        with tqdm(total=len(all_seeds), desc=f"{type(self).__name__}: generating", unit="image", disable=None,
                  leave=False) as bar:
            for start in range(0, len(all_seeds), s.batch_size):
                sl = slice(start, start + s.batch_size)
                out.append(model.generate(ids[sl], mask[sl], steps=s.steps, guidance_scale=s.guidance_scale,
                                          seeds=all_seeds[sl], uncond_ids=uncond_ids, uncond_mask=uncond_mask))
                bar.update(len(all_seeds[sl]))
        model.train(was_training)
        return torch.cat(out)

    def per_prompt(self, values: torch.Tensor) -> torch.Tensor:
        """Per-image values [B·k] → their mean per sample [B]."""
        return values.view(-1, self.sampling.images_per_prompt).mean(1)

    def judge(self, images: torch.Tensor) -> torch.Tensor:
        """The fixed classifier's logits on generated images."""
        classifier = self.image_classifier().to(images.device)
        with torch.no_grad():
            return classifier(images).float()

    def clip_scorer(self):
        """A :class:`~.clip.ClipScorer` when the task names a CLIP model (``clip_model``), else ``None``."""
        model_id = getattr(self.args, "clip_model", None)
        if model_id is None:
            return None
        if getattr(self, "_clip", None) is None or self._clip.model_id != model_id:
            from .clip import ClipScorer

            self._clip = ClipScorer(model_id, weight=getattr(self.args, "clip_weight", 100.0))
        return self._clip

    def score(self, model, batch):
        """Share of a sample's generated images the fixed classifier assigns to the prompt's class."""
        labels = batch["labels"].repeat_interleave(self.sampling.images_per_prompt)
        return self.per_prompt((self.judge(self.generate_images(model, batch)).argmax(-1) == labels).float())

    def signals(self, model, batch):
        """loss = denoising MSE, p_true = exp(−loss); score, entropy and margin come from the fixed
        classifier's predictions on the images generated for the sample's caption (means over them);
        ``clip_score`` (when the task names a CLIP model) compares those same images with the caption."""
        loss = self.per_sample_loss(model, batch)
        images = self.generate_images(model, batch)
        logits = self.judge(images)
        labels = batch["labels"].repeat_interleave(self.sampling.images_per_prompt)
        logp = logits.log_softmax(-1)
        other = logits.scatter(1, labels[:, None], float("-inf")).max(-1).values
        per_image = {"score": (logits.argmax(-1) == labels).float(),
                     "entropy": -(logp.exp() * logp).nan_to_num().sum(-1),
                     "margin": logits.gather(1, labels[:, None]).squeeze(1) - other}
        clip = self.clip_scorer()
        if clip is not None:
            per_image["clip_score"] = clip(images, self.captions(labels))
        return {"loss": loss, "p_true": torch.exp(-loss), **{k: self.per_prompt(v) for k, v in per_image.items()}}
