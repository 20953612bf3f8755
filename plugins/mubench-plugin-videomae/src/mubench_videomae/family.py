"""VideoMAE family on ``AutoModelForVideoClassification`` (VideoMAEForVideoClassification)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily


class VideoMAEFamily(HFFamily):
    auto_class = "transformers:AutoModelForVideoClassification"
    # tiny: 8 frames of 32x32 in 2x8x8 tubelets (4 x 4 x 4 = 64 tokens), 2 layers of width 48
    tiny_config = {
        "model_type": "videomae",
        "image_size": 32,
        "patch_size": 8,
        "num_frames": 8,
        "tubelet_size": 2,
        "hidden_size": 48,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 96,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "use_mean_pooling": True,
        "decoder_hidden_size": 32,
        "decoder_num_hidden_layers": 1,
        "decoder_num_attention_heads": 2,
        "decoder_intermediate_size": 64,
    }

    def processor(self, task, scale, hub_id):
        from transformers import AutoImageProcessor, VideoMAEImageProcessor

        if hub_id is None:  # the checkpoints' normalisation (ImageNet mean/std), at the tiny size
            return VideoMAEImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
        return AutoImageProcessor.from_pretrained(hub_id)
