"""wav2vec 2.0 family on ``AutoModelForAudioClassification`` (Wav2Vec2ForSequenceClassification)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily

#: tiny: 4 strided convolutions (16 kHz -> 50 frames a second) and 2 transformer layers of width 32
TINY = {
    "model_type": "wav2vec2",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": [16, 32, 32, 32],
    "conv_stride": [5, 4, 4, 4],
    "conv_kernel": [10, 8, 4, 4],
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "classifier_proj_size": 32,
    "hidden_dropout": 0.0,
    "activation_dropout": 0.0,
    "attention_dropout": 0.0,
    "feat_proj_dropout": 0.0,
    "final_dropout": 0.0,
    "layerdrop": 0.0,
    "vocab_size": 32,
    # the quantiser is only used in pre-training; keep it small
    "codevector_dim": 16,
    "proj_codevector_dim": 16,
    "num_codevectors_per_group": 8,
}


class Wav2Vec2Family(HFFamily):
    auto_class = "transformers:AutoModelForAudioClassification"
    tiny_config = TINY

    def head_kwargs(self, task):
        # SpecAugment's time masks come from numpy's global RNG, outside the run seed: off, so a seed
        # fully determines the model
        return {**super().head_kwargs(task), "mask_time_prob": 0.0, "mask_feature_prob": 0.0}

    def processor(self, task, scale, hub_id):
        from transformers import AutoFeatureExtractor, Wav2Vec2FeatureExtractor

        if hub_id is None:
            return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                            do_normalize=True, return_attention_mask=False)
        return AutoFeatureExtractor.from_pretrained(hub_id)
