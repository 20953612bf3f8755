"""swin family on transformers' Auto classes (loaded lazily through the spec's factory)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily


class SwinFamily(HFFamily):
    auto_class = "transformers:AutoModelForImageClassification"
    #: two stages (embed 16, heads 2/2) with 4x4 windows on 2x2 patches of 32x32 images
    tiny_config = {
        "model_type": "swin", "image_size": 32, "patch_size": 2, "num_channels": 3, "embed_dim": 16,
        "depths": [1, 1], "num_heads": [2, 2], "window_size": 4, "mlp_ratio": 2.0, "drop_path_rate": 0.0,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
    }

    def processor(self, task, scale, hub_id):
        if hub_id is None:  # tiny: the task feeds 32x32 images normalised to [-1, 1]
            return None
        from transformers import AutoImageProcessor

        return AutoImageProcessor.from_pretrained(hub_id)
