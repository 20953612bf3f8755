"""HuBERT family on ``AutoModelForAudioClassification`` (HubertForSequenceClassification)."""
from __future__ import annotations

from mubench_harness.hf import RawAudioFamily

#: tiny: 4 strided convolutions (16 kHz -> 50 frames a second) and 2 transformer layers of width 32
TINY_AUDIO_ENCODER = {
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
}


class HubertFamily(RawAudioFamily):
    tiny_config = {"model_type": "hubert", **TINY_AUDIO_ENCODER}
