import functools

import pytest
import torch

from mubench_harness.generative.text import IGNORE, bytes_to_texts
from mubench_harness.testing import TaskContract, accuracy, build_family, build_task, train_original


class TestContract(TaskContract):
    name = "samsum"
    model = "t5"


def test_mini_summaries_follow_their_dialogues():
    data = build_task("samsum").load("mini")
    assert set(data) == {"train", "test", "ood"}
    row = data["train"][0]
    speakers = {line.split(":")[0] for line in row["dialogue"].split("\n")}
    assert len(speakers) == 2 and all(s in row["summary"] for s in speakers)


def test_hub_fixture_with_real_columns(tmp_path):
    from datasets import Dataset, DatasetDict

    samsum = {"id": ["13818513", "13728867"], "dialogue": ["Amanda: I baked cookies. Do you want some?\r\nJerry: Sure!",
                                                            "Olivia: Who are you voting for?\r\nOlivier: Liberals."],
              "summary": ["Amanda baked cookies and will bring Jerry some tomorrow.", "Olivia and Olivier vote."]}
    DatasetDict({s: Dataset.from_dict(samsum) for s in ("train", "validation", "test")}).save_to_disk(str(tmp_path / "samsum"))
    xsum = {"document": ["The full cost of damage in Newton Stewart is still being assessed."],
            "summary": ["Clean-up operations are continuing."], "id": ["35232142"]}
    DatasetDict({"test": Dataset.from_dict(xsum)}).save_to_disk(str(tmp_path / "xsum"))
    task = build_task("samsum", path=str(tmp_path / "samsum"), ood_path=str(tmp_path / "xsum"))
    data = task.load("hub")
    assert set(data) == {"train", "test", "ood"}
    assert data["test"]["summary"][0].startswith("Amanda baked")
    assert data["ood"].column_names == ["dialogue", "summary"] and data["ood"]["dialogue"][0].startswith("The full")
    assert task._arg("max_source_tokens", 0) == 512  # real chats get T5's usual width
    DatasetDict({"train": Dataset.from_dict({"id": ["1"], "text": ["x"]}),
                 "test": Dataset.from_dict({"id": ["1"], "text": ["x"]})}).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="missing column"):
        build_task("samsum", path=str(tmp_path / "bad"), ood_hub_id=None).load("hub")


@functools.lru_cache(maxsize=1)
def _trained():
    task = build_task("samsum")
    data = task.load("mini")
    built = build_family("t5").build(task, "tiny", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    untrained = accuracy(task, built.model, test.select(range(40)), built)
    train_original(task, built, train, seed=0)
    return task, built, train, test, untrained


def test_encoding_keeps_target_in_labels_and_reference():
    task, built, train, _, _ = _trained()
    labels = train["labels"][0]
    target = built.processor.decode(labels[labels != IGNORE], skip_special_tokens=True)
    reference = bytes_to_texts(train["reference"][:1])[0]
    assert target.split() == built.processor.decode(built.processor(reference)["input_ids"], skip_special_tokens=True).split()
    assert labels[labels != IGNORE][-1] == built.processor.eos_token_id


def test_tiny_t5_learns_and_overfits_mini():
    task, built, train, test, untrained = _trained()
    train_score = accuracy(task, built.model, train.select(range(60)), built)
    test_score = accuracy(task, built.model, test.select(range(60)), built)
    assert test_score > untrained + 0.25, (untrained, test_score)
    assert train_score > test_score + 0.05, (train_score, test_score)
    # the loss is lower on trained dialogues than on unseen ones (what membership inference reads)
    with torch.no_grad():
        lt = task.per_sample_loss(built.model, dict(train.select(range(60)).columns)).mean()
        le = task.per_sample_loss(built.model, dict(test.select(range(60)).columns)).mean()
    assert lt < le
