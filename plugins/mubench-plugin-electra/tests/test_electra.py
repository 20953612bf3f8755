from mubench_harness.testing.families import TextFamilyContract


class TestContract(TextFamilyContract):
    name = "electra"
    task = "imdb"
    hub_ids = {"base": "google/electra-base-discriminator", "tiny": None}
