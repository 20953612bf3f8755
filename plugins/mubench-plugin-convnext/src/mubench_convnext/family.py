"""convnext family on transformers' Auto classes (loaded lazily through the spec's factory)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily


class ConvNextFamily(HFFamily):
    auto_class = "transformers:AutoModelForImageClassification"
    #: LoRA adapts each block's pointwise layers (Linear in transformers' ConvNeXt); the depthwise
    #: 7x7 convolutions are grouped, which peft cannot merge
    lora_targets = ("pwconv1", "pwconv2")
    #: two stages of 16/32 channels on 2x2 patches
    tiny_config = {
        "model_type": "convnext", "num_channels": 3, "patch_size": 2, "num_stages": 2,
        "hidden_sizes": [16, 32], "depths": [1, 1], "drop_path_rate": 0.0,
    }

    def processor(self, task, scale, hub_id):
        if hub_id is None:  # tiny: the task feeds 32x32 images normalised to [-1, 1]
            return None
        from transformers import AutoImageProcessor

        return AutoImageProcessor.from_pretrained(hub_id)
