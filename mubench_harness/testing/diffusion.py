"""A tiny text-to-image model for tests of methods and metrics on the real diffusion primitives."""
from __future__ import annotations

import torch

from ..generative.diffusion import DiffusionModel


def tiny_diffusion_model(*, vae: bool = False, vocab_size: int = 20, seed: int = 0) -> DiffusionModel:
    """An 8×8 conditional UNet (pixel space, or 4-channel latents of a 16×16 VAE with ``vae``) over a
    one-layer CLIP text encoder with ``vocab_size`` tokens (ids 0/1/2 are pad/bos/eos), 100 DDPM steps."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    channels = 4 if vae else 3
    unet = UNet2DConditionModel(sample_size=8, in_channels=channels, out_channels=channels, layers_per_block=1,
                                block_out_channels=(8, 16), norm_num_groups=4, cross_attention_dim=16,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=4)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32,
                                        num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=8,
                                        pad_token_id=0, bos_token_id=1, eos_token_id=2))
    auto = None
    if vae:
        auto = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8),
                             down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                             norm_num_groups=4)
    return DiffusionModel(unet, text, DDPMScheduler(num_train_timesteps=100), vae=auto)
