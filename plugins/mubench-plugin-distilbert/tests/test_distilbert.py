from mubench_harness.testing.families import TextFamilyContract


class TestContract(TextFamilyContract):
    name = "distilbert"
    task = "imdb"
    hub_ids = {"base": "distilbert/distilbert-base-uncased", "tiny": None}
