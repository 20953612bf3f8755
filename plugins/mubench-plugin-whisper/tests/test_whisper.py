"""whisper family: contract, a tiny forward pass on Speech Commands batches, the real scales' hub ids and
their loading path through from_pretrained (offline, from a saved tiny checkpoint)."""
from __future__ import annotations

from mubench_harness.testing.families import AudioFamilyContract


class TestContract(AudioFamilyContract):
    name = "whisper"
    hub_ids = {"tiny-openai": "openai/whisper-tiny", "base": "openai/whisper-base", "tiny": None}
    feature_column = "input_features"

    def save_checkpoint(self, model, folder) -> None:
        # the hub checkpoints are encoder-decoder WhisperModels without a classification head
        from transformers import WhisperModel

        body = WhisperModel(model.config)
        body.encoder.load_state_dict(model.encoder.state_dict())
        body.save_pretrained(folder)
