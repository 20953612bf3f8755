"""wav2vec2 family: contract, a tiny forward pass on Speech Commands batches, the real scales' hub ids and
their loading path through from_pretrained (offline, from a saved tiny checkpoint)."""
from __future__ import annotations

from mubench_harness.testing.families import AudioFamilyContract


class TestContract(AudioFamilyContract):
    name = "wav2vec2"
    hub_ids = {"base": "facebook/wav2vec2-base", "large": "facebook/wav2vec2-large", "tiny": None}
