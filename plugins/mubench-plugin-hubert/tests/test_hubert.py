"""hubert family: contract, a tiny forward pass on Speech Commands batches, the real scales' hub ids and
their loading path through from_pretrained (offline, from a saved tiny checkpoint)."""
from __future__ import annotations

from mubench_harness.testing.families import AudioFamilyContract


class TestContract(AudioFamilyContract):
    name = "hubert"
    hub_ids = {"base": "facebook/hubert-base-ls960", "large": "facebook/hubert-large-ll60k", "xlarge": "facebook/hubert-xlarge-ll60k", "tiny": None}
