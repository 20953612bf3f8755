import pytest
import torch

from mubench_harness.testing import TaskContract, build_family, build_task, check_mini_builder_is_deterministic, fit_on_mini


class TestContract(TaskContract):
    name = "imdb"
    model = "bert"


def _mirror(tmp_path):
    """Tiny local copies of stanfordnlp/imdb (with its unlabelled split) and Rotten Tomatoes."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    feats = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    imdb = DatasetDict({
        "train": Dataset.from_dict({"text": ["a great film", "an awful film", "fine"], "label": [1, 0, 1]}, features=feats),
        "test": Dataset.from_dict({"text": ["boring", "superb"], "label": [0, 1]}, features=feats),
        "unsupervised": Dataset.from_dict({"text": ["no label"], "label": [-1]},
                                          features=Features({"text": Value("string"), "label": Value("int64")})),
    })
    imdb.save_to_disk(str(tmp_path / "imdb"))
    rt = DatasetDict({split: Dataset.from_dict({"text": [f"{split} snippet"], "label": [1]}, features=feats)
                      for split in ("train", "validation", "test")})
    rt.save_to_disk(str(tmp_path / "rt"))


def test_hub_source_reads_local_mirrors_in_the_real_schema(tmp_path):
    _mirror(tmp_path)
    task = build_task("imdb", path=str(tmp_path / "imdb"), ood_path=str(tmp_path / "rt"))
    data = task.load("hub")
    assert set(data) == {"train", "test", "ood"}  # the unlabelled split is not used
    assert data["train"]["text"] == ["a great film", "an awful film", "fine"]
    assert data["ood"]["text"] == ["test snippet"]
    with pytest.raises(ValueError, match="no split 'dev'"):
        build_task("imdb", path=str(tmp_path / "imdb"), ood_path=str(tmp_path / "rt"), ood_split="dev").load("hub")
    assert "ood" not in build_task("imdb", path=str(tmp_path / "imdb"), ood_hub_id=None).load("hub")


def test_tiny_tokenizer_is_fitted_on_the_loaded_sources_corpus(tmp_path):
    _mirror(tmp_path)
    task = build_task("imdb", path=str(tmp_path / "imdb"), ood_hub_id=None)
    data = task.load("hub")
    built = build_family("bert").build(task, "tiny", seed=0)
    assert "awful" in built.processor.get_vocab()  # from the mirror's training texts
    rows = task.encode(data["train"], built)
    assert rows["input_ids"].shape == (3, task.args.max_length)
    assert built.model.config.vocab_size == len(built.processor)
    batch = task.prepare_batch(next(rows.batches(3)), built)
    assert batch["input_ids"].shape[1] == int(rows["attention_mask"].sum(1).max())  # padding trimmed per batch
    assert torch.equal(task.logits(built.model.eval(), batch), task.logits(built.model, next(rows.batches(3))))


def test_bad_labels_and_missing_columns_are_clear_errors(tmp_path):
    from datasets import Dataset, DatasetDict

    DatasetDict({"train": Dataset.from_dict({"text": ["x"], "label": [3]}),
                 "test": Dataset.from_dict({"text": ["y"], "label": [0]})}).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="outside 0"):
        build_task("imdb", path=str(tmp_path / "bad"), ood_hub_id=None).load("hub")
    DatasetDict({"train": Dataset.from_dict({"review": ["x"], "label": [1]}),
                 "test": Dataset.from_dict({"review": ["y"], "label": [0]})}).save_to_disk(str(tmp_path / "nocol"))
    with pytest.raises(ValueError, match="no column 'text'"):
        build_task("imdb", path=str(tmp_path / "nocol"), ood_hub_id=None).load("hub")


def test_mini_reviews_carry_sentiment_and_label_noise():
    data = build_task("imdb").load("mini")
    labels = torch.tensor(data["train"]["label"])
    assert 0.4 < labels.float().mean() < 0.6  # balanced
    from mubench_imdb.reviews import NEGATIVE, POSITIVE

    agree = 0
    for text, label in zip(data["train"]["text"], data["train"]["label"]):
        words = text.split()
        pos, neg = sum(w in POSITIVE for w in words), sum(w in NEGATIVE for w in words)
        agree += (pos > neg) == (label == 1)
    assert 0.75 < agree / len(labels) < 0.95  # lexicon mostly agrees; noisy labels make the rest


def test_tiny_bert_learns_mini_above_chance_and_overfits():
    fit = fit_on_mini("imdb", "bert")
    assert fit.test_accuracy > fit.task.chance(fit.test) + 0.1, fit.accuracies
    assert fit.train_accuracy > fit.test_accuracy + 0.1, fit.accuracies


def test_mini_generation_is_deterministic_without_the_in_process_cache():
    from mubench_imdb.task import _mini_dataset

    check_mini_builder_is_deterministic(_mini_dataset, (100, 50, 0.1, 0), (100, 50, 0.1, 1), ("text", "label"))
