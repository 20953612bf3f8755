"""HuBERT family on ``AutoModelForAudioClassification`` (HubertForSequenceClassification)."""
from __future__ import annotations

from mubench_harness.hf import TINY_RAW_AUDIO_ENCODER, RawAudioFamily


class HubertFamily(RawAudioFamily):
    tiny_config = {"model_type": "hubert", **TINY_RAW_AUDIO_ENCODER}
