"""ResNet family on transformers' Auto classes (loaded lazily through the spec's factory)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily


class ResNetFamily(HFFamily):
    auto_class = "transformers:AutoModelForImageClassification"
    #: LoRA adapts every convolution of the body (peft's Conv2d LoRA); a ResNet has no attention
    lora_targets = ("convolution",)
    #: two basic-block stages of 16/32 channels: ~30k parameters, trains on 32x32 images in seconds
    tiny_config = {
        "model_type": "resnet", "num_channels": 3, "embedding_size": 16, "hidden_sizes": [16, 32],
        "depths": [1, 1], "layer_type": "basic", "hidden_act": "relu", "downsample_in_first_stage": False,
    }

    def processor(self, task, scale, hub_id):
        if hub_id is None:  # tiny: the task feeds 32x32 images normalised to [-1, 1]
            return None
        from transformers import AutoImageProcessor

        return AutoImageProcessor.from_pretrained(hub_id)
