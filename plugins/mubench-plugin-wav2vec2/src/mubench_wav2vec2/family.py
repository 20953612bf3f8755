"""wav2vec 2.0 family on ``AutoModelForAudioClassification`` (Wav2Vec2ForSequenceClassification)."""
from __future__ import annotations

from mubench_harness.hf import TINY_RAW_AUDIO_ENCODER, RawAudioFamily

#: tiny: the shared raw-audio encoder; the quantiser is only used in pre-training, so keep it small
TINY = {
    "model_type": "wav2vec2",
    **TINY_RAW_AUDIO_ENCODER,
    "codevector_dim": 16,
    "proj_codevector_dim": 16,
    "num_codevectors_per_group": 8,
}


class Wav2Vec2Family(RawAudioFamily):
    tiny_config = TINY
