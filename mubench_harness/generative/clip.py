"""CLIP score of generated images against their prompts (Hessel et al. 2021, "CLIPScore").

Per image: ``w · max(cos(E_I(image), E_T(prompt)), 0)`` with E_I / E_T CLIP's projected image and text
embeddings. Hessel et al. use w = 2.5; text-to-image and diffusion-unlearning papers report w = 100
(torchmetrics' convention), so the weight is an argument with 100 as default.

The CLIP model is any ``CLIPModel`` checkpoint (hub id or local folder, e.g.
``openai/clip-vit-large-patch14``) with its tokenizer and image processor saved beside it, loaded by
the Auto classes. Images arrive in [-1, 1] at the generator's resolution; they are resized to the
processor's crop size and normalised with its mean and std here, in torch, so no PIL round trip
quantises them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class ClipScorer:
    def __init__(self, model_id: str, weight: float = 100.0):
        from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

        self.model_id, self.weight = model_id, weight
        self.model = CLIPModel.from_pretrained(model_id).eval().requires_grad_(False)
        self.tokenizer = AutoTokenizer.from_pretrained(model_id)
        proc = AutoImageProcessor.from_pretrained(model_id)
        crop = getattr(proc, "crop_size", None) or proc.size
        self.size = int(crop.get("height") or crop.get("shortest_edge"))
        self.mean = torch.tensor(proc.image_mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(proc.image_std, dtype=torch.float32).view(1, -1, 1, 1)
        self.max_tokens = self.model.config.text_config.max_position_embeddings

    def pixel_values(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images [B, 3, r, r] → CLIP's normalised input at its resolution."""
        x = (images.float().clamp(-1, 1) + 1) / 2
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bicubic", align_corners=False).clamp(0, 1)
        return (x - self.mean.to(x.device)) / self.std.to(x.device)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """One score per (image, prompt) pair [B]."""
        if len(prompts) != len(images):
            raise ValueError(f"CLIP score needs one prompt per image: {len(images)} images, {len(prompts)} prompts")
        device = images.device
        self.model.to(device)
        tok = self.tokenizer(prompts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        out = self.model(input_ids=tok["input_ids"].to(device), attention_mask=tok["attention_mask"].to(device),
                         pixel_values=self.pixel_values(images))
        cos = F.cosine_similarity(out.image_embeds.float(), out.text_embeds.float(), dim=-1)
        return self.weight * cos.clamp(min=0)
