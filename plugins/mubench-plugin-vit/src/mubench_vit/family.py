"""vit family on transformers' Auto classes (loaded lazily through the spec's factory)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily


class ViTFamily(HFFamily):
    auto_class = "transformers:AutoModelForImageClassification"
    #: 2 layers of width 48 on 4x4 patches of 32x32 images (64 tokens)
    tiny_config = {
        "model_type": "vit", "image_size": 32, "patch_size": 4, "num_channels": 3, "hidden_size": 48,
        "num_hidden_layers": 2, "num_attention_heads": 3, "intermediate_size": 96,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
    }

    def processor(self, task, scale, hub_id):
        if hub_id is None:  # tiny: the task feeds 32x32 images normalised to [-1, 1]
            return None
        from transformers import AutoImageProcessor

        return AutoImageProcessor.from_pretrained(hub_id)
