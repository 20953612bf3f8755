from mubench_harness.testing.families import TextFamilyContract


class TestContract(TextFamilyContract):
    name = "bert"
    task = "imdb"
    hub_ids = {"base": "google-bert/bert-base-uncased", "large": "google-bert/bert-large-uncased", "biobert": "dmis-lab/biobert-v1.1", "pubmedbert-abstract": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract", "pubmedbert-fulltext": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext", "tiny": None}
