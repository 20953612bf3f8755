"""mobilenetv2 family on transformers' Auto classes (loaded lazily through the spec's factory)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily


class MobileNetV2Family(HFFamily):
    auto_class = "transformers:AutoModelForImageClassification"
    #: LoRA adapts the convolutions; the depthwise 3x3 ones (grouped) are skipped: peft cannot merge them
    lora_targets = ("convolution",)
    #: width multiplier 0.25 and expansion 2 (the real model: 1.0 and 6): the same 17 inverted-residual blocks, small
    tiny_config = {
        "model_type": "mobilenet_v2", "num_channels": 3, "image_size": 32, "depth_multiplier": 0.25,
        "min_depth": 4, "first_layer_is_expansion": True, "finegrained_output": False, "expand_ratio": 2.0,
        "semantic_loss_ignore_index": 255, "classifier_dropout_prob": 0.0,
    }

    def processor(self, task, scale, hub_id):
        if hub_id is None:  # tiny: the task feeds 32x32 images normalised to [-1, 1]
            return None
        from transformers import AutoImageProcessor

        return AutoImageProcessor.from_pretrained(hub_id)
