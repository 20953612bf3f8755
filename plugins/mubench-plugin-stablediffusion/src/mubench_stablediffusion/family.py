"""Stable Diffusion family: builds a :class:`mubench_harness.generative.diffusion.DiffusionModel`.

Real scale: the v1.4 repository's ``unet``, ``text_encoder``, ``vae``, ``tokenizer`` and ``scheduler``
subfolders via ``from_pretrained``. ``init='random'`` re-initialises only the UNet (Bad-T's incompetent
teacher; the frozen parts are not what methods train). Tiny: a small UNet denoising 3-channel pixels
directly (no VAE: an untrained VAE's decoder would turn every sample into noise) and a 1-layer CLIP
text encoder over a word tokenizer fitted on the task's captions.
"""
from __future__ import annotations

from mubench_harness.contracts import Built, ModelFamily, seeded
from mubench_harness.generative.families import TinyTokenizerMixin

TINY_UNET = {
    "in_channels": 3, "out_channels": 3, "layers_per_block": 1, "block_out_channels": (32, 64),
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "cross_attention_dim": 32, "attention_head_dim": 8, "norm_num_groups": 8,
}
#: LoRA adapts the UNet's attention query/value projections, as MU-Bench's LoRA configuration does;
#: the frozen CLIP text encoder (encoded under no_grad) is never a target
LORA_TARGETS = ("to_q", "to_v")
TINY_TEXT = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
             "max_position_embeddings": 32}


class StableDiffusionFamily(TinyTokenizerMixin, ModelFamily):
    def hub_id(self, scale):
        if scale not in self.spec.scales:
            raise ValueError(f"model {self.spec.name!r} has no scale {scale!r}; scales: {', '.join(self.spec.scales)}")
        return self.spec.scales[scale]

    def build(self, task, scale, *, init="pretrained", seed=0):
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        from transformers import CLIPTextConfig, CLIPTextModel

        from mubench_harness.generative.diffusion import DiffusionModel

        if init not in ("pretrained", "random"):
            raise ValueError(f"init must be 'pretrained' or 'random', not {init!r}")
        hub_id = self.hub_id(scale)
        if hub_id is None:
            tok = self.tiny_tokenizer(task)
            size = getattr(task.args, "image_size", 16)
            with seeded(seed):
                unet = UNet2DConditionModel(sample_size=size, **TINY_UNET)
                text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                                                    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                                    **TINY_TEXT))
            scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
            model = DiffusionModel(unet, text, scheduler)
        else:
            from transformers import CLIPTokenizer

            tok = CLIPTokenizer.from_pretrained(hub_id, subfolder="tokenizer")
            text = CLIPTextModel.from_pretrained(hub_id, subfolder="text_encoder")
            vae = AutoencoderKL.from_pretrained(hub_id, subfolder="vae")
            scheduler = DDPMScheduler.from_pretrained(hub_id, subfolder="scheduler")
            with seeded(seed):
                if init == "pretrained":
                    unet = UNet2DConditionModel.from_pretrained(hub_id, subfolder="unet")
                else:
                    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(hub_id, subfolder="unet"))
            model = DiffusionModel(unet, text, scheduler, vae=vae)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return Built(model, tok, {"hub_id": hub_id, "scale": scale, "init": init, "resolution": model.resolution,
                                  "parameters": sum(p.numel() for p in model.parameters()), "trainable": trainable,
                                  "lora_targets": list(LORA_TARGETS)})
