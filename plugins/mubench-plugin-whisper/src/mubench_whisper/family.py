"""Whisper family: ``WhisperForAudioClassification`` (the encoder, mean-pooled, a linear head)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily

#: tiny scale: 40 mel bins over 1 s (100 frames -> 50 encoder positions), 2 encoder layers of width 64.
#: The decoder entries only satisfy the config; the classification model has no decoder.
TINY_MELS = 40
TINY_SECONDS = 1


class WhisperFamily(HFFamily):
    auto_class = "transformers:WhisperForAudioClassification"
    tiny_config = {
        "model_type": "whisper",
        "num_mel_bins": TINY_MELS,
        "d_model": 64,
        "encoder_layers": 2,
        "encoder_attention_heads": 4,
        "encoder_ffn_dim": 128,
        "decoder_layers": 1,
        "decoder_attention_heads": 2,
        "decoder_ffn_dim": 64,
        "vocab_size": 64,
        "max_source_positions": 50 * TINY_SECONDS,
        "max_target_positions": 16,
        "classifier_proj_size": 64,
        "dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "encoder_layerdrop": 0.0,
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "decoder_start_token_id": 1,
    }

    def head_kwargs(self, task):
        # SpecAugment masks (numpy's global RNG) off: the run seed alone determines the model
        return {**super().head_kwargs(task), "mask_time_prob": 0.0, "mask_feature_prob": 0.0}

    def processor(self, task, scale, hub_id):
        from transformers import AutoFeatureExtractor, WhisperFeatureExtractor

        if hub_id is None:  # log-mel features of a 1 s window (the checkpoints pad to 30 s)
            return WhisperFeatureExtractor(feature_size=TINY_MELS, sampling_rate=16000, hop_length=160,
                                           chunk_length=TINY_SECONDS, n_fft=400)
        return AutoFeatureExtractor.from_pretrained(hub_id)
