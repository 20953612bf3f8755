from mubench_harness.testing.families import HFFamilyContract


class TestContract(HFFamilyContract):
    name = "distilbert"
    task = "imdb"
    hub_ids = {"base": "distilbert/distilbert-base-uncased", "tiny": None}


def test_serves_text_classification_only():
    from mubench_harness.testing import registry

    spec = registry().get("models", "distilbert")
    assert spec.serves_task(registry().get("tasks", "imdb"))
    assert not spec.serves_task(registry().get("tasks", "toy_blobs"))


def test_tiny_vocabulary_matches_the_offline_tokenizer():
    from mubench_harness.testing import build_family, build_task

    task = build_task("imdb")
    task.load("mini")
    built = build_family("distilbert").build(task, "tiny", seed=0)
    assert built.model.config.vocab_size == len(built.processor)
